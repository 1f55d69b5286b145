"""Line charts as inline SVG text, drawn here so the HTML report needs nothing external.

Values are floats (drawing only; the numbers in tables stay exact). x is time in ms since
the epoch, shown in UTC with ticks at round times (`timeaxis`); every chart names its y
unit beside the axis.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from bot.report.timeaxis import time_ticks

WIDTH, HEIGHT = 1100, 320
LEFT, RIGHT, BOTTOM = 84, 20, 58
LEGEND_ROW = 16
CHAR_PX = 6.4
"""Width of a legend character at the 11 px font, to lay the legend out in rows."""


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    color: str
    points: tuple[tuple[float, float], ...]  # (ts_ms, value)
    dashed: bool = False


@dataclass(frozen=True, slots=True)
class Marker:
    """A point event on the chart, e.g. a fill: `up` for buys (triangle up)."""

    x: float
    y: float
    up: bool
    label: str


@dataclass(frozen=True, slots=True)
class Band:
    """A shaded region over [x0, x1]: between y0 and y1, or the full height when they are
    None (a time span). `css` is its class (styled by the page), `data` its data-* attributes
    (what the region stands for, exact, for readers of the DOM)."""

    x0: float
    x1: float
    y0: float | None
    y1: float | None
    css: str
    label: str
    data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Swatch:
    """A legend entry for bands: a filled square of class `css`."""

    css: str
    label: str


@dataclass(frozen=True, slots=True)
class _Frame:
    x0: float
    x1: float
    y0: float
    y1: float
    top: float

    def px(self, x: float) -> float:
        span = self.x1 - self.x0 or 1.0
        return LEFT + (x - self.x0) / span * (WIDTH - LEFT - RIGHT)

    def py(self, y: float) -> float:
        span = self.y1 - self.y0 or 1.0
        return HEIGHT - BOTTOM - (y - self.y0) / span * (HEIGHT - self.top - BOTTOM)

    def clip_y(self, y: float) -> float:
        return min(max(y, self.y0), self.y1)


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] (1, 2, 5 x 10^n steps)."""
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    return [
        start + i * step
        for i in range(int((hi - start) / step) + 2)
        if start + i * step <= hi + step
    ]


def _label(v: float) -> str:
    if v != 0 and abs(v) < 0.01:
        return f"{v:.2g}"
    return f"{v:,.2f}" if abs(v) < 1000 else f"{v:,.0f}"


def _band_ys(bands: Sequence[Band], lo: float, hi: float) -> list[float]:
    """Band edges that fit within one data span beyond the data (wider bands are clipped,
    so a full-range position does not flatten the line it is drawn behind)."""
    span = hi - lo or abs(hi) or 1.0
    edges = (y for b in bands for y in (b.y0, b.y1) if y is not None)
    return [y for y in edges if lo - span <= y <= hi + span]


def _frame(
    series: Sequence[Series],
    markers: Sequence[Marker],
    bands: Sequence[Band],
    zero: bool,
    top: float,
) -> _Frame | None:
    xs = [x for s in series for x, _ in s.points] + [m.x for m in markers]
    ys = [y for s in series for _, y in s.points] + [m.y for m in markers]
    if not xs:
        return None
    ys += _band_ys(bands, min(ys), max(ys))
    if zero:
        ys.append(0.0)
    lo, hi = min(ys), max(ys)
    pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 1.0
    ticks = nice_ticks(lo - pad, hi + pad)
    return _Frame(min(xs), max(xs), ticks[0], ticks[-1], top)


def _y_axis(f: _Frame, y_label: str) -> list[str]:
    out = []
    for v in nice_ticks(f.y0, f.y1):
        if f.y0 <= v <= f.y1:
            y = f.py(v)
            out.append(
                f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
                f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_label(v)}</text>'
            )
    if f.y0 < 0 < f.y1:
        y = f.py(0.0)
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="zero"/>'
        )
    if y_label:
        cy = (f.top + HEIGHT - BOTTOM) / 2
        out.append(
            f'<text class="axis-label" x="14" y="{cy:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 14 {cy:.1f})">{escape(y_label)}</text>'
        )
    return out


def _x_axis(f: _Frame) -> list[str]:
    out = []
    base = HEIGHT - BOTTOM
    for t in time_ticks(f.x0, f.x1):
        x = f.px(t.ts_ms)
        out.append(
            f'<line x1="{x:.1f}" y1="{f.top}" x2="{x:.1f}" y2="{base}" class="grid"/>'
            f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 5}" class="zero"/>'
            f'<text class="x-tick" x="{x:.1f}" y="{base + 18}" text-anchor="middle">'
            f"{escape(t.label)}</text>"
        )
        if t.date:
            out.append(
                f'<text class="x-date" x="{x:.1f}" y="{base + 32}" text-anchor="middle">'
                f"{escape(t.date)}</text>"
            )
    out.append(
        f'<text class="axis-label" x="{WIDTH - RIGHT}" y="{HEIGHT - 6}" '
        'text-anchor="end">time (UTC)</text>'
    )
    return out


