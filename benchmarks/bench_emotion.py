"""Throughput of the emotion and component annotators (texts/s), on demand.

Run: ``.venv/bin/python benchmarks/bench_emotion.py [--n 400]``. Prints a table and writes
``benchmarks/results/bench_emotion.json``. The texts are the repository's own labelled component
sentences (no ../shared/data needed). Component timings include the e5 embedding, which the pipeline
shares with other annotators, and are also given for the head alone.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

from vocmine.models.train_component import DATA_FILE

RESULTS = Path(__file__).resolve().parent / "results" / "bench_emotion.json"


def _timed(function, *args) -> float:  # noqa: ANN001
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start


def main(n: int = 400) -> list[dict[str, object]]:
    import pandas as pd

    from vocmine.models.embedders import E5Embedder
    from vocmine.nlp.emotion import EmotionAnnotator
    from vocmine.nlp.rational_emotional import ComponentAnnotator

    frame = pd.read_csv(DATA_FILE, keep_default_na=False)
    frame = frame[frame["language"].isin(["es", "en"])].head(n)
    texts, languages = frame["text"].tolist(), frame["language"].tolist()
    emotion, component, e5 = EmotionAnnotator(), ComponentAnnotator(), E5Embedder(num_threads=2)
    empty = np.zeros((len(texts), 0), np.float32)
    load_emotion = _timed(emotion.annotate, texts[:1], empty[:1], languages[:1])
    load_component = _timed(component.annotate, texts[:1], np.zeros((1, 384), np.float32), languages[:1])
    start = time.perf_counter()
    vectors = e5.encode(texts)
    embed_seconds = time.perf_counter() - start
    rows = [
        {"step": "emotion annotate (TF-IDF, text only)", "seconds": _timed(emotion.annotate, texts, empty, languages),
         "first_call_load_s": load_emotion},
        {"step": "component head (given e5 vectors)", "seconds": _timed(component.annotate, texts, vectors, languages),
         "first_call_load_s": load_component},
        {"step": "e5 embedding (shared by annotators)", "seconds": embed_seconds, "first_call_load_s": 0.0},
    ]
    for row in rows:
        row["texts"] = len(texts)
        row["texts_per_s"] = round(len(texts) / max(float(row["seconds"]), 1e-9), 1)
    print(f"{'step':42} {'texts':>6} {'seconds':>8} {'texts/s':>9}")
    for row in rows:
        print(f"{row['step']:42} {row['texts']:>6} {row['seconds']:>8.2f} {row['texts_per_s']:>9}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"machine": platform.platform(), "rows": rows}, indent=2) + "\n", "utf-8")
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=400, help="number of sentences")
    main(parser.parse_args().n)
