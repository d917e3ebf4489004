"""Would a Spanish review-polarity model trained on other data help sentiment.v1 on Spanish sentences? Five-fold CV.

sentiment.v1's routed e5 member learns Spanish restaurant polarity from 1,597 SemEval-2016 es sentences. The
PyPI package ``sentiment-analysis-spanish`` 0.0.25 (MIT licence; Hugo J. Bello) ships a multinomial naive
Bayes over the 5,000 most frequent word 1-3-grams of ~75,000 Spanish reviews (eltenedor, tripadvisor,
decathlon, filmaffinity, ebay; two balanced classes). Its vocabulary is too small to memorise a review, so
it brings only general polarity knowledge from a corpus we do not have. This script appends its log-odds to
the routed member's features and asks whether that lifts SemEval-2016 es:

    pip download sentiment-analysis-spanish==0.0.25 --no-deps   # sha256 7b2bf32a...c9a195
    .venv/bin/pip install --no-deps sentiment_analysis_spanish-0.0.25-py3-none-any.whl
    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/sentiment_nb_feature_cv.py

Folds, members and scoring are those of ``sentiment_recipe_cv.py`` (every training row of ``vocmine train
sentiment``, five folds stratified by data set x label, seed 42). The feature, fixed before any figure: for a
Spanish row, ``s * clip(log P(pos) - log P(neg), -20, 20) / 20`` from the package's vectoriser and classifier
as shipped; 0 for every other row. It is appended to the own-vector and to the context member's features of
the routed member (``sentiment_context_cv.routed_out_of_fold``), with ``s`` in 0.5, 1, 2. On the training rows,
before this script, its pos-vs-neg AUC was SemEval es 0.839, restaurants_es 0.928 (no CV needed: it never saw
them).

Cross-fitting as in ``sentiment_knn_member_cv.py``: on one random half's e5-subset rows ``s`` is chosen by the
blend's mean macro-F1 over data sets (blend weight and temperature tuned there for each ``s``), the other half
scored with it; then the other way round. The routed member without the feature is cross-fitted the same way.

Decision rule, fixed here before any figure existed: the feature joins sentiment.v1 only if, against the
cross-fitted routed member, out-of-fold SemEval-2016 es rises by at least 1.0 point and no reported corpus
falls by more than 0.5 (``sentiment_recipe_cv.spanish_rule``). If it joins, the naive Bayes' numbers are
converted once into a plain vocabulary + weights file (no pickle at run time), with its licence beside them.

Result (session 20, 3 min): routed member alone SemEval es 0.7677, en 0.7721, airline 0.7645, restaurants_es
0.6980; with the feature (``s`` = 2 chosen on both halves) es 0.7653 (-0.2), en 0.7739, airline 0.7652,
restaurants_es 0.6937 (-0.4). Not adopted: what the naive Bayes knows, e5 and the TF-IDF member know already.

Writes benchmarks/results/sentiment_nb_feature_cv.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
SCALES = (0.5, 1.0, 2.0)
CLIP = 20.0


def naive_bayes_log_odds(texts: list[str]) -> np.ndarray:
    """log P(positive) - log P(negative) of each text under sentiment-analysis-spanish's shipped model."""
    import bz2
    import pickle  # the package's own files, read here for the experiment only (never at run time)
    import warnings

    import sentiment_analysis_spanish

    folder = Path(sentiment_analysis_spanish.__file__).parent / "saved_model"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pickled with an older scikit-learn
        with bz2.BZ2File(folder / "ngram_vectorized_compressed.pbz2", "rb") as handle:
            vectoriser = pickle.load(handle)  # noqa: S301 - a pinned PyPI package's file
        with bz2.BZ2File(folder / "classifier_naive_bayes_compressed.pbz2", "rb") as handle:
            classifier = pickle.load(handle)  # noqa: S301
    log_proba = classifier.predict_log_proba(vectoriser.transform(texts))
    return log_proba[:, 1] - log_proba[:, 0]


def main() -> None:
    from sentiment_context_cv import context_frame, routed_out_of_fold
    from sentiment_knn_member_cv import cross_fitted
    from sentiment_recipe_cv import reported_figures, spanish_rule, tfidf_out_of_fold

    started = time.perf_counter()
    train, in_e5, fold, X, window, has_neighbour, y, datasets = context_frame()
    log_tfidf = tfidf_out_of_fold(train, fold)
    spanish = (train["language"] == "es").to_numpy()
    feature = np.zeros(len(train), dtype=np.float32)
    feature[spanish] = np.clip(naive_bayes_log_odds(train["text"][spanish].tolist()), -CLIP, CLIP) / CLIP
    zeros = np.zeros((len(train), 1), dtype=np.float32)

    members = {0.0: routed_out_of_fold(train, X, window, has_neighbour, in_e5, fold)}
    for scale in SCALES:
        members[scale] = routed_out_of_fold(train, np.hstack([X, scale * feature[:, None]]), np.hstack([window, zeros]),
                                            has_neighbour, in_e5, fold)
        print(f"scale {scale} done at {time.perf_counter() - started:.0f} s", flush=True)

    half = np.random.default_rng(42).integers(0, 2, len(train))
    logs = {s: np.log(p + 1e-9) for s, p in members.items()}
    results = {}
    for name, grid in (("routed member alone (cross-fitted)", {0.0: logs[0.0]}),
                       ("routed member + naive Bayes feature (cross-fitted)", {s: logs[s] for s in SCALES})):
        predicted, chosen = cross_fitted(grid, log_tfidf, y, datasets, in_e5, half)
        results[name] = {"chosen": chosen, **reported_figures(y, predicted, datasets)}
        print(f"  {name}: {json.dumps(results[name])}", flush=True)
    base, variant = results
    decision = spanish_rule(results[base], results[variant])
    print(f"decision: {decision}")
    out = REPO / "benchmarks" / "results" / "sentiment_nb_feature_cv.json"
    out.write_text(json.dumps({"rows": len(train), "spanish_rows": int(spanish.sum()), "scales": list(SCALES),
                               "clip": CLIP, "variants": results, "decision": decision,
                               "seconds": round(time.perf_counter() - started, 1)}, indent=2) + "\n")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
