"""NPS status mapping and the NPS estimate, against values computed by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from vocmine.config import NpsConfig, VocmineConfig
from vocmine.pipelines.nps import classify_nps, nps_estimate, update_nps_status


def _classify(score, stars=None, scale=None, config: NpsConfig | None = None) -> list:
    score = pd.Series(score, dtype=float)
    stars = pd.Series(stars if stars is not None else [None] * len(score), dtype=float)
    scale = pd.Series(scale if scale is not None else ["0-10"] * len(score), dtype=object)
    return classify_nps(score, stars, scale, config or NpsConfig()).tolist()


@pytest.mark.parametrize(
    ("score", "expected"),
    [(10, "promoter"), (9, "promoter"), (8, "passive"), (7, "passive"), (6, "detractor"), (0, "detractor")],
)
def test_classify_nps_recommend_score_cuts(score: float, expected: str) -> None:
    assert _classify([score]) == [expected]


@pytest.mark.parametrize(("stars", "expected"), [(5, "promoter"), (4, "passive"), (3, "detractor"), (1, "detractor")])
def test_classify_nps_stars_cuts(stars: float, expected: str) -> None:
    assert _classify([None], stars=[stars]) == [expected]


def test_classify_nps_review10_floors_decimals_and_is_configurable() -> None:
    # Booking 8.8 floors to 8 -> passive; 9.2 -> promoter; 6.9 -> detractor.
    assert _classify([8.8, 9.2, 6.9], scale=["1-10"] * 3) == ["passive", "promoter", "detractor"]
    generous = NpsConfig(review10_promoter_min=8.5, review10_floor=False)
    assert _classify([8.8], scale=["1-10"], config=generous) == ["promoter"]


def test_classify_nps_score_wins_over_stars_and_no_score_is_none() -> None:
    result = _classify([3, None, None], stars=[5, None, 4])
    assert result == ["detractor", None, "passive"]


def test_classify_nps_out_of_range_gets_no_status() -> None:
    assert _classify([11, -1], stars=[None, 7]) == [None, None]


def test_nps_estimate_ten_respondents_by_hand() -> None:
    # 5 promoters, 2 passives, 3 detractors: NPS = 50% - 30% = 20 points.
    # Wald: var = (p + d - (p - d)^2) / n = (0.5 + 0.3 - 0.04) / 10 = 0.076, se = 0.27568,
    #   half width = 1.95996 * 0.27568 = 0.54032 -> [-34.03, 74.03].
    # Adjusted Wald (Rocks 2016): P = 5.75, D = 3.75, n = 13: p = 0.44231, d = 0.28846, centre 0.15385,
    #   var = (0.73077 - 0.02367) / 13 = 0.054392, se = 0.23322, half = 0.45710 -> [-30.33, 61.09].
    classes = ["promoter"] * 5 + ["passive"] * 2 + ["detractor"] * 3
    wald = nps_estimate(classes, method="wald")
    assert (wald.n, wald.promoters, wald.passives, wald.detractors) == (10, 5, 2, 3)
    assert wald.nps == pytest.approx(20.0)
    assert wald.low == pytest.approx(-34.03, abs=0.01)
    assert wald.high == pytest.approx(74.03, abs=0.01)
    adjusted = nps_estimate(classes)
    assert adjusted.method == "adjusted_wald"
    assert adjusted.nps == pytest.approx(20.0)
    assert adjusted.low == pytest.approx(-30.33, abs=0.01)
    assert adjusted.high == pytest.approx(61.09, abs=0.01)


def test_nps_estimate_ignores_unscored_and_handles_no_scores() -> None:
    assert nps_estimate(["promoter", None, float("nan"), "detractor"]).n == 2
    empty = nps_estimate([None, None])
    assert empty.n == 0 and empty.nps is None and empty.low is None and empty.high is None


def test_nps_estimate_all_promoters_has_honest_width() -> None:
    # Wald would give [100, 100]; the adjusted interval is wide at n = 10 and still contains 100.
    estimate = nps_estimate(["promoter"] * 10)
    assert estimate.nps == 100.0
    assert estimate.high == 100.0
    assert estimate.low < 75.0
    assert nps_estimate(["promoter"] * 10, method="wald").low == 100.0


def test_nps_estimate_one_respondent_interval_contains_estimate() -> None:
    estimate = nps_estimate(["detractor"])
    assert estimate.nps == -100.0
    assert estimate.low == -100.0 and estimate.high > 0
    assert math.isfinite(estimate.high)


def test_update_nps_status_writes_and_reruns_change_nothing(store) -> None:
    frame = pd.DataFrame(
        {
            "response_id": ["r1", "r2", "r3", "r4"],
            "score": [10.0, 7.0, None, 8.8],
            "score_scale": ["0-10", "0-10", None, "1-10"],
            "stars": [None, None, 2.0, None],
        }
    )
    store.upsert("responses", frame)
    config = VocmineConfig()
    assert update_nps_status(store, config) == 4
    result = store.df("SELECT response_id, nps_class FROM responses ORDER BY response_id")
    assert result["nps_class"].tolist() == ["promoter", "passive", "detractor", "passive"]
    assert update_nps_status(store, config) == 0
