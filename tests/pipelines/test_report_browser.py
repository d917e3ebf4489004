"""The report opened in a real headless Chromium, offline: renders, draws its charts, runs no injected script.

Needs Debian's chromium and chromium-driver and the selenium package: ``scripts/install_browser.sh``.
Every request the page makes is recorded from Chromium's performance log, and any http(s)/ws(s) URL is
blocked through the DevTools protocol, so a report that tried to reach the network fails here twice:
once because the request is recorded, once because the blocked fetch logs a console error.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from vocmine.config import VocmineConfig
from vocmine.pipelines.report import build_report
from vocmine.store import Store

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOT_COPY = REPO / "docs" / "report_screenshot.png"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
]
#: Injected on top of the hostile fixture: if either ran, the page would set this global.
PWN_SCRIPT = "<script>window.vocminePwned = 'script'</script> La web no carga."
PWN_IMG = "<img src=x onerror=\"window.vocminePwned='img'\"> The website will not load."


def _load_builder():
    path = REPO / "tests" / "data" / "hostile" / "build.py"
    spec = importlib.util.spec_from_file_location("hostile_build", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def report_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("browser_report")
    with Store(base / "store.duckdb") as store:
        _load_builder().build_sample_store(store, n_responses=160, seed=3)
        extra = pd.DataFrame(
            [
                {"sentence_id": "demo:00000:comment:9", "answer_id": "demo:00000:comment", "response_id": "demo:00000",
                 "position": 9, "text": PWN_SCRIPT, "language": "es"},
                {"sentence_id": "demo:00001:comment:9", "answer_id": "demo:00001:comment", "response_id": "demo:00001",
                 "position": 9, "text": PWN_IMG, "language": "en"},
            ]
        )
        store.upsert("sentences", extra)
        themes = store.df("SELECT theme_id, verbatims FROM themes WHERE theme_id = 'th_late'")
        verbatims = [PWN_SCRIPT, PWN_IMG] + json.loads(themes.loc[0, "verbatims"])[:3]
        store.con.execute("UPDATE themes SET verbatims = ? WHERE theme_id = 'th_late'", [json.dumps(verbatims)])
        result = build_report(store, VocmineConfig(), base / "out")
    return result.html_path


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "headless Chromium missing: run scripts/install_browser.sh"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium_profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd(
        "Network.setBlockedURLs", {"urls": ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]}
    )
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def opened(browser, report_path: Path):
    browser.get_log("performance")  # drop what the blank start page logged
    browser.get(report_path.as_uri())
    return browser


def _requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_report_browser_renders_offline_without_errors_or_requests(opened, report_path: Path) -> None:
    urls = _requested_urls(opened)
    assert urls, "the performance log recorded nothing: request recording is broken"
    outside = [u for u in urls if not u.startswith(("file://", "data:", "about:"))]
    assert outside == [], f"the report requested {outside}"
    assert all(u == report_path.as_uri() or u.startswith(("data:", "about:")) for u in urls), urls
    errors = [e for e in opened.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    sections = opened.execute_script(
        "return Array.from(document.querySelectorAll('section[data-section]')).map(s => s.id)"
    )
    assert sections == ["overview", "trend", "root-causes", "emotions", "branches", "sellers", "emerging",
                        "data-quality"]


def test_report_browser_charts_are_drawn(opened) -> None:
    drawn = opened.execute_script(
        """
        const out = {};
        for (const svg of document.querySelectorAll('svg.chart[data-chart]')) {
          const box = svg.getBoundingClientRect();
          const kind = svg.dataset.chart;
          const marks = svg.querySelectorAll('circle, rect.bar, rect.cell, polyline, line.whisker').length;
          if (box.width > 50 && box.height > 10 && marks > 0) out[kind] = (out[kind] || 0) + 1;
        }
        return out;
        """
    )
    assert drawn.get("line", 0) >= 1  # NPS over time
    assert drawn.get("bars", 0) >= 1  # impact bars with whiskers
    assert drawn.get("heatmap", 0) >= 1  # touchpoint x emotion
    assert drawn.get("dots", 0) >= 1  # NPS per branch with intervals
    whiskers = opened.execute_script("return document.querySelectorAll('svg[data-chart=bars] line.whisker').length")
    assert whiskers >= 3


def test_report_browser_injected_script_did_not_run(opened) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    assert opened.execute_script("return window.vocminePwned === undefined")
    with pytest.raises(NoAlertPresentException):
        opened.switch_to.alert.text  # noqa: B018 - reading it is how selenium checks for an alert
    counts = opened.execute_script(
        "return [document.scripts.length, document.querySelectorAll('img, iframe, link, main style').length]"
    )
    assert counts == [0, 0]
    page_text = opened.execute_script("return document.body.textContent")
    assert "<script>alert(1)</script> El pedido llegó tarde" in page_text
    assert "<img src=x onerror=alert(1)>" in page_text
    assert "=HYPERLINK(" in page_text


def test_report_browser_screenshot(opened, tmp_path: Path) -> None:
    height = opened.execute_script("return document.documentElement.scrollHeight")
    shot = opened.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True,
         "clip": {"x": 0, "y": 0, "width": 1280, "height": min(int(height), 2600), "scale": 1}},
    )
    import base64

    png = base64.b64decode(shot["data"])
    path = tmp_path / "report_screenshot.png"
    path.write_bytes(png)
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
    # The tracked copy in docs/ is refreshed on request only, so a test run leaves the checkout clean.
    if os.environ.get("VOCMINE_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT_COPY.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, SCREENSHOT_COPY)
