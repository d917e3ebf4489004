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


def test_blend_from_a_saved_encoder_saves_under_the_int8_default(encoder: FineTunedClassifier, tmp_path,
                                                                 monkeypatch) -> None:
    """``train_sentiment_finetuned(encoder_dir=...)`` tunes the blend around an encoder trained elsewhere (a
    GPU run). Under the default int8 backend it must still save the adapters: an int8 export holds none, and
    until session 15 the save failed there. The training frame and the refit of v1 are stood in for."""
    import pandas as pd

    from vocmine.models import sentiment_ft
    from vocmine.models import train_sentiment as ts

    encoder.save(tmp_path / "encoder")
    frame = pd.DataFrame({"text": TEXTS * 4, "label": LABELS * 4,
                          "dataset": ["semeval16_es"] * 12 + ["twitter_airline"] * 12})
    monkeypatch.setattr(ts, "build_train_frame", lambda data_dir=None, seed=42: frame)
    refits = []

    def stand_in_refit(train, dev, seed=42, context=False):
        refits.append(context)
        return np.log(np.full((int(dev.sum()), 3), 1 / 3))

    monkeypatch.setattr(sentiment_ft, "held_out_base_log_proba", stand_in_refit)
    monkeypatch.delenv("VOCMINE_FT_BACKEND", raising=False)
    result = sentiment_ft.train_sentiment_finetuned(out_dir=tmp_path / "ft", encoder_dir=tmp_path / "encoder")
    again = FineTunedSentimentModel.load(tmp_path / "ft")
    assert again.weight == result["weight"] and result["held_out_rows"] == 6
    assert again.predict_proba(TEXTS).shape == (len(TEXTS), 3)
    assert refits == [True] and again.reads_context  # the blend is tuned with v1 reading context


def test_blend_member_reads_context_only_when_tuned_with_it(encoder: FineTunedClassifier) -> None:
    """"Abrimos a las nueve" after a complaint: v1's context member changes its score; a blend tuned with
    context passes the context on, one saved before (no ``base_reads_context``) does not, and rows without a
    neighbour score the same either way."""
    from vocmine.models.context import neighbours, window_vectors
    from vocmine.models.embedders import resolve_embedder

    vectors = resolve_embedder("vocmine.e5_small.v1").encode(TEXTS)
    by_text = dict(zip(TEXTS, vectors, strict=True))
    before, after = neighbours(TEXTS, [0, 0, 0, 1, 2, 3])  # the first three sentences are one answer
    context = window_vectors(vectors, before, after, lambda texts: np.stack([by_text[t] for t in texts]))
    base = BlendedHead.load(WEIGHTS_DIR)
    tuned = FineTunedSentimentModel(base, encoder, 0.5, 1.0, {"base_reads_context": True})
    older = FineTunedSentimentModel(base, encoder, 0.5, 1.0, {})
    assert tuned.reads_context and not older.reads_context
    alone, in_context = tuned.predict_proba(TEXTS, vectors), tuned.predict_proba(TEXTS, vectors, context)
    assert not np.allclose(alone[:3], in_context[:3], atol=1e-4)
    np.testing.assert_allclose(alone[3:], in_context[3:], atol=1e-6)
    np.testing.assert_allclose(older.predict_proba(TEXTS, vectors, context), alone, atol=1e-6)
