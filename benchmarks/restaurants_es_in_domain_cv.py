"""How far does a model trained on restaurants_es itself get on restaurants_es? Five-fold CV on its train split.

vocmine.sentiment.v1 is one model for every corpus. Its TF-IDF member sees 1,554 restaurants_es reviews (every
negative and neutral one, 1,000 positive) and its e5 member none; out of fold, at the corpus's natural class
balance (95% positive), its blend scores 0.558 3-class / 0.767 positive-vs-negative
(``sentiment_recipe_cv.json``, prior-shift table), and 0.589 / 0.806 on the test split, against issue 4's
0.65 / 0.90. The brief's "for scale" figures (frozen e5 + LR: 0.54 / 0.82) suggest an in-domain model.
This script asks, without reading a test row, what in-domain models reach at the natural class balance:

    .venv/bin/python benchmarks/restaurants_es_in_domain_cv.py

Rows: every review of restaurants_es's TRAIN split (title + body, first 60 words, as ``load_sentiment``
gives it), optionally with the Rest-Mex 2021/2022 train reviews added to each fold's training rows (never
to its held-out rows). Five folds stratified by label (seed 42). Members: logistic regression over e5 vectors
(onnx-int8 backend, class-balanced, C=1) and TF-IDF + LR (class-balanced, C=4), blended 0.7 / 0.3 in
log-probability as v1 is. Scores: out-of-fold macro-F1 (3-class, and negative vs positive on polar rows by
p_neg vs p_pos), at argmax, and with per-class offsets on the log-probabilities (``train_emotion.tune_bias``)
tuned on one random half of the out-of-fold rows and scored on the other, both ways round (the mean is shown).

Embedding the ~12,800 reviews takes a few minutes on two cores the first time (disk cache after).
Writes benchmarks/results/restaurants_es_in_domain_cv.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
FOLDS = 5
SEED = 42
LABELS = ["negative", "neutral", "positive"]
BLEND_WEIGHT = 0.7


def pos_neg_f1(truth: np.ndarray, log_p: np.ndarray) -> float:
    """Macro-F1 of negative vs positive on the polar rows, deciding by p_negative vs p_positive (ties
    negative, as ``vocmine evaluate sentiment`` decides)."""
    from vocmine.models.metrics import macro_f1

    polar = truth != 1
    return macro_f1(truth[polar], np.where(log_p[polar, 0] >= log_p[polar, 2], 0, 2), [0, 2])


def three_class_f1(truth: np.ndarray, log_p: np.ndarray) -> float:
    from vocmine.models.metrics import macro_f1

    return macro_f1(truth, log_p.argmax(1), [0, 1, 2])


def half_tuned(truth: np.ndarray, log_p: np.ndarray, seed: int = SEED) -> dict[str, float]:
    """Offsets tuned on one half of the rows, scored on the other, both ways; the mean of the two halves."""
    from vocmine.models.train_emotion import tune_bias

    rng = np.random.default_rng(seed)
    half = rng.permutation(len(truth)) % 2 == 0
    three, polar = [], []
    for tune_rows in (half, ~half):
        bias = tune_bias(log_p[tune_rows], truth[tune_rows])
        score_rows = ~tune_rows
        three.append(three_class_f1(truth[score_rows], log_p[score_rows] + bias))
        polar.append(pos_neg_f1(truth[score_rows], log_p[score_rows] + bias))
    return {"3class": round(float(np.mean(three)), 4), "pos_neg": round(float(np.mean(polar)), 4)}


def main() -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    from vocmine.models.datasets import load_sentiment
    from vocmine.models.embedders import E5Embedder
    from vocmine.models.embedding_cache import DEFAULT_CACHE, embed_with_disk_cache
    from vocmine.models.heads import TfidfLogisticHead

    started = time.time()
    rest = load_sentiment("restaurants_es", "train")
    extra = pd.concat([load_sentiment(name, "train") for name in ("restmex2021_es", "restmex2022_es")],
                      ignore_index=True)
    embedder = E5Embedder(backend="onnx-int8")
    vectors = embed_with_disk_cache(rest["text"].tolist(), embedder, DEFAULT_CACHE)
    extra_vectors = embed_with_disk_cache(extra["text"].tolist(), embedder, DEFAULT_CACHE)
    print(f"embedded {len(rest)} + {len(extra)} reviews in {time.time() - started:.0f} s", flush=True)
    truth = rest["label"].map(LABELS.index).to_numpy()
    extra_truth = extra["label"].map(LABELS.index).to_numpy()

    variants = {"restaurants_es only": False, "restaurants_es + Rest-Mex 2021/2022": True}
    members = {name: {m: np.zeros((len(rest), 3)) for m in ("e5", "tfidf")} for name in variants}
    splitter = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED)
    for fold, (fit_rows, held_rows) in enumerate(splitter.split(rest["text"], truth)):
        for name, with_extra in variants.items():
            X = vectors[fit_rows]
            y = truth[fit_rows]
            texts = rest["text"].to_numpy()[fit_rows].tolist()
            if with_extra:
                X = np.vstack([X, extra_vectors])
                y = np.concatenate([y, extra_truth])
                texts = texts + extra["text"].tolist()
            e5 = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000, random_state=SEED).fit(X, y)
            members[name]["e5"][held_rows] = e5.predict_log_proba(vectors[held_rows])
            tfidf = TfidfLogisticHead(random_state=SEED).fit(pd.Series(texts), pd.Series([LABELS[i] for i in y]))
            proba = tfidf.predict_proba(rest["text"].to_numpy()[held_rows].tolist())
            order = [tfidf.labels_.index(label) for label in LABELS]
            members[name]["tfidf"][held_rows] = np.log(np.clip(proba[:, order], 1e-12, 1.0))
        print(f"fold {fold + 1}/{FOLDS} done ({time.time() - started:.0f} s)", flush=True)

    results = []
    for name in variants:
        e5, tfidf = members[name]["e5"], members[name]["tfidf"]
        for member, log_p in (("e5 + LR", e5), ("TF-IDF + LR", tfidf),
                              (f"blend {BLEND_WEIGHT}/{1 - BLEND_WEIGHT:.1f}",
                               BLEND_WEIGHT * e5 + (1 - BLEND_WEIGHT) * tfidf)):
            row = {"training rows": name, "model": member,
                   "argmax_3class": round(three_class_f1(truth, log_p), 4),
                   "argmax_pos_neg": round(pos_neg_f1(truth, log_p), 4),
                   "offsets_tuned_on_other_half": half_tuned(truth, log_p)}
            results.append(row)
            print(json.dumps(row), flush=True)
    out = {"rows": len(rest), "extra_rows": len(extra), "label_counts": rest["label"].value_counts().to_dict(),
           "folds": FOLDS, "seed": SEED, "backend": "onnx-int8", "results": results,
           "seconds": round(time.time() - started)}
    path = REPO / "benchmarks" / "results" / "restaurants_es_in_domain_cv.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    return out


if __name__ == "__main__":
    main()
