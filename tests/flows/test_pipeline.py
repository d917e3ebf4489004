"""The vocmine-pipeline flow, in-process under Prefect's test harness (a temporary local API)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from vocmine.flows.settings import configure_prefect_defaults

configure_prefect_defaults()

from prefect.testing.utilities import prefect_test_harness  # noqa: E402

from vocmine.flows import pipeline  # noqa: E402

SURVEY = """response_id,date,score,branch,comment
r1,2026-03-02,9,Centro,"El personal fue muy amable, volveré"
r2,2026-03-02,3,Centro,El pedido llegó tarde y nadie contestó. Muy mal servicio.
r3,2026-03-05,7,Norte,Staff were lovely but checkout took ages
r4,2026-04-06,10,Norte,Excelente atención en tienda
r5,2026-04-07,2,Sur,The app crashed at payment and nobody called back
"""

BASIC_STEPS = ["language", "sentences", "nps_status", "kpis"]


@pytest.fixture(scope="module")
def harness():
    with prefect_test_harness(server_startup_timeout=180):
        yield


def test_flow_pipeline_runs_ingest_analyze_report(harness, tmp_path: Path):
    data = tmp_path / "survey.csv"
    data.write_text(SURVEY, encoding="utf-8")
    out = tmp_path / "out"
    store = out / "vocmine.duckdb"
    result = pipeline.vocmine_pipeline(
        sources=[{"paths": [str(data)], "profile": "survey"}],
        out_dir=str(out),
        store_path=str(store),
        steps=BASIC_STEPS,
    )
    assert result["ingest"]["inserted"] == 5
    assert Path(result["report"]).is_file()
    assert (out / "exports" / "responses.csv").is_file()
    con = duckdb.connect(str(store), read_only=True)
    assert con.execute("SELECT count(*) FROM responses").fetchall()[0][0] == 5
    assert con.execute("SELECT count(*) FROM sentences").fetchall()[0][0] >= 6
    assert con.execute("SELECT count(*) FROM responses WHERE nps_class IS NULL").fetchall()[0][0] == 0
    con.close()

    # A second run over the same file adds nothing and analyses nothing new.
    again = pipeline.vocmine_pipeline(
        sources=[{"paths": [str(data)], "profile": "survey"}],
        out_dir=str(out),
        store_path=str(store),
        steps=BASIC_STEPS,
    )
    assert again["ingest"]["inserted"] == 0
    assert again["analyze"]["steps"]["sentences"]["sentences"] == 0


def test_flow_tasks_are_thin_wrappers(tmp_path: Path):
    """Task logic is testable without a flow run through .fn()."""
    from prefect.logging import disable_run_logger

    from vocmine.config import VocmineConfig

    data = tmp_path / "survey.csv"
    data.write_text(SURVEY, encoding="utf-8")
    config = VocmineConfig(store=tmp_path / "v.duckdb")
    with disable_run_logger():
        totals = pipeline.ingest_task.fn([{"paths": [str(data)], "profile": "survey"}], config)
    assert (totals["inserted"], totals["rejected"], totals["responses"]) == (5, 0, 5)
