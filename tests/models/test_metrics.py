"""Metrics: hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from vocmine.models.metrics import (
    FIGURE_COLUMNS,
    accuracy_interval,
    argmax_mean_macro_f1,
    bootstrap_macro_f1_interval,
    bootstrap_micro_f1_interval,
    expected_calibration_error,
    figure_row,
    figures_frame,
    macro_f1,
    macro_f1_by_group,
    macro_f1_row,
    mean_macro_f1_by_group,
    per_class_report,
)

LABELS = ["negative", "neutral", "positive"]


def test_macro_f1_perfect_and_constant_predictor() -> None:
    truth = ["negative", "neutral", "positive", "positive"]
    assert macro_f1(truth, truth) == pytest.approx(1.0)
    # Always "positive": F1 positive = 2*0.5*1/(1.5) = 2/3, others 0 -> macro 2/9.
    assert macro_f1(truth, ["positive"] * 4, labels=LABELS) == pytest.approx(2 / 9)


def test_macro_f1_sample_weights_count_rows() -> None:
    """A weight of 2 counts a row twice and a weight of 0 drops it: the figure of a stratified sample with
    inverse-probability weights estimates the whole split's."""
    truth = ["negative", "positive", "positive", "neutral"]
    predicted = ["negative", "negative", "positive", "positive"]
    doubled = macro_f1(truth + truth[1:2], predicted + predicted[1:2], LABELS)
    assert macro_f1(truth, predicted, LABELS, sample_weight=[1, 2, 1, 1]) == pytest.approx(doubled)
    assert macro_f1(truth, predicted, LABELS, sample_weight=[1, 0, 1, 1]) == pytest.approx(
        macro_f1(truth[:1] + truth[2:], predicted[:1] + predicted[2:], LABELS))
    assert doubled != pytest.approx(macro_f1(truth, predicted, LABELS))


def test_bootstrap_interval_brackets_the_figure_and_narrows_with_more_rows() -> None:
    rng = np.random.default_rng(1)
    truth = rng.choice(LABELS, size=200).tolist()
    predicted = [t if rng.random() < 0.7 else str(rng.choice(LABELS)) for t in truth]
    low, high = bootstrap_macro_f1_interval(truth, predicted, LABELS)
    assert low < macro_f1(truth, predicted, LABELS) < high
    wide = bootstrap_macro_f1_interval(truth[:50], predicted[:50], LABELS)
    assert wide[1] - wide[0] > high - low
    assert bootstrap_macro_f1_interval(truth, predicted, LABELS) == (low, high)  # fixed seed
    assert bootstrap_macro_f1_interval(truth, truth, LABELS) == (1.0, 1.0)


def test_bootstrap_interval_uses_the_weights() -> None:
    """Weights count rows as the figure does: scaling them all changes nothing, and weighing up a wrong
    answer lowers the interval."""
    truth = ["negative", "neutral", "positive"] * 20
    predicted = ["negative", "neutral", "positive"] * 18 + ["positive", "positive", "negative"] * 2
    plain = bootstrap_macro_f1_interval(truth, predicted, LABELS)
    assert bootstrap_macro_f1_interval(truth, predicted, LABELS, sample_weight=[3.0] * 60) == pytest.approx(plain)
    heavy_errors = bootstrap_macro_f1_interval(truth, predicted, LABELS, sample_weight=[1.0] * 54 + [5.0] * 6)
    assert heavy_errors[1] < plain[1] and heavy_errors[0] < plain[0]


def test_micro_f1_interval_of_set_labels() -> None:
    """Touchpoint sets per sentence: the interval brackets the micro-F1 and is a point when all agree."""
    gold = [{"food"}, {"service"}, {"food", "price"}, set(), {"ambience"}] * 12
    predicted = [{"food"}, {"food"}, {"food"}, set(), {"ambience", "service"}] * 12
    tp, fp, fn = 3 * 12, 2 * 12, 2 * 12
    low, high = bootstrap_micro_f1_interval(gold, predicted)
    assert low < 2 * tp / (2 * tp + fp + fn) < high
    assert bootstrap_micro_f1_interval(gold, gold) == (1.0, 1.0)


def test_accuracy_interval_is_wilsons() -> None:
    """Hand-checked Wilson 95% intervals: 90 of 100 right, and 12 of 12 (not the degenerate [1, 1])."""
    assert accuracy_interval([True] * 90 + [False] * 10) == pytest.approx((0.8256, 0.9448), abs=1e-4)
    low, high = accuracy_interval([True] * 12)
    assert low == pytest.approx(0.7575, abs=1e-4) and high == 1.0


def test_macro_f1_row_carries_value_interval_and_n() -> None:
    truth, predicted = ["negative", "positive"] * 30, ["negative", "positive"] * 25 + ["positive", "positive"] * 5
    row = macro_f1_row("sentiment", "semeval16_es", "es", "test", "m", truth, predicted, LABELS[::2])
    assert row["value"] == pytest.approx(macro_f1(truth, predicted, LABELS[::2]))
    assert row["ci_low"] < row["value"] < row["ci_high"] and row["n"] == 60
    assert list(figures_frame([row]).columns) == FIGURE_COLUMNS


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


def test_argmax_figure_reads_score_columns_in_label_order() -> None:
    # The same six rows as above, as scores whose argmax gives those predictions (columns: LABELS order).
    truth = ["negative", "positive", "negative", "positive", "positive", "negative"]
    index = {label: i for i, label in enumerate(LABELS)}
    scores = np.full((6, len(LABELS)), -1.0)
    for row, label in enumerate(["negative", "positive", "negative", "negative", "positive", "negative"]):
        scores[row, index[label]] = 2.0
    groups = ["es", "es", "en", "en", "en", "en"]
    assert argmax_mean_macro_f1(truth, scores, LABELS, groups) == pytest.approx((2 / 3 + 22 / 45) / 2)
    # no groups: one macro-F1 over every row (en's one error, among six rows)
    assert argmax_mean_macro_f1(truth, scores, LABELS) == pytest.approx(
        macro_f1(truth, ["negative", "positive", "negative", "negative", "positive", "negative"], LABELS))
    # the columns are read in the given label order: with the labels reversed, negative and positive swap
    assert argmax_mean_macro_f1(truth, scores, LABELS[::-1]) == pytest.approx(
        macro_f1(truth, ["positive", "negative", "positive", "positive", "negative", "positive"], LABELS))


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
