from __future__ import annotations

import re

import pytest

from vocmine.nlp.sentences import split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("¡Qué bien! ¿Volveremos? Sí, claro.", ["¡Qué bien!", "¿Volveremos?", "Sí, claro."]),
        ("El pedido llegó tarde y nadie contestó. Muy mal", ["El pedido llegó tarde y nadie contestó.", "Muy mal"]),
        ("Staff were lovely but checkout took ages. Won't be back!",
         ["Staff were lovely but checkout took ages.", "Won't be back!"]),
        ("Pros:\n- rápido\n- barato\nContras: caro", ["Pros:", "rápido", "barato", "Contras: caro"]),
        ("muy buena atencion 👍👍 la comida excelente 😀", ["muy buena atencion 👍👍", "la comida excelente 😀"]),
        ("1. Great coffee\n2) Slow wifi", ["Great coffee", "Slow wifi"]),
        ("😀😀", ["😀😀"]),
        ("", []),
        ("   \n  ", []),
    ],
)
def test_sentences_split_real_review_shapes(text, expected):
    assert [s.text for s in split_sentences(text, "es")] == expected


def test_sentences_offsets_point_into_the_answer():
    text = "  La habitación estaba sucia.\n\nEl desayuno, excelente!  "
    for span in split_sentences(text, "es"):
        assert text[span.start : span.end] == span.text


def test_sentences_unknown_language_still_splits():
    assert len(split_sentences("Muito bom. Voltarei sempre.", "pt")) == 2
    assert len(split_sentences("Very good. Will return.", None)) == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bien. (Muy caro) pero ok.", ["Bien.", "(Muy caro) pero ok."]),
        ("Buen hotel. «Volveremos» dijo mi pareja.", ["Buen hotel.", "«Volveremos» dijo mi pareja."]),
        ("Great stay. “Best bed ever” says it all.", ["Great stay.", "“Best bed ever” says it all."]),
        ('Great stay. "Best bed ever" says it all.', ["Great stay.", '"Best bed ever" says it all.']),
        ("Great stay. 'Best bed ever' says it all.", ["Great stay.", "'Best bed ever' says it all."]),
        ("Todo correcto. [Editado] El envío tardó.", ["Todo correcto.", "[Editado] El envío tardó."]),
        ("Buena comida. —Eso sí, muy cara.", ["Buena comida.", "—Eso sí, muy cara."]),
        ('He said "never again." Then he left.', ['He said "never again."', "Then he left."]),
        ("Dijo «Excelente.» y se fue.", ["Dijo «Excelente.»", "y se fue."]),
    ],
)
def test_sentences_opening_mark_starts_the_next_sentence(text, expected):
    assert [s.text for s in split_sentences(text, "es")] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Loved it!!! 😍😍 The staff were great", ["Loved it!!! 😍😍", "The staff were great"]),
        ("¡Excelente! 👍 ¿Volveremos? Sí", ["¡Excelente! 👍", "¿Volveremos?", "Sí"]),
        ("Llegó roto. 😡", ["Llegó roto. 😡"]),
        ("😍😍 Great place. Loved it", ["😍😍 Great place.", "Loved it"]),
    ],
)
def test_sentences_emoji_after_the_end_stay_with_the_sentence(text, expected):
    assert [s.text for s in split_sentences(text, "es")] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bien... Mal... Regular.", ["Bien...", "Mal...", "Regular."]),
        ("Gracias... ¡Volveremos!", ["Gracias...", "¡Volveremos!"]),
        ("Bien… Mal.", ["Bien…", "Mal."]),
        ("I'd give it 5/5... Amazing!", ["I'd give it 5/5...", "Amazing!"]),
        ("Pues... no sé si volveré", ["Pues... no sé si volveré"]),
    ],
)
def test_sentences_ellipsis_before_a_capital_ends_a_sentence(text, expected):
    assert [s.text for s in split_sentences(text, "es")] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5. Muy buena atención", ["5. Muy buena atención"]),
        ("5. Muy buena atención\n\nVolveremos pronto", ["5. Muy buena atención", "Volveremos pronto"]),
        ("- \n- bueno\n-\n•", ["bueno"]),
        ("1.\n2.\n3. bien", ["bien"]),
        ("Puntuación:\n5.", ["Puntuación:", "5."]),
    ],
)
def test_sentences_bullets_only_in_lists(text, expected):
    assert [s.text for s in split_sentences(text, "es")] == expected


