"""The sentiment task framework: label mapping, sampling plans, figures, registry; no training here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vocmine import registry
from vocmine.models.datasets import cap_words, load_sentiment, sentence_sentiment
from vocmine.models.metrics import FIGURE_COLUMNS
from vocmine.models.train_sentiment import (
    E5_TRAIN_PLAN,
    SentimentTask,
    _dev_mask,
    _figures_for,
    _sample_per_class,
    _vader_proba,
)

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


@pytest.mark.parametrize(
    ("polarities", "expected"),
    [
        (["positive", "positive"], "positive"),
        (["negative"], "negative"),
        (["neutral"], "neutral"),
        ([], "neutral"),
        (["positive", "neutral"], "positive"),
        (["positive", "negative"], None),
        (["conflict"], None),
    ],
)
def test_sentence_sentiment_from_opinions(polarities: list[str], expected: str | None) -> None:
    assert sentence_sentiment(polarities) == expected


def test_cap_words_keeps_the_opening() -> None:
    assert cap_words("La comida  estaba\nfría y cara", 3) == "La comida estaba"
    assert cap_words("Corto", 60) == "Corto"


def test_sample_per_class_caps_only_the_named_classes() -> None:
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(10)], "label": ["positive"] * 8 + ["negative"] * 2})
    sampled = _sample_per_class(frame, {"positive": 3}, seed=1)
    assert sampled["label"].value_counts().to_dict() == {"positive": 3, "negative": 2}
    assert sampled.equals(_sample_per_class(frame, {"positive": 3}, seed=1))  # fixed seed, same rows


def test_dev_mask_is_stratified_and_deterministic() -> None:
    frame = pd.DataFrame({"dataset": ["a"] * 20 + ["b"] * 20, "label": (["negative"] * 10 + ["positive"] * 10) * 2})
    mask = _dev_mask(frame, seed=3)
    assert mask.sum() == 4 * round(10 * 0.15)
    assert (mask == _dev_mask(frame, seed=3)).all()


def test_e5_plan_names_known_datasets() -> None:
    from vocmine.models.datasets import SENTIMENT_DATASETS

    assert set(E5_TRAIN_PLAN) <= set(SENTIMENT_DATASETS)


def test_figures_for_reports_macro_f1_pos_neg_and_ece() -> None:
    frame = pd.DataFrame(
        {"text": ["a", "b", "c", "d"], "label": ["negative", "neutral", "positive", "positive"],
         "dataset": "restaurants_es", "language": "es"}
    )
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.6, 0.2], [0.1, 0.1, 0.8], [0.5, 0.4, 0.1]])
    rows = pd.DataFrame(_figures_for(frame, proba, "m", with_ece=True))
    assert list(rows.columns) == FIGURE_COLUMNS
    by_metric = rows.set_index("metric")
    assert by_metric.loc["macro_f1", "n"] == 4
    assert by_metric.loc["macro_f1_pos_neg", "n"] == 3
    assert 0 < by_metric.loc["macro_f1", "value"] < 1
    assert 0 <= by_metric.loc["ece", "value"] <= 1


def test_figures_for_weighs_a_stratified_sample_like_the_split_it_stands_for() -> None:
    """Rows with weight 3 count as three rows: the sampled figure is the whole split's, not the sample's."""
    frame = pd.DataFrame(
        {"text": ["a", "b", "c", "d"], "label": ["negative", "neutral", "positive", "positive"],
         "dataset": "restaurants_es", "language": "es", "weight": [1.0, 1.0, 3.0, 3.0]}
    )
    proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.6, 0.2], [0.1, 0.1, 0.8], [0.5, 0.4, 0.1]])
    whole = frame.loc[[0, 1, 2, 2, 2, 3, 3, 3]].assign(weight=1.0)
    weighted = pd.DataFrame(_figures_for(frame, proba, "m", with_ece=False)).set_index("metric")["value"]
    expanded = pd.DataFrame(_figures_for(whole, proba[whole.index], "m", with_ece=False)).set_index("metric")["value"]
    unweighted = pd.DataFrame(_figures_for(frame.drop(columns="weight"), proba, "m", with_ece=False))
    assert weighted.to_dict() == pytest.approx(expanded.to_dict())
    assert weighted["macro_f1"] != pytest.approx(unweighted.set_index("metric")["value"]["macro_f1"])


def test_vader_baseline_reads_clear_english() -> None:
    proba = _vader_proba(["The staff were lovely and helpful", "Worst airline ever, terrible service"])
    assert proba.argmax(axis=1).tolist() == [2, 0]


def test_sentiment_task_is_registered_with_train_and_evaluate() -> None:
    task = registry.create("task", "sentiment")
    assert isinstance(task, SentimentTask)
    assert callable(task.train) and callable(task.evaluate)


def test_load_sentiment_airline_test_split_labels() -> None:
    frame = load_sentiment("twitter_airline", "test", SHARED_DATA)
    assert len(frame) == 2908
    assert set(frame["label"]) == {"negative", "neutral", "positive"}
    assert (frame["language"] == "en").all()


def test_load_sentiment_restaurants_es_maps_stars() -> None:
    frame = load_sentiment("restaurants_es", "test", SHARED_DATA)
    mapping = frame.groupby("stars")["label"].first().to_dict()
    assert mapping == {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}
    assert frame["text"].str.split().str.len().max() <= 60


def test_semeval_sentences_carry_their_neighbours() -> None:
    """English neighbours stop at a review's edge; the shuffled Spanish files get the official order's."""
    from vocmine.models.datasets import semeval16_with_neighbours

    english = semeval16_with_neighbours("en", "train", SHARED_DATA)
    assert (english["context_before"] == "").sum() == english["review_id"].nunique() == 350
    spanish = semeval16_with_neighbours("es", "test", SHARED_DATA).set_index("text")
    assert spanish.loc["Buff,", "context_after"] == "No se donde empezar!"
    assert spanish.loc["No se donde empezar!", "context_before"] == "Buff,"
    assert ((spanish["context_before"] == "") & (spanish["context_after"] == "")).sum() <= 1
    train = load_sentiment("semeval16_es", "train", SHARED_DATA)
    assert {"context_before", "context_after"} <= set(train.columns)
