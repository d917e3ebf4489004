"""Ingest throughput and peak memory on the demo's two real exports (Rest-Mex 2021, Booking Britannia).

Run on demand: ``.venv/bin/python benchmarks/bench_ingest.py``. Needs ../shared/data beside the repo.
Prints a table and writes benchmarks/results/ingest.json. Each source is ingested into a fresh store,
then re-ingested (the idempotent path: every row unchanged).
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from vocmine.pipelines.ingest import ingest_paths
from vocmine.pipelines.profiles import ProfileOverrides
from vocmine.pipelines.readers import read_table
from vocmine.store import Store

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data"
SOURCES = [
    (
        "restmex2021_es/train.csv",
        "review",
        ProfileOverrides(
            source="restmex", id_column="index", text_columns=["Title", "Opinion"], stars_column="Label",
            date_column="Date", branch_column="Place",
        ),
    ),
    ("booking_britannia/train.csv", "booking", None),
]


def main() -> int:
    rows = []
    for relative, profile, overrides in SOURCES:
        path = DATA / relative
        if not path.exists():
            print(f"missing {path}: run where ../shared/data exists", file=sys.stderr)
            return 1
        started = time.perf_counter()
        table = read_table(path)
        read_s = time.perf_counter() - started
        with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "bench.duckdb") as store:
            started = time.perf_counter()
            first = ingest_paths([path], store, profile, overrides)
            first_s = time.perf_counter() - started
            started = time.perf_counter()
            again = ingest_paths([path], store, profile, overrides)
            again_s = time.perf_counter() - started
        rows.append(
            {
                "file": relative, "profile": profile, "rows": len(table), "read_s": round(read_s, 3),
                "ingest_s": round(first_s, 3), "rows_per_s": round(first.rows_read / first_s, 1),
                "reingest_s": round(again_s, 3), "inserted": first.inserted, "rejected": first.rejected,
                "reingest_unchanged": again.unchanged,
            }
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    header = ["file", "profile", "rows", "read_s", "ingest_s", "rows_per_s", "reingest_s", "inserted", "rejected"]
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(str(row[h]) for h in header))
    print(f"peak RSS: {peak_mb:.0f} MB (PII redaction: whatever vocmine.nlp.pii provides)")
    out = REPO / "benchmarks" / "results" / "ingest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"sources": rows, "peak_rss_mb": round(peak_mb, 1)}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
