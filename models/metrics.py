"""Quality figures shared by every task: macro-F1, per-class report, calibration error, a figures table.

Macro averages are the headline because our corpora are skewed (restaurants_es is 91% five-star): a
model that always says "positive" scores high accuracy and a macro-F1 near 0.32. The figures table has
one fixed shape for every task, so ``vocmine evaluate`` can print and concatenate them, and the model
cards can be written from it. Each macro-F1 or micro-F1 row carries a 95% bootstrap interval, and each
accuracy a Wilson interval (``ci_low``, ``ci_high``): test sets of 87-3,117 rows move a figure by one to
ten points, and a target read without its interval claims more than the data can say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, precision_recall_fscore_support

#: Columns every figures row must fill (one row per measured number).
REQUIRED_FIGURE_COLUMNS = ["task", "dataset", "language", "split", "model", "metric", "value", "n"]
#: Columns of every figures table: the required ones plus the bootstrap interval (NaN where none is computed).
FIGURE_COLUMNS = [*REQUIRED_FIGURE_COLUMNS, "ci_low", "ci_high"]
#: Resamples of :func:`bootstrap_interval`, and the level of every interval in the figures tables.
BOOTSTRAP_RESAMPLES = 1000
INTERVAL_LEVEL = 0.95


def macro_f1(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    labels: Sequence[Any] | None = None,
    sample_weight: Sequence[float] | None = None,
) -> float:
    """Unweighted mean of the per-class F1 over ``labels`` (default: the labels present in either list).

    Passing ``labels`` keeps the average over the same classes on every split, so a class missing from a
    small test subset counts as F1 0 for a model that predicts it, rather than silently vanishing.
    ``sample_weight`` weighs each row's count in the per-class counts: inverse-probability weights of a
    stratified sample make the figure an estimate of the whole split's.
    """
    if len(y_true) == 0:
        raise ValueError("macro_f1 of an empty list")
    return float(f1_score(list(y_true), list(y_pred), labels=labels, average="macro", zero_division=0,
                          sample_weight=None if sample_weight is None else np.asarray(sample_weight, float)))


def bootstrap_interval(
    per_row: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    sample_weight: Sequence[float] | None = None,
    resamples: int = BOOTSTRAP_RESAMPLES,
    level: float = INTERVAL_LEVEL,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of a figure built from sums of per-row quantities.

    ``per_row`` (n x m) holds each row's additive counts (hits, gold and predicted per class; true and
    false positives; ...), and ``statistic`` turns their sums over a resample ((B, m)) into B figures.
    Resamples are rows drawn with replacement (fixed ``seed``), as multinomial counts, so 1,000 resamples
    of 3,000 rows are one matrix product. ``sample_weight`` multiplies the counts (a stratified sample's
    inverse-probability weights); resampling ignores the strata, which widens the interval a little. A
    percentile bootstrap cannot reach past the figures its rows allow: all-correct rows give [1, 1], which
    is why accuracies use :func:`accuracy_interval` instead.
    """
    per_row = np.asarray(per_row, dtype=float)
    n = len(per_row)
    if n == 0:
        raise ValueError("bootstrap interval of an empty list")
    weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    counts = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=resamples) * weight
    scores = statistic(counts @ per_row)
    tail = (1.0 - level) / 2
    return float(np.quantile(scores, tail)), float(np.quantile(scores, 1.0 - tail))


def bootstrap_macro_f1_interval(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    labels: Sequence[Any],
    sample_weight: Sequence[float] | None = None,
    **options: Any,
) -> tuple[float, float]:
    """:func:`bootstrap_interval` of :func:`macro_f1` (a class absent from a resample scores 0, as with
    ``zero_division=0``), so a figure is read with the spread its test set allows."""
    truth, predicted = np.asarray(list(y_true), dtype=object), np.asarray(list(y_pred), dtype=object)
    columns = []
    for label in labels:
        gold, guessed = truth == label, predicted == label
        columns += [gold & guessed, gold, guessed]
    k = len(labels)

    def statistic(sums: np.ndarray) -> np.ndarray:
        hits, gold, guessed = sums[:, 0::3], sums[:, 1::3], sums[:, 2::3]
        denominator = gold + guessed
        return np.where(denominator > 0, 2 * hits / np.maximum(denominator, 1e-12), 0.0).sum(axis=1) / k

    return bootstrap_interval(np.column_stack(columns), statistic, sample_weight, **options)


def bootstrap_micro_f1_interval(
    gold: Sequence[set[Any]], predicted: Sequence[set[Any]], **options: Any
) -> tuple[float, float]:
    """:func:`bootstrap_interval` of the micro-F1 of set-valued labels (touchpoints or aspect entities per
    sentence): 2 TP / (2 TP + FP + FN) over the resampled sentences, 1.0 when a resample has no label."""
    per_row = np.array([(len(g & p), len(p - g), len(g - p)) for g, p in zip(gold, predicted, strict=True)])

    def statistic(sums: np.ndarray) -> np.ndarray:
        tp, fp, fn = sums[:, 0], sums[:, 1], sums[:, 2]
        denominator = 2 * tp + fp + fn
        return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1e-12), 1.0)

    return bootstrap_interval(per_row.reshape(-1, 3), statistic, **options)


