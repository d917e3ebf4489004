"""Metrics: hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from vocmine.models.metrics import (
    FIGURE_COLUMNS,
    expected_calibration_error,
    figure_row,
    figures_frame,
    macro_f1,
    macro_f1_by_group,
    mean_macro_f1_by_group,
    per_class_report,
)

LABELS = ["negative", "neutral", "positive"]


def test_macro_f1_perfect_and_constant_predictor() -> None:
    truth = ["negative", "neutral", "positive", "positive"]
    assert macro_f1(truth, truth) == pytest.approx(1.0)
    # Always "positive": F1 positive = 2*0.5*1/(1.5) = 2/3, others 0 -> macro 2/9.
    assert macro_f1(truth, ["positive"] * 4, labels=LABELS) == pytest.approx(2 / 9)


def test_macro_f1_empty_raises() -> None:
    with pytest.raises(ValueError):
        macro_f1([], [])


def test_group_figures_weigh_every_group_alike() -> None:
    # Spanish: 2 rows, both right (2/3 over three labels: neutral is absent and scores 0); English: 4 rows,
    # one "positive" read as "negative" (0.489). Each group counts once in the mean, whatever its size.
    truth = ["negative", "positive", "negative", "positive", "positive", "negative"]
    predicted = ["negative", "positive", "negative", "negative", "positive", "negative"]
    groups = ["es", "es", "en", "en", "en", "en"]
    by_group = macro_f1_by_group(truth, predicted, groups, LABELS)
    assert list(by_group) == ["en", "es"]
    assert by_group["es"] == pytest.approx(2 / 3)
    assert by_group["en"] == pytest.approx(macro_f1(truth[2:], predicted[2:], LABELS))
    assert mean_macro_f1_by_group(truth, predicted, groups, LABELS) == pytest.approx(
        (by_group["es"] + by_group["en"]) / 2)


def test_per_class_report_counts_support() -> None:
    report = per_class_report(["negative", "negative", "positive"], ["negative", "positive", "positive"], LABELS)
    assert list(report["label"]) == LABELS
    assert list(report["support"]) == [2, 0, 1]
    assert report.loc[0, "precision"] == pytest.approx(1.0)
    assert report.loc[0, "recall"] == pytest.approx(0.5)


def test_ece_zero_when_confidence_matches_accuracy() -> None:
    # Four rows at confidence 0.75, three of them right: perfectly calibrated.
    proba = np.array([[0.75, 0.25]] * 4)
    truth = ["a", "a", "a", "b"]
    assert expected_calibration_error(truth, proba, ["a", "b"]) == pytest.approx(0.0)


def test_ece_of_overconfident_model() -> None:
    proba = np.array([[0.99, 0.01]] * 2)
    truth = ["a", "b"]  # half right at 0.99 confidence
    assert expected_calibration_error(truth, proba, ["a", "b"]) == pytest.approx(0.49)


def test_ece_rejects_wrong_shape() -> None:
    with pytest.raises(ValueError):
        expected_calibration_error(["a"], np.array([[0.5, 0.3, 0.2]]), ["a", "b"])


def test_figures_frame_has_fixed_columns_even_when_empty() -> None:
    assert list(figures_frame([]).columns) == FIGURE_COLUMNS
    frame = figures_frame([figure_row("sentiment", "twitter_airline", "en", "test", "m", "macro_f1", 0.8, 2908)])
    assert frame.loc[0, "value"] == pytest.approx(0.8)
    assert frame.loc[0, "n"] == 2908


def test_figures_frame_rejects_missing_column() -> None:
    with pytest.raises(ValueError):
        figures_frame([{"task": "sentiment", "value": 0.5}])
