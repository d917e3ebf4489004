"""Are branches (or sellers) evaluated alike? A test of the whole network, then the ones that stand out.

1. **Network test**: chi-square test of independence on the branch x (promoter, passive, detractor)
   table. When expected counts are small (more than 20% of cells below 5, Cochran's rule) the
   asymptotic p-value is unreliable, so a seeded Monte Carlo permutation test of the same statistic is
   used instead (shuffle the classes across respondents; Hope 1968), which is exact up to Monte Carlo
   error. ``method`` says which one produced the p-value.
2. **Outliers**: each branch against the rest of the network: difference of NPS (branch - rest) with a
   Wald interval for two independent trinomial NPS (variances add; adjusted Wald, 3 pseudo-respondents
   per side as in :mod:`vocmine.pipelines.nps`), a two-sided z-test p-value, and a
   Benjamini-Hochberg adjusted p-value. With 100+ branches, 5 of every 100 would "stand out" by chance
   at p < 0.05; the adjustment keeps the share of false flags at 5%. ``flag`` is "below" or "above"
   when the adjusted p-value is below ``1 - confidence``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm

from vocmine.config import VocmineConfig
from vocmine.pipelines.kpis import load_kpi_responses
from vocmine.pipelines.nps import DETRACTOR, NPS_CLASSES, PASSIVE, PROMOTER, classify_nps
from vocmine.store import Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class HomogeneityTest:
    """Result of the network-wide test: are the class distributions the same in every group?"""

    by: str
    groups: int
    n: int
    statistic: float | None
    dof: int
    p_value: float | None
    method: str


def contingency_table(classes: pd.Series, groups: pd.Series) -> pd.DataFrame:
    """Groups x (promoter, passive, detractor) counts of classified respondents."""
    frame = pd.DataFrame({"group": groups.astype(object), "nps_class": classes.astype(object)})
    frame = frame[frame["group"].notna() & frame["nps_class"].isin(NPS_CLASSES)]
    table = pd.crosstab(frame["group"].astype(str), frame["nps_class"])
    return table.reindex(columns=list(NPS_CLASSES), fill_value=0)


def _chi_square(table: np.ndarray) -> tuple[float, np.ndarray]:
    rows = table.sum(axis=1, keepdims=True)
    columns = table.sum(axis=0, keepdims=True)
    expected = rows * columns / table.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        cells = np.where(expected > 0, (table - expected) ** 2 / expected, 0.0)
    return float(cells.sum()), expected


def homogeneity_test(
    classes: pd.Series, groups: pd.Series, by: str = "branch", samples: int = 1000, seed: int = 42
) -> HomogeneityTest:
    """Chi-square (or Monte Carlo permutation) test that all groups share one class distribution."""
    table = contingency_table(classes, groups)
    table = table.loc[:, table.sum(axis=0) > 0]
    counts = table.to_numpy(dtype=float)
    n = int(counts.sum())
    if counts.shape[0] < 2 or counts.shape[1] < 2:
        return HomogeneityTest(by, counts.shape[0], n, None, 0, None, "not testable")
    statistic, expected = _chi_square(counts)
    dof = (counts.shape[0] - 1) * (counts.shape[1] - 1)
    if (expected < 5).mean() <= 0.2:
        return HomogeneityTest(by, counts.shape[0], n, statistic, dof, float(chi2.sf(statistic, dof)), "chi-square")
    group_codes = np.repeat(np.arange(counts.shape[0]), counts.sum(axis=1).astype(int))
    class_codes = np.concatenate([np.repeat(np.arange(counts.shape[1]), row.astype(int)) for row in counts])
    rng = np.random.default_rng(seed)
    exceed = 0
    for _ in range(samples):
        shuffled = rng.permutation(class_codes)
        permuted = np.zeros_like(counts)
        np.add.at(permuted, (group_codes, shuffled), 1.0)
        exceed += _chi_square(permuted)[0] >= statistic - 1e-12
    p_value = (exceed + 1) / (samples + 1)
    return HomogeneityTest(by, counts.shape[0], n, statistic, dof, p_value, "monte-carlo permutation")


def benjamini_hochberg(p_values: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg (1995) adjusted p-values (false discovery rate), NaN kept as NaN."""
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full_like(p, np.nan)
    valid = np.flatnonzero(np.isfinite(p))
    if len(valid) == 0:
        return adjusted
    order = valid[np.argsort(p[valid])]
    m = len(order)
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted[order] = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    return adjusted


