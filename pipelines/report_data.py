"""Everything the report shows, read from the store into plain records (no HTML here).

The report is the last stage, but it must work while the earlier ones are still missing: the stages that
fill ``kpis``, ``drivers``, ``themes`` and ``annotations`` may not have run yet. So this module reads what
is there, computes the basic figures itself where a table is empty (response counts, languages, period,
NPS from ``responses.nps_class``), and marks the rest "not computed yet" instead of failing. Where the NPS
stage did write ``kpis``, its numbers win, so the report and the exports never disagree with
``select * from kpis``.

Statistics are not re-implemented here: NPS figures and their intervals come from
:mod:`vocmine.pipelines.nps` (adjusted Wald, as in ``kpis``) and the branch/seller homogeneity test and
stand-out flags from :mod:`vocmine.pipelines.homogeneity`, so a fallback figure equals the one the NPS
stage would have written. This module only turns their results into the records the templates read.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from vocmine.config import VocmineConfig
from vocmine.pipelines import homogeneity as network
from vocmine.pipelines.i18n import choose_language
from vocmine.pipelines.nps import nps_estimate, nps_interval
from vocmine.store import Store, utcnow

logger = logging.getLogger(__name__)

EMOTIONS = ("anger", "disgust", "fear", "joy", "sadness", "surprise")
#: Labels an emotion model may use for "no emotion"; they never count as an emotion.
NO_EMOTION = {"none", "others", "other", "neutral", ""}
ALL = "all"
UNASSIGNED = "unassigned"
_OVERALL_ALIASES = {"all", "overall", "total", ""}
_SEGMENTS = ("branch", "seller", "channel", "source", "touchpoint")


# -- records ---------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NpsFigure:
    """NPS in points (-100..100) with its interval and n; ``nps`` is None when nobody has a status."""

    n: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None
    low: float | None
    high: float | None
    small_n: bool


@dataclass(frozen=True, slots=True)
class MeanFigure:
    n: int
    mean: float | None
    low: float | None
    high: float | None
    small_n: bool


@dataclass(frozen=True, slots=True)
class PeriodPoint:
    period: str
    figure: NpsFigure


@dataclass(frozen=True, slots=True)
class Overview:
    responses: int
    sources: list[tuple[str, int]]
    languages: list[tuple[str, int]]
    period_start: datetime | None
    period_end: datetime | None
    nps: NpsFigure
    satisfaction: MeanFigure
    top2box: MeanFigure


@dataclass(frozen=True, slots=True)
class RootCause:
    theme_id: str
    label: str
    touchpoint: str
    polarity: str
    size: int
    respondents: int | None
    detractor_share: float | None
    impact: float | None
    impact_low: float | None
    impact_high: float | None
    strength: float | None
    strength_low: float | None
    strength_high: float | None
    mean_sentiment: float | None
    dominant_emotions: list[str]
    trend: list[tuple[str, int]]
    verbatims: list[str]
    emerging: bool
    emerging_evidence: str | None
    first_seen: datetime | None
    small_n: bool


@dataclass(frozen=True, slots=True)
class TouchpointSummary:
    """Per touchpoint: sentence counts, sentiment and component split, emotion shares, ranked causes."""

    touchpoint: str
    sentences: int
    sentiment_shares: dict[str, float]
    emotion_shares: dict[str, float]
    rational_share: float | None
    component_n: int
    causes: list[RootCause]
    examples: list[str]
    small_n: bool
    #: The touchpoint's own NPS impact (from the drivers table), when the NPS stage computed it.
    impact: float | None = None
    impact_low: float | None = None
    impact_high: float | None = None


@dataclass(frozen=True, slots=True)
class GroupRow:
    """One branch or seller as the report shows it; the comparison with the rest is the NPS stage's."""

    name: str
    figure: NpsFigure
    #: "below" / "above" when the group differs from the rest after the Benjamini-Hochberg adjustment
    #: (:func:`vocmine.pipelines.homogeneity.standout_groups`), else None.
    stands_out: str | None
    difference: float | None
    difference_low: float | None
    difference_high: float | None


@dataclass(frozen=True, slots=True)
class Homogeneity:
    """The network-wide test of :func:`vocmine.pipelines.homogeneity.homogeneity_test`, as the report shows it."""

    groups_tested: int
    chi2: float | None
    dof: int | None
    p_value: float | None
    homogeneous: bool | None
    #: "chi-square" or "monte-carlo permutation" (small expected counts); None when not testable.
    method: str | None = None


@dataclass(frozen=True, slots=True)
class GroupSection:
    column: str
    present: bool
    rows: list[GroupRow]
    homogeneity: Homogeneity


@dataclass(frozen=True, slots=True)
class DataQuality:
    rejects: list[tuple[str, str, str, int]]  # (file, column, expected, count)
    rejected_total: int
    files: list[tuple[str, int, int]]  # (path, rows_read, rows_rejected)
    not_analysed: list[tuple[str, int]]  # (language, responses)
    skipped: list[tuple[str, str, int]]  # (task, reason, count)


