"""Mystery-shopper analysis on the SYNTHETIC fixture (tests/data/mystery_shopper, see generate.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from vocmine.config import NpsConfig, VocmineConfig
from vocmine.pipelines.mystery_shopper import mystery_shopper_report, step_drivers, step_scores
from vocmine.pipelines.profiles import load_profile

FIXTURE = Path(__file__).resolve().parent.parent / "data" / "mystery_shopper"
STEPS = ["greeting", "waiting", "needs", "product", "cleanliness", "closing", "farewell"]
CONFIG = VocmineConfig(nps=NpsConfig(bootstrap_samples=200))


def _long(language: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.read_csv(FIXTURE / f"visits_{language}.csv")
    names = dict(
        zip(STEPS, ["saludo", "espera", "necesidades", "producto", "limpieza", "cierre", "despedida"], strict=True)
    )
    ids = {
        "es": ("id_visita", "sucursal", "vendedor", "puntuacion_global"),
        "en": ("visit_id", "branch", "seller", "overall_score"),
    }[language]
    visits = pd.DataFrame(
        {
            "response_id": frame[ids[0]],
            "branch": frame[ids[1]],
            "seller": frame[ids[2]],
            "score": frame[ids[3]].astype(float),
        }
    )
    rows = []
    for step in STEPS:
        column = f"{names[step]}_puntuacion" if language == "es" else f"{step}_score"
        rows.append(pd.DataFrame({"response_id": frame[ids[0]], "step": step, "score": frame[column].astype(float)}))
    return pd.concat(rows, ignore_index=True), visits


def test_step_scores_by_hand_small_case() -> None:
    steps = pd.DataFrame({"response_id": ["v1", "v2", "v3"], "step": "saludo", "score": [10.0, 8.0, 6.0]})
    visits = pd.DataFrame({"response_id": ["v1", "v2", "v3"], "branch": ["Centro", "Centro", "Norte"]})
    table = step_scores(steps, visits, CONFIG, by=("branch",))
    overall = table[table["segment"] == "all"].iloc[0]
    # mean 8, sd 2, t(0.975, 2) = 4.3027: half width 4.3027 * 2 / sqrt(3) = 4.968; 1 of 3 below 7.
    assert overall["mean"] == pytest.approx(8.0)
    assert overall["high"] - overall["mean"] == pytest.approx(4.968, abs=1e-3)
    assert overall["fail_share"] == pytest.approx(1 / 3)
    norte = table[table["segment_value"] == "Norte"].iloc[0]
    assert norte["n"] == 1 and pd.isna(norte["low"]) and norte["small_n"]


@pytest.mark.parametrize(
    ("language", "slow_branch", "rushed_seller"), [("es", "Centro", "V03"), ("en", "Downtown", "S03")]
)
def test_fixture_story_is_recovered(language: str, slow_branch: str, rushed_seller: str) -> None:
    steps, visits = _long(language)
    table = step_scores(steps, visits, CONFIG)
    waiting = table[(table["step"] == "waiting") & (table["segment"] == "branch")].set_index("segment_value")
    assert waiting["mean"].idxmin() == slow_branch
    closing = table[(table["step"] == "closing") & (table["segment"] == "seller")].set_index("segment_value")
    assert closing["mean"].idxmin() == rushed_seller
    drivers = step_drivers(steps, visits, CONFIG)
    assert set(drivers["step"]) == set(STEPS)
    waiting_driver = drivers.set_index("step").loc["waiting"]
    assert waiting_driver["estimate"] < 0 and waiting_driver["rho"] > 0.3
    assert waiting_driver["mean_overall_failed"] < waiting_driver["mean_overall_passed"]


def test_mystery_shopper_profile_ingests_fixture_and_report_runs(store) -> None:
    from vocmine.pipelines.ingest import ingest_paths

    profile = load_profile("mystery_shopper")
    assert [step.question for step in profile.steps] == STEPS
    report = ingest_paths([FIXTURE / "visits_es.csv", FIXTURE / "visits_en.csv"], store, profile="mystery_shopper")
    assert report.rejected == 0 and store.count("responses") == 100
    tables = mystery_shopper_report(store, CONFIG)
    overall = tables["step_scores"][tables["step_scores"]["segment"] == "all"]
    assert set(overall["step"]) == set(STEPS)
    assert (overall["n"] > 50).all()
    assert not tables["step_drivers"].empty
