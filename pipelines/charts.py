"""Inline SVG charts generated in Python: no JavaScript library, no CDN, nothing to load.

A report opened offline, from an e-mail attachment, must draw its charts with the network off; plain SVG
inside the HTML does that and prints well. Every piece of text that reaches a chart (period names, theme
labels, touchpoints) may come from input data, so it is escaped here with :func:`markupsafe.escape`
before it enters the markup; the functions return :class:`markupsafe.Markup` so Jinja2 does not escape
the SVG itself a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: Colours chosen to stay readable in greyscale print and for the common colour-vision deficiencies.
INK = "#1f2933"
GRID = "#d9dee3"
BLUE = "#1f5fa8"
BAND = "#9cc3ea"
RED = "#b8322c"
GREEN = "#2d7d46"
MUTED = "#8a949e"


@dataclass(frozen=True, slots=True)
class IntervalPoint:
    """A labelled estimate with an optional interval; ``small_n`` draws it hollow (too few responses)."""

    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    small_n: bool = False


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def _text(x: float, y: float, content: str, *, anchor: str = "start", size: int = 11, fill: str = INK) -> str:
    return (
        f'<text x="{_fmt(x)}" y="{_fmt(y)}" text-anchor="{anchor}" font-size="{size}" fill="{fill}">'
        f"{escape(content)}</text>"
    )


def _svg(width: int, height: int, body: list[str], *, kind: str, title: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" data-chart="{escape(kind)}" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg>"
    )


def _nice_domain(values: Sequence[float], *, include_zero: bool = True, pad: float = 5.0) -> tuple[float, float]:
    finite = [v for v in values if v is not None]
    if include_zero:
        finite.append(0.0)
    if not finite:
        return -1.0, 1.0
    low, high = min(finite), max(finite)
    if high - low < 1e-9:
        low, high = low - pad, high + pad
    step = 10.0 if high - low > 20 else 5.0 if high - low > 5 else 1.0
    return step * ((low - pad / 2) // step), step * -((-(high + pad / 2)) // step)


def line_chart_svg(points: Sequence[IntervalPoint], *, title: str, width: int = 1000, height: int = 260) -> Markup:
    """A time series (NPS by period) with its 95% band; hollow markers where n is too small."""
    left, right, top, bottom = 48, 16, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for p in points for v in (p.value, p.low, p.high) if v is not None]
    lo, hi = _nice_domain(values)

    def y(v: float) -> float:
        return top + plot_h * (hi - v) / (hi - lo)

    count = len(points)

    def x(i: int) -> float:
        return left + (plot_w / 2 if count == 1 else plot_w * i / (count - 1))

    body = [f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="white" stroke="{GRID}"/>']
    for tick in _ticks(lo, hi):
        body.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{_fmt(y(tick))}" y2="{_fmt(y(tick))}" '
                    f'stroke="{GRID}" stroke-width="{1.5 if tick == 0 else 0.8}"/>')
        body.append(_text(left - 6, y(tick) + 4, f"{tick:+.0f}" if tick else "0", anchor="end", size=10))
    band = [(i, p) for i, p in enumerate(points) if p.low is not None and p.high is not None]
    if len(band) >= 2:
        upper = " ".join(f"{_fmt(x(i))},{_fmt(y(p.high))}" for i, p in band)  # type: ignore[arg-type]
        lower = " ".join(f"{_fmt(x(i))},{_fmt(y(p.low))}" for i, p in reversed(band))  # type: ignore[arg-type]
        body.append(f'<polygon class="band" points="{upper} {lower}" fill="{BAND}" fill-opacity="0.45"/>')
    line = [(i, p) for i, p in enumerate(points) if p.value is not None]
    if len(line) >= 2:
        path = " ".join(f"{_fmt(x(i))},{_fmt(y(p.value))}" for i, p in line)  # type: ignore[arg-type]
        body.append(f'<polyline class="series" points="{path}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
    label_every = max(1, -(-count // 10))  # at most ~10 labels, so they never overlap
    for i, p in enumerate(points):
        if p.value is not None:
            fill = "white" if p.small_n else BLUE
            tip = f"{p.label}: {p.value:+.1f}"
            if p.low is not None and p.high is not None:
                tip += f" [{p.low:+.1f}, {p.high:+.1f}]"
            body.append(
                f'<circle class="point" cx="{_fmt(x(i))}" cy="{_fmt(y(p.value))}" r="4" fill="{fill}" '
                f'stroke="{BLUE}" stroke-width="2"><title>{escape(tip)}</title></circle>'
            )
        last = i == count - 1
        if (i % label_every == 0 and (last or count - 1 - i >= label_every)) or last:
            anchor = "end" if last and count > 1 else "start" if i == 0 and count > 1 else "middle"
            body.append(_text(x(i), top + plot_h + 16, p.label, anchor=anchor, size=10))
    return _svg(width, height, body, kind="line", title=title)


def _ticks(lo: float, hi: float) -> list[float]:
    span = hi - lo
    step = next(s for s in (1, 2, 5, 10, 20, 25, 50, 100, 200) if span / s <= 8)
    first = step * -((-lo) // step)
    ticks = []
    value = first
    while value <= hi + 1e-9:
        ticks.append(float(value))
        value += step
    return ticks


def interval_bars_svg(
    rows: Sequence[IntervalPoint],
    *,
    title: str,
    width: int = 1000,
    bars: bool = True,
    label_width: int = 260,
) -> Markup:
    """Horizontal bars (or dots) from zero with interval whiskers: NPS impact per cause, NPS per branch.

    Negative bars are red (an NPS impact below zero costs points); with ``bars=False`` the
    chart is a dot plot of estimates, as fits NPS per branch where zero is not a natural baseline.
    """
    row_h, top, bottom, right = 24, 8, 28, 16
    height = top + bottom + row_h * max(len(rows), 1)
    plot_left = label_width + 8
    plot_w = width - plot_left - right
    values = [v for r in rows for v in (r.value, r.low, r.high) if v is not None]
    lo, hi = _nice_domain(values)

    def x(v: float) -> float:
        return plot_left + plot_w * (v - lo) / (hi - lo)

    body = []
    for tick in _ticks(lo, hi):
        body.append(f'<line x1="{_fmt(x(tick))}" x2="{_fmt(x(tick))}" y1="{top}" y2="{height - bottom}" '
                    f'stroke="{INK if tick == 0 else GRID}" stroke-width="{1.2 if tick == 0 else 0.8}"/>')
        body.append(_text(x(tick), height - bottom + 14, f"{tick:+.0f}" if tick else "0", anchor="middle", size=10))
    for i, row in enumerate(rows):
        cy = top + row_h * i + row_h / 2
        label = row.label if len(row.label) <= 42 else row.label[:41] + "…"
        body.append(_text(label_width, cy + 4, label, anchor="end", size=11, fill=MUTED if row.small_n else INK))
        if row.value is None:
            continue
        colour = (RED if row.value < 0 else GREEN) if bars else BLUE
        if bars:
            start, end = sorted((x(0), x(row.value)))
            body.append(
                f'<rect class="bar" x="{_fmt(start)}" y="{_fmt(cy - 7)}" width="{_fmt(max(end - start, 1))}" '
                f'height="14" fill="{colour}" fill-opacity="{0.35 if row.small_n else 0.8}"/>'
            )
        if row.low is not None and row.high is not None:
            body.append(
                f'<line class="whisker" x1="{_fmt(x(row.low))}" x2="{_fmt(x(row.high))}" y1="{_fmt(cy)}" '
                f'y2="{_fmt(cy)}" stroke="{INK}" stroke-width="1.5"/>'
            )
            for end_value in (row.low, row.high):
                body.append(f'<line x1="{_fmt(x(end_value))}" x2="{_fmt(x(end_value))}" y1="{_fmt(cy - 5)}" '
                            f'y2="{_fmt(cy + 5)}" stroke="{INK}" stroke-width="1.5"/>')
        if not bars:
            fill = "white" if row.small_n else colour
            body.append(f'<circle class="point" cx="{_fmt(x(row.value))}" cy="{_fmt(cy)}" r="4.5" fill="{fill}" '
                        f'stroke="{colour}" stroke-width="2"/>')
        tip = f"{row.label}: {row.value:+.1f}"
        if row.low is not None and row.high is not None:
            tip += f" [{row.low:+.1f}, {row.high:+.1f}]"
        body.append(f'<rect x="0" y="{_fmt(cy - row_h / 2)}" width="{width}" height="{row_h}" fill="transparent">'
                    f"<title>{escape(tip)}</title></rect>")
    return _svg(width, height, body, kind="bars" if bars else "dots", title=title)


def heatmap_svg(
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    shares: Sequence[Sequence[float | None]],
    *,
    title: str,
    row_counts: Sequence[int] | None = None,
    label_width: int = 200,
) -> Markup:
    """Rows × columns of shares (0..1) as shaded cells with the percentage written in each cell."""
    cell_w, cell_h, top = 78, 28, 34
    width = label_width + 8 + cell_w * len(column_labels) + 8
    height = top + cell_h * len(row_labels) + 8
    peak = max((v for row in shares for v in row if v is not None), default=0.0) or 1.0
    body = []
    for j, column in enumerate(column_labels):
        body.append(_text(label_width + 8 + cell_w * j + cell_w / 2, top - 10, column, anchor="middle", size=11))
    for i, row_label in enumerate(row_labels):
        y = top + cell_h * i
        label = row_label if len(row_label) <= 30 else row_label[:29] + "…"
        if row_counts is not None:
            label += f" (n={row_counts[i]})"
        body.append(_text(label_width, y + cell_h / 2 + 4, label, anchor="end", size=11))
        for j, value in enumerate(shares[i]):
            x = label_width + 8 + cell_w * j
            if value is None:
                body.append(f'<rect class="cell" x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                            f'fill="#f3f4f6"/>')
                continue
            intensity = value / peak
            # White to deep red; text flips to white on dark cells.
            red, green, blue = 255 - int(71 * intensity), 255 - int(205 * intensity), 255 - int(211 * intensity)
            colour = f"#{red:02x}{green:02x}{blue:02x}"
            ink = "white" if intensity > 0.6 else INK
            body.append(
                f'<rect class="cell" x="{x}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{colour}">'
                f"<title>{escape(row_label)} · {escape(column_labels[j])}: {100 * value:.0f}%</title></rect>"
            )
            body.append(_text(x + (cell_w - 2) / 2, y + cell_h / 2 + 3, f"{100 * value:.0f}%", anchor="middle",
                              size=11, fill=ink))
    return _svg(width, height, body, kind="heatmap", title=title)


def sparkline_svg(values: Sequence[tuple[str, int]], *, title: str, width: int = 120, height: int = 28) -> Markup:
    """A tiny count-per-period line for a theme's trend (shape only; the numbers are in its title)."""
    if not values:
        return Markup("")
    counts = [c for _, c in values]
    peak = max(counts) or 1
    step = (width - 8) / max(len(counts) - 1, 1)
    coords = [(4 + step * i, height - 4 - (height - 8) * c / peak) for i, c in enumerate(counts)]
    tip = ", ".join(f"{period}: {count}" for period, count in values)
    body = [f"<title>{escape(title)} — {escape(tip)}</title>"]
    if len(coords) == 1:
        body.append(f'<circle cx="{_fmt(coords[0][0])}" cy="{_fmt(coords[0][1])}" r="2.5" fill="{BLUE}"/>')
    else:
        path = " ".join(f"{_fmt(a)},{_fmt(b)}" for a, b in coords)
        body.append(f'<polyline points="{path}" fill="none" stroke="{BLUE}" stroke-width="1.5"/>')
        body.append(f'<circle cx="{_fmt(coords[-1][0])}" cy="{_fmt(coords[-1][1])}" r="2.5" fill="{BLUE}"/>')
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart spark" data-chart="spark" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">'
        + "".join(body) + "</svg>"
    )


def share_bar_svg(
    shares: Sequence[tuple[str, float, str]], *, title: str, width: int = 160, height: int = 14
) -> Markup:
    """A single stacked bar of shares (label, share, colour), e.g. negative / neutral / positive."""
    body = [f"<title>{escape(title)}</title>"]
    x = 0.0
    total = sum(s for _, s, _ in shares) or 1.0
    for label, share, colour in shares:
        w = width * share / total
        if w <= 0:
            continue
        body.append(f'<rect x="{_fmt(x)}" y="0" width="{_fmt(w)}" height="{height}" fill="{escape(colour)}">'
                    f"<title>{escape(label)}: {100 * share:.0f}%</title></rect>")
        x += w
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart share" data-chart="share" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" aria-label="{escape(title)}">'
        + "".join(body) + "</svg>"
    )
