"""Report and export speed, HTML size and peak memory, on synthetic stores of growing size or on a real store.

Run on demand (not in CI):

    .venv/bin/python benchmarks/bench_report.py                      # synthetic: 500, 2,000, 10,000 responses
    .venv/bin/python benchmarks/bench_report.py --sizes 1000
    .venv/bin/python benchmarks/bench_report.py --store out/demo/vocmine.duckdb   # e.g. after `vocmine demo`

Synthetic stores come from tests/data/hostile/build.py (es/en responses with sentences, annotations,
themes, drivers and hostile verbatims). Each measurement runs in a fresh subprocess so peak RSS belongs to
that size alone. Prints a table and writes benchmarks/results/bench_report.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "bench_report.json"


def _builder():
    spec = importlib.util.spec_from_file_location("hostile_build", REPO / "tests" / "data" / "hostile" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(store_path: Path, out_dir: Path, label: str) -> dict:
    """Time each part of `build_report` on one store (opened read-only when it already exists)."""
    from vocmine.config import VocmineConfig
    from vocmine.pipelines.exports import export_tables
    from vocmine.pipelines.report import render_report
    from vocmine.pipelines.report_data import load_report_data
    from vocmine.store import Store

    config = VocmineConfig()
    row: dict = {"store": label}
    with Store(store_path, read_only=True) as store:
        row["responses"] = store.count("responses")
        row["sentences"] = store.count("sentences")
        row["themes"] = store.count("themes")
        started = time.perf_counter()
        data = load_report_data(store, config)
        row["load_s"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        html = render_report(data)
        row["render_s"] = round(time.perf_counter() - started, 3)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "report.html").write_text(html, encoding="utf-8")
        row["html_bytes"] = (out_dir / "report.html").stat().st_size
        row["sections"] = [s for s in ("overview", "trend", "root-causes", "emotions", "branches", "sellers",
                                       "emerging", "data-quality") if f'id="{s}"' in html]
        for fmt in ("csv", "parquet", "xlsx"):
            started = time.perf_counter()
            paths = export_tables(store, config, out_dir / "exports", formats=[fmt])
            row[f"{fmt}_s"] = round(time.perf_counter() - started, 3)
            row[f"{fmt}_bytes"] = sum(p.stat().st_size for p in paths)
    row["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return row


def one_synthetic(size: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="bench_report_"))
    try:
        from vocmine.store import Store

        started = time.perf_counter()
        with Store(work / "store.duckdb") as store:
            _builder().build_sample_store(store, n_responses=size, seed=0)
        build_s = round(time.perf_counter() - started, 2)
        row = measure(work / "store.duckdb", work / "out", f"synthetic {size}")
        row["fixture_build_s"] = build_s
        return row
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _subprocess(args: list[str]) -> dict:
    completed = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="*", default=[500, 2000, 10000])
    parser.add_argument("--store", type=Path, help="measure an existing store instead of synthetic ones")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--one-store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one_synthetic(args.one)))
        return
    if args.one_store is not None:
        out = Path(tempfile.mkdtemp(prefix="bench_report_store_"))
        print(json.dumps(measure(args.one_store, out, str(args.one_store)) | {"out": str(out)}))
        return
    rows = [_subprocess(["--one-store", str(args.store)])] if args.store else [
        _subprocess(["--one", str(size)]) for size in args.sizes
    ]
    columns = ["store", "responses", "sentences", "themes", "load_s", "render_s", "html_bytes", "csv_s", "parquet_s",
               "xlsx_s", "csv_bytes", "parquet_bytes", "xlsx_bytes", "peak_rss_mb"]
    print(" | ".join(columns))
    for row in rows:
        print(" | ".join(str(row.get(c, "")) for c in columns))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    key = "store" if args.store else "synthetic"
    previous[key] = {"rows": rows, "machine": platform.platform(), "python": platform.python_version(),
                     "measured_at": time.strftime("%Y-%m-%d %H:%M:%S")}
    RESULTS.write_text(json.dumps(previous, indent=2, ensure_ascii=False) + "\n")
    print(f"written {RESULTS}")


if __name__ == "__main__":
    main()
