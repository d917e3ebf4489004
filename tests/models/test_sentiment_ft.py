"""The fine-tuned sentiment variant: a blend of the shipped model with a LoRA-tuned e5, saved and reloaded."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from vocmine.errors import ModelNotFoundError  # noqa: E402
from vocmine.models.finetune import FineTunedClassifier, FineTuneSettings  # noqa: E402
from vocmine.models.heads import BlendedHead  # noqa: E402
from vocmine.models.sentiment_ft import FineTunedSentimentModel  # noqa: E402
from vocmine.models.train_sentiment import WEIGHTS_DIR  # noqa: E402

TEXTS = ["La comida llegó fría y tarde", "Lovely staff and a great breakfast", "Abrimos a las nueve",
         "Rude staff and a dirty room", "Todo perfecto, gracias", "The hotel is near the station"]
LABELS = ["negative", "positive", "neutral", "negative", "positive", "neutral"]


@pytest.fixture(scope="module")
def encoder() -> FineTunedClassifier:
    settings = FineTuneSettings(epochs=2, batch_size=3, frozen_layers=11, rank=2, alpha=4.0, dropout=0.0)
    return FineTunedClassifier(["negative", "neutral", "positive"], settings).fit(TEXTS, LABELS)


def test_blend_round_trips_and_is_a_distribution(encoder: FineTunedClassifier, tmp_path) -> None:
    model = FineTunedSentimentModel(BlendedHead.load(WEIGHTS_DIR), encoder, weight=0.6, temperature=1.2)
    proba = model.predict_proba(TEXTS)
    assert proba.shape == (len(TEXTS), 3)
    np.testing.assert_allclose(proba.sum(1), 1.0, atol=1e-6)
    model.save(tmp_path / "ft")
    again = FineTunedSentimentModel.load(tmp_path / "ft")
    assert (again.weight, again.temperature, again.labels_) == (0.6, 1.2, model.labels_)
    np.testing.assert_allclose(again.predict_proba(TEXTS), proba, atol=0.02)  # float16 adapters
    # weight 0: the shipped blend alone (with the temperature on top)
    plain = FineTunedSentimentModel(model.base, encoder, weight=0.0, temperature=1.0)
    np.testing.assert_allclose(plain.predict_proba(TEXTS), model.base.predict_proba(TEXTS), atol=1e-5)


def test_label_order_mismatch_and_missing_folder_fail_clearly(encoder: FineTunedClassifier, tmp_path) -> None:
    flipped = FineTunedClassifier(["positive", "neutral", "negative"], encoder.settings)
    with pytest.raises(ValueError, match="labels"):
        FineTunedSentimentModel(BlendedHead.load(WEIGHTS_DIR), flipped, 0.5, 1.0)
    with pytest.raises(ModelNotFoundError, match="vocmine train sentiment --finetune"):
        FineTunedSentimentModel.load(tmp_path / "nothing")
