"""Mystery-shopper and branch evaluation: per protocol step, branch and seller, and what sinks a visit.

Input (profile ``mystery_shopper``): one response per visit (overall visit score in ``responses.score``)
and one answer per protocol step (``answers.question`` = step, ``answers.score`` = step score,
``answers.text`` = the shopper's comment). Three tables come out:

* ``step_scores``: mean step score with a Student-t 95% interval and the share of failed steps
  (score below ``config.nps.score_passive_min``, i.e. what a 0-10 programme calls "not passed"), for the
  whole network and per branch and seller; ``small_n`` below ``config.nps.min_n`` visits.
* ``step_drivers``: which steps explain a low overall visit score. Failing a step is treated exactly as
  mentioning a theme in :mod:`vocmine.pipelines.drivers`: its impact on the visits' NPS (overall score
  cut 9-10 / 7-8 / 0-6) with a bootstrap interval, and its driver strength from one ridge-logistic
  model of "visit is a detractor" on all steps' failure indicators at once, plus the Spearman
  correlation of the step score with the overall score as a model-free check.
* ``step_themes``: the themes found in each step's comments (when topics have run).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.stats import spearmanr, t

from vocmine.config import VocmineConfig
from vocmine.pipelines.drivers import driver_strength, nps_impact
from vocmine.pipelines.nps import DETRACTOR, classify_nps
from vocmine.store import Store

logger = logging.getLogger(__name__)

STEP_SCORE_COLUMNS = [
    "step", "segment", "segment_value", "n", "mean", "low", "high", "fail_share", "small_n",
]


def _mean_interval(values: pd.Series, confidence: float) -> tuple[int, float, float, float]:
    values = values.dropna().astype(float)
    n = len(values)
    if n == 0:
        return 0, np.nan, np.nan, np.nan
    mean = float(values.mean())
    if n == 1:
        return 1, mean, np.nan, np.nan
    half = float(t.ppf(0.5 + confidence / 2, n - 1)) * float(values.std(ddof=1)) / np.sqrt(n)
    return n, mean, mean - half, mean + half


def step_scores(
    steps: pd.DataFrame,
    visits: pd.DataFrame,
    config: VocmineConfig,
    by: Sequence[str] = ("branch", "seller"),
) -> pd.DataFrame:
    """Mean score per step for the network and per ``by`` value, with a t interval.

    ``steps``: response_id, step, score. ``visits``: response_id and the ``by`` columns.
    """
    visit_columns = ["response_id"] + [c for c in by if c in visits and c != "score"]
    frame = steps.dropna(subset=["score"]).merge(visits[visit_columns], on="response_id", how="left")
    rows = []
    groupings = [("all", None)] + [(segment, segment) for segment in by if segment in frame]
    for segment, column in groupings:
        keys = ["step"] if column is None else ["step", column]
        for key, group in frame.groupby(keys, sort=True):
            step = key[0] if isinstance(key, tuple) else key
            value = "all" if column is None else str(key[1])
            n, mean, low, high = _mean_interval(group["score"], config.nps.confidence)
            fail_share = float((group["score"] < config.nps.score_passive_min).mean())
            rows.append((step, segment, value, n, mean, low, high, fail_share, n < config.nps.min_n))
    return pd.DataFrame(rows, columns=STEP_SCORE_COLUMNS)


def step_drivers(steps: pd.DataFrame, visits: pd.DataFrame, config: VocmineConfig) -> pd.DataFrame:
    """Which failed steps explain a low overall visit score (impact, strength, Spearman rho).

    ``visits`` needs response_id and ``score`` (overall visit score, 0-10). Visits without an overall
    score are left out. Columns: step, n, failed, detractor_failed, mean_overall_failed,
    mean_overall_passed, estimate, low, high (impact, NPS points), strength, strength_low,
    strength_high (points of P(detractor visit)), rho, small_n.
    """
    scored = visits.dropna(subset=["score"]).reset_index(drop=True)
    names = sorted(steps["step"].dropna().unique())
    if scored.empty or not names:
        return pd.DataFrame()
    wide = steps.pivot_table(index="response_id", columns="step", values="score", aggfunc="mean")
    wide = wide.reindex(index=scored["response_id"], columns=names)
    classes = classify_nps(scored["score"], pd.Series(np.nan, index=scored.index),
                           pd.Series("0-10", index=scored.index), config.nps)
    failed = (wide.to_numpy() < config.nps.score_passive_min).astype(float)  # NaN score -> not failed
    nps_cfg = config.nps
    impact = nps_impact(classes.tolist(), failed, nps_cfg.bootstrap_samples, nps_cfg.confidence, config.seed)
    strength = driver_strength((classes == DETRACTOR).to_numpy(), failed, nps_cfg.bootstrap_samples,
                               nps_cfg.confidence, config.seed)
    overall = scored["score"].to_numpy(dtype=float)
    rows = []
    for j, name in enumerate(names):
        step_values = wide[name].to_numpy(dtype=float)
        present = ~np.isnan(step_values)
        rho = float(spearmanr(step_values[present], overall[present]).statistic) if present.sum() > 2 else np.nan
        is_failed = failed[:, j] == 1.0
        rows.append(
            {
                "step": name,
                "n": int(present.sum()),
                "failed": int(is_failed.sum()),
                "detractor_failed": int(impact.loc[j, "detractor_mentions"]),
                "mean_overall_failed": float(overall[is_failed].mean()) if is_failed.any() else np.nan,
                "mean_overall_passed": float(overall[present & ~is_failed].mean())
                if (present & ~is_failed).any() else np.nan,
                "estimate": impact.loc[j, "estimate"],
                "low": impact.loc[j, "low"],
                "high": impact.loc[j, "high"],
                "strength": strength.loc[j, "strength"],
                "strength_low": strength.loc[j, "strength_low"],
                "strength_high": strength.loc[j, "strength_high"],
                "rho": rho,
                "small_n": bool(is_failed.sum() < nps_cfg.min_n),
            }
        )
    return pd.DataFrame(rows).sort_values(["estimate", "step"]).reset_index(drop=True)


def load_mystery_shopper(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(steps, visits) of every mystery-shopper response in the store."""
    visits = store.df(
        "SELECT response_id, branch, seller, created_at, score FROM responses WHERE channel = 'mystery_shopper'"
    )
    steps = store.df(
        "SELECT a.response_id, a.answer_id, a.question AS step, a.score, a.text FROM answers a "
        "JOIN responses r USING (response_id) WHERE r.channel = 'mystery_shopper'"
    )
    return steps, visits


