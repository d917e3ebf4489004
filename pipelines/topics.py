"""Root causes: BERTopic themes per touchpoint and polarity, with labels, stable ids, trends and alerts.

For each touchpoint, its negative sentences (and separately its positive ones) are clustered with
BERTopic over the embeddings already in the store (never embedded twice): UMAP then HDBSCAN with
``config.seed``, an es+en stop-word CountVectorizer (accents kept), exact duplicate texts fitted once
(duplicates make UMAP irreproducible, shared/STACK.md) and counted back afterwards. The smallest theme
is relative to the data (``min_theme_rel`` of the group, at least ``min_theme_abs`` sentences), and a
touchpoint with fewer than ``min_group_sentences`` distinct sentences gets no theme at all. HDBSCAN's
outliers are then reassigned to the nearest theme only when they sit as close to its centroid as that
theme's own members do (a per-theme quantile, not a global cosine guess); the rest stay unassigned and
their share is reported per touchpoint and polarity.

``build_themes`` is the pure core (DataFrames in, DataFrames out); ``refresh_themes`` reads the store,
calls it, and writes ``themes`` and ``theme_assignments`` in one transaction.
"""

from __future__ import annotations

import json
import logging
import math
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from vocmine.config import ThemeSettings, VocmineConfig
from vocmine.errors import VocmineError
from vocmine.ids import text_hash
from vocmine.pipelines import theme_labels, trends
from vocmine.pipelines.row_vectors import RowVectors, unit_vectors
from vocmine.pipelines.theme_ids import match_themes, new_theme_id, previous_for_group
from vocmine.pipelines.theme_overrides import ThemeOverrides, apply_membership_overrides, load_overrides

logger = logging.getLogger(__name__)

THEME_COLUMNS = [
    "theme_id", "touchpoint", "polarity", "label", "label_alt", "language", "keywords", "size", "respondents",
    "share_respondents", "mean_sentiment", "dominant_emotions", "rational_share", "verbatims", "first_seen",
    "last_seen", "counts_per_period", "centroid", "status", "emerging", "emerging_evidence",
]
ASSIGNMENT_COLUMNS = ["sentence_id", "response_id", "theme_id", "probability"]
REQUIRED_COLUMNS = ["sentence_id", "response_id", "text", "language", "touchpoint", "polarity", "created_at"]
POLARITIES = ("negative", "positive")


class ThemeError(VocmineError):
    """Theme building got input it cannot use (missing columns, embeddings of the wrong shape)."""


@dataclass(slots=True)
class ThemeResult:
    """Themes (``themes`` table shape), sentence assignments, and per-group stats (unassigned share)."""

    themes: pd.DataFrame
    assignments: pd.DataFrame
    stats: pd.DataFrame
    period_freq: str = "M"
    extra: dict[str, Any] = field(default_factory=dict)


def theme_settings(config: VocmineConfig) -> ThemeSettings:
    """The ``[themes]`` section of the config when it has one, else the defaults."""
    value = getattr(config, "themes", None)
    if isinstance(value, ThemeSettings):
        return value
    if isinstance(value, BaseModel):
        return ThemeSettings.model_validate(value.model_dump())
    if isinstance(value, dict):
        return ThemeSettings.model_validate(value)
    return ThemeSettings()


def _norm_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", str(text)).lower().split())


def min_theme_size(n_sentences: int, settings: ThemeSettings) -> int:
    """Smallest theme: ``min_theme_rel`` of the group, never below ``min_theme_abs``."""
    return max(settings.min_theme_abs, math.ceil(settings.min_theme_rel * n_sentences))


