"""Fault tolerance: kill -9 the incremental pipeline in a subprocess at points inside ingest, analysis and
the report, rerun, and compare the store with an uninterrupted run.

Each kill point pauses the child INSIDE an open store transaction (or half-way through writing the
report), the test sends SIGKILL, and the next run must pick up where the dead one stopped: no response
lost, none duplicated, no half-written batch of annotations, and a complete report.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[2]

FILE_A = """response_id,date,score,branch,comment
a1,2026-03-02,9,Centro,"El personal fue muy amable, volveré"
a2,2026-03-02,3,Centro,El pedido llegó tarde y nadie contestó. Muy mal servicio.
a3,2026-03-05,7,Norte,Staff were lovely but checkout took ages
"""
FILE_B = """response_id,date,score,branch,comment
b1,2026-04-06,10,Norte,Excelente atención en tienda
b2,2026-04-07,2,Sur,The app crashed at payment and nobody called back. Never again.
b3,2026-04-08,6,Sur,"Precio alto, pero la entrega fue rápida"
"""

DRIVER = r'''
import json, os, sys, time
from pathlib import Path

from vocmine.config import VocmineConfig
from vocmine.store import Store
from vocmine.flows import stages

folder, store_path, out_dir, pause = sys.argv[1:5]
marker = Path(store_path).parent / "paused"

def pause_here():
    marker.write_text("paused")
    time.sleep(300)

if pause.startswith("upsert:"):
    _, table, nth = pause.split(":")
    original = Store.upsert
    calls = {"n": 0}
    def upsert(self, name, frame):
        result = original(self, name, frame)  # written, but the transaction is still open
        if name == table:
            calls["n"] += 1
            if calls["n"] == int(nth):
                pause_here()
        return result
    Store.upsert = upsert
elif pause == "report":
    import vocmine.pipelines.report as report
    def half_written(store, config, out):
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / "report.html").write_text("<!doctype html><html><body><h1>NPS", encoding="utf-8")
        pause_here()
    report.build_report = half_written

config = VocmineConfig(store=Path(store_path))
config.analysis.batch_size = 2
steps = ["language", "sentences", "nps_status", "sentiment", "kpis"]
result = stages.run_folder_once(Path(folder), config, Path(out_dir), profile="survey", steps=steps,
                                settle_seconds=0)
print(json.dumps(result["counts"]))
'''

#: Where the child is killed, in order; each run resumes from what the previous one committed.
KILL_POINTS = [
    "upsert:answers:2",       # ingest: inside the second file's transaction
    "upsert:sentences:1",     # analysis: inside the sentence-splitting transaction
    "upsert:annotations:2",   # analysis: inside the second sentiment batch's transaction
    "report",                 # report: half-way through writing report.html
]


def _run(tmp: Path, folder: Path, store: Path, out: Path, pause: str, kill: bool) -> subprocess.CompletedProcess | None:
    driver = tmp / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    marker = store.parent / "paused"
    marker.unlink(missing_ok=True)
    command = [sys.executable, str(driver), str(folder), str(store), str(out), pause]
    if not kill:
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=True)
    child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not marker.exists():
        if child.poll() is not None:
            pytest.fail(f"child ended before kill point {pause}: {child.stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            child.kill()
            pytest.fail(f"kill point {pause} not reached in time")
        time.sleep(0.1)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return None


def _snapshot(store: Path) -> dict[str, object]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                  for t in ("sources", "responses", "answers", "sentences", "annotations", "embeddings", "kpis")}
        distinct = con.execute("SELECT count(DISTINCT response_id) FROM responses").fetchall()[0][0]
        labels = con.execute(
            "SELECT target_id, level, task, label FROM annotations ORDER BY target_id, level, task"
        ).fetchall()
        half = con.execute(
            "SELECT count(*) FROM sentences s WHERE NOT EXISTS (SELECT 1 FROM annotations a WHERE "
            "a.target_id = s.sentence_id AND a.task = 'sentiment' AND a.level = 'sentence')"
        ).fetchall()[0][0]
        unlabelled = con.execute("SELECT count(*) FROM annotations WHERE label IS NULL AND skip_reason IS NULL"
                                 ).fetchall()[0][0]
    finally:
        con.close()
    return {"counts": counts, "distinct_responses": distinct, "labels": labels, "unannotated": half,
            "unlabelled": unlabelled}


def _folder(tmp: Path) -> Path:
    folder = tmp / "inbox"
    folder.mkdir()
    for name, text in (("a.csv", FILE_A), ("b.csv", FILE_B)):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        old = time.time() - 120
        os.utime(path, (old, old))
    return folder


def test_kill_and_rerun_equals_uninterrupted_run(tmp_path: Path):
    reference_dir = tmp_path / "reference"
    reference_dir.mkdir()
    folder = _folder(reference_dir)
    _run(reference_dir, folder, reference_dir / "v.duckdb", reference_dir / "out", "none", kill=False)
    expected = _snapshot(reference_dir / "v.duckdb")

    killed_dir = tmp_path / "killed"
    killed_dir.mkdir()
    folder = _folder(killed_dir)
    store, out = killed_dir / "v.duckdb", killed_dir / "out"
    for point in KILL_POINTS:
        _run(killed_dir, folder, store, out, point, kill=True)
    finished = _run(killed_dir, folder, store, out, "none", kill=False)
    got = _snapshot(store)

    assert json.loads(finished.stdout.strip().splitlines()[-1]) == got["counts"]
    assert got["counts"] == expected["counts"]
    assert got["counts"]["responses"] == got["distinct_responses"] == 6
    assert got["labels"] == expected["labels"]
    assert got["unannotated"] == 0 and got["unlabelled"] == 0
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.rstrip().endswith("</html>") and len(html) > 1000
