"""Would component.v1 gain from a TF-IDF member, as sentiment.v1 does? Nested CV on the training split.

component.v1 (the default stack's rational-vs-emotional head) is a logistic regression over e5 vectors
plus the guideline's cue columns; it scores es 0.792 / en 0.800 on the test split against a target of
0.80. sentiment.v1 blends its e5 head with a TF-IDF + LR member, which costs no encoder pass. This script
asks whether the same blend helps the component, without reading the test split:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/component_tfidf_blend_cv.py

Outer loop: ``train_component.cross_validate``'s folds (5 folds x 3 repeats, stratified by language and
label, seed 42). In each outer fold the blend weight is tuned by an inner 5-fold CV on the outer fit rows
only (``heads.tune_blend``: macro-F1 averaged over the two languages), then both members are refitted on
all outer fit rows and the held-out rows are scored with that weight. The shipped head is scored on the
same outer folds. TF-IDF member: ``TfidfLogisticHead`` with its defaults (C 4, class-balanced).

Decision rule, fixed here before any figure existed: the blend replaces component.v1 only if the mean of
the two languages' macro-F1 rises by at least 1.0 point and neither language falls.

Writes benchmarks/results/component_tfidf_blend_cv.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SEED = 42
MIN_GAIN = 0.010
RESULT = REPO / "benchmarks" / "results" / "component_tfidf_blend_cv.json"


def member_log_proba(train, X, fit_rows: np.ndarray, score_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
    """Log-probabilities of ``score_rows`` from the shipped head and the TF-IDF member fitted on ``fit_rows``."""
    from vocmine.models.heads import TfidfLogisticHead
    from vocmine.models.train_component import DEFAULT_C, fit_component_head
    from vocmine.nlp.rational_emotional import CUE_WEIGHT, component_features

    texts = train["text"].to_numpy()
    head = fit_component_head(train.iloc[fit_rows], SEED, DEFAULT_C, X[fit_rows], cue_weight=CUE_WEIGHT)
    features = component_features(list(texts[score_rows]), X[score_rows], CUE_WEIGHT)
    log_e5 = np.log(head.predict_proba_embeddings(features) + 1e-9)
    tfidf = TfidfLogisticHead(random_state=SEED).fit(list(texts[fit_rows]), list(train["label"].iloc[fit_rows]))
    if tfidf.labels_ != head.labels_:
        raise RuntimeError(f"label orders differ: {tfidf.labels_} vs {head.labels_}")
    return log_e5, np.log(tfidf.predict_proba(list(texts[score_rows])) + 1e-9)


def main() -> None:
    from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold

    from vocmine.models.heads import blend_proba, tune_blend
    from vocmine.models.metrics import macro_f1_by_group
    from vocmine.models.train_component import COMPONENT_LABELS, LANGUAGES, _embed, load_component_data

    started = time.perf_counter()
    train = load_component_data(split="train")
    X = _embed(train["text"].tolist())
    y = np.searchsorted(COMPONENT_LABELS, train["label"].to_numpy())
    language = train["language"].to_numpy()
    strata = (train["language"] + ":" + train["label"]).to_numpy()
    folds, repeats = 5, 3
    outer = list(RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=SEED).split(X, strata))
    predicted = {name: np.zeros((repeats, len(y)), dtype=int) for name in ("shipped head", "blend")}
    weights = []
    for index, (fit_rows, held_rows) in enumerate(outer):
        inner_e5, inner_tfidf = np.zeros((len(fit_rows), 2)), np.zeros((len(fit_rows), 2))
        inner = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED).split(fit_rows, strata[fit_rows])
        for inner_fit, inner_held in inner:
            inner_e5[inner_held], inner_tfidf[inner_held] = member_log_proba(
                train, X, fit_rows[inner_fit], fit_rows[inner_held])
        weight, temperature = tune_blend(inner_e5, inner_tfidf, y[fit_rows], language[fit_rows])
        weights.append(weight)
        log_e5, log_tfidf = member_log_proba(train, X, fit_rows, held_rows)
        predicted["shipped head"][index // folds, held_rows] = log_e5.argmax(axis=1)
        blend = blend_proba(log_e5, log_tfidf, weight, temperature)
        predicted["blend"][index // folds, held_rows] = blend.argmax(axis=1)
    results = {}
    for name, by_repeat in predicted.items():
        per = [macro_f1_by_group(y, by_repeat[r], language, [0, 1]) for r in range(repeats)]
        scores = {lang: round(float(np.mean([p[lang] for p in per])), 4) for lang in LANGUAGES}
        results[name] = {**scores, "mean": round(float(np.mean(list(scores.values()))), 4)}
        print(f"{name:14s} {results[name]}", flush=True)
    gain = results["blend"]["mean"] - results["shipped head"]["mean"]
    adopt = gain >= MIN_GAIN and all(results["blend"][lang] >= results["shipped head"][lang] for lang in LANGUAGES)
    decision = {"mean_gain": round(gain, 4), "adopt": bool(adopt)}
    print(f"blend weights chosen per outer fold (e5 member): {weights}\ndecision: {decision}")
    RESULT.write_text(json.dumps({"rows": len(train), "folds": folds, "repeats": repeats, "results": results,
                                  "weights": weights, "decision": decision,
                                  "seconds": round(time.perf_counter() - started, 1)}, indent=2) + "\n")
    print(f"wrote {RESULT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
