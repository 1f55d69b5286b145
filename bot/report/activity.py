"""The decisions of the window collapsed to the ticks that acted. Pure.

A tick acted when an order was placed (an ORDER_INTENT) or a halt was recorded in it;
the events of a tick are those between its TICK and the next one in ledger order. The
ticks in between are counted as quiet runs ("N ticks without action"). Option decisions
of one tick that share a reason (a strip of 32 legs) are one line.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from bot.domain.events import Decision, Halt
from bot.domain.orders import OrderIntent
from bot.options.chain import is_option_symbol
from bot.report.load import ReportData


@dataclass(frozen=True, slots=True)
class DecisionLine:
    """One perp decision, or `legs` option decisions with one reason (symbol: the first)."""

    asset: str
    symbol: str
    legs: int
    current: Decimal | None
    target_base: Decimal | None
    act: bool
    orders: int
    reason: str


@dataclass(frozen=True, slots=True)
class ActingTick:
    ts_ms: int
    lines: tuple[DecisionLine, ...]
    halts: tuple[Halt, ...]
    orders: int


@dataclass(frozen=True, slots=True)
class QuietRun:
    """`ticks` consecutive ticks without an order or a halt, from first_ms to last_ms."""

    ticks: int
    first_ms: int
    last_ms: int


@dataclass
class _Group:
    ts_ms: int
    decisions: list[Decision] = field(default_factory=list)
    intents: list[OrderIntent] = field(default_factory=list)
    halts: list[Halt] = field(default_factory=list)


def _lines(group: _Group) -> tuple[DecisionLine, ...]:
    orders: dict[str, int] = defaultdict(int)
    for i in group.intents:
        orders[i.symbol] += 1
    perps: list[DecisionLine] = []
    options: dict[tuple[str, str], list[Decision]] = {}
    for d in group.decisions:
        if is_option_symbol(d.symbol):
            options.setdefault((d.asset, d.reason), []).append(d)
        elif d.act or orders.get(d.symbol):
            perps.append(
                DecisionLine(
                    d.asset,
                    d.symbol,
                    1,
                    d.current,
                    d.target_base,
                    d.act,
                    orders[d.symbol],
                    d.reason,
                )
            )
    legs = [
        DecisionLine(
            asset,
            ds[0].symbol,
            len(ds),
            None,
            None,
            any(d.act for d in ds),
            sum(orders.get(d.symbol, 0) for d in ds),
            reason,
        )
        for (asset, reason), ds in options.items()
        if any(d.act or orders.get(d.symbol) for d in ds)
    ]
    return (*perps, *legs)


def _groups(data: ReportData) -> list[_Group]:
    """One group per tick of the window, and one in front for what came before its first."""
    ticks = [t for t in data.ticks if data.in_window(t.ts_ms)]
    seqs = [t.seq for t in ticks]
    groups = [_Group(t.ts_ms) for t in ticks]
    lead = _Group(0)

    def group_of(seq: int, ts_ms: int) -> _Group | None:
        if not data.in_window(ts_ms):
            return None
        i = bisect_right(seqs, seq) - 1
        if i >= 0:
            return groups[i]
        lead.ts_ms = min(lead.ts_ms or ts_ms, ts_ms)
        return lead

    for d in data.decisions:
        if (g := group_of(d.seq, d.ts_ms)) is not None:
            g.decisions.append(d.value)
    seen: set[str] = set()
    for o in data.intents:
        if o.value.client_id not in seen and (g := group_of(o.seq, o.ts_ms)) is not None:
            seen.add(o.value.client_id)  # an intent re-recorded after a restart is one order
            g.intents.append(o.value)
    for h in data.halts:
        if (g := group_of(h.seq, h.ts_ms)) is not None:
            g.halts.append(h.value)
    return [lead, *groups] if lead.ts_ms else groups


def activity(data: ReportData) -> tuple[ActingTick | QuietRun, ...]:
    """Acting ticks and quiet runs in time order; every decision is in the decisions table."""
    out: list[ActingTick | QuietRun] = []
    quiet: list[int] = []
    for g in _groups(data):
        if not g.intents and not g.halts:
            quiet.append(g.ts_ms)
            continue
        if quiet:
            out.append(QuietRun(len(quiet), quiet[0], quiet[-1]))
            quiet = []
        out.append(ActingTick(g.ts_ms, _lines(g), tuple(g.halts), len(g.intents)))
    if quiet:
        out.append(QuietRun(len(quiet), quiet[0], quiet[-1]))
    return tuple(out)
