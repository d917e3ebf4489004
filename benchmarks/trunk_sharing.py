"""What sharing e5's bottom six layers with component.ft changes: nothing in its scores, its time.

component.ft's adapters start at layer six (the CPU recipe), so its int8 export is only its top six layers
and head, fed with the states after layer six that the e5 embedder keeps (models/e5_trunk.py), or, for texts
it did not embed, with those of the bottom graph cut from the base export. This script exports the whole
fine-tuned graph as before (into a temporary cache) and runs the three routes on the speed benchmark's
sentences (as ``bench_components.py``): the scores must be bit-identical, and it times each route, the runs
alternating, plus the embedder with and without keeping the states. Run on demand (not in CI; needs
../shared/data; ~1 min of exports, ~3 min of timings):

    .venv/bin/python benchmarks/trunk_sharing.py --n 400

Prints the figures and writes benchmarks/results/trunk_sharing_n<N>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
ENCODER = REPO / "models" / "weights" / "component_ft" / "e5_lora"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_components import corpus_sentences  # noqa: E402
from bench_end_to_end import build_corpus  # noqa: E402
from onnx_nan_guards import alternating  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="responses of the speed benchmark's corpus")
    parser.add_argument("--repeats", type=int, default=6, help="timed runs of each route")
    args = parser.parse_args()
    from vocmine.models import e5_onnx, e5_trunk
    from vocmine.models.embedders import E5Embedder
    from vocmine.models.finetune import FineTunedClassifier

    texts = corpus_sentences(build_corpus(args.n))[0]
    # The whole graph, as exported before the trunk was shared (as for a model that reads no trunk).
    with (tempfile.TemporaryDirectory(prefix="vocmine-trunk-") as work,
          mock.patch.dict(os.environ, {e5_onnx.CACHE_ENV: work}), mock.patch.object(e5_trunk, "TRUNK_LAYERS", -1)):
        whole = FineTunedClassifier.load(ENCODER, backend="onnx-int8")
    top = FineTunedClassifier.load(ENCODER, backend="onnx-int8")
    assert top.reads_trunk_ and not whole.reads_trunk_
    embedder = E5Embedder(backend="onnx-int8")
    embedder.encode(texts[:4])  # load outside the timing
    trunks = e5_trunk.TRUNKS

    def prepare(name: str) -> None:
        """The embedder has just embedded the texts (states kept), or no state is kept (bottom graph)."""
        trunks.clear()
        if name == "top, states kept by the embedder":
            trunks.wanted = True
            embedder.encode(texts)

    def run(name: str) -> np.ndarray:
        return (whole if name == "whole graph" else top).logits(texts)

    routes = ["whole graph", "top, states kept by the embedder", "top, states from the bottom graph"]
    scores = {}
    for name in routes:  # also warms every session up
        prepare(name)
        scores[name] = run(name)
    seconds: dict[str, list[float]] = {name: [] for name in routes}
    for name in alternating(routes, args.repeats):
        prepare(name)
        start = time.perf_counter()
        run(name)
        seconds[name].append(round(time.perf_counter() - start, 3))
    embed_seconds: dict[str, list[float]] = {"keeping the states": [], "not keeping them": []}
    kept_bytes = 0
    for name in alternating(list(embed_seconds), args.repeats):
        trunks.clear()
        trunks.wanted = name == "keeping the states"
        start = time.perf_counter()
        embedder.encode(texts)
        embed_seconds[name].append(round(time.perf_counter() - start, 3))
        kept_bytes = max(kept_bytes, trunks.bytes)

    reference = scores["whole graph"]
    identity = {name: {"bit_identical": bool(np.array_equal(reference, got)),
                       "max_abs_difference": float(np.abs(reference - got).max())} for name, got in scores.items()}
    per_s = {name: round(len(texts) / float(np.median(runs)), 1) for name, runs in seconds.items()}
    result = {
        "benchmark": "trunk_sharing", "command": f"python benchmarks/trunk_sharing.py --n {args.n}",
        "sentences": len(texts), "encoder": "component.ft (models/weights/component_ft/e5_lora)",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_avg_1_5_15": os.getloadavg()},
        "scores_against_whole_graph": identity, "seconds": seconds, "sentences_per_s_median": per_s,
        "embedding_seconds": embed_seconds, "states_kept_mb": round(kept_bytes / 2**20, 1),
    }
    print(f"{len(texts)} sentences")
    for name in routes:
        print(f"  {name:36s} {seconds[name]} s, median {per_s[name]} sentences/s, "
              f"bit-identical to the whole graph: {identity[name]['bit_identical']}")
    for name, runs in embed_seconds.items():
        print(f"  embedding, {name:20s} {runs} s")
    print(f"  states kept for {len(texts)} sentences: {result['states_kept_mb']} MB")
    out = RESULTS / f"trunk_sharing_n{args.n}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("wrote", out)


if __name__ == "__main__":
    main()
