"""Dask scale-out on the bundled demo sample: same annotations as the single-process run?

    .venv/bin/python benchmarks/check_dask_demo.py [--workers 2] [--limit N]

Runs the `vocmine-folder-pipeline` flow twice over the same copy of the sample (each CSV with its profile
TOML beside it) into two fresh stores — once plain, once with `--dask local:N` — and compares every
annotation (target, level, task, label, scores). Prints the counts and writes
benchmarks/results/dask_demo.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import duckdb
import pandas as pd

from vocmine.flows.settings import configure_prefect_defaults

configure_prefect_defaults()

from vocmine.flows.incremental import vocmine_folder_pipeline  # noqa: E402
from vocmine.flows.pipeline import DEMO_SOURCES, _sample_dir  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "dask_demo.json"


def _annotations(store: Path) -> pd.DataFrame:
    con = duckdb.connect(str(store), read_only=True)
    frame = con.execute(
        "SELECT target_id, level, task, label, scores, skip_reason FROM annotations ORDER BY 1, 2, 3"
    ).df()
    con.close()
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="first N rows of each sample file")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vocmine-dask-"))
    inbox = work / "inbox"
    inbox.mkdir()
    for data_name, profile_name in DEMO_SOURCES:
        frame = pd.read_csv(_sample_dir() / data_name, dtype=str, keep_default_na=False)
        frame.head(args.limit or len(frame)).to_csv(inbox / data_name, index=False)
        shutil.copyfile(_sample_dir() / profile_name, inbox / Path(data_name).with_suffix(".toml").name)
    time.sleep(6)  # older than ingest-folder's settle time
    steps = ["language", "sentences", "nps_status", "sentiment", "emotion", "component", "touchpoint"]
    seconds = {}
    for mode, dask in (("plain", None), ("dask", f"local:{args.workers}")):
        started = time.perf_counter()
        vocmine_folder_pipeline(str(inbox), str(work / f"out_{mode}"), store_path=str(work / f"{mode}.duckdb"),
                                steps=steps, dask=dask, settle_seconds=5.0)
        seconds[mode] = round(time.perf_counter() - started, 1)
    plain, dasked = _annotations(work / "plain.duckdb"), _annotations(work / "dask.duckdb")
    merged = plain.merge(dasked, on=["target_id", "level", "task"], how="outer", suffixes=("_plain", "_dask"),
                         indicator=True)
    same_rows = int((merged["_merge"] == "both").sum())
    same_labels = int(((merged["label_plain"] == merged["label_dask"]) |
                       (merged["label_plain"].isna() & merged["label_dask"].isna())).sum())
    same_scores = int((merged["scores_plain"] == merged["scores_dask"]).sum())
    result = {
        "annotations_plain": len(plain), "annotations_dask": len(dasked), "in_both": same_rows,
        "same_label": same_labels, "same_scores": same_scores, "workers": args.workers,
        "seconds": seconds, "limit": args.limit,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    for key, value in result.items():
        print(f"{key:>20}  {value}")


if __name__ == "__main__":
    main()
