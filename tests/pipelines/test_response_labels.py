"""Per-response labels read from the store for KPIs and drivers: touchpoints, dominant emotion, component,
and the long "who mentions what" table, on a small es/en store built by hand."""

from __future__ import annotations

import json

import pandas as pd

from vocmine.pipelines.drivers import load_mentions
from vocmine.pipelines.kpis import load_kpi_responses


def _annotation(target: str, level: str, task: str, label: str | None, scores: dict | None = None) -> dict:
    return {"target_id": target, "level": level, "task": task, "label": label,
            "scores": json.dumps(scores) if scores is not None else None}


def _fill(store) -> None:
    store.upsert("responses", pd.DataFrame({
        "response_id": ["r1", "r2", "r3", "r4"],
        "nps_class": ["detractor", "promoter", "passive", "detractor"],
        "touchpoint": ["checkout", None, None, None],
    }))
    store.upsert("answers", pd.DataFrame({
        "answer_id": ["a1", "a2", "a3", "a4"], "response_id": ["r1", "r2", "r3", "r4"],
    }))
    store.upsert("sentences", pd.DataFrame({
        "sentence_id": ["s1", "s2", "s3", "s4", "s5"],
        "answer_id": ["a1", "a1", "a2", "a2", "a4"],
        "response_id": ["r1", "r1", "r2", "r2", "r4"],
        "text": ["Esperé 40 minutos en la cola.", "El cajero fue muy borde.", "Great coffee.",
                 "Staff were lovely.", "Nada que decir."],
    }))
    store.upsert("annotations", pd.DataFrame([
        # r1: anger once, sadness once (sadness wins the tie on summed probability), both components
        _annotation("s1", "sentence", "emotion", "anger", {"anger": 0.4, "sadness": 0.3}),
        _annotation("s2", "sentence", "emotion", "sadness; Other", {"anger": 0.1, "sadness": 0.9}),
        _annotation("s1", "sentence", "component", "rational"),
        _annotation("s2", "sentence", "component", "emotional"),
        _annotation("s1", "sentence", "touchpoint", "store_branch"),
        _annotation("s2", "sentence", "touchpoint", "staff;checkout"),
        _annotation("s1", "sentence", "sentiment", "negative"),
        _annotation("s2", "sentence", "sentiment", "negative"),
        # r1's answer-level emotion is ignored: it has sentence-level ones
        _annotation("a1", "answer", "emotion", "fear", {"fear": 0.9}),
        # r2: joy twice; only rational
        _annotation("s3", "sentence", "emotion", "joy", {"joy": 0.8}),
        _annotation("s4", "sentence", "emotion", "joy;surprise", {"joy": 0.7, "surprise": 0.6}),
        _annotation("s3", "sentence", "component", "rational"),
        _annotation("s4", "sentence", "touchpoint", "staff"),
        _annotation("s4", "sentence", "sentiment", "positive"),
        # r3: no sentences, an answer-level emotion only
        _annotation("a3", "answer", "emotion", "fear", {"fear": 0.7}),
        # r4: a sentence whose emotion is "none"
        _annotation("s5", "sentence", "emotion", "none", {"none": 0.9}),
        _annotation("s5", "sentence", "touchpoint", "other"),
    ]))


def test_kpi_responses_carry_touchpoints_dominant_emotion_and_component(store) -> None:
    _fill(store)
    responses = load_kpi_responses(store).set_index("response_id")
    assert responses.loc["r1", "touchpoint"] == "checkout;staff;store_branch"
    assert responses.loc["r2", "touchpoint"] == "staff"
    assert pd.isna(responses.loc["r3", "touchpoint"]) and pd.isna(responses.loc["r4", "touchpoint"])
    assert responses.loc["r1", "emotion"] == "sadness"
    assert responses.loc["r2", "emotion"] == "joy"
    assert responses.loc["r3", "emotion"] == "fear"
    assert responses.loc["r4", "emotion"] == "none"
    assert responses.loc["r1", "component"] == "both"
    assert responses.loc["r2", "component"] == "rational"
    assert pd.isna(responses.loc["r3", "component"]) and pd.isna(responses.loc["r4", "component"])


def test_mentions_list_each_response_key_once_per_level(store) -> None:
    _fill(store)
    mentions = load_mentions(store)
    pairs = {(row.response_id, row.level, row.key) for row in mentions.itertuples()}
    assert len(pairs) == len(mentions)
    assert {(r, k) for r, lv, k in pairs if lv == "touchpoint"} == {
        ("r1", "checkout"), ("r1", "store_branch"), ("r1", "staff"), ("r2", "staff")}
    assert {(r, k) for r, lv, k in pairs if lv == "touchpoint_negative"} == {
        ("r1", "store_branch"), ("r1", "staff"), ("r1", "checkout")}
    # drivers count every level's labels (the answer-level fear of r1 too)
    assert {(r, k) for r, lv, k in pairs if lv == "emotion"} == {
        ("r1", "anger"), ("r1", "sadness"), ("r1", "fear"), ("r2", "joy"), ("r2", "surprise"), ("r3", "fear")}
    assert {(r, k) for r, lv, k in pairs if lv == "component"} == {
        ("r1", "rational"), ("r1", "emotional"), ("r2", "rational")}
    touchpoint_rows = mentions[mentions["level"] == "touchpoint"]
    assert (touchpoint_rows["touchpoint"] == touchpoint_rows["key"]).all()
