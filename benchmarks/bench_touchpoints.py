"""Touchpoint assignment cost: sentences per second, with and without embedding, and the learning curve.

Run on demand (needs ../shared/data):  .venv/bin/python benchmarks/bench_touchpoints.py [--curve]
Prints a table and writes benchmarks/results/touchpoints.json (and touchpoints_curve.json with --curve).
Speed is measured on the official SemEval-2016 test sentences (en + es); the embedding figure uses a
fresh embedder (no cache) on the first 200 sentences, since the pipeline embeds every sentence once and
all annotators share those vectors.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from vocmine.models import train_touchpoints as tt
from vocmine.models.embedders import E5Embedder
from vocmine.nlp.taxonomy import load_taxonomy
from vocmine.nlp.touchpoint import TouchpointHead, ZeroShotTouchpoints

RESULTS = Path(__file__).resolve().parent / "results"


def _rate(n: int, seconds: float) -> float:
    return n / max(seconds, 1e-9)


def measure_speed(seed: int = 42) -> dict[str, float]:
    embedder = E5Embedder(num_threads=2)
    tax = load_taxonomy("restaurant")
    test = [tt.load_split(lang, "test") for lang in ("en", "es")]
    texts = [t for f in test for t in f["text"]]
    vectors = tt.embed(texts, embedder)
    started = time.perf_counter()
    zero_shot = ZeroShotTouchpoints(tax, embedder=embedder).fit()
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    zero_shot.predict(texts, vectors)
    zs_s = time.perf_counter() - started
    train = [tt.load_split(lang, "train") for lang in ("en", "es")]
    train_texts = [t for f in train for t in f["text"]]
    train_labels = [y for f in train for y in f["touchpoints"]]
    started = time.perf_counter()
    head = TouchpointHead(tax, random_state=seed).fit(
        train_texts, tt.embed(train_texts, embedder), train_labels, zero_shot
    )
    head_fit_s = time.perf_counter() - started
    started = time.perf_counter()
    head.predict(texts, vectors, zero_shot)
    head_s = time.perf_counter() - started
    sample = texts[:200]
    fresh = E5Embedder(num_threads=2)
    started = time.perf_counter()
    fresh.encode(sample)
    embed_s = time.perf_counter() - started
    return {
        "sentences": len(texts),
        "prototype_embedding_s": fit_s,
        "zero_shot_sentences_per_s_given_vectors": _rate(len(texts), zs_s),
        "head_sentences_per_s_given_vectors": _rate(len(texts), head_s),
        "head_fit_s_on_all_train": head_fit_s,
        "head_fit_sentences": len(train_texts),
        "embedding_sentences_per_s_2_threads": _rate(len(sample), embed_s),
        "end_to_end_zero_shot_sentences_per_s": 1.0 / (embed_s / len(sample) + zs_s / len(texts)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--curve", action="store_true", help="also run the learning curve (several minutes)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(2)
    RESULTS.mkdir(parents=True, exist_ok=True)
    speed = measure_speed()
    print(f"{'measure':<45} {'value':>10}")
    for key, value in speed.items():
        print(f"{key:<45} {value:>10.1f}")
    (RESULTS / "touchpoints.json").write_text(json.dumps(speed, indent=1), encoding="utf-8")
    if args.curve:
        curve = tt.TouchpointsTask().learning_curve(repeats=args.repeats)
        print(curve.to_string(index=False))
        (RESULTS / "touchpoints_curve.json").write_text(curve.to_json(orient="records", indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
