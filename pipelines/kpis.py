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


#: Labels of one task per response, split on ';' and trimmed, counted in DuckDB: a 100k-response store has
#: ~550k sentence annotations per task, which as pandas rows (with their JSON scores) cost ~0.7 GB and a
#: Python group-by per response; the counted pairs are a few per response. With ``$sentence_first``, a
#: response's answer-level labels count only when it has no sentence-level ones. Empty keys are kept
#: (as '') so a response whose texts were labelled but carry nothing still appears.
_LABEL_COUNTS_SQL = """
WITH labelled AS (
    SELECT s.response_id, a.level, a.label, a.scores
    FROM annotations a JOIN sentences s ON a.target_id = s.sentence_id
    WHERE a.level = 'sentence' AND a.task = $task AND a.label IS NOT NULL
    UNION ALL
    SELECT w.response_id, a.level, a.label, a.scores
    FROM annotations a JOIN answers w ON a.target_id = w.answer_id
    WHERE a.level = 'answer' AND a.task = $task AND a.label IS NOT NULL
), used AS (
    SELECT * FROM labelled
    WHERE NOT $sentence_first OR level = 'sentence'
       OR response_id NOT IN (SELECT response_id FROM labelled WHERE level = 'sentence')
), exploded AS (
    SELECT response_id, trim(unnest(string_split(label, ';'))) AS key, scores FROM used
)
SELECT response_id, key, count(*) AS n,
       sum(CASE WHEN $weights
                THEN COALESCE(TRY_CAST(json_extract_string(scores, '$."' || key || '"') AS DOUBLE), 0.0)
                ELSE 0.0 END) AS weight
FROM exploded
GROUP BY response_id, key
"""


def response_label_counts(
    store: Store, task: str, *, sentence_first: bool = False, weights: bool = False
) -> pd.DataFrame:
    """(response_id, key, n, weight) for ``task``: how many of the response's labelled texts carry each
    label, and (``weights``) the summed probability of that label in their scores. ``response_id`` is a
    categorical: a few rows per response, each id one Python string."""
    return store.df(_LABEL_COUNTS_SQL, {"task": task, "sentence_first": sentence_first, "weights": weights},
                    categories=("response_id",))


def without_empty(counts: pd.DataFrame, empty: frozenset[str] = EMPTY_LABELS) -> pd.DataFrame:
    """The rows whose key is a real label (not '', "none", "other", ...)."""
    return counts[~counts["key"].str.lower().isin(empty)]


def _label_sets(counts: pd.DataFrame) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for response_id, key in zip(counts["response_id"], counts["key"], strict=True):
        found.setdefault(response_id, set()).add(key)
    return found


def _dominant_emotions(store: Store) -> dict[str, str]:
    """Most frequent emotion over each response's texts; ties go to the larger summed probability, then
    the name; "none" when its texts were labelled but carry no emotion."""
    counts = response_label_counts(store, "emotion", sentence_first=True, weights=True)
    dominant = dict.fromkeys(counts["response_id"].unique().tolist(), "none")
    ranked = without_empty(counts).sort_values(
        ["response_id", "n", "weight", "key"], ascending=[True, False, False, True]
    ).drop_duplicates("response_id")
    dominant.update(zip(ranked["response_id"], ranked["key"], strict=True))
    return dominant


def _components(store: Store) -> dict[str, str]:
    """rational, emotional or both, per response that has any."""
    found = _label_sets(without_empty(response_label_counts(store, "component", sentence_first=True)))
    return {rid: "both" if keys >= {"rational", "emotional"} else sorted(keys)[0] for rid, keys in found.items()}


#: Segment columns ``load_kpi_responses`` derives from annotations (the rest are columns of ``responses``).
ANNOTATED_SEGMENTS = frozenset({"touchpoint", "emotion", "component"})


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
    extra = _label_sets(without_empty(response_label_counts(store, "touchpoint")))
    responses["touchpoint"] = [
        ";".join(sorted(set(_labels(given)) | extra.get(rid, set()))) or None
        for rid, given in zip(responses["response_id"], responses["touchpoint"], strict=True)
    ]
    for column, per_response in (("emotion", _dominant_emotions(store)), ("component", _components(store))):
        if per_response:
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
