"""Sentiment throughput: sentences/s of the shipped head given cached embeddings, and including embedding.

Run on demand: ``.venv/bin/python benchmarks/bench_sentiment.py [--n 400] [--threads 2]``. Prints a table
and writes benchmarks/results/bench_sentiment.json. Timings on a shared machine vary: read medians.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"

SEEDS = [
    "El pedido llegó tarde y nadie contestó",
    "La atención en la tienda fue excelente, muy amables",
    "El precio es demasiado alto para lo que ofrecen",
    "Me sentí ignorado por el vendedor",
    "Staff were lovely but checkout took ages",
    "The food was cold and overpriced",
    "Delivery was quick and the app is easy to use",
    "I felt completely ignored at the front desk",
]


def make_sentences(n: int) -> list[str]:
    """n distinct short sentences (a number keeps them unique, so no cache shortcut applies)."""
    return [f"{SEEDS[i % len(SEEDS)]} ({i})." for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=400)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    from vocmine.models.embedders import E5Embedder
    from vocmine.nlp.sentiment import load_sentiment_model

    texts = make_sentences(args.n)
    started = time.perf_counter()
    model = load_sentiment_model()
    load_s = time.perf_counter() - started
    embedder = E5Embedder(num_threads=args.threads)
    embeddings = embedder.encode(texts[:8])  # load the engine outside the timings

    head_times, full_times = [], []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        embeddings = embedder.encode(texts)
        t1 = time.perf_counter()
        model.predict_proba(texts, embeddings)
        t2 = time.perf_counter()
        full_times.append(t2 - t0)
        head_times.append(t2 - t1)
    rows = {
        "head_given_embeddings_sentences_per_s": args.n / statistics.median(head_times),
        "including_embedding_sentences_per_s": args.n / statistics.median(full_times),
        "model_load_s": load_s,
    }
    result = {
        "benchmark": "sentiment",
        "model": "vocmine.sentiment.v1",
        "n_sentences": args.n,
        "repeats": args.repeats,
        "embedder_threads": args.threads,
        "machine": platform.platform(),
        "embedding_dim": int(np.asarray(embeddings).shape[1]),
        **{key: round(value, 3) for key, value in rows.items()},
    }
    print(f"{'measure':45s} {'value':>10s}")
    for key, value in rows.items():
        print(f"{key:45s} {value:10.2f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "bench_sentiment.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
