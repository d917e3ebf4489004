"""Should sentiment.v1's TF-IDF member weigh its corpora? Five-fold CV of the shipped recipe.

The TF-IDF member is fitted on all 25,786 training rows, 11,531 of them airline tweets and 2,993 Starbucks
reviews, against 1,597 SemEval-2016 es sentences; its regression thus mostly learns what airline tweets say.
``sentiment_recipe_cv.py`` weighed the corpora for the e5 member (not adopted) but never for this one. This
script refits the TF-IDF member with each row weighted by ``n_corpus ** -power`` (normalised to mean 1, on
top of the balanced class weights), so every corpus counts as ``n ** (1 - power)`` rows:

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/sentiment_tfidf_weighting_cv.py

Folds, the routed e5 member and the blend tuning are those of ``sentiment_context_cv.py`` (blend weight and
temperature tuned by ``tune_blend`` on the out-of-fold e5-subset rows, as there), so the unweighted row
reproduces its routed-window figures. Two variants, fixed before any figure: ``power`` 0.5 (corpora weighed
by the square root of their size) and 1 (all corpora equal).

Decision rule, fixed here before any figure existed: the better of the two by mean reported macro-F1 joins
sentiment.v1 only if, against the unweighted member, out-of-fold SemEval-2016 es rises by at least 1.0
point and no reported corpus falls by more than 0.5. The TF-IDF baseline of ``vocmine evaluate`` stays
unweighted either way.

Result (session 19, 5 min): the unweighted row reproduces the routed window (SemEval es 0.7645, en 0.7711,
airline 0.7655, restaurants_es 0.6955). Power 0.5 (the better mean): es 0.7656 (+0.1), en 0.7697, airline
0.7599 (-0.6), restaurants_es 0.6991; power 1: es 0.7654, airline 0.7537. Weighing the corpora barely moves
the TF-IDF member on SemEval es (alone 0.640 -> 0.640 / 0.644): not adopted.

Re-run after the session-19 TF-IDF vocabulary fix (``heads.fit_capped``; the JSON is this run's): unweighted es
0.7677, en 0.7721, airline 0.7645, restaurants_es 0.6980; power 0.5 es 0.7678 (+0.0), airline 0.7596; power 1
es 0.7668. The same answer.

Writes benchmarks/results/sentiment_tfidf_weighting_cv.json.
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
POWERS = (0.5, 1.0)


def main() -> None:
    from sentiment_context_cv import context_frame, routed_out_of_fold
    from sentiment_recipe_cv import (
        FOLDS,
        blend_figures,
        dataset_weights,
        reported_figures,
        spanish_rule,
        tfidf_out_of_fold,
    )

    from vocmine.models.heads import TfidfLogisticHead

    started = time.perf_counter()
    train, in_e5, fold, X, window, has_neighbour, y, datasets = context_frame()

    log_routed = np.log(routed_out_of_fold(train, X, window, has_neighbour, in_e5, fold) + 1e-9)

    log_tfidf = {"unweighted": tfidf_out_of_fold(train, fold)}
    print(f"unweighted members done at {time.perf_counter() - started:.0f} s", flush=True)
    for power in POWERS:
        name = f"corpora weighted, power {power}"
        log_tfidf[name] = np.zeros((len(train), 3))
        for k in range(FOLDS):
            fit_rows = train[fold != k]
            member = TfidfLogisticHead(random_state=SEED).fit(
                fit_rows["text"].tolist(), fit_rows["label"].tolist(),
                sample_weight=dataset_weights(fit_rows["dataset"], power))
            log_tfidf[name][fold == k] = np.log(member.predict_proba(train["text"][fold == k].tolist()) + 1e-9)
        print(f"{name} done at {time.perf_counter() - started:.0f} s", flush=True)

    results = {}
    for name, member_log in log_tfidf.items():
        alone = reported_figures(y, member_log.argmax(axis=1), datasets)
        results[name] = {**blend_figures(log_routed, member_log, y, datasets, in_e5), "tfidf_member_alone": alone}
        print(f"  {name}: {json.dumps(results[name])}", flush=True)
    best = max((f"corpora weighted, power {p}" for p in POWERS), key=lambda n: results[n]["reported_mean"])
    decision = {"variant": best, **spanish_rule(results["unweighted"], results[best])}
    print(f"decision: {decision}")
    out = REPO / "benchmarks" / "results" / "sentiment_tfidf_weighting_cv.json"
    out.write_text(json.dumps({"folds": FOLDS, "rows": len(train), "variants": results, "decision": decision,
                               "seconds": round(time.perf_counter() - started, 1)}, indent=2) + "\n")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
