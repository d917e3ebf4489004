"""Emotion annotator: shipped weights on hand-made es/en sentences, skips, quality floors on EmoEvent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vocmine import registry
from vocmine.errors import ModelNotFoundError
from vocmine.models.metrics import macro_f1
from vocmine.models.train_emotion import CLASSES, EmotionModel, load_emoevent
from vocmine.nlp.emotion import EmotionAnnotator, predict_emotions
from vocmine.protocols import Annotator

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="module")
def annotator() -> EmotionAnnotator:
    return registry.create("annotator", "vocmine.emotion.v1")


def _annotate(annotator: EmotionAnnotator, texts: list[str], languages: list[str]):  # noqa: ANN202
    return annotator.annotate(texts, np.zeros((len(texts), 384), np.float32), languages)


def test_emotion_annotator_meets_protocol(annotator: EmotionAnnotator) -> None:
    assert isinstance(annotator, Annotator)
    assert (annotator.task, annotator.name, annotator.embedder) == (
        "emotion", "vocmine.emotion.v1", "vocmine.e5_small.v1")


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("¡Qué felicidad! Por fin ganamos, estoy muy feliz 😍", "es", "joy"),
        ("I am so happy and grateful, what a beautiful day!", "en", "joy"),
        ("Estoy furioso, qué rabia me da tanta mentira de estos sinvergüenzas", "es", "anger"),
        ("I am so angry right now, this is outrageous and infuriating", "en", "anger"),
    ],
)
def test_emotion_annotator_finds_obvious_emotions(annotator: EmotionAnnotator, text: str, language: str,
                                                  expected: str) -> None:
    (result,) = _annotate(annotator, [text], [language])
    assert expected in result.label.split(";")
    assert set(result.scores) == set(CLASSES)
    assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-5)


def test_emotion_annotator_skips_unmodelled_languages(annotator: EmotionAnnotator) -> None:
    results = _annotate(annotator, ["Estou muito feliz com o atendimento!", "Delivery was quick."], ["pt", "en"])
    assert results[0].label is None and results[0].scores == {}
    assert results[0].skip_reason == "language pt not modelled"
    assert results[1].label is not None


def test_emotion_annotator_missing_weights_raises(tmp_path) -> None:
    with pytest.raises(ModelNotFoundError, match="vocmine train emotion"):
        _annotate(EmotionAnnotator(weights_dir=tmp_path), ["El pedido llegó tarde."], ["es"])


def test_predict_emotions_returns_one_row_per_text(sentences_es, sentences_en) -> None:
    texts = sentences_es + sentences_en
    frame = predict_emotions(texts, ["es"] * 4 + ["en"] * 4)
    assert list(frame["text"]) == texts
    probabilities = frame[[f"p_{c}" for c in CLASSES]].to_numpy()
    assert np.allclose(probabilities.sum(1), 1.0, atol=1e-5)
    for label in frame["emotions"]:
        assert label == "none" or set(label.split(";")) <= set(CLASSES[:-1])


@pytest.mark.parametrize(("language", "split", "floor"), [("en", "test", 0.30), ("es", "dev", 0.40)])
def test_emotion_quality_floor_on_emoevent(language: str, split: str, floor: float) -> None:
    """A fixed 400-tweet sample of the reported split; floors sit below the model card's figures so that
    a broken model fails loudly."""
    frame = load_emoevent(language, split, SHARED_DATA).sample(n=400, random_state=0)
    model = EmotionModel.load()
    predicted = model.predict_single(frame["text"].tolist(), language)
    assert macro_f1(frame["label"].tolist(), predicted, labels=CLASSES) >= floor
