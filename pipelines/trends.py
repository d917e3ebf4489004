"""Counts per period and the emerging-theme test.

A theme is *emerging* when it is new (no earlier run had it), or when its share of its touchpoint's
sentences in the latest period is significantly above its own history: a one-sided binomial test of the
latest period's count against the theme's pooled historical rate. Testing against the theme's own
history, not a fixed "+50%" rule, keeps a big stable theme quiet and lets a small one that doubles from
a tiny base stay quiet too until the evidence is there.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import pandas as pd
from scipy.stats import binomtest

logger = logging.getLogger(__name__)


def choose_period(dates: pd.Series) -> str:
    """Pandas period frequency for the data's span: months over ~3 months, weeks over ~3 weeks, else days."""
    dates = pd.to_datetime(dates, errors="coerce").dropna()
    if dates.empty:
        return "M"
    span_days = (dates.max() - dates.min()).days
    if span_days > 90:
        return "M"
    if span_days > 21:
        return "W"
    return "D"


def period_labels(dates: pd.Series, freq: str) -> pd.Series:
    """Period of each date as a string ("2026-03", "2026-03-02/2026-03-08", "2026-03-05"); NaT -> None."""
    parsed = pd.to_datetime(dates, errors="coerce")
    out = pd.Series([None] * len(parsed), index=parsed.index, dtype=object)
    valid = parsed.notna()
    if valid.any():
        out[valid] = parsed[valid].dt.tz_localize(None).dt.to_period(freq).astype(str)
    return out


@dataclass(frozen=True, slots=True)
class EmergingVerdict:
    emerging: bool
    evidence: str | None


def counts_per_period(theme_periods: pd.Series, group_periods: pd.Series) -> dict[str, dict[str, float]]:
    """{period: {"count", "total", "share"}} over every period of the group (zeros included)."""
    totals = group_periods.dropna().value_counts().sort_index()
    counts = theme_periods.dropna().value_counts()
    return {
        str(p): {"count": int(counts.get(p, 0)), "total": int(t), "share": round(float(counts.get(p, 0)) / t, 4)}
        for p, t in totals.items()
    }


def assess_emerging(
    per_period: dict[str, dict[str, float]],
    is_new: bool,
    alpha: float = 0.01,
    min_count: int = 3,
    min_history: int = 2,
) -> EmergingVerdict:
    """Emerging if new, or if the latest period's count is significantly above the theme's own history.

    ``per_period`` is the output of :func:`counts_per_period`. The history is every earlier period
    (at least ``min_history`` of them); the test is one-sided binomial with the pooled historical share as
    the null rate (add-one smoothed, so a theme absent before is not "infinitely" surprising).
    """
    if is_new:
        return EmergingVerdict(True, "new theme: no earlier run had a matching root cause")
    periods = sorted(per_period)
    if len(periods) < min_history + 1:
        return EmergingVerdict(False, None)
    latest = periods[-1]
    k = int(per_period[latest]["count"])
    n = int(per_period[latest]["total"])
    history = periods[:-1]
    hist_k = sum(int(per_period[p]["count"]) for p in history)
    hist_n = sum(int(per_period[p]["total"]) for p in history)
    if k < min_count or n == 0 or hist_n == 0:
        return EmergingVerdict(False, None)
    rate = (hist_k + 1) / (hist_n + 2)
    p_value = float(binomtest(k, n, rate, alternative="greater").pvalue)
    if p_value < alpha and k / n > rate:
        evidence = (
            f"{latest}: {k}/{n} sentences ({k / n:.1%}) vs {hist_k}/{hist_n} ({hist_k / hist_n:.1%}) over "
            f"{len(history)} earlier periods; one-sided binomial p={p_value:.2g}"
        )
        return EmergingVerdict(True, evidence)
    return EmergingVerdict(False, None)


def to_json(per_period: dict[str, dict[str, float]]) -> str:
    return json.dumps(per_period, sort_keys=True)
