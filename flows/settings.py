"""Prefect defaults that keep a flow local and silent: no telemetry, no outbound call, a project home.

Called before ``prefect`` is first imported (the CLI and the flow module do it), because Prefect reads
its settings at import. Values the user already set win (``setdefault``).
"""

from __future__ import annotations

import os
from pathlib import Path


def configure_prefect_defaults(home: Path | None = None) -> None:
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    # The temporary local API takes ~6-13 s to start on an idle 2-core machine; on a busy one the 20 s
    # default times out, so allow more.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_HOME", str(home or Path.cwd() / ".prefect"))
