"""KPIs per segment and period, checked against hand-computed counts."""

from __future__ import annotations

import pandas as pd
import pytest

from vocmine.config import NpsConfig, VocmineConfig
from vocmine.pipelines.kpis import compute_kpis, write_kpis


def _responses() -> pd.DataFrame:
    # Branch Centro: scores 10, 9, 6, 8 -> 2 P, 1 Pa, 1 D: NPS 25. Branch Norte: 5 stars, 2 stars -> 1 P, 1 D.
    # One response has no score at all: counted nowhere in NPS.
    return pd.DataFrame(
        {
            "response_id": [f"r{i}" for i in range(7)],
            "score": [10, 9, 6, 8, None, None, None],
            "score_scale": ["0-10"] * 4 + [None] * 3,
            "stars": [None, None, None, None, 5, 2, None],
            "branch": ["Centro", "Centro", "Centro", "Centro", "Norte", "Norte", "Norte"],
            "touchpoint": ["staff;checkout", "staff", None, "delivery", None, "staff", None],
            "channel": ["survey"] * 4 + ["review"] * 3,
            "created_at": pd.to_datetime(
                ["2024-03-04", "2024-03-20", "2024-04-02", "2024-04-02", "2024-03-05", "2024-04-10", "2024-04-11"]
            ),
        }
    )


def _row(kpis: pd.DataFrame, segment: str, value: str, period: str = "all") -> pd.Series:
    found = kpis[(kpis["segment"] == segment) & (kpis["segment_value"] == value) & (kpis["period"] == period)]
    assert len(found) == 1
    return found.iloc[0]


def test_compute_kpis_counts_nps_and_satisfaction_by_hand() -> None:
    kpis = compute_kpis(_responses(), VocmineConfig())
    overall = _row(kpis, "all", "all")
    # 6 classified: P = 10, 9, 5 stars; Pa = 8; D = 6, 2 stars -> NPS = (3 - 2) / 6 = 16.67.
    assert (overall["n"], overall["promoters"], overall["passives"], overall["detractors"]) == (6, 3, 1, 2)
    assert overall["estimate"] == pytest.approx(100 / 6)
    assert overall["low"] < overall["estimate"] < overall["high"]
    # 0-10 means: 10, 9, 6, 8, stars 5 -> 10, stars 2 -> 2.5: mean 45.5 / 6; top-2-box: 10, 9, 5 stars -> 3/6.
    assert overall["mean_score"] == pytest.approx(45.5 / 6)
    assert overall["top2box"] == pytest.approx(0.5)
    assert bool(overall["small_n"]) is True
    centro = _row(kpis, "branch", "Centro")
    assert (centro["n"], centro["estimate"]) == (4, pytest.approx(25.0))


def test_compute_kpis_multi_valued_touchpoint_and_periods() -> None:
    kpis = compute_kpis(_responses(), VocmineConfig())
    staff = _row(kpis, "touchpoint", "staff")
    assert (staff["n"], staff["promoters"], staff["detractors"]) == (3, 2, 1)  # r0, r1, r5
    march = _row(kpis, "all", "all", "2024-03")
    assert (march["n"], march["promoters"]) == (3, 3)
    week = _row(kpis, "branch", "Centro", "2024-W14")
    assert (week["n"], week["passives"], week["detractors"]) == (2, 1, 1)


def test_compute_kpis_small_n_threshold_is_configurable() -> None:
    config = VocmineConfig(nps=NpsConfig(min_n=4))
    kpis = compute_kpis(_responses(), config)
    assert not _row(kpis, "branch", "Centro")["small_n"]
    assert _row(kpis, "branch", "Norte")["small_n"]


def test_compute_kpis_without_any_score_gives_null_estimates() -> None:
    frame = _responses().assign(score=None, stars=None)
    overall = _row(compute_kpis(frame, VocmineConfig()), "all", "all")
    assert overall["n"] == 0
    assert pd.isna(overall["estimate"]) and pd.isna(overall["low"]) and pd.isna(overall["mean_score"])


def test_write_kpis_replaces_rows_on_rerun(store) -> None:
    frame = _responses().drop(columns=["touchpoint"])
    frame["nps_class"] = ["promoter", "promoter", "detractor", "passive", "promoter", "detractor", None]
    store.upsert("responses", frame)
    config = VocmineConfig()
    first = write_kpis(store, config, "run-1")
    second = write_kpis(store, config, "run-2")
    assert first == second == store.count("kpis")
    row = store.df("SELECT n, estimate, small_n, run_id FROM kpis WHERE segment = 'all' AND period = 'all'")
    assert row["n"].tolist() == [6] and row["run_id"].tolist() == ["run-2"]
    assert bool(row["small_n"].iloc[0]) is True