def cluster_texts(
    texts: list[str], embeddings: np.ndarray, settings: ThemeSettings, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """BERTopic (UMAP + HDBSCAN, precomputed embeddings, no embedding model) over distinct texts.

    Returns topic per text (-1 = outlier) and HDBSCAN's membership strength. Topic numbers follow
    BERTopic's order (largest first), which is deterministic for a fixed seed and unique inputs.
    """
    from bertopic import BERTopic
    from hdbscan import HDBSCAN
    from sklearn.feature_extraction.text import CountVectorizer
    from umap import UMAP

    n = len(texts)
    min_size = min_theme_size(n, settings)
    umap_model = UMAP(
        n_neighbors=max(2, min(settings.umap_neighbors, n - 1)),
        n_components=max(2, min(settings.umap_components, n - 2)),
        min_dist=0.0,
        metric="cosine",
        random_state=seed,
        low_memory=False,
    )
    hdbscan_model = HDBSCAN(
        min_cluster_size=min_size,
        min_samples=settings.hdbscan_min_samples,
        metric="euclidean",
        cluster_selection_method=settings.cluster_selection_method,
        prediction_data=False,
    )
    vectorizer = CountVectorizer(stop_words=theme_labels.stop_words(), token_pattern=r"(?u)\b[^\W\d_]{2,}\b")
    model = BERTopic(
        embedding_model=None,
        umap_model=umap_model,
        hdbscan_model=hdbscan_model,
        vectorizer_model=vectorizer,
        calculate_probabilities=False,
        min_topic_size=min_size,
        verbose=False,
    )
    try:
        topics, probabilities = model.fit_transform(texts, embeddings=np.asarray(embeddings, dtype=np.float32))
    except ValueError as error:  # e.g. an empty vocabulary after stop words: no usable themes
        logger.warning("BERTopic could not fit %d texts (%s); leaving them unassigned", n, error)
        return np.full(n, -1), np.zeros(n)
    probs = np.zeros(n) if probabilities is None else np.asarray(probabilities, dtype=float).reshape(n, -1).max(axis=1)
    return np.asarray(topics), probs


def _reassign_outliers(
    topics: np.ndarray, probs: np.ndarray, embeddings: np.ndarray, quantile: float
) -> tuple[np.ndarray, np.ndarray]:
    """Give an outlier to its nearest theme if it is as typical as the theme's ``quantile`` member."""
    topics = topics.copy()
    probs = probs.copy()
    ids = sorted(t for t in set(topics.tolist()) if t >= 0)
    outliers = np.flatnonzero(topics < 0)
    if not ids or len(outliers) == 0:
        return topics, probs
    unit = unit_vectors(embeddings)
    centroids = unit_vectors(np.stack([unit[topics == t].mean(axis=0) for t in ids]))
    member_cos = {t: np.sort(unit[topics == t] @ centroids[k]) for k, t in enumerate(ids)}
    floors = {t: float(np.quantile(member_cos[t], quantile)) for t in ids}
    sims = unit[outliers] @ centroids.T
    for row, i in enumerate(outliers):
        k = int(np.argmax(sims[row]))
        t = ids[k]
        if sims[row, k] >= floors[t]:
            topics[i] = t
            probs[i] = float(np.searchsorted(member_cos[t], sims[row, k])) / len(member_cos[t])
    return topics, probs


@dataclass(slots=True)
class _Group:
    touchpoint: str
    polarity: str
    rows: np.ndarray  # row positions in the sentences frame
    members: dict[str, list[int]] = field(default_factory=dict)  # theme id -> row positions
    probability: dict[int, float] = field(default_factory=dict)  # row position -> probability
    centroids: dict[str, np.ndarray] = field(default_factory=dict)  # clustering centroids (for matching)
    is_new: dict[str, bool] = field(default_factory=dict)
    unique_texts: int = 0
    skipped: str | None = None


def _cluster_group(
    group: _Group,
    frame: pd.DataFrame,
    embeddings: RowVectors,
    unit: RowVectors,
    settings: ThemeSettings,
    seed: int,
    previous: pd.DataFrame | None,
) -> None:
    keys = frame["_key"].to_numpy()[group.rows]
    unique_keys = list(dict.fromkeys(sorted(keys)))  # sorted: input row order must not change the fit
    first_row = {}
    for position, key in zip(group.rows, keys, strict=True):
        first_row.setdefault(key, position)
    group.unique_texts = len(unique_keys)
    if len(unique_keys) < settings.min_group_sentences:
        group.skipped = f"{len(unique_keys)} distinct sentences < min_group_sentences={settings.min_group_sentences}"
        return
    unique_rows = np.array([first_row[k] for k in unique_keys])
    unique_texts = frame["text"].to_numpy()[unique_rows].tolist()
    unique_emb = embeddings[unique_rows]
    topics, probs = cluster_texts(unique_texts, unique_emb, settings, seed)
    if settings.reduce_outliers:
        topics, probs = _reassign_outliers(topics, probs, unique_emb, settings.outlier_quantile)
    topic_of_key = dict(zip(unique_keys, topics.tolist(), strict=True))
    prob_of_key = dict(zip(unique_keys, probs.tolist(), strict=True))
    by_topic: dict[int, list[int]] = {}
    for position, key in zip(group.rows, keys, strict=True):
        topic = topic_of_key[key]
        if topic >= 0:
            by_topic.setdefault(topic, []).append(int(position))
            group.probability[int(position)] = float(prob_of_key[key])
    if not by_topic:
        return
    topic_ids = sorted(by_topic)
    centroids = np.stack([unit_vectors(unit.mean(by_topic[t])) for t in topic_ids])
    prev = previous_for_group(previous, group.touchpoint, group.polarity)
    matches = match_themes(
        centroids,
        prev["theme_id"].tolist(),
        np.stack([np.asarray(c, dtype=np.float32) for c in prev["centroid"]]) if len(prev) else np.zeros((0, 1)),
        settings.match_min_cosine,
    )
    has_previous = previous is not None and not previous.empty
    for k, topic in enumerate(topic_ids):
        rows = sorted(by_topic[topic])
        if k in matches:
            theme_id = matches[k][0]
        else:
            theme_id = new_theme_id(group.touchpoint, group.polarity, frame["_hash"].to_numpy()[rows].tolist())
        group.members[theme_id] = rows
        group.centroids[theme_id] = centroids[k]
        group.is_new[theme_id] = has_previous and k not in matches


def _dominant_emotions(values: pd.Series, top: int = 3, min_share: float = 0.15) -> str | None:
    counts: Counter[str] = Counter()
    n = 0
    for value in values.dropna():
        labels = [v.strip() for v in str(value).split(";") if v.strip() and v.strip() not in ("none", "others")]
        n += 1
        counts.update(set(labels))
    if n == 0:
        return None
    chosen = [e for e, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])) if c / n >= min_share][:top]
    return ";".join(chosen) or None


