"""``vocmine classify`` and :func:`vocmine.classify`: a file or frame in, the same rows plus the labels out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import vocmine
from vocmine.cli import app
from vocmine.config import VocmineConfig
from vocmine.errors import ConfigError
from vocmine.pipelines.classify import (
    OUTPUT_FORMATS,
    TextClassifierStack,
    classify_frame,
    label_texts,
    read_any,
    write_any,
)

#: Real-looking comments: a two-sentence Spanish complaint, English praise, an empty answer, French (kept,
#: not modelled) and emoji only (language not told).
COMMENTS = pd.DataFrame({
    "id": ["c1", "c2", "c3", "c4", "c5"],
    "tienda": ["Centro", "Norte", "Centro", "Sur", "Norte"],
    "comentario": [
        "La comida llegó fría. El camarero tardó cuarenta minutos en traer la cuenta.",
        "Staff were lovely and the checkout was quick.",
        "",
        "Le personnel était très aimable mais le petit déjeuner était froid.",
        "👍👍👍",
    ],
})
CONTRACT_COLUMNS = ["language", "sentiment", "p_negative", "p_neutral", "p_positive", "emotions", "component",
                    "touchpoints"]


@pytest.fixture(scope="module")
def stack() -> TextClassifierStack:
    loaded = TextClassifierStack.load(VocmineConfig())
    assert not loaded.unavailable, loaded.unavailable
    return loaded


def test_classify_frame_keeps_every_row_and_adds_the_contract_columns(stack: TextClassifierStack) -> None:
    out = classify_frame(COMMENTS, "comentario", stack)
    assert out[["id", "tienda", "comentario"]].equals(COMMENTS)
    assert set(CONTRACT_COLUMNS) <= set(out.columns)
    by_id = out.set_index("id")
    assert by_id.loc["c1", "language"] == "es" and by_id.loc["c2", "language"] == "en"
    assert by_id.loc["c1", "sentiment"] == "negative" and by_id.loc["c2", "sentiment"] == "positive"
    labelled = by_id.loc[["c1", "c2"], ["p_negative", "p_neutral", "p_positive"]]
    assert (labelled.sum(axis=1) - 1.0).abs().max() < 1e-3
    assert by_id.loc["c3", "sentiment_skipped"] == "no sentences"
    assert pd.isna(by_id.loc["c4", "sentiment"]) and "fr not modelled" in by_id.loc["c4", "sentiment_skipped"]
    assert by_id.loc["c5", "emotions_skipped"] == "language undetermined (too short or ambiguous to tell)"


def test_classify_frame_sentences_gives_one_row_per_sentence_and_keeps_empty_answers(
        stack: TextClassifierStack) -> None:
    out = classify_frame(COMMENTS, "comentario", stack, sentences=True)
    assert out["id"].drop_duplicates().tolist() == COMMENTS["id"].tolist()  # no row lost, order kept
    spanish = out[out["id"] == "c1"]
    assert spanish["index"].tolist() == [0, 0] and spanish["position"].tolist() == [0, 1]
    assert spanish["sentence"].tolist() == ["La comida llegó fría.",
                                            "El camarero tardó cuarenta minutos en traer la cuenta."]
    assert set(spanish["sentiment"]) == {"negative"}
    empty = out[out["id"] == "c3"]
    assert len(empty) == 1 and pd.isna(empty["position"].iloc[0])
    assert empty["sentiment_skipped"].iloc[0] == "no sentences"


def test_classify_frame_suffixes_label_columns_the_input_already_has(stack: TextClassifierStack) -> None:
    frame = pd.DataFrame({"index": [7, 8], "language": ["es", "en"],
                          "text": ["Muy caro para lo que ofrecen.", "The app crashed at payment."]})
    rows = classify_frame(frame, "text", stack)
    assert rows["language"].tolist() == ["es", "en"] and rows["language_vocmine"].tolist() == ["es", "en"]
    per_sentence = classify_frame(frame, "text", stack, sentences=True)
    assert per_sentence["index"].tolist() == [7, 8] and per_sentence["index_vocmine"].tolist() == [0, 1]
    with pytest.raises(ConfigError, match="no column 'comment'"):
        classify_frame(frame, "comment", stack)


def test_classify_frame_takes_the_languages_an_export_already_has(stack: TextClassifierStack) -> None:
    frame = pd.DataFrame({"idioma": ["ES ", "pt", None],
                          "texto": ["Ok", "O atendimento foi ótimo.", "El pedido llegó tarde."]})
    rows = classify_frame(frame, "texto", stack, language_column="idioma")
    assert rows["language"].tolist() == ["es", "pt", "es"]  # "Ok" alone would be undetermined; empty: detected
    assert pd.notna(rows["emotions"].iloc[0]) and rows["sentiment_skipped"].iloc[1] == "language pt not modelled"
    with pytest.raises(ConfigError, match="no column 'lang'"):
        classify_frame(frame, "texto", stack, language_column="lang")


def test_label_texts_rolls_sentences_up_and_takes_the_text_language_for_untold_sentences(
        stack: TextClassifierStack) -> None:
    spanish, emoji = label_texts(["Un desastre, el pedido llegó tarde y frío. Ok", "🙏"], stack)
    assert [s.text for s in spanish.sentences] == ["Un desastre, el pedido llegó tarde y frío.", "Ok"]
    assert spanish.sentence_languages == ["es", "es"]  # "Ok" alone cannot be told; it takes the answer's
    assert set(spanish.sentence_labels) == set(spanish.labels) == set(stack.annotators)
    assert spanish.labels["sentiment"].label == "negative"
    assert emoji.language == "und" and emoji.sentence_languages == ["und"]


def test_python_api_classify_matches_the_cli(tmp_path: Path, stack: TextClassifierStack) -> None:
    source = tmp_path / "comments.csv"
    COMMENTS.to_csv(source, index=False)
    written = tmp_path / "labelled.parquet"
    result = CliRunner().invoke(app, ["classify", str(source), "--text-column", "comentario", "--out", str(written),
                                      "--sentences"])
    assert result.exit_code == 0, result.output
    from_cli = pd.read_parquet(written)
    from_api = vocmine.classify(source, "comentario", sentences=True)
    assert from_cli[["id", "position", "sentence", "sentiment", "emotions"]].equals(
        from_api[["id", "position", "sentence", "sentiment", "emotions"]])
    texts = vocmine.classify(COMMENTS["comentario"].tolist())
    assert texts["sentiment"].equals(classify_frame(COMMENTS, "comentario", stack)["sentiment"])


def test_cli_classify_usage_errors_exit_2(tmp_path: Path) -> None:
    source = tmp_path / "comments.csv"
    COMMENTS.to_csv(source, index=False)
    runner = CliRunner()
    missing = runner.invoke(app, ["classify", str(source), "--text-column", "comment", "--out",
                                  str(tmp_path / "out.csv")])
    assert missing.exit_code == 2 and "no column 'comment'" in missing.output
    wrong_format = runner.invoke(app, ["classify", str(source), "--text-column", "comentario", "--out",
                                       str(tmp_path / "out.txt")])
    assert wrong_format.exit_code == 2 and "unsupported output format" in wrong_format.output


@pytest.mark.parametrize("suffix", OUTPUT_FORMATS)
def test_classify_output_reads_back_in_every_format(tmp_path: Path, suffix: str, stack: TextClassifierStack) -> None:
    out = tmp_path / f"labelled{suffix}"
    write_any(classify_frame(COMMENTS.head(2), "comentario", stack), out)
    back, rejects = read_any(out)
    assert not rejects and back["id"].tolist() == ["c1", "c2"]
    assert back["sentiment"].tolist() == ["negative", "positive"]


def test_classify_reads_every_format_as_ingest_does_and_reports_unreadable_rows(tmp_path: Path) -> None:
    """A row the reader cannot parse (here an unquoted ';' inside a comment) is not dropped in silence: the
    good rows are labelled and written, the bad one goes to a rejects file, and the exit code is 1."""
    source = tmp_path / "encuesta.csv"
    source.write_text("id;nota;comentario\n1;3;La comida llegó fría.\n2;9;Todo perfecto; volveré seguro.\n"
                      "3;10;Atención de diez.\n", encoding="utf-8")
    out = tmp_path / "out" / "labelled.csv"
    result = CliRunner().invoke(app, ["classify", str(source), "--text-column", "comentario", "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert pd.read_csv(out, dtype=str)["id"].tolist() == ["1", "3"]
    rejects = pd.read_csv(tmp_path / "out" / "encuesta.rejects.csv", dtype=str)
    assert rejects["row"].tolist() == ["3"] and rejects["file"].tolist() == ["encuesta.csv"]
    with pytest.warns(UserWarning, match="1 rows could not be read"):
        frame = vocmine.classify(source, "comentario")
    assert frame["id"].tolist() == ["1", "3"] and [r["row"] for r in frame.attrs["rejects"]] == [3]


def test_classify_refuses_bad_paths_and_taxonomies_before_labelling(tmp_path: Path) -> None:
    source = tmp_path / "comments.csv"
    COMMENTS.to_csv(source, index=False)
    runner = CliRunner()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cases = {
        "no such file": [str(tmp_path / "missing.xlsx"), "--out", str(tmp_path / "o.csv")],
        "cannot create its folder": [str(source), "--out", str(blocker / "o.csv")],
        "taxonomy 'no-such-taxonomy'": [str(source), "--out", str(tmp_path / "o.csv"),
                                        "--taxonomy", "no-such-taxonomy"],
    }
    for message, arguments in cases.items():
        result = runner.invoke(app, ["classify", *arguments[:1], "--text-column", "comentario", *arguments[1:]])
        assert result.exit_code == 2 and message in result.output, (message, result.output)
    with pytest.raises(ConfigError, match="pass a list"):
        vocmine.classify("El pedido llegó tarde.")
    with pytest.raises(ConfigError, match="2 columns named 'texto'"):
        vocmine.classify(pd.DataFrame([["a", "Muy caro.", "b"]], columns=["id", "texto", "texto"]), "texto")


def test_classify_table_has_one_schema_redacts_and_cleans_the_text(stack: TextClassifierStack) -> None:
    frame = pd.DataFrame({"texto": ["Escríbanme a juan.perez@gmail.com, <b>el precio</b> es excesivo.",
                                    "Staff were lovely.\u200b"]}, index=["r7", "r9"])
    rows = classify_frame(frame, "texto", stack)
    assert rows.index.tolist() == ["r7", "r9"]  # joins back to the caller's frame
    assert rows["texto"].tolist() == ["Escríbanme a [EMAIL], el precio es excesivo.", "Staff were lovely."]
    skipped = ["sentiment_skipped", "emotions_skipped", "component_skipped", "touchpoints_skipped"]
    assert list(rows.columns) == ["texto", *CONTRACT_COLUMNS, *skipped]
    assert rows[skipped].isna().all().all()  # every text labelled, the reason columns are still there
    empty = classify_frame(frame.head(0), "texto", stack)
    assert list(empty.columns) == list(rows.columns) and empty.empty
    sentences = classify_frame(frame.head(0), "texto", stack, sentences=True)
    assert {"index", "position", "sentence", *CONTRACT_COLUMNS, *skipped} <= set(sentences.columns)


def test_classify_normalises_given_codes_and_gives_short_answers_the_file_language(
        stack: TextClassifierStack) -> None:
    frame = pd.DataFrame({
        "idioma": ["es-ES", "en_US", "Spanish", None, None, None, None],
        "texto": ["Excelente", "Good", "Bien", "Bien", "La comida estaba fría y el camarero fue muy borde.",
                  "Volveremos sin duda, todo perfecto.", "Nos atendieron muy rápido y con una sonrisa."],
    })
    rows = classify_frame(frame, "texto", stack, language_column="idioma")
    assert rows["language"].tolist() == ["es", "en", "es", "es", "es", "es", "es"]
    assert rows["sentiment_skipped"].isna().all() and rows["emotions_skipped"].isna().all()
    alone = classify_frame(pd.DataFrame({"texto": ["Bien"]}), "texto", stack)
    assert alone["language"].tolist() == ["und"]  # not German: nothing else in the file to tell by
    assert alone["emotions_skipped"].iloc[0] == "language undetermined (too short or ambiguous to tell)"
    assert pd.notna(alone["sentiment"].iloc[0])


def test_classify_takes_a_series_or_a_long_text_and_clears_a_stale_rejects_file(tmp_path: Path) -> None:
    series = pd.Series(["El pedido llegó tarde.", "Staff were lovely."], index=["a", "b"], name="comment")
    assert vocmine.classify(series, "comment").index.tolist() == ["a", "b"]
    with pytest.raises(ConfigError, match="pass a list"):
        vocmine.classify("muy buen servicio, " * 40)  # too long for a path: not an OSError
    source = tmp_path / "encuesta.csv"
    COMMENTS.to_csv(source, index=False)
    stale = tmp_path / "out" / "encuesta.rejects.csv"
    stale.parent.mkdir()
    stale.write_text("file,row\nencuesta.csv,3\n")
    result = CliRunner().invoke(app, ["classify", str(source), "--text-column", "comentario", "--out",
                                      str(tmp_path / "out" / "labelled.csv")])
    assert result.exit_code == 0 and not stale.exists()


def test_the_stack_loads_its_models_before_embedding_so_fine_tuned_models_share_e5s_bottom_layers(monkeypatch) -> None:
    """component.ft reads the states after e5's sixth layer that the embedder kept for the same sentences
    (models/e5_trunk.py). The first call loads every model on one short sentence before embedding the texts,
    so only that sentence misses the kept states; without it, both texts would."""
    pytest.importorskip("torch")
    from vocmine.models import e5_trunk
    from vocmine.nlp import rational_emotional

    rational_emotional._load_head.cache_clear()  # loaded by an earlier test, it would not ask this cache
    cache = e5_trunk.TrunkCache()
    monkeypatch.setattr(e5_trunk, "TRUNKS", cache)
    misses = []
    lookup = cache.get
    monkeypatch.setattr(cache, "get", lambda source, ids: lookup(source, ids) if lookup(source, ids) is not None
                        else misses.append(ids))
    config = VocmineConfig()
    config.analysis.annotators["component"] = "vocmine.component.ft"
    stack = TextClassifierStack.load(config)
    labels = stack.label_sentences(["La comida llegó fría y el camarero fue muy borde.",
                                    "Staff were lovely, check-in took two minutes."], ["es", "en"])
    assert stack.warmed and cache.wanted
    assert len(misses) == 1  # the warm-up sentence, embedded before component.ft was loaded
    assert [a.label in {"rational", "emotional"} for a in labels["component"]] == [True, True]
