"""The sentiment annotator with the SHIPPED weights: es/en fixtures, skips, and a quality floor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vocmine import registry
from vocmine.errors import ModelNotFoundError
from vocmine.models.metrics import macro_f1
from vocmine.nlp.sentiment import SentimentAnnotator, predict_sentiment
from vocmine.protocols import Annotation, Annotator

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.fixture(scope="module")
def annotator() -> SentimentAnnotator:
    return registry.create("annotator", "vocmine.sentiment.v1")


def test_sentiment_annotator_meets_the_protocol(annotator: SentimentAnnotator) -> None:
    assert isinstance(annotator, Annotator)
    assert (annotator.task, annotator.name, annotator.embedder) == (
        "sentiment", "vocmine.sentiment.v1", "vocmine.e5_small.v1"
    )


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("El pedido llegó tarde y nadie contestó.", "es", "negative"),
        ("Staff were lovely.", "en", "positive"),
        ("La atención en la tienda fue excelente, muy amables.", "es", "positive"),
        ("The food was cold and overpriced.", "en", "negative"),
    ],
)
def test_sentiment_annotator_labels_clear_fixtures(
    annotator: SentimentAnnotator, e5, text: str, language: str, expected: str
) -> None:
    (annotation,) = annotator.annotate([text], e5.encode([text]), [language])
    assert annotation.label == expected
    assert set(annotation.scores) == {"negative", "neutral", "positive"}
    assert sum(annotation.scores.values()) == pytest.approx(1.0, abs=1e-5)
    assert annotation.scores[expected] == max(annotation.scores.values())


def test_sentiment_annotator_skips_unmodelled_language_and_empty_text(annotator: SentimentAnnotator, e5) -> None:
    texts = ["O atendimento foi péssimo.", "", "Great coffee!"]
    annotations = annotator.annotate(texts, e5.encode(texts), ["pt", "en", None])
    assert annotations[0] == Annotation(None, {}, skip_reason="language pt not modelled")
    assert annotations[1].label is None and annotations[1].skip_reason == "empty text"
    assert annotations[2].label == "positive"  # unknown language: scored anyway


def test_sentiment_annotator_rejects_misaligned_inputs(annotator: SentimentAnnotator) -> None:
    with pytest.raises(ValueError, match="align"):
        annotator.annotate(["a", "b"], np.zeros((1, 384), np.float32), ["en", "en"])


def test_sentiment_annotator_missing_weights_names_train_command(tmp_path: Path) -> None:
    missing = SentimentAnnotator(weights_dir=tmp_path / "weights" / "sentiment")
    with pytest.raises(ModelNotFoundError, match="vocmine train sentiment"):
        missing.annotate(["hola"], np.ones((1, 384), np.float32), ["es"])


def test_predict_sentiment_frame_columns(sentences_es: list[str], sentences_en: list[str]) -> None:
    # Row 0: "El precio es demasiado alto..." (p_negative ~0.92 on every e5 backend). The fixture's first
    # sentence, "El pedido llegó tarde y nadie contestó.", is a coin flip for the shipped head (negative
    # 0.507 / neutral 0.465 on the engine's vectors, 0.462 / 0.506 on onnx-int8's), so no label test uses it.
    texts = [sentences_es[2], sentences_es[1], *sentences_en[:2], "Obrigado pela ajuda, adorei"]
    frame = predict_sentiment(texts)
    assert list(frame.columns) == ["text", "language", "sentiment", "p_negative", "p_neutral", "p_positive",
                                   "skip_reason"]
    assert frame.loc[0, "sentiment"] == "negative"
    assert frame.loc[1, "sentiment"] == "positive"
    assert pd.isna(frame.loc[4, "sentiment"])
    assert frame.loc[4, "skip_reason"] == "language pt not modelled"


def test_predict_sentiment_reads_notebook_inputs_like_classify(sentences_es: list[str]) -> None:
    """A Series keeps its index; None and NaN are empty texts, not the words "None" and "nan"; export language
    codes are normalised and a missing one detected; one string is one text."""
    series = pd.Series([sentences_es[2], None, float("nan"), sentences_es[1]], index=[10, 20, 30, 40])
    frame = predict_sentiment(series, ["es-ES", None, None, "Spanish"])
    assert frame.index.tolist() == [10, 20, 30, 40] and frame["text"].tolist()[1:3] == ["", ""]
    assert frame.loc[[20, 30], "skip_reason"].tolist() == ["empty text", "empty text"]
    assert frame.loc[[10, 40], "language"].tolist() == ["es", "es"] and frame.loc[10, "sentiment"] == "negative"
    assert len(predict_sentiment(sentences_es[2])) == 1


#: Measured on the 300 tweets below with the shipped weights (v1 0.781, ft 0.830); floor = measured - 0.05.
FLOORS_AIRLINE_300 = {"vocmine.sentiment.v1": 0.73, "vocmine.sentiment.ft": 0.78}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FLOORS_AIRLINE_300))
def test_sentiment_quality_floor_on_fixed_airline_test_subset(name: str, e5) -> None:
    """300 fixed tweets of the twitter_airline TEST split (never trained or tuned on)."""
    tweets = pd.read_csv(SHARED_DATA / "twitter_airline_sentiment" / "test.csv").sample(n=300, random_state=0)
    texts = tweets["text"].tolist()
    annotations = registry.create("annotator", name).annotate(texts, e5.encode(texts), ["en"] * len(texts))
    score = macro_f1(tweets["airline_sentiment"].tolist(), [a.label for a in annotations])
    assert score >= FLOORS_AIRLINE_300[name]


@pytest.fixture(scope="module")
def ft_annotator() -> SentimentAnnotator:
    return registry.create("annotator", "vocmine.sentiment.ft")


def test_sentiment_ft_annotator_labels_clear_fixtures(ft_annotator: SentimentAnnotator, e5) -> None:
    texts = ["El personal fue encantador y la habitación, impecable.", "The flight was cancelled and nobody helped."]
    annotations = ft_annotator.annotate(texts, e5.encode(texts), ["es", "en"])
    assert ft_annotator.name == "vocmine.sentiment.ft"
    assert [a.label for a in annotations] == ["positive", "negative"]
    assert sum(annotations[0].scores.values()) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("which", ["annotator", "ft_annotator"])
def test_sentiment_reads_the_sentences_around_a_sentence(which: str, request, e5) -> None:
    """A sentence with neighbours in its answer is scored by the context member (v1's, which the accurate
    variant's blend member reads too since session 18); alone it is not, and a one-sentence answer scores the
    same either way."""
    from vocmine.models.context import annotate_in_context

    annotator = request.getfixturevalue(which)
    assert annotator.reads_context and annotator.model.reads_context

    texts = ["Fuimos un martes por la noche.", "La comida llegó fría y el camarero fue muy grosero.", "Thanks!"]
    vectors = e5.encode(texts)
    in_answer = annotate_in_context(annotator, texts, vectors, ["es", "es", "en"], groups=[0, 0, 1])
    alone = annotator.annotate(texts, vectors, ["es", "es", "en"])
    assert in_answer[0].scores["negative"] > alone[0].scores["negative"]
    assert in_answer[2].scores == alone[2].scores