def _verbatims(rows: list[int], frame: pd.DataFrame, unit: RowVectors, centroid: np.ndarray, k: int) -> list[dict]:
    """Up to ``k`` typical yet diverse verbatims: MMR over the 40 most central distinct sentences."""
    seen: dict[str, int] = {}
    similarity = (unit.matrix @ centroid)[unit.index[rows]]  # once per distinct text, then per row
    for _, r in sorted(zip((-similarity).tolist(), rows, strict=True)):
        seen.setdefault(frame["_key"].iat[r], r)
        if len(seen) >= 40:
            break
    candidates = list(seen.values())
    vectors = unit[candidates]
    relevance = vectors @ centroid
    chosen: list[int] = []
    while len(chosen) < min(k, len(candidates)):
        redundancy = (vectors @ vectors[chosen].T).max(axis=1) if chosen else np.zeros(len(candidates))
        score = 0.6 * relevance - 0.4 * redundancy
        score[chosen] = -np.inf
        near_duplicate = redundancy > 0.97
        score[near_duplicate] = -np.inf
        best = int(np.argmax(score))
        if not np.isfinite(score[best]):
            break
        chosen.append(best)
    if len(chosen) < min(3, len(candidates)):
        # Very uniform themes: top up with the most central remaining (distinct) texts.
        chosen += [i for i in np.argsort(-relevance, kind="stable") if i not in chosen][: 3 - len(chosen)]
    out = []
    for c in chosen:
        r = candidates[c]
        out.append(
            {
                "sentence_id": str(frame["sentence_id"].iat[r]),
                "response_id": str(frame["response_id"].iat[r]),
                "text": str(frame["text"].iat[r]),
                "language": frame["language"].iat[r],
            }
        )
    return out