@dataclass(slots=True)
class ReportData:
    """The whole report as data; :mod:`vocmine.pipelines.report` renders it."""

    language: str
    generated_at: datetime
    store_path: str
    min_n: int
    overview: Overview
    trend: list[PeriodPoint]
    touchpoints: list[TouchpointSummary]
    has_sentences: bool
    has_themes: bool
    has_drivers: bool
    has_touchpoints: bool
    has_emotions: bool
    has_component: bool
    branches: GroupSection
    sellers: GroupSection
    emerging: list[RootCause]
    quality: DataQuality
    kpis: pd.DataFrame = field(repr=False)
    #: NPS by the response's rational/emotional component and dominant emotion (from ``kpis``, if computed).
    by_component: list[tuple[str, NpsFigure]] = field(default_factory=list)
    by_emotion: list[tuple[str, NpsFigure]] = field(default_factory=list)


# -- statistics ------------------------------------------------------------------------------------
def _z(confidence: float) -> float:
    return NormalDist().inv_cdf(0.5 + confidence / 2)


def nps_figure(classes: Iterable[str | None], min_n: int = 30, confidence: float = 0.95) -> NpsFigure:
    """NPS of the classified entries with the adjusted-Wald interval of :func:`vocmine.pipelines.nps.nps_estimate`.

    The same estimate and interval as the ``kpis`` table; with n = 0 there is no estimate. Every figure
    below ``min_n`` carries a "too few responses" flag.
    """
    estimate = nps_estimate(list(classes), confidence)
    return NpsFigure(
        estimate.n,
        estimate.promoters,
        estimate.passives,
        estimate.detractors,
        estimate.nps,
        estimate.low,
        estimate.high,
        estimate.n < min_n,
    )


def nps_from_counts(
    promoters: int, passives: int, detractors: int, min_n: int = 30, confidence: float = 0.95
) -> NpsFigure:
    """:func:`nps_figure` from class counts (used to pool periods into quarters or years).

    The interval is :func:`vocmine.pipelines.nps.nps_interval`, widened to contain the estimate exactly as
    :func:`~vocmine.pipelines.nps.nps_estimate` and the ``kpis`` table do, so both paths give one figure.
    """
    n = promoters + passives + detractors
    if n == 0:
        return NpsFigure(0, 0, 0, 0, None, None, None, True)
    nps = 100.0 * (promoters - detractors) / n
    low, high = nps_interval(promoters, passives, detractors, confidence)
    return NpsFigure(n, promoters, passives, detractors, nps, min(low, nps), max(high, nps), n < min_n)


def mean_figure(values: Iterable[float], min_n: int = 30, confidence: float = 0.95) -> MeanFigure:
    array = np.asarray([v for v in values if v is not None and not pd.isna(v)], dtype=float)
    n = len(array)
    if n == 0:
        return MeanFigure(0, None, None, None, True)
    mean = float(array.mean())
    if n == 1:
        return MeanFigure(1, mean, None, None, True)
    half = _z(confidence) * float(array.std(ddof=1)) / math.sqrt(n)
    return MeanFigure(n, mean, mean - half, mean + half, n < min_n)