def _nps_and_variance(promoters: np.ndarray, passives: np.ndarray, detractors: np.ndarray) -> tuple:
    n = promoters + passives + detractors
    with np.errstate(invalid="ignore", divide="ignore"):
        p, d = promoters / n, detractors / n
        nps = p - d
        variance = (p + d - nps**2) / n
    return nps, variance


def standout_groups(classes: pd.Series, groups: pd.Series, config: VocmineConfig) -> pd.DataFrame:
    """Each group's NPS against the rest of the network, with interval, p-values and a flag.

    Columns: segment_value, n, nps, rest_n, rest_nps, difference, low, high, p_value, p_adjusted,
    flag ("below" / "above" / None) and small_n (``n < config.nps.min_n``). Sorted by difference.
    """
    table = contingency_table(classes, groups)
    promoters = table[PROMOTER].to_numpy(float)
    passives = table[PASSIVE].to_numpy(float)
    detractors = table[DETRACTOR].to_numpy(float)
    rest = (promoters.sum() - promoters, passives.sum() - passives, detractors.sum() - detractors)
    nps, _ = _nps_and_variance(promoters, passives, detractors)
    rest_nps, _ = _nps_and_variance(*rest)
    difference = nps - rest_nps
    # Adjusted Wald (Rocks 2016) on each side: with raw Wald a branch with 1 review, or with 11 of 11
    # detractors, has variance 0 and "stands out" with p = 0; 3 pseudo-respondents per side prevent it.
    adjusted_nps, variance = _nps_and_variance(promoters + 0.75, passives + 1.5, detractors + 0.75)
    adjusted_rest, rest_variance = _nps_and_variance(rest[0] + 0.75, rest[1] + 1.5, rest[2] + 0.75)
    adjusted_difference = adjusted_nps - adjusted_rest
    se = np.sqrt(variance + rest_variance)
    z = float(norm.ppf(0.5 + config.nps.confidence / 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p_value = 2 * norm.sf(np.abs(adjusted_difference) / se)
    p_value[~np.isfinite(difference)] = np.nan
    adjusted = benjamini_hochberg(p_value)
    alpha = 1 - config.nps.confidence
    flag = np.where(adjusted < alpha, np.where(difference < 0, "below", "above"), None)
    n = (promoters + passives + detractors).astype(int)
    out = pd.DataFrame(
        {
            "segment_value": table.index.to_numpy(),
            "n": n,
            "nps": 100 * nps,
            "rest_n": int(n.sum()) - n,
            "rest_nps": 100 * rest_nps,
            "difference": 100 * difference,
            "low": 100 * np.fmin(adjusted_difference - z * se, difference),
            "high": 100 * np.fmax(adjusted_difference + z * se, difference),
            "p_value": p_value,
            "p_adjusted": adjusted,
            "flag": flag,
            "small_n": n < config.nps.min_n,
        }
    )
    return out.sort_values(["difference", "segment_value"]).reset_index(drop=True)


def homogeneity_report(
    store: Store, config: VocmineConfig, by: str = "branch"
) -> tuple[HomogeneityTest, pd.DataFrame]:
    """The network test and the standout table for ``by`` ("branch" or "seller") from the store."""
    responses = load_kpi_responses(store)
    if responses.empty or by not in responses:
        return HomogeneityTest(by, 0, 0, None, 0, None, "not testable"), standout_groups(
            pd.Series(dtype=object), pd.Series(dtype=object), config
        )
    classes = responses["nps_class"]
    if classes.isna().all():
        classes = classify_nps(responses["score"], responses["stars"], responses["score_scale"], config.nps)
    test = homogeneity_test(classes, responses[by], by, config.nps.bootstrap_samples, config.seed)
    return test, standout_groups(classes, responses[by], config)
