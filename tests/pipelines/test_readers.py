"""Readers: every format and encoding a CX export comes in, read as strings with user-visible row numbers."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from vocmine.errors import UnreadableFileError
from vocmine.pipelines.readers import detect_encoding, read_table, sniff_delimiter

ROWS_ES = "id,comentario,nota\n1,La atención fue pésima,3\n2,Muy rápido y amable,10\n"


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("cp1252", "cp1252")],
)
def test_read_table_encodings_keep_accents(tmp_path: Path, encoding: str, expected: str) -> None:
    path = tmp_path / "encuesta.csv"
    path.write_bytes(ROWS_ES.encode(encoding))
    table = read_table(path)
    assert table.encoding == expected
    assert table.columns == ("id", "comentario", "nota")
    assert table.records[0].values["comentario"] == "La atención fue pésima"
    assert [r.row for r in table.records] == [2, 3]


def test_detect_encoding_latin1_with_c1_free_bytes_reads_same_as_cp1252() -> None:
    data = "Atención: niño, año".encode("latin-1")
    assert data.decode(detect_encoding(data)) == "Atención: niño, año"


def test_detect_encoding_cp1252_curly_quotes_and_euro() -> None:
    data = "“Caro”: 20 €".encode("cp1252")
    assert detect_encoding(data) == "cp1252"
    assert data.decode("cp1252") == "“Caro”: 20 €"


def test_detect_encoding_utf16_without_bom() -> None:
    data = "id\tcomment\n1\thola\n".encode("utf-16-le")
    assert detect_encoding(data) == "utf-16-le"


@pytest.mark.parametrize(("delimiter", "name"), [(",", "a.csv"), (";", "a.csv"), ("\t", "a.txt"), ("|", "a.csv")])
def test_read_table_sniffs_delimiter(tmp_path: Path, delimiter: str, name: str) -> None:
    text = delimiter.join(["id", "score", "text"]) + "\n"
    text += delimiter.join(["1", "9,5" if delimiter != "," else '"9,5"', "Great, quick service"]) + "\n"
    text += delimiter.join(["2", "7", "Slow checkout"]) + "\n"
    if delimiter == ",":
        text = text.replace("Great, quick service", '"Great, quick service"')
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    table = read_table(path)
    assert table.delimiter == delimiter
    assert table.records[0].values == {"id": "1", "score": "9,5", "text": "Great, quick service"}


def test_sniff_delimiter_prefers_semicolon_with_decimal_commas() -> None:
    lines = ["id;nota;texto\n", "1;9,5;Bien\n", "2;7,0;Regular, nada más\n"]
    assert sniff_delimiter(lines) == ";"


def test_read_table_keeps_na_as_text_and_leading_zeros(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,text,branch\n007,NA,NULL\n", encoding="utf-8")
    values = read_table(path).records[0].values
    assert values == {"id": "007", "text": "NA", "branch": "NULL"}


def test_read_table_quoted_newline_counts_one_spreadsheet_row(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text('id,text\n1,"line one\nline two"\n2,next\n', encoding="utf-8")
    table = read_table(path)
    assert [r.row for r in table.records] == [2, 3]
    assert table.records[0].values["text"] == "line one\nline two"


def test_read_table_broken_quote_rejects_only_that_row(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text('id,text,score\n1,"never closed,9\n2,fine,8\n3,also fine,7\n', encoding="utf-8")
    table = read_table(path)
    assert [r.values["id"] for r in table.records] == ["2", "3"]
    assert [p.row for p in table.problems] == [2]
    assert "quoted cell is never closed" in table.problems[0].message


def test_read_table_ragged_rows_pad_short_and_reject_long(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,text,score\n1,short\n2,long,9,extra\n3,ok,7,\n", encoding="utf-8")
    table = read_table(path)
    assert [r.values for r in table.records] == [
        {"id": "1", "text": "short", "score": ""},
        {"id": "3", "text": "ok", "score": "7"},
    ]
    assert table.problems[0].row == 3
    assert table.problems[0].expected == "3 cells"


def test_read_table_txt_without_delimiter_is_one_comment_per_line(tmp_path: Path) -> None:
    path = tmp_path / "comentarios.txt"
    path.write_text("El pedido llegó tarde\n\nStaff were lovely\n", encoding="utf-8")
    table = read_table(path)
    assert table.columns == ("text",)
    rows = [(r.row, r.values["text"]) for r in table.records]
    assert rows == [(1, "El pedido llegó tarde"), (3, "Staff were lovely")]


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"", "empty"), (b"   \n\n", "empty"), (b"id,text\n", "no data rows"), (bytes(range(256)) * 4, "binary")],
)
def test_read_table_unreadable_files_name_file_and_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(content)
    with pytest.raises(UnreadableFileError, match=rf"export\.csv.*{reason}"):
        read_table(path)


def test_read_table_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="does not exist"):
        read_table(tmp_path / "nope.csv")


def _workbook(path: Path) -> None:
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "Notas"
    notes.append(["exportado el 2024-03-01"])
    data = workbook.create_sheet("Respuestas")
    data.append(["ID", "Comentarios", None, "Nota"])
    data.append([None, "Positivo", "Negativo", None])
    data.merge_cells("B1:C1")
    data.merge_cells("A1:A2")
    data.merge_cells("D1:D2")
    data.append([1, "Muy amables", "La cola", 9])
    data.append([2, None, "Caro", 4.5])
    workbook.save(path)


def test_read_table_xlsx_named_sheet_and_merged_header(tmp_path: Path) -> None:
    path = tmp_path / "encuesta.xlsx"
    _workbook(path)
    table = read_table(path, sheet="Respuestas")
    assert table.columns == ("ID", "Comentarios / Positivo", "Comentarios / Negativo", "Nota")
    assert [r.row for r in table.records] == [3, 4]
    assert table.records[0].values == {
        "ID": "1", "Comentarios / Positivo": "Muy amables", "Comentarios / Negativo": "La cola", "Nota": "9"
    }
    assert table.records[1].values["Nota"] == "4.5"


def test_read_table_xlsx_default_skips_cover_sheet_and_unknown_sheet(tmp_path: Path) -> None:
    path = tmp_path / "encuesta.xlsx"
    _workbook(path)
    assert read_table(path).sheet == "Respuestas"
    with pytest.raises(UnreadableFileError, match="has a header but no data rows"):
        read_table(path, sheet="Notas")
    with pytest.raises(UnreadableFileError, match="no sheet named 'Hoja9'.*Respuestas"):
        read_table(path, sheet="Hoja9")


def test_read_table_xlsx_with_csv_name_is_read_as_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    pd.DataFrame({"id": [1], "text": ["hola"]}).to_excel(path, index=False, engine="openpyxl")
    table = read_table(path)
    assert table.format == "xlsx"
    assert table.records[0].values == {"id": "1", "text": "hola"}


@pytest.mark.parametrize(
    "document",
    [
        [{"id": 1, "text": "Bien"}, {"id": 2, "text": "Mal", "extra": {"a": 1}}],
        {"exported": "2024-01-01", "data": [{"id": 1, "text": "Bien"}, {"id": 2, "text": "Mal", "extra": {"a": 1}}]},
        {"id": [1, 2], "text": ["Bien", "Mal"], "extra": [None, {"a": 1}]},
    ],
)
def test_read_table_json_shapes(tmp_path: Path, document: object) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    table = read_table(path)
    assert table.columns == ("id", "text", "extra")
    assert [r.values for r in table.records] == [
        {"id": "1", "text": "Bien", "extra": ""},
        {"id": "2", "text": "Mal", "extra": '{"a": 1}'},
    ]


def test_read_table_jsonl_bad_line_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    lines = '{"id": 1, "text": "ok"}\n{"id": 2, "text": \n\n[1,2]\n{"id": 3, "text": "fine"}\n'
    path.write_text(lines, encoding="utf-8")
    table = read_table(path)
    assert [(r.row, r.values["id"]) for r in table.records] == [(1, "1"), (5, "3")]
    assert [p.row for p in table.problems] == [2, 4]


def test_read_table_parquet_as_strings(tmp_path: Path) -> None:
    path = tmp_path / "r.parquet"
    pd.DataFrame({"id": [1, 2], "score": [9.5, None], "text": ["Bien", None]}).to_parquet(path)
    table = read_table(path)
    assert [r.values for r in table.records] == [
        {"id": "1", "score": "9.5", "text": "Bien"},
        {"id": "2", "score": "", "text": ""},
    ]
    assert [r.row for r in table.records] == [1, 2]
