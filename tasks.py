#!/usr/bin/env python3
"""The two set-up commands of the README, with nothing but Python 3.11 on the machine.

    python3 tasks.py demo   # venv + pinned deps, then the whole pipeline on the bundled sample -> out/demo
    python3 tasks.py test   # venv + pinned deps (+ headless Chromium for the browser test), ruff, pytest

The virtual environment is .venv; dependencies come from requirements.lock (the tested set), with
torch==2.13.0 installed first so pip takes the local CPU wheel instead of a multi-GB CUDA build. A
stamp file skips reinstalling when requirements.lock and pyproject.toml have not changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / "bin"
STAMP = VENV / ".vocmine-installed"
TORCH = "torch==2.13.0"


def run(*args: str | Path, env: dict[str, str] | None = None) -> int:
    print("+", " ".join(str(a) for a in args), flush=True)
    return subprocess.call([str(a) for a in args], cwd=ROOT, env=env)


def check(*args: str | Path, env: dict[str, str] | None = None) -> None:
    code = run(*args, env=env)
    if code != 0:
        sys.exit(code)


def ensure_venv() -> None:
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"vocmine needs Python 3.11, this is {sys.version.split()[0]}")
    if not (BIN / "python").exists():
        print(f"creating virtual environment {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256(
        (ROOT / "requirements.lock").read_bytes() + (ROOT / "pyproject.toml").read_bytes()
    ).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == digest:
        return
    # -qq: the machine's pip config lists index folders that do not all exist, which floods -q output.
    pip = [BIN / "python", "-m", "pip", "install", "--disable-pip-version-check", "-qq"]
    check(*pip, TORCH)
    check(*pip, TORCH, "-r", ROOT / "requirements.lock")
    check(*pip, "--no-deps", "-e", ROOT)
    STAMP.write_text(digest)


def ensure_browser() -> None:
    """Headless Chromium for the report's browser test (Debian packages; needs root and apt)."""
    if Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists():
        return
    script = ROOT / "scripts" / "install_browser.sh"
    if shutil.which("apt-get") and script.exists():
        check("bash", script)
    else:
        sys.exit("the browser test needs Debian's chromium and chromium-driver (apt-get install both)")


def offline_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_HOME": str(ROOT / ".prefect"),
            "NUMBA_CACHE_DIR": str(ROOT / ".cache" / "numba"),
            "TOKENIZERS_PARALLELISM": "false",
        }
    )
    return env


def demo(args: list[str]) -> None:
    ensure_venv()
    out = args[0] if args else "out/demo"
    check(BIN / "vocmine", "demo", "--out", out, env=offline_env())


def test(args: list[str]) -> None:
    ensure_venv()
    ensure_browser()
    check(BIN / "ruff", "check", ".")
    # pytest's exit 5 ("no tests collected") is a failure too: check() exits with any non-zero code.
    # --durations: the slowest tests (the three notebooks among them) with their run time, in every CI log.
    check(BIN / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--durations=12", *args,
          env=offline_env())


COMMANDS = {"demo": demo, "test": test}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(f"usage: python3 tasks.py {{{'|'.join(COMMANDS)}}} [args]")
    COMMANDS[sys.argv[1]](sys.argv[2:])
