"""Root-cause impact and driver strength: what each theme (touchpoint, emotion, ...) costs in NPS.

Two complementary figures per key, each with a seeded bootstrap 95% interval:

* **NPS impact** = NPS(all respondents) - NPS(respondents who did not mention it), in NPS points. It
  answers "how much higher would the NPS be if nobody had this problem (and the rest stayed as they
  are)". Negative = the theme costs points. It is marginal: two themes that always come together both
  get the whole cost, which is why the second figure exists.
* **Driver strength** = average marginal effect (AME) of mentioning the key on the probability of
  being a detractor, in percentage points, from ONE logistic regression of detractor-vs-not on all keys'
  mention indicators at once. Positive = mentioning it makes a detractor more likely, holding the other
  keys fixed, so collinear themes share their effect instead of each claiming it. Impact and strength
  "agree" when impact < 0 and strength > 0 (or the reverse).

Why this model and not the alternatives: relative weights (Johnson 2000, Multivariate Behavioral
Research 35(1)) and Shapley value regression (Lipovetsky & Conklin 2001, Applied Stochastic Models in
Business and Industry 17(4)) split an R^2 and so carry no sign, which the report needs (a theme can
raise loyalty), and exact Shapley needs 2^k fits, out of reach with 30+ themes. The logistic model keeps
the sign, models the outcome NPS is built on (being a detractor), and its AME reads in the same
percentage-point units as the NPS (Williams 2012, "Using the margins command to estimate and interpret
adjusted predictions and marginal effects", Stata Journal 12(2)). A ridge penalty of ``L2`` on the
log-odds (a N(0, 1) prior; the intercept is free) keeps a theme that only detractors mention finite
(complete separation) and matters little once a theme has a few hundred mentions. Rows with the same
mention pattern are pooled, so each fit costs the number of distinct patterns, not respondents, and the
bootstrap (resampling respondents, Efron & Tibshirani 1993) stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
from scipy.special import expit

from vocmine.config import VocmineConfig
from vocmine.pipelines.kpis import ANNOTATED_SEGMENTS, load_kpi_responses, response_label_counts, without_empty
from vocmine.pipelines.nps import DETRACTOR, NPS_VALUE, classify_nps
from vocmine.store import Store

logger = logging.getLogger(__name__)

DRIVER_COLUMNS = [
    "level", "key", "label", "touchpoint", "segment", "segment_value", "n", "mentions",
    "detractor_mentions", "detractor_share", "estimate", "low", "high", "strength", "strength_low",
    "strength_high", "small_n",
]
#: Ridge penalty on each key's log-odds coefficient (intercept unpenalised); see the module docstring.
L2 = 1.0
#: Resamples per chunk: bounds memory at chunk x n integers.
_CHUNK = 50
#: Annotation labels that mean "nothing found".
_EMPTY = frozenset({"", "none", "other"})


def nps_values(classes: Sequence[object]) -> np.ndarray:
    """+1 promoter, 0 passive, -1 detractor, NaN without status: NPS = 100 x mean of these."""
    return np.array([NPS_VALUE.get(c, np.nan) if isinstance(c, str) else np.nan for c in classes], dtype=float)


def _resamples(n: int, samples: int, seed: int) -> Iterator[np.ndarray]:
    """Bootstrap resamples of row indices, ``(chunk, n)`` at a time, from one seeded generator."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < samples:
        size = min(_CHUNK, samples - done)
        yield rng.integers(0, n, size=(size, n))
        done += size


def _counts(indices: np.ndarray, n: int) -> np.ndarray:
    """How often each row appears in each resample: ``(chunk, n)`` float32 weights, filled one resample at
    a time (a flat bincount over the whole chunk held three more chunk x n int64 arrays, 120 MB at 100k).
    Counts are small integers, exact in float32."""
    weights = np.empty(indices.shape, dtype=np.float32)
    for row, drawn in enumerate(indices):
        weights[row] = np.bincount(drawn, minlength=n)
    return weights


