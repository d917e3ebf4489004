"""A sentence's context: neighbours within an answer, window vectors, and annotators that read them."""

from __future__ import annotations

import numpy as np
import pytest

from vocmine.models.context import SentenceContext, annotate_in_context, neighbours, window_vectors, with_context
from vocmine.protocols import Annotation


def test_neighbours_stop_at_an_answers_edge() -> None:
    texts = ["La comida llegó fría.", "Nadie se disculpó.", "Great staff."]
    before, after = neighbours(texts, ["a1", "a1", "a2"])
    assert before == ["", "La comida llegó fría.", ""]
    assert after == ["Nadie se disculpó.", "", ""]


def test_window_vector_is_the_mean_of_the_sentence_and_its_neighbours() -> None:
    own = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    table = {"prev": np.array([3.0, 0.0]), "next": np.array([0.0, 3.0])}
    context = window_vectors(own, ["prev", "", ""], ["next", "next", ""], lambda t: np.stack([table[x] for x in t]))
    np.testing.assert_allclose(context.vectors, [[4 / 3, 1.0], [0.0, 2.0], [1.0, 1.0]])
    assert context.has_neighbour.tolist() == [True, True, False]
    assert with_context(own, context.vectors).shape == (3, 4)
    np.testing.assert_array_equal(with_context(own, None)[:, 2:], own)


class _Recorder:
    """An annotator that reads context and records what it was given."""

    reads_context = True

    def annotate(self, texts, embeddings, languages, context=None):  # noqa: ANN001, ANN201
        self.context = context
        return [Annotation("x", {"x": 1.0}) for _ in texts]


def test_annotate_in_context_passes_the_window_only_to_annotators_that_read_it() -> None:
    texts = ["Fuimos un martes.", "Todo frío.", "Thanks!"]
    vectors = np.eye(3, dtype=np.float32)
    recorder = _Recorder()
    annotate_in_context(recorder, texts, vectors, ["es", "es", "en"], groups=[0, 0, 1])
    assert isinstance(recorder.context, SentenceContext)
    np.testing.assert_allclose(recorder.context.vectors[0], [0.5, 0.5, 0.0])
    assert recorder.context.has_neighbour.tolist() == [True, True, False]
    # Neighbours outside the batch are embedded through the given function; without one it is an error.
    annotate_in_context(recorder, texts[:1], vectors[:1], ["es"], before=[""], after=["Todo frío."],
                        embed=lambda t: np.array([[0.0, 1.0, 0.0]] * len(t)))
    np.testing.assert_allclose(recorder.context.vectors[0], [0.5, 0.5, 0.0])
    with pytest.raises(ValueError, match="no embed"):
        annotate_in_context(recorder, texts[:1], vectors[:1], ["es"], before=[""], after=["Otra frase."])

    class Plain:
        def annotate(self, texts, embeddings, languages):  # noqa: ANN001, ANN201
            return [Annotation("y") for _ in texts]

    assert annotate_in_context(Plain(), texts, vectors, ["es"] * 3, groups=[0, 0, 1])[0].label == "y"
