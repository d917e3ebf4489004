"""The few plain interfaces components meet. Any object of the right shape fits; no base class needed.

This is what lets a researcher pass their own scikit-learn pipeline or a local Hugging Face checkpoint
where vocmine expects a classifier or an embedder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into dense vectors.

    ``name`` identifies model *and* version: it is part of the embedding cache key, so two models (or two
    versions of one) never share cached vectors.
    """

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(len(texts), dim)`` float32 array, L2-normalised."""
        ...


@runtime_checkable
class TextClassifier(Protocol):
    """A trainable classifier over texts (or over their embeddings, which it computes itself)."""

    labels_: list[str]

    def fit(self, texts: Sequence[str], y: Sequence[Any]) -> Self: ...

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities with columns in ``labels_`` order."""
        ...

    def save(self, directory: Path) -> None: ...

    @classmethod
    def load(cls, directory: Path) -> Self: ...


@dataclass(frozen=True, slots=True)
class Annotation:
    """One label for one text, as stored in the ``annotations`` table.

    ``label`` is the single label, or the ';'-joined labels of a multi-label task (emotions,
    touchpoints); ``None`` when the text was skipped, with ``skip_reason`` saying why (e.g.
    "language pt not modelled"). ``scores`` maps every label to its probability or score.
    """

    label: str | None
    scores: dict[str, float] = field(default_factory=dict)
    skip_reason: str | None = None


@runtime_checkable
class Annotator(Protocol):
    """An analysis step that labels texts from their embeddings (what the ``analyze`` stage runs).

    ``task`` is the column it fills ("sentiment", "emotion", "component", "touchpoint"); ``name`` is its
    versioned registry name, stored with every annotation; ``embedder`` is the registry name of the
    embedder whose vectors it expects, so the pipeline embeds each text once and shares the vectors.
    """

    task: str
    name: str
    embedder: str

    def annotate(
        self, texts: Sequence[str], embeddings: np.ndarray, languages: Sequence[str | None]
    ) -> list[Annotation]: ...
