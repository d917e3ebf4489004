"""The incremental flows: ``ingest-folder``, ``analyze-new``, ``refresh-themes``, ``build-report`` and
``vocmine-folder-pipeline`` chaining them (what ``vocmine serve`` deploys on a cron schedule).

Thin wrappers over :mod:`vocmine.flows.stages`: no logic here. Expensive results (embeddings,
annotations) live in the store, so a retried task or a rerun flow skips what is already written: the
store is the cache, not Prefect's result storage. Annotator batches are tasks; with ``dask`` set they run
on a Dask cluster through prefect-dask's DaskTaskRunner, computing only (DuckDB has one writer), while
this process writes each batch's result in one transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vocmine.flows.settings import configure_prefect_defaults

configure_prefect_defaults()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402
from prefect.tasks import exponential_backoff  # noqa: E402

from vocmine.config import VocmineConfig, load_config  # noqa: E402
from vocmine.errors import ConfigError  # noqa: E402
from vocmine.flows import stages  # noqa: E402
from vocmine.flows.batches import BatchJob, BatchResult, compute_batch  # noqa: E402
from vocmine.store import Store  # noqa: E402


def flow_config(config_path: str | None = None, store_path: str | None = None) -> VocmineConfig:
    """The config file (or defaults) with the store path on top, as the CLI builds it."""
    config = load_config(config_path)
    if store_path:
        config = config.model_copy(update={"store": Path(store_path)})
    return config


def dask_task_runner(spec: str):  # noqa: ANN201 - prefect_dask.DaskTaskRunner, imported lazily
    """``local:N`` starts a LocalCluster of N single-threaded worker processes; anything else is the
    address of a running scheduler (``tcp://host:8786``)."""
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as error:  # pragma: no cover - prefect-dask is in the stack
        raise ConfigError("--dask needs prefect-dask: pip install prefect-dask") from error
    if spec.startswith("local:"):
        try:
            workers = int(spec.split(":", 1)[1])
        except ValueError as error:
            raise ConfigError(f"--dask {spec!r}: expected local:N with N a number of workers") from error
        if workers < 1:
            raise ConfigError(f"--dask {spec!r}: need at least one worker")
        return DaskTaskRunner(
            cluster_class="distributed.LocalCluster",
            cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                            "dashboard_address": None},
        )
    if "://" not in spec:
        raise ConfigError(f"--dask {spec!r}: expected local:N or a scheduler address like tcp://host:8786")
    return DaskTaskRunner(address=spec)


# -- tasks ---------------------------------------------------------------------------------------------
@task(name="ingest-new-files", retries=2, retry_delay_seconds=exponential_backoff(backoff_factor=2))
def ingest_new_files_task(config: VocmineConfig, folder: str, profile: str, settle_seconds: float) -> dict[str, Any]:
    """Retried with back-off: a locked store or a file still being moved fail transiently."""
    with Store(config.store) as store:
        return stages.ingest_new_files(store, Path(folder), profile, settle_seconds)


@task(name="prepare-new", retries=1, retry_delay_seconds=5)
def prepare_new_task(config: VocmineConfig, steps: list[str]) -> dict[str, Any]:
    with Store(config.store) as store:
        return stages.prepare_new(store, config, steps)


@task(name="annotate-batch", retries=2, retry_delay_seconds=exponential_backoff(backoff_factor=2))
def annotate_batch_task(job: BatchJob) -> BatchResult:
    """Compute one batch (embed what is not cached, annotate); retried when a worker is lost."""
    return compute_batch(job)


@task(name="refresh-summaries", retries=1, retry_delay_seconds=10)
def refresh_task(config: VocmineConfig, steps: list[str], force: bool) -> dict[str, Any]:
    with Store(config.store) as store:
        return stages.refresh_summaries(store, config, steps, force)


@task(name="build-report", retries=1, retry_delay_seconds=5)
def report_task(config: VocmineConfig, out_dir: str, force: bool) -> dict[str, Any]:
    with Store(config.store) as store:
        return stages.build_report_if_stale(store, config, Path(out_dir), force)


