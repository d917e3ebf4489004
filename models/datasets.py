"""Loaders for the labelled data in ../shared/data (research use only; never copied into the package).

Each loader returns a DataFrame with a ``text`` column and the task's label columns, for one split.
Splits are the data's own: official tests where they exist, the README's deterministic 80/20 elsewhere.
Training code uses ``train`` (and ``dev`` to tune); ``test`` is only ever read to report figures.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Literal

import pandas as pd

from vocmine.errors import VocmineError

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
