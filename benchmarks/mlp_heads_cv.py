"""Would a small neural head on the frozen e5 vectors beat the logistic regressions of the default stack?

The default stack (the one that meets the speed target) reads every label off one e5 pass with linear
heads. A one-hidden-layer perceptron over the same vectors costs nothing measurable at inference and can
draw boundaries a linear head cannot, so it is the last cheap lever for the default heads that miss their
targets: sentiment.v1 on SemEval-2016 es (0.727 against 0.75) and component.v1 in Spanish (0.792 against
0.80). Cross-validation on training rows only; no test row is read:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/mlp_heads_cv.py [sentiment] [component]

- **sentiment**: the five folds of ``benchmarks/sentiment_recipe_cv.py`` (the whole training frame of
  ``vocmine train sentiment``, stratified by data set x label, seed 42). Per fold the TF-IDF member is fitted
  on the other four folds; the e5 member is the shipped logistic regression (e5 subset, C=1) or an MLP.
  The blend weight and temperature are tuned on the out-of-fold rows of the e5 subset, as in that script.
  Scores: out-of-fold macro-F1 of the blend on the four corpora ``vocmine evaluate sentiment`` reports.
- **component**: ``train_component.cross_validate``'s protocol (5 folds x 3 repeats, stratified by language
  and label, seed 42) on the training split: e5 vectors plus the guideline cue columns at the shipped
  weight 0.2; the shipped head (logistic regression, C=4) against MLPs on the same features.

MLP: scikit-learn's ``MLPClassifier`` after a ``StandardScaler``: 256 ReLU units, Adam, early stopping on
a 10% validation slice, seed 42, class-balanced sample weights (times the corpus weights where a variant
has them), L2 ``alpha`` 1e-3 or 1e-1. Those are all the variants; nothing else is tried.

Decision rules, fixed in this file before any figure existed:
- sentiment: the MLP variant with the best out-of-fold mean over the four reported corpora replaces
  sentiment.v1's e5 member only if it raises out-of-fold SemEval-2016 es by at least 1.0 point and no
  reported corpus falls by more than 0.5 point against the shipped member;
- component: the MLP variant with the best mean of the two languages replaces component.v1's logistic
  regression only if that mean rises by at least 1.0 point and neither language falls.

Writes benchmarks/results/mlp_heads_cv.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
SEED = 42
ALPHAS = (1e-3, 1e-1)
COMPONENT_MIN_GAIN = 0.010
RESULT = REPO / "benchmarks" / "results" / "mlp_heads_cv.json"


def fit_mlp(X: np.ndarray, y: np.ndarray, alpha: float, row_weights: np.ndarray | None = None):  # noqa: ANN201
    """A scaled one-hidden-layer perceptron fitted with class-balanced (times ``row_weights``) weights."""
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.utils.class_weight import compute_sample_weight

    weights = compute_sample_weight("balanced", y) * (1.0 if row_weights is None else row_weights)
    model = make_pipeline(StandardScaler(), MLPClassifier(
        hidden_layer_sizes=(256,), alpha=alpha, early_stopping=True, validation_fraction=0.1, max_iter=200,
        random_state=SEED))
    return model.fit(X, y, mlpclassifier__sample_weight=weights / weights.mean())


def sentiment() -> dict:
    """Out-of-fold blend figures with the shipped e5 member and with each MLP member."""
    from sentiment_recipe_cv import (
        FOLDS,
        blend_figures,
        dataset_weights,
        spanish_rule,
        tfidf_out_of_fold,
        training_folds,
    )

    from vocmine.models.embedding_cache import DEFAULT_CACHE
    from vocmine.models.heads import EmbeddingLogisticHead
    from vocmine.models.train_sentiment import EMBEDDER, SENTIMENT_LABELS, _embed

    started = time.perf_counter()
    train, in_e5, fold = training_folds()
    X = _embed(train["text"].tolist(), DEFAULT_CACHE)
    y = np.searchsorted(SENTIMENT_LABELS, train["label"].to_numpy())
    datasets = train["dataset"].to_numpy()
    log_tfidf = tfidf_out_of_fold(train, fold)
    print(f"sentiment: {len(train)} rows, TF-IDF folds done at {time.perf_counter() - started:.0f} s", flush=True)

    every = np.ones(len(train), bool)
    # name: (rows the e5 member may fit on, corpus-weight power or None, alpha or None for the shipped LR)
    variants = {"shipped: LR on the e5 subset, C=1": (in_e5, None, None)}
    for alpha in ALPHAS:
        variants[f"MLP on the e5 subset, alpha={alpha:g}"] = (in_e5, None, alpha)
        variants[f"MLP on every row, corpora weighted equally, alpha={alpha:g}"] = (every, 1.0, alpha)
    results = {}
    for name, (allowed, power, alpha) in variants.items():
        log_e5 = np.zeros((len(train), 3))
        for k in range(FOLDS):
            rows = allowed & (fold != k)
            weights = None if power is None else dataset_weights(train["dataset"][rows], power)
            if alpha is None:
                member = EmbeddingLogisticHead(EMBEDDER, C=1.0, random_state=SEED)
                member.fit_embeddings(X[rows], train["label"][rows], weights)
                proba = member.predict_proba_embeddings(X[fold == k])
            else:
                proba = fit_mlp(X[rows], y[rows], alpha, weights).predict_proba(X[fold == k])
            log_e5[fold == k] = np.log(proba + 1e-9)
        results[name] = blend_figures(log_e5, log_tfidf, y, datasets, in_e5)
        print(f"  {name:62s} {json.dumps(results[name])}  ({time.perf_counter() - started:.0f} s)", flush=True)

    shipped = results["shipped: LR on the e5 subset, C=1"]
    best = max((n for n in results if n.startswith("MLP")), key=lambda n: results[n]["reported_mean"])
    decision = {"best_mlp": best, **spanish_rule(shipped, results[best])}
    print(f"sentiment decision: {decision}", flush=True)
    return {"folds": FOLDS, "rows": len(train), "variants": results, "decision": decision}


def component() -> dict:
    """Repeated-CV macro-F1 per language of the shipped head and each MLP on the same features."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    from vocmine.models.metrics import macro_f1_by_group
    from vocmine.models.train_component import (
        COMPONENT_LABELS,
        DEFAULT_C,
        LANGUAGES,
        _embed,
        fit_component_head,
        load_component_data,
    )
    from vocmine.nlp.rational_emotional import CUE_WEIGHT, component_features

    started = time.perf_counter()
    train = load_component_data(split="train")
    X = _embed(train["text"].tolist())
    features = component_features(train["text"].tolist(), X, CUE_WEIGHT)
    y = train["label"].to_numpy()
    language = train["language"].to_numpy()
    folds, repeats = 5, 3
    splits = list(RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=SEED)
                  .split(X, train["language"] + ":" + train["label"]))
    results = {}
    for name, alpha in {f"shipped: LR, C={DEFAULT_C:g}": None,
                        **{f"MLP, alpha={a:g}": a for a in ALPHAS}}.items():
        predicted = np.empty((repeats, len(y)), dtype=object)
        for index, (fit_rows, held_rows) in enumerate(splits):
            if alpha is None:
                head = fit_component_head(train.iloc[fit_rows], SEED, DEFAULT_C, X[fit_rows], cue_weight=CUE_WEIGHT)
                proba, labels = head.predict_proba_embeddings(features[held_rows]), np.asarray(head.labels_)
            else:
                model = fit_mlp(features[fit_rows], y[fit_rows], alpha)
                proba, labels = model.predict_proba(features[held_rows]), model.classes_
            predicted[index // folds, held_rows] = labels[proba.argmax(axis=1)]
        by_repeat = [macro_f1_by_group(y, predicted[r], language, COMPONENT_LABELS) for r in range(repeats)]
        scores = {lang: round(float(np.mean([repeat[lang] for repeat in by_repeat])), 4) for lang in LANGUAGES}
        results[name] = {**scores, "mean": round(float(np.mean(list(scores.values()))), 4)}
        print(f"  {name:30s} {results[name]}  ({time.perf_counter() - started:.0f} s)", flush=True)

    shipped = results[f"shipped: LR, C={DEFAULT_C:g}"]
    best = max((n for n in results if n.startswith("MLP")), key=lambda n: results[n]["mean"])
    gain = results[best]["mean"] - shipped["mean"]
    adopt = gain >= COMPONENT_MIN_GAIN and all(results[best][lang] >= shipped[lang] for lang in LANGUAGES)
    decision = {"best_mlp": best, "mean_gain": round(gain, 4), "adopt": bool(adopt)}
    print(f"component decision: {decision}", flush=True)
    return {"rows": len(train), "folds": folds, "repeats": repeats, "variants": results, "decision": decision}


def main(tasks: list[str]) -> None:
    report = json.loads(RESULT.read_text()) if RESULT.exists() else {}
    for task in tasks or ["sentiment", "component"]:
        report[task] = {"sentiment": sentiment, "component": component}[task]()
        RESULT.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {RESULT.relative_to(REPO)}")


if __name__ == "__main__":
    main(sys.argv[1:])