def test_sentences_text_over_spacy_max_length():
    text = "a " * 600_000
    spans = split_sentences(text, "es")
    assert [(s.start, s.end) for s in spans] == [(0, len(text) - 1)]


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("We paid $12.50 for No. 5 and it was 3.5 stars.", "en",
         ["We paid $12.50 for No. 5 and it was 3.5 stars."]),
        ("Me costó 5 eur. y fue poco", "es", ["Me costó 5 eur. y fue poco"]),
        ("aprox. 30 min. de espera", "es", ["aprox. 30 min. de espera"]),
        ("Llamé al Tel. 912 345 678 y nada. Fatal.", "es", ["Llamé al Tel. 912 345 678 y nada.", "Fatal."]),
        # "no" is a negation before a word, a number sign only before a digit.
        ("¿volvería? no. la comida fría", "es", ["¿volvería?", "no.", "la comida fría"]),
        # Reviews written all in lower case still split after a short word that is no abbreviation.
        ("el servicio fue malo. la comida fria. todo mal. 0 estrellas", "es",
         ["el servicio fue malo.", "la comida fria.", "todo mal.", "0 estrellas"]),
        ("Muy útil. www.ejemplo.es tiene más", "es", ["Muy útil.", "www.ejemplo.es tiene más"]),
        ("Staff were lovely. 5 stars from us.", "en", ["Staff were lovely.", "5 stars from us."]),
    ],
)
def test_sentences_short_abbreviation_does_not_end_a_sentence(text, language, expected):
    assert [s.text for s in split_sentences(text, language)] == expected


MESSY_REVIEWS = [
    "Bien. (Muy caro) pero ok.",
    'He said "never again." Then he left. «Excelente.» 👍',
    "Loved it!!! 😍😍 The staff were great",
    "¡Excelente! 👍 ¿Volveremos? Sí",
    "😀😀 muy buena atencion 👍👍 la comida excelente 😀",
    "Bien... Mal... Regular. Pues... no sé",
    "Gracias… ¡Volveremos! ¿¡En serio!?",
    "5. Muy buena atención",
    "- \n- bueno\n-\n•",
    "1.\n2.\n3. bien\r\n  4) mal  ",
    "Pros:\n * rápido\n • barato\nContras: caro",
    "We paid $12.50 for No. 5 and it was 3.5 stars. Me costó 5 eur. y fue poco",
    "Mirad https://ejemplo.es/reseñas?id=3. Muy útil. www.ejemplo.es tiene más",
    "Buena comida. —Eso sí, muy cara.  \t  [Editado]   ¡Gracias!",
    "  La habitación estaba sucia.\n\nEl desayuno, excelente!  ",
]
_BULLET_MARKER = re.compile(r"(?m)^[ \t]*(?:[-*•·▪►–—]+|\d{1,2}[.)])(?=\s|$)")


@pytest.mark.parametrize("text", MESSY_REVIEWS)
def test_sentences_spans_cover_the_text_in_order(text):
    spans = split_sentences(text, "es")
    bullets = {i for m in _BULLET_MARKER.finditer(text) for i in range(m.start(), m.end())}
    covered: set[int] = set()
    previous_end = 0
    for span in spans:
        assert span.text == text[span.start : span.end]
        assert span.text and span.text == span.text.strip()
        assert previous_end <= span.start < span.end
        previous_end = span.end
        covered.update(range(span.start, span.end))
    uncovered = {i for i, ch in enumerate(text) if not ch.isspace()} - covered - bullets
    assert not uncovered, [text[i] for i in sorted(uncovered)]


def test_sentences_survive_a_spam_run_of_quotes():
    """Each quote glued to the next used to cost a recursive call: 1,200 of them overflowed the stack."""
    spans = split_sentences('Bien. ' + '"' * 1200 + 'genial', "es")
    assert spans[0].text == "Bien." and spans[-1].text.endswith("genial")


def test_sentences_a_score_line_keeps_its_number_next_to_a_symbol_bullet():
    assert [s.text for s in split_sentences("Todo bien.\n5. Muy buena atención\n- extra", "es")] == [
        "Todo bien.", "5. Muy buena atención", "extra"]