def _label_group(
    members: dict[str, list[int]],
    frame: pd.DataFrame,
    embeddings: RowVectors,
    centroids: dict[str, np.ndarray],
    settings: ThemeSettings,
    embed_phrases: Callable[[list[str]], np.ndarray] | None,
    touchpoint: str = "",
) -> dict[str, theme_labels.ThemeLabel]:
    """Labels for the sibling themes of one touchpoint/polarity, each in its majority language, distinct
    between siblings where their sentences allow it (see ``theme_labels.choose_label``)."""
    theme_ids = sorted(members)
    languages = frame["language"].to_numpy()
    texts = frame["text"].to_numpy()
    by_language: dict[str, dict[str, list[int]]] = {}
    for theme_id in theme_ids:
        for r in members[theme_id]:
            by_language.setdefault(languages[r], {}).setdefault(theme_id, []).append(r)
    stats: dict[tuple[str, str], dict[str, theme_labels.PhraseStats]] = {}
    for language, per_theme in by_language.items():
        groups = [[texts[r] for r in per_theme.get(t, [])] for t in theme_ids]
        for theme_id, theme_stats in zip(theme_ids, theme_labels.theme_phrase_stats(groups), strict=True):
            stats[(theme_id, language)] = theme_stats
    main_language: dict[str, str] = {}
    choices: dict[str, dict[str, theme_labels.LabelChoice]] = {}
    for theme_id in theme_ids:
        counts = Counter(languages[r] for r in members[theme_id])
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
        main_language[theme_id] = ordered[0][0]
        for language, count in ordered[:2]:
            if language != main_language[theme_id] and count < settings.alt_label_min_sentences:
                continue
            rows = by_language[language][theme_id]
            choices.setdefault(theme_id, {})[language] = theme_labels.choose_label(
                stats.get((theme_id, language), {}),
                [texts[r] for r in rows],
                embeddings.take(np.asarray(rows)),  # no row matrix: a big theme's rows are ~100 MB
                centroids[theme_id],
                embed_phrases,
                touchpoint,
            )
    main = theme_labels.distinct_labels({t: choices[t][main_language[t]] for t in theme_ids})
    alt = theme_labels.distinct_labels(
        {t: c for t in theme_ids for lang, c in choices[t].items() if lang != main_language[t]}
    )
    labels: dict[str, theme_labels.ThemeLabel] = {}
    for theme_id in theme_ids:
        label, source = main[theme_id]
        if label is None:  # no word at all in the theme's sentences: the most central sentence as written
            cosines = embeddings.take(np.asarray(members[theme_id])).cosines(centroids[theme_id])
            best = members[theme_id][int(np.argmax(cosines))]
            label = " ".join(str(texts[best]).split()[:8])
        alt_label = alt.get(theme_id, (None, ""))[0]
        labels[theme_id] = theme_labels.ThemeLabel(
            label=theme_labels.format_label(label),
            language=str(main_language[theme_id]),
            label_alt=theme_labels.format_label(alt_label) if alt_label else None,
            keywords=choices[theme_id][main_language[theme_id]].keywords,
            source=source,
        )
    return labels


def _prepare(sentences: pd.DataFrame, embeddings: RowVectors) -> tuple[pd.DataFrame, RowVectors]:
    missing = [c for c in REQUIRED_COLUMNS if c not in sentences.columns]
    if missing:
        raise ThemeError(f"sentences frame lacks columns {missing}; has {list(sentences.columns)}")
    if len(sentences) != len(embeddings):
        raise ThemeError(f"{len(sentences)} sentences but {len(embeddings)} embeddings")
    # Content order, not input order: a shuffled input must give identical floating-point sums.
    order = np.lexsort(
        (sentences["touchpoint"].astype(str).to_numpy(), sentences["sentence_id"].astype(str).to_numpy())
    )
    frame = sentences.iloc[order].reset_index(drop=True)  # a new frame (copy-on-write): no .copy() needed
    embeddings = embeddings.take(order).canonical()
    for column in ("sentiment_score", "emotions", "component"):
        if column not in frame.columns:
            frame[column] = None
    frame["language"] = _shared_strings(frame["language"].fillna("und"))
    frame["touchpoint"] = _shared_strings(frame["touchpoint"].fillna("all"))
    frame["created_at"] = pd.to_datetime(frame["created_at"], errors="coerce")
    # Normalised once per distinct text: rows share the objects (a store repeats sentences a lot).
    codes, distinct = pd.factorize(frame["text"].fillna(""))
    texts = np.array([str(t) for t in distinct], dtype=object)
    keys = np.array([_norm_text(t) for t in texts], dtype=object)
    hashes = np.array([text_hash(k) for k in keys], dtype=object)
    for column, values in (("text", texts), ("_key", keys), ("_hash", hashes)):
        frame[column] = pd.Series(values[codes], index=frame.index, dtype=object)
    return frame, embeddings


def _shared_strings(values: pd.Series) -> pd.Series:
    """``values`` as strings in an object column whose rows share one Python object per distinct value.

    pandas 3 stores strings in Arrow by default: compact, but every ``to_numpy()``/``tolist()`` then makes
    a new Python object per row (hundreds of MB over a 100k-response store, on each call). The themes
    code reads these columns row-wise per group, so it keeps them as shared objects instead.
    """
    codes, distinct = pd.factorize(values)
    objects = np.array([str(v) for v in distinct] + ["nan"], dtype=object)  # code -1 (missing) -> "nan"
    return pd.Series(objects[codes], index=values.index, dtype=object)


