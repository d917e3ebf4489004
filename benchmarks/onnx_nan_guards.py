"""What dropping the attention softmax's NaN guards from the int8 exports changes: nothing in the outputs, the time.

Torch's exporter writes ``Where(IsNaN(p), 0, p)`` after each attention softmax; vocmine's exports drop it
(:func:`vocmine.models.e5_onnx.without_softmax_nan_guards`, graph revision g2). This script exports every e5
graph the stack runs twice into a temporary cache, with and without the guards: the base e5 and each shipped
fine-tuned encoder (sentiment.ft, emotion.ft, component.ft, the restaurant touchpoint heads). It checks that
their outputs are bit-identical on the speed benchmark's sentences (Rest-Mex 2022 es + Starbucks NYC en
responses, as ``bench_components.py``) and times the base e5 graph both ways, interleaved, on the same
sentences, by the wall clock and by ONNX Runtime's profiler (time inside the graph's kernels). Run on
demand (not in CI; needs ../shared/data; ~6 min for the exports, ~3 min for the timings):

    .venv/bin/python benchmarks/onnx_nan_guards.py --n 400

Prints the figures and writes benchmarks/results/onnx_nan_guards_n<N>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
WEIGHTS = REPO / "models" / "weights"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_components import corpus_sentences  # noqa: E402
from bench_end_to_end import build_corpus  # noqa: E402

#: The shipped fine-tuned encoders, each exported and checked both ways.
ENCODERS = ["sentiment_ft/e5_lora", "emotion_ft/e5_lora", "component_ft/e5_lora",
            "touchpoints/restaurant/e5_lora", "touchpoints/restaurant/e5_lora_2"]


def outputs(texts: list[str], cache: Path, guards: bool) -> dict[str, np.ndarray]:
    """Each graph's outputs on ``texts``, exported into ``cache`` with or without the NaN guards."""
    from vocmine.models import e5_onnx
    from vocmine.models.finetune import FineTunedClassifier

    # With guards: the exporter's graph as written; its files still carry today's revision in their names,
    # harmless in this temporary cache of their own.
    rewrite = (lambda model: model) if guards else e5_onnx.without_softmax_nan_guards
    with (mock.patch.dict(os.environ, {e5_onnx.CACHE_ENV: str(cache)}),
          mock.patch.object(e5_onnx, "without_softmax_nan_guards", rewrite)):
        e5_onnx.load_e5_onnx.cache_clear()
        try:
            got = {"e5 (base)": e5_onnx.embed_with_session(*e5_onnx.load_e5_onnx(), texts)}
            for encoder in ENCODERS:
                got[encoder] = FineTunedClassifier.load(WEIGHTS / encoder, backend="onnx-int8").logits(texts)
        finally:
            e5_onnx.load_e5_onnx.cache_clear()
    return got


def alternating(names: list[str], repeats: int) -> Iterator[str]:
    """``names`` ``repeats`` times, every other time in reverse order, so neither run always goes first."""
    for repeat in range(repeats):
        yield from (names if repeat % 2 == 0 else reversed(names))


def interleaved_seconds(texts: list[str], paths: dict[str, Path], repeats: int,
                        tokenizer) -> dict[str, list[float]]:  # noqa: ANN001 - an E5Tokenizer
    """Seconds to embed ``texts`` with each base export, the two runs alternating in order, ``repeats`` times."""
    from vocmine.models.e5_onnx import embed_with_session, open_session

    sessions = {name: open_session(path) for name, path in paths.items()}
    for session in sessions.values():
        embed_with_session(session, tokenizer, texts[:200])  # warm up
    seconds: dict[str, list[float]] = {name: [] for name in sessions}
    for name in alternating(list(sessions), repeats):
        start = time.perf_counter()
        embed_with_session(sessions[name], tokenizer, texts)
        seconds[name].append(round(time.perf_counter() - start, 3))
    return seconds


