"""The ``vocmine-pipeline`` flow: ingest -> analyze -> report, one thin task per stage.

Each task opens the store, calls the same plain function the CLI calls, and returns plain counts; no
logic lives here. With no Prefect server configured the flow runs as a plain script (Prefect starts a
temporary local API on 127.0.0.1); with ``PREFECT_API_URL`` set it reports to that server.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from vocmine.flows.settings import configure_prefect_defaults

configure_prefect_defaults()

from prefect import flow, get_run_logger, task  # noqa: E402

from vocmine.config import VocmineConfig, load_config  # noqa: E402
from vocmine.store import Store  # noqa: E402


def _sample_dir() -> Path:
    """The bundled sample, in a checkout (repo/vocmine/data/sample) or an installed wheel."""
    from importlib.resources import files

    return Path(str(files("vocmine") / "data" / "sample"))


@task(name="ingest", retries=2, retry_delay_seconds=[2, 10])
def ingest_task(sources: list[dict[str, Any]], config: VocmineConfig) -> dict[str, Any]:
    """Ingest each group of files with its profile. Retried: file systems and locks fail transiently."""
    from vocmine.pipelines.ingest import ingest_paths
    from vocmine.pipelines.profiles import ProfileOverrides, load_profile

    logger = get_run_logger()
    totals = {"rows_read": 0, "inserted": 0, "updated": 0, "unchanged": 0, "rejected": 0, "rejects": []}
    with Store(config.store) as store:
        for spec in sources:
            report = ingest_paths(
                [Path(p) for p in spec["paths"]],
                store,
                profile=load_profile(spec.get("profile", "review")),
                overrides=ProfileOverrides(**spec.get("overrides", {})),
            )
            for key in ("rows_read", "inserted", "updated", "unchanged", "rejected"):
                totals[key] += getattr(report, key)
            if report.rejects_path:
                totals["rejects"].append(str(report.rejects_path))
        totals["responses"] = store.count("responses")
    logger.info("ingest: %s", totals)
    return totals


@task(name="analyze", retries=1, retry_delay_seconds=5)
def analyze_task(config: VocmineConfig, steps: list[str] | None = None) -> dict[str, Any]:
    """Analyse what is new; a retry resumes where the failed attempt stopped (the store is the cache)."""
    from vocmine.pipelines.analyze import analyze_store

    with Store(config.store) as store:
        report = analyze_store(store, config, steps=steps)
    get_run_logger().info("analyze: %s", report.steps)
    return {"run_id": report.run_id, "steps": report.steps, "seconds": report.seconds}


@task(name="report", retries=1, retry_delay_seconds=5)
def report_task(config: VocmineConfig, out_dir: Path) -> dict[str, Any]:
    from vocmine.pipelines.report import build_report

    with Store(config.store) as store:
        result = build_report(store, config, out_dir)
    return {"report": str(result.html_path), "exports": str(out_dir / "exports")}


@flow(name="vocmine-pipeline", log_prints=False)
def vocmine_pipeline(
    sources: list[dict[str, Any]],
    out_dir: str,
    config_path: str | None = None,
    store_path: str | None = None,
    steps: list[str] | None = None,
) -> dict[str, Any]:
    """Ingest ``sources`` (each ``{"paths": [...], "profile": name, "overrides": {...}}``), analyse, report."""
    config = load_config(config_path)
    if store_path:
        config = config.model_copy(update={"store": Path(store_path)})
    ingested = ingest_task(sources, config)
    analysed = analyze_task(config, steps)
    reported = report_task(config, Path(out_dir))
    return {"ingest": ingested, "analyze": analysed, **reported, "store": str(config.store)}


#: The demo's sources: each bundled file with the profile that maps its columns.
DEMO_SOURCES = [
    ("restmex2021_es.csv", "restmex2021_es.toml"),
    ("booking_britannia_en.csv", "booking_britannia_en.toml"),
    ("starbucks_nyc_en.csv", "starbucks_nyc_en.toml"),
]


def run_demo(out: Path, limit: int | None = None, steps: list[str] | None = None) -> dict[str, Any]:
    """Run the flow on the bundled sample into ``out`` (store, report, exports); returns where they are."""
    import pandas as pd

    out = Path(out).resolve()
    inputs = out / "input"
    inputs.mkdir(parents=True, exist_ok=True)
    sample = _sample_dir()
    sources = []
    for data_name, profile_name in DEMO_SOURCES:
        target = inputs / data_name
        if limit is None:
            shutil.copyfile(sample / data_name, target)
        else:
            frame = pd.read_csv(sample / data_name, dtype=str, keep_default_na=False)
            frame.head(limit).to_csv(target, index=False)
        sources.append({"paths": [str(target)], "profile": str(sample / profile_name)})
    store_path = out / "vocmine.duckdb"
    result = vocmine_pipeline(sources=sources, out_dir=str(out), store_path=str(store_path), steps=steps)
    ingest = result["ingest"]
    return {
        "store": store_path,
        "report": result["report"],
        "exports": result["exports"],
        "responses": ingest["responses"],
        "rejected": ingest["rejected"],
        "rejects": ", ".join(ingest["rejects"]) or "-",
        "analyze seconds": round(sum(result["analyze"]["seconds"].values()), 1),
    }