def _impact_from_weights(weights: np.ndarray, values: np.ndarray, indicators: np.ndarray) -> np.ndarray:
    """NPS impact per (resample, key) in points for weight rows ``weights`` (r x n); NaN if all mention it.

    The respondents who did not mention a key are everyone minus those who did, so both sums come from one
    product with the 0/1 ``indicators`` (respondents x keys) instead of two more respondents x keys
    matrices (1 - indicators, and that times the values). ``weights`` and ``indicators`` are float32: every
    product and sum is an integer below 2**24 (the caller checks), so float32 is exact and halves the
    memory; the divisions are done in float64.
    """
    signed = weights * values.astype(weights.dtype)
    total = weights.sum(axis=1, dtype=np.float64)
    signed_total = signed.sum(axis=1, dtype=np.float64)
    mentioned = (np.vstack([weights, signed]) @ indicators).astype(np.float64)
    count_mentioned, value_mentioned = mentioned[: len(weights)], mentioned[len(weights):]
    with np.errstate(invalid="ignore", divide="ignore"):
        nps_rest = (signed_total[:, None] - value_mentioned) / (total[:, None] - count_mentioned)
    return 100.0 * (signed_total / total)[:, None] - 100.0 * nps_rest


def _interval(draws: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column; NaN where more than half the resamples were undefined."""
    alpha = (1.0 - confidence) / 2.0
    valid = np.isfinite(draws)
    low = np.full(draws.shape[1], np.nan)
    high = np.full(draws.shape[1], np.nan)
    for j in range(draws.shape[1]):
        column = draws[valid[:, j], j]
        if len(column) and len(column) * 2 >= draws.shape[0]:
            low[j], high[j] = np.quantile(column, [alpha, 1.0 - alpha])
    return low, high


def _as_indicators(indicators: np.ndarray, rows: int) -> np.ndarray:
    """``indicators`` as a float32 respondents x keys matrix of 0/1; no copy when it already is one."""
    matrix = np.asarray(indicators).reshape(rows, -1)
    if matrix.dtype == np.float32:
        return matrix
    return (matrix != 0).astype(np.float32)


def nps_impact(
    classes: Sequence[object],
    indicators: np.ndarray,
    samples: int = 1000,
    confidence: float = 0.95,
    seed: int = 42,
) -> pd.DataFrame:
    """Impact of each key (column of ``indicators``) with a percentile bootstrap interval.

    ``classes`` holds one NPS class per respondent (respondents without status must be removed by the
    caller); ``indicators`` is respondents x keys, 1 where the respondent mentions the key. Returns one
    row per key: n, mentions, detractor_mentions, detractor_share (share of all detractors who mention
    it), estimate, low, high. A key nobody mentions has impact exactly 0; a key everyone mentions has
    none (there is no "did not mention" group).
    """
    values = nps_values(classes)
    if np.isnan(values).any():
        raise ValueError("nps_impact needs classified respondents only")
    if len(values) >= 2**24:
        raise ValueError(f"nps_impact counts in float32, exact below 2**24 respondents; got {len(values)}")
    indicators = _as_indicators(indicators, len(values))
    n, keys = indicators.shape
    is_detractor = values == -1.0
    out = pd.DataFrame(
        {
            "n": n,
            "mentions": np.count_nonzero(indicators, axis=0),
            "detractor_mentions": np.count_nonzero(indicators[is_detractor], axis=0),
        }
    )
    detractors = int(is_detractor.sum())
    out["detractor_share"] = out["detractor_mentions"] / detractors if detractors else np.nan
    if n == 0:
        out["estimate"] = out["low"] = out["high"] = np.nan
        return out
    out["estimate"] = _impact_from_weights(np.ones((1, n), dtype=np.float32), values, indicators)[0]
    draws = np.concatenate([
        _impact_from_weights(_counts(idx, n), values, indicators) for idx in _resamples(n, samples, seed)
    ])
    out["low"], out["high"] = _interval(draws, confidence)
    nobody = out["mentions"].to_numpy() == 0
    out.loc[nobody, ["estimate", "low", "high"]] = 0.0
    return out


def _fit_logit(design: np.ndarray, positives: np.ndarray, totals: np.ndarray, l2: float,
               start: np.ndarray | None = None, max_iter: int = 100) -> np.ndarray:
    """Ridge logistic regression on pooled rows (pattern x [1, indicators]) by damped Newton steps."""
    penalty = np.full(design.shape[1], l2)
    penalty[0] = 0.0
    beta = np.zeros(design.shape[1]) if start is None else start.copy()
    for _ in range(max_iter):
        mu = expit(design @ beta)
        gradient = design.T @ (positives - totals * mu) - penalty * beta
        hessian = (design * (totals * mu * (1.0 - mu))[:, None]).T @ design + np.diag(penalty)
        hessian[0, 0] += 1e-9
        step = np.linalg.solve(hessian, gradient)
        largest = np.abs(step).max()
        if largest > 5.0:
            step *= 5.0 / largest
        beta += step
        if largest < 1e-8:
            break
    return beta


def _average_marginal_effects(design: np.ndarray, totals: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """AME of switching each indicator 0 -> 1, averaged over respondents, in percentage points."""
    eta = design @ beta
    x, b = design[:, 1:], beta[1:]
    switched_on = expit(eta[:, None] + b * (1.0 - x))
    switched_off = expit(eta[:, None] - b * x)
    return 100.0 * (totals[:, None] * (switched_on - switched_off)).sum(axis=0) / totals.sum()


def _distinct_rows(mentions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct 0/1 rows of a boolean ``mentions`` matrix (sorted as ``np.unique(axis=0)`` sorts them) and
    each row's pattern number. Rows are packed to bits first: a 100k x 100 matrix is 1.3 MB to sort
    instead of the 80 MB (and its copies) of ``np.unique`` over float rows; packing keeps the order,
    since the first column is the highest bit of the first byte."""
    packed = np.packbits(mentions, axis=1)
    _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    return mentions[first].astype(float), inverse.ravel()


def driver_strength(
    is_detractor: np.ndarray,
    indicators: np.ndarray,
    samples: int = 1000,
    confidence: float = 0.95,
    seed: int = 42,
    l2: float = L2,
) -> pd.DataFrame:
    """Strength (AME on P(detractor), points) of every key from one model, with a bootstrap interval.

    Keys nobody or everybody mentions are left out of the model (their effect is not identified) and
    get NaN; so does everything when there are no detractors or only detractors.
    """
    y = np.asarray(is_detractor, dtype=float)
    indicators = np.asarray(indicators).reshape(len(y), -1)
    n, keys = indicators.shape
    out = pd.DataFrame({"strength": np.full(keys, np.nan), "strength_low": np.nan, "strength_high": np.nan})
    mentions = np.count_nonzero(indicators, axis=0)
    usable = np.flatnonzero((mentions > 0) & (mentions < n))
    if n == 0 or len(usable) == 0 or y.sum() in (0, n):
        return out
    used = indicators if len(usable) == keys else indicators[:, usable]  # no copy when every key is usable
    patterns, pattern_of_row = _distinct_rows(used != 0)
    design = np.column_stack([np.ones(len(patterns)), patterns])
    n_patterns = len(patterns)

    def fit(totals: np.ndarray, positives: np.ndarray, start: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if positives.sum() <= 0 or positives.sum() >= totals.sum():
            return np.full(len(usable), np.nan), start
        beta = _fit_logit(design, positives, totals, l2, start)
        return _average_marginal_effects(design, totals, beta), beta

    totals = np.bincount(pattern_of_row, minlength=n_patterns).astype(float)
    positives = np.bincount(pattern_of_row, weights=y, minlength=n_patterns)
    estimate, beta_full = fit(totals, positives, None)
    draws = []
    for idx in _resamples(n, samples, seed):
        for row in idx:
            sampled = pattern_of_row[row]
            boot_totals = np.bincount(sampled, minlength=n_patterns).astype(float)
            boot_positives = np.bincount(sampled, weights=y[row], minlength=n_patterns)
            draws.append(fit(boot_totals, boot_positives, beta_full)[0])
    low, high = _interval(np.array(draws), confidence)
    out.loc[usable, "strength"] = estimate
    out.loc[usable, "strength_low"] = low
    out.loc[usable, "strength_high"] = high
    return out


def _classes_of(responses: pd.DataFrame, config: VocmineConfig) -> pd.Series:
    if "nps_class" in responses:
        return responses["nps_class"]
    return classify_nps(responses.get("score"), responses.get("stars"), responses.get("score_scale"), config.nps)


def _segment_members(responses: pd.DataFrame, segments: Sequence[str]) -> Iterator[tuple[str, str, np.ndarray]]:
    yield "all", "all", np.ones(len(responses), dtype=bool)
    for segment in segments:
        if segment not in responses:
            continue
        column = responses[segment]
        for value in sorted(column.dropna().astype(str).unique()):
            yield segment, value, (column.astype(str) == value).to_numpy() & column.notna().to_numpy()


def compute_drivers(
    responses: pd.DataFrame,
    mentions: pd.DataFrame,
    config: VocmineConfig,
    segments: Sequence[str] = ("branch",),
) -> pd.DataFrame:
    """The ``drivers`` table: one row per level, key and segment (``all`` plus each ``segments`` value).

    ``responses`` has ``response_id`` and ``nps_class`` (or the score columns); ``mentions`` is long:
    ``response_id``, ``level`` ("theme", "touchpoint", "emotion", ...), ``key`` and optionally ``label``
    and ``touchpoint``. Only respondents with an NPS status count. ``small_n`` marks rows where either
    the segment's respondents or the key's mentions are below ``config.nps.min_n``; driver strength is
    only bootstrapped where the segment has at least ``min_n`` respondents (NaN elsewhere), because a
    model over all keys on a handful of respondents says nothing.
    """
    classes = _classes_of(responses, config)
    scored = responses.assign(nps_class=classes)
    scored = scored[scored["nps_class"].notna()].reset_index(drop=True)
    if scored.empty or mentions.empty:
        return pd.DataFrame(columns=DRIVER_COLUMNS)
    respondents = pd.Index(scored["response_id"])
    nps_cfg = config.nps
    rows = []
    for level, level_mentions in mentions.groupby("level", sort=True):
        meta = level_mentions.drop_duplicates("key").set_index("key")
        keys = sorted(meta.index.astype(str))
        matrix = np.zeros((len(scored), len(keys)), dtype=np.float32)  # what nps_impact works in
        row = _positions(level_mentions["response_id"], respondents)
        column = _positions(level_mentions["key"].astype(str), pd.Index(keys))
        known = row >= 0  # mentions by respondents without an NPS status are left out
        matrix[row[known], column[known]] = 1.0
        for segment, value, member in _segment_members(scored, segments):
            sub_classes = scored["nps_class"].to_numpy()[member]
            sub_matrix = matrix if member.all() else matrix[member]  # "all": no copy of the whole matrix
            impact = nps_impact(sub_classes, sub_matrix, nps_cfg.bootstrap_samples, nps_cfg.confidence, config.seed)
            if len(sub_classes) >= nps_cfg.min_n:
                strength = driver_strength(sub_classes == DETRACTOR, sub_matrix, nps_cfg.bootstrap_samples,
                                           nps_cfg.confidence, config.seed)
            else:
                strength = pd.DataFrame({"strength": np.full(len(keys), np.nan), "strength_low": np.nan,
                                         "strength_high": np.nan})
            block = pd.concat([impact, strength], axis=1)
            block.insert(0, "key", keys)
            block.insert(0, "level", level)
            block["label"] = [_meta(meta, key, "label") for key in keys]
            block["touchpoint"] = [_meta(meta, key, "touchpoint") for key in keys]
            block["segment"], block["segment_value"] = segment, value
            block["small_n"] = (block["n"] < nps_cfg.min_n) | (block["mentions"] < nps_cfg.min_n)
            rows.append(block)
    drivers = pd.concat(rows, ignore_index=True)[DRIVER_COLUMNS]
    return drivers.astype({"n": int, "mentions": int, "detractor_mentions": int, "small_n": bool})


def _positions(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each value in ``index`` (unique), -1 where absent; a categorical is looked up once per
    category, not once per row."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        found = index.get_indexer(values.cat.categories)
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, found[codes], -1)
    return index.get_indexer(values)


def _meta(meta: pd.DataFrame, key: str, column: str) -> object:
    if column not in meta:
        return key if column == "label" else None
    value = meta.at[key, column]
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return key if column == "label" else None
    return value


# -- store side -------------------------------------------------------------------------------------


#: Touchpoints of each response's negative sentences, split and de-duplicated in DuckDB.
_NEGATIVE_TOUCHPOINTS_SQL = """
SELECT DISTINCT response_id, key FROM (
    SELECT s.response_id, trim(unnest(string_split(tp.label, ';'))) AS key
    FROM annotations tp
    JOIN annotations se ON se.target_id = tp.target_id AND se.level = 'sentence' AND se.task = 'sentiment'
    JOIN sentences s ON s.sentence_id = tp.target_id
    WHERE tp.level = 'sentence' AND tp.task = 'touchpoint' AND se.label = 'negative' AND tp.label IS NOT NULL
)
"""


def _pairs(frame: pd.DataFrame, level: str) -> pd.DataFrame:
    """(response_id, level, key, touchpoint) rows, each once, real labels only; a touchpoint level's key is
    its own touchpoint."""
    kept = without_empty(frame, _EMPTY)
    pairs = pd.DataFrame({"response_id": kept["response_id"], "level": level, "key": kept["key"]}).drop_duplicates()
    pairs["touchpoint"] = pairs["key"] if level in ("touchpoint", "touchpoint_negative") else None
    return pairs


def load_mentions(store: Store) -> pd.DataFrame:
    """Who mentions what, from the store: themes, touchpoints (any, and in negative sentences), emotions,
    rational/emotional component. Long format: response_id, level, key, label, touchpoint. Labels are split
    and counted per response in DuckDB (``response_label_counts``), never read row by row.
    """
    parts = [
        store.df(
            "SELECT DISTINCT ta.response_id, 'theme' AS level, t.theme_id AS key, t.label, t.touchpoint "
            "FROM theme_assignments ta JOIN themes t USING (theme_id) WHERE ta.response_id IS NOT NULL",
            categories=("response_id",),
        )
    ]
    given = store.df(
        "SELECT DISTINCT response_id, trim(unnest(string_split(touchpoint, ';'))) AS key "
        "FROM responses WHERE touchpoint IS NOT NULL",
        categories=("response_id",),
    )
    annotated = response_label_counts(store, "touchpoint")[["response_id", "key"]]
    parts.append(_pairs(pd.concat([annotated, given], ignore_index=True), "touchpoint"))
    parts.append(_pairs(store.df(_NEGATIVE_TOUCHPOINTS_SQL, categories=("response_id",)), "touchpoint_negative"))
    for task in ("emotion", "component"):
        parts.append(_pairs(response_label_counts(store, task), task))
    mentions = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(
        not p.empty for p in parts) else pd.DataFrame(columns=["response_id", "level", "key", "label", "touchpoint"])
    if "label" not in mentions:  # only themes have labels; every part has a touchpoint column
        mentions["label"] = None
    return mentions


def _driver_responses(store: Store, segments: Sequence[str]) -> pd.DataFrame:
    """Each response's NPS inputs and segment columns. Only segments derived from annotations need
    ``load_kpi_responses`` (three label counts over the annotations, ~400 MB of DuckDB working memory at
    100k responses); the usual ``branch`` is a plain column."""
    if ANNOTATED_SEGMENTS & set(segments):
        return load_kpi_responses(store)
    present = set(store.columns("responses"))
    wanted = ["response_id", "score", "score_scale", "stars", "nps_class", *segments]
    return store.df(f"SELECT {', '.join(c for c in dict.fromkeys(wanted) if c in present)} FROM responses")


def write_drivers(store: Store, config: VocmineConfig, run_id: str | None = None,
                  segments: Sequence[str] = ("branch",)) -> int:
    """Replace the ``drivers`` table with this run's impact and strength rows, in one transaction."""
    responses = _driver_responses(store, segments)
    mentions = load_mentions(store)
    store.release_memory()  # DuckDB's working memory from the reads above, before the matrices
    drivers = compute_drivers(responses, mentions, config, segments)
    drivers["run_id"] = run_id
    with store.transaction() as con:
        con.execute("DELETE FROM drivers")
        written = store.upsert("drivers", drivers)
    logger.info("drivers: %d rows written", written)
    return written
