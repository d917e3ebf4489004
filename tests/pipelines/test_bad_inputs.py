"""The bad-input corpus (tests/data/bad_inputs, see CASES.md): what a user gets for each real-export mess.

Each test ingests one file and checks both sides: the clear error (file, row, column, expected, got)
for what is refused, and that every good row is stored, cleaned. Property tests at the end feed
arbitrary Unicode through the CSV path and check that nothing crashes and no good row is lost.
"""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from vocmine.errors import UnreadableFileError
from vocmine.pipelines.ingest import IngestReport, ingest_paths
from vocmine.pipelines.profiles import ProfileOverrides
from vocmine.pipelines.readers import read_table
from vocmine.store import Store

CORPUS = Path(__file__).resolve().parents[1] / "data" / "bad_inputs"


def _ingest(
    store: Store, name: str, profile: str = "survey", overrides: ProfileOverrides | None = None
) -> IngestReport:
    return ingest_paths([CORPUS / name], store, profile, overrides)


def _texts(store: Store) -> list[str]:
    return store.df("SELECT text FROM answers ORDER BY response_id, position")["text"].tolist()


def _rejects(store: Store) -> list[tuple]:
    frame = store.df('SELECT row, "column", expected, got, message FROM rejects ORDER BY row')
    return [tuple(r) for r in frame.itertuples(index=False)]


def test_corpus_has_at_least_30_cases() -> None:
    files = [p for p in CORPUS.iterdir() if p.suffix not in {".md", ".py"}]
    assert len(files) >= 30
    documented = (CORPUS / "CASES.md").read_text(encoding="utf-8")
    assert all(f"`{p.name}`" in documented for p in files)


@pytest.mark.parametrize("name", ["cp1252_accents.csv", "latin1_accents.csv"])
def test_windows_encodings_keep_accents(store: Store, name: str) -> None:
    report = _ingest(store, name)
    assert (report.inserted, report.rejected) == (2, 0)
    assert "Peñalolén" in store.df("SELECT branch FROM responses")["branch"].tolist()
    assert any("ó" in t or "ñ" in t for t in _texts(store))


def test_cp1252_curly_quotes_and_euro(store: Store) -> None:
    _ingest(store, "cp1252_accents.csv")
    assert "“Demasiado caro”: 20 € por un menú pequeño" in _texts(store)


def test_utf8_bom_header_is_clean(store: Store) -> None:
    assert read_table(CORPUS / "utf8_bom.csv").columns[0] == "id"
    assert _ingest(store, "utf8_bom.csv").inserted == 1
    assert store.scalar("SELECT response_id FROM responses") == "utf8_bom:1"


def test_utf16_excel_unicode_text(store: Store) -> None:
    report = _ingest(store, "utf16_excel.txt")
    assert report.inserted == 2
    assert _texts(store) == ["Muy amables 😊", "La cola era eterna"]


def test_semicolon_with_decimal_commas(store: Store) -> None:
    report = _ingest(store, "semicolon_decimal_comma.csv")
    assert (report.inserted, report.rejected) == (3, 0)
    scores = store.df("SELECT score FROM responses ORDER BY response_id")["score"].tolist()
    assert scores == [9.5, 6.5, 10.0]
    assert "Precio alto; calidad media" in _texts(store)


def test_tab_separated(store: Store) -> None:
    assert _ingest(store, "tab_separated.tsv").inserted == 2
    assert _texts(store)[0] == "Staff were lovely, checkout slow"


def test_broken_quote_rejects_one_row_keeps_the_rest(store: Store) -> None:
    report = _ingest(store, "broken_quotes.csv")
    assert (report.inserted, report.rejected) == (3, 1)
    row, column, expected, _got, message = _rejects(store)[0]
    assert (row, column, expected) == (3, None, "a closing double quote")
    assert "broken_quotes.csv row 3" in message
    assert sorted(store.df("SELECT response_id FROM responses")["response_id"]) == [
        "broken_quotes:1", "broken_quotes:3", "broken_quotes:4"
    ]


def test_embedded_newlines_stay_in_one_answer(store: Store) -> None:
    assert _ingest(store, "embedded_newlines.csv").inserted == 2
    assert _texts(store)[0] == "Primero: tardaron una hora.\nSegundo: la comida llegó fría."


