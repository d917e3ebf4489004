"""Themes per touchpoint and polarity on a small es/en corpus: causes found, labels readable and in the
majority language, runs deterministic, ids stable on rerun and on 80% -> 100%, store round trip."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from themes_fixture import corpus_embeddings, make_corpus

from vocmine.config import VocmineConfig
from vocmine.pipelines.topics import RowVectors, ThemeResult, build_themes, refresh_themes


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    return make_corpus()


@pytest.fixture(scope="module")
def embeddings(corpus: pd.DataFrame, e5) -> np.ndarray:  # noqa: ANN001
    return corpus_embeddings(corpus, e5)


@pytest.fixture(scope="module")
def first_run(corpus: pd.DataFrame, embeddings: np.ndarray) -> ThemeResult:
    return build_themes(corpus, embeddings, VocmineConfig())


def _cause(text: str) -> str:
    lowered = text.lower()
    if any(w in lowered for w in ("tarde", "retraso", "late", "retrasó")):
        return "late"
    if any(w in lowered for w in ("broken", "damaged", "roto", "rota", "dañado", "crushed", "cracked")):
        return "damaged"
    if "rude" in lowered or "grosero" in lowered or "maleducada" in lowered:
        return "rude"
    if "atend" in lowered or "ignoraron" in lowered:
        return "ignored"
    return "other"


def _active(result: ThemeResult) -> pd.DataFrame:
    return result.themes[result.themes["status"] == "active"]


def test_themes_recover_the_causes_of_each_touchpoint(first_run: ThemeResult, corpus: pd.DataFrame) -> None:
    merged = first_run.assignments.merge(corpus[["sentence_id", "text"]], on="sentence_id")
    merged["cause"] = merged["text"].map(_cause)
    purity = merged.groupby("theme_id")["cause"].agg(lambda c: c.value_counts().iloc[0] / len(c))
    sizes = merged.groupby("theme_id").size()
    assert (purity * sizes).sum() / sizes.sum() >= 0.85
    negative = _active(first_run)
    negative = negative[negative["polarity"] == "negative"]
    assert set(negative["touchpoint"]) == {"delivery", "staff"}
    assert len(negative) >= 4


def test_small_touchpoint_gets_no_theme(first_run: ThemeResult) -> None:
    assert "price" not in set(first_run.themes["touchpoint"])
    price = first_run.stats.set_index("touchpoint").loc["price"]
    assert price["unassigned_share"] == 1.0
    assert "min_group_sentences" in price["skipped_reason"]


def test_unassigned_share_is_reported_per_group(first_run: ThemeResult) -> None:
    stats = first_run.stats
    assert {"touchpoint", "polarity", "unassigned_share"} <= set(stats.columns)
    assert stats["unassigned_share"].between(0, 1).all()


def test_label_follows_majority_language_with_the_other_as_alt(
    first_run: ThemeResult, corpus: pd.DataFrame
) -> None:
    merged = first_run.assignments.merge(corpus[["sentence_id", "text", "language"]], on="sentence_id")
    themes = _active(first_run).set_index("theme_id")
    for theme_id, part in merged.groupby("theme_id"):
        majority = part["language"].value_counts().idxmax()
        assert themes.loc[theme_id, "language"] == majority
    late = merged[merged["text"].map(_cause) == "late"]["theme_id"].value_counts().idxmax()
    assert themes.loc[late, "language"] == "es"
    described = (themes.loc[late, "label"] + ";" + themes.loc[late, "keywords"]).lower()
    assert any(w in described for w in ("tarde", "retraso", "llegó"))
    for theme_id, part in merged.groupby("theme_id"):
        counts = part["language"].value_counts()
        if len(counts) > 1 and counts.iloc[1] >= 3:
            assert themes.loc[theme_id, "label_alt"], theme_id


def test_theme_records_are_complete(first_run: ThemeResult) -> None:
    for record in _active(first_run).to_dict("records"):
        verbatims = json.loads(record["verbatims"])
        assert 3 <= len(verbatims) <= 5
        assert len({v["text"].lower() for v in verbatims}) == len(verbatims)
        assert record["keywords"] and record["label"]
        assert record["size"] >= 5
        assert 0 < record["share_respondents"] <= 1
        assert record["first_seen"] <= record["last_seen"]
        assert sum(p["count"] for p in json.loads(record["counts_per_period"]).values()) == record["size"]
        assert len(record["centroid"]) == 384


def test_two_runs_give_the_same_themes_and_labels(
    first_run: ThemeResult, corpus: pd.DataFrame, embeddings: np.ndarray
) -> None:
    shuffled = corpus.sample(frac=1.0, random_state=3)
    second = build_themes(shuffled, embeddings[shuffled.index.to_numpy()], VocmineConfig())
    columns = ["theme_id", "label", "label_alt", "keywords", "size"]
    a = first_run.themes[columns].sort_values("theme_id").reset_index(drop=True)
    b = second.themes[columns].sort_values("theme_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    key = ["sentence_id", "theme_id"]
    assert first_run.assignments[key].sort_values(key).values.tolist() == second.assignments[key].sort_values(
        key
    ).values.tolist()


def test_vectors_held_once_per_distinct_text_give_the_same_themes(
    corpus: pd.DataFrame, embeddings: np.ndarray
) -> None:
    # A store repeats sentences and hands build_themes one vector per distinct text plus a row index.
    repeated = corpus.iloc[::3].assign(sentence_id=lambda f: f["sentence_id"] + "-again")
    grown = pd.concat([corpus, repeated], ignore_index=True)
    rows = np.concatenate([np.arange(len(corpus)), np.arange(len(corpus))[::3]])
    plain = build_themes(grown, embeddings[rows], VocmineConfig())
    distinct, index = np.unique(embeddings[rows], axis=0, return_inverse=True)
    assert len(distinct) == len(corpus) < len(grown)
    shared = build_themes(grown, RowVectors(distinct, index.reshape(-1)), VocmineConfig())
    columns = ["theme_id", "label", "size", "respondents"]
    pd.testing.assert_frame_equal(plain.themes[columns], shared.themes[columns])
    assert np.allclose(np.stack(plain.themes["centroid"]), np.stack(shared.themes["centroid"]), atol=1e-6)


def test_rerun_with_previous_keeps_every_id_and_flags_nothing_new(
    first_run: ThemeResult, corpus: pd.DataFrame, embeddings: np.ndarray
) -> None:
    rerun = build_themes(corpus, embeddings, VocmineConfig(), previous=first_run.themes)
    assert set(_active(rerun)["theme_id"]) == set(_active(first_run)["theme_id"])
    assert not rerun.themes["emerging_evidence"].fillna("").str.startswith("new theme").any()


def test_ids_survive_growing_from_80_to_100_percent(
    first_run: ThemeResult, corpus: pd.DataFrame, embeddings: np.ndarray
) -> None:
    rng = np.random.default_rng(11)
    subset = np.sort(rng.choice(len(corpus), size=int(0.8 * len(corpus)), replace=False))
    partial = build_themes(corpus.iloc[subset], embeddings[subset], VocmineConfig())
    full = build_themes(corpus, embeddings, VocmineConfig(), previous=partial.themes)
    kept = set(_active(partial)["theme_id"]) & set(_active(full)["theme_id"])
    assert len(kept) / len(_active(partial)) >= 0.8


def test_refresh_themes_writes_themes_and_assignments(
    store, corpus: pd.DataFrame, embeddings: np.ndarray, e5  # noqa: ANN001
) -> None:
    from vocmine.ids import text_hash

    responses = corpus.groupby("response_id", as_index=False)["created_at"].min()
    responses["language"] = "es"
    sentences = corpus[["sentence_id", "response_id", "text", "language"]].assign(
        answer_id=corpus["response_id"] + "/a", position=0, text_hash=corpus["text"].map(text_hash)
    )
    scores = [json.dumps({"negative": 0.9, "neutral": 0.05, "positive": 0.05}) if p == "negative" else
              json.dumps({"negative": 0.05, "neutral": 0.05, "positive": 0.9}) for p in corpus["polarity"]]
    annotations = pd.concat(
        [
            pd.DataFrame({"target_id": corpus["sentence_id"], "level": "sentence", "task": "sentiment",
                          "label": corpus["polarity"], "scores": scores, "model": "test"}),
            pd.DataFrame({"target_id": corpus["sentence_id"], "level": "sentence", "task": "touchpoint",
                          "label": corpus["touchpoint"], "scores": "{}", "model": "test"}),
        ]
    )
    with store.transaction():
        store.upsert("responses", responses)
        store.upsert("sentences", sentences)
        store.upsert("annotations", annotations)
        store.put_embeddings(e5.name, dict(zip(sentences["text_hash"], embeddings, strict=True)))
    stats = refresh_themes(store, VocmineConfig(), run_id="run-1")
    themes = store.df("SELECT * FROM themes WHERE status = 'active'")
    assert stats["themes_active"] == len(themes) >= 4
    assert store.count("theme_assignments") > 0.7 * len(corpus)
    again = refresh_themes(store, VocmineConfig(), run_id="run-2")
    assert again["themes_new"] == 0
    assert set(store.df("SELECT theme_id FROM themes WHERE status = 'active'")["theme_id"]) == set(themes["theme_id"])
