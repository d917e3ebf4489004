"""The analyze stage: every step fills only what is missing; answer labels come from their sentences."""

from __future__ import annotations

import pytest

from vocmine.config import VocmineConfig
from vocmine.pipelines.analyze import analyze_store
from vocmine.pipelines.ingest import ingest_paths
from vocmine.pipelines.profiles import load_profile
from vocmine.pipelines.steps import combine_sentence_annotations, resolve_step
from vocmine.protocols import Annotation

SURVEY = """response_id,date,score,branch,touchpoint,comment
r1,2026-03-02,9,Centro,,"El personal fue muy amable. Volveré seguro."
r2,2026-03-02,2,Centro,delivery,La comida llegó fría y el repartidor fue muy grosero.
r3,2026-03-05,6,Norte,,Staff were lovely but checkout took ages.
r4,2026-03-06,8,Norte,,O atendimento foi bom.
"""
STEPS = ["language", "sentences", "nps_status", "sentiment", "touchpoint", "kpis", "drivers"]


@pytest.fixture
def analysed(tmp_path, store):
    path = tmp_path / "survey.csv"
    path.write_text(SURVEY, encoding="utf-8")
    ingest_paths([path], store, profile=load_profile("survey"))
    config = VocmineConfig(store=store.path)
    first = analyze_store(store, config, steps=STEPS)
    return store, config, first


def test_analyze_annotates_sentences_and_answers(analysed):
    store, _, first = analysed
    assert first.steps["sentiment"]["sentences"] == store.count("sentences")
    labels = dict(
        store.con.execute(
            "SELECT target_id, label FROM annotations WHERE task = 'sentiment' AND level = 'answer'"
        ).fetchall()
    )
    assert labels["survey:r2:comment"] == "negative"
    assert labels["survey:r1:comment"] == "positive"
    # Portuguese is kept, labelled, and skipped by the classifier with a reason.
    reason = store.scalar(
        "SELECT skip_reason FROM annotations WHERE target_id = 'survey:r4:comment' AND task = 'sentiment'"
    )
    assert reason == "language pt not modelled"


def test_analyze_rerun_does_nothing(analysed):
    store, config, _ = analysed
    before = store.count("annotations")
    again = analyze_store(store, config, steps=STEPS)
    assert again.steps["sentences"]["sentences"] == 0
    assert again.steps["sentiment"]["sentences"] == 0
    assert store.count("annotations") == before
    # Summary steps see the same inputs and are skipped rather than recomputed.
    assert again.steps["kpis"]["skipped"] == "input unchanged"
    assert again.steps["drivers"]["skipped"] == "input unchanged"


def test_analyze_summary_steps_rerun_when_inputs_change(analysed):
    store, config, first = analysed
    store.con.execute("UPDATE responses SET branch = 'Sur' WHERE response_id = 'survey:r1'")
    again = analyze_store(store, config, steps=STEPS)
    assert "skipped" not in again.steps["kpis"]
    assert again.steps["kpis"]["fingerprint"] != first.steps["kpis"]["fingerprint"]


def test_analyze_given_touchpoint_wins(analysed):
    store, _, first = analysed
    given = store.df(
        "SELECT a.label FROM annotations a JOIN sentences s ON s.sentence_id = a.target_id "
        "WHERE a.task = 'touchpoint' AND a.level = 'sentence' AND s.response_id = 'survey:r2'"
    )
    assert set(given["label"]) == {"delivery"}
    assert first.steps["touchpoint"]["given_touchpoint_agreement"]["n"] >= 1


def test_analyze_unknown_step_lists_known_ones():
    from vocmine.errors import ConfigError

    with pytest.raises(ConfigError, match="known steps"):
        resolve_step("sentimentt", VocmineConfig())