def test_ragged_rows_short_padded_long_rejected(store: Store) -> None:
    report = _ingest(store, "ragged_rows.csv")
    assert (report.inserted, report.rejected) == (2, 1)
    row, _column, expected, got, _message = _rejects(store)[0]
    assert (row, expected, got) == (3, "4 cells", "5 cells")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("header_only.csv", r"has a header row \(1\) but no data rows"),
        ("empty.csv", "the file is empty"),
        ("binary.csv", "looks like binary data"),
    ],
)
def test_unreadable_files_clear_error(store: Store, name: str, reason: str) -> None:
    with pytest.raises(UnreadableFileError, match=rf"{name}: {reason}"):
        read_table(CORPUS / name)
    report = _ingest(store, name)
    assert report.failed_files == 1 and report.has_rejects
    assert name in report.details[0].error
    assert store.count("responses") == 0


def test_xlsx_several_sheets_and_merged_header(store: Store) -> None:
    overrides = ProfileOverrides(
        id_column="ID", score_column="Nota", text_columns=["Comentarios / Positivo", "Comentarios / Negativo"]
    )
    report = _ingest(store, "several_sheets_merged_header.xlsx", overrides=overrides)
    assert (report.inserted, report.rejected) == (3, 0)
    answers = store.df("SELECT answer_id, text FROM answers ORDER BY answer_id").values.tolist()
    assert answers[:2] == [
        ["several_sheets_merged_header:101:comentarios_negativo", "La espera"],
        ["several_sheets_merged_header:101:comentarios_positivo", "Muy amables"],
    ]
    assert store.scalar("SELECT source_row FROM responses WHERE response_id LIKE '%:101'") == 3


def test_json_object_holding_a_list(store: Store) -> None:
    assert _ingest(store, "json_object_not_list.json").inserted == 2
    metadata = json.loads(store.scalar("SELECT metadata FROM responses WHERE response_id LIKE '%a2'"))
    assert metadata == {"extra": '{"canal": "app"}'}


def test_jsonl_bad_line_is_a_reject(store: Store) -> None:
    report = _ingest(store, "jsonl_bad_line.jsonl")
    assert (report.inserted, report.rejected) == (2, 1)
    row, _column, expected, _got, message = _rejects(store)[0]
    assert (row, expected) == (2, "a JSON object")
    assert "jsonl_bad_line.jsonl line 2: not valid JSON" in message


def test_duplicate_ids_with_different_content(store: Store) -> None:
    report = _ingest(store, "duplicate_ids.csv")
    assert (report.inserted, report.rejected, report.duplicates) == (2, 1, 1)
    row, column, expected, got, message = _rejects(store)[0]
    assert (row, column, expected, got) == (3, "id", "a unique id", "7")
    assert "already used at row 2" in message
    assert store.scalar("SELECT score FROM responses WHERE response_id = 'duplicate_ids:7'") == 9.0


def test_invalid_scores_rejected_with_expected_and_got(store: Store) -> None:
    report = _ingest(store, "scores_invalid.csv")
    assert (report.inserted, report.rejected) == (2, 4)
    assert [(r[0], r[1], r[3]) for r in _rejects(store)] == [
        (2, "nota", "11"), (3, "nota", "-1"), (5, "nota", "N/A"), (6, "nota", "diez")
    ]
    assert all(r[2] == "a number from 0 to 10" for r in _rejects(store))
    assert store.df("SELECT score FROM responses ORDER BY score")["score"].tolist() == [7.0, 9.5]


def test_star_formats(store: Store) -> None:
    report = _ingest(store, "stars_formats.csv", "review")
    assert (report.inserted, report.rejected) == (4, 2)
    assert store.df("SELECT stars FROM responses ORDER BY response_id")["stars"].tolist() == [4.0, 4.0, 4.0, 5.0]
    assert [(r[0], r[3]) for r in _rejects(store)] == [(6, "0"), (7, "seis")]


