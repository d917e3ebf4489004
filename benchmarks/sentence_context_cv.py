"""Does a sentence's review context help its sentiment? A probe by cross-validation on training rows.

The pipeline labels each sentence from its own e5 vector, although it always knows the answer the sentence
comes from. "Fuimos un martes" or "Buff," carries little on its own, and its neighbours say much more. This
probe asks how much a linear head gains when it also sees the mean e5 vector of the sentence's review (or of
its two neighbours), before anything is built:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/sentence_context_cv.py

Rows: SemEval-2016 restaurant *train* sentences (labels as in ``vocmine evaluate sentiment``: a sentence's
polarity from its opinions, mixed and out-of-scope left out), e5 vectors from the training cache. Heads:
class-balanced logistic regression, C in 0.5 / 1 / 2, five folds over contiguous blocks of 20 sentences (so a
sentence and its neighbours mostly share a fold). Contexts: English has review ids, so "review mean" is the
mean vector of the sentence's review (itself included) and "neighbours" the mean of the previous and next
sentence of the same review. The Spanish files lost their review grouping, so there "neighbours" are the
previous and next sentence in file order. No test row is read. Writes benchmarks/results/sentence_context_cv.json.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
CS = (0.5, 1.0, 2.0)


def context_features(X: np.ndarray, review_ids: np.ndarray | None) -> dict[str, np.ndarray]:
    """Feature sets: the sentence alone, with its neighbours' mean, and (given review ids) its review's mean."""
    n = len(X)
    if review_ids is None:
        same_prev, same_next = np.r_[False, np.ones(n - 1, bool)], np.r_[np.ones(n - 1, bool), False]
    else:
        same_prev = np.r_[False, review_ids[1:] == review_ids[:-1]]
        same_next = np.r_[review_ids[:-1] == review_ids[1:], False]
    previous, following = np.vstack([np.zeros_like(X[:1]), X[:-1]]), np.vstack([X[1:], np.zeros_like(X[:1])])
    count = np.maximum(same_prev.astype(float) + same_next, 1.0)[:, None]
    neighbours = (previous * same_prev[:, None] + following * same_next[:, None]) / count
    sets = {"sentence": X, "sentence + neighbours": np.hstack([X, neighbours])}
    if review_ids is not None:
        review_mean = pd.DataFrame(X).groupby(review_ids).transform("mean").to_numpy()
        sets["sentence + review mean"] = np.hstack([X, review_mean])
    return sets


def main() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from vocmine.models.datasets import SENTIMENT_LABELS, load_semeval16, sentence_sentiment
    from vocmine.models.embedding_cache import DEFAULT_CACHE
    from vocmine.models.metrics import macro_f1
    from vocmine.models.train_sentiment import _embed

    results: dict[str, dict] = {}
    for language in ("en", "es"):
        frame = load_semeval16(language, "train").reset_index(drop=True)
        X = _embed(frame["text"].tolist(), DEFAULT_CACHE)
        labels = frame["polarities"].map(sentence_sentiment)
        rows = np.where((~frame["out_of_scope"]) & labels.notna())[0]
        y = labels.to_numpy()[rows]
        blocks = rows // 20
        review_ids = frame["review_id"].to_numpy() if language == "en" else None
        results[language] = {"sentences": int(len(rows))}
        for name, features in context_features(X, review_ids).items():
            by_c = {}
            for C in CS:
                predicted = np.empty(len(rows), dtype=object)
                for fit, held in GroupKFold(5).split(rows, y, blocks):
                    model = LogisticRegression(C=C, class_weight="balanced", max_iter=3000)
                    predicted[held] = model.fit(features[rows[fit]], y[fit]).predict(features[rows[held]])
                by_c[str(C)] = round(macro_f1(y, predicted, SENTIMENT_LABELS), 4)
            results[language][name] = by_c
            print(language, f"{name:24s}", by_c, flush=True)
    out = REPO / "benchmarks" / "results" / "sentence_context_cv.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
