"""KPIs per segment and period: NPS with its interval, satisfaction index, and a small-n flag.

One row per (segment, segment_value, period): segment ``all`` (value ``all``), ``branch``, ``seller``,
``touchpoint``, ``channel``, ``source``, ``language``, and, when the analysis has them, ``emotion``
(the response's dominant emotion) and ``component`` (rational / emotional / both): the last two let
the report say whether detractors complain about facts or about how they felt (issue 7). Period is
``all``, a month (``2024-03``) or an ISO week (``2024-W09``). Multi-valued segments (a response that
mentions two touchpoints) count the response once in each.

The satisfaction index is reported two ways because analysts ask for both: ``mean_score`` on a common
0-10 scale (stars mapped linearly, 1 -> 0 ... 5 -> 10; 0-10 and 1-10 scores as given) and ``top2box``,
the share of responses in the top two boxes of *their own* scale (9-10, or 4-5 stars), which needs no
scale mapping at all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd

from vocmine.config import VocmineConfig
from vocmine.pipelines.nps import DETRACTOR, PASSIVE, PROMOTER, classify_nps, nps_interval_arrays
from vocmine.store import Store

logger = logging.getLogger(__name__)

#: Segments computed when the column exists and has a value; ``all`` is always there.
DEFAULT_SEGMENTS = ("branch", "seller", "touchpoint", "channel", "source", "language", "emotion", "component")
DEFAULT_PERIODS = ("month", "week")
KPI_COLUMNS = [
    "segment", "segment_value", "period", "n", "promoters", "passives", "detractors",
    "estimate", "low", "high", "mean_score", "top2box", "small_n",
]
#: Annotation labels that mean "nothing found", not a segment of their own.
EMPTY_LABELS = frozenset({"", "none", "other", "neutral_none"})


def satisfaction_values(responses: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Per response: the score on a 0-10 scale and whether it is top-two-box on its own scale (NaN if none)."""
    score = pd.to_numeric(responses.get("score"), errors="coerce") if "score" in responses else None
    stars = pd.to_numeric(responses.get("stars"), errors="coerce") if "stars" in responses else None
    index = responses.index
    score = score if score is not None else pd.Series(np.nan, index=index)
    stars = stars if stars is not None else pd.Series(np.nan, index=index)
    scale = responses["score_scale"].fillna("0-10") if "score_scale" in responses else pd.Series("0-10", index=index)
    has_score = score.notna()
    mean_value = score.where(has_score, (stars - 1.0) * 2.5)
    top_from_score = np.where(scale == "1-10", np.floor(score) >= 9, score >= 9)
    top2 = pd.Series(np.where(has_score, top_from_score, stars >= 4), index=index, dtype=float)
    top2[mean_value.isna()] = np.nan
    return mean_value.astype(float), top2


def _period_labels(created_at: pd.Series, period: str) -> pd.Series:
    stamps = pd.to_datetime(created_at, errors="coerce")
    if period == "month":
        return stamps.dt.strftime("%Y-%m")
    if period == "week":
        iso = stamps.dt.isocalendar()
        labels = iso["year"].astype("string") + "-W" + iso["week"].astype("string").str.zfill(2)
        return labels.where(stamps.notna(), None)
    raise ValueError(f"unknown period {period!r}; use 'month' or 'week'")


def _segment_values(column: pd.Series) -> pd.Series:
    """One entry per (response, value): lists and ';'-joined strings are exploded, empties dropped."""

    def split(value: object) -> list[str]:
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return []
        items = value if isinstance(value, list | tuple | np.ndarray) else str(value).split(";")
        return [str(v).strip() for v in items if str(v).strip() and str(v).strip().lower() not in EMPTY_LABELS]

    exploded = column.map(split).explode().dropna()
    return exploded.astype(str)