def build_themes(
    sentences: pd.DataFrame,
    embeddings: np.ndarray | RowVectors,
    config: VocmineConfig,
    previous: pd.DataFrame | None = None,
    overrides: ThemeOverrides | Path | str | None = None,
    *,
    embed_phrases: Callable[[list[str]], np.ndarray] | None = None,
    total_respondents: int | None = None,
    settings: ThemeSettings | None = None,
) -> ThemeResult:
    """Cluster sentences into themes per touchpoint and polarity; match ids to ``previous``; apply overrides.

    ``sentences``: sentence_id, response_id, text, language, touchpoint (one per row), polarity
    ("negative"/"positive"; other rows are ignored), created_at, and optionally sentiment_score,
    emotions (';'-joined), component. ``embeddings`` are row-aligned (n x d, or :class:`RowVectors`
    for a store's repeated texts). ``previous`` is the
    ``themes`` table of an earlier run. ``embed_phrases`` (optional) embeds label candidates with the
    same embedder, KeyBERT-style; without it a phrase is represented by the sentences that contain it.
    ``total_respondents`` is the denominator of ``share_respondents`` (default: distinct response ids).
    ``settings`` overrides the config's ``[themes]`` section (benchmarks, notebooks).
    """
    settings = settings or theme_settings(config)
    frame, embeddings = _prepare(sentences, RowVectors.of(embeddings))
    if not isinstance(overrides, ThemeOverrides):
        overrides = load_overrides(overrides if overrides is not None else settings.overrides_file)
    total_respondents = total_respondents or max(1, frame["response_id"].nunique())
    freq = trends.choose_period(frame["created_at"]) if settings.period == "auto" else settings.period
    frame["_period"] = trends.period_labels(frame["created_at"], freq)
    unit = embeddings.unit()

    in_scope = frame["polarity"].isin(POLARITIES).to_numpy()
    groups: list[_Group] = []
    for (touchpoint, polarity), part in frame[in_scope].groupby(["touchpoint", "polarity"], sort=True):
        group = _Group(str(touchpoint), str(polarity), part.index.to_numpy())
        _cluster_group(group, frame, embeddings, unit, settings, config.seed, previous)
        groups.append(group)

    theme_rows: list[dict[str, Any]] = []
    assignment_parts: list[pd.DataFrame] = []
    # .array, not .to_numpy(): sentence ids are one per row, so an object array would be a string per row.
    sentence_ids, response_ids = frame["sentence_id"].array, frame["response_id"].array
    stats_rows: list[dict[str, Any]] = []
    texts = frame["text"].tolist()
    produced: set[str] = set()
    previous_ids = set(previous["theme_id"]) if previous is not None and not previous.empty else set()
    for group in groups:
        members, forced, merged_away = apply_membership_overrides(group.members, texts, overrides)
        centroids = {t: unit_vectors(unit.mean(rows)) for t, rows in members.items()}
        labels = (
            _label_group(members, frame, embeddings, centroids, settings, embed_phrases, group.touchpoint)
            if members
            else {}
        )
        group_periods = frame.loc[group.rows, "_period"]
        for theme_id in sorted(members):
            rows = members[theme_id]
            part = frame.iloc[rows]
            per_period = trends.counts_per_period(part["_period"], group_periods)
            is_new = group.is_new.get(theme_id, theme_id not in previous_ids if previous_ids else False)
            verdict = trends.assess_emerging(per_period, is_new, alpha=settings.emerging_alpha)
            label = labels[theme_id]
            sentiment = pd.to_numeric(part["sentiment_score"], errors="coerce")
            components = part["component"].dropna().astype(str)
            respondents = int(part["response_id"].nunique())
            theme_rows.append(
                {
                    "theme_id": theme_id,
                    "touchpoint": group.touchpoint,
                    "polarity": group.polarity,
                    "label": forced.get(theme_id, label.label),
                    "label_alt": label.label_alt,
                    "language": label.language,
                    "keywords": ";".join(label.keywords),
                    "size": len(rows),
                    "respondents": respondents,
                    "share_respondents": respondents / total_respondents,
                    "mean_sentiment": float(sentiment.mean()) if sentiment.notna().any() else None,
                    "dominant_emotions": _dominant_emotions(part["emotions"]),
                    "rational_share": float((components == "rational").mean()) if len(components) else None,
                    "verbatims": json.dumps(
                        _verbatims(rows, frame, unit, centroids[theme_id], settings.max_verbatims), ensure_ascii=False
                    ),
                    "first_seen": part["created_at"].min(),
                    "last_seen": part["created_at"].max(),
                    "counts_per_period": trends.to_json(per_period),
                    "centroid": group.centroids.get(theme_id, centroids[theme_id]).astype(float).tolist(),
                    "status": "active",
                    "emerging": verdict.emerging,
                    "emerging_evidence": verdict.evidence,
                }
            )
            produced.add(theme_id)
            assignment_parts.append(
                pd.DataFrame(
                    {
                        "sentence_id": sentence_ids.take(np.asarray(rows)),
                        "response_id": response_ids.take(np.asarray(rows)),
                        "theme_id": theme_id,
                        "probability": [group.probability.get(r, 1.0) for r in rows],
                    }
                )
            )
        for old_id, into in merged_away.items():
            theme_rows.append(_merged_record(old_id, into, group, frame))
            produced.add(old_id)
        assigned = sum(len(v) for v in members.values())
        stats_rows.append(
            {
                "touchpoint": group.touchpoint,
                "polarity": group.polarity,
                "sentences": len(group.rows),
                "distinct_sentences": group.unique_texts,
                "themes": len(members),
                "unassigned": len(group.rows) - assigned,
                "unassigned_share": (len(group.rows) - assigned) / max(1, len(group.rows)),
                "skipped_reason": group.skipped,
            }
        )
    if previous is not None and not previous.empty:
        for record in previous[~previous["theme_id"].isin(produced)].to_dict("records"):
            vanished = {c: record.get(c) for c in THEME_COLUMNS}
            vanished.update(status="vanished", emerging=False, emerging_evidence=None)
            theme_rows.append(vanished)
    themes = pd.DataFrame(theme_rows, columns=THEME_COLUMNS)
    assignments = (
        pd.concat(assignment_parts, ignore_index=True)[ASSIGNMENT_COLUMNS]
        if assignment_parts
        else pd.DataFrame(columns=ASSIGNMENT_COLUMNS)
    )
    stats = pd.DataFrame(stats_rows)
    logger.info(
        "themes: %d active over %d touchpoint/polarity groups; %d of %d sentences unassigned",
        int((themes["status"] == "active").sum()) if len(themes) else 0,
        len(groups),
        int(stats["unassigned"].sum()) if len(stats) else 0,
        int(stats["sentences"].sum()) if len(stats) else 0,
    )
    return ThemeResult(themes=themes, assignments=assignments, stats=stats, period_freq=freq)


