"""Row-aligned vectors stored once per distinct text, shared by theme building and theme labels."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np


def cosines(vectors: np.ndarray, centroid: np.ndarray) -> np.ndarray:
    """Cosine of each row of ``vectors`` to ``centroid``; 0 for a zero row."""
    norms = np.linalg.norm(vectors, axis=1) * max(float(np.linalg.norm(centroid)), 1e-12)
    norms[norms == 0] = 1.0
    return (vectors @ np.asarray(centroid, dtype=vectors.dtype)) / norms


def unit_vectors(matrix: np.ndarray) -> np.ndarray:
    """Each row scaled to length 1 (a zero row stays zero), as float32."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


@dataclass(frozen=True, slots=True)
class RowVectors:
    """Row-aligned vectors held once per distinct text: row ``i``'s vector is ``matrix[index[i]]``.

    A large store repeats sentences ("Excelente servicio", the same complaint pasted twice, a sentence in
    two touchpoints after the explode), so a plain row matrix of a 100k-response store would hold ~400k
    rows of 384 floats, and every sorted or normalised copy of it as much again. Indexing with a row, a
    list or an array of rows returns plain arrays, exactly as the full matrix would.
    """

    matrix: np.ndarray
    index: np.ndarray

    @classmethod
    def of(cls, embeddings: RowVectors | np.ndarray) -> RowVectors:
        if isinstance(embeddings, RowVectors):
            return embeddings
        matrix = np.asarray(embeddings, dtype=np.float32)
        return cls(matrix, np.arange(len(matrix)))

    def __len__(self) -> int:
        return len(self.index)

    @property
    def shape(self) -> tuple[int, int]:
        return (len(self.index), self.matrix.shape[1])

    def __getitem__(self, rows: Any) -> np.ndarray:
        return self.matrix[self.index[rows]]

    def mean(self, rows: Any) -> np.ndarray:
        """Mean vector of ``rows``, weighting each distinct vector by its count (no row matrix built)."""
        counts = np.bincount(self.index[rows], minlength=len(self.matrix)).astype(np.float32)
        return (counts @ self.matrix) / max(1.0, float(counts.sum()))

    def take(self, order: np.ndarray) -> RowVectors:
        """The rows in ``order`` (no vector is copied)."""
        return RowVectors(self.matrix, self.index[order])

    def canonical(self) -> RowVectors:
        """The same rows with the distinct vectors stored in order of their first row, so sums over them
        (``mean``) do not depend on the order the vectors came from the store in."""
        _, first, inverse = np.unique(self.index, return_index=True, return_inverse=True)
        rank = np.empty(len(first), dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(len(first))
        kept = self.index[np.sort(first)]
        return RowVectors(self.matrix[kept], rank[inverse.ravel()])

    def cosines(self, centroid: np.ndarray) -> np.ndarray:
        """Cosine of every row to ``centroid``, computed once per distinct vector the rows use."""
        used, inverse = np.unique(self.index, return_inverse=True)
        return cosines(self.matrix[used], centroid)[inverse.ravel()]

    def unit(self) -> RowVectors:
        """Every vector scaled to length 1."""
        return RowVectors(unit_vectors(self.matrix), self.index)
