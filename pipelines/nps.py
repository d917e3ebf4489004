"""NPS status per response and the NPS estimate with an honest interval.

A response is a *promoter*, *passive* or *detractor* from whichever score it carries: the 0-10
recommend score (9-10 / 7-8 / 0-6), 1-5 stars (5 / 4 / 1-3) or a Booking-style 1-10 review score
(decimals floored, then cut like the 0-10 score). Every cut comes from :class:`NpsConfig` so a
programme with other conventions changes the config, not the code. A response without any score keeps
``None``: it still feeds themes and sentiment, never an NPS figure.

The interval is the *adjusted Wald* interval for the NPS that Rocks (2016, "Interval estimation for
the Net Promoter Score", The American Statistician 70(4):365-372) found to keep its nominal coverage
at small n, where the plain Wald interval (variance ``p + d - (p - d)^2`` over n) is too narrow and
collapses to a single point when everyone is a promoter. The adjustment adds 3 pseudo-respondents
(3/4 promoter, 3/4 detractor, 3/2 passive); for large n the two intervals coincide.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy.stats import norm

from vocmine.config import NpsConfig, VocmineConfig
from vocmine.store import Store

logger = logging.getLogger(__name__)

PROMOTER = "promoter"
PASSIVE = "passive"
DETRACTOR = "detractor"
NPS_CLASSES = (PROMOTER, PASSIVE, DETRACTOR)

#: Value of each class in the NPS mean: NPS = mean of these values, times 100.
NPS_VALUE = {PROMOTER: 1.0, PASSIVE: 0.0, DETRACTOR: -1.0}

IntervalMethod = Literal["adjusted_wald", "wald"]


@dataclass(frozen=True, slots=True)
class NpsEstimate:
    """NPS in points (-100..100) of ``n`` classified respondents, with its interval and how it was made."""

    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    low: float | None
    high: float | None
    method: str


def _cut(values: pd.Series, promoter_min: float, passive_min: float) -> pd.Series:
    out = pd.Series(None, index=values.index, dtype=object)
    present = values.notna()
    out[present & (values >= promoter_min)] = PROMOTER
    out[present & (values >= passive_min) & (values < promoter_min)] = PASSIVE
    out[present & (values < passive_min)] = DETRACTOR
    return out


def classify_nps(score: pd.Series, stars: pd.Series, scale: pd.Series, config: NpsConfig) -> pd.Series:
    """Promoter / passive / detractor (or ``None``) per response, from its score, else its stars.

    ``scale`` says what ``score`` is: ``"0-10"`` (recommend score; also assumed when empty) or
    ``"1-10"`` (review score, floored first when ``config.review10_floor``, so 8.8 is a passive as
    Booking's own NPS-like reading has it). The score wins over stars when both are given, because the
    recommend question is what NPS is defined on. Out-of-range values give ``None`` rather than a
    guess; ingest should have rejected them.
    """
    score = pd.to_numeric(pd.Series(score), errors="coerce")
    index = score.index
    stars = pd.to_numeric(pd.Series(stars, index=index), errors="coerce")
    scale = pd.Series(scale, index=index, dtype=object).fillna("0-10").astype(str)

    result = pd.Series(None, index=index, dtype=object)
    review10 = scale == "1-10"
    recommend = ~review10

    recommend_scores = score.where(recommend & score.between(0, 10))
    result = result.where(recommend_scores.isna(), _cut(recommend_scores, config.score_promoter_min,
                                                        config.score_passive_min))

    review_scores = score.where(review10 & score.between(1, 10))
    if config.review10_floor:
        review_scores = np.floor(review_scores)
    result = result.where(review_scores.isna(), _cut(review_scores, config.review10_promoter_min,
                                                     config.review10_passive_min))

    star_values = stars.where(result.isna() & stars.between(1, 5))
    result = result.where(star_values.isna(), _cut(star_values, config.stars_promoter_min,
                                                   config.stars_passive_min))

    bad = (score.notna() & ~score.between(0, 10)) | (stars.notna() & ~stars.between(1, 5))
    if bad.any():
        logger.warning("%d responses have a score or stars out of range; left without NPS status", int(bad.sum()))
    return result.where(result.notna(), None)


def count_classes(classes: Iterable[object]) -> tuple[int, int, int]:
    """(promoters, passives, detractors) among ``classes``; anything else (None, NaN) is not counted."""
    values = pd.Series(list(classes), dtype=object)
    return (
        int((values == PROMOTER).sum()),
        int((values == PASSIVE).sum()),
        int((values == DETRACTOR).sum()),
    )


def _interval_from_counts(promoters, passives, detractors, confidence: float, method: str):  # noqa: ANN001, ANN202
    """The NPS interval arithmetic once, for floats or numpy arrays of (possibly weighted) class counts."""
    if method == "adjusted_wald":
        promoters, passives, detractors = promoters + 0.75, passives + 1.5, detractors + 0.75
    elif method != "wald":
        raise ValueError(f"unknown interval method {method!r}; use 'adjusted_wald' or 'wald'")
    n = promoters + passives + detractors
    with np.errstate(invalid="ignore", divide="ignore"):
        p, d = promoters / n, detractors / n
        centre = p - d
        half = float(norm.ppf(0.5 + confidence / 2)) * np.sqrt(np.clip(p + d - centre**2, 0, None) / n)
    return 100.0 * np.clip(centre - half, -1, 1), 100.0 * np.clip(centre + half, -1, 1)


def nps_interval(
    promoters: float,
    passives: float,
    detractors: float,
    confidence: float = 0.95,
    method: IntervalMethod = "adjusted_wald",
) -> tuple[float, float]:
    """Interval for the NPS in points, from class counts (counts may be weighted)."""
    extra = 3.0 if method == "adjusted_wald" else 0.0
    if method in ("adjusted_wald", "wald") and promoters + passives + detractors + extra <= 0:
        raise ValueError("no respondents")
    low, high = _interval_from_counts(promoters, passives, detractors, confidence, method)
    return float(low), float(high)


def nps_interval_arrays(
    promoters: np.ndarray,
    passives: np.ndarray,
    detractors: np.ndarray,
    confidence: float = 0.95,
    method: str = "adjusted_wald",
) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised :func:`nps_interval` (one row per segment); NaN where there are no respondents."""
    counts = [np.asarray(a, dtype=float) for a in (promoters, passives, detractors)]
    empty = (counts[0] + counts[1] + counts[2]) == 0
    low, high = _interval_from_counts(*counts, confidence, method)
    low, high = np.asarray(low, dtype=float).copy(), np.asarray(high, dtype=float).copy()
    low[empty] = np.nan
    high[empty] = np.nan
    return low, high


def nps_estimate(
    classes: Iterable[object],
    confidence: float = 0.95,
    method: IntervalMethod = "adjusted_wald",
) -> NpsEstimate:
    """NPS = % promoters - % detractors of the classified respondents, with n and an interval.

    Unclassified entries (``None``) are ignored: they are not respondents to the recommend question.
    With n = 0 the estimate and interval are ``None``, never 0, so a report cannot show a fake zero.
    """
    promoters, passives, detractors = count_classes(classes)
    n = promoters + passives + detractors
    if n == 0:
        return NpsEstimate(0, 0, 0, 0, None, None, None, method)
    nps = 100.0 * (promoters - detractors) / n
    low, high = nps_interval(promoters, passives, detractors, confidence, method)
    # The adjusted interval is centred on the shrunk NPS; with very few respondents it can miss the raw
    # estimate (n = 1 promoter: [-48, 98]). Widen it to include the figure shown next to it.
    low, high = min(low, nps), max(high, nps)
    return NpsEstimate(n, promoters, passives, detractors, nps, low, high, method)


def update_nps_status(store: Store, config: VocmineConfig) -> int:
    """Recompute ``responses.nps_class`` for every response; returns how many rows changed.

    Runs in one transaction, so a crash leaves the old statuses; rerunning with the same config
    changes nothing. Responses without any score get NULL.
    """
    frame = store.df("SELECT response_id, score, score_scale, stars, nps_class FROM responses")
    if frame.empty:
        return 0
    new_class = classify_nps(frame["score"], frame["stars"], frame["score_scale"], config.nps)
    old = frame["nps_class"].astype(object).where(frame["nps_class"].notna(), None)
    changed = [(new, rid) for rid, new, was in zip(frame["response_id"], new_class, old, strict=True) if new != was]
    if changed:
        updates = pd.DataFrame(changed, columns=["nps_class", "response_id"])
        view = f"_nps_{uuid.uuid4().hex}"
        with store.transaction() as con:
            con.register(view, updates)
            try:
                con.execute(
                    f"UPDATE responses SET nps_class = u.nps_class FROM {view} u "
                    "WHERE responses.response_id = u.response_id"
                )
            finally:
                con.unregister(view)
    logger.info("nps status: %d of %d responses changed", len(changed), len(frame))
    return len(changed)


def write_kpis(store: Store, config: VocmineConfig, run_id: str | None = None) -> int:
    """Alias of :func:`vocmine.pipelines.kpis.write_kpis` (the analyze stage imports it from here)."""
    from vocmine.pipelines.kpis import write_kpis as write_kpis_table

    return write_kpis_table(store, config, run_id)
