"""A learned gate for the accurate variants: predict, from what the cheap model already computed, whether the
fine-tuned encoder would change its label, and read the encoder only there.

``ft_gate_probe.py`` gates on the cheap model's top probability; reading the encoder for 99% of the full
variant's labels then takes 60% of sentences for sentiment, 44% for the component and ~92% for emotions:
the accurate stack would run at ~86 sentences/s, short of 100. Here a logistic regression over the cheap
model's probabilities (sorted), its margin, the sentence's language and its e5 vector learns where the two
disagree, on responses 1,000-2,499 of the speed benchmark's two files (Rest-Mex 2022 es, Starbucks NYC en,
train splits), with the threshold for each agreement level set on half of those rows and checked on the
other half; then both gates are compared on the benchmark's own 400 responses (rows 0-199), which no gate
was fitted on. No labels are read: the target is the full variant's own label.

    .venv/bin/python benchmarks/ft_gate_learned.py --pool 3000

Prints tables and writes benchmarks/results/ft_gate_learned.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_components import corpus_sentences  # noqa: E402
from bench_end_to_end import build_corpus  # noqa: E402
from ft_gate_probe import blend_views, caching_embed, context_of, emotion_views  # noqa: E402

AGREEMENT = (0.97, 0.98, 0.99, 0.995)


class Views:
    """Cheap probabilities, cheap labels and full labels of the three accurate variants on one set of
    sentences."""

    def __init__(self, texts: list[str], languages: list[str], groups: list[tuple], embedder) -> None:  # noqa: ANN001
        from vocmine.models.component_ft import FineTunedComponentModel
        from vocmine.models.sentiment_ft import FineTunedSentimentModel

        self.texts, self.languages = texts, np.asarray(languages)
        self.vectors = embedder.encode(texts)
        context = context_of(texts, self.vectors, groups, caching_embed(embedder, texts, self.vectors))
        self.tasks: dict[str, dict[str, np.ndarray]] = {}
        self.seconds: dict[str, float] = {}
        self.tasks["sentiment"], self.seconds["sentiment"] = blend_views(FineTunedSentimentModel.load(), texts,
                                                                         self.vectors, context)
        self.tasks["component"], self.seconds["component"] = blend_views(FineTunedComponentModel.load(), texts,
                                                                          self.vectors)
        self.tasks["emotion"], self.seconds["emotion"] = emotion_views(texts, languages, self.vectors)

    def features(self, task: str) -> np.ndarray:
        cheap = self.tasks[task]["cheap"]
        ranked = -np.sort(-cheap, axis=1)
        margin = ranked[:, :1] - ranked[:, 1:2]
        spanish = (self.languages == "es").astype(np.float32)[:, None]
        return np.hstack([ranked, margin, np.log(np.clip(cheap, 1e-6, 1)), spanish, self.vectors])

    def disagree(self, task: str) -> np.ndarray:
        t = self.tasks[task]
        return (t["cheap_label"] != t["full_label"]).astype(int)


def threshold_for(scores: np.ndarray, disagree: np.ndarray, agreement: float) -> float:
    """The highest score threshold (read the encoder where score >= it) whose agreement is >= ``agreement``."""
    order = np.argsort(-scores)
    # Reading the top-k rows fixes their disagreements; agreement after reading k rows:
    missed = disagree.sum() - np.concatenate([[0], np.cumsum(disagree[order])])
    ok = np.flatnonzero(1 - missed / len(scores) >= agreement)
    k = int(ok[0]) if len(ok) else len(scores)
    return float(scores[order[k - 1]]) if k > 0 else float("inf")


def evaluate(scores: np.ndarray, disagree: np.ndarray, threshold: float) -> dict:
    read = scores >= threshold
    return {"read": round(float(read.mean()), 3), "agree": round(float(1 - (disagree * ~read).mean()), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=3000, help="responses to fit the gates on (from row 1,000)")
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression

    from vocmine.models.embedders import resolve_embedder

    embedder = resolve_embedder("vocmine.e5_small.v1")
    pool = Views(*corpus_sentences(build_corpus(args.pool, offset=1000)), embedder)
    bench = Views(*corpus_sentences(build_corpus(400)), embedder)
    print(f"pool {len(pool.texts)} sentences, bench {len(bench.texts)}; encoder seconds on bench: "
          f"{ {k: round(v, 1) for k, v in bench.seconds.items()} }")
    rng = np.random.default_rng(0)
    half = rng.random(len(pool.texts)) < 0.5
    result: dict = {"pool_sentences": len(pool.texts), "bench_sentences": len(bench.texts),
                    "bench_encoder_seconds": bench.seconds, "tasks": {}}
    for task in ("sentiment", "component", "emotion"):
        y = pool.disagree(task)
        x = pool.features(task)
        gate = LogisticRegression(C=1.0, max_iter=2000).fit(x[half], y[half])
        learned_tune = gate.predict_proba(x[~half])[:, 1]
        learned_bench = gate.predict_proba(bench.features(task))[:, 1]
        # The probability gate: read where the cheap top probability is low (score = 1 - top).
        top_tune = 1 - pool.tasks[task]["cheap"][~half].max(1)
        top_bench = 1 - bench.tasks[task]["cheap"].max(1)
        rows = []
        for level in AGREEMENT:
            for name, tune, on_bench in (("top-probability", top_tune, top_bench),
                                         ("learned", learned_tune, learned_bench)):
                threshold = threshold_for(tune, y[~half], level)
                rows.append({"target_agreement": level, "gate": name, "threshold": round(threshold, 4),
                             "pool_held_out": evaluate(tune, y[~half], threshold),
                             "bench": evaluate(on_bench, bench.disagree(task), threshold)})
        result["tasks"][task] = {"pool_disagreement": round(float(y.mean()), 4),
                                 "bench_disagreement": round(float(bench.disagree(task).mean()), 4), "rows": rows}
        print(f"\n{task}: cheap and full labels differ on {y.mean():.1%} of pool sentences, "
              f"{bench.disagree(task).mean():.1%} of bench sentences")
        for row in rows:
            print(f"  agreement>={row['target_agreement']:<6} {row['gate']:<16} pool held-out {row['pool_held_out']}"
                  f"  bench {row['bench']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "ft_gate_learned.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
