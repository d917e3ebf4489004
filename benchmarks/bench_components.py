"""Throughput of each part of the analysis on real es+en responses, and a profile of the slowest one.

Run on demand (not in CI; needs ../shared/data):

    .venv/bin/python benchmarks/bench_components.py --n 300
    .venv/bin/python benchmarks/bench_components.py --n 300 --profile    # + cProfile of the whole analyze
    .venv/bin/python benchmarks/bench_components.py --umap-jit           # UMAP's compile cost per process
    VOCMINE_E5_BACKEND=engine .venv/bin/python benchmarks/bench_components.py --n 300 --skip-pipeline

Two views of the same responses (see bench_end_to_end.build_corpus: half Rest-Mex 2022 es, half Starbucks
NYC en):
1. isolated: sentences split with vocmine's rules, embedded once with e5 ("query:"), then each registered
   annotator's ``annotate`` over those vectors (with each sentence's context for those that read it):
   sentences/s per component;
2. in the pipeline: ``vocmine.analyze`` in a fresh store, per-step seconds from the store's ``runs`` table
   (the first annotator step pays for the embeddings), then ``Analysis.report``: responses/s per step.

With ``--profile`` the ``analyze`` call runs under cProfile and the 30 most expensive functions (cumulative)
are written next to the JSON. Prints tables and writes benchmarks/results/bench_components_n<N>_<backend>.json
(backend: the e5 backend of the run, ``$VOCMINE_E5_BACKEND``).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import platform
import pstats
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_end_to_end import build_corpus, step_seconds  # noqa: E402

#: ``--accurate``: the fine-tuned variants (each reads the text through its own encoder) and the restaurant
#: taxonomy, whose auto head blends two fine-tuned heads with the linear and lexical heads.
ACCURATE = {"sentiment": ("vocmine.sentiment.ft", {}), "emotion": ("vocmine.emotion.ft", {}),
            "component": ("vocmine.component.ft", {}),
            "touchpoint": ("vocmine.touchpoint.v1", {"taxonomy": "restaurant"})}


def corpus_sentences(corpus) -> tuple[list[str], list[str], list[tuple[int, int]]]:  # noqa: ANN001 - a DataFrame
    """The corpus' sentences split with vocmine's rules, in reading order: texts, languages and each one's
    answer as (response row, 0 for the title / 1 for the text)."""
    from vocmine.nlp.sentences import split_sentences

    texts, languages, answers = [], [], []
    for row, (title, text, language) in enumerate(zip(corpus["title"], corpus["text"], corpus["language"],
                                                      strict=True)):
        for part, answer in enumerate((title, text)):
            for span in split_sentences(answer, language):
                texts.append(span.text)
                languages.append(language)
                answers.append((row, part))
    return texts, languages, answers


def isolated(corpus, accurate: bool = False) -> list[dict]:  # noqa: ANN001 - a pandas DataFrame
    """Sentences/s of embedding and of each annotator, on the corpus' sentences."""
    from vocmine import registry
    from vocmine.config import VocmineConfig
    from vocmine.models.context import annotate_in_context
    from vocmine.models.embedders import resolve_embedder
    from vocmine.nlp.language import detect_languages
    from vocmine.nlp.sentences import split_sentences

    rows = []
    # Load spaCy's pipelines and the language model outside the timing, as the embedder and heads below.
    for language in ("es", "en"):
        split_sentences("Una frase. Otra frase.", language)
    detect_languages(["Una frase corta.", "A short sentence."])
    started = time.perf_counter()
    texts, languages, answers = corpus_sentences(corpus)
    seconds = time.perf_counter() - started
    rows.append({"component": "split_sentences", "items": len(corpus), "seconds": round(seconds, 3),
                 "per_sentence_stack": True})
    started = time.perf_counter()
    detect_languages(texts)
    rows.append({"component": "language id (per sentence)", "items": len(texts),
                 "seconds": round(time.perf_counter() - started, 3), "per_sentence_stack": True})
    embedder = resolve_embedder(VocmineConfig().analysis.embedder)
    vectors = embedder.encode(texts[:4])  # load the model outside the timing
    # Every annotator is loaded before the texts are embedded, as `vocmine classify` and the REST service
    # load their stack: fine-tuned models that share e5's bottom layers then find them (models/e5_trunk.py).
    annotators = {}
    for task, name in VocmineConfig().analysis.annotators.items():
        name, params = ACCURATE.get(task, (name, {})) if accurate else (name, {})
        annotators[task] = name, registry.create("annotator", name, **params)
        annotators[task][1].annotate(texts[:4], vectors, languages[:4])  # load weights outside the timing
    started = time.perf_counter()
    vectors = embedder.encode(texts)
    rows.append({"component": f"embed {embedder.name}", "items": len(texts),
                 "seconds": round(time.perf_counter() - started, 3), "per_sentence_stack": True})
    for task, (name, annotator) in annotators.items():
        started = time.perf_counter()
        # Sentiment reads each sentence's neighbours in its answer (models/context.py): their cost is timed.
        annotate_in_context(annotator, texts, vectors, languages, answers)
        rows.append({"component": f"{task} {name}", "items": len(texts),
                     "seconds": round(time.perf_counter() - started, 3), "per_sentence_stack": True})
    # The whole per-sentence stack: split, language, one embedding per sentence shared by every annotator.
    rows.append({"component": "per-sentence stack (all of the above)", "items": len(texts),
                 "seconds": round(sum(r["seconds"] for r in rows if r.get("per_sentence_stack")), 3)})
    for row in rows:
        row["items_per_s"] = round(row["items"] / row["seconds"], 1) if row["seconds"] else None
    return rows


