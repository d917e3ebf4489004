"""`vocmine report`: the store as one self-contained HTML file plus spreadsheet/BI exports.

The HTML is meant to be mailed to a CX manager and opened from disk, offline: every style and chart is
inline (SVG drawn in Python), no script runs, no font, image or stylesheet is fetched, and a Content
Security Policy forbids the page from loading anything even if a future template slips. Customer text is
data, never markup: the Jinja2 environment autoescapes everything, and the only values marked safe are
the SVGs that :mod:`vocmine.pipelines.charts` builds after escaping their own labels.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from vocmine.config import VocmineConfig
from vocmine.pipelines import charts
from vocmine.pipelines.exports import export_tables
from vocmine.pipelines.i18n import translator
from vocmine.pipelines.report_data import ALL, EMOTIONS, UNASSIGNED, ReportData, impact_rank, load_report_data
from vocmine.store import Store

logger = logging.getLogger(__name__)


def _vocmine_version() -> str:
    # Read from the installed metadata: ``from vocmine import __version__`` breaks under pytest, where the
    # tests/vocmine folder can shadow the package as a namespace package.
    try:
        return version("vocmine")
    except PackageNotFoundError:
        return "unknown"


TEMPLATES = Path(__file__).parent / "templates"
REPORT_TEMPLATE = "report.html.j2"
#: No script, no remote anything: styles and images (SVG is inline markup, data: URIs at most) only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src 'none'; "
    "connect-src 'none'; script-src 'none'; base-uri 'none'; form-action 'none'"
)
#: Section ids in page order; ReportResult.sections lists those rendered.
SECTIONS = ("overview", "trend", "root-causes", "emotions", "branches", "sellers", "emerging", "data-quality")
TOP_CAUSES_IN_CHART = 12
MAX_GROUPS_IN_CHART = 40


@dataclass(frozen=True, slots=True)
class ReportResult:
    """What `build_report` wrote: the HTML file, the exports, the sections present and the HTML's size."""

    html_path: Path
    export_paths: list[Path]
    sections: list[str]
    size_bytes: int
    language: str
    warnings: list[str] = field(default_factory=list)


# -- formatting helpers (locale-aware: Spanish uses a decimal comma) -------------------------------
def _decimal(text: str, language: str) -> str:
    return text.replace(".", ",") if language == "es" else text


def make_filters(language: str) -> dict[str, Any]:
    """Jinja2 filters that print numbers the way the report's readers write them."""

    def points(value: float | None, digits: int = 1) -> str:
        if value is None:
            return "—"
        return _decimal(f"{value:+.{digits}f}", language).replace("+0,0", "0,0").replace("+0.0", "0.0")

    def number(value: float | None, digits: int = 1) -> str:
        if value is None:
            return "—"
        return _decimal(f"{value:.{digits}f}", language)

    def percent(value: float | None, digits: int = 0) -> str:
        if value is None:
            return "—"
        return _decimal(f"{100 * value:.{digits}f}", language) + ("\u00a0%" if language == "es" else "%")

    def integer(value: int | None) -> str:
        if value is None:
            return "—"
        separator = "\u00a0" if language == "es" else ","
        return f"{int(value):,}".replace(",", separator)

    def day(value: datetime | None) -> str:
        if value is None:
            return "—"
        return value.strftime("%d/%m/%Y" if language == "es" else "%Y-%m-%d")

    return {"points": points, "number": number, "percent": percent, "integer": integer, "day": day}


def make_environment(language: str) -> Environment:
    """Autoescaping on for every template, whatever its extension: verbatims are data, not markup."""
    environment = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters.update(make_filters(language))
    return environment


def touchpoint_label(name: str, t: dict[str, str]) -> str:
    """Display name of a touchpoint group: the two synthetic groups are translated, taxonomy names kept."""
    return t.get(f"tp_{name}", name) if name in (ALL, UNASSIGNED) else name