def _merged_record(old_id: str, into: str, group: _Group, frame: pd.DataFrame) -> dict[str, Any]:
    """A merged-away theme keeps a row (status 'merged', evidence naming the target) and its centroid,
    so the next run still recognises the cause and merges it again."""
    record: dict[str, Any] = dict.fromkeys(THEME_COLUMNS)
    record.update(
        theme_id=old_id,
        touchpoint=group.touchpoint,
        polarity=group.polarity,
        label=f"merged into {into}",
        size=0,
        respondents=0,
        share_respondents=0.0,
        centroid=group.centroids[old_id].astype(float).tolist() if old_id in group.centroids else None,
        status="merged",
        emerging=False,
        emerging_evidence=None,
        verbatims="[]",
        counts_per_period="{}",
    )
    return record


# -- store level --------------------------------------------------------------------------------------
#: One row per sentence with its sentence-level labels, pivoted in DuckDB by one aggregate over the
#: annotations (four joins, one per task, needed 1.3 GB on a 100k-response store; this stays within the
#: store's memory limit by spilling). ``{where}`` keeps only the polarities themes are built for.
_SENTENCES_SQL = """
WITH labels AS (
    SELECT target_id,
           any_value(label) FILTER (WHERE task = 'sentiment') AS sentiment_label,
           any_value(CASE WHEN scores IS NULL THEN NULL
                          ELSE COALESCE(TRY_CAST(json_extract_string(scores, '$.positive') AS DOUBLE), 0.0)
                             - COALESCE(TRY_CAST(json_extract_string(scores, '$.negative') AS DOUBLE), 0.0) END)
               FILTER (WHERE task = 'sentiment') AS sentiment_score,
           any_value(label) FILTER (WHERE task = 'emotion') AS emotions,
           any_value(label) FILTER (WHERE task = 'component') AS component,
           any_value(label) FILTER (WHERE task = 'touchpoint') AS touchpoint_label
    FROM annotations
    WHERE level = 'sentence' AND task IN ('sentiment', 'emotion', 'component', 'touchpoint')
    GROUP BY target_id
)
SELECT s.sentence_id, s.response_id, s.text, s.text_hash, COALESCE(s.language, r.language) AS language,
       r.created_at, r.nps_class, COALESCE(a.touchpoint, r.touchpoint) AS given_touchpoint,
       l.sentiment_label, l.sentiment_score, l.emotions, l.component, l.touchpoint_label
FROM sentences s
LEFT JOIN labels l ON l.target_id = s.sentence_id
LEFT JOIN responses r ON r.response_id = s.response_id
LEFT JOIN answers a ON a.answer_id = s.answer_id
WHERE s.text IS NOT NULL AND length(trim(s.text)) > 0 {where}
"""
_TASKS_SQL = "SELECT DISTINCT task FROM annotations WHERE level = 'sentence'"
#: Columns whose values repeat across rows (texts repeat too: the same sentence in many reviews).
_UNIQUE_PER_ROW = frozenset({"sentence_id"})


