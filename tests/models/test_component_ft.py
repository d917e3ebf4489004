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
    held_out_mask,
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
    assert summary["held_out_rows"] == 8  # 15% of 48, stratified by language and label
    assert set(summary["held_out_mean_macro_f1"]) == {"blend", "encoder", "head"}
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


def test_held_out_rows_are_stratified_and_fixed_by_the_seed() -> None:
    frame = pd.DataFrame({"language": ["es"] * 40 + ["en"] * 40,
                          "label": (["rational"] * 30 + ["emotional"] * 10) * 2})
    mask = held_out_mask(frame, seed=42)
    assert mask.sum() == 12
    held = frame[mask].groupby(["language", "label"]).size()
    assert held.min() >= 1 and held[("es", "rational")] == held[("en", "rational")]
    assert (held_out_mask(frame, seed=42) == mask).all()
