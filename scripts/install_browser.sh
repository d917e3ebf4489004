#!/usr/bin/env bash
# Install the headless browser used by tests/pipelines/test_report_browser.py.
#
# Debian's chromium + chromium-driver (never a driver that downloads its own browser), and the
# Selenium Python package into the project's virtualenv. Idempotent: each part is skipped when present.
# Usage: scripts/install_browser.sh [PYTHON]   (default: .venv/bin/python next to this script's repo)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${1:-$REPO/.venv/bin/python}"
# 4.52.0 needs certifi>=2026.10.23, newer than the registry has; 4.51.0 resolves with the locked set.
SELENIUM_VERSION="${SELENIUM_VERSION:-4.51.0}"

if [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo unknown)"
else
    SUDO=""
    if [[ "$(id -u)" != "0" ]]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends chromium chromium-driver
fi

if "$PYTHON" -c "import selenium" 2>/dev/null; then
    echo "selenium already installed: $("$PYTHON" -c 'import selenium; print(selenium.__version__)')"
else
    "$PYTHON" -m pip install "selenium==${SELENIUM_VERSION}"
fi
