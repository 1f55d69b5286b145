"""Round time ticks for chart axes, in UTC: whole minutes, hours, days or months.

An axis cut into equal fifths of the window labels 23:48 and 03-12 23:36; a reader wants
06:00, 12:00, Mar 12. Pure: times are ms since the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
STEPS_MS: tuple[int, ...] = (
    MINUTE_MS,
    2 * MINUTE_MS,
    5 * MINUTE_MS,
    10 * MINUTE_MS,
    15 * MINUTE_MS,
    30 * MINUTE_MS,
    HOUR_MS,
    2 * HOUR_MS,
    3 * HOUR_MS,
    6 * HOUR_MS,
    12 * HOUR_MS,
    DAY_MS,
    2 * DAY_MS,
    7 * DAY_MS,
    14 * DAY_MS,
)
"""Fixed steps, aligned to the epoch (so to midnight UTC); longer spans step by months."""
MONTH_STEPS: tuple[int, ...] = (1, 2, 3, 6, 12)


@dataclass(frozen=True, slots=True)
class TimeTick:
    """One axis tick: `label` under the axis, `date` on a second line ('' to leave it out:
    it is shown on the first tick and where the day, or for day steps the year, changes)."""

    ts_ms: int
    label: str
    date: str


def _utc(ts_ms: int) -> datetime:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC)


def _fixed(x0_ms: int, x1_ms: int, step: int) -> list[int]:
    first = -(-x0_ms // step) * step
    return list(range(first, x1_ms + 1, step))


def _months(x0_ms: int, x1_ms: int, max_ticks: int) -> tuple[list[int], int]:
    start = _utc(x0_ms)
    for months in MONTH_STEPS:
        index = start.year * 12 + start.month - 1
        index = -(-index // months) * months  # the first month start on the step's grid
        out: list[int] = []
        while True:
            ts = int(datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC).timestamp() * 1000)
            if ts > x1_ms:
                break
            if ts >= x0_ms:
                out.append(ts)
            index += months
        if len(out) <= max_ticks or months == MONTH_STEPS[-1]:
            return out, months
    raise AssertionError("unreachable")


def _labels(times: list[int], step_ms: int) -> list[TimeTick]:
    out: list[TimeTick] = []
    last = ""
    for ts in times:
        t = _utc(ts)
        if step_ms < DAY_MS:
            label, second, key = t.strftime("%H:%M"), t.strftime("%b %d"), t.strftime("%Y-%m-%d")
        elif step_ms < 28 * DAY_MS:
            label, second, key = t.strftime("%b %d"), t.strftime("%Y"), t.strftime("%Y")
        else:
            label, second, key = t.strftime("%b"), t.strftime("%Y"), t.strftime("%Y")
        out.append(TimeTick(ts, label, second if key != last else ""))
        last = key
    return out


def time_ticks(x0_ms: float, x1_ms: float, max_ticks: int = 12) -> list[TimeTick]:
    """Ticks at round UTC times inside [x0_ms, x1_ms], at most `max_ticks` of them (the
    finest step that fits); one tick at x0 when the span is empty."""
    lo, hi = int(x0_ms), int(x1_ms)
    if hi <= lo:
        return _labels([lo], DAY_MS if lo % DAY_MS == 0 else MINUTE_MS)
    step = next((s for s in STEPS_MS if (hi - lo) // s < max_ticks), None)
    if step is not None:
        times = _fixed(lo, hi, step) or [lo]  # no whole minute inside a short span
        return _labels(times, step)
    times, months = _months(lo, hi, max_ticks)
    return _labels(times, months * 30 * DAY_MS)