def kernel_seconds(texts: list[str], path: Path, tokenizer) -> float:  # noqa: ANN001 - an E5Tokenizer
    """Seconds ONNX Runtime's profiler counts inside the graph's kernels while ``path`` embeds ``texts``: less
    noisy on a shared machine than the wall clock (no Python, no waiting for a core)."""
    from vocmine.models.e5_onnx import embed_with_session, open_session

    session = open_session(path, profile_prefix=str(path.parent / "profile"))
    embed_with_session(session, tokenizer, texts)
    profile = Path(session.end_profiling())
    events = json.loads(profile.read_text(encoding="utf-8"))
    profile.unlink()
    return sum(e["dur"] for e in events if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=400, help="responses of the speed benchmark's corpus")
    parser.add_argument("--repeats", type=int, default=6, help="timed runs of each base export")
    args = parser.parse_args()
    from vocmine.models import e5_onnx
    from vocmine.models.e5_torch import E5Tokenizer, read_e5_file

    texts = corpus_sentences(build_corpus(args.n))[0]
    with tempfile.TemporaryDirectory(prefix="vocmine-nan-guards-") as work:
        caches = {"with guards": Path(work) / "guarded", "without guards (g2)": Path(work) / "lean"}
        got = {name: outputs(texts, cache, guards=name == "with guards") for name, cache in caches.items()}
        # By name: component.ft's top graph also cuts a bottom graph (e5-small-bottom6-...) into each cache.
        base_name = e5_onnx.onnx_model_path().name
        base_files = {name: cache / "models" / base_name for name, cache in caches.items()}
        tokenizer = E5Tokenizer(read_e5_file(tensors=False))
        seconds = interleaved_seconds(texts, base_files, args.repeats, tokenizer)
        kernels: dict[str, list[float]] = {name: [] for name in base_files}
        for name in alternating(list(base_files), 3):
            kernels[name].append(round(kernel_seconds(texts, base_files[name], tokenizer), 3))

    guarded, lean = got["with guards"], got["without guards (g2)"]
    identity = {graph: {"bit_identical": bool(np.array_equal(guarded[graph], lean[graph])),
                        "max_abs_difference": float(np.abs(guarded[graph] - lean[graph]).max())}
                for graph in guarded}
    medians = {name: float(np.median(runs)) for name, runs in seconds.items()}
    ratios = [b / a for a, b in zip(seconds["with guards"], seconds["without guards (g2)"], strict=True)]
    result = {
        "benchmark": "onnx_nan_guards", "command": f"python benchmarks/onnx_nan_guards.py --n {args.n}",
        "sentences": len(texts),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_avg_1_5_15": os.getloadavg()},
        "outputs": identity,
        "base_e5_seconds": seconds,
        "base_e5_sentences_per_s_median": {name: round(len(texts) / s, 1) for name, s in medians.items()},
        "time_ratio_without_to_with_median": round(float(np.median(ratios)), 3),
        "base_e5_kernel_seconds": kernels,
        "kernel_ratio_without_to_with_median": round(float(np.median(kernels["without guards (g2)"])
                                                           / np.median(kernels["with guards"])), 3),
    }
    print(f"{len(texts)} sentences")
    for graph, figures in identity.items():
        print(f"  {graph:34s} bit-identical: {figures['bit_identical']}  max |diff| {figures['max_abs_difference']}")
    for name, runs in seconds.items():
        print(f"  base e5 {name:20s} {runs} s, median {len(texts) / medians[name]:.1f} sentences/s")
    print(f"  time without / with guards, median of paired runs: {result['time_ratio_without_to_with_median']}")
    for name, runs in kernels.items():
        print(f"  base e5 {name:20s} kernel seconds (ONNX Runtime's profiler) {runs}")
    print(f"  kernel time without / with guards, medians: {result['kernel_ratio_without_to_with_median']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"onnx_nan_guards_n{args.n}.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
