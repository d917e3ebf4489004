"""Would vocmine.sentiment.v1 gain from an e5 member over several layers? Five-fold CV, no test row read.

``benchmarks/layer_probe.py`` found that a logistic regression over the mean-pooled states of several e5
layers beats one over the last layer on SemEval-2016 sentences. The shipped model is a blend of an e5
member with a TF-IDF member, and the TF-IDF member may already carry what the middle layers add. This
script refits the shipped recipe fold by fold with the e5 member's features swapped:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/layer_features_sentiment_cv.py

Folds, rows and blend tuning are those of ``benchmarks/sentiment_recipe_cv.py``: five stratified folds of
the whole training frame (data set x label, seed 42); the TF-IDF member is fitted on four folds of every
corpus, the e5 member on the shipped e5 subset's rows among them, and the blend weight and temperature
are tuned by :func:`tune_blend` on the subset's out-of-fold rows. Scores are out-of-fold macro-F1 on the
four corpora ``vocmine evaluate sentiment`` reports. e5 features come from the float32 torch port (min
cosine 0.9998 to the engine the shipped model was trained on), up to 128 tokens, so "last layer" here is
the shipped member up to that difference. Layer features are cached in ``.cache/layer_features_sentiment.npz``;
writes benchmarks/results/layer_features_sentiment_cv.json.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "layer_features_sentiment.npz"
OUT = REPO / "benchmarks" / "results" / "layer_features_sentiment_cv.json"
C_GRID = (0.01, 0.03, 0.1)
#: ``C`` of the shipped recipe's head (unstandardised, unit-norm features, temperature-calibrated).
SHIPPED_C_GRID = (0.5, 1.0, 2.0)
#: Feature sets of the e5 member: name -> layers whose normalised pooled states are concatenated.
LAYER_SETS = {"last layer": (12,), "layers 6+9+12": (6, 9, 12), "layers 4-12": tuple(range(4, 13))}


def main() -> None:
    import sys

    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    sys.path.insert(0, str(REPO / "benchmarks"))
    from layer_probe import pooled_layers
    from sentiment_recipe_cv import FOLDS, SEED, training_folds

    from vocmine.models.heads import EmbeddingLogisticHead, TfidfLogisticHead, blend_proba, tune_blend
    from vocmine.models.metrics import macro_f1_by_group
    from vocmine.models.train_sentiment import EMBEDDER, EVAL_PLAN, SENTIMENT_LABELS

    started = time.perf_counter()
    train, in_e5, fold = training_folds()
    y = np.searchsorted(SENTIMENT_LABELS, train["label"].to_numpy())
    datasets = train["dataset"].to_numpy()
    scored = np.isin(datasets, list(EVAL_PLAN))
    texts = train["text"][scored].tolist()
    cached = dict(np.load(CACHE)) if CACHE.is_file() else {}
    if len(cached.get("layers", ())) != len(texts):
        cached = {"layers": pooled_layers(texts)}
        CACHE.parent.mkdir(exist_ok=True)
        np.savez(CACHE, **cached)
    layers = np.zeros((len(train), *cached["layers"].shape[1:]), dtype=np.float16)
    layers[scored] = cached["layers"]
    print(f"{int(scored.sum())} rows of the reported corpora have layer features "
          f"({time.perf_counter() - started:.0f} s)", flush=True)

    log_tfidf = np.zeros((len(train), 3))
    for k in range(FOLDS):
        fit_rows = train[fold != k]
        member = TfidfLogisticHead(random_state=SEED).fit(fit_rows["text"].tolist(), fit_rows["label"].tolist())
        held = (fold == k) & scored
        log_tfidf[held] = np.log(member.predict_proba(train["text"][held].tolist()) + 1e-9)
    print(f"TF-IDF folds done at {time.perf_counter() - started:.0f} s", flush=True)

    def figures(log_p: np.ndarray) -> dict[str, float]:
        per = macro_f1_by_group(y[scored], log_p[scored].argmax(1), datasets[scored], [0, 1, 2])
        return {"mean": round(float(np.mean(list(per.values()))), 4), **{n: round(float(v), 4) for n, v in per.items()}}

    def out_of_fold(make, X: np.ndarray) -> np.ndarray:  # noqa: ANN001 - a member factory
        log_p = np.zeros((len(train), 3))
        for k in range(FOLDS):
            member = make().fit(X[in_e5 & (fold != k)], y[in_e5 & (fold != k)])
            held = (fold == k) & scored
            log_p[held] = np.log(member.predict_proba(X[held]) + 1e-9)
        return log_p

    class ShippedMember:
        """The shipped e5 member's recipe (EmbeddingLogisticHead, temperature-calibrated) at ``C``."""

        def __init__(self, C: float = 1.0) -> None:
            self.C = C

        def fit(self, X: np.ndarray, y_index: np.ndarray):  # noqa: ANN204
            self.head = EmbeddingLogisticHead(EMBEDDER, C=self.C, random_state=SEED)
            self.head.fit_embeddings(X, [SENTIMENT_LABELS[i] for i in y_index])
            return self

        def predict_proba(self, X: np.ndarray) -> np.ndarray:
            return self.head.predict_proba_embeddings(X)

    results: dict[str, dict] = {"TF-IDF member alone": {"blend": figures(log_tfidf)}}
    variants = {"shipped member (last layer, C=1)": (lambda: ShippedMember(), layers[:, 12].astype(np.float32))}
    for name, spec in LAYER_SETS.items():
        X = layers[:, list(spec)].astype(np.float32).reshape(len(train), -1)
        for C in SHIPPED_C_GRID:
            if len(spec) > 1:  # unit norm again, so C means what it means for one layer
                variants[f"{name}, as shipped, C={C}"] = (lambda C=C: ShippedMember(C), X / np.sqrt(len(spec)))
        for C in C_GRID:
            variants[f"{name}, standardised, C={C}"] = (
                lambda C=C, n=X.shape[1]: make_pipeline(
                    StandardScaler(),
                    LogisticRegression(C=C * 384 / n, class_weight="balanced", max_iter=3000, random_state=SEED)),
                X)
    for name, (make, X) in variants.items():
        log_e5 = out_of_fold(make, X)
        weight, temperature = tune_blend(log_e5[in_e5], log_tfidf[in_e5], y[in_e5], datasets[in_e5])
        blended = np.log(blend_proba(log_e5, log_tfidf, weight, temperature))
        results[name] = {"e5_alone": figures(log_e5), "blend": figures(blended), "blend_weight": weight,
                         "temperature": round(float(temperature), 4)}
        row = results[name]
        print(f"{name:40s} alone {row['e5_alone']['mean']:.4f}  blend (w={weight}) {row['blend']['mean']:.4f}  "
              + " ".join(f"{n} {row['blend'][n]:.3f}" for n in EVAL_PLAN), flush=True)
    OUT.write_text(json.dumps({"folds": FOLDS, "seed": SEED, "results": results,
                               "seconds": round(time.perf_counter() - started)}, indent=1) + "\n")
    print(f"wrote {OUT.relative_to(REPO)}")


if __name__ == "__main__":
    main()
