"""Draw the Spanish restaurant-review sentences for the sentence-sentiment labelling (2026-11-25).

``python models/data/sentiment_es/sample_sentences.py`` writes the unlabelled sample to /tmp. The
sentences come from the TRAIN splits of restaurants_es (Havana) and Rest-Mex 2022 (its Restaurant rows),
one sentence per review, stratified by star bucket and weighted to low-star reviews, because negative
sentences are what SemEval-2016 es has least of. The sentence splitting and drawing are those of the
component sampler (``../component/sample_sentences.py``), loaded from its file since data folders are not
packages.
"""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pandas as pd

from vocmine.models.datasets import shared_data_dir

SEED = 20261127
OUT = Path("/tmp/vocmine_sentiment_es_unlabelled_sample.csv")
_SPEC = importlib.util.spec_from_file_location(
    "component_sampler", Path(__file__).resolve().parents[1] / "component" / "sample_sentences.py")
sampler = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(sampler)


def main(data: Path | None = None, out: Path = OUT) -> pd.DataFrame:
    data = shared_data_dir(data)
    rng = random.Random(SEED)
    rows: list[dict] = []
    rest = sampler.star_reviews(data, "restaurants_es")
    rows += sampler._draw(rest, "Opinion", "b", {"low": 200, "mid": 100, "high": 200}, "restaurants_es", "es", rng)
    rm22 = sampler.star_reviews(data, "restmex2022_es")
    rm22 = rm22[rm22["Attraction"] == "Restaurant"]
    rows += sampler._draw(rm22, "Opinion", "b", {"low": 250, "mid": 100, "high": 150}, "restmex2022_es", "es", rng)
    frame = pd.DataFrame(rows).drop_duplicates("text")
    frame.to_csv(out, index=False)
    return frame


if __name__ == "__main__":
    main()
