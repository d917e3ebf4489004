"""Draw the sentences for the rational/emotional labelling from the TRAIN splits of ../shared/data.

Run once (``python models/data/component/sample_sentences.py``) to rebuild the unlabelled sample
(written to /tmp); the labels were then added by hand, sentence by sentence, into
``component_labels.csv``. ``--round 2`` draws the second, English-only batch (2026-11-24, all of it
training rows): it skips every review the first round drew, so no sentence's review sits on both sides
of the train/test split. ``--round 3`` draws the third batch (2026-11-25, es and en, all of it test rows):
the first round's sources and strata at about three quarters of its size, skipping every review the
earlier rounds drew, so that the test split is large enough to read a figure to a few points.
``--round 4`` draws the fourth batch (2026-11-25, Spanish, all of it training rows): Spanish had 214
training sentences against English's 500. One
sentence per review, sampled with a fixed seed and stratified by source and star/sentiment bucket, so
that complaints (where emotional sentences about treatment are common) and praise are both well
represented.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pandas as pd

from vocmine.models.datasets import load_semeval16, shared_data_dir

SEED = 20261123
SEED_ROUND_2 = 20261124
SEED_ROUND_3 = 20261125
SEED_ROUND_4 = 20261126
OUT = Path("/tmp/vocmine_component_unlabelled_sample.csv")
LABELS = Path(__file__).resolve().parent / "component_labels.csv"
_SPLIT = re.compile(r"(?<=[.!?¡¿])\s+|\n+")


def _sentences(text: str) -> list[str]:
    text = str(text).strip().strip('"').strip()
    parts = [p.strip(" -\"") for p in _SPLIT.split(text)]
    return [p for p in parts if 4 <= len(p.split()) <= 35]


def _bucket(stars: float) -> str:
    return "low" if stars <= 2 else ("mid" if stars == 3 else "high")


def _semeval_buckets(count: int) -> dict[str, int]:
    return {"low": count * 2 // 5, "mid": count // 5, "high": count - count * 2 // 5 - count // 5}


def _draw(frame: pd.DataFrame, text_col: str, bucket_col: str, per_bucket: dict[str, int], source: str,
          language: str, rng: random.Random, exclude: frozenset[tuple[str, str]] = frozenset()) -> list[dict]:
    rows = []
    frame = frame[[(source, str(row_id)) not in exclude for row_id in frame["row_id"]]]
    for bucket, k in per_bucket.items():
        pool = frame[frame[bucket_col] == bucket].sample(frac=1.0, random_state=rng.randrange(10**6))
        taken = 0
        for _, rec in pool.iterrows():
            candidates = _sentences(rec[text_col])
            if not candidates:
                continue
            index = rng.randrange(len(candidates))
            rows.append({"source": source, "row_id": str(rec["row_id"]), "sentence_index": index,
                         "language": language, "stratum": bucket, "text": candidates[index]})
            taken += 1
            if taken == k:
                break
    return rows


#: Each round's seed and draw plan: source -> sentences per star/sentiment bucket, drawn in this order from
#: one random stream (the order is part of the seed's result).
ROUND_1_STARS = {"low": 35, "mid": 25, "high": 30}
ROUND_3_STARS = {"low": 25, "mid": 18, "high": 22}
ROUND_4_STARS = {"low": 45, "mid": 25, "high": 30}
ROUNDS: dict[int, tuple[int, dict[str, dict[str, int]]]] = {
    # Round 1 (2026-11-23), train and test: every source.
    1: (SEED, {"restmex2021_es": ROUND_1_STARS, "restmex2022_es": ROUND_1_STARS,
               "restaurants_es": {"low": 25, "mid": 15, "high": 20}, "semeval16_es": _semeval_buckets(100),
               "semeval16_en": _semeval_buckets(90), "booking_britannia": {"low": 45, "high": 35},
               "starbucks_nyc_google": {"low": 40, "mid": 20, "high": 30},
               "twitter_airline_sentiment": {"low": 45, "mid": 10, "high": 25}}),
    # Round 2 (2026-11-24), English training rows, weighted towards low-star reviews.
    2: (SEED_ROUND_2, {"semeval16_en": _semeval_buckets(80), "booking_britannia": {"low": 60, "high": 30},
                       "starbucks_nyc_google": {"low": 50, "mid": 25, "high": 30},
                       "twitter_airline_sentiment": {"low": 50, "mid": 10, "high": 25}}),
    # Round 3 (2026-11-25), test rows only: round 1's sources and strata at about 3/4 of its size.
    3: (SEED_ROUND_3, {"restmex2021_es": ROUND_3_STARS, "restmex2022_es": ROUND_3_STARS,
                       "restaurants_es": {"low": 19, "mid": 11, "high": 15}, "semeval16_es": _semeval_buckets(75),
                       "semeval16_en": _semeval_buckets(65), "booking_britannia": {"low": 33, "high": 25},
                       "starbucks_nyc_google": {"low": 30, "mid": 15, "high": 22},
                       "twitter_airline_sentiment": {"low": 33, "mid": 7, "high": 18}}),
    # Round 4 (2026-11-25), Spanish training rows, weighted towards low-star reviews.
    4: (SEED_ROUND_4, {"restmex2021_es": ROUND_4_STARS, "restmex2022_es": ROUND_4_STARS,
                       "restaurants_es": {"low": 35, "mid": 20, "high": 25}, "semeval16_es": _semeval_buckets(120)}),
}


def draw_round(round_: int, data: Path | None = None, out: Path = OUT) -> pd.DataFrame:
    """Draw round ``round_``'s unlabelled sentences into ``out``: its plan from one seeded random stream,
    skipping every review and sentence of the rounds before it (:func:`_earlier_rounds`)."""
    data = shared_data_dir(data)
    seed, plan = ROUNDS[round_]
    rng = random.Random(seed)
    labelled, exclude = _earlier_rounds(round_)
    rows: list[dict] = []
    for source, per_bucket in plan.items():
        load, text_col, language = SOURCES[source]
        rows += _draw(load(data), text_col, "b", per_bucket, source, language, rng, exclude)
    frame = pd.DataFrame(rows).drop_duplicates("text")
    frame = frame[~frame["text"].isin(set(labelled["text"]))]
    frame.to_csv(out, index=False)
    return frame


def _earlier_rounds(round_: int) -> tuple[pd.DataFrame, frozenset[tuple[str, str]]]:
    """The sentences labelled before ``round_`` and their (source, review) pairs, which a round skips. Only
    earlier rounds count, so a round's draw is the same after later rounds are added to the file."""
    labelled = pd.read_csv(LABELS, dtype={"row_id": str})
    labelled = labelled[labelled["round"] < round_]
    return labelled, frozenset(zip(labelled["source"], labelled["row_id"], strict=True))


