"""Periods, counts and the emerging test (against the theme's own history)."""

from __future__ import annotations

import pandas as pd

from vocmine.pipelines.trends import assess_emerging, choose_period, counts_per_period, period_labels


def _series(counts: list[int], totals: list[int]) -> dict[str, dict[str, float]]:
    return {
        f"2026-{m + 1:02d}": {"count": c, "total": t, "share": c / t}
        for m, (c, t) in enumerate(zip(counts, totals, strict=True))
    }


def test_choose_period_follows_the_span() -> None:
    assert choose_period(pd.Series(pd.date_range("2026-01-01", periods=200, freq="D"))) == "M"
    assert choose_period(pd.Series(pd.date_range("2026-01-01", periods=40, freq="D"))) == "W"
    assert choose_period(pd.Series(pd.date_range("2026-01-01", periods=10, freq="D"))) == "D"


def test_counts_per_period_includes_zero_periods() -> None:
    group = period_labels(pd.Series(pd.to_datetime(["2026-01-05", "2026-02-03", "2026-02-20", "2026-03-01"])), "M")
    theme = group.iloc[[1, 2]]
    per_period = counts_per_period(theme, group)
    assert per_period["2026-01"]["count"] == 0
    assert per_period["2026-02"] == {"count": 2, "total": 2, "share": 1.0}


def test_growth_against_own_history_is_emerging_with_evidence() -> None:
    growing = _series([5, 6, 4, 5, 30], [200, 210, 190, 200, 200])
    verdict = assess_emerging(growing, is_new=False)
    assert verdict.emerging
    assert "2026-05: 30/200" in verdict.evidence and "binomial" in verdict.evidence


def test_stable_large_theme_is_not_emerging() -> None:
    stable = _series([50, 55, 48, 52, 56], [200, 210, 190, 200, 205])
    assert not assess_emerging(stable, is_new=False).emerging


def test_small_noisy_bump_is_not_emerging() -> None:
    # 1 -> 3 mentions is a tripling, but well within the noise of the theme's own history.
    assert not assess_emerging(_series([1, 2, 1, 3], [100, 100, 100, 100]), is_new=False).emerging


def test_new_theme_is_emerging_and_short_history_is_not_tested() -> None:
    assert assess_emerging(_series([3], [50]), is_new=True).emerging
    assert not assess_emerging(_series([1, 40], [100, 100]), is_new=False).emerging
