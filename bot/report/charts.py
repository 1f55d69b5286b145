"""Line charts as inline SVG text, drawn here so the HTML report needs nothing external.

Values are floats (drawing only; the numbers in tables stay exact). x is time in ms since
the epoch, shown in UTC.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

WIDTH, HEIGHT = 1100, 300
LEFT, RIGHT, TOP, BOTTOM = 80, 20, 34, 40


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
class _Frame:
    x0: float
    x1: float
    y0: float
    y1: float

    def px(self, x: float) -> float:
        span = self.x1 - self.x0 or 1.0
        return LEFT + (x - self.x0) / span * (WIDTH - LEFT - RIGHT)

    def py(self, y: float) -> float:
        span = self.y1 - self.y0 or 1.0
        return HEIGHT - BOTTOM - (y - self.y0) / span * (HEIGHT - TOP - BOTTOM)


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


def _frame(series: Sequence[Series], markers: Sequence[Marker], zero: bool) -> _Frame | None:
    xs = [x for s in series for x, _ in s.points] + [m.x for m in markers]
    ys = [y for s in series for _, y in s.points] + [m.y for m in markers]
    if not xs:
        return None
    if zero:
        ys.append(0.0)
    lo, hi = min(ys), max(ys)
    pad = (hi - lo) * 0.05 or abs(hi) * 0.05 or 1.0
    ticks = nice_ticks(lo - pad, hi + pad)
    return _Frame(min(xs), max(xs), ticks[0], ticks[-1])


def _axes(f: _Frame) -> list[str]:
    out = []
    for v in nice_ticks(f.y0, f.y1):
        if f.y0 <= v <= f.y1:
            y = f.py(v)
            out.append(
                f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="grid"/>'
                f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_label(v)}</text>'
            )
    for i in range(6):
        x = f.x0 + (f.x1 - f.x0) * i / 5
        when = datetime.fromtimestamp(x / 1000, tz=UTC).strftime("%m-%d %H:%M")
        anchor = "start" if i == 0 else "end" if i == 5 else "middle"
        out.append(
            f'<text x="{f.px(x):.1f}" y="{HEIGHT - BOTTOM + 18}" '
            f'text-anchor="{anchor}">{when}</text>'
        )
    if f.y0 < 0 < f.y1:
        y = f.py(0.0)
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" class="zero"/>'
        )
    return out


def _lines(f: _Frame, series: Sequence[Series]) -> list[str]:
    out = []
    for i, s in enumerate(series):
        pts = " ".join(f"{f.px(x):.1f},{f.py(y):.1f}" for x, y in s.points)
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        out.append(
            f'<polyline class="series" points="{pts}" fill="none" stroke="{s.color}" '
            f'stroke-width="2"{dash}><title>{escape(s.name)}</title></polyline>'
        )
        lx = LEFT + 10 + i * 140
        out.append(
            f'<rect x="{lx}" y="8" width="14" height="4" fill="{s.color}"/>'
            f'<text x="{lx + 20}" y="14">{escape(s.name)}</text>'
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
    markers: Sequence[Marker] = (),
    zero: bool = False,
) -> str:
    """An SVG line chart; `zero` keeps 0 on the y axis (PnL, deltas)."""
    head = (
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(title)}">'
    )
    frame = _frame(series, markers, zero)
    if frame is None:
        body = [f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">no data</text>']
    else:
        body = [*_axes(frame), *_lines(frame, series), *_markers(frame, markers)]
    return head + "".join(body) + "</svg></figure>"
