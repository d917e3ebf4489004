"""A sentence's context: the sentences around it in its answer, which change what it means.

"Fuimos un martes" or "Buff," says little alone; its neighbours say whether the visit went well. The
pipeline always knows which answer a sentence comes from, so a head may read, next to the sentence's own
e5 vector, the mean vector of the sentence and its previous and next sentence in that answer (a window of
one; a one-sentence answer is its own context). On SemEval-2016 training sentences this adds about 3 points
of macro-F1 to a linear sentiment head in both languages (``benchmarks/sentence_context_cv.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def neighbours(texts: Sequence[str], groups: Sequence[object]) -> tuple[list[str], list[str]]:
    """Per text, the previous and the next text of the same group ("" at a group's edge); ``texts`` are in
    reading order and ``groups`` name each text's answer."""
    n = len(texts)
    before = [str(texts[i - 1]) if i > 0 and groups[i - 1] == groups[i] else "" for i in range(n)]
    after = [str(texts[i + 1]) if i + 1 < n and groups[i + 1] == groups[i] else "" for i in range(n)]
    return before, after


def window_vectors(own: np.ndarray, before: Sequence[str], after: Sequence[str],
                   embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """(n, d): the mean of each text's own vector and the vectors of its non-empty neighbours.

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
    return total / count[:, None]


def with_context(own: np.ndarray, context: np.ndarray | None) -> np.ndarray:
    """The features of a context-reading head: own vector, then context vector (own again when none)."""
    own = np.asarray(own, dtype=np.float32)
    return np.hstack([own, own if context is None else np.asarray(context, dtype=np.float32)])
