"""The REST service through FastAPI's TestClient: models load once per module, real annotators."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from vocmine.config import VocmineConfig
from vocmine.rest import Limits, TextAnalyzer, create_app

LIMITS = Limits(max_texts=4, max_chars_per_text=400, max_total_chars=1_000, max_body_bytes=20_000)


@pytest.fixture(scope="module")
def analyzer() -> TextAnalyzer:
    return TextAnalyzer(VocmineConfig())


@pytest.fixture
def client(analyzer: TextAnalyzer, tmp_path: Path):
    app = create_app(VocmineConfig(store=tmp_path / "missing.duckdb"), LIMITS, analyzer=analyzer)
    with TestClient(app) as opened:
        yield opened


def test_rest_analyze_spanish_and_english(client: TestClient):
    body = {"texts": [
        {"text": "El pedido llegó tarde y nadie contestó. Escríbanme a ana.perez@example.com", "language": "es"},
        {"text": "Staff were lovely but checkout took ages."},
    ]}
    response = client.post("/v1/analyze", json=body)
    assert response.status_code == 200, response.text
    payload = response.json()
    spanish, english = payload["results"]
    assert "example.com" not in response.text  # redacted before anything is returned
    assert spanish["language"] == "es" and english["language"] == "en"
    assert len(spanish["sentences"]) == 2
    for result in (spanish, english):
        for task in payload["models"]:
            prediction = result["predictions"][task]
            assert prediction["scores"], task
            assert all(s["predictions"][task]["scores"] for s in result["sentences"])
    tasks = set(payload["models"]) | set(payload["unavailable"])
    assert tasks == {"sentiment", "emotion", "component", "touchpoint"}
    if "sentiment" in payload["models"]:
        sentiment = spanish["predictions"]["sentiment"]
        assert sentiment["label"] in sentiment["scores"]
        assert abs(sum(sentiment["scores"].values()) - 1.0) < 1e-3


def test_rest_bad_json_is_422(client: TestClient):
    response = client.post("/v1/analyze", content=b'{"texts": [', headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert client.post("/v1/analyze", json={"texts": [{"txt": "hola"}]}).status_code == 422


def test_rest_empty_text_is_422(client: TestClient):
    response = client.post("/v1/analyze", json={"texts": [{"text": "Bien"}, {"text": "   "}]})
    assert response.status_code == 422
    assert "texts[1]" in response.json()["detail"]
    assert client.post("/v1/analyze", json={"texts": []}).status_code == 422


def test_rest_too_many_texts_is_413(client: TestClient):
    response = client.post("/v1/analyze", json={"texts": [{"text": "Muy bien"}] * 5})
    assert response.status_code == 413
    assert "limit is 4" in response.json()["detail"]


def test_rest_huge_text_is_413(client: TestClient):
    response = client.post("/v1/analyze", json={"texts": [{"text": "Tardaron muchísimo. " * 30}]})
    assert response.status_code == 413
    assert "characters" in response.json()["detail"]
    body = client.post("/v1/analyze", json={"texts": [{"text": "x" * 30_000}]})
    assert body.status_code == 413


def test_rest_healthz_and_openapi(client: TestClient):
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["store_exists"] is False
    schema = client.get("/openapi.json").json()
    assert {"/v1/analyze", "/v1/kpis", "/v1/themes", "/healthz"} <= set(schema["paths"])


def test_rest_kpis_and_themes_need_a_store(client: TestClient):
    assert client.get("/v1/kpis").status_code == 404


def test_rest_kpis_and_themes_filters(analyzer: TextAnalyzer, tmp_path: Path):
    import pandas as pd

    from vocmine.store import Store

    path = tmp_path / "v.duckdb"
    with Store(path) as store:
        store.upsert("kpis", pd.DataFrame([
            {"segment": "branch", "segment_value": "Centro", "period": "all", "n": 40, "estimate": -12.5},
            {"segment": "branch", "segment_value": "Norte", "period": "all", "n": 12, "estimate": 20.0},
            {"segment": "all", "segment_value": "all", "period": "2026-03", "n": 52, "estimate": -5.0},
        ]))
        store.upsert("responses", pd.DataFrame([
            {"response_id": "s:1", "branch": "Centro", "created_at": pd.Timestamp("2026-03-02")},
            {"response_id": "s:2", "branch": "Norte", "created_at": pd.Timestamp("2026-04-02")},
        ]))
        store.upsert("themes", pd.DataFrame([
            {"theme_id": "t1", "touchpoint": "delivery", "label": "<b>pedido tarde</b>", "respondents": 2,
             "verbatims": '["El pedido llegó tarde <script>"]'},
            {"theme_id": "t2", "touchpoint": "staff", "label": "personal amable", "respondents": 1},
        ]))
        store.upsert("theme_assignments", pd.DataFrame([
            {"sentence_id": "a:0", "response_id": "s:1", "theme_id": "t1"},
            {"sentence_id": "b:0", "response_id": "s:2", "theme_id": "t1"},
            {"sentence_id": "b:1", "response_id": "s:2", "theme_id": "t2"},
        ]))
    app = create_app(VocmineConfig(store=path), LIMITS, analyzer=analyzer)
    with TestClient(app) as client:
        branch = client.get("/v1/kpis", params={"branch": "Centro"}).json()["kpis"]
        assert [(k["segment_value"], k["n"]) for k in branch] == [("Centro", 40)]
        assert len(client.get("/v1/kpis", params={"period": "2026-03"}).json()["kpis"]) == 1
        themes = client.get("/v1/themes").json()["themes"]
        assert [t["theme_id"] for t in themes] == ["t1", "t2"]
        assert themes[0]["verbatims"] == ["El pedido llegó tarde <script>"]  # JSON data, not HTML
        staff = client.get("/v1/themes", params={"touchpoint": "staff"}).json()["themes"]
        assert [t["theme_id"] for t in staff] == ["t2"]
        north = client.get("/v1/themes", params={"branch": "Norte"}).json()["themes"]
        assert {t["theme_id"]: t["scoped_respondents"] for t in north} == {"t1": 1, "t2": 1}
        march = client.get("/v1/themes", params={"period": "2026-03"}).json()["themes"]
        assert [t["theme_id"] for t in march] == ["t1"]