def _compact_frame(store: Any, sql: str, batch_rows: int = 100_000) -> pd.DataFrame:
    """A query's rows as a DataFrame whose repeating string columns hold one Python object per distinct
    value (rows point at it): streamed from DuckDB through Arrow in batches, dictionary-encoded, so
    neither side ever holds a full row-wise copy of the strings."""
    import pyarrow as pa

    batches = []
    reader = store.con.sql(sql).to_arrow_reader(batch_rows)  # sql(), not execute(): no extra copy
    for batch in reader:
        columns = []
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            textual = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
            columns.append(column.dictionary_encode() if textual and name not in _UNIQUE_PER_ROW else column)
        batches.append(pa.RecordBatch.from_arrays(columns, names=batch.schema.names))
    if not batches:  # no rows: the columns from the reader's schema, without running the query again
        return reader.schema.empty_table().to_pandas()
    frame = pa.Table.from_batches(batches).unify_dictionaries().to_pandas()
    del batches
    for name in frame.columns:
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype(object)
    return frame


def load_theme_input(store: Any, polarities: tuple[str, ...] | None = None) -> tuple[pd.DataFrame, int]:
    """Sentences of the store in ``build_themes`` shape (touchpoints exploded), and the respondent count.

    Polarity comes from sentence sentiment annotations; with none at all, detractors' sentences count as
    negative and promoters' as positive (logged). Touchpoints come from touchpoint annotations, else from
    the answer's or response's own touchpoint, else a single "all". ``polarities`` keeps only sentences
    of those polarities (filtered in DuckDB when sentiment annotations exist, so the rest are never read).
    """
    tasks = set(store.df(_TASKS_SQL)["task"])
    where = ""
    if polarities is not None and "sentiment" in tasks:
        where = "AND l.sentiment_label IN (" + ", ".join(f"'{p}'" for p in polarities if p.isalpha()) + ")"
    sentences = _compact_frame(store, _SENTENCES_SQL.format(where=where))
    total_respondents = int(store.scalar("SELECT count(*) FROM responses") or 0)
    if "sentiment" in tasks:
        sentences["polarity"] = sentences["sentiment_label"]
    else:
        logger.warning("no sentiment annotations in the store: using NPS class (detractor=negative) as polarity")
        sentences["polarity"] = sentences["nps_class"].map({"detractor": "negative", "promoter": "positive"})
        sentences["sentiment_score"] = None
    if polarities is not None:
        sentences = sentences[sentences["polarity"].isin(polarities)].reset_index(drop=True)
    if "touchpoint" in tasks:
        split: dict[object, list[str]] = {}
        for value in sentences["touchpoint_label"].unique():
            labels = [t.strip() for t in value.split(";") if t.strip()] if isinstance(value, str) else []
            split[value] = labels or ["other"]
        sentences["touchpoint"] = [split[v] if isinstance(v, str) else ["other"] for v in sentences["touchpoint_label"]]
        sentences = sentences.explode("touchpoint", ignore_index=True)
    else:
        logger.info("no touchpoint annotations: using the answers'/responses' touchpoint, else 'all'")
        sentences["touchpoint"] = sentences["given_touchpoint"].fillna("all")
    sentences = sentences.drop(columns=["sentiment_label", "touchpoint_label"])
    return sentences, total_respondents or int(sentences["response_id"].nunique())


