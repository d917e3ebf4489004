"""Hostile verbatims stay inert end to end: ingest -> store -> REST API -> report and exports (issue 10.3).

The verbatims (tests/data/hostile/verbatims.json) carry <script>, onerror handlers, javascript: links,
=HYPERLINK formulas, SQL and prompt-like instructions, in Spanish and English.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from vocmine.config import VocmineConfig
from vocmine.pipelines.analyze import analyze_store
from vocmine.pipelines.ingest import ingest_paths
from vocmine.pipelines.profiles import load_profile
from vocmine.pipelines.report import build_report
from vocmine.rest import create_app
from vocmine.store import Store

HOSTILE = json.loads((Path(__file__).resolve().parents[1] / "data" / "hostile" / "verbatims.json").read_text("utf-8"))
VERBATIMS = HOSTILE["es"] + HOSTILE["en"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    frame = pd.DataFrame(
        {
            "response_id": [f"h{i}" for i in range(len(VERBATIMS))],
            "date": "2026-03-01",
            "score": [i % 11 for i in range(len(VERBATIMS))],
            "branch": ["<b>Centro</b>", "=1+1", "Norte'; --"] * (len(VERBATIMS) // 3) + ["Sur"] * (len(VERBATIMS) % 3),
            "comment": VERBATIMS,
        }
    )
    path = folder / "hostile.csv"
    frame.to_csv(path, index=False, quoting=csv.QUOTE_ALL)
    config = VocmineConfig(store=folder / "vocmine.duckdb")
    with Store(config.store) as store:
        report = ingest_paths([path], store, profile=load_profile("survey"))
        analyze_store(store, config, steps=["language", "sentences", "nps_status", "kpis"])
        result = build_report(store, config, folder / "out")
        tables = set(store.table_names())
        stored = store.count("responses")
    return {"config": config, "folder": folder, "ingest": report, "result": result, "tables": tables,
            "stored": stored}


def test_hostile_rows_are_all_kept_and_sql_is_data(hostile_store):
    assert hostile_store["ingest"].rejected == 0
    assert hostile_store["stored"] == len(VERBATIMS)
    assert {"responses", "answers", "sentences"} <= hostile_store["tables"]  # "DROP TABLE" did nothing


def test_hostile_report_has_no_live_markup(hostile_store):
    html = Path(hostile_store["result"].html_path).read_text("utf-8")
    assert not re.search(r"<script\b", html, re.IGNORECASE)
    assert not re.search(r"<img\b", html, re.IGNORECASE)
    assert not re.search(r"\son\w+\s*=", html, re.IGNORECASE)
    assert "href=\"javascript:" not in html.lower()
    assert "<h1>Hackeado</h1>" not in html


def test_hostile_exports_neutralise_formulas(hostile_store):
    exports = Path(hostile_store["folder"]) / "out" / "exports"
    for name in ("responses.csv", "sentences.csv"):
        with (exports / name).open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    assert not cell.startswith(FORMULA_START), (name, cell)
    workbook = pd.read_excel(exports / "responses.xlsx", dtype=str)
    for cell in workbook.fillna("").to_numpy().ravel():
        assert not str(cell).startswith(FORMULA_START), cell


def test_hostile_api_returns_inert_json(hostile_store, tmp_path):
    app = create_app(hostile_store["config"])
    with TestClient(app) as client:
        response = client.post("/v1/analyze", json={"texts": [{"text": t} for t in VERBATIMS[:4]]})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        sentences = [s["text"] for r in response.json()["results"] for s in r["sentences"]]
        assert any("alert(1)" in s for s in sentences)  # the text comes back as data, unexecuted
        kpis = client.get("/v1/kpis")
        assert kpis.status_code == 200
        assert kpis.headers["content-type"].startswith("application/json")