def step_themes(store: Store) -> pd.DataFrame:
    """Themes of each step's comments: step, theme_id, label, mentions (visits), mean step score."""
    return store.df(
        """
        SELECT a.question AS step, t.theme_id, t.label, t.polarity, count(DISTINCT a.response_id) AS mentions,
               avg(a.score) AS mean_step_score
        FROM theme_assignments ta
        JOIN sentences s ON s.sentence_id = ta.sentence_id
        JOIN answers a ON a.answer_id = s.answer_id
        JOIN responses r ON r.response_id = a.response_id
        JOIN themes t ON t.theme_id = ta.theme_id
        WHERE r.channel = 'mystery_shopper'
        GROUP BY 1, 2, 3, 4
        ORDER BY step, mentions DESC, theme_id
        """
    )


def mystery_shopper_report(store: Store, config: VocmineConfig) -> dict[str, pd.DataFrame]:
    """The three mystery-shopper tables (see the module docstring) for the report and the API."""
    steps, visits = load_mystery_shopper(store)
    if steps.empty:
        return {"step_scores": pd.DataFrame(columns=STEP_SCORE_COLUMNS), "step_drivers": pd.DataFrame(),
                "step_themes": pd.DataFrame()}
    return {
        "step_scores": step_scores(steps, visits, config),
        "step_drivers": step_drivers(steps, visits, config),
        "step_themes": step_themes(store),
    }
