"""Component task: the shipped labelled data and a tiny fit/save/load on fixture vectors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vocmine import registry
from vocmine.models.heads import EmbeddingLogisticHead
from vocmine.models.train_component import COMPONENT_LABELS, DATA_FILE, fit_component_head, load_component_data


def test_component_data_has_300_labelled_sentences_per_language() -> None:
    raw = pd.read_csv(DATA_FILE, dtype={"row_id": str}, keep_default_na=False)
    assert set(raw["label"]) == {"rational", "emotional", "neither"}
    assert set(raw["split"]) == {"train", "test"}
    counts = raw["language"].value_counts()
    assert counts["es"] >= 300 and counts["en"] >= 300
    assert not raw.duplicated(["source", "row_id", "sentence_index"]).any()


@pytest.mark.parametrize("split", ["train", "test"])
@pytest.mark.parametrize("language", ["es", "en"])
def test_component_split_has_both_classes(split: str, language: str) -> None:
    frame = load_component_data(split=split)
    labels = frame.loc[frame["language"] == language, "label"].value_counts()
    assert set(labels.index) == set(COMPONENT_LABELS)
    assert labels.min() >= 15


def test_component_train_and_test_do_not_share_texts() -> None:
    train, test = load_component_data(split="train"), load_component_data(split="test")
    assert not set(train["text"]) & set(test["text"])


def test_fit_component_head_round_trips(tmp_path) -> None:
    rng = np.random.default_rng(0)
    vectors = np.vstack([rng.normal(1.0, 1.0, (30, 8)), rng.normal(-1.0, 1.0, (30, 8))]).astype(np.float32)
    train = pd.DataFrame({"text": [f"t{i}" for i in range(60)], "label": ["rational"] * 30 + ["emotional"] * 30})
    head = fit_component_head(train, embeddings=vectors, cues=False)
    head.save(tmp_path)
    loaded = EmbeddingLogisticHead.load(tmp_path)
    assert loaded.labels_ == COMPONENT_LABELS
    np.testing.assert_allclose(loaded.predict_proba_embeddings(vectors), head.predict_proba_embeddings(vectors),
                               rtol=1e-5)
    predicted = np.asarray(loaded.labels_)[loaded.predict_proba_embeddings(vectors).argmax(1)]
    assert (predicted == train["label"].to_numpy()).mean() > 0.9


def test_component_task_is_registered() -> None:
    task = registry.create("task", "component")
    assert callable(task.train) and callable(task.evaluate)


def test_component_cue_features_follow_the_guideline() -> None:
    from vocmine.nlp.rational_emotional import CUES, cue_features

    cues = dict(zip(CUES, cue_features(["Me sentí ignorado por el vendedor", "The food was overpriced"]).T,
                    strict=True))
    assert cues["feel"].tolist() == [1.0, 0.0]
    assert cues["treatment"][0] == 1.0 and cues["price"][1] == 1.0


def test_round_2_rows_are_training_rows_from_reviews_round_1_never_drew() -> None:
    raw = pd.read_csv(DATA_FILE, dtype={"row_id": str}, keep_default_na=False)
    second = raw[raw["round"] == 2]
    assert len(second) == 360 and set(second["split"]) == {"train"}
    first_reviews = set(zip(raw.loc[raw["round"] == 1, "source"], raw.loc[raw["round"] == 1, "row_id"], strict=True))
    assert not first_reviews & set(zip(second["source"], second["row_id"], strict=True))
    annotations = pd.read_csv(DATA_FILE.parent / "round2_annotations.csv", dtype={"row_id": str})
    merged = second.merge(annotations, on=["source", "row_id", "sentence_index", "text"], suffixes=("", "_ann"))
    assert len(merged) == 360 and (merged["label"] == merged["label_ann"]).all()
    agreed = merged["annotator_a"] == merged["annotator_b"]
    assert (merged.loc[agreed, "label"] == merged.loc[agreed, "annotator_a"]).all()


def test_cross_validate_scores_every_setting_per_language() -> None:
    from vocmine.models.train_component import cross_validate

    rng = np.random.default_rng(1)
    labels = (["rational"] * 20 + ["emotional"] * 20) * 2
    language = ["es"] * 40 + ["en"] * 40
    sign = np.array([1.0 if label == "rational" else -1.0 for label in labels])
    vectors = (rng.normal(0.0, 1.0, (80, 6)) + 1.5 * sign[:, None]).astype(np.float32)
    texts = ["La comida estaba fría" if label == "rational" else "Me sentí ignorado" for label in labels]
    train = pd.DataFrame({"text": texts, "label": labels, "language": language})
    table = cross_validate(train, Cs=(1.0, 4.0), cue_weights=(0.0, 0.2), folds=4, repeats=2, embeddings=vectors)
    assert len(table) == 4 and set(table.columns) == {"C", "cue_weight", "es", "en", "mean"}
    assert table[["es", "en"]].min().min() > 0.8  # separable vectors are learned in every fold
    np.testing.assert_allclose(table["mean"], (table["es"] + table["en"]) / 2)


@pytest.mark.parametrize(("round_", "rows", "split"), [(3, 498, "test"), (4, 398, "train")])
def test_later_rounds_come_from_unseen_reviews_and_match_their_annotations(round_: int, rows: int,
                                                                             split: str) -> None:
    raw = pd.read_csv(DATA_FILE, dtype={"row_id": str}, keep_default_na=False)
    batch = raw[raw["round"] == round_]
    assert len(batch) == rows and set(batch["split"]) == {split}
    earlier = raw[raw["round"] < round_]
    assert not set(zip(earlier["source"], earlier["row_id"], strict=True)) & set(
        zip(batch["source"], batch["row_id"], strict=True))
    annotations = pd.read_csv(DATA_FILE.parent / f"round{round_}_annotations.csv", dtype={"row_id": str},
                              keep_default_na=False)
    merged = batch.merge(annotations, on=["source", "row_id", "sentence_index", "text"], suffixes=("", "_ann"))
    assert len(merged) == rows and (merged["label"] == merged["label_ann"]).all()
    agreed = merged["annotator_a"] == merged["annotator_b"]
    assert (merged.loc[agreed, "label"] == merged.loc[agreed, "annotator_a"]).all()
    assert (merged.loc[agreed, "adjudicator"] == "").all() and (merged.loc[~agreed, "adjudicator"] != "").all()


def test_held_out_subsets_report_round_1_next_to_the_grown_split() -> None:
    from vocmine.models.train_component import held_out_subsets

    test = load_component_data(split="test")
    subsets = held_out_subsets(test)
    assert subsets["component_labels"].all()
    assert subsets["component_labels_round1"].sum() == (test["round"] == 1).sum() == 178
    only_first = test[test["round"] == 1].reset_index(drop=True)
    assert list(held_out_subsets(only_first)) == ["component_labels"]


@pytest.mark.parametrize("round_", [1, 2, 3, 4])
def test_sampler_redraws_exactly_the_sentences_each_round_labelled(round_: int, tmp_path) -> None:
    """The labels are only reproducible if the draw is: each round skips the rounds before it, never later ones."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("component_sampler", DATA_FILE.parent / "sample_sentences.py")
    sampler = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sampler)
    drawn = sampler.draw_round(round_, None, out=tmp_path / "sample.csv")  # None: ../shared/data
    raw = pd.read_csv(DATA_FILE, dtype={"row_id": str}, keep_default_na=False)
    labelled = raw[raw["round"] == round_]
    key = ["source", "row_id", "text"]
    assert set(map(tuple, drawn[key].astype(str).to_numpy())) == set(map(tuple, labelled[key].to_numpy()))