def in_pipeline(corpus, profile_to: Path | None) -> tuple[list[dict], str]:  # noqa: ANN001
    """Responses/s of each analyze step and of the report, from one fresh analyze run."""
    import vocmine

    work = Path(tempfile.mkdtemp(prefix="vocmine-bench-components-"))
    store = work / "vocmine.duckdb"
    profiler = cProfile.Profile() if profile_to else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    analysis = vocmine.analyze(corpus, store=store)
    if profiler:
        profiler.disable()
    total = time.perf_counter() - started
    rows = [{"component": f"step {name}", "items": len(corpus), "seconds": seconds}
            for name, seconds in step_seconds(store).items()]
    rows.append({"component": "analyze total (ingest + steps)", "items": len(corpus), "seconds": round(total, 2)})
    started = time.perf_counter()
    analysis.report(work / "report")
    rows.append({"component": "report + exports", "items": len(corpus),
                 "seconds": round(time.perf_counter() - started, 2)})
    for row in rows:
        row["items_per_s"] = round(row["items"] / row["seconds"], 1) if row["seconds"] else None
    text = ""
    if profiler:
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("cumulative").print_stats(30)
        text = buffer.getvalue()
        profile_to.write_text(text, encoding="utf-8")
    return rows, text


_UMAP_PROBE = """
import json, sys, time
import numpy as np
started = time.perf_counter()
import umap
imported = time.perf_counter()
X = np.random.default_rng(0).normal(size=(300, 384)).astype(np.float32)
times = []
for _ in range(2):
    t = time.perf_counter()
    umap.UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42).fit_transform(X)
    times.append(time.perf_counter() - t)
print(json.dumps({"import_s": round(imported - started, 2), "first_fit_s": round(times[0], 2),
                  "second_fit_s": round(times[1], 2)}))
"""


def umap_jit_cost(runs: int = 2) -> list[dict]:
    """UMAP's first fit in a fresh process (numba compiles it; the themes step pays this in every new
    process) against a second fit in the same process, on 300 x 384 points; with and without NUMBA_CACHE_DIR."""
    import subprocess
    import warnings

    warnings.filterwarnings("ignore")
    rows = []
    cache = Path(tempfile.mkdtemp(prefix="numba-cache-"))
    for label, extra in (("no cache dir", {}), ("NUMBA_CACHE_DIR", {"NUMBA_CACHE_DIR": str(cache)})):
        for attempt in range(runs):
            done = subprocess.run([sys.executable, "-W", "ignore", "-c", _UMAP_PROBE], capture_output=True,
                                  text=True, env={**os.environ, **extra}, check=True)
            rows.append({"setting": label, "process": attempt + 1, **json.loads(done.stdout.strip().splitlines()[-1])})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=300, help="responses (half es, half en)")
    parser.add_argument("--profile", action="store_true", help="cProfile the analyze call")
    parser.add_argument("--skip-isolated", action="store_true")
    parser.add_argument("--skip-pipeline", action="store_true", help="only the isolated components")
    parser.add_argument("--umap-jit", action="store_true", help="only measure UMAP's per-process compile cost")
    parser.add_argument("--accurate", action="store_true",
                        help="isolated stack with the fine-tuned variants (sentiment.ft, emotion.ft, restaurant head)")
    args = parser.parse_args()
    if args.umap_jit:
        rows = umap_jit_cost()
        for row in rows:
            print(row)
        RESULTS.mkdir(parents=True, exist_ok=True)
        out = RESULTS / "umap_jit_cost.json"
        out.write_text(json.dumps({"benchmark": "bench_components --umap-jit", "load_avg_1_5_15": os.getloadavg(),
                                   "rows": rows}, indent=2), encoding="utf-8")
        print(f"wrote {out.relative_to(REPO)}")
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    torch.set_num_threads(2)
    corpus = build_corpus(args.n)
    rows = [] if args.skip_isolated else isolated(corpus, args.accurate)
    RESULTS.mkdir(parents=True, exist_ok=True)
    profile_path = RESULTS / f"profile_analyze_n{args.n}.txt" if args.profile else None
    pipeline_rows = [] if args.skip_pipeline else in_pipeline(corpus, profile_path)[0]
    print(f"\n{'component':<44} {'items':>8} {'seconds':>9} {'items/s':>9}")
    for row in rows + pipeline_rows:
        print(f"{row['component']:<44} {row['items']:>8} {row['seconds']:>9} {row['items_per_s']!s:>9}")
    result = {
        "benchmark": "bench_components",
        "command": " ".join([Path(sys.executable).name, "benchmarks/bench_components.py", *sys.argv[1:]]),
        "n": args.n,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_avg_1_5_15": os.getloadavg()},
        "isolated": rows,
        "pipeline": pipeline_rows,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "profile": str(profile_path.relative_to(REPO)) if profile_path else None,
    }
    from vocmine.models.embedders import default_e5_backend
    from vocmine.models.finetune import inference_backend

    # The accurate run also names the fine-tuned encoders' backend ($VOCMINE_FT_BACKEND).
    accurate = f"_accurate_ft-{inference_backend()}" if args.accurate else ""
    result["fine_tuned_backend"] = inference_backend() if args.accurate else None
    out = RESULTS / f"bench_components_n{args.n}_{default_e5_backend()}{accurate}.json"
    out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
