"""CLI contract: exit codes 0 ok / 1 rejected (rejects file named on stderr) / 2 usage error."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from vocmine.cli import app

SURVEY = """response_id,date,score,branch,comment
r1,2026-03-02,9,Centro,"El personal fue muy amable, volveré"
r2,2026-03-02,3,Centro,El pedido llegó tarde y nadie contestó
r3,2026-03-05,7,Norte,"Staff were lovely but checkout took ages"
r4,2026-03-06,diez,Norte,Muy caro para lo que ofrecen
r5,2026-03-07,11,Sur,The app crashed at payment
r6,2026-03-08,10,Sur,Excelente atención en tienda
r7,2026-03-09,N/A,Sur,Nobody answered the phone
r8,2026-03-09,8,Centro,Todo correcto
"""


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def survey_file(tmp_path: Path) -> Path:
    path = tmp_path / "survey.csv"
    path.write_text(SURVEY, encoding="utf-8")
    return path


def test_cli_help_everywhere(runner):
    for command in ([], ["ingest"], ["analyze"], ["report"], ["demo"], ["train"], ["evaluate"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, result.output
        assert "Usage" in result.output


def test_cli_ingest_rejects_exit_1_and_keeps_good_rows(runner, survey_file, tmp_path):
    store = tmp_path / "v.duckdb"
    result = runner.invoke(app, ["ingest", str(survey_file), "--profile", "survey", "--store", str(store)])
    assert result.exit_code == 1, result.output
    assert "3 rows rejected" in result.stderr
    assert "rejects file" in result.stderr
    con = duckdb.connect(str(store), read_only=True)
    assert con.execute("SELECT count(*) FROM responses").fetchall()[0][0] == 5
    rejected = con.execute('SELECT row, "column", got FROM rejects ORDER BY row').fetchall()
    con.close()
    assert [(r[0], r[1], r[2]) for r in rejected] == [(5, "score", "diez"), (6, "score", "11"), (8, "score", "N/A")]


def test_cli_ingest_same_file_twice_adds_nothing(runner, tmp_path):
    path = tmp_path / "good.csv"
    path.write_text("\n".join(SURVEY.splitlines()[:4]) + "\n", encoding="utf-8")
    store = tmp_path / "v.duckdb"
    first = runner.invoke(app, ["ingest", str(path), "--profile", "survey", "--store", str(store)])
    second = runner.invoke(app, ["ingest", str(path), "--profile", "survey", "--store", str(store)])
    assert (first.exit_code, second.exit_code) == (0, 0)
    con = duckdb.connect(str(store), read_only=True)
    assert con.execute("SELECT count(*) FROM responses").fetchall()[0][0] == 3
    con.close()
    assert "│        0 │" in second.output  # inserted column of the second run


@pytest.mark.parametrize(
    "args",
    [
        ["ingest", "missing.csv"],
        ["ingest", "{survey}", "--profile", "no-such-profile"],
        ["ingest", "{survey}", "--no-such-flag"],
        ["analyze", "--config", "missing.toml"],
        ["report", "--out", "x", "--store", "missing.duckdb"],
        ["evaluate", "no-such-task"],
        ["train", "component", "--encoder-dir", "models/weights/component_ft/e5_lora"],
    ],
)
def test_cli_usage_errors_exit_2(runner, survey_file, tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    args = [a.replace("{survey}", str(survey_file)) for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    if "--encoder-dir" in args:
        assert "for sentiment, emotion and touchpoints, not 'component'" in result.output


def test_cli_analyze_basic_steps(runner, survey_file, tmp_path):
    store = tmp_path / "v.duckdb"
    runner.invoke(app, ["ingest", str(survey_file), "--profile", "survey", "--store", str(store)])
    result = runner.invoke(
        app, ["analyze", "--store", str(store), "--step", "language", "--step", "sentences", "--step", "nps_status"]
    )
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(store), read_only=True)
    languages = dict(con.execute("SELECT response_id, language FROM responses").fetchall())
    classes = dict(con.execute("SELECT response_id, nps_class FROM responses").fetchall())
    con.close()
    assert languages["survey:r2"] == "es" and languages["survey:r3"] == "en"
    assert (classes["survey:r1"], classes["survey:r2"], classes["survey:r3"]) == ("promoter", "detractor", "passive")


def test_evaluate_table_shows_the_bootstrap_interval_or_a_dash() -> None:
    from rich.console import Console

    from vocmine.cli import _figures_table
    from vocmine.models.metrics import figure_row, figures_frame

    figures = figures_frame([
        figure_row("component", "component_labels", "en", "test", "m", "macro_f1", 0.781, 87, (0.69, 0.86)),
        figure_row("sentiment", "semeval16_es", "es", "test", "m", "ece", 0.033, 814),
    ])
    console = Console(width=200, record=True)
    console.print(_figures_table(figures))
    text = console.export_text()
    assert "95% CI" in text and "ci_low" not in text
    assert "[0.690, 0.860]" in text
    assert "–" in text.splitlines()[[i for i, line in enumerate(text.splitlines()) if "ece" in line][0]]


def test_evaluate_without_the_labelled_data_is_a_usage_error_before_any_model_loads(tmp_path, monkeypatch) -> None:
    from vocmine import registry

    monkeypatch.setattr(registry, "create", lambda *a, **k: pytest.fail("a task was built without its data"))
    result = CliRunner().invoke(app, ["evaluate", "sentiment", "--data", str(tmp_path / "missing")])
    assert result.exit_code == 2 and "labelled data folder" in result.output