def test_combine_sentence_annotations_weights_long_sentences():
    texts = ["Thanks.", "The room was filthy and the staff ignored every complaint we made."]
    annotations = [
        Annotation("positive", {"negative": 0.1, "neutral": 0.1, "positive": 0.8}),
        Annotation("negative", {"negative": 0.9, "neutral": 0.05, "positive": 0.05}),
    ]
    combined = combine_sentence_annotations(texts, annotations, multi_label=False)
    assert combined.label == "negative"
    assert combined.scores["negative"] == pytest.approx((0.1 * 7 + 0.9 * 66) / 73, abs=1e-6)


def test_combine_sentence_annotations_multi_label_union():
    annotations = [Annotation("anger", {"anger": 0.7, "joy": 0.1}), Annotation("none", {"anger": 0.2, "joy": 0.3}),
                   Annotation(None, {}, "language pt not modelled")]
    combined = combine_sentence_annotations(["a", "b", "c"], annotations, multi_label=True)
    assert combined.label == "anger"
    assert combined.scores == {"anger": 0.7, "joy": 0.3}


def test_analyze_releases_models_before_corpus_wide_steps_on_large_stores(analysed, monkeypatch):
    from vocmine.pipelines import analyze

    store, config, _ = analysed
    calls: list[bool] = []
    monkeypatch.setattr(analyze, "release_models", lambda keep_embedder=False: calls.append(keep_embedder) or 0)
    analyze_store(store, config, steps=["sentiment", "kpis"])
    assert calls == []  # 4 responses: below the threshold, models stay for the next run
    monkeypatch.setattr(analyze, "RELEASE_MODELS_AT_RESPONSES", 1)
    analyze_store(store, config, steps=["sentiment", "kpis", "drivers"])
    assert calls == [False, False]  # KPIs and drivers need no model at all


def test_sentence_neighbours_come_from_the_same_answer(analysed):
    """The context a sentiment model reads: the previous and next sentence of the same answer, none across."""
    from vocmine.pipelines.steps import sentence_neighbours

    store, _, _ = analysed
    ids = [row[0] for row in store.con.execute(
        "SELECT sentence_id FROM sentences WHERE response_id IN ('survey:r1', 'survey:r3') ORDER BY sentence_id"
    ).fetchall()]
    texts = dict(store.con.execute("SELECT sentence_id, text FROM sentences").fetchall())
    before, after = sentence_neighbours(store, ids)
    by_text = {texts[i]: (b, a) for i, b, a in zip(ids, before, after, strict=True)}
    assert by_text["El personal fue muy amable."] == ("", "Volveré seguro.")
    assert by_text["Volveré seguro."] == ("El personal fue muy amable.", "")
    assert by_text["Staff were lovely but checkout took ages."] == ("", "")
    assert sentence_neighbours(store, []) == ([], [])


def test_short_answers_take_their_responses_language(tmp_path, store):
    """A review title too short to tell ("Nada especial" reads as Galician alone) takes the language of its
    review, so the classifiers do not skip it; a title in another language than its body keeps its own."""
    path = tmp_path / "reviews.csv"
    path.write_text(
        "review_id,title,text,stars\n"
        "v1,Nada especial,La comida estaba fría y tardaron una hora en atendernos. El local estaba sucio.,2\n"
        "v2,No vale la pena,Muy caro para lo que ofrecen y el personal fue bastante antipático.,1\n"
        "v3,Très bon accueil et nous reviendrons avec plaisir,Friendly staff and quick food.,5\n",
        encoding="utf-8",
    )
    ingest_paths([path], store, profile=load_profile("review"))
    analyze_store(store, VocmineConfig(store=store.path), steps=["language", "sentences", "sentiment"])
    languages = dict(store.con.execute("SELECT answer_id, language FROM answers").fetchall())
    titles = {k.split(":")[1]: v for k, v in languages.items() if k.endswith(":title")}
    assert titles == {"v1": "es", "v2": "es", "v3": "fr"}
    title_sentiment = store.scalar(
        "SELECT label FROM annotations WHERE target_id = 'reviews:v2:title' AND level = 'answer' AND task = 'sentiment'"
    )
    assert title_sentiment == "negative"
