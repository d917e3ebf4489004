"""Stable theme ids across runs.

A rerun on the same data must give the same ids (the id is a hash of the theme's member texts, and the
clustering is seeded), and a run on new data must keep the id of a root cause an analyst already knows.
New themes are matched to the previous run's themes of the same touchpoint and polarity by centroid
cosine, one-to-one (closest pairs first). e5 cosines are compressed (unrelated sentences sit at
0.7-0.8, sibling theme centroids at 0.85-0.95), so a fixed cosine alone would chain distinct causes:
a pair is accepted only when it is mutually the best pair AND clears ``min_cosine`` (see the measurement
below and docs/themes.md).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import pandas as pd

from vocmine.ids import content_hash

logger = logging.getLogger(__name__)

#: Measured (benchmarks/eval_themes_airline.py, airline test negatives, 80% -> 100%): same-cause centroid
#: pairs 0.994-0.999 (median 0.999), yet the best *other* theme sat at median 0.981, max 0.988. So the
#: cosine floor alone cannot tell causes apart; the closest-first one-to-one matching does, and this floor
#: only refuses matches across an obvious change of cause. 0.99 would fit that data set; not tested on
#: small corpora, whose centroids move more between runs, so the looser floor is kept.
DEFAULT_MIN_COSINE = 0.95


def slug(value: str) -> str:
    """ASCII lowercase slug for ids ("Atención al cliente" -> "atencion_al_cliente")."""
    ascii_value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "_", ascii_value.lower()).strip("_") or "x"


def new_theme_id(touchpoint: str, polarity: str, member_hashes: Sequence[str]) -> str:
    """Deterministic id of a theme that matches nothing earlier: touchpoint/polarity/hash of its members."""
    digest = content_hash(sorted(set(member_hashes)))[:8]
    return f"{slug(touchpoint)}/{polarity[:3]}/{digest}"


def _unit(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return matrix / norms


def match_themes(
    new_centroids: np.ndarray,
    previous_ids: Sequence[str],
    previous_centroids: np.ndarray,
    min_cosine: float = DEFAULT_MIN_COSINE,
) -> dict[int, tuple[str, float]]:
    """Map row index of ``new_centroids`` -> (previous id, cosine) for pairs that are the same cause.

    One-to-one and greedy from the closest pair down: each accepted pair is mutually nearest among the
    themes still unmatched, so a second new theme near the same old one gets a new id, never a copy.
    """
    if len(new_centroids) == 0 or len(previous_ids) == 0:
        return {}
    sim = _unit(new_centroids) @ _unit(previous_centroids).T
    order = sorted(
        ((float(sim[r, c]), r, c) for r in range(sim.shape[0]) for c in range(sim.shape[1])),
        key=lambda item: (-item[0], item[1], item[2]),
    )
    out: dict[int, tuple[str, float]] = {}
    used_previous: set[int] = set()
    for cosine, r, c in order:
        if cosine < min_cosine:
            break
        if r in out or c in used_previous:
            continue
        out[r] = (previous_ids[c], cosine)
        used_previous.add(c)
    return out


def previous_for_group(previous: pd.DataFrame | None, touchpoint: str, polarity: str) -> pd.DataFrame:
    """Previous themes of one touchpoint/polarity that clustering can match (not override-made splits)."""
    if previous is None or previous.empty:
        return pd.DataFrame(columns=["theme_id", "centroid"])
    mask = (previous["touchpoint"] == touchpoint) & (previous["polarity"] == polarity)
    mask &= ~previous["theme_id"].astype(str).str.contains("~", regex=False)
    mask &= previous["centroid"].map(lambda c: c is not None and len(c) > 0)
    return previous[mask]
