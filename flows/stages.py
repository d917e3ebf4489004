"""The plain functions behind the incremental flows: each opens nothing, takes a store, and is safe to kill.

The Prefect flows in :mod:`vocmine.flows.incremental` are thin wrappers over these; a script or a test can
call them without Prefect (the kill-and-rerun test does, in a subprocess it kills with SIGKILL). Every
write goes through one store transaction per file or per batch, so a kill leaves whole files and whole
batches or nothing; "what is left to do" is always read back from the store, so a rerun resumes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from vocmine.config import VocmineConfig
from vocmine.flows.batches import Compute, annotate_pending, compute_locally
from vocmine.flows.folder import profile_for, scan_folder
from vocmine.store import Store

logger = logging.getLogger(__name__)

#: Steps of the analyze stage that need no model and run in the flow's own process.
PREPARE_STEPS = ("language", "sentences", "nps_status")
#: Steps that summarise the whole store: rerun only when something changed since they last completed.
REFRESH_STEPS = ("themes", "kpis", "drivers")


def ingest_new_files(
    store: Store, folder: Path, profile: str = "review", settle_seconds: float = 5.0
) -> dict[str, Any]:
    """Ingest the folder's new or changed, stable files (a profile TOML beside a file wins)."""
    from vocmine.pipelines.ingest import ingest_paths

    scan = scan_folder(Path(folder), store, settle_seconds)
    totals: dict[str, Any] = {"files_seen": len(scan.new) + len(scan.unchanged) + len(scan.unstable),
                              "files_ingested": 0, "files_unchanged": len(scan.unchanged),
                              "files_unstable": len(scan.unstable), "inserted": 0, "updated": 0, "rejected": 0}
    for path in scan.new:
        report = ingest_paths([path], store, profile=profile_for(path, profile))
        totals["files_ingested"] += report.files
        totals["inserted"] += report.inserted
        totals["updated"] += report.updated
        totals["rejected"] += report.rejected
    totals["responses"] = store.count("responses")
    return totals


def split_steps(config: VocmineConfig, steps: list[str] | None) -> tuple[list[str], list[str], list[str]]:
    """(prepare steps, annotator tasks, refresh steps) of ``steps`` (default: the config's), in order."""
    names = list(steps if steps is not None else config.analysis.steps)
    prepare = [n for n in names if n in PREPARE_STEPS]
    annotators = [n for n in names if n in config.analysis.annotators]
    refresh = [n for n in names if n in REFRESH_STEPS]
    return prepare, annotators, refresh


def prepare_new(store: Store, config: VocmineConfig, steps: list[str]) -> dict[str, Any]:
    """Language, sentences and NPS class of what has none yet (the analyze stage's own steps)."""
    from vocmine.pipelines.analyze import analyze_store

    if not steps:
        return {"steps": {}, "seconds": {}}
    report = analyze_store(store, config, steps=steps)
    return {"steps": report.steps, "seconds": report.seconds}


def annotate_new(
    store: Store, config: VocmineConfig, tasks: list[str], compute: Compute = compute_locally
) -> dict[str, Any]:
    """Run each annotator over the sentences it has not labelled yet, batch by batch through ``compute``."""
    import time

    result: dict[str, Any] = {"steps": {}, "seconds": {}}
    if not tasks:
        return result
    run_id = store.start_run("analyze-new")
    try:
        for task in tasks:
            started = time.perf_counter()
            result["steps"][task] = annotate_pending(store, config, task, run_id, compute)
            result["seconds"][task] = round(time.perf_counter() - started, 2)
    except BaseException:
        store.finish_run(run_id, "failed", result)
        raise
    store.finish_run(run_id, "completed", result)
    return result


def _last_completed(store: Store, stage: str) -> Any:
    return store.scalar("SELECT max(started_at) FROM runs WHERE stage = ? AND status = 'completed'", [stage])


def needs_refresh(store: Store) -> bool:
    """True when anything was ingested or annotated after the last completed refresh started."""
    last = _last_completed(store, "refresh")
    if last is None:
        return True
    newer = store.scalar(
        "SELECT (SELECT count(*) FROM sources WHERE ingested_at > ?) + "
        "(SELECT count(*) FROM annotations WHERE created_at > ?)",
        [last, last],
    )
    return bool(newer)


def refresh_summaries(store: Store, config: VocmineConfig, steps: list[str], force: bool = False) -> dict[str, Any]:
    """Themes, KPIs and drivers, when something changed since they last completed (or ``force``)."""
    from vocmine.pipelines.analyze import analyze_store

    if not force and not needs_refresh(store):
        return {"refreshed": False, "steps": {}, "seconds": {}}
    run_id = store.start_run("refresh")
    report = analyze_store(store, config, steps=steps) if steps else None
    store.finish_run(run_id, "completed", {"steps": report.steps if report else {}})
    return {"refreshed": True, "steps": report.steps if report else {}, "seconds": report.seconds if report else {}}


def report_is_current(store: Store, out_dir: Path) -> bool:
    """The report exists, is complete, and was built after the last refresh."""
    html = Path(out_dir) / "report.html"
    if not html.is_file() or not html.read_text(encoding="utf-8", errors="replace").rstrip().endswith("</html>"):
        return False
    built = _last_completed(store, "report")
    refreshed = _last_completed(store, "refresh")
    return built is not None and (refreshed is None or built > refreshed)


def build_report_if_stale(store: Store, config: VocmineConfig, out_dir: Path, force: bool = False) -> dict[str, Any]:
    """Rebuild report.html and the exports unless the current ones are complete and up to date."""
    from vocmine.pipelines.report import build_report

    out_dir = Path(out_dir)
    if not force and report_is_current(store, out_dir):
        return {"report": str(out_dir / "report.html"), "exports": str(out_dir / "exports"), "rebuilt": False}
    run_id = store.start_run("report")
    result = build_report(store, config, out_dir)
    store.finish_run(run_id, "completed", {"report": str(result.html_path)})
    return {"report": str(result.html_path), "exports": str(out_dir / "exports"), "rebuilt": True}


def counts(store: Store) -> dict[str, int]:
    """Row counts an operator compares across runs (what the kill test checks)."""
    tables = ("sources", "responses", "answers", "sentences", "annotations", "embeddings", "kpis")
    return {table: store.count(table) for table in tables}


def run_folder_once(
    folder: Path, config: VocmineConfig, out_dir: Path, profile: str = "review", steps: list[str] | None = None,
    settle_seconds: float = 5.0, compute: Compute = compute_locally,
) -> dict[str, Any]:
    """The whole incremental pipeline without Prefect: ingest new files, analyse what is new, refresh,
    report. What the flows do, for scripts, tests and a machine with no Prefect at hand."""
    prepare, annotators, refresh = split_steps(config, steps)
    with Store(config.store) as store:
        ingested = ingest_new_files(store, folder, profile, settle_seconds)
        prepared = prepare_new(store, config, prepare)
        annotated = annotate_new(store, config, annotators, compute)
        refreshed = refresh_summaries(store, config, refresh)
        reported = build_report_if_stale(store, config, out_dir, force=refreshed["refreshed"])
        return {"ingest": ingested, "prepare": prepared, "annotate": annotated, "refresh": refreshed,
                **reported, "counts": counts(store)}
