"""Homogeneity of branches: network test and the branches that stand out."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vocmine.config import VocmineConfig
from vocmine.pipelines.homogeneity import benjamini_hochberg, homogeneity_test, standout_groups


def _network(counts: dict[str, tuple[int, int, int]]) -> tuple[pd.Series, pd.Series]:
    classes, groups = [], []
    for branch, (promoters, passives, detractors) in counts.items():
        classes += ["promoter"] * promoters + ["passive"] * passives + ["detractor"] * detractors
        groups += [branch] * (promoters + passives + detractors)
    return pd.Series(classes, dtype=object), pd.Series(groups, dtype=object)


def test_homogeneity_test_chi_square_by_hand() -> None:
    # 2 x 3 table: Madrid (30, 10, 10), Sevilla (10, 10, 30). Column totals 40, 20, 40; every expected
    # count is 20, 10, 20: chi2 = 2 * (100/20 + 0/10 + 100/20) = 20, dof 2, p = exp(-10) = 4.54e-5.
    classes, groups = _network({"Madrid": (30, 10, 10), "Sevilla": (10, 10, 30)})
    result = homogeneity_test(classes, groups)
    assert result.method == "chi-square"
    assert result.statistic == pytest.approx(20.0)
    assert result.dof == 2
    assert result.p_value == pytest.approx(np.exp(-10), rel=1e-6)


def test_homogeneity_test_small_counts_use_permutation_and_is_seeded() -> None:
    classes, groups = _network({"Centro": (3, 1, 0), "Norte": (0, 1, 3), "Sur": (2, 1, 1)})
    first = homogeneity_test(classes, groups, samples=500, seed=5)
    assert first.method == "monte-carlo permutation"
    assert 0 < first.p_value < 1
    assert homogeneity_test(classes, groups, samples=500, seed=5).p_value == first.p_value


def test_homogeneity_test_single_branch_or_all_promoters_not_testable() -> None:
    classes, groups = _network({"Centro": (5, 0, 0), "Norte": (7, 0, 0)})
    assert homogeneity_test(classes, groups).p_value is None
    classes, groups = _network({"Centro": (5, 2, 1)})
    assert homogeneity_test(classes, groups).method == "not testable"


def test_standout_groups_flags_the_weak_branch() -> None:
    counts = {f"Tienda {i}": (60, 25, 15) for i in range(6)}
    counts["Tienda Aeropuerto"] = (20, 20, 60)
    counts["Tienda Nueva"] = (0, 0, 1)  # one detractor review is no evidence: must not be flagged
    classes, groups = _network(counts)
    table = standout_groups(classes, groups, VocmineConfig())
    by_name = table.set_index("segment_value")
    worst = by_name.loc["Tienda Aeropuerto"]
    # Airport: NPS 20 - 60 = -40; rest: 360 P, 91 D of 601 -> 44.76; difference -84.76.
    assert worst["nps"] == pytest.approx(-40.0)
    assert worst["rest_nps"] == pytest.approx(100 * 269 / 601)
    assert worst["difference"] == pytest.approx(-40 - 100 * 269 / 601)
    assert worst["high"] < 0 and worst["flag"] == "below"
    assert by_name.drop(index="Tienda Aeropuerto")["flag"].isna().all()
    assert by_name.loc["Tienda Nueva", "small_n"]


def test_benjamini_hochberg_by_hand() -> None:
    # p = 0.01, 0.04, 0.03, NaN: sorted 0.01, 0.03, 0.04 -> 0.03, 0.045, 0.04 -> monotone 0.03, 0.04, 0.04.
    adjusted = benjamini_hochberg(np.array([0.01, 0.04, 0.03, np.nan]))
    np.testing.assert_allclose(adjusted[:3], [0.03, 0.04, 0.04])
    assert np.isnan(adjusted[3])