def _legend(series: Sequence[Series], swatches: Sequence[Swatch]) -> tuple[list[str], float]:
    """Legend entries laid out in rows across the top; returns them and the plot's top."""
    out: list[str] = []
    x, row = float(LEFT), 0
    items: list[tuple[str, Series | Swatch]] = [(s.name, s) for s in series]
    items += [(s.label, s) for s in swatches]
    for name, item in items:
        width = 20 + len(name) * CHAR_PX + 18
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, row = float(LEFT), row + 1
        y = 8 + row * LEGEND_ROW
        if isinstance(item, Series):
            dash = ' stroke-dasharray="6 4"' if item.dashed else ""
            mark = (
                f'<line x1="{x:.0f}" y1="{y + 3}" x2="{x + 16:.0f}" y2="{y + 3}" '
                f'stroke="{item.color}" stroke-width="3"{dash}/>'
            )
        else:
            mark = f'<rect x="{x:.0f}" y="{y - 3}" width="16" height="12" class="{item.css}"/>'
        out.append(f'{mark}<text x="{x + 20:.0f}" y="{y + 7}">{escape(name)}</text>')
        x += width
    return out, 8 + (row + 1) * LEGEND_ROW + 12


def _lines(f: _Frame, series: Sequence[Series]) -> list[str]:
    out = []
    for s in series:
        pts = " ".join(f"{f.px(x):.1f},{f.py(y):.1f}" for x, y in s.points)
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        out.append(
            f'<polyline class="series" points="{pts}" fill="none" stroke="{s.color}" '
            f'stroke-width="2"{dash}><title>{escape(s.name)}</title></polyline>'
        )
    return out


def _bands(f: _Frame, bands: Sequence[Band]) -> list[str]:
    out = []
    for b in bands:
        x0, x1 = f.px(b.x0), f.px(b.x1)
        top = f.top if b.y1 is None else f.py(f.clip_y(b.y1))
        bottom = HEIGHT - BOTTOM if b.y0 is None else f.py(f.clip_y(b.y0))
        data = "".join(f' data-{k}="{escape(v)}"' for k, v in b.data)
        out.append(
            f'<rect class="{b.css}" x="{x0:.1f}" y="{top:.1f}" width="{max(x1 - x0, 0.5):.1f}" '
            f'height="{max(bottom - top, 0.0):.1f}"{data}><title>{escape(b.label)}</title></rect>'
        )
    return out


def _markers(f: _Frame, markers: Sequence[Marker]) -> list[str]:
    out = []
    for m in markers:
        x, y = f.px(m.x), f.py(m.y)
        pts = (
            f"{x:.1f},{y - 7:.1f} {x - 6:.1f},{y + 5:.1f} {x + 6:.1f},{y + 5:.1f}"
            if m.up
            else f"{x:.1f},{y + 7:.1f} {x - 6:.1f},{y - 5:.1f} {x + 6:.1f},{y - 5:.1f}"
        )
        cls = "buy" if m.up else "sell"
        out.append(
            f'<polygon class="fill-mark {cls}" points="{pts}">'
            f"<title>{escape(m.label)}</title></polygon>"
        )
    return out


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    y_label: str,
    markers: Sequence[Marker] = (),
    bands: Sequence[Band] = (),
    swatches: Sequence[Swatch] = (),
    zero: bool = False,
    chart_id: str = "",
) -> str:
    """An SVG line chart; `y_label` names the y unit, `zero` keeps 0 on the y axis (PnL,
    deltas), `bands` are drawn behind the lines (`swatches` explain them in the legend)."""
    ident = f' id="chart-{escape(chart_id)}"' if chart_id else ""
    head = (
        f'<figure class="chart"{ident}><figcaption>{escape(title)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}">'
    )
    legend, top = _legend(series, swatches)
    frame = _frame(series, markers, bands, zero, top)
    if frame is None:
        body = [f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no data</text>']
    else:
        body = [
            *_bands(frame, bands),
            *_y_axis(frame, y_label),
            *_x_axis(frame),
            *_lines(frame, series),
            *_markers(frame, markers),
            *legend,
        ]
    return head + "".join(body) + "</svg></figure>"
