"""Exports: every table in CSV (UTF-8 with BOM), Parquet and XLSX; spreadsheet formulas neutralised."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from vocmine.config import VocmineConfig
from vocmine.pipelines.exports import ExportError, export_tables, neutralise_cell, neutralise_frame

REPO = Path(__file__).resolve().parents[2]
TABLES = ("responses", "sentences", "themes", "drivers", "kpis")
SENTENCE_COLUMNS = [
    "sentence_id", "response_id", "answer_id", "position", "language", "text", "sentiment", "p_negative",
    "p_neutral", "p_positive", "emotions", "component", "touchpoints", "theme_id", "theme",
]  # fmt: skip
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def _builder():
    spec = importlib.util.spec_from_file_location("hostile_build", REPO / "tests" / "data" / "hostile" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILDER = _builder()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    from vocmine.store import Store

    base = tmp_path_factory.mktemp("exports")
    with Store(base / "store.duckdb") as store:
        BUILDER.build_sample_store(store, n_responses=120, seed=11)
        paths = export_tables(store, VocmineConfig(), base / "exports")
    return base / "exports", paths


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x","click") el precio', '\'=HYPERLINK("http://x","click") el precio'),
        ("+cmd|' /C calc'!A0 staff were rude", "'+cmd|' /C calc'!A0 staff were rude"),
        ("@SUM(1) nadie me atendió", "'@SUM(1) nadie me atendió"),
        ("-2+3 items missing", "'-2+3 items missing"),
        ("\tTabulador inicial", "'\tTabulador inicial"),
        ("\rRetorno de carro", "'\rRetorno de carro"),
        ("  =1+1", "'  =1+1"),
        ("El pedido llegó tarde y nadie contestó.", "El pedido llegó tarde y nadie contestó."),
        ("Staff were lovely but checkout took ages", "Staff were lovely but checkout took ages"),
        ("'; DROP TABLE responses; --", "'; DROP TABLE responses; --"),
        ("", ""),
        (None, None),
        (-3, -3),
        (-2.5, -2.5),
    ],
)
def test_neutralise_cell(value: object, expected: object) -> None:
    assert neutralise_cell(value) == expected


def test_neutralise_frame_touches_text_only() -> None:
    frame = pd.DataFrame({"text": ["=1+1", "hola"], "score": [-1.0, 9.0], "=col": ["a", "b"]})
    safe = neutralise_frame(frame)
    assert list(safe["text"]) == ["'=1+1", "hola"] and list(safe["score"]) == [-1.0, 9.0]
    assert list(safe.columns) == ["text", "score", "'=col"]
    assert list(frame["text"]) == ["=1+1", "hola"]  # the input frame is left as it was


def test_export_tables_writes_every_table_and_format(exported) -> None:
    folder, paths = exported
    assert sorted(p.name for p in paths) == sorted(f"{t}.{f}" for t in TABLES for f in ("csv", "parquet", "xlsx"))
    assert all(p.exists() and p.parent == folder for p in paths)
    sentences = pd.read_parquet(folder / "sentences.parquet")
    assert list(sentences.columns) == SENTENCE_COLUMNS
    annotated = sentences.dropna(subset=["sentiment"])
    assert len(annotated) > 100
    assert ((annotated[["p_negative", "p_neutral", "p_positive"]].sum(axis=1) - 1).abs() < 1e-3).all()
    assert annotated["touchpoints"].notna().all() and annotated["theme"].notna().all()
    responses = pd.read_parquet(folder / "responses.parquet")
    assert len(responses) == 120 and responses["text"].notna().all() and "centroid" not in pd.read_parquet(
        folder / "themes.parquet"
    )
    kpis = pd.read_parquet(folder / "kpis.parquet")
    assert {"segment", "segment_value", "period", "n", "estimate", "low", "high", "small_n"} <= set(kpis.columns)
    drivers = pd.read_parquet(folder / "drivers.parquet")
    assert (drivers["level"] == "theme").sum() == len(pd.read_parquet(folder / "themes.parquet"))


def test_csv_is_utf8_with_bom_and_neutralised(exported) -> None:
    folder, _ = exported
    raw = (folder / "sentences.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(folder / "sentences.csv", encoding="utf-8-sig", keep_default_na=False)
    texts = frame["text"].astype(str)
    assert texts.str.contains("llegó|atención|contestó").any()  # accents survive
    assert not texts.str.startswith(DANGEROUS).any()
    hostile = texts[texts.str.contains("HYPERLINK|cmd\\||@SUM|-2\\+3", regex=True)]
    assert len(hostile) >= 4 and hostile.str.startswith("'").all()
    responses = pd.read_csv(folder / "responses.csv", encoding="utf-8-sig", keep_default_na=False)
    assert len(responses) == 120  # a carriage return inside a verbatim does not split its row
    assert not responses["text"].astype(str).str.startswith(DANGEROUS).any()
    assert pd.to_numeric(responses["score"]).between(0, 10).all()  # numbers stay numbers


def test_parquet_keeps_raw_text(exported) -> None:
    folder, _ = exported
    texts = pd.read_parquet(folder / "sentences.parquet")["text"]
    assert texts.str.startswith('=HYPERLINK("http://x","click")').sum() >= 1


def test_xlsx_has_no_formulas(exported) -> None:
    folder, _ = exported
    for table in ("responses", "sentences", "themes"):
        book = openpyxl.load_workbook(folder / f"{table}.xlsx")
        sheet = book[table]
        values = []
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (table, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    values.append(cell.value)
        assert not any(v.startswith(DANGEROUS) for v in values), table
    sentences = [c.value for c in openpyxl.load_workbook(folder / "sentences.xlsx")["sentences"]["F"]]
    assert any(isinstance(v, str) and v.startswith("'=HYPERLINK(") for v in sentences)
    assert any(isinstance(v, str) and "ó" in v for v in sentences)  # accents, no mojibake


def test_export_formats_subset_and_unknown(store, tmp_path: Path) -> None:
    paths = export_tables(store, VocmineConfig(), tmp_path / "only_csv", formats=["csv"])
    assert sorted(p.name for p in paths) == sorted(f"{t}.csv" for t in TABLES)
    header = (tmp_path / "only_csv" / "sentences.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.split(",") == SENTENCE_COLUMNS  # empty store: header only, still written
    with pytest.raises(ExportError, match="unknown export format"):
        export_tables(store, VocmineConfig(), tmp_path / "bad", formats=["pdf"])
