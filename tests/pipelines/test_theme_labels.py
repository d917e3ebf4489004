"""Label phrases: customers' own words, stop-word aware, accents kept, deterministic."""

from __future__ import annotations

import numpy as np

from vocmine.pipelines.theme_labels import (
    candidate_phrases,
    class_phrase_scores,
    format_label,
    pick_label,
    tokenize,
)


def test_tokenize_keeps_accents_and_drops_digits() -> None:
    assert tokenize("La atención fue fácil, 3 días") == ["la", "atención", "fue", "fácil", "días"]


def test_candidate_phrases_keep_inner_stop_words_but_not_edges() -> None:
    phrases = candidate_phrases("Hubo un retraso en la entrega del pedido")
    assert "retraso en la entrega" in phrases
    assert "en la" not in phrases
    assert "la entrega" not in phrases


def test_candidate_phrases_keep_complaint_words_and_negations() -> None:
    assert "llegó tarde" in candidate_phrases("El pedido llegó tarde")
    assert "never arrived" in candidate_phrases("My parcel never arrived")


def test_class_phrase_scores_prefer_what_is_distinctive_of_the_theme() -> None:
    late = ["El pedido llegó tarde otra vez", "Mi pedido llegó tarde", "El paquete llegó tarde"]
    rude = ["El pedido fue atendido por un camarero grosero", "Camarero grosero y lento", "Un camarero grosero"]
    late_scores, rude_scores = class_phrase_scores([late, rude])
    assert max(late_scores, key=late_scores.get) == "llegó tarde"
    assert max(rude_scores, key=rude_scores.get) == "camarero grosero"
    assert "pedido" not in late_scores or late_scores["pedido"] < late_scores["llegó tarde"]


def test_pick_label_without_embedder_is_deterministic() -> None:
    texts = ["Staff at reception were rude", "Rude staff at reception today", "The staff were rude"]
    scores = class_phrase_scores([texts, ["Delivery was late", "Late delivery again"]])[0]
    rng = np.random.default_rng(0)
    embeddings = rng.normal(size=(3, 8)).astype(np.float32)
    centroid = embeddings.mean(axis=0)
    first = pick_label(scores, texts, embeddings, centroid)
    second = pick_label(scores, texts, embeddings, centroid)
    assert first == second
    assert first[0] in {"rude staff", "staff", "rude", "staff at reception", "rude staff at reception"}
    assert first[1] and first[0] in first[1]


def test_format_label_capitalises_first_letter_only() -> None:
    assert format_label("retraso en la entrega") == "Retraso en la entrega"