def _compute_with_tasks(jobs: list[BatchJob]) -> Any:
    """Submit every batch, then yield results in batch order (each is written as soon as it arrives)."""
    futures = [annotate_batch_task.submit(job) for job in jobs]
    for future in futures:
        yield future.result()


# -- flows -----------------------------------------------------------------------------------------------
@flow(name="ingest-folder", log_prints=False)
def ingest_folder(
    folder: str, store_path: str | None = None, config_path: str | None = None, profile: str = "review",
    settle_seconds: float = 5.0,
) -> dict[str, Any]:
    """Ingest the new and changed files of ``folder`` (by content hash) once they are stable."""
    config = flow_config(config_path, store_path)
    totals = ingest_new_files_task(config, folder, profile, settle_seconds)
    get_run_logger().info("ingest-folder: %s", totals)
    return totals


@flow(name="analyze-new", log_prints=False, task_runner=ThreadPoolTaskRunner(max_workers=1))
def analyze_new(
    store_path: str | None = None, config_path: str | None = None, steps: list[str] | None = None
) -> dict[str, Any]:
    """Language, sentences and NPS class of new responses, then each annotator over the sentences it has
    not labelled yet, in batches submitted as tasks (one worker thread here; Dask workers when configured)."""
    config = flow_config(config_path, store_path)
    prepare, annotators, _ = stages.split_steps(config, steps)
    prepared = prepare_new_task(config, prepare)
    with Store(config.store) as store:
        annotated = stages.annotate_new(store, config, annotators, _compute_with_tasks)
    result = {"steps": {**prepared["steps"], **annotated["steps"]},
              "seconds": {**prepared["seconds"], **annotated["seconds"]}}
    get_run_logger().info("analyze-new: %s", result["steps"])
    return result


@flow(name="refresh-themes", log_prints=False)
def refresh_themes(store_path: str | None = None, config_path: str | None = None, steps: list[str] | None = None,
                   force: bool = False) -> dict[str, Any]:
    """Themes, KPIs and drivers, when anything changed since they last completed."""
    config = flow_config(config_path, store_path)
    _, _, refresh = stages.split_steps(config, steps)
    return refresh_task(config, refresh, force)


@flow(name="build-report", log_prints=False)
def build_report(out_dir: str, store_path: str | None = None, config_path: str | None = None,
                 force: bool = False) -> dict[str, Any]:
    """report.html and the exports, unless the current ones are complete and newer than the last refresh."""
    config = flow_config(config_path, store_path)
    return report_task(config, out_dir, force)


def run_analyze_new(store_path: str | None, config_path: str | None, steps: list[str] | None,
                    dask: str | None = None) -> dict[str, Any]:
    """``analyze-new`` on the default thread runner, or on a Dask cluster (``local:N`` or an address)."""
    if dask:
        return analyze_new.with_options(task_runner=dask_task_runner(dask))(store_path, config_path, steps)
    return analyze_new(store_path, config_path, steps)


@flow(name="vocmine-folder-pipeline", log_prints=False)
def vocmine_folder_pipeline(
    folder: str, out_dir: str, store_path: str | None = None, config_path: str | None = None,
    profile: str = "review", steps: list[str] | None = None, dask: str | None = None, settle_seconds: float = 5.0,
) -> dict[str, Any]:
    """ingest-folder -> analyze-new -> refresh-themes -> build-report, each a subflow (the scheduled job)."""
    ingested = ingest_folder(folder, store_path, config_path, profile, settle_seconds)
    analysed = run_analyze_new(store_path, config_path, steps, dask)
    refreshed = refresh_themes(store_path, config_path, steps)
    reported = build_report(out_dir, store_path, config_path, force=refreshed["refreshed"])
    with Store(flow_config(config_path, store_path).store) as store:
        counts = stages.counts(store)
    return {"ingest": ingested, "analyze": analysed, "refresh": refreshed, **reported, "counts": counts}