def compute_kpis(
    responses: pd.DataFrame,
    config: VocmineConfig,
    segments: Sequence[str] = DEFAULT_SEGMENTS,
    periods: Sequence[str] = DEFAULT_PERIODS,
) -> pd.DataFrame:
    """The ``kpis`` table for these responses (one row per segment, value and period).

    ``responses`` needs ``nps_class`` or the score columns (``score``, ``stars``, ``score_scale``) to
    derive it; segment columns that are missing are skipped. ``n`` counts respondents with an NPS
    status; ``small_n`` is ``n < config.nps.min_n``; estimate/low/high are NULL when n is 0.
    """
    frame = responses.reset_index(drop=True)
    if frame.empty:
        return pd.DataFrame(columns=KPI_COLUMNS)
    if "nps_class" in frame:
        classes = frame["nps_class"]
    else:
        classes = classify_nps(frame.get("score"), frame.get("stars"), frame.get("score_scale"), config.nps)
    mean_value, top2 = satisfaction_values(frame)
    per_row = pd.DataFrame(
        {
            "promoters": (classes == PROMOTER).astype(int),
            "passives": (classes == PASSIVE).astype(int),
            "detractors": (classes == DETRACTOR).astype(int),
            "mean_value": mean_value,
            "top2": top2,
        }
    )

    memberships = [pd.DataFrame({"row": frame.index, "segment": "all", "segment_value": "all"})]
    for segment in segments:
        if segment not in frame:
            continue
        values = _segment_values(frame[segment])
        if not values.empty:
            memberships.append(pd.DataFrame({"row": values.index, "segment": segment, "segment_value": values.values}))
    membership = pd.concat(memberships, ignore_index=True)

    period_frames = [pd.DataFrame({"row": frame.index, "period": "all"})]
    if "created_at" in frame:
        for period in periods:
            labels = _period_labels(frame["created_at"], period).dropna()
            period_frames.append(pd.DataFrame({"row": labels.index, "period": labels.values}))
    period_map = pd.concat(period_frames, ignore_index=True)

    long = membership.merge(period_map, on="row").join(per_row, on="row")
    grouped = long.groupby(["segment", "segment_value", "period"], sort=True).agg(
        promoters=("promoters", "sum"),
        passives=("passives", "sum"),
        detractors=("detractors", "sum"),
        mean_score=("mean_value", "mean"),
        top2box=("top2", "mean"),
    )
    kpis = grouped.reset_index()
    kpis["n"] = kpis["promoters"] + kpis["passives"] + kpis["detractors"]
    with np.errstate(invalid="ignore", divide="ignore"):
        kpis["estimate"] = 100.0 * (kpis["promoters"] - kpis["detractors"]) / kpis["n"].where(kpis["n"] > 0)
    kpis["low"], kpis["high"] = nps_interval_arrays(
        kpis["promoters"].to_numpy(), kpis["passives"].to_numpy(), kpis["detractors"].to_numpy(),
        config.nps.confidence,
    )
    # As in nps_estimate: the shown interval always contains the shown estimate.
    kpis["low"] = np.fmin(kpis["low"], kpis["estimate"])
    kpis["high"] = np.fmax(kpis["high"], kpis["estimate"])
    kpis["small_n"] = kpis["n"] < config.nps.min_n
    for column in ("n", "promoters", "passives", "detractors"):
        kpis[column] = kpis[column].astype(int)
    kpis = kpis[KPI_COLUMNS]
    return kpis.astype({"estimate": float, "low": float, "high": float, "mean_score": float, "top2box": float})


# -- store side -------------------------------------------------------------------------------------


