"""Seconds and memory of each phase of the corpus-wide steps (themes, KPIs, drivers) on an existing store.

The stream benchmark (``bench_end_to_end.py --parts stream``) reports one peak RSS for a whole 100k run;
this one says which phase makes it, on a store kept by ``bench_end_to_end.py --keep DIR``. ``--replicate K``
first copies the store's responses, answers, sentences and annotations K times with suffixed ids (same
texts, so no new embeddings), which turns a 10,000-response store into a 100,000-response one in seconds.

    .venv/bin/python benchmarks/bench_end_to_end.py --n 10000 --parts stream --unique 10000 --keep /tmp/s10k
    .venv/bin/python benchmarks/bench_final_steps.py /tmp/s10k/stream.duckdb --replicate 10

RSS is sampled every 50 ms in a thread (``/proc/self/statm``); "peak" is the highest sample within the phase.
``--skip-themes`` keeps the store's themes (a store kept by the stream has them) and measures KPIs and
drivers only, in minutes. ``--detail`` also times the functions inside building themes and drivers
(calls, seconds, RSS before each call and the highest rise within one call), which says whether
clustering, labels, the frames or the DuckDB reads hold the memory.
``--warm-models CORPUS`` first runs the per-text steps on 300 responses of CORPUS (the ``corpus.parquet``
kept beside the store), so the phases start from a process holding the models, as the end of a stream of
batches does, and releases them as ``analyze_store`` does at this size.
Writes ``benchmarks/results/bench_final_steps_<responses>[_warm].json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
ID_COLUMNS = {"response_id", "answer_id", "sentence_id", "target_id"}
REPLICATED_TABLES = ("responses", "answers", "sentences", "annotations")


def replicate(source: Path, target: Path, times: int) -> None:
    """``times`` copies of every response (ids suffixed ``~k``), through DuckDB; embeddings are shared."""
    import duckdb

    shutil.copyfile(source, target)
    con = duckdb.connect(str(target))
    try:
        columns = {
            table: [row[0] for row in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [table],
            ).fetchall()]
            for table in REPLICATED_TABLES
        }
        for copy in range(1, times):
            for table, names in columns.items():
                select = ", ".join(f"{name} || '~{copy}'" if name in ID_COLUMNS else f'"{name}"' for name in names)
                con.execute(f"INSERT INTO {table} SELECT {select} FROM {table} "
                            f"WHERE NOT contains(COALESCE({names[0]}, ''), '~')")
    finally:
        con.close()


class RssSampler:
    """Current and peak resident memory of this process, sampled in a daemon thread."""

    def __init__(self) -> None:
        self.peak = self.current()
        self.open_calls: list[list[float]] = []  # [highest sample] of each watched call in progress
        threading.Thread(target=self._run, daemon=True).start()

    @staticmethod
    def current() -> float:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    def _run(self) -> None:
        while True:
            now = self.current()
            self.peak = max(self.peak, now)
            for call in list(self.open_calls):
                call[0] = max(call[0], now)
            time.sleep(0.05)

    def phase(self, phases: list[dict], name: str, started: float, **extra: object) -> float:
        time.sleep(0.1)
        row = {"phase": name, "seconds": round(time.perf_counter() - started, 1),
               "rss_mb": round(self.current()), "peak_mb": round(self.peak), **extra}
        phases.append(row)
        print(f"{name:<20} {row['seconds']:>8} s  rss {row['rss_mb']:>6} MB  peak {row['peak_mb']:>6} MB  {extra}",
              flush=True)
        self.peak = self.current()
        return time.perf_counter()


def watch(sampler: RssSampler, module: object, name: str, stats: dict[str, dict]) -> None:
    """Wrap ``module.name`` so each call records its seconds, the RSS before it and its highest rise."""
    function = getattr(module, name)

    def timed(*args: object, **kwargs: object) -> object:
        before = sampler.current()
        call = [before]
        sampler.open_calls.append(call)
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            sampler.open_calls[:] = [c for c in sampler.open_calls if c is not call]
            row = stats.setdefault(name, {"calls": 0, "seconds": 0.0, "max_rss_before_mb": 0, "max_rise_mb": 0})
            row["calls"] += 1
            row["seconds"] = round(row["seconds"] + time.perf_counter() - started, 1)
            row["max_rss_before_mb"] = max(row["max_rss_before_mb"], round(before))
            row["max_rise_mb"] = max(row["max_rise_mb"], round(max(call[0], sampler.current()) - before))

    setattr(module, name, timed)


def build_themes(store: object, config: object, sampler: RssSampler, rows: list[dict], started: float) -> float:
    """The themes step's phases as ``refresh_themes`` runs them: input, vectors, phrase embedder, clustering."""
    from vocmine.models.embedders import embed_cached, phrase_embedder, resolve_embedder
    from vocmine.pipelines import topics

    sentences, total = topics.load_theme_input(store, polarities=topics.POLARITIES)
    started = sampler.phase(rows, "theme input", started, rows=len(sentences))
    embeddings = topics._store_embeddings(sentences, store, config)
    store.release_memory()  # as refresh_themes does
    started = sampler.phase(rows, "vectors", started, distinct=int(embeddings.matrix.shape[0]))
    embedder = phrase_embedder(resolve_embedder(config.analysis.embedder))  # as refresh_themes does
    embedder.encode(["warm-up: the model loads here, not inside the themes phase"])
    started = sampler.phase(rows, "embedder loaded", started)
    result = topics.build_themes(sentences, embeddings, config,
                                 embed_phrases=lambda phrases: embed_cached(phrases, embedder, store),
                                 total_respondents=total)
    started = sampler.phase(rows, "build_themes", started, themes=len(result.themes))
    del sentences, embeddings, result
    store.release_memory()  # as analyze_store does after each step
    return started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--replicate", type=int, default=1, help="copies of every response (1: the store as is)")
    parser.add_argument("--detail", action="store_true",
                        help="also time the functions inside building themes and drivers")
    parser.add_argument("--skip-themes", action="store_true",
                        help="keep the store's themes and measure KPIs and drivers only")
    parser.add_argument("--warm-models", type=Path, metavar="CORPUS",
                        help="first run the per-text steps on 300 responses of this file (the kept "
                             "corpus.parquet), so the models are loaded as in a stream of batches")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vocmine-bench-final-"))
    store_path = work / "store.duckdb"
    if args.replicate > 1:
        replicate(args.store, store_path, args.replicate)
    else:
        shutil.copyfile(args.store, store_path)

    sampler = RssSampler()
    rows: list[dict] = []
    started = time.perf_counter()
    import torch

    torch.set_num_threads(2)
    from vocmine.config import VocmineConfig
    from vocmine.pipelines import drivers, theme_labels, topics
    from vocmine.pipelines.kpis import write_kpis
    from vocmine.store import Store

    detail: dict[str, dict] = {}
    if args.detail:
        for name in ("_prepare", "cluster_texts", "_cluster_group", "_label_group", "_verbatims"):
            watch(sampler, topics, name, detail)
        for name in ("theme_phrase_stats", "choose_label"):
            watch(sampler, theme_labels, name, detail)
        for name in ("_driver_responses", "load_mentions", "compute_drivers", "nps_impact", "driver_strength"):
            watch(sampler, drivers, name, detail)
    started = sampler.phase(rows, "imports", started)
    from vocmine.models.loaded import release_models
    from vocmine.pipelines.analyze import CORPUS_WIDE_STEPS, RELEASE_MODELS_AT_RESPONSES

    if args.warm_models:
        import pandas as pd

        import vocmine

        per_text_steps = [s for s in VocmineConfig().analysis.steps if s not in CORPUS_WIDE_STEPS]
        vocmine.analyze(pd.read_parquet(args.warm_models).head(300), store=work / "warm.duckdb",
                        steps=per_text_steps)
        started = sampler.phase(rows, "per-text models", started)
    config = VocmineConfig().model_copy(update={"store": store_path})
    with Store(store_path) as store:
        responses = store.count("responses")
        release = responses >= RELEASE_MODELS_AT_RESPONSES  # as analyze_store does before these steps
        if release:
            release_models()
        if not args.skip_themes:
            started = build_themes(store, config, sampler, rows, started)
        write_kpis(store, config)
        started = sampler.phase(rows, "kpis", started)
        store.release_memory()
        drivers.write_drivers(store, config)
        sampler.phase(rows, "drivers", started)
    for name, row in detail.items():
        print(f"  {name:<20} {row}", flush=True)
    shutil.rmtree(work, ignore_errors=True)
    suffix = ("_warm" if args.warm_models else "") + ("_kpis_drivers" if args.skip_themes else "")
    out = RESULTS / f"bench_final_steps_{responses}{suffix}.json"
    RESULTS.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"benchmark": "bench_final_steps", "responses": responses,
                               "replicate": args.replicate, "phases": rows, "inside_phases": detail,
                               "peak_mb": max(r["peak_mb"] for r in rows)}, indent=2), encoding="utf-8")
    print(f"wrote {out.relative_to(REPO)}")


if __name__ == "__main__":
    main()
