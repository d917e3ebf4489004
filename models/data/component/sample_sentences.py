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


def main(data: Path | None = None, out: Path = OUT) -> pd.DataFrame:
    data = shared_data_dir(data)
    rng = random.Random(SEED)
    rows: list[dict] = []
    stars = {"low": 35, "mid": 25, "high": 30}
    rows += _draw_star_reviews(data, {"restmex2021_es": stars, "restmex2022_es": stars,
                                      "restaurants_es": {"low": 25, "mid": 15, "high": 20}}, rng)
    for language, count in (("es", 100), ("en", 90)):
        rows += _draw(_semeval(language, data), "text", "b", _semeval_buckets(count), f"semeval16_{language}",
                      language, rng)
    rows += _draw(_booking(data), "t", "b", {"low": 45, "high": 35}, "booking_britannia", "en", rng)
    rows += _draw(_starbucks(data), "text", "b", {"low": 40, "mid": 20, "high": 30}, "starbucks_nyc_google",
                  "en", rng)
    rows += _draw(_airline(data), "t", "b", {"low": 45, "mid": 10, "high": 25}, "twitter_airline_sentiment",
                  "en", rng)
    frame = pd.DataFrame(rows).drop_duplicates("text")
    frame.to_csv(out, index=False)
    return frame


def main_round_2(data: Path | None = None, out: Path = OUT) -> pd.DataFrame:
    """The second, English-only batch: the same sources and strata as the first round's English part,
    weighted towards low-star reviews (where emotional sentences are), skipping every review already
    drawn and every sentence already labelled."""
    data = shared_data_dir(data)
    rng = random.Random(SEED_ROUND_2)
    labelled, exclude = _earlier_rounds(2)
    rows: list[dict] = []
    rows += _draw(_semeval("en", data), "text", "b", _semeval_buckets(80), "semeval16_en", "en", rng, exclude)
    rows += _draw(_booking(data), "t", "b", {"low": 60, "high": 30}, "booking_britannia", "en", rng, exclude)
    rows += _draw(_starbucks(data), "text", "b", {"low": 50, "mid": 25, "high": 30}, "starbucks_nyc_google",
                  "en", rng, exclude)
    rows += _draw(_airline(data), "t", "b", {"low": 50, "mid": 10, "high": 25}, "twitter_airline_sentiment",
                  "en", rng, exclude)
    frame = pd.DataFrame(rows).drop_duplicates("text")
    frame = frame[~frame["text"].isin(set(labelled["text"]))]
    frame.to_csv(out, index=False)
    return frame


def main_round_3(data: Path | None = None, out: Path = OUT) -> pd.DataFrame:
    """The third batch, test rows only: the sources and strata of the first round (the population the
    first test split came from) at about 3/4 of its size per language, skipping every review already
    drawn and every sentence already labelled."""
    data = shared_data_dir(data)
    rng = random.Random(SEED_ROUND_3)
    labelled, exclude = _earlier_rounds(3)
    stars = {"low": 25, "mid": 18, "high": 22}
    rows = _draw_star_reviews(data, {"restmex2021_es": stars, "restmex2022_es": stars,
                                     "restaurants_es": {"low": 19, "mid": 11, "high": 15}}, rng, exclude)
    for language, count in (("es", 75), ("en", 65)):
        rows += _draw(_semeval(language, data), "text", "b", _semeval_buckets(count), f"semeval16_{language}",
                      language, rng, exclude)
    rows += _draw(_booking(data), "t", "b", {"low": 33, "high": 25}, "booking_britannia", "en", rng, exclude)
    rows += _draw(_starbucks(data), "text", "b", {"low": 30, "mid": 15, "high": 22}, "starbucks_nyc_google",
                  "en", rng, exclude)
    rows += _draw(_airline(data), "t", "b", {"low": 33, "mid": 7, "high": 18}, "twitter_airline_sentiment",
                  "en", rng, exclude)
    frame = pd.DataFrame(rows).drop_duplicates("text")
    frame = frame[~frame["text"].isin(set(labelled["text"]))]
    frame.to_csv(out, index=False)
    return frame


def main_round_4(data: Path | None = None, out: Path = OUT) -> pd.DataFrame:
    """The fourth batch, Spanish training rows only: round 1's Spanish sources, weighted towards low-star
    reviews (where emotional sentences are), skipping every review already drawn and every sentence
    already labelled."""
    data = shared_data_dir(data)
    rng = random.Random(SEED_ROUND_4)
    labelled, exclude = _earlier_rounds(4)
    stars = {"low": 45, "mid": 25, "high": 30}
    rows = _draw_star_reviews(data, {"restmex2021_es": stars, "restmex2022_es": stars,
                                     "restaurants_es": {"low": 35, "mid": 20, "high": 25}}, rng, exclude)
    rows += _draw(_semeval("es", data), "text", "b", _semeval_buckets(120), "semeval16_es", "es", rng, exclude)
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


def _draw_star_reviews(data: Path, per_source: dict[str, dict[str, int]], rng: random.Random,
                       exclude: frozenset[tuple[str, str]] = frozenset()) -> list[dict]:
    rows: list[dict] = []
    for source, per_bucket in per_source.items():
        rows += _draw(star_reviews(data, source), "Opinion", "b", per_bucket, source, "es", rng, exclude)
    return rows


def _semeval(language: str, data: Path) -> pd.DataFrame:
    sem = load_semeval16(language, "train", data)
    sem = sem[sem["text"].str.split().str.len().between(4, 35)].copy()
    sem["row_id"] = sem["sentence_id"]
    sem["b"] = sem["polarities"].map(lambda p: "low" if "negative" in p else ("high" if "positive" in p else "mid"))
    return sem


def _semeval_buckets(count: int) -> dict[str, int]:
    return {"low": count * 2 // 5, "mid": count // 5, "high": count - count * 2 // 5 - count // 5}


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


if __name__ == "__main__":
    import sys

    rounds = {"2": main_round_2, "3": main_round_3, "4": main_round_4}
    rounds.get(sys.argv[-1] if "--round" in sys.argv else "1", main)()
