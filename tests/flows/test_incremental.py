"""Incremental folder ingest and analysis (plain stages), and analyze-new on a 2-worker Dask LocalCluster
giving the same annotations as the single-process run."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from vocmine.config import VocmineConfig
from vocmine.flows import stages
from vocmine.flows.folder import data_files, is_stable
from vocmine.store import Store

FILE_A = """response_id,date,score,branch,comment
a1,2026-03-02,9,Centro,"El personal fue muy amable, volveré"
a2,2026-03-02,3,Centro,El pedido llegó tarde y nadie contestó. Muy mal servicio.
a3,2026-03-05,7,Norte,Staff were lovely but checkout took ages
"""
FILE_B = """response_id,date,score,branch,comment
b1,2026-04-06,10,Norte,Excelente atención en tienda
b2,2026-04-07,2,Sur,The app crashed at payment and nobody called back
"""
CHEAP = ["language", "sentences", "nps_status", "kpis"]


def _write_old(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    old = time.time() - 120
    os.utime(path, (old, old))


def _once(folder: Path, config: VocmineConfig, out: Path) -> dict:
    return stages.run_folder_once(folder, config, out, profile="survey", steps=CHEAP, settle_seconds=5)


def test_incremental_second_run_ingests_and_analyses_nothing(tmp_path: Path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    _write_old(folder / "a.csv", FILE_A)
    config = VocmineConfig(store=tmp_path / "v.duckdb")
    first = _once(folder, config, tmp_path / "out")
    assert (first["ingest"]["files_ingested"], first["ingest"]["inserted"]) == (1, 3)
    assert first["prepare"]["steps"]["sentences"]["answers"] == 3

    second = _once(folder, config, tmp_path / "out")
    assert (second["ingest"]["files_ingested"], second["ingest"]["files_unchanged"]) == (0, 1)
    assert second["prepare"]["steps"]["sentences"]["answers"] == 0
    assert second["refresh"]["refreshed"] is False and second["rebuilt"] is False

    _write_old(folder / "b.csv", FILE_B)
    third = _once(folder, config, tmp_path / "out")
    assert (third["ingest"]["files_ingested"], third["ingest"]["inserted"]) == (1, 2)
    assert third["prepare"]["steps"]["sentences"]["answers"] == 2  # only the new file's responses
    assert third["refresh"]["refreshed"] is True
    assert third["counts"]["responses"] == 5


def test_incremental_half_written_file_waits_until_stable(tmp_path: Path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "fresh.csv").write_text(FILE_A[:80], encoding="utf-8")  # still being written
    (folder / "~$export.xlsx").write_bytes(b"lock")
    (folder / "upload.csv.part").write_text(FILE_B, encoding="utf-8")
    assert [p.name for p in data_files(folder)] == ["fresh.csv"]
    assert not is_stable(folder / "fresh.csv", settle_seconds=5)
    with Store(tmp_path / "v.duckdb") as store:
        totals = stages.ingest_new_files(store, folder, "survey", settle_seconds=5)
        assert (totals["files_unstable"], totals["files_ingested"], store.count("responses")) == (1, 0, 0)


@pytest.fixture(scope="module")
def harness():
    from vocmine.flows.settings import configure_prefect_defaults

    configure_prefect_defaults()
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


def _annotations(path: Path) -> list[tuple]:
    with Store(path, read_only=True) as store:
        return [tuple(r) for r in store.con.execute(
            "SELECT target_id, level, task, label, scores FROM annotations ORDER BY target_id, level, task"
        ).fetchall()]


def test_incremental_dask_local_cluster_equals_plain_run(harness, tmp_path: Path):
    from vocmine.flows import incremental

    runs = {}
    for mode in ("plain", "dask"):
        folder = tmp_path / mode / "inbox"
        folder.mkdir(parents=True)
        _write_old(folder / "a.csv", FILE_A)
        _write_old(folder / "b.csv", FILE_B)
        config = VocmineConfig(store=tmp_path / mode / "v.duckdb")
        config.analysis.batch_size = 2
        with Store(config.store) as store:
            stages.ingest_new_files(store, folder, "survey", settle_seconds=0)
            stages.prepare_new(store, config, ["language", "sentences", "nps_status"])
        runs[mode] = config.store
    plain_config = VocmineConfig(store=runs["plain"])
    plain_config.analysis.batch_size = 2
    with Store(runs["plain"]) as store:
        stages.annotate_new(store, plain_config, ["sentiment"])
    config_file = tmp_path / "vocmine.toml"
    config_file.write_text("[analysis]\nbatch_size = 2\n", encoding="utf-8")
    result = incremental.run_analyze_new(str(runs["dask"]), str(config_file), ["sentiment"], dask="local:2")
    assert result["steps"]["sentiment"]["batches"] >= 3
    assert _annotations(runs["dask"]) == _annotations(runs["plain"])
    assert len(_annotations(runs["plain"])) > 0