#: Spanish star-rated corpora: (train file under ../shared/data, star column).
STAR_REVIEWS = {"restmex2021_es": ("restmex2021_es/train.csv", "Label"),
                "restmex2022_es": ("restmex2022_es/train.csv.gz", "Polarity"),
                "restaurants_es": ("restaurants_es/train.csv", "Polarity")}


def star_reviews(data: Path, source: str) -> pd.DataFrame:
    """A Spanish star-rated corpus's train split, with its star bucket in column ``b``."""
    path, stars = STAR_REVIEWS[source]
    frame = pd.read_csv(data / path)
    frame["b"] = frame[stars].map(_bucket)
    return frame


def _semeval(language: str, data: Path) -> pd.DataFrame:
    sem = load_semeval16(language, "train", data)
    sem = sem[sem["text"].str.split().str.len().between(4, 35)].copy()
    sem["row_id"] = sem["sentence_id"]
    sem["b"] = sem["polarities"].map(lambda p: "low" if "negative" in p else ("high" if "positive" in p else "mid"))
    return sem


def _booking(data: Path) -> pd.DataFrame:
    book = pd.read_csv(data / "booking_britannia/train.csv")
    neg = book[["row_id", "Negative_Review"]].rename(columns={"Negative_Review": "t"}).assign(b="low")
    pos = book[["row_id", "Positive_Review"]].rename(columns={"Positive_Review": "t"}).assign(b="high")
    both = pd.concat([neg, pos])
    field = both["b"].map({"low": "Negative_Review", "high": "Positive_Review"})
    both["row_id"] = both["row_id"].astype(str) + ":" + field
    return both[~both["t"].str.strip().isin(["No Negative", "No Positive"])]


def _starbucks(data: Path) -> pd.DataFrame:
    sbux = pd.read_csv(data / "starbucks_nyc_google/train.csv.gz", keep_default_na=False)
    sbux["row_id"] = sbux["source_file"] + "#" + sbux["item_index"].astype(str)
    sbux["b"] = sbux["stars"].astype(float).map(_bucket)
    return sbux


def _airline(data: Path) -> pd.DataFrame:
    air = pd.read_csv(data / "twitter_airline_sentiment/train.csv")
    air["b"] = air["airline_sentiment"].map({"negative": "low", "neutral": "mid", "positive": "high"})
    air["t"] = air["text"]
    return air


#: Source name -> (loader of its train split with a bucket column ``b``, text column, language).
SOURCES = {
    **{name: (lambda data, name=name: star_reviews(data, name), "Opinion", "es") for name in STAR_REVIEWS},
    "semeval16_es": (lambda data: _semeval("es", data), "text", "es"),
    "semeval16_en": (lambda data: _semeval("en", data), "text", "en"),
    "booking_britannia": (_booking, "t", "en"),
    "starbucks_nyc_google": (_starbucks, "text", "en"),
    "twitter_airline_sentiment": (_airline, "t", "en"),
}


if __name__ == "__main__":
    import sys

    draw_round(int(sys.argv[-1]) if "--round" in sys.argv else 1)