def test_dates_in_spanish_english_iso(store: Store) -> None:
    report = _ingest(store, "dates_es_en.csv")
    assert (report.inserted, report.rejected) == (5, 1)
    dates = store.df("SELECT DISTINCT created_at FROM responses")["created_at"].tolist()
    assert dates == [pd.Timestamp("2024-03-14")]
    row, column, _expected, got, _message = _rejects(store)[0]
    assert (row, column, got) == (7, "fecha", "ayer")


def test_excel_serial_dates(store: Store) -> None:
    _ingest(store, "excel_serial_dates.csv")
    dates = store.df("SELECT created_at FROM responses ORDER BY response_id")["created_at"].tolist()
    assert dates == [pd.Timestamp("2024-03-14"), pd.Timestamp("2024-03-15 18:00")]


def test_empty_and_whitespace_texts(store: Store) -> None:
    report = _ingest(store, "empty_texts.csv")
    assert (report.inserted, report.rejected) == (3, 2)
    assert [r[0] for r in _rejects(store)] == [3, 5]
    assert all(r[2] == "a text or a score" for r in _rejects(store))
    assert _texts(store) == ["Con texto"]  # score-only rows are kept without answers (they count for NPS)


def test_emoji_only_texts_kept(store: Store) -> None:
    assert _ingest(store, "emoji_only.csv").inserted == 3
    assert _texts(store) == ["😍😍😍", "👎", "👨\u200d👩\u200d👧 🇪🇸"]


def test_very_long_text_kept_whole(store: Store) -> None:
    assert _ingest(store, "long_text.csv").inserted == 2
    assert store.scalar("SELECT max(length(text)) FROM answers") == len(("Muy largo " * 10_000).strip())


def test_html_stripped_markdown_kept(store: Store) -> None:
    _ingest(store, "html_markdown.csv")
    assert _texts(store) == [
        "Great\nlocation & clean rooms", "**Lento** el servicio, _muy_ lento\n- punto 1\n- punto 2"
    ]


def test_mixed_language_answer_untouched(store: Store) -> None:
    _ingest(store, "mixed_es_en.csv")
    assert _texts(store) == ["The staff was nice pero la comida llegó fría, honestly not worth it"]


def test_portuguese_and_chinese_pass_through(store: Store) -> None:
    assert _ingest(store, "portuguese_chinese.csv").inserted == 2
    assert _texts(store) == ["O atendimento foi ótimo e muito rápido", "服务太慢了，食物也是冷的"]


def test_control_chars_and_zero_width_removed(store: Store) -> None:
    _ingest(store, "control_zero_width.csv")
    assert _texts(store) == ["Muy bien atendido por Ana", "Pésimo servicio\notra línea"]


def test_missing_required_column_names_it(store: Store) -> None:
    report = _ingest(store, "missing_required_column.csv", "booking")
    assert report.failed_files == 1
    assert "missing_required_column.csv: missing required column(s) 'Reviewer_Score'" in report.details[0].error
    assert store.scalar("SELECT message FROM rejects").startswith("missing_required_column.csv")


def test_unknown_extra_columns_go_to_metadata(store: Store) -> None:
    _ingest(store, "unknown_extra_column.csv")
    metadata = json.loads(store.scalar("SELECT metadata FROM responses"))
    assert metadata == {"campaña_utm": "primavera24", "navegador": "Firefox"}


def test_parquet_typed_columns_read_as_text(store: Store) -> None:
    report = _ingest(store, "typed_columns.parquet")
    assert (report.inserted, report.rejected) == (2, 0)
    responses = store.df("SELECT response_id, score, created_at FROM responses ORDER BY 1")
    assert responses["response_id"].tolist() == ["typed_columns:1", "typed_columns:2"]
    assert responses["created_at"].tolist() == [pd.Timestamp("2024-03-14"), pd.Timestamp("2024-03-15")]


def test_xlsx_saved_with_csv_name(store: Store) -> None:
    assert _ingest(store, "xlsx_named_csv.csv").inserted == 1
    assert _texts(store) == ["Exportado desde Excel con nombre .csv"]


def test_booking_placeholders_are_empty_answers(store: Store) -> None:
    report = _ingest(store, "booking_placeholders.csv", "booking")
    assert report.inserted == 3
    assert store.df("SELECT answer_id, text FROM answers ORDER BY 1").values.tolist() == [
        ["booking:0:positive", "Great breakfast"], ["booking:1:negative", "Noisy room"]
    ]
    assert store.scalar("SELECT score FROM responses WHERE response_id = 'booking:2'") == 7.5


