from __future__ import annotations

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