def accuracy_interval(correct: Sequence[bool], level: float = INTERVAL_LEVEL) -> tuple[float, float]:
    """Wilson score interval of an accuracy (the share of ``correct`` rows). Not a bootstrap: resampling
    12 rows that are all right gives [1, 1], while Wilson's gives [0.76, 1], which is what 12 rows can say."""
    from scipy.stats import norm

    n = len(correct)
    if n == 0:
        raise ValueError("accuracy interval of an empty list")
    share, z = float(np.mean(np.asarray(correct, dtype=float))), float(norm.ppf(0.5 + level / 2))
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def macro_f1_by_group(
    y_true: Sequence[Any], y_pred: Sequence[Any], groups: Sequence[Any], labels: Sequence[Any]
) -> dict[Any, float]:
    """:func:`macro_f1` of each group's rows (groups in sorted order): per data set or per language, so
    that held-out choices can weigh every group alike however many rows each has."""
    y_true, y_pred, groups = np.asarray(y_true), np.asarray(y_pred), np.asarray(groups)
    return {g: macro_f1(y_true[groups == g], y_pred[groups == g], labels) for g in np.unique(groups)}


def mean_macro_f1_by_group(
    y_true: Sequence[Any], y_pred: Sequence[Any], groups: Sequence[Any], labels: Sequence[Any]
) -> float:
    """The mean of :func:`macro_f1_by_group`: the one figure held-out choices (blend weight, epoch) maximise."""
    return float(np.mean(list(macro_f1_by_group(y_true, y_pred, groups, labels).values())))


def argmax_mean_macro_f1(
    y_true: Sequence[Any], scores: np.ndarray, labels: Sequence[Any], groups: Sequence[Any] | None = None
) -> float:
    """:func:`mean_macro_f1_by_group` (one group when ``groups`` is None) of the decision ``labels[argmax]``
    of ``scores`` (n x len(labels), columns in ``labels`` order): what a classifier's raw scores are worth
    when held-out rows choose its epoch or a run."""
    predicted = np.asarray(labels)[np.asarray(scores).argmax(axis=1)]
    if groups is None:
        return macro_f1(y_true, predicted, list(labels))
    return mean_macro_f1_by_group(y_true, predicted, groups, list(labels))


def per_class_report(
    y_true: Sequence[Any], y_pred: Sequence[Any], labels: Sequence[Any] | None = None
) -> pd.DataFrame:
    """Precision, recall, F1 and support per class, as a DataFrame with one row per label."""
    if labels is None:
        labels = sorted(set(y_true) | set(y_pred), key=str)
    precision, recall, f1, support = precision_recall_fscore_support(
        list(y_true), list(y_pred), labels=list(labels), zero_division=0
    )
    return pd.DataFrame(
        {"label": list(labels), "precision": precision, "recall": recall, "f1": f1, "support": support}
    )


def expected_calibration_error(
    y_true: Sequence[Any],
    proba: np.ndarray,
    labels: Sequence[Any],
    n_bins: int = 15,
    sample_weight: Sequence[float] | None = None,
) -> float:
    """Top-label expected calibration error (Guo et al. 2017): 15 equal-width confidence bins.

    For each bin, |accuracy - mean confidence| weighted by the bin's share of rows. 0 means "a 0.8
    probability is right 80% of the time", which is what analysts assume when they read a score.
    """
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2 or proba.shape[0] != len(y_true) or proba.shape[1] != len(labels):
        raise ValueError(f"proba must be (n, {len(labels)}) for {len(y_true)} rows, got {proba.shape}")
    if proba.shape[0] == 0:
        raise ValueError("expected_calibration_error of an empty list")
    index = {label: i for i, label in enumerate(labels)}
    truth = np.array([index.get(label, -1) for label in y_true])
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == truth).astype(np.float64)
    weight = np.ones(len(truth)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, n_bins - 1)
    error = 0.0
    for b in range(n_bins):
        mask = bins == b
        if mask.any():
            w = weight[mask]
            gap = abs(np.average(correct[mask], weights=w) - np.average(confidence[mask], weights=w))
            error += w.sum() / weight.sum() * gap
    return float(error)


def figure_row(
    task: str, dataset: str, language: str, split: str, model: str, metric: str, value: float, n: int,
    interval: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """One row of a figures table (keyword-checked, so a misspelt column fails here, not in a report)."""
    low, high = interval if interval is not None else (float("nan"), float("nan"))
    return {
        "task": task,
        "dataset": dataset,
        "language": language,
        "split": split,
        "model": model,
        "metric": metric,
        "value": float(value),
        "n": int(n),
        "ci_low": float(low),
        "ci_high": float(high),
    }


def macro_f1_row(
    task: str, dataset: str, language: str, split: str, model: str,
    y_true: Sequence[Any], y_pred: Sequence[Any], labels: Sequence[Any],
    sample_weight: Sequence[float] | None = None, metric: str = "macro_f1",
) -> dict[str, Any]:
    """The figures row of a macro-F1 with its bootstrap interval: the one way every task reports one."""
    value = macro_f1(y_true, y_pred, labels, sample_weight=sample_weight)
    interval = bootstrap_macro_f1_interval(y_true, y_pred, labels, sample_weight=sample_weight)
    return figure_row(task, dataset, language, split, model, metric, value, len(y_true), interval)


def figures_frame(rows: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A DataFrame with exactly :data:`FIGURE_COLUMNS`, whatever (and however few) rows are given; every
    row must fill :data:`REQUIRED_FIGURE_COLUMNS`."""
    frame = pd.DataFrame(list(rows), columns=FIGURE_COLUMNS)
    missing = frame[REQUIRED_FIGURE_COLUMNS].isna().any(axis=1)
    if missing.any():
        raise ValueError(f"figures rows with missing columns: {frame[missing].to_dict('records')[:3]}")
    frame["value"] = frame["value"].astype(float)
    frame["n"] = frame["n"].astype(int)
    frame[["ci_low", "ci_high"]] = frame[["ci_low", "ci_high"]].astype(float)
    return frame
