"""NPS impact and driver strength on a 10-respondent fixture computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vocmine.config import NpsConfig, VocmineConfig
from vocmine.pipelines.drivers import (
    _counts,
    _impact_from_weights,
    compute_drivers,
    driver_strength,
    nps_impact,
    write_drivers,
)

# Ten respondents of a Spanish bank branch survey. Themes (columns):
#   espera  ("Esperé 40 minutos en la cola"), mentioned by r5 (passive), r7, r8 (detractors)
#   trato   ("El cajero fue muy borde"),      mentioned by r7, r8 (detractors)
#   todos   (a theme everyone mentions)
#   nadie   (a theme nobody mentions)
CLASSES = ["promoter"] * 5 + ["passive"] * 2 + ["detractor"] * 3
MENTIONS = np.array(
    [
        [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 1, 0], [0, 0, 1, 0],
        [1, 0, 1, 0], [0, 0, 1, 0], [1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 1, 0],
    ]
)


def test_nps_impact_by_hand() -> None:
    impact = nps_impact(CLASSES, MENTIONS, samples=300, seed=7)
    # NPS(all) = (5 - 3) / 10 = 20.
    # espera: not mentioned by r0-r4 (P), r6 (Pa), r9 (D): NPS = (5 - 1) / 7 = 57.14 -> impact 20 - 57.14 = -37.14.
    # trato: not mentioned by 5 P, 2 Pa, r9 D: NPS = (5 - 1) / 8 = 50 -> impact -30.
    assert impact.loc[0, "estimate"] == pytest.approx(20 - 400 / 7)
    assert impact.loc[1, "estimate"] == pytest.approx(-30.0)
    assert impact["mentions"].tolist() == [3, 2, 10, 0]
    assert impact["detractor_mentions"].tolist() == [2, 2, 3, 0]
    assert impact.loc[0, "detractor_share"] == pytest.approx(2 / 3)
    assert impact.loc[0, "low"] <= impact.loc[0, "estimate"] <= impact.loc[0, "high"]
    # A theme everyone mentions has no "did not mention" group; one nobody mentions costs exactly 0.
    assert impact.loc[2, ["estimate", "low", "high"]].isna().all()
    assert impact.loc[3, ["estimate", "low", "high"]].tolist() == [0.0, 0.0, 0.0]


def test_nps_impact_is_reproducible_with_seed() -> None:
    first = nps_impact(CLASSES, MENTIONS, samples=200, seed=3)
    second = nps_impact(CLASSES, MENTIONS, samples=200, seed=3)
    pd.testing.assert_frame_equal(first, second)


def test_nps_impact_all_promoters_and_one_respondent() -> None:
    impact = nps_impact(["promoter"] * 4, np.array([[1], [0], [0], [1]]), samples=50)
    assert impact.loc[0, "estimate"] == 0.0
    assert np.isnan(impact.loc[0, "detractor_share"])
    single = nps_impact(["detractor"], np.array([[1]]), samples=50)
    assert np.isnan(single.loc[0, "estimate"])


def test_nps_impact_bootstrap_arithmetic_matches_the_direct_definition() -> None:
    """The resampled impacts come from one float32 product with the indicators; check them against
    NPS(all) - NPS(did not mention) computed per resample and key in float64."""
    rng = np.random.default_rng(5)
    n, keys = 400, 5
    values = rng.choice([-1.0, 0.0, 1.0], size=n)
    indicators = (rng.random((n, keys)) < [0.0, 0.1, 0.5, 0.9, 1.0]).astype(np.float32)
    weights = _counts(rng.integers(0, n, size=(7, n)), n)
    assert weights.dtype == np.float32 and (weights.sum(axis=1) == n).all()
    fast = _impact_from_weights(weights, values, indicators)
    for r, w in enumerate(weights.astype(float)):
        nps_all = 100 * (w @ values) / w.sum()
        for j in range(keys):
            rest = indicators[:, j] == 0
            expected = nps_all - 100 * (w[rest] @ values[rest]) / w[rest].sum() if w[rest].sum() else np.nan
            assert fast[r, j] == pytest.approx(expected, abs=1e-9, nan_ok=True)


def test_nps_impact_takes_bool_int_or_float_indicators_alike() -> None:
    as_float = nps_impact(CLASSES, MENTIONS.astype(float), samples=100, seed=2)
    pd.testing.assert_frame_equal(nps_impact(CLASSES, MENTIONS.astype(bool), samples=100, seed=2), as_float)
    pd.testing.assert_frame_equal(nps_impact(CLASSES, MENTIONS, samples=100, seed=2), as_float)


def test_driver_strength_collinear_themes_share_the_effect() -> None:
    rng = np.random.default_rng(0)
    n = 600
    cause = rng.random(n) < 0.3
    detractor = np.where(cause, rng.random(n) < 0.7, rng.random(n) < 0.15)
    # "cola" and "espera" are the same complaint in two words: perfectly collinear indicators.
    noise = rng.random(n) < 0.2
    indicators = np.column_stack([cause, cause, noise]).astype(float)
    strength = driver_strength(detractor, indicators, samples=100, seed=1)
    alone = driver_strength(detractor, indicators[:, [0, 2]], samples=100, seed=1)
    # Together the twins split the effect (about half each) instead of each claiming the whole of it.
    assert strength.loc[0, "strength"] == pytest.approx(strength.loc[1, "strength"])
    assert strength.loc[0, "strength"] < 0.75 * alone.loc[0, "strength"]
    assert alone.loc[0, "strength"] == pytest.approx(55.0, abs=10.0)  # true effect 70% - 15% = 55 points
    assert alone.loc[0, "strength_low"] < alone.loc[0, "strength"] < alone.loc[0, "strength_high"]
    assert abs(alone.loc[1, "strength"]) < 10.0


def test_driver_strength_degenerate_cases_are_nan() -> None:
    no_detractors = driver_strength(np.zeros(10, dtype=bool), MENTIONS, samples=20)
    assert no_detractors["strength"].isna().all()
    strength = driver_strength(np.array(CLASSES) == "detractor", MENTIONS, samples=50)
    assert strength.loc[[2, 3], "strength"].isna().all()  # everyone / nobody mentions it
    assert strength.loc[1, "strength"] > 0  # trato: only detractors mention it (finite thanks to the ridge)


def test_compute_drivers_rows_per_level_and_branch() -> None:
    responses = pd.DataFrame(
        {
            "response_id": [f"r{i}" for i in range(11)],
            "nps_class": CLASSES + [None],
            "branch": ["Centro"] * 5 + ["Norte"] * 6,
        }
    )
    mentions = pd.DataFrame(
        {
            "response_id": ["r5", "r7", "r8", "r7", "r8", "r10"],
            "level": ["theme"] * 5 + ["theme"],
            "key": ["t_espera"] * 3 + ["t_trato"] * 2 + ["t_espera"],
            "label": ["Esperas largas en caja"] * 3 + ["Trato borde del cajero"] * 2 + ["Esperas largas en caja"],
            "touchpoint": ["checkout"] * 3 + ["staff"] * 2 + ["checkout"],
        }
    )
    config = VocmineConfig(nps=NpsConfig(bootstrap_samples=100, min_n=5))
    drivers = compute_drivers(responses, mentions, config)
    overall = drivers[(drivers["segment"] == "all") & (drivers["key"] == "t_espera")].iloc[0]
    # r10 has no score: it is not a respondent, so espera has 3 mentions, not 4.
    assert (overall["n"], overall["mentions"], overall["detractor_mentions"]) == (10, 3, 2)
    assert overall["estimate"] == pytest.approx(20 - 400 / 7)
    assert overall["label"] == "Esperas largas en caja" and overall["touchpoint"] == "checkout"
    assert bool(overall["small_n"]) is True  # 3 mentions < min_n 5
    assert set(drivers["segment_value"]) == {"all", "Centro", "Norte"}
    centro = drivers[(drivers["segment_value"] == "Centro") & (drivers["key"] == "t_espera")].iloc[0]
    assert (centro["n"], centro["mentions"], centro["estimate"]) == (5, 0, 0.0)


def test_write_drivers_from_store_rerun_replaces(store) -> None:
    responses = pd.DataFrame(
        {"response_id": [f"r{i}" for i in range(10)], "nps_class": CLASSES, "branch": ["Centro"] * 10}
    )
    store.upsert("responses", responses)
    store.upsert(
        "themes",
        pd.DataFrame({"theme_id": ["t1"], "label": ["Esperas largas en caja"], "touchpoint": ["checkout"]}),
    )
    store.upsert(
        "theme_assignments",
        pd.DataFrame({"sentence_id": ["s5", "s7", "s8"], "response_id": ["r5", "r7", "r8"], "theme_id": "t1"}),
    )
    store.upsert(
        "sentences", pd.DataFrame({"sentence_id": ["s5", "s7", "s8"], "response_id": ["r5", "r7", "r8"]})
    )
    store.upsert(
        "annotations",
        pd.DataFrame(
            {"target_id": ["s7", "s8"], "level": "sentence", "task": "emotion", "label": ["anger", "anger;sadness"]}
        ),
    )
    config = VocmineConfig(nps=NpsConfig(bootstrap_samples=50))
    first = write_drivers(store, config, "run-1")
    assert write_drivers(store, config, "run-2") == first == store.count("drivers")
    table = store.df("SELECT level, key, estimate, small_n FROM drivers WHERE segment = 'all' ORDER BY level, key")
    assert table["level"].tolist() == ["emotion", "emotion", "theme"]
    assert table.loc[2, "estimate"] == pytest.approx(20 - 400 / 7)
    assert table["small_n"].all()


def test_write_drivers_touchpoint_levels_carry_their_own_touchpoint(store) -> None:
    """A touchpoint found by the annotations needs no theme with that touchpoint; a negative sentence's
    touchpoint is also a level of its own."""
    store.upsert("responses", pd.DataFrame({"response_id": [f"r{i}" for i in range(10)], "nps_class": CLASSES}))
    store.upsert("themes", pd.DataFrame({"theme_id": ["t1"], "label": ["Cola en caja"], "touchpoint": ["checkout"]}))
    store.upsert("theme_assignments", pd.DataFrame({"sentence_id": ["s7"], "response_id": ["r7"], "theme_id": "t1"}))
    store.upsert("sentences", pd.DataFrame({"sentence_id": ["s7", "s8"], "response_id": ["r7", "r8"]}))
    store.upsert(
        "annotations",
        pd.DataFrame({
            "target_id": ["s7", "s8", "s7", "s8"], "level": "sentence",
            "task": ["touchpoint", "touchpoint", "sentiment", "sentiment"],
            "label": ["billing;staff", "staff", "negative", "positive"],
        }),
    )
    write_drivers(store, VocmineConfig(nps=NpsConfig(bootstrap_samples=20)))
    table = store.df("SELECT level, key, touchpoint, mentions FROM drivers WHERE segment = 'all' ORDER BY level, key")
    rows = list(table.itertuples(index=False, name=None))
    assert rows == [
        ("theme", "t1", "checkout", 1),
        ("touchpoint", "billing", "billing", 1),
        ("touchpoint", "staff", "staff", 2),
        ("touchpoint_negative", "billing", "billing", 1),
        ("touchpoint_negative", "staff", "staff", 1),
    ]