def _numeric(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(np.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[column], errors="coerce").astype(float)


def satisfaction_0_10(responses: pd.DataFrame) -> pd.Series:
    """Each response's rating on one 0-10 scale, as the NPS stage's ``kpis.mean_score`` computes it.

    0-10 and 1-10 scores are taken as given; stars map linearly (1 -> 0 ... 5 -> 10). One scale lets
    surveys, Booking-style reviews and star reviews pool into one satisfaction index.
    """
    score, stars = _numeric(responses, "score"), _numeric(responses, "stars")
    from_stars = (stars - 1) / 4 * 10
    return score.where(score.notna(), from_stars).clip(0, 10)


def top_two_box(responses: pd.DataFrame) -> pd.Series:
    """1.0 when a response is in the top two boxes of its own scale (9-10, or 4-5 stars), 0.0 if not, NaN if unrated."""
    score, stars = _numeric(responses, "score"), _numeric(responses, "stars")
    top = pd.Series(np.where(score.notna(), score >= 9, stars >= 4), index=responses.index, dtype=float)
    return top.where(score.notna() | stars.notna())


def group_difference(
    group: Sequence[str | None], rest: Sequence[str | None], confidence: float = 0.95
) -> tuple[float | None, float | None, float | None]:
    """NPS(group) - NPS(rest) in points with its interval, from :func:`vocmine.pipelines.homogeneity.standout_groups`.

    ``(None, None, None)`` when either side has no classified respondent.
    """
    classes = pd.Series(list(group) + list(rest), dtype=object)
    groups = pd.Series(["group"] * len(group) + ["rest"] * len(rest), dtype=object)
    config = VocmineConfig.model_validate({"nps": {"confidence": confidence}})
    table = network.standout_groups(classes, groups, config)
    row = table[table["segment_value"] == "group"]
    if row.empty or int(row["rest_n"].iloc[0]) == 0:
        return None, None, None
    difference, low, high = (_opt_float(row[column].iloc[0]) for column in ("difference", "low", "high"))
    return difference, low, high


def group_homogeneity(frame: pd.DataFrame, column: str, config: VocmineConfig) -> Homogeneity:
    """The NPS stage's network test (chi-square, or a seeded permutation test when counts are small).

    Same call as :func:`vocmine.pipelines.homogeneity.homogeneity_report`, so the report shows the same
    statistic and p-value; "homogeneous" means p >= 1 - confidence.
    """
    test = network.homogeneity_test(
        frame["nps_class"], frame[column], column, config.nps.bootstrap_samples, config.seed
    )
    if test.p_value is None:
        return Homogeneity(test.groups, None, None, None, None, None)
    homogeneous = test.p_value >= 1 - config.nps.confidence
    return Homogeneity(test.groups, test.statistic, test.dof, test.p_value, homogeneous, test.method)


# -- basic KPIs (fallback when the NPS stage has not run) -----------------------------------------
def period_key(created: pd.Series, granularity: str) -> pd.Series:
    stamps = pd.to_datetime(created, errors="coerce")
    if granularity == "week":
        iso = stamps.dt.isocalendar()
        keys = iso["year"].astype("Int64").astype(str) + "-W" + iso["week"].astype("Int64").astype(str).str.zfill(2)
        return keys.where(stamps.notna(), None)
    return stamps.dt.strftime("%Y-%m").where(stamps.notna(), None)


def choose_granularity(created: pd.Series) -> str:
    """Months, unless the data spans under three months: then weeks, so the trend has more than 2 points."""
    stamps = pd.to_datetime(created, errors="coerce").dropna()
    if stamps.empty:
        return "month"
    return "week" if (stamps.max() - stamps.min()).days < 90 else "month"


def basic_kpis(responses: pd.DataFrame, config: VocmineConfig) -> pd.DataFrame:
    """KPIs in the ``kpis`` table's shape, computed here from ``responses.nps_class``.

    Used where the NPS stage has not written ``kpis`` yet: overall, per period, and per branch, seller,
    channel, source and touchpoint.
    """
    min_n, confidence = config.nps.min_n, config.nps.confidence
    rows: list[dict[str, Any]] = []
    sat = satisfaction_0_10(responses) if len(responses) else pd.Series(dtype=float)
    top2 = top_two_box(responses) if len(responses) else pd.Series(dtype=float)

    def add(segment: str, value: str, period: str, mask: pd.Series) -> None:
        fig = nps_figure(responses.loc[mask, "nps_class"], min_n, confidence)
        scores = sat[mask].dropna()
        rows.append(
            {
                "segment": segment,
                "segment_value": value,
                "period": period,
                "n": fig.n,
                "promoters": fig.promoters,
                "passives": fig.passives,
                "detractors": fig.detractors,
                "estimate": fig.nps,
                "low": fig.low,
                "high": fig.high,
                "mean_score": float(scores.mean()) if len(scores) else None,
                "top2box": float(top2[mask].mean()) if top2[mask].notna().any() else None,
                "small_n": fig.small_n,
                "run_id": "report-fallback",
            }
        )

    if len(responses):
        everyone = pd.Series(True, index=responses.index)
        add(ALL, ALL, ALL, everyone)
        periods = period_key(responses["created_at"], choose_granularity(responses["created_at"]))
        for period in sorted(p for p in periods.dropna().unique()):
            add(ALL, ALL, str(period), periods == period)
        for segment in _SEGMENTS:
            if segment not in responses:
                continue
            for value in sorted(v for v in responses[segment].dropna().unique() if str(v).strip()):
                add(segment, str(value), ALL, responses[segment] == value)
    columns = [
        "segment", "segment_value", "period", "n", "promoters", "passives", "detractors", "estimate",
        "low", "high", "mean_score", "top2box", "small_n", "run_id",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def trend_rows(kpis: pd.DataFrame) -> pd.DataFrame:
    """The overall rows of one period granularity: months when there are at least three, else weeks.

    The NPS stage writes months ("2024-03") and ISO weeks ("2024-W09") side by side; one chart must not
    mix them.
    """
    rows = kpis[(kpis["segment"] == ALL) & (kpis["segment_value"] == ALL) & (kpis["period"] != ALL)]
    periods = rows["period"].astype(str)
    months = rows[periods.str.fullmatch(r"\d{4}-\d{2}")]
    weeks = rows[periods.str.fullmatch(r"\d{4}-W\d{2}")]
    if len(months) >= 3 or (len(months) and weeks.empty):
        return months
    if len(weeks):
        return weeks
    return rows


#: More monthly points than this and the trend pools months into quarters, then quarters into years.
MAX_TREND_POINTS = 36


def coarsen_trend(points: list[PeriodPoint], min_n: int = 30, confidence: float = 0.95) -> list[PeriodPoint]:
    """Pool months into quarters (and quarters into years) when a long history would give a noisy chart.

    Ten years of monthly NPS is 120 points of mostly small n; the same data by quarter or year has fewer,
    trustworthy points. Pooling adds the class counts and recomputes the figure and its interval.
    """
    import re

    def pooled(key_of: Callable[[str], str]) -> list[PeriodPoint]:
        groups: dict[str, list[int]] = {}
        for point in points:
            key = key_of(point.period)
            counts = groups.setdefault(key, [0, 0, 0])
            counts[0] += point.figure.promoters
            counts[1] += point.figure.passives
            counts[2] += point.figure.detractors
        return [PeriodPoint(k, nps_from_counts(*v, min_n, confidence)) for k, v in sorted(groups.items())]

    if len(points) <= MAX_TREND_POINTS or not all(re.fullmatch(r"\d{4}-\d{2}", p.period) for p in points):
        return points
    if not all(p.figure.n == p.figure.promoters + p.figure.passives + p.figure.detractors for p in points):
        return points  # counts missing: cannot pool honestly
    quarters = pooled(lambda period: f"{period[:4]}-Q{(int(period[5:7]) - 1) // 3 + 1}")
    if len(quarters) <= MAX_TREND_POINTS:
        return quarters
    return pooled(lambda period: period[:4])


def merged_kpis(store: Store, responses: pd.DataFrame, config: VocmineConfig) -> pd.DataFrame:
    """The store's ``kpis`` where present, the basic ones for every key the store lacks.

    Segment and period names are normalised ("overall"/"total" -> "all"; a ``period`` segment becomes an
    overall row of that period) so the report finds figures whichever convention the NPS stage used.
    """
    computed = basic_kpis(responses, config)
    stored = store.df("SELECT * FROM kpis")
    if stored.empty:
        return computed
    stored = stored.copy()
    stored["segment"] = stored["segment"].fillna(ALL).astype(str)
    stored["segment_value"] = stored["segment_value"].fillna(ALL).astype(str)
    stored["period"] = stored["period"].fillna(ALL).astype(str)
    overall = stored["segment"].str.lower().isin(_OVERALL_ALIASES)
    stored.loc[overall, "segment"] = ALL
    stored.loc[overall & stored["segment_value"].str.lower().isin(_OVERALL_ALIASES), "segment_value"] = ALL
    is_period_segment = stored["segment"].str.lower().isin({"period", "month", "week"})
    stored.loc[is_period_segment, "period"] = stored.loc[is_period_segment, "segment_value"]
    stored.loc[is_period_segment, ["segment", "segment_value"]] = ALL
    stored.loc[stored["period"].str.lower().isin(_OVERALL_ALIASES), "period"] = ALL
    stored = stored.drop_duplicates(["segment", "segment_value", "period"], keep="last")
    keys = ["segment", "segment_value", "period"]
    missing = computed.merge(stored[keys], on=keys, how="left", indicator=True)
    missing = missing[missing["_merge"] == "left_only"].drop(columns="_merge")
    stored_periods = stored[(stored["segment"] == ALL) & (stored["period"] != ALL)]
    if len(stored_periods):  # never mix two period granularities in one trend
        missing = missing[~((missing["segment"] == ALL) & (missing["period"] != ALL))]
    merged = pd.concat([stored, missing], ignore_index=True) if len(missing) else stored
    return merged.reset_index(drop=True)


def _figure_from_kpi(row: pd.Series, min_n: int) -> NpsFigure:
    n = int(row["n"]) if pd.notna(row.get("n")) else 0

    def opt(name: str) -> float | None:
        value = row.get(name)
        return None if value is None or pd.isna(value) else float(value)

    def count(name: str) -> int:
        value = row.get(name)
        return 0 if value is None or pd.isna(value) else int(value)

    small = row.get("small_n")
    small_n = bool(small) if small is not None and not pd.isna(small) else n < min_n
    estimate, low, high = opt("estimate"), opt("low"), opt("high")
    # The NPS stage may store shares (-1..1) instead of points: the counts tell which, and we show points.
    if estimate is not None and n and abs(estimate) <= 1:
        expected = 100 * (count("promoters") - count("detractors")) / n
        if abs(100 * estimate - expected) < abs(estimate - expected):
            estimate, low, high = (None if v is None else 100 * v for v in (estimate, low, high))
    return NpsFigure(n, count("promoters"), count("passives"), count("detractors"), estimate, low, high, small_n)


# -- reading the store -----------------------------------------------------------------------------
def _json_list(value: Any) -> list[Any]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    if isinstance(value, list | tuple | np.ndarray):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return []
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            return [part.strip() for part in text.split(";") if part.strip()]
        if isinstance(parsed, list):
            return parsed
        if isinstance(parsed, dict):
            return [parsed]
        return [parsed]
    return [value]


def _verbatim_texts(value: Any) -> list[str]:
    texts = []
    for item in _json_list(value):
        if isinstance(item, dict):
            item = item.get("text") or item.get("verbatim") or item.get("sentence")
        if item is not None and str(item).strip():
            texts.append(str(item))
    return texts


def _emotion_list(value: Any) -> list[str]:
    labels: list[str] = []
    for item in _json_list(value):
        if isinstance(item, dict):
            item = item.get("emotion") or item.get("label")
        if item is None:
            continue
        label = str(item).split(":")[0].strip().lower()
        if label and label not in NO_EMOTION:
            labels.append(label)
    return labels


def _counts_per_period(value: Any) -> list[tuple[str, int]]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return []
    if isinstance(value, dict):
        pairs = []
        for period, count in value.items():
            if isinstance(count, dict):  # the topics stage writes {"count": .., "share": .., "total": ..}
                count = count.get("count", count.get("n"))
            if count is not None:
                pairs.append((str(period), int(count)))
        return sorted(pairs)
    if isinstance(value, list):
        pairs = []
        for item in value:
            if isinstance(item, dict) and "period" in item:
                pairs.append((str(item["period"]), int(item.get("count", item.get("n", 0)) or 0)))
            elif isinstance(item, list | tuple) and len(item) == 2:
                pairs.append((str(item[0]), int(item[1])))
        return sorted(pairs)
    return []


def _opt_float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _opt_time(value: Any) -> datetime | None:
    if value is None or (not isinstance(value, datetime) and pd.isna(value)):
        return None
    stamp = pd.Timestamp(value)
    return None if pd.isna(stamp) else stamp.to_pydatetime()


def sentence_annotations(store: Store) -> pd.DataFrame:
    """One row per sentence with its text, language, response and annotations in wide form.

    Columns: sentence_id, response_id, answer_id, position, text, language, sentiment, p_negative,
    p_neutral, p_positive, emotions (';'-joined), component, touchpoints (';'-joined, falling back to
    the answer's or response's given touchpoint), theme_id, theme, nps_class, created_at.
    """
    frame = store.df(
        """
        SELECT s.sentence_id, s.response_id, s.answer_id, s.position, s.text, s.language,
               sa.label AS sentiment, sa.scores AS sentiment_scores,
               em.label AS emotions, co.label AS component, tp.label AS touchpoints,
               coalesce(a.touchpoint, r.touchpoint) AS given_touchpoint,
               ta.theme_id, th.label AS theme, r.nps_class, r.created_at
        FROM sentences s
        LEFT JOIN annotations sa ON sa.target_id = s.sentence_id AND sa.level = 'sentence' AND sa.task = 'sentiment'
        LEFT JOIN annotations em ON em.target_id = s.sentence_id AND em.level = 'sentence' AND em.task = 'emotion'
        LEFT JOIN annotations co ON co.target_id = s.sentence_id AND co.level = 'sentence' AND co.task = 'component'
        LEFT JOIN annotations tp ON tp.target_id = s.sentence_id AND tp.level = 'sentence'
                                 AND tp.task = 'touchpoint'
        LEFT JOIN answers a ON a.answer_id = s.answer_id
        LEFT JOIN responses r ON r.response_id = s.response_id
        LEFT JOIN theme_assignments ta ON ta.sentence_id = s.sentence_id
        LEFT JOIN themes th ON th.theme_id = ta.theme_id
        ORDER BY s.response_id, s.answer_id, s.position
        """
    )
    probabilities = {"negative": [], "neutral": [], "positive": []}
    for raw in frame["sentiment_scores"]:
        scores: dict[str, Any] = {}
        if isinstance(raw, str) and raw.strip():
            try:
                loaded = json.loads(raw)
                scores = loaded if isinstance(loaded, dict) else {}
            except json.JSONDecodeError:
                scores = {}
        for label, column in probabilities.items():
            column.append(_opt_float(scores.get(label)))
    for label, column in probabilities.items():
        frame[f"p_{label}"] = pd.Series(column, index=frame.index, dtype="float64")
    frame = frame.drop(columns="sentiment_scores")
    frame["touchpoints"] = frame["touchpoints"].where(
        frame["touchpoints"].notna() & (frame["touchpoints"].astype(str) != ""), frame["given_touchpoint"]
    )
    return frame.drop(columns="given_touchpoint")


def _touchpoint_list(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return [t.strip() for t in str(value).split(";") if t.strip() and t.strip().lower() != "none"]


def _root_causes(
    themes: pd.DataFrame,
    drivers: pd.DataFrame,
    assignments: pd.DataFrame,
    responses: pd.DataFrame,
    config: VocmineConfig,
) -> list[RootCause]:
    """Themes joined with their overall driver row; impact computed here (point only) if drivers are missing."""
    min_n = config.nps.min_n
    theme_drivers = drivers[
        drivers["level"].astype(str).str.lower().isin({"theme", "themes"})
        & drivers["segment"].fillna(ALL).astype(str).str.lower().isin(_OVERALL_ALIASES)
    ].drop_duplicates("key", keep="last")
    by_key = {row["key"]: row for _, row in theme_drivers.iterrows()}
    classes = responses.set_index("response_id")["nps_class"] if len(responses) else pd.Series(dtype=object)
    all_figure = nps_figure(classes, min_n)
    mentioned_by = assignments.groupby("theme_id")["response_id"].apply(set).to_dict() if len(assignments) else {}
    detractors = set(classes[classes == "detractor"].index)
    causes = []
    for _, theme in themes.iterrows():
        if str(theme.get("status") or "active").lower() == "vanished":
            continue
        theme_id = str(theme["theme_id"])
        driver = by_key.get(theme_id)
        if driver is not None:
            impact, low, high = (_opt_float(driver.get(c)) for c in ("estimate", "low", "high"))
            strength = _opt_float(driver.get("strength"))
            s_low, s_high = _opt_float(driver.get("strength_low")), _opt_float(driver.get("strength_high"))
            share = _opt_float(driver.get("detractor_share"))
            small = bool(driver.get("small_n")) if pd.notna(driver.get("small_n")) else False
        else:
            mentioned = mentioned_by.get(theme_id, set())
            rest = classes[~classes.index.isin(mentioned)]
            rest_figure = nps_figure(rest, min_n)
            impact = (
                all_figure.nps - rest_figure.nps
                if all_figure.nps is not None and rest_figure.nps is not None
                else None
            )
            low = high = strength = s_low = s_high = None
            share = len(mentioned & detractors) / len(detractors) if detractors else None
            small = len(mentioned & set(classes.dropna().index)) < min_n
        respondents = theme.get("respondents")
        causes.append(
            RootCause(
                theme_id=theme_id,
                label=str(theme.get("label") or theme.get("keywords") or theme_id),
                touchpoint=str(theme.get("touchpoint") or ALL),
                polarity=str(theme.get("polarity") or "negative"),
                size=int(theme.get("size") or 0),
                respondents=int(respondents) if respondents is not None and pd.notna(respondents) else None,
                detractor_share=share,
                impact=impact,
                impact_low=low,
                impact_high=high,
                strength=strength,
                strength_low=s_low,
                strength_high=s_high,
                mean_sentiment=_opt_float(theme.get("mean_sentiment")),
                dominant_emotions=_emotion_list(theme.get("dominant_emotions")),
                trend=_counts_per_period(theme.get("counts_per_period")),
                verbatims=_verbatim_texts(theme.get("verbatims"))[: config.report.max_verbatims],
                emerging=bool(theme.get("emerging")) if pd.notna(theme.get("emerging")) else False,
                emerging_evidence=(
                    str(theme["emerging_evidence"]) if pd.notna(theme.get("emerging_evidence")) else None
                ),
                first_seen=_opt_time(theme.get("first_seen")),
                small_n=small,
            )
        )
    causes.sort(key=impact_rank)
    return causes


def impact_rank(cause: RootCause) -> tuple[float, int, str]:
    """Most costly first: impact = NPS(all) - NPS(not mentioning) is negative for a cause that costs points.

    Positive themes (praise) rank by the opposite sign; causes without an impact go last, by size.
    """
    if cause.impact is None:
        return (float("inf"), -cause.size, cause.label)
    signed = -cause.impact if cause.polarity.lower() == "positive" else cause.impact
    return (signed, -cause.size, cause.label)


def _touchpoint_impacts(drivers: pd.DataFrame) -> dict[str, tuple[float | None, float | None, float | None]]:
    """Overall impact per touchpoint; negative mentions of it ("touchpoint_negative") win over any mention."""
    if drivers.empty:
        return {}
    overall = drivers[drivers["segment"].fillna(ALL).astype(str).str.lower().isin(_OVERALL_ALIASES)]
    impacts: dict[str, tuple[float | None, float | None, float | None]] = {}
    for level in ("touchpoint", "touchpoint_negative"):
        for _, row in overall[overall["level"] == level].iterrows():
            impacts[str(row["key"])] = tuple(_opt_float(row.get(c)) for c in ("estimate", "low", "high"))
    return impacts


def _touchpoint_summaries(
    sentences: pd.DataFrame,
    causes: list[RootCause],
    config: VocmineConfig,
    impacts: dict[str, tuple[float | None, float | None, float | None]] | None = None,
) -> list[TouchpointSummary]:
    exploded = sentences.assign(touchpoint=sentences["touchpoints"].map(_touchpoint_list))
    # Without any touchpoint annotation every sentence is in one group ("all"); with them, the sentences the
    # model left without one (other languages, skipped texts) form an "unassigned" group.
    leftover = UNASSIGNED if exploded["touchpoint"].map(bool).any() else ALL
    exploded["touchpoint"] = exploded["touchpoint"].map(lambda tps: tps or [leftover])
    exploded = exploded.explode("touchpoint")
    names = list(dict.fromkeys(list(exploded["touchpoint"].dropna()) + [c.touchpoint for c in causes]))
    summaries = []
    for name in names:
        rows = exploded[exploded["touchpoint"] == name]
        n = len(rows)
        sentiment = rows["sentiment"].dropna().astype(str).str.lower()
        sentiment_shares = (
            {label: float((sentiment == label).mean()) for label in ("negative", "neutral", "positive")}
            if len(sentiment)
            else {}
        )
        emotion_rows = rows["emotions"].dropna()
        emotion_counts: Counter[str] = Counter()
        for value in emotion_rows:
            emotion_counts.update(set(_emotion_list(value)))
        emotion_shares = {e: emotion_counts[e] / len(emotion_rows) for e in EMOTIONS} if len(emotion_rows) else {}
        component = rows["component"].dropna().astype(str).str.lower()
        component = component[component.isin(["rational", "emotional"])]
        rational_share = float((component == "rational").mean()) if len(component) else None
        negatives = rows[rows["sentiment"].astype(str).str.lower() == "negative"]
        if "p_negative" in negatives and negatives["p_negative"].notna().any():
            negatives = negatives.sort_values("p_negative", ascending=False)
        examples = list(dict.fromkeys(negatives["text"].dropna().astype(str)))[: config.report.max_verbatims]
        tp_causes = [c for c in causes if c.touchpoint == name and c.polarity.lower() != "positive"]
        respondents = rows["response_id"].nunique()
        summaries.append(
            TouchpointSummary(
                touchpoint=name,
                sentences=n,
                sentiment_shares=sentiment_shares,
                emotion_shares=emotion_shares,
                rational_share=rational_share,
                component_n=len(component),
                causes=tp_causes,
                examples=examples,
                small_n=respondents < config.nps.min_n,
                impact=(impacts or {}).get(name, (None, None, None))[0],
                impact_low=(impacts or {}).get(name, (None, None, None))[1],
                impact_high=(impacts or {}).get(name, (None, None, None))[2],
            )
        )

    def negative_weight(summary: TouchpointSummary) -> tuple[float, int]:
        impacts = [c.impact for c in summary.causes if c.impact is not None]
        if summary.impact is not None:
            impacts.append(summary.impact)
        return (min(impacts, default=float("inf")), -summary.sentences)

    summaries.sort(key=negative_weight)
    return summaries


def _group_section(responses: pd.DataFrame, kpis: pd.DataFrame, column: str, config: VocmineConfig) -> GroupSection:
    min_n = config.nps.min_n
    if column not in responses or responses[column].dropna().astype(str).str.strip().eq("").all():
        return GroupSection(column, False, [], Homogeneity(0, None, None, None, None))
    rows_kpi = kpis[(kpis["segment"] == column) & (kpis["period"] == ALL)].set_index("segment_value")
    standouts = network.standout_groups(responses["nps_class"], responses[column], config).set_index("segment_value")
    rows = []
    for value in sorted(v for v in responses[column].dropna().unique() if str(v).strip()):
        name = str(value)
        if value in rows_kpi.index:
            figure = _figure_from_kpi(rows_kpi.loc[value], min_n)
        else:
            figure = nps_figure(responses.loc[responses[column] == value, "nps_class"], min_n, config.nps.confidence)
        if name in standouts.index and int(standouts.at[name, "rest_n"]) > 0:
            out = standouts.loc[name]
            flag = out["flag"] if isinstance(out["flag"], str) else None
            difference, low, high = (_opt_float(out[c]) for c in ("difference", "low", "high"))
            rows.append(GroupRow(name, figure, flag, difference, low, high))
        else:  # no classified respondent in the group, or nobody else to compare with
            rows.append(GroupRow(name, figure, None, None, None, None))
    rows.sort(key=lambda r: (r.figure.nps is None, -(r.figure.nps or 0), r.name))
    return GroupSection(column, True, rows, group_homogeneity(responses, column, config))


def _quality(store: Store, responses: pd.DataFrame, config: VocmineConfig) -> DataQuality:
    rejects = store.df(
        """SELECT coalesce(path, '') AS file, coalesce("column", '') AS col, coalesce(expected, '') AS expected,
                  count(*) AS n
           FROM rejects GROUP BY 1, 2, 3 ORDER BY n DESC, file, col"""
    )
    files = store.df(
        """SELECT path, sum(coalesce(rows_read, 0)) AS rows_read, sum(coalesce(rows_rejected, 0)) AS rejected
           FROM sources GROUP BY path ORDER BY path"""
    )
    modelled = set(config.analysis.languages)
    languages = responses["language"].fillna("?").astype(str) if len(responses) else pd.Series(dtype=str)
    outside = languages[~languages.isin(modelled)].value_counts()
    skipped = store.df(
        """SELECT task, skip_reason, count(*) AS n FROM annotations
           WHERE skip_reason IS NOT NULL AND skip_reason <> '' GROUP BY 1, 2 ORDER BY n DESC"""
    )
    return DataQuality(
        rejects=[(r.file, r.col, r.expected, int(r.n)) for r in rejects.itertuples()],
        rejected_total=int(rejects["n"].sum()) if len(rejects) else 0,
        files=[(r.path, int(r.rows_read), int(r.rejected)) for r in files.itertuples()],
        not_analysed=[(str(lang), int(n)) for lang, n in outside.items()],
        skipped=[(str(r.task), str(r.skip_reason), int(r.n)) for r in skipped.itertuples()],
    )


def load_report_data(store: Store, config: VocmineConfig) -> ReportData:
    """Read the store and assemble every figure of the report (see the module docstring for fallbacks)."""
    min_n, confidence = config.nps.min_n, config.nps.confidence
    responses = store.df(
        "SELECT response_id, source, channel, created_at, language, score, score_scale, stars, nps_class, "
        "branch, seller, touchpoint FROM responses"
    )
    kpis = merged_kpis(store, responses, config)
    language_counts = responses["language"].value_counts().to_dict() if len(responses) else {}
    language = choose_language(config.report.language, language_counts)

    overall_rows = kpis[(kpis["segment"] == ALL) & (kpis["segment_value"] == ALL) & (kpis["period"] == ALL)]
    if len(overall_rows):
        overall = _figure_from_kpi(overall_rows.iloc[-1], min_n)
    else:
        overall = nps_figure(responses["nps_class"] if len(responses) else [], min_n, confidence)
    created = pd.to_datetime(responses["created_at"], errors="coerce") if len(responses) else pd.Series(dtype=object)
    overview = Overview(
        responses=len(responses),
        sources=[(str(k), int(v)) for k, v in responses["source"].fillna("?").value_counts().items()],
        languages=[(str(k), int(v)) for k, v in responses["language"].fillna("?").value_counts().items()],
        period_start=_opt_time(created.min()) if created.notna().any() else None,
        period_end=_opt_time(created.max()) if created.notna().any() else None,
        nps=overall,
        satisfaction=mean_figure(satisfaction_0_10(responses), min_n, confidence) if len(responses)
        else mean_figure([], min_n),
        top2box=mean_figure(top_two_box(responses).dropna(), min_n, confidence) if len(responses)
        else mean_figure([], min_n),
    )
    period_rows = trend_rows(kpis)
    trend = coarsen_trend(
        [
            PeriodPoint(str(row["period"]), _figure_from_kpi(row, min_n))
            for _, row in period_rows.sort_values("period").iterrows()
        ],
        min_n,
        confidence,
    )

    sentences = sentence_annotations(store)
    themes = store.df("SELECT * FROM themes")
    drivers = store.df("SELECT * FROM drivers")
    assignments = store.df("SELECT sentence_id, response_id, theme_id FROM theme_assignments")
    causes = _root_causes(themes, drivers, assignments, responses, config) if len(themes) else []
    touchpoints = (
        _touchpoint_summaries(sentences, causes, config, _touchpoint_impacts(drivers)) if len(sentences) or causes
        else []
    )
    emerging = sorted((c for c in causes if c.emerging), key=lambda c: (-c.size, c.label))

    return ReportData(
        language=language,
        generated_at=utcnow(),
        store_path=str(store.path),
        min_n=min_n,
        overview=overview,
        trend=trend,
        touchpoints=touchpoints,
        has_sentences=len(sentences) > 0,
        has_themes=len(themes) > 0,
        has_drivers=len(drivers) > 0,
        has_touchpoints=bool(sentences["touchpoints"].notna().any()) if len(sentences) else False,
        has_emotions=bool(sentences["emotions"].notna().any()) if len(sentences) else False,
        has_component=bool(sentences["component"].notna().any()) if len(sentences) else False,
        branches=_group_section(responses, kpis, "branch", config),
        sellers=_group_section(responses, kpis, "seller", config),
        emerging=emerging,
        quality=_quality(store, responses, config),
        kpis=kpis,
        by_component=_segment_figures(kpis, "component", min_n),
        by_emotion=_segment_figures(kpis, "emotion", min_n),
    )


def _segment_figures(kpis: pd.DataFrame, segment: str, min_n: int) -> list[tuple[str, NpsFigure]]:
    rows = kpis[(kpis["segment"] == segment) & (kpis["period"] == ALL)]
    figures = [(str(row["segment_value"]), _figure_from_kpi(row, min_n)) for _, row in rows.iterrows()]
    return sorted(figures, key=lambda item: (item[1].nps is None, item[1].nps or 0.0, item[0]))
