"""Each LP position's price range over the window, in USD, and when the price was in it. Pure.

A TICK records per position whether the pool's tick was inside the range (`in_range`, from
the chain) and, since the range is recorded, its bounds in quote per base (`price_lower`,
`price_upper`). A tick's state holds until the next tick; consecutive ticks with the same
state and bounds make one span.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bot.domain.events import PositionRow, Tick
from bot.report.load import At, ReportData
from bot.report.prices import usd_price


@dataclass(frozen=True, slots=True)
class RangeSpan:
    """One position over [start_ms, end_ms]: its bounds in USD per base (None when the
    ledger has no range: v2, or written before ranges were recorded) and in/out of range."""

    position_id: str
    asset: str
    start_ms: int
    end_ms: int
    lower_usd: Decimal | None
    upper_usd: Decimal | None
    in_range: bool


@dataclass(frozen=True, slots=True)
class PositionRange:
    """A position's range and its time in range over the window (ms; share 0..1)."""

    position_id: str
    pool: str
    asset: str
    quote: str
    lower: Decimal | None
    upper: Decimal | None
    ticks: int
    ticks_out: int
    ms_in: int
    ms_total: int

    @property
    def share_in(self) -> Decimal | None:
        """The share of the window's time the price was in range (None: one tick only)."""
        return None if self.ms_total == 0 else Decimal(self.ms_in) / Decimal(self.ms_total)


def _bounds(tick: Tick, row: PositionRow) -> tuple[Decimal | None, Decimal | None]:
    quote = usd_price(tick, row.quote)
    if quote is None:
        return None, None
    lower = None if row.price_lower is None else row.price_lower * quote
    upper = None if row.price_upper is None else row.price_upper * quote
    return lower, upper


def _window_ticks(data: ReportData) -> list[At[Tick]]:
    return [t for t in data.ticks if data.in_window(t.ts_ms)]


def range_spans(data: ReportData) -> tuple[RangeSpan, ...]:
    """Spans per position in time order (positions in the order they first appear)."""
    ticks = _window_ticks(data)
    open_spans: dict[str, RangeSpan] = {}
    done: list[RangeSpan] = []
    for i, item in enumerate(ticks):
        end = ticks[i + 1].ts_ms if i + 1 < len(ticks) else item.ts_ms
        seen = set()
        for row in item.value.positions:
            seen.add(row.position_id)
            lower, upper = _bounds(item.value, row)
            span = RangeSpan(row.position_id, row.base, item.ts_ms, end, lower, upper, row.in_range)
            last = open_spans.get(row.position_id)
            if last is not None and (last.lower_usd, last.upper_usd, last.in_range) == (
                lower,
                upper,
                row.in_range,
            ):
                open_spans[row.position_id] = RangeSpan(
                    last.position_id, last.asset, last.start_ms, end, lower, upper, row.in_range
                )
                continue
            if last is not None:
                done.append(last)
            open_spans[row.position_id] = span
        for gone in [p for p in open_spans if p not in seen]:
            done.append(open_spans.pop(gone))  # closed or burnt: its span ends here
    done.extend(open_spans.values())
    order = {p: i for i, p in enumerate(dict.fromkeys(s.position_id for s in done))}
    return tuple(sorted(done, key=lambda s: (order[s.position_id], s.start_ms)))


def position_ranges(data: ReportData) -> tuple[PositionRange, ...]:
    """Per position: its last recorded range (quote per base) and time in range."""
    ticks = _window_ticks(data)
    rows: dict[str, PositionRow] = {}
    counts: dict[str, list[int]] = {}
    for i, item in enumerate(ticks):
        dt = ticks[i + 1].ts_ms - item.ts_ms if i + 1 < len(ticks) else 0
        for row in item.value.positions:
            rows[row.position_id] = row
            c = counts.setdefault(row.position_id, [0, 0, 0, 0])
            c[0] += 1
            c[1] += not row.in_range
            c[2] += dt if row.in_range else 0
            c[3] += dt
    return tuple(
        PositionRange(
            pid,
            row.pool,
            row.base,
            row.quote,
            row.price_lower,
            row.price_upper,
            *counts[pid],
        )
        for pid, row in rows.items()
    )
