"""The fine-tuned component variant: trained from a labelled CSV, saved, reloaded and used by the annotator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("torch")

from vocmine.errors import ModelNotFoundError  # noqa: E402
from vocmine.models.component_ft import (  # noqa: E402
    META_FILE,
    FineTunedComponentModel,
    cross_validated_members,
    train_component_finetuned,
)
from vocmine.models.finetune import FineTunedClassifier, FineTuneSettings  # noqa: E402
from vocmine.models.heads import EmbeddingLogisticHead  # noqa: E402
from vocmine.models.train_component import DATA_FILE, WEIGHTS_DIR  # noqa: E402

#: A tiny recipe: the test checks the mechanics, not the quality.
TINY = {"epochs": 2, "frozen_layers": 11, "rank": 2, "batch_size": 8}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A component.ft trained from 48 of the shipped labelled training sentences (12 per language x label)."""
    raw = pd.read_csv(DATA_FILE, dtype={"row_id": str}, keep_default_na=False)
    rows = raw[(raw["split"] == "train") & raw["label"].isin(["rational", "emotional"])
               & raw["language"].isin(["es", "en"])]
    small = rows.groupby(["language", "label"]).head(12)
    folder = tmp_path_factory.mktemp("component_ft")
    small.to_csv(folder / "labels.csv", index=False)
    summary = train_component_finetuned(folder / "model", recipe=TINY, data_file=folder / "labels.csv")
    return folder / "model", summary


def test_train_writes_a_blend_that_loads_and_predicts(trained) -> None:
    folder, summary = trained
    assert (folder / META_FILE).is_file() and (folder / "e5_lora" / "finetune.json").is_file()
    assert 0.0 <= summary["weight"] <= 1.0 and summary["temperature"] > 0
    assert summary["rows"] == 48 and len(summary["out_of_fold_by_epoch"]) == TINY["epochs"]
    assert summary["out_of_fold_by_epoch"][summary["epoch"] - 1] == max(summary["out_of_fold_by_epoch"])
    assert set(summary["out_of_fold_mean_macro_f1"]) == {"blend", "encoder", "head"}
    # the shipped encoder saw every training row and stopped at the epoch the folds chose
    encoder = FineTunedClassifier.load(folder / "e5_lora")
    assert encoder.settings.stop_after == summary["epoch"] and len(encoder.history) == summary["epoch"]
    model = FineTunedComponentModel.load(folder)
    assert model.labels_ == ["emotional", "rational"]
    texts = ["El camarero nos ignoró toda la noche", "The room was small but clean"]
    proba = model.predict_proba(texts, np.random.default_rng(0).normal(size=(2, 384)).astype(np.float32))
    assert proba.shape == (2, 2)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-6)


def test_annotator_uses_the_fine_tuned_folder_and_skips_other_languages(trained) -> None:
    from vocmine import registry

    folder, _ = trained
    annotator = registry.create("annotator", "vocmine.component.ft", weights_dir=folder)
    texts = ["Nos trataron fatal en recepción", "Great coffee, fair price", "Das Zimmer war sauber"]
    vectors = np.random.default_rng(1).normal(size=(3, 384)).astype(np.float32)
    out = annotator.annotate(texts, vectors, ["es", "en", "de"])
    assert [a.label is not None for a in out] == [True, True, False]
    assert out[2].skip_reason == "language de not modelled"
    assert set(out[0].scores) == {"emotional", "rational"}


def test_weight_zero_is_the_shipped_head_and_errors_are_clear(trained, tmp_path) -> None:
    from vocmine.nlp.rational_emotional import component_features

    folder, _ = trained
    encoder = FineTunedClassifier.load(folder / "e5_lora")
    head = EmbeddingLogisticHead.load(WEIGHTS_DIR)
    texts = ["Muy amables todos", "Slow service"]
    vectors = np.random.default_rng(2).normal(size=(2, 384)).astype(np.float32)
    plain = FineTunedComponentModel(head, encoder, weight=0.0, temperature=1.0)
    np.testing.assert_allclose(plain.predict_proba(texts, vectors),
                               head.predict_proba_embeddings(component_features(texts, vectors)), atol=1e-5)
    flipped = FineTunedClassifier(["rational", "emotional"], FineTuneSettings())
    with pytest.raises(ValueError, match="labels"):
        FineTunedComponentModel(head, flipped, 0.5, 1.0)
    with pytest.raises(ModelNotFoundError, match="vocmine train component --finetune"):
        FineTunedComponentModel.load(tmp_path / "nothing")


def test_every_training_row_gets_out_of_fold_scores_from_both_members() -> None:
    from vocmine.models.train_component import _embed, load_component_data

    train = load_component_data(split="train").groupby(["language", "label"]).head(5).reset_index(drop=True)
    vectors = _embed(train["text"].tolist())
    settings = FineTuneSettings(**TINY)
    log_encoder, log_head = cross_validated_members(train, vectors, settings, folds=2)
    assert log_encoder.shape == (TINY["epochs"], 20, 2) and log_head.shape == (20, 2)
    np.testing.assert_allclose(np.exp(log_encoder).sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.exp(log_head).sum(-1), 1.0, atol=1e-5)


def test_stop_after_keeps_the_schedule_but_trains_fewer_epochs() -> None:
    texts = ["Nos atendieron con mucho cariño", "El parking cuesta 20 euros", "I felt ignored", "Room 12 had no kettle"]
    labels = ["emotional", "rational", "emotional", "rational"]
    dev = ["Me sentí como en casa", "Checkout is at noon"]

    def run(stop_after: int | None) -> tuple[FineTunedClassifier, list[np.ndarray]]:
        seen: list[np.ndarray] = []

        def keep(_truth: list[str], logits: np.ndarray) -> float:
            seen.append(logits.copy())
            return float(len(seen))

        settings = FineTuneSettings(**TINY, stop_after=stop_after)
        model = FineTunedClassifier(["emotional", "rational"], settings)
        model.fit(texts, labels, dev, ["emotional", "rational"], keep)
        return model, seen

    stopped, stopped_scores = run(1)
    _, full_scores = run(None)
    assert [record["epoch"] for record in stopped.history] == [1] and len(full_scores) == TINY["epochs"]
    # the first epoch is the same step for step: the learning rates follow the full schedule
    np.testing.assert_allclose(stopped_scores[0], full_scores[0], atol=1e-6)
