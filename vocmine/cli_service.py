"""The functions behind ``vocmine serve`` (scheduled flows) and ``vocmine api`` (REST service).

Typer-compatible: the lead registers them in ``vocmine/cli.py`` with ``app.command()(serve)``. They print
nothing themselves besides what Prefect and uvicorn log; errors are VocmineErrors the CLI turns into exit codes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def _config(config: Path | None, store: Path | None):  # noqa: ANN202 - VocmineConfig
    from vocmine.config import load_config

    loaded = load_config(config)
    return loaded.model_copy(update={"store": store}) if store else loaded


def serve(
    folder: Annotated[Path, typer.Option("--folder", help="Folder the exports land in (watched incrementally).")],
    cron: Annotated[str, typer.Option(help="Cron schedule of the folder pipeline.")] = "0 6 * * *",
    store: Annotated[Path | None, typer.Option(help="DuckDB store (default: the config's).")] = None,
    config: Annotated[Path | None, typer.Option(help="vocmine.toml")] = None,
    dask: Annotated[str | None, typer.Option(help="local:N for a LocalCluster, or a scheduler address.")] = None,
    out: Annotated[Path, typer.Option(help="Where report.html and exports/ go.")] = Path("out/scheduled"),
    profile: Annotated[str, typer.Option(help="Source profile for files without a .toml beside them.")] = "review",
) -> None:
    """Serve the vocmine flows as Prefect deployments: the folder pipeline on ``cron``, and ingest-folder,
    analyze-new, refresh-themes and build-report to trigger by hand. Blocks until interrupted; shows in the
    Prefect UI when PREFECT_API_URL points at a server (``prefect server start --host 127.0.0.1``)."""
    from vocmine.flows.settings import configure_prefect_defaults

    configure_prefect_defaults()
    from prefect import serve as prefect_serve

    settings = _config(config, store)
    deployments = build_deployments(folder, cron, settings.store, config, dask, out, profile)
    prefect_serve(*deployments)


def build_deployments(folder: Path, cron: str, store: Path, config: Path | None, dask: str | None, out: Path,
                      profile: str = "review") -> list:
    """The runner deployments ``serve`` registers (separate so a check can register them without blocking)."""
    from vocmine.flows import incremental

    common = {"store_path": str(Path(store).resolve()), "config_path": str(config) if config else None}
    return [
        incremental.vocmine_folder_pipeline.to_deployment(
            name="scheduled", cron=cron,
            parameters={"folder": str(Path(folder).resolve()), "out_dir": str(Path(out).resolve()),
                        "profile": profile, "dask": dask, **common},
        ),
        incremental.ingest_folder.to_deployment(
            name="on-demand", parameters={"folder": str(Path(folder).resolve()), "profile": profile, **common}),
        incremental.analyze_new.to_deployment(name="on-demand", parameters=common),
        incremental.refresh_themes.to_deployment(name="on-demand", parameters=common),
        incremental.build_report.to_deployment(name="on-demand",
                                               parameters={"out_dir": str(Path(out).resolve()), **common}),
    ]


def api(
    host: Annotated[str, typer.Option(help="Interface to bind; loopback by default.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    store: Annotated[Path | None, typer.Option(help="DuckDB store the KPI and theme endpoints read.")] = None,
    config: Annotated[Path | None, typer.Option(help="vocmine.toml")] = None,
) -> None:
    """Run the REST service (FastAPI + uvicorn): POST /v1/analyze, GET /v1/kpis, /v1/themes, /healthz;
    the OpenAPI schema at /openapi.json and /docs. Models load once at start-up."""
    from vocmine.rest import serve_api

    serve_api(_config(config, store), host=host, port=port)