def _store_embeddings(sentences: pd.DataFrame, store: Any, config: VocmineConfig) -> RowVectors:
    """Vectors from the store's cache, one per distinct text (rows point at it); only missing ones are
    computed (and cached) by the embedder."""
    from vocmine.models.embedders import embed_cached, resolve_embedder

    embedder = resolve_embedder(config.analysis.embedder)
    if sentences.empty:
        return RowVectors.of(np.zeros((0, getattr(embedder, "dim", 0)), dtype=np.float32))
    hashes = sentences["text_hash"].where(sentences["text_hash"].notna() & (sentences["text_hash"] != ""))
    if hashes.isna().any():
        hashes = hashes.fillna(sentences["text"].map(text_hash))
    codes, distinct = pd.factorize(hashes)
    distinct = [str(h) for h in distinct]
    cached = store.cached_embeddings(embedder.name, distinct)
    missing = [i for i, h in enumerate(distinct) if h not in cached]
    if missing:
        first_row = np.empty(len(distinct), dtype=np.int64)
        first_row[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
        logger.info("%d sentence vectors missing from the cache: embedding them once", len(missing))
        embed_cached(sorted({str(t) for t in sentences["text"].to_numpy()[first_row[missing]]}), embedder, store)
        cached = store.cached_embeddings(embedder.name, distinct)
    matrix = np.stack([cached[h] for h in distinct]).astype(np.float32, copy=False)
    return RowVectors(matrix, codes.astype(np.int64))


def refresh_themes(
    store: Any, config: VocmineConfig, run_id: str, overrides: ThemeOverrides | Path | str | None = None
) -> dict[str, Any]:
    """Rebuild themes from the store and write ``themes`` + ``theme_assignments`` in one transaction.

    ``overrides`` defaults to the ``[themes] overrides_file`` setting, else ``theme_overrides.toml``
    beside the store file when it exists. Returns run stats for the ``runs`` table.
    """
    from vocmine.models.embedders import embed_cached, phrase_embedder, resolve_embedder
    from vocmine.store import utcnow

    settings = theme_settings(config)
    if overrides is None:
        default_file = Path(store.path).parent / "theme_overrides.toml"
        overrides = settings.overrides_file or (default_file if default_file.exists() else None)
    sentences, total_respondents = load_theme_input(store, polarities=POLARITIES)
    embeddings = _store_embeddings(sentences, store, config)
    store.release_memory()  # the reads above leave ~300 MB cached at 100k responses; clustering needs it
    embedder = phrase_embedder(resolve_embedder(config.analysis.embedder))
    previous = store.df("SELECT * FROM themes")
    result = build_themes(
        sentences,
        embeddings,
        config,
        previous=previous if len(previous) else None,
        overrides=overrides,
        embed_phrases=lambda phrases: embed_cached(phrases, embedder, store),
        total_respondents=total_respondents,
    )
    themes = result.themes.copy()
    themes["run_id"] = run_id
    themes["updated_at"] = utcnow()
    # theme_assignments has sentence_id as its key: a sentence in two touchpoints keeps its likeliest theme.
    assignments = (
        result.assignments.sort_values(["sentence_id", "probability", "theme_id"], ascending=[True, False, True])
        .drop_duplicates("sentence_id")
        .assign(run_id=run_id)
    )
    with store.transaction() as con:
        con.execute("DELETE FROM theme_assignments")
        store.upsert("themes", themes)
        store.upsert("theme_assignments", assignments)
    active = themes[themes["status"] == "active"]
    stats = result.stats
    return {
        "themes_active": int(len(active)),
        "themes_new": int(active["emerging_evidence"].fillna("").str.startswith("new theme").sum()),
        "themes_emerging": int(active["emerging"].fillna(False).astype(bool).sum()),
        "themes_vanished": int((themes["status"] == "vanished").sum()),
        "sentences": int(stats["sentences"].sum()) if len(stats) else 0,
        "unassigned_share": float(stats["unassigned"].sum() / max(1, stats["sentences"].sum())) if len(stats) else 0.0,
        "groups": stats.to_dict("records"),
        "period": result.period_freq,
    }
