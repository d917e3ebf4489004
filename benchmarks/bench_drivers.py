"""Root causes on real data: Starbucks NYC Google reviews (stars, 164 stores), impact vs driver strength.

Run: .venv/bin/python benchmarks/bench_drivers.py [--split train] [--samples 1000]
Needs ../shared/data (research use only). Prints the tables written into docs/drivers.md and writes
benchmarks/results/drivers_starbucks.json with figures and timings.

Themes here are a transparent STAND-IN: English keyword rules per touchpoint (below), because the
BERTopic themes need embeddings of all 26k reviews (~6 min at 73 docs/s on 2 cores) that this
benchmark does not want to depend on. Status comes from stars (5 promoter, 4 passive, 1-3 detractor).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd

from vocmine.config import NpsConfig, VocmineConfig
from vocmine.models.datasets import shared_data_dir
from vocmine.pipelines.drivers import compute_drivers
from vocmine.pipelines.homogeneity import homogeneity_test, standout_groups
from vocmine.pipelines.nps import classify_nps, nps_estimate

KEYWORD_THEMES = {
    "slow service / long wait": r"\b(?:wait(?:ed|ing)?|slow|took (?:forever|so long|ages)|long line|minutes)\b",
    "rude / unfriendly staff": r"\b(?:rude|attitude|unfriendly|disrespect\w*|nasty|yell\w*)\b",
    "friendly staff": r"\b(?:friendly|nice|kind|sweet|welcoming|lovely)\b",
    "wrong / missing order": r"\b(?:wrong (?:order|drink)|forgot|missing|messed up|mistake)\b",
    "mobile / online order": r"\b(?:mobile order\w*|online order\w*|app|ordered ahead)\b",
    "drive-thru": r"\b(?:drive[- ]?(?:thru|through))\b",
    "restroom": r"\b(?:restroom|bathroom|toilet)s?\b",
    "dirty / unclean": r"\b(?:dirty|filthy|messy|sticky|trash|unclean)\b",
    "clean": r"\b(?:clean|tidy)\b",
    "seating / space": r"\b(?:seat(?:s|ing)?|tables?|chairs?|cramped|space)\b",
    "wifi / work": r"\b(?:wifi|wi-fi|outlets?|laptop|work|study)\b",
    "price": r"\b(?:price[sd]?|expensive|overpriced|pricey|cost)\b",
    "coffee / drink quality": r"\b(?:burnt|watery|bitter|tasted?|cold coffee|latte|frappuccino|drink)\b",
    "food": r"\b(?:food|sandwich\w*|pastr\w*|croissant|bagel)\b",
    "closed / hours": r"\b(?:closed|hours|closing)\b",
    "homeless / safety": r"\b(?:homeless|unsafe|safety|security)\b",
}


def load(split: str) -> pd.DataFrame:
    path = shared_data_dir() / "starbucks_nyc_google" / f"{split}.csv.gz"
    frame = pd.read_csv(path, keep_default_na=False)
    frame["response_id"] = frame["source_file"] + "#" + frame["item_index"].astype(str)
    frame["branch"] = frame["store"]
    return frame


def mentions_from_keywords(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    lowered = frame["text"].str.lower()
    for label, pattern in KEYWORD_THEMES.items():
        hit = lowered.str.contains(pattern, regex=True, flags=re.IGNORECASE)
        rows.append(pd.DataFrame({"response_id": frame.loc[hit, "response_id"], "level": "theme", "key": label}))
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="train", choices=["train", "test"])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "drivers_starbucks.json")
    args = parser.parse_args()
    config = VocmineConfig(nps=NpsConfig(bootstrap_samples=args.samples))

    frame = load(args.split)
    timings = {}
    start = time.perf_counter()
    frame["nps_class"] = classify_nps(
        pd.Series(np.nan, index=frame.index), frame["stars"], pd.Series(None, index=frame.index), config.nps
    )
    overall = nps_estimate(frame["nps_class"])
    mentions = mentions_from_keywords(frame)
    timings["classify_and_keywords_s"] = time.perf_counter() - start

    start = time.perf_counter()
    drivers = compute_drivers(frame, mentions, config, segments=())
    timings["drivers_all_s"] = time.perf_counter() - start

    start = time.perf_counter()
    test = homogeneity_test(frame["nps_class"], frame["branch"], "store", args.samples, config.seed)
    standouts = standout_groups(frame["nps_class"], frame["branch"], config)
    timings["homogeneity_s"] = time.perf_counter() - start

    ranked = drivers.sort_values("estimate").reset_index(drop=True)
    big = drivers[drivers["mentions"] >= 30].dropna(subset=["estimate", "strength"])
    agree = (np.sign(big["estimate"]) == -np.sign(big["strength"])) & (big["estimate"] != 0)
    confident = big[(big["high"] < 0) | (big["low"] > 0)]
    confident_agree = (np.sign(confident["estimate"]) == -np.sign(confident["strength"]))

    pd.set_option("display.width", 200)
    print(f"starbucks_nyc_google {args.split}: n={overall.n} NPS={overall.nps:.1f} "
          f"[{overall.low:.1f}, {overall.high:.1f}] ({overall.method}); samples={args.samples}")
    columns = ["key", "mentions", "detractor_mentions", "detractor_share", "estimate", "low", "high",
               "strength", "strength_low", "strength_high"]
    print("\nTop 10 root causes by NPS impact (most negative first):")
    print(ranked[columns].head(10).round(2).to_string(index=False))
    print("\nAll keyword themes:")
    print(ranked[columns].round(2).to_string(index=False))
    print(f"\nSign agreement (impact < 0 <=> strength > 0), themes with >= 30 mentions: "
          f"{int(agree.sum())}/{len(big)} = {agree.mean():.2f}; among themes whose impact interval "
          f"excludes 0: {int(confident_agree.sum())}/{len(confident)}")
    print(f"\nHomogeneity across stores: {test.method}, chi2={test.statistic:.1f}, dof={test.dof}, "
          f"p={test.p_value:.3g}, stores={test.groups}")
    flagged = standouts[standouts["flag"].notna()]
    print(f"Stores that stand out (BH-adjusted p < 0.05): {len(flagged)} "
          f"({int((flagged['flag'] == 'below').sum())} below, {int((flagged['flag'] == 'above').sum())} above)")
    print(flagged[["segment_value", "n", "nps", "rest_nps", "difference", "low", "high", "p_adjusted", "flag"]]
          .round(3).to_string(index=False))
    print("\nTimings (s):", {k: round(v, 2) for k, v in timings.items()})

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "dataset": f"starbucks_nyc_google/{args.split}",
        "n": overall.n, "nps": overall.nps, "nps_low": overall.low, "nps_high": overall.high,
        "samples": args.samples, "seed": config.seed,
        "drivers": ranked[columns].to_dict(orient="records"),
        "sign_agreement": {"themes": len(big), "agree": int(agree.sum()),
                           "confident_themes": len(confident), "confident_agree": int(confident_agree.sum())},
        "homogeneity": {"method": test.method, "statistic": test.statistic, "dof": test.dof,
                        "p_value": test.p_value, "stores": test.groups},
        "standouts": flagged.to_dict(orient="records"),
        "timings_s": timings,
    }, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
