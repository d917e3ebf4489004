"""A sentence's context: the sentences around it in its answer, which change what it means.

"Fuimos un martes" or "Buff," says little alone; its neighbours say whether the visit went well. The
pipeline always knows which answer a sentence comes from, so a head may read, next to the sentence's own
e5 vector, the mean vector of the sentence and its previous and next sentence in that answer (a window of
one; a one-sentence answer is its own context). On SemEval-2016 training sentences this adds about 3 points
of macro-F1 to a linear sentiment head in both languages (``benchmarks/sentence_context_cv.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np


def neighbours(texts: Sequence[str], groups: Sequence[object]) -> tuple[list[str], list[str]]:
    """Per text, the previous and the next text of the same group ("" at a group's edge); ``texts`` are in
    reading order and ``groups`` name each text's answer."""
    n = len(texts)
    before = [str(texts[i - 1]) if i > 0 and groups[i - 1] == groups[i] else "" for i in range(n)]
    after = [str(texts[i + 1]) if i + 1 < n and groups[i + 1] == groups[i] else "" for i in range(n)]
    return before, after


class SentenceContext(NamedTuple):
    """Per text, its window vector and whether it has any neighbour (a head reads context only then)."""

    vectors: np.ndarray
    has_neighbour: np.ndarray

    def take(self, rows: np.ndarray | Sequence[int]) -> SentenceContext:
        """The context of the texts at ``rows`` (a mask or indices), e.g. the ones a model will score."""
        return SentenceContext(self.vectors[rows], self.has_neighbour[rows])


def window_vectors(own: np.ndarray, before: Sequence[str], after: Sequence[str],
                   embed: Callable[[list[str]], np.ndarray]) -> SentenceContext:
    """Each text's window vector (the mean of its own vector and those of its non-empty neighbours) and a mask
    of the texts that have a neighbour.

    ``embed`` turns texts into vectors of the same embedder as ``own`` (in the pipeline, through the store's
    cache, where the neighbours, being sentences of the same answers, already are)."""
    own = np.asarray(own, dtype=np.float32)
    total, count = own.copy(), np.ones(len(own), dtype=np.float32)
    wanted = sorted({t for t in [*before, *after] if t and t.strip()})
    if wanted:
        vectors = dict(zip(wanted, np.asarray(embed(wanted), dtype=np.float32), strict=True))
        for side in (before, after):
            for i, text in enumerate(side):
                if text in vectors:
                    total[i] += vectors[text]
                    count[i] += 1
    return SentenceContext(total / count[:, None], count > 1)


def with_context(own: np.ndarray, context: np.ndarray | None) -> np.ndarray:
    """The features of a context-reading head: own vector, then context vector (own again when none)."""
    own = np.asarray(own, dtype=np.float32)
    return np.hstack([own, own if context is None else np.asarray(context, dtype=np.float32)])


def annotate_in_context(annotator: Any, texts: Sequence[str], vectors: np.ndarray,
                        languages: Sequence[str | None], groups: Sequence[object] | None = None,
                        before: Sequence[str] | None = None, after: Sequence[str] | None = None,
                        embed: Callable[[list[str]], np.ndarray] | None = None) -> list[Any]:
    """``annotator.annotate``, passing each text's context when the annotator reads it (``reads_context``).

    Give either ``groups`` (each text's answer; ``texts`` in reading order, all of an answer's sentences
    present) or ``before``/``after`` neighbour texts with ``embed`` for the neighbours not among ``texts``."""
    if not getattr(annotator, "reads_context", False) or not len(texts):
        return annotator.annotate(texts, vectors, languages)
    if before is None or after is None:
        if groups is None:
            raise ValueError("give the texts' groups or their neighbours")
        before, after = neighbours(texts, groups)
    known = dict(zip((str(t) for t in texts), np.asarray(vectors), strict=True))

    def lookup(wanted: list[str]) -> np.ndarray:
        missing = [t for t in wanted if t not in known]
        if missing:
            if embed is None:
                raise ValueError(f"{len(missing)} neighbour texts have no vector and no embed was given")
            known.update(zip(missing, np.asarray(embed(missing)), strict=True))
        return np.stack([known[t] for t in wanted])

    context = window_vectors(vectors, list(before), list(after), lookup)
    return annotator.annotate(texts, vectors, languages, context=context)