def _labels(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return [v.strip() for v in str(value).split(";") if v.strip() and v.strip().lower() not in EMPTY_LABELS]


def _dominant_emotion(group: pd.DataFrame) -> str:
    """Most frequent emotion over the response's texts; ties go to the larger summed probability."""
    counts: dict[str, float] = {}
    weights: dict[str, float] = {}
    for label, scores in zip(group["label"], group["scores"], strict=True):
        parsed = _parse_scores(scores)
        for emotion in _labels(label):
            counts[emotion] = counts.get(emotion, 0) + 1
            weights[emotion] = weights.get(emotion, 0.0) + float(parsed.get(emotion, 0.0))
    if not counts:
        return "none"
    return sorted(counts, key=lambda e: (-counts[e], -weights[e], e))[0]


def _component_of(group: pd.DataFrame) -> str | None:
    found = {label for value in group["label"] for label in _labels(value)}
    if not found:
        return None
    if found >= {"rational", "emotional"}:
        return "both"
    return sorted(found)[0]


def _parse_scores(scores: object) -> dict[str, float]:
    if isinstance(scores, dict):
        return scores
    if isinstance(scores, str) and scores:
        try:
            parsed = json.loads(scores)
        except json.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def annotation_response_labels(store: Store, task: str) -> pd.DataFrame:
    """Every ``task`` annotation of a response's sentences and answers, as (response_id, level, label, scores)."""
    return store.df(
        """
        SELECT s.response_id, a.level, a.label, CAST(a.scores AS VARCHAR) AS scores
        FROM annotations a JOIN sentences s ON a.level = 'sentence' AND a.target_id = s.sentence_id
        WHERE a.task = ? AND a.label IS NOT NULL
        UNION ALL
        SELECT w.response_id, a.level, a.label, CAST(a.scores AS VARCHAR) AS scores
        FROM annotations a JOIN answers w ON a.level = 'answer' AND a.target_id = w.answer_id
        WHERE a.task = ? AND a.label IS NOT NULL
        """,
        [task, task],
    )


def load_kpi_responses(store: Store) -> pd.DataFrame:
    """Responses with the per-response segment columns the analysis adds.

    ``touchpoint`` becomes the ';'-joined union of the export's touchpoint and the annotated ones;
    ``emotion`` is the dominant emotion ("none" when the texts carry none) and ``component`` is
    rational / emotional / both, from sentence-level annotations (answer-level ones when there are no
    sentence ones).
    """
    responses = store.df(
        "SELECT response_id, source, channel, created_at, language, score, score_scale, stars, nps_class, "
        "branch, seller, touchpoint FROM responses"
    )
    if responses.empty:
        return responses
    touchpoints = annotation_response_labels(store, "touchpoint")
    extra: dict[str, set[str]] = {}
    for response_id, label in zip(touchpoints["response_id"], touchpoints["label"], strict=True):
        extra.setdefault(response_id, set()).update(_labels(label))
    responses["touchpoint"] = [
        ";".join(sorted(set(_labels(given)) | extra.get(rid, set()))) or None
        for rid, given in zip(responses["response_id"], responses["touchpoint"], strict=True)
    ]
    for task, reducer, column in (("emotion", _dominant_emotion, "emotion"), ("component", _component_of, "component")):
        labelled = annotation_response_labels(store, task)
        if labelled.empty:
            continue
        preferred = labelled[labelled["level"] == "sentence"]
        answer_only = labelled[~labelled["response_id"].isin(preferred["response_id"])]
        usable = pd.concat([preferred, answer_only])
        per_response = {rid: reducer(group) for rid, group in usable.groupby("response_id", sort=False)}
        responses[column] = responses["response_id"].map(per_response)
    return responses


def write_kpis(store: Store, config: VocmineConfig, run_id: str | None = None) -> int:
    """Replace the ``kpis`` table with this run's figures, in one transaction; returns rows written.

    Replacing (not upserting) keeps a segment that disappeared (a branch closed, a period pruned) from
    lingering with stale numbers; reruns give the same rows.
    """
    responses = load_kpi_responses(store)
    kpis = compute_kpis(responses, config)
    kpis["run_id"] = run_id
    with store.transaction() as con:
        con.execute("DELETE FROM kpis")
        written = store.upsert("kpis", kpis)
    logger.info("kpis: %d rows written", written)
    return written