# -- charts ---------------------------------------------------------------------------------------
def build_charts(data: ReportData, t: dict[str, str]) -> dict[str, Any]:
    """Every chart of the report as inline SVG markup (empty Markup where there is nothing to draw)."""
    result: dict[str, Any] = {"trend": Markup(""), "impact": Markup(""), "heatmap": Markup(""), "branches": Markup(""),
                              "sellers": Markup(""), "sparks": {}, "sentiment": {}, "branches_capped": False,
                              "sellers_capped": False}
    if len(data.trend) >= 1 and any(p.figure.nps is not None for p in data.trend):
        result["trend"] = charts.line_chart_svg(
            [charts.IntervalPoint(p.period, p.figure.nps, p.figure.low, p.figure.high, p.figure.small_n)
             for p in data.trend],
            title=t["trend"],
        )
    causes = [c for tp in data.touchpoints for c in tp.causes if c.impact is not None]
    causes.sort(key=impact_rank)
    if causes:
        result["impact"] = charts.interval_bars_svg(
            [
                charts.IntervalPoint(
                    f"{c.label} · {touchpoint_label(c.touchpoint, t)}", c.impact, c.impact_low, c.impact_high, c.small_n
                )
                for c in causes[:TOP_CAUSES_IN_CHART]
            ],
            title=t["impact_chart"],
            label_width=300,
        )
    with_emotions = [tp for tp in data.touchpoints if tp.emotion_shares]
    if with_emotions:
        result["heatmap"] = charts.heatmap_svg(
            [touchpoint_label(tp.touchpoint, t) for tp in with_emotions],
            [t.get(e, e) for e in EMOTIONS],
            [[tp.emotion_shares.get(e) for e in EMOTIONS] for tp in with_emotions],
            row_counts=[tp.sentences for tp in with_emotions],
            title=t["heatmap_caption"],
        )
    for key, section in (("branches", data.branches), ("sellers", data.sellers)):
        points = [charts.IntervalPoint(r.name, r.figure.nps, r.figure.low, r.figure.high, r.figure.small_n)
                  for r in section.rows if r.figure.nps is not None]
        if len(points) > MAX_GROUPS_IN_CHART:  # 164 stores make an unreadable chart: show both ends
            half = MAX_GROUPS_IN_CHART // 2
            points = points[:half] + points[-half:]
            result[f"{key}_capped"] = True
        if points:
            result[key] = charts.interval_bars_svg(points, title=t[key] + " · " + t["nps"], bars=False)
    for tp in data.touchpoints:
        for cause in tp.causes:
            if cause.trend:
                result["sparks"][cause.theme_id] = charts.sparkline_svg(cause.trend, title=cause.label)
        if tp.sentiment_shares:
            result["sentiment"][tp.touchpoint] = charts.share_bar_svg(
                [(t["negative"], tp.sentiment_shares.get("negative", 0.0), charts.RED),
                 (t["neutral"], tp.sentiment_shares.get("neutral", 0.0), charts.MUTED),
                 (t["positive"], tp.sentiment_shares.get("positive", 0.0), charts.GREEN)],
                title=t["sentiment"],
            )
    for cause in data.emerging:
        if cause.trend and cause.theme_id not in result["sparks"]:
            result["sparks"][cause.theme_id] = charts.sparkline_svg(cause.trend, title=cause.label)
    return result


def render_report(data: ReportData) -> str:
    """The HTML page for already-loaded report data (pure: no store, no files)."""
    t = translator(data.language)
    environment = make_environment(data.language)
    template = environment.get_template(REPORT_TEMPLATE)
    return template.render(
        data=data,
        t=t,
        tf=lambda key, **values: t[key].format(**values),
        tp_label=lambda name: touchpoint_label(name, t),
        charts=build_charts(data, t),
        sections=SECTIONS,
        csp=CONTENT_SECURITY_POLICY,
        version=_vocmine_version(),
        emotions=EMOTIONS,
    )


def build_report(store: Store, config: VocmineConfig, out_dir: Path) -> ReportResult:
    """Write out_dir/report.html and out_dir/exports/* (formats from config.report.export_formats)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = load_report_data(store, config)
    html = render_report(data)
    html_path = out_dir / "report.html"
    html_path.write_text(html, encoding="utf-8")
    exports = export_tables(store, config, out_dir / "exports", config.report.export_formats)
    size = html_path.stat().st_size
    warnings = []
    if not data.has_sentences:
        warnings.append("no sentences analysed yet")
    if not data.has_themes:
        warnings.append("no themes computed yet")
    if not data.has_drivers:
        warnings.append("no drivers computed yet")
    logger.info("report written to %s (%d bytes, language %s)", html_path, size, data.language)
    return ReportResult(html_path, exports, list(SECTIONS), size, data.language, warnings)
