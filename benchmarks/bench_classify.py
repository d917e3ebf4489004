"""Throughput of ``vocmine classify`` (``classify_frame``) on files of growing size: does it stay linear?

Run on demand (not in CI; needs ../shared/data):

    OMP_WAIT_POLICY=PASSIVE .venv/bin/python benchmarks/bench_classify.py --n 500 2000 8000

Until session 19 each text's label was combined after a scan of every sentence row for the text's own
(``[i for i, r in enumerate(rows) if r["index"] == index]``), so a file's cost grew with rows x sentences;
``label_texts`` now slices each text's sentences in one pass. The rows are the benchmark corpus of
``bench_end_to_end.build_corpus`` (half Rest-Mex 2022 es, half Starbucks NYC en), the default stack loaded
once (its seconds printed apart). Prints per size: seconds, rows/s, sentences/s, per-row and per-sentence
output; writes benchmarks/results/bench_classify.json.

Result (session 19, default stack, int8 e5, load average ~1): 500 rows (2,632 sentences) 17.4 s, 2,000 rows
(11,583) 55.1 s, 8,000 rows (41,469) 190.2 s: 151, 210 and 218 sentences/s, linear in the file's size. The
old scan alone, timed on 41,469 sentence rows, costs 2.7 ms per text: 21.5 s for the 8,000 rows (11% on top),
and about an hour for 100,000 rows of five sentences each, more than the labelling itself.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_end_to_end import build_corpus  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[500, 2000, 8000], help="Rows per run.")
    args = parser.parse_args()

    from vocmine.config import VocmineConfig
    from vocmine.pipelines.classify import TextClassifierStack, classify_frame

    started = time.perf_counter()
    stack = TextClassifierStack.load(VocmineConfig())
    load_seconds = time.perf_counter() - started
    print(f"stack loaded in {load_seconds:.1f} s: {sorted(stack.annotators)}")
    runs = []
    for n in args.n:
        corpus = build_corpus(n)[["response_id", "text"]]
        started = time.perf_counter()
        per_sentence = classify_frame(corpus, "text", stack, sentences=True)
        seconds = time.perf_counter() - started
        sentences = int(per_sentence["position"].notna().sum())
        runs.append({"rows": len(corpus), "sentences": sentences, "seconds": round(seconds, 2),
                     "rows_per_s": round(len(corpus) / seconds, 1), "sentences_per_s": round(sentences / seconds, 1)})
        print(json.dumps(runs[-1]), flush=True)
    out = REPO / "benchmarks" / "results" / "bench_classify.json"
    out.write_text(json.dumps({
        "benchmark": "bench_classify",
        "command": "python benchmarks/bench_classify.py --n " + " ".join(map(str, args.n)),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_avg_1_5_15": os.getloadavg()},
        "stack_load_seconds": round(load_seconds, 1), "runs": runs,
    }, indent=2) + "\n")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
