"""Would a nearest-neighbour member help sentiment.v1 on Spanish restaurant sentences? Five-fold CV.

A logistic regression draws one straight boundary through e5 space; labelled sentences that say nearly the
same thing ("la comida llegó fría", "el plato estaba frío") may carry a sharper signal than that boundary. This
script adds, next to the shipped routed e5 member (``benchmarks/sentiment_context_cv.py``), a k-nearest-
neighbour member over the same e5-subset rows and asks whether mixing it in lifts SemEval-2016 es:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/sentiment_knn_member_cv.py

Folds, members and scoring are those of ``sentiment_recipe_cv.py`` (every training row of ``vocmine train
sentiment``, five folds stratified by data set x label, seed 42). The kNN member, fixed before any figure:
cosine similarity of a row's own e5 vector to the e5-subset rows of the other folds, its 25 nearest, each
voting ``exp(similarity / 0.05)`` for its label, one pseudo-vote per class (add-one), normalised. It is mixed
into the routed member as ``(1 - a) * p_routed + a * p_knn`` with ``a`` in 0, 0.1, ..., 0.5.

Cross-fitting, so no row is scored by a setting chosen on it: the rows are split into two random halves
(seed 42); on one half's e5-subset rows ``a`` is chosen by the blend's mean macro-F1 over data sets (the
blend weight and temperature tuned there by ``tune_blend`` for each ``a``), and the other half is scored with
that ``a``, weight and temperature; then the other way round. The routed member alone (``a`` = 0) is
cross-fitted the same way, as the line to beat.

Decision rule, fixed here before any figure existed: the kNN member joins sentiment.v1 only if, against the
cross-fitted routed member, out-of-fold SemEval-2016 es rises by at least 1.0 point and no reported corpus
falls by more than 0.5.

Result (session 19, 3 min): cross-fitted routed member alone SemEval es 0.7557, en 0.7757, airline 0.7619,
restaurants_es 0.6936; with the kNN member (mix 0.3 / 0.4 chosen on the halves) es 0.7649 (+0.9), en 0.7742,
airline 0.7733 (+1.1), restaurants_es 0.6653 (-2.8). The kNN member alone: es 0.622. Not adopted: below the
+1.0 line on Spanish, and restaurants_es falls.

Re-run after the session-19 TF-IDF vocabulary fix (``heads.fit_capped``; the JSON is this run's): routed alone
es 0.7677, en 0.7721, airline 0.7645, restaurants_es 0.6980; with kNN es 0.7700 (+0.2), en 0.7659, airline
0.7759, restaurants_es 0.6746 (-2.3). The same answer.

Writes benchmarks/results/sentiment_knn_member_cv.json.
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
NEIGHBOURS = 25
SIMILARITY_TEMPERATURE = 0.05
MIX_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)


def knn_proba(queries: np.ndarray, keys: np.ndarray, key_labels: np.ndarray, classes: int = 3) -> np.ndarray:
    """Class probabilities of each query from its :data:`NEIGHBOURS` most similar keys (unit vectors), each
    voting ``exp(similarity / SIMILARITY_TEMPERATURE)``, with one pseudo-vote per class."""
    similarity = queries @ keys.T
    top = np.argpartition(-similarity, NEIGHBOURS, axis=1)[:, :NEIGHBOURS]
    top_similarity = np.take_along_axis(similarity, top, axis=1)
    votes = np.exp((top_similarity - top_similarity.max(axis=1, keepdims=True)) / SIMILARITY_TEMPERATURE)
    votes /= votes.sum(axis=1, keepdims=True)
    proba = np.ones((len(queries), classes))
    for c in range(classes):
        proba[:, c] += (votes * (key_labels[top] == c)).sum(axis=1) * NEIGHBOURS
    return proba / proba.sum(axis=1, keepdims=True)


def cross_fitted(log_member: dict[float, np.ndarray], log_tfidf: np.ndarray, y: np.ndarray,
                 datasets: np.ndarray, in_e5: np.ndarray, half: np.ndarray) -> tuple[np.ndarray, list[dict]]:
    """Predicted classes of every row, each half scored with the mix, weight and temperature chosen on the
    other half's e5-subset rows; and those choices."""
    from vocmine.models.heads import blend_proba, tune_blend
    from vocmine.models.metrics import mean_macro_f1_by_group

    predicted, chosen = np.zeros(len(y), dtype=int), []
    for tune_half in (0, 1):
        tune = in_e5 & (half == tune_half)
        best = None
        for a, log_e5 in log_member.items():
            weight, temperature = tune_blend(log_e5[tune], log_tfidf[tune], y[tune], datasets[tune])
            tuned = blend_proba(log_e5[tune], log_tfidf[tune], weight, temperature).argmax(axis=1)
            score = mean_macro_f1_by_group(y[tune], tuned, datasets[tune], [0, 1, 2])
            if best is None or score > best[0] + 1e-9:
                best = (score, a, weight, temperature)
        _, a, weight, temperature = best
        scored = half != tune_half
        predicted[scored] = blend_proba(log_member[a][scored], log_tfidf[scored], weight, temperature).argmax(axis=1)
        chosen.append({"tuned_on_half": tune_half, "mix": a, "blend_weight": weight,
                       "temperature": round(float(temperature), 4)})
    return predicted, chosen


def main() -> None:
    from sentiment_context_cv import context_frame, routed_out_of_fold
    from sentiment_recipe_cv import FOLDS, reported_figures, spanish_rule, tfidf_out_of_fold

    started = time.perf_counter()
    train, in_e5, fold, X, window, has_neighbour, y, datasets = context_frame()
    log_tfidf = tfidf_out_of_fold(train, fold)
    unit = X / np.linalg.norm(X, axis=1, keepdims=True)

    routed = routed_out_of_fold(train, X, window, has_neighbour, in_e5, fold)
    knn = np.zeros((len(train), 3))
    for k in range(FOLDS):
        rows, scored = in_e5 & (fold != k), fold == k
        knn[scored] = knn_proba(unit[scored], unit[rows], y[rows])
    print(f"members done at {time.perf_counter() - started:.0f} s", flush=True)

    half = np.random.default_rng(SEED).integers(0, 2, len(train))
    mixes = {a: np.log((1.0 - a) * routed + a * knn + 1e-9) for a in MIX_GRID}
    results = {}
    for name, grid in (("routed member alone (cross-fitted)", {0.0: mixes[0.0]}),
                       ("routed member + kNN member (cross-fitted)", mixes)):
        predicted, chosen = cross_fitted(grid, log_tfidf, y, datasets, in_e5, half)
        results[name] = {"chosen": chosen, **reported_figures(y, predicted, datasets)}
        print(f"  {name}: {json.dumps(results[name])}", flush=True)
    knn_alone = reported_figures(y, knn.argmax(axis=1), datasets)
    print(f"  kNN member alone: {json.dumps(knn_alone)}")
    base, variant = results
    decision = spanish_rule(results[base], results[variant])
    print(f"decision: {decision}")
    out = REPO / "benchmarks" / "results" / "sentiment_knn_member_cv.json"
    out.write_text(json.dumps({"folds": FOLDS, "rows": len(train), "neighbours": NEIGHBOURS,
                               "similarity_temperature": SIMILARITY_TEMPERATURE, "variants": results,
                               "knn_member_alone": knn_alone, "decision": decision,
                               "seconds": round(time.perf_counter() - started, 1)}, indent=2) + "\n")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
