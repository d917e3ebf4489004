"""LoRA fine-tuning: it learns a separable toy task, and saved adapters reload to the same scores."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from vocmine.errors import ConfigError, ModelNotFoundError  # noqa: E402
from vocmine.models.finetune import FineTunedClassifier, FineTuneSettings, inference_backend  # noqa: E402

POSITIVE = ["Me encantó la atención, volveremos", "Lovely staff and a great breakfast", "Todo perfecto, gracias",
            "Best coffee in town, friendly baristas", "La habitación impecable y muy cómoda",
            "Great value, we loved it"]
NEGATIVE = ["La comida llegó fría y tarde", "Rude staff and a dirty room", "Nunca más, un desastre",
            "The flight was cancelled and nobody helped", "Cobran de más y no responden",
            "Terrible service, waited an hour"]


def _settings() -> FineTuneSettings:
    # Two adapted layers and few steps: the test checks the mechanics, not the quality.
    return FineTuneSettings(epochs=6, batch_size=4, frozen_layers=10, learning_rate=3e-3, head_learning_rate=1e-2,
                            dropout=0.0, rank=4, alpha=8.0)


def test_fit_separates_and_round_trips(tmp_path) -> None:
    texts = POSITIVE + NEGATIVE
    labels = ["positive"] * len(POSITIVE) + ["negative"] * len(NEGATIVE)
    model = FineTunedClassifier(["negative", "positive"], _settings()).fit(texts, labels)
    logits = model.logits(texts)
    predicted = np.array(["negative", "positive"])[logits.argmax(1)]
    assert (predicted == np.array(labels)).mean() >= 0.9
    model.save(tmp_path / "ft")
    again = FineTunedClassifier.load(tmp_path / "ft", backend="torch")
    # Adapters are stored in float16: scores agree to a small tolerance, decisions exactly.
    np.testing.assert_allclose(again.logits(texts), logits, atol=0.05)
    assert (again.logits(texts).argmax(1) == logits.argmax(1)).all()


def test_load_missing_folder_raises(tmp_path) -> None:
    with pytest.raises(ModelNotFoundError):
        FineTunedClassifier.load(tmp_path / "nothing")


def test_device_comes_from_the_environment_and_is_not_saved(tmp_path, monkeypatch) -> None:
    import json

    import torch

    from vocmine.errors import VocmineError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # the same on a machine with a GPU
    monkeypatch.setenv("VOCMINE_TORCH_DEVICE", "cuda:7")
    model = FineTunedClassifier(["negative", "positive"], _settings())
    assert model.device == "cuda:7"
    with pytest.raises(VocmineError, match="no CUDA GPU"):
        model.fit(POSITIVE[:2] + NEGATIVE[:2], ["positive"] * 2 + ["negative"] * 2)
    monkeypatch.delenv("VOCMINE_TORCH_DEVICE")
    model = FineTunedClassifier(["negative", "positive"], _settings()).fit(
        POSITIVE[:2] + NEGATIVE[:2], ["positive"] * 2 + ["negative"] * 2)
    assert model.device == "cpu"
    model.save(tmp_path / "ft")
    assert "device" not in json.loads((tmp_path / "ft" / "finetune.json").read_text())["settings"]


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    """A tiny fine-tuned classifier saved to a folder (trained once for the int8 tests)."""
    texts = POSITIVE + NEGATIVE
    labels = ["positive"] * len(POSITIVE) + ["negative"] * len(NEGATIVE)
    folder = tmp_path_factory.mktemp("ft") / "model"
    FineTunedClassifier(["negative", "positive"], _settings()).fit(texts, labels).save(folder)
    return folder


def test_int8_backend_scores_like_torch_and_exports_once(saved_model, tmp_path, monkeypatch, caplog) -> None:
    from vocmine.errors import VocmineError
    from vocmine.models.finetune import int8_export_path

    monkeypatch.setenv("VOCMINE_CACHE_DIR", str(tmp_path / "cache"))
    texts = POSITIVE + NEGATIVE + ["El desayuno correcto, nada especial", "Check-in was quick"]
    expected = FineTunedClassifier.load(saved_model, backend="torch").logits(texts)
    int8 = FineTunedClassifier.load(saved_model, backend="onnx-int8")
    assert int8.network is None and int8_export_path(saved_model).is_file()
    got = int8.logits(texts)
    assert got.shape == expected.shape
    assert (got.argmax(1) == expected.argmax(1)).mean() >= 0.9
    assert np.abs(got - expected).max() < 1.0
    # The same text scores the same alone and in a batch (per-token activation scales).
    np.testing.assert_allclose(int8.logits(texts[:1]), got[:1], atol=1e-4)
    caplog.clear()
    with caplog.at_level("WARNING", logger="vocmine.models.finetune"):
        monkeypatch.setenv("VOCMINE_FT_BACKEND", "onnx-int8")
        again = FineTunedClassifier.load(saved_model)
    assert "exporting" not in caplog.text  # the cached export is reused
    np.testing.assert_allclose(again.logits(texts), got, atol=1e-5)
    with pytest.raises(VocmineError, match="backend='torch'"):
        again.save(tmp_path / "copy")


def test_int8_export_that_fails_its_check_leaves_no_file(saved_model, tmp_path, monkeypatch) -> None:
    from vocmine.models import finetune

    monkeypatch.setenv("VOCMINE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(finetune, "MAX_CHECK_DIFF", -1.0)  # no export can pass
    with pytest.raises(RuntimeError, match="does not score like torch"):
        FineTunedClassifier.load(saved_model, backend="onnx-int8")
    assert not finetune.int8_export_path(saved_model).exists()
    assert not any(p.suffix == ".onnx" for p in (tmp_path / "cache").rglob("*"))


def test_unknown_backend_is_a_clear_error(saved_model, monkeypatch) -> None:
    monkeypatch.setenv("VOCMINE_FT_BACKEND", "tensorrt")
    with pytest.raises(ConfigError, match=r"\$VOCMINE_FT_BACKEND .* one of torch, onnx-int8 .*'tensorrt'"):
        FineTunedClassifier.load(saved_model)


@pytest.mark.parametrize(("value", "expected"), [("", "onnx-int8"), ("  ", "onnx-int8"), ("Torch", "torch")])
def test_an_empty_backend_variable_means_the_default(value, expected, monkeypatch) -> None:
    monkeypatch.setenv("VOCMINE_FT_BACKEND", value)
    assert inference_backend() == expected


def test_a_wrong_backend_argument_names_the_argument(monkeypatch) -> None:
    monkeypatch.setenv("VOCMINE_FT_BACKEND", "torch")
    with pytest.raises(ConfigError, match="^backend .*'bogus'"):
        inference_backend("bogus")


def test_the_cache_keeps_only_the_most_recently_used_finetuned_exports(tmp_path) -> None:
    """Each retrained model adds a ~215 MB export; beyond the bound the least recently used go, never the one
    just made, and nothing but fine-tuned exports is touched."""
    import os

    from vocmine.models import finetune

    exports = [tmp_path / f"ft-{i:04x}-e5-small-q4-abcd-ort1.32.0-int8-v1-g2.onnx" for i in range(5)]
    for age, path in enumerate(exports):  # exports[0] is the most recently used, exports[4] the least
        path.write_bytes(b"onnx")
        os.utime(path, (1_000_000 - age * 60, 1_000_000 - age * 60))
    base = tmp_path / "e5-small-e5-small-q4-abcd-ort1.32.0-int8-v1-g2.onnx"
    base.write_bytes(b"onnx")
    os.utime(base, (1, 1))  # older than every fine-tuned export, and still kept
    finetune.mark_used(exports[4])  # the oldest, loaded again just now
    removed = finetune.prune_finetuned_exports(tmp_path, keep=3, keep_also=exports[3])
    assert sorted(removed) == sorted([exports[1], exports[2]])
    assert sorted(tmp_path.iterdir()) == sorted([base, exports[0], exports[3], exports[4]])
    assert finetune.prune_finetuned_exports(tmp_path, keep=2) == [exports[3]]  # kept above only as the new one


def test_a_model_that_keeps_the_bottom_layers_exports_only_its_top_and_reads_the_shared_trunk(
        tmp_path, monkeypatch) -> None:
    """Adapters from layer six up (the CPU recipe, component.ft): the int8 export is the top six layers and
    the head, fed with e5's states after layer six, whether the embedder kept them or the bottom graph
    computes them; either way the scores are the same and match torch's."""
    from vocmine.models import e5_trunk
    from vocmine.models.e5_trunk import TRUNK_LAYERS, TrunkCache
    from vocmine.models.embedders import E5Embedder
    from vocmine.models.finetune import int8_export_path

    texts = POSITIVE + NEGATIVE
    labels = ["positive"] * len(POSITIVE) + ["negative"] * len(NEGATIVE)
    settings = FineTuneSettings(epochs=2, batch_size=4, frozen_layers=TRUNK_LAYERS, learning_rate=3e-3,
                                head_learning_rate=1e-2, dropout=0.0, rank=2, alpha=4.0)
    folder = tmp_path / "ft"
    FineTunedClassifier(["negative", "positive"], settings).fit(texts, labels).save(folder)
    cache = TrunkCache()
    monkeypatch.setattr(e5_trunk, "TRUNKS", cache)
    unseen = texts + ["El desayuno correcto, nada especial", "Check-in was quick"]
    expected = FineTunedClassifier.load(folder, backend="torch").logits(unseen)
    model = FineTunedClassifier.load(folder, backend="onnx-int8")
    assert model.reads_trunk_ and cache.wanted  # loading it asks the embedder to keep the trunk
    assert f"-top{TRUNK_LAYERS}-" in int8_export_path(folder).name
    assert int8_export_path(folder).stat().st_size < 30e6  # six layers and a head, no word embeddings
    from_bottom = model.logits(unseen)
    assert np.abs(from_bottom - expected).max() < 1.0
    assert (from_bottom.argmax(1) == expected.argmax(1)).mean() >= 0.9
    E5Embedder(backend="onnx-int8").encode(unseen)
    assert len(cache) == len(unseen)
    np.testing.assert_array_equal(model.logits(unseen), from_bottom)