def test_na_is_text_not_missing(store: Store) -> None:
    _ingest(store, "na_text.csv", "review")
    assert _texts(store)[:2] == ["NA", "NA"]
    assert "NULL" in _texts(store)


def test_restmex_wrapping_quotes_stripped(store: Store) -> None:
    _ingest(store, "wrapped_quotes_restmex.csv", "review", ProfileOverrides(id_column="index", stars_column="Label"))
    assert _texts(store) == ["Comida cara", 'Un lugar "mágico", pero caro']


def test_trailing_empty_rows_ignored(store: Store) -> None:
    report = _ingest(store, "trailing_empty_rows.csv")
    assert (report.rows_read, report.inserted, report.rejected) == (1, 1, 0)


def test_duplicate_header_names_made_unique(store: Store) -> None:
    assert read_table(CORPUS / "duplicate_header_names.csv").columns == ("id", "nota", "comentario", "comentario_2")
    _ingest(store, "duplicate_header_names.csv")
    assert _texts(store) == ["Primera"]
    assert json.loads(store.scalar("SELECT metadata FROM responses")) == {"comentario_2": "Segunda"}


# -- properties ------------------------------------------------------------------------------------
_CELL = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=0, max_size=40
)


def _has_control_characters(texts: list[str]) -> bool:
    """Whether the cells hold control characters as the reader counts them (Unicode category Cc: C0, DEL and
    C1, not tab or line ends), the one case in which a file may read as binary."""
    return any(sum(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r" for ch in text) for text in texts)


def _csv_bytes(rows: list[tuple[str, str]], delimiter: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(["id", "comentario"])
    for index, (text, _other) in enumerate(rows, start=1):
        writer.writerow([str(index), text])
    return buffer.getvalue().encode("utf-8")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(_CELL, _CELL), min_size=1, max_size=6), delimiter=st.sampled_from([",", ";", "\t"]))
@example(rows=[("\x7f\x7f\x7f\x7f", ""), ("\x7f\x7f\x7f\x7f\x7f", "")], delimiter=",")  # DEL is a control too
def test_property_arbitrary_unicode_cells_never_crash_or_lose_rows(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[str, str]], delimiter: str
) -> None:
    path = tmp_path_factory.mktemp("prop") / "unicode.csv"
    path.write_bytes(_csv_bytes(rows, delimiter))
    try:
        table = read_table(path)
    except UnreadableFileError:
        # Only acceptable when the cells are so full of control characters that the file reads as binary.
        assert _has_control_characters([text for text, _ in rows])
        return
    assert not table.problems
    assert [r.values["id"] for r in table.records] == [str(i) for i in range(1, len(rows) + 1)]
    assert [r.values["comentario"] for r in table.records] == [text for text, _other in rows]


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(_CELL, min_size=1, max_size=5))
@example(texts=["\x7f\x7f", "\x7f\x7f", "\x7f\x7f\x7f\x7f\x7f"])  # DEL cells: the file reads as binary
def test_property_ingest_keeps_every_row_with_a_score(
    tmp_path_factory: pytest.TempPathFactory, texts: list[str]
) -> None:
    folder = tmp_path_factory.mktemp("prop_ingest")
    frame = pd.DataFrame({"id": [str(i) for i in range(len(texts))], "nota": ["8"] * len(texts), "comentario": texts})
    path = folder / "datos.jsonl"
    frame.to_json(path, orient="records", lines=True, force_ascii=False)
    with Store(folder / "s.duckdb") as opened:
        report = ingest_paths([path], opened, "survey")
        if any(detail.error for detail in report.details):
            # As in the reader's property above: a file refused whole, and said so, only for control characters.
            assert _has_control_characters(texts) and report.inserted == 0 and report.has_rejects
            return
        assert (report.inserted, report.rejected) == (len(texts), 0)
        assert opened.count("responses") == len(texts)
        for text in opened.df("SELECT text FROM answers")["text"]:
            assert text and text == text.strip() and "\u200b" not in text
