from __future__ import annotations

import pytest

from vocmine.nlp.language import (
    UNDETERMINED,
    detect_language,
    detect_languages,
    detect_text_languages,
    is_modelled,
    language_skip_reason,
    normalise_language_code,
    predominant_language,
    resolve_languages,
    skip_reason,
)


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


def test_skip_reason_names_the_language_or_the_empty_text():
    assert skip_reason("es", "La comida estaba fría") is None
    assert skip_reason("pt", "O atendimento foi ótimo") == "language pt not modelled"
    assert skip_reason("pt", "") == "language pt not modelled"
    assert skip_reason("en", "   ") == "empty text"
    assert skip_reason(None, "👍") == "language undetermined (too short or ambiguous to tell)"
    assert skip_reason(UNDETERMINED, "👍", label_undetermined=True) is None
    assert skip_reason(UNDETERMINED, "", label_undetermined=True) == "empty text"
    assert language_skip_reason("fr", label_undetermined=True) == "language fr not modelled"


def test_short_answers_take_the_batch_language_or_stay_undetermined() -> None:
    """"Bien" alone reads as German and "Excelente" as Portuguese, at low confidence: in a batch of Spanish
    answers they are Spanish; alone they are "und", never the wrong guess; emoji stay "und" either way."""
    survey = ["Bien", "Excelente", "👍", "El pedido llegó tarde y nadie contestó",
              "La habitación estaba limpia y el personal fue muy amable", "Nos cobraron de más en la cuenta"]
    assert detect_text_languages(survey) == ["es", "es", UNDETERMINED, "es", "es", "es"]
    assert detect_text_languages(["Bien"]) == [UNDETERMINED]
    assert detect_text_languages(["Staff were lovely but checkout took ages", "Bien"]) == ["en", "en"]
    assert detect_text_languages(["O atendimento foi muito demorado e ninguém ajudou"]) == ["pt"]


def test_predominant_language_needs_two_thirds_of_the_batch() -> None:
    assert predominant_language(["es", "es", "en", UNDETERMINED, None]) == "es"
    assert predominant_language(["es", "en"]) is None and predominant_language([]) is None


@pytest.mark.parametrize(
    ("given", "code"),
    [("es", "es"), (" ES ", "es"), ("es-ES", "es"), ("es_MX", "es"), ("en-US", "en"), ("spa", "es"),
     ("Spanish", "es"), ("Español", "es"), ("eng", "en"), ("pt-BR", "pt"), ("ger", "de"), ("zz", "zz"),
     ("", None), ("  ", None), (None, None), ("N/A", None), ("Unknown", None), ("Spanish (Spain)", "es")],
)
def test_language_codes_from_exports_are_normalised(given, code) -> None:
    assert normalise_language_code(given) == code


def test_non_texts_are_undetermined_and_a_short_fallback_list_is_refused() -> None:
    assert detect_language(float("nan")).language == UNDETERMINED and detect_language(None).language == UNDETERMINED
    with pytest.raises(ValueError, match="2 texts but 1 fallback"):
        detect_languages(["El pedido llegó tarde", "Staff were lovely"], fallback=["es"])


def test_given_codes_count_as_evidence_and_one_code_holds_for_all() -> None:
    """In a file coded Spanish, an uncoded "Bien" is Spanish too; a single code is not read letter by letter."""
    assert resolve_languages(["Bien", "x", "y"], [None, "es", "es-MX"]) == ["es", "es", "es"]
    assert resolve_languages(["Hola", "Adiós"], "es") == ["es", "es"]
