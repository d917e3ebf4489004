from __future__ import annotations

import pytest

from vocmine.nlp.language import UNDETERMINED, detect_language, detect_languages, is_modelled


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("El pedido llegó tarde y nadie contestó", "es"),
        ("Staff were lovely but checkout took ages", "en"),
        ("O atendimento foi muito demorado e ninguém ajudou", "pt"),
        ("Le personnel était très aimable mais la chambre était sale", "fr"),
        ("Il cameriere è stato molto scortese", "it"),
        ("Das Personal war sehr freundlich", "de"),
        ("服务员态度很差，等了一个小时", "zh"),
    ],
)
def test_language_detects_review_sentences(text, language):
    assert detect_language(text).language == language


@pytest.mark.parametrize("text", ["", "ok", "👍👍👍", "10/10", "   "])
def test_language_too_short_is_undetermined(text):
    assert detect_language(text).language == UNDETERMINED


def test_language_short_sentence_falls_back_to_answer_language():
    assert detect_languages(["Ok.", "La comida estaba fría"], fallback=["es", "es"]) == ["es", "es"]


def test_language_modelled_set():
    assert is_modelled("es") and is_modelled("en") and not is_modelled("pt") and not is_modelled(None)
