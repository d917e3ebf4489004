"""Runtime of theme building (themes only: embeddings already cached) for N sentences.

Texts: SemEval-2016 restaurant sentences (es, en) and airline tweets from ../shared/data whose e5 vectors
are already in the disk cache (nothing is embedded here). If fewer than N are cached, the rest are
copies with a small vector jitter, and the table says how many were real. One touchpoint/polarity group
holds them all: the worst case, since UMAP's cost grows with the largest group.

    .venv/bin/python benchmarks/bench_topics.py [--n 10000]
Writes benchmarks/results/bench_topics.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from airline_data import clean_tweet  # noqa: E402

from vocmine.config import VocmineConfig  # noqa: E402
from vocmine.ids import text_hash  # noqa: E402
from vocmine.models.datasets import load_semeval16, shared_data_dir  # noqa: E402
from vocmine.models.embedders import E5Embedder  # noqa: E402
from vocmine.models.embedding_cache import DEFAULT_CACHE  # noqa: E402
from vocmine.pipelines.topics import build_themes  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def cached_corpus(limit: int) -> tuple[list[str], np.ndarray]:
    texts: list[str] = []
    for language, split in (("es", "train"), ("es", "dev"), ("en", "train"), ("es", "test"), ("en", "test")):
        texts += [t for t in load_semeval16(language, split)["text"] if t]
    for split in ("test", "train"):
        frame = pd.read_csv(shared_data_dir() / "twitter_airline_sentiment" / f"{split}.csv")
        texts += [t for t in frame["text"].astype(str).map(clean_tweet) if t]
    texts = list(dict.fromkeys(texts))
    model = E5Embedder().name
    con = sqlite3.connect(str(DEFAULT_CACHE))
    found_texts, vectors = [], []
    for text in texts:
        row = con.execute("SELECT v FROM emb WHERE model = ? AND h = ?", [model, text_hash(text)]).fetchone()
        if row:
            found_texts.append(text)
            vectors.append(np.frombuffer(row[0], dtype=np.float32))
        if len(found_texts) >= limit:
            break
    con.close()
    return found_texts, np.stack(vectors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args()
    texts, vectors = cached_corpus(args.n)
    n_real = len(texts)
    rng = np.random.default_rng(0)
    while len(texts) < args.n:
        take = min(n_real, args.n - len(texts))
        texts += [f"{t} ({len(texts) + i})" for i, t in enumerate(texts[:take])]
        jitter = vectors[:take] + rng.normal(scale=0.01, size=(take, vectors.shape[1])).astype(np.float32)
        vectors = np.vstack([vectors, jitter])
    frame = pd.DataFrame(
        {
            "sentence_id": [f"s{i}" for i in range(len(texts))],
            "response_id": [f"r{i // 3}" for i in range(len(texts))],
            "text": texts,
            "language": "und",
            "touchpoint": "all",
            "polarity": "negative",
            "created_at": pd.Timestamp("2026-01-01"),
        }
    )
    start = time.perf_counter()
    result = build_themes(frame, vectors, VocmineConfig())
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    row = {
        "sentences": len(texts),
        "real_sentences": n_real,
        "themes": int((result.themes["status"] == "active").sum()),
        "unassigned_share": round(float(result.stats["unassigned_share"].iloc[0]), 4),
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(rss_mb),
    }
    print(f"{'sentences':>10s} {'real':>6s} {'themes':>7s} {'unassigned':>10s} {'seconds':>8s} {'peak RSS MB':>12s}")
    print(f"{row['sentences']:10d} {row['real_sentences']:6d} {row['themes']:7d} {row['unassigned_share']:10.3f} "
          f"{row['seconds']:8.1f} {row['peak_rss_mb']:12.0f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "bench_topics.json"
    path.write_text(json.dumps(row, indent=2), encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
