"""Ingest: canonical mapping, validation with rejects, idempotency, in-place updates, per-file atomicity."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from vocmine.pipelines import ingest as ingest_module
from vocmine.pipelines.ingest import (
    CellError,
    clean_text,
    ingest_paths,
    parse_date,
    parse_score,
    parse_stars,
)
from vocmine.pipelines.profiles import ProfileOverrides, load_profile
from vocmine.store import Store

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

SURVEY_CSV = """id,fecha,sucursal,nota,comentario,canal
r1,14/03/2024,Centro,9,Muy amables y rápidos,web
r2,15/03/2024,Norte,3,El pedido llegó tarde y nadie contestó,app
r3,16/03/2024,Centro,10,,web
r4,2024-03-17,Norte,7,Precio algo alto,tienda
"""


def _write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding=encoding)
    return path


def test_ingest_survey_maps_canonical_record(tmp_path: Path, store: Store) -> None:
    path = _write(tmp_path, "encuesta.csv", SURVEY_CSV)
    report = ingest_paths([path], store, "survey", ProfileOverrides(source="encuesta"))
    assert (report.rows_read, report.inserted, report.rejected) == (4, 4, 0)
    responses = store.df("SELECT * FROM responses ORDER BY response_id")
    assert list(responses["response_id"]) == ["encuesta:r1", "encuesta:r2", "encuesta:r3", "encuesta:r4"]
    first = responses.iloc[0]
    assert first["channel"] == "survey"
    assert first["score"] == 9.0 and first["score_scale"] == "0-10"
    assert first["branch"] == "Centro"
    assert first["created_at"] == pd.Timestamp("2024-03-14")
    assert json.loads(first["metadata"]) == {"canal": "web"}
    assert first["source_row"] == 2
    answers = store.df("SELECT * FROM answers ORDER BY answer_id")
    # r3 has a score but no text: kept as a response (counts for NPS) with no answer.
    assert list(answers["answer_id"]) == ["encuesta:r1:comment", "encuesta:r2:comment", "encuesta:r4:comment"]
    assert answers.iloc[1]["text"] == "El pedido llegó tarde y nadie contestó"
    assert store.count("sources") == 1


def test_ingest_three_bad_rows_among_good_rows(tmp_path: Path, store: Store) -> None:
    text = SURVEY_CSV + "r5,18/03/2024,Sur,diez,No me gustó,web\nr6,19/03/2024,Sur,11,Mal,web\n"
    text += "r7,32/13/2024,Sur,5,Regular,web\nr8,20/03/2024,Sur,9,5,Excelente,web\n"
    path = _write(tmp_path, "encuesta.csv", text)
    report = ingest_paths([path], store, "survey", rejects_dir=tmp_path / "rej")
    assert report.inserted == 4
    assert report.rejected == 4  # r5 diez, r6 11, r7 bad date, r8 one cell too many
    assert report.has_rejects
    rejects = store.df('SELECT row, "column", expected, got, message FROM rejects ORDER BY row')
    assert list(rejects["row"]) == [6, 7, 8, 9]
    assert rejects.iloc[0]["column"] == "nota" and rejects.iloc[0]["got"] == "diez"
    assert "expected a number from 0 to 10" in rejects.iloc[0]["message"]
    assert "encuesta.csv row 6, column 'nota'" in rejects.iloc[0]["message"]
    assert rejects.iloc[2]["column"] == "fecha"
    with report.details[0].rejects_path.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["file"], r["row"], r["column"], r["got"]) for r in rows[:2]] == [
        ("encuesta.csv", "6", "nota", "diez"),
        ("encuesta.csv", "7", "nota", "11"),
    ]
    assert report.details[0].rejects_path == tmp_path / "rej" / "encuesta.rejects.csv"


def test_ingest_default_rejects_dir_next_to_store(tmp_path: Path, store: Store) -> None:
    path = _write(tmp_path, "encuesta.csv", "id,nota,comentario\n1,N/A,\n2,8,Bien\n")
    report = ingest_paths([path], store, "survey")
    assert report.rejects_path == store.path.parent / "rejects"
    assert (store.path.parent / "rejects" / "encuesta.rejects.csv").exists()


def test_ingest_same_file_twice_adds_nothing(tmp_path: Path, store: Store) -> None:
    path = _write(tmp_path, "encuesta.csv", SURVEY_CSV + "r9,1/1/2024,Sur,-1,Mal,web\n")
    first = ingest_paths([path], store, "survey")
    second = ingest_paths([path], store, "survey")
    assert (first.inserted, first.rejected) == (4, 1)
    assert (second.inserted, second.updated, second.unchanged, second.rejected) == (0, 0, 4, 1)
    assert store.count("responses") == 4
    assert store.count("answers") == 3
    assert store.count("rejects") == 1  # the re-run replaces the file's rejects, not duplicates them


def test_ingest_changed_row_updates_in_place_and_drops_stale_analysis(tmp_path: Path, store: Store) -> None:
    path = _write(tmp_path, "encuesta.csv", SURVEY_CSV)
    ingest_paths([path], store, "survey")
    stored_at = store.scalar("SELECT ingested_at FROM responses WHERE response_id = 'encuesta:r2'")
    store.con.execute(
        "INSERT INTO sentences (sentence_id, answer_id, response_id, text) VALUES "
        "('encuesta:r2:comment:0', 'encuesta:r2:comment', 'encuesta:r2', 'old'),"
        "('encuesta:r1:comment:0', 'encuesta:r1:comment', 'encuesta:r1', 'keep')"
    )
    store.con.execute(
        "INSERT INTO annotations (target_id, level, task, label) VALUES "
        "('encuesta:r2:comment:0', 'sentence', 'sentiment', 'negative'),"
        "('encuesta:r2:comment', 'answer', 'sentiment', 'negative'),"
        "('encuesta:r1:comment:0', 'sentence', 'sentiment', 'positive')"
    )
    store.con.execute("INSERT INTO theme_assignments VALUES ('encuesta:r2:comment:0', 'encuesta:r2', 't1', 0.9, 'x')")
    _write(tmp_path, "encuesta.csv", SURVEY_CSV.replace("nadie contestó,app", "por fin llamaron,app"))
    report = ingest_paths([path], store, "survey")
    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 3)
    assert store.count("responses") == 4
    assert store.scalar("SELECT text FROM answers WHERE answer_id = 'encuesta:r2:comment'") == (
        "El pedido llegó tarde y por fin llamaron"
    )
    assert store.scalar("SELECT ingested_at FROM responses WHERE response_id = 'encuesta:r2'") == stored_at
    assert store.df("SELECT target_id FROM annotations")["target_id"].tolist() == ["encuesta:r1:comment:0"]
    assert store.df("SELECT sentence_id FROM sentences")["sentence_id"].tolist() == ["encuesta:r1:comment:0"]
    assert store.count("theme_assignments") == 0


def test_ingest_write_failure_rolls_back_the_whole_file(
    tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, "encuesta.csv", SURVEY_CSV)
    real_upsert = Store.upsert

    def failing_upsert(self: Store, table: str, frame: pd.DataFrame) -> int:
        if table == "answers":
            raise OSError("disk full")
        return real_upsert(self, table, frame)

    monkeypatch.setattr(Store, "upsert", failing_upsert)
    with pytest.raises(OSError, match="disk full"):
        ingest_paths([path], store, "survey")
    assert (store.count("responses"), store.count("answers"), store.count("sources")) == (0, 0, 0)
    monkeypatch.setattr(Store, "upsert", real_upsert)
    assert ingest_paths([path], store, "survey").inserted == 4


def test_ingest_duplicate_ids_keep_first_reject_others(tmp_path: Path, store: Store) -> None:
    text = "id,nota,comentario\n1,9,Bien\n1,2,Otra cosa\n1,9,Bien\n2,5,Regular\n"
    report = ingest_paths([_write(tmp_path, "d.csv", text)], store, "survey")
    assert (report.inserted, report.rejected, report.duplicates) == (2, 1, 1)
    assert store.scalar("SELECT score FROM responses WHERE response_id = 'd:1'") == 9.0
    message = store.scalar("SELECT message FROM rejects")
    assert "row 3" in message and "already used at row 2" in message


def test_ingest_without_id_column_uses_stable_content_hash(tmp_path: Path, store: Store) -> None:
    text = "comentario,nota\nBien,9\nMal,2\n"
    path = _write(tmp_path, "sin_id.csv", text)
    ingest_paths([path], store, "survey")
    ids = store.df("SELECT response_id FROM responses ORDER BY 1")["response_id"].tolist()
    assert all(i.startswith("sin_id:") and len(i) == len("sin_id:") + 24 for i in ids)
    assert ingest_paths([path], store, "survey").unchanged == 2


def test_ingest_row_without_text_or_score_is_rejected(tmp_path: Path, store: Store) -> None:
    text = "id,nota,comentario\n1,,   \n2,,n/a\n3,8,\n"
    report = ingest_paths([_write(tmp_path, "e.csv", text)], store, "survey")
    assert (report.inserted, report.rejected) == (1, 2)
    assert store.df("SELECT expected FROM rejects")["expected"].unique().tolist() == ["a text or a score"]


def test_ingest_review_profile_with_flags_strips_wrapping_quotes(tmp_path: Path, store: Store) -> None:
    text = (
        "row_id,index,Title,Opinion,Place,Gender,Age,Country,Date,Label\n"
        '0,1,"""Comida cara""","""Tienen carteles con comida de 40, pero el mínimo era 90""",Mercado Hidalgo,'
        "N/I,-1,México,2018,2\n"
        '1,2,Muy bonito,"Un lugar ""mágico"" para visitar",Teatro Juárez,Female,30,México,22/10/2016,5\n'
    )
    overrides = ProfileOverrides(
        source="restmex", id_column="index", text_columns=["Title", "Opinion"], stars_column="Label",
        date_column="Date", branch_column="Place",
    )
    report = ingest_paths([_write(tmp_path, "restmex.csv", text)], store, "review", overrides)
    assert report.inserted == 2
    answers = store.df("SELECT answer_id, text FROM answers ORDER BY answer_id")
    assert answers["text"].tolist() == [
        "Tienen carteles con comida de 40, pero el mínimo era 90", "Comida cara",
        'Un lugar "mágico" para visitar', "Muy bonito",
    ]
    responses = store.df("SELECT response_id, stars, created_at, branch FROM responses ORDER BY 1")
    assert responses["stars"].tolist() == [2.0, 5.0]
    assert responses["created_at"].tolist() == [pd.Timestamp("2018-01-01"), pd.Timestamp("2016-10-22")]


def test_ingest_booking_profile_placeholders_and_us_dates(tmp_path: Path, store: Store) -> None:
    text = (
        "row_id,Review_Date,Hotel_Name,Reviewer_Nationality,Negative_Review,Positive_Review,Reviewer_Score\n"
        "0,8/3/2017,Britannia, United Kingdom , The car park was small ,No Positive,7.9\n"
        "1,7/30/2017,Britannia, Ireland ,No Negative, Great location ,10\n"
    )
    report = ingest_paths([_write(tmp_path, "booking.csv", text)], store, "booking")
    assert report.inserted == 2
    responses = store.df("SELECT * FROM responses ORDER BY response_id")
    assert responses["response_id"].tolist() == ["booking:0", "booking:1"]
    assert responses["created_at"].tolist() == [pd.Timestamp("2017-08-03"), pd.Timestamp("2017-07-30")]
    assert responses["score_scale"].tolist() == ["1-10", "1-10"]
    assert responses["segment"].tolist() == ["United Kingdom", "Ireland"]
    answers = store.df("SELECT answer_id, text FROM answers ORDER BY answer_id")
    assert answers.values.tolist() == [
        ["booking:0:negative", "The car park was small"], ["booking:1:positive", "Great location"],
    ]


def test_ingest_mystery_shopper_steps_store_answer_scores(tmp_path: Path, store: Store) -> None:
    profile_path = _write(
        tmp_path, "ms.toml",
        'name = "ms"\nchannel = "mystery_shopper"\nid_column = "visita"\nbranch_column = "Sucursal"\n'
        '[[steps]]\nquestion = "Saludo"\ntext_column = "Saludo comentario"\nscore_column = "Saludo nota"\n'
        '[[steps]]\nquestion = "Cierre"\ntext_column = "Cierre comentario"\nscore_column = "Cierre nota"\n',
    )
    text = (
        "visita,Sucursal,Saludo nota,Saludo comentario,Cierre nota,Cierre comentario\n"
        "v1,Centro,10,Saludó con una sonrisa,4,\n"
    )
    report = ingest_paths([_write(tmp_path, "ms.csv", text)], store, load_profile(profile_path))
    assert report.inserted == 1
    answers = store.df("SELECT answer_id, question, score, text FROM answers ORDER BY position")
    assert answers.values.tolist() == [
        ["ms:v1:saludo", "Saludo", 10.0, "Saludó con una sonrisa"], ["ms:v1:cierre", "Cierre", 4.0, ""]
    ]
    metadata = json.loads(store.scalar("SELECT metadata FROM responses"))
    assert metadata["step_scores"] == {"Saludo": 10.0, "Cierre": 4.0}
    assert store.scalar("SELECT channel FROM responses") == "mystery_shopper"


def test_ingest_touchpoint_and_language_pass_through(tmp_path: Path, store: Store) -> None:
    text = "id,nota,comentario,touchpoint,idioma\n1,6,Checkout took ages,checkout,EN\n"
    ingest_paths([_write(tmp_path, "t.csv", text)], store, "survey")
    assert store.df("SELECT touchpoint, language, language_source FROM responses").values.tolist() == [
        ["checkout", "en", "given"]
    ]
    assert store.scalar("SELECT touchpoint FROM answers") == "checkout"


def test_ingest_unreadable_file_recorded_and_others_continue(tmp_path: Path, store: Store) -> None:
    good = _write(tmp_path, "good.csv", SURVEY_CSV)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"\x00\x01\x02binary\xff" * 50)
    missing_col = _write(tmp_path, "sin_texto.csv", "a,b\n1,2\n")
    report = ingest_paths([bad, good, missing_col], store, "survey")
    assert report.failed_files == 2 and report.inserted == 4
    errors = [d.error for d in report.details]
    assert "bad.csv" in errors[0] and "binary" in errors[0]
    assert errors[1] is None
    assert "sin_texto.csv" in errors[2] and "none of the columns" in errors[2]
    assert store.scalar("SELECT count(*) FROM rejects WHERE row IS NULL") == 2


def test_ingest_flag_column_missing_is_a_clear_file_error(tmp_path: Path, store: Store) -> None:
    path = _write(tmp_path, "s.csv", SURVEY_CSV)
    report = ingest_paths([path], store, "survey", ProfileOverrides(score_column="NPS"))
    assert report.failed_files == 1
    assert "missing required column(s) 'NPS'" in report.details[0].error


def test_ingest_progress_and_folder_expansion(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    _write(folder, "a.csv", SURVEY_CSV)
    _write(folder, "b.jsonl", '{"id": "x", "nota": 8, "comentario": "Good"}\n')
    _write(folder, "notes.md", "ignored")
    calls: list[tuple[int, int]] = []
    report = ingest_paths([folder], store, "survey", progress=lambda done, total: calls.append((done, total)))
    assert report.files == 2 and report.inserted == 5
    assert calls == [(1, 2), (2, 2)]


def test_ingest_calls_pii_redaction(tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest_module, "_load_redactor", lambda: lambda text: text.replace("ana@x.es", "[EMAIL]"))
    path = _write(tmp_path, "p.csv", "id,nota,comentario\n1,2,Escribidme a ana@x.es\n")
    ingest_paths([path], store, "survey")
    assert store.scalar("SELECT text FROM answers") == "Escribidme a [EMAIL]"


@pytest.mark.parametrize(
    ("raw", "scale", "expected"),
    [("9", "0-10", 9.0), ("9,5", "0-10", 9.5), (" 0 ", "0-10", 0.0), ("7.9", "1-10", 7.9), ("8/10", "0-10", 8.0),
     ("", "0-10", None)],
)
def test_parse_score_valid(raw: str, scale: str, expected: float | None) -> None:
    assert parse_score(raw, scale) == expected


@pytest.mark.parametrize(("raw", "scale"), [("11", "0-10"), ("-1", "0-10"), ("N/A", "0-10"), ("diez", "0-10"),
                                            ("0", "1-10"), ("8/5", "0-10")])
def test_parse_score_invalid_says_expected(raw: str, scale: str) -> None:
    with pytest.raises(CellError) as error:
        parse_score(raw, scale)
    assert error.value.got == raw
    assert error.value.expected.startswith("a number from")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("4", 4.0), ("4,0", 4.0), ("4/5", 4.0), ("★★★★", 4.0), ("★★★★☆", 4.0), ("⭐⭐⭐⭐⭐", 5.0), ("3 estrellas", 3.0),
     ("4.5 out of 5", 4.5), ("", None)],
)
def test_parse_stars_valid(raw: str, expected: float | None) -> None:
    assert parse_stars(raw) == expected


@pytest.mark.parametrize("raw", ["0", "6", "cinco", "8/10", "☆☆☆"])
def test_parse_stars_invalid(raw: str) -> None:
    with pytest.raises(CellError):
        parse_stars(raw)


@pytest.mark.parametrize(
    ("raw", "dayfirst", "expected"),
    [
        ("2024-03-14", True, dt.datetime(2024, 3, 14)),
        ("2024-03-14T10:30:00Z", True, dt.datetime(2024, 3, 14, 10, 30)),
        ("14/03/2024", True, dt.datetime(2024, 3, 14)),
        ("03/04/2024", True, dt.datetime(2024, 4, 3)),
        ("03/04/2024", False, dt.datetime(2024, 3, 4)),
        ("8/30/2017", True, dt.datetime(2017, 8, 30)),
        ("14-03-24", True, dt.datetime(2024, 3, 14)),
        ("14.03.2024 18:05", True, dt.datetime(2024, 3, 14, 18, 5)),
        ("14 de marzo de 2024", True, dt.datetime(2024, 3, 14)),
        ("lunes, 4 de nov. de 2024", True, dt.datetime(2024, 11, 4)),
        ("March 14, 2024", True, dt.datetime(2024, 3, 14)),
        ("14 Mar 2024", True, dt.datetime(2024, 3, 14)),
        ("septiembre 2023", True, dt.datetime(2023, 9, 1)),
        ("45365", True, dt.datetime(2024, 3, 14)),
        ("45365.5", True, dt.datetime(2024, 3, 14, 12)),
        ("2018", True, dt.datetime(2018, 1, 1)),
        ("", True, None),
    ],
)
def test_parse_date_es_en_iso_excel(raw: str, dayfirst: bool, expected: dt.datetime | None) -> None:
    assert parse_date(raw, dayfirst=dayfirst) == expected


@pytest.mark.parametrize("raw", ["31/02/2024", "ayer", "13/13/2024", "500"])
def test_parse_date_invalid(raw: str) -> None:
    with pytest.raises(CellError):
        parse_date(raw)


def test_parse_date_profile_format_first() -> None:
    assert parse_date("20240314", ["%Y%m%d"]) == dt.datetime(2024, 3, 14)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Muy   bien \u200b servicio\x07 ", "Muy bien servicio"),
        ("Cafe\u0301 frío", "Café frío"),
        ("😡😡😡", "😡😡😡"),
        ("Familia 👨\u200d👩\u200d👧 feliz", "Familia 👨\u200d👩\u200d👧 feliz"),
        ("Great<br/>stay &amp; <b>clean</b>", "Great\nstay & clean"),
        ('"Comida cara"', "Comida cara"),
        ('"Muy" bueno "sí"', '"Muy" bueno "sí"'),
        ('"Creo que es un "must" a conocer."', 'Creo que es un "must" a conocer.'),
        ("«Excelente»", "Excelente"),
        ("línea 1\r\n\r\n\r\n\r\nlínea 2", "línea 1\n\nlínea 2"),
        ("**Muy** bueno, 5 < 6", "**Muy** bueno, 5 < 6"),
    ],
)
def test_clean_text(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_ingest_demo_sources_read_cleanly(tmp_path: Path, store: Store) -> None:
    """The demo's two sources (first 200 rows of each) go in with no rejects."""
    restmex = tmp_path / "restmex.csv"
    restmex.write_text(
        "".join((SHARED_DATA / "restmex2021_es" / "train.csv").read_text(encoding="utf-8").splitlines(True)[:200]),
        encoding="utf-8",
    )
    overrides = ProfileOverrides(
        source="restmex", id_column="index", text_columns=["Title", "Opinion"], stars_column="Label",
        date_column="Date", branch_column="Place",
    )
    report = ingest_paths([restmex], store, "review", overrides)
    assert report.rejected == 0 and report.inserted > 100
    assert store.scalar("SELECT count(*) FROM answers WHERE text LIKE '\"%\"'") == 0
    frame = pd.read_csv(SHARED_DATA / "booking_britannia" / "train.csv", nrows=200, dtype=str, keep_default_na=False)
    booking = tmp_path / "booking.csv"
    frame.to_csv(booking, index=False)
    report = ingest_paths([booking], store, "booking")
    assert (report.inserted, report.rejected) == (200, 0)
    assert store.scalar("SELECT count(*) FROM answers WHERE text IN ('No Negative', 'No Positive')") == 0
