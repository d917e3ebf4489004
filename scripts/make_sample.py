"""Rebuild the bundled demo sample from ../shared/data (train splits only, fixed seed).

    python scripts/make_sample.py [--data ../shared/data]

Writes vocmine/data/sample/*.csv with each source's own columns, unchanged (ingest profiles do the
mapping, as they would for a real export). Sources, citations and licences: vocmine/data/sample/README.md.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

SEED = 2026
OUT = Path(__file__).resolve().parent.parent / "vocmine" / "data" / "sample"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)

    # Spanish: Rest-Mex 2021 (Guanajuato attractions), 120 reviews per place, with a full dd/mm/yyyy date.
    restmex = pd.read_csv(args.data / "restmex2021_es" / "train.csv", dtype=str, keep_default_na=False)
    restmex = restmex[restmex["Date"].str.len() == 10]
    restmex = restmex.groupby("Place").sample(n=120, random_state=SEED)
    restmex.sort_values("row_id", key=lambda s: s.astype(int)).to_csv(
        OUT / "restmex2021_es.csv", index=False, encoding="utf-8"
    )

    # English: Booking reviews of one London hotel (0-10 score, date, separate liked/disliked answers).
    booking = pd.read_csv(args.data / "booking_britannia" / "train.csv", dtype=str, keep_default_na=False)
    booking = booking.sample(n=800, random_state=SEED).sort_values("row_id", key=lambda s: s.astype(int))
    booking = booking[
        ["row_id", "Review_Date", "Hotel_Name", "Reviewer_Nationality", "Negative_Review", "Positive_Review",
         "Reviewer_Score", "Tags"]
    ]
    booking.to_csv(OUT / "booking_britannia_en.csv", index=False, encoding="utf-8")

    # English: Google reviews of the 8 most-reviewed Starbucks stores in NYC (stars, store = branch).
    starbucks = pd.read_csv(args.data / "starbucks_nyc_google" / "train.csv.gz", dtype=str, keep_default_na=False)
    starbucks = starbucks[starbucks["text"].str.split().str.len() >= 3]
    top = starbucks["store"].value_counts().index[:8]
    starbucks = starbucks[starbucks["store"].isin(top)].groupby("store").sample(n=125, random_state=SEED)
    starbucks = starbucks[["source_file", "item_index", "borough", "store", "stars", "review_time", "text"]]
    starbucks.to_csv(OUT / "starbucks_nyc_en.csv", index=False, encoding="utf-8")
    for name in ("restmex2021_es.csv", "booking_britannia_en.csv", "starbucks_nyc_en.csv"):
        print(name, len(pd.read_csv(OUT / name, dtype=str, keep_default_na=False)))


if __name__ == "__main__":
    main()
