"""PnL attribution from the ledger alone: per UTC day and in total, exact in Decimal (USD). Pure.

Time is cut into intervals between consecutive ticks (ledger order); fills and funding
recorded between two ticks belong to the interval that ends at the second. An interval
counts for the day (UTC) of its closing tick, and for the report when that tick lies in
the window; the history before the window is replayed only to know positions and cost.

For one LP position and one token with amount x (principal), uncollected fees f and USD
price P (from the tick's pool price; the quote at 1 if it is USD), from tick 0 to tick 1:
- lp_fees  = growth of f, (f1 - f0) * P1 (after a collection, f0 -> 0: growth = f1)
- lp_il    = x1 * P1 - x0 * P1: LP principal now vs the tokens held at the start, both at
             P1, fees excluded (the impermanent loss, negative as the price moves)
- lp_hold  = (x0 + f0) * (P1 - P0): what holding the start tokens made (price move)
- lp_pnl   = lp_fees + lp_il + lp_hold = (x1 + f1) P1 - (x0 + f0) P0 + collected * P1
Hedges (linear perps, `hedge_book`): hedge_pnl = hedge_realised + Δ hedge_unrealised,
marked at the tick marks. `funding` is the sum of FUNDING amounts (received > 0);
`trading_fees` the perp fills' fees in USD (paid > 0). Options (`options`, never in the
perp hedge book): options_pnl = options_premium (received > 0) + options_settlement
- options_fees + options_mtm (Δ BOOK_GREEKS option value).

The identity, to the last digit (each side computed separately, `net` from values):
    net = lp_pnl + hedge_pnl + funding - trading_fees + options_pnl
        = (LP value incl. fees, change) + (hedge mark-to-market) + funding - trading fees
          + (option value, change) + option cash in (premiums, payouts) - option fees
`slippage` (fill price vs the intent's decision price, a worse fill > 0) is a memo item: it
is already inside hedge_pnl and is not subtracted again; `options_theta_paid` likewise
inside options_mtm. A ledger without options has every options_* component 0.

Limits: a position's PnL starts at the first tick that shows it; liquidity added or removed
between ticks shows up in lp_il (the ledger has no such event yet). Fills and funding after
the last tick wait for the next one (a warning says how many). A symbol without a tick mark
is marked at its asset's USD price, then its last mark, then its last fill price.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from bot.domain.events import PositionRow, Tick
from bot.domain.orders import Fill, FundingPayment, Side
from bot.options.chain import is_option_symbol
from bot.report import options
from bot.report.hedge_book import PRECISION, QUANTUM, ZERO, HedgeBook
from bot.report.load import At, ReportData
from bot.report.prices import asset_of_symbol, usd_price, utc_day
from bot.report.values import (
    COMPONENT_FIELDS,
    Attribution,
    Components,
    DayRow,
    DeltaPoint,
    FillView,
    OptionFlow,
    PnlPoint,
)

__all__ = [
    "COMPONENT_FIELDS",
    "Attribution",
    "Components",
    "DayRow",
    "DeltaPoint",
    "FillView",
    "PnlPoint",
    "attribute",
]

RATIO_QUANTUM = Decimal("1e-12")
"""Hedge ratios are shown to 12 places (a display value, not part of the identity)."""


def _position_prices(tick: Tick, row: PositionRow) -> tuple[Decimal, Decimal] | None:
    """USD prices of (base, quote) at a tick: quote from the asset rows, base = price * quote."""
    quote = usd_price(tick, row.quote)
    if quote is None:
        return None
    return row.price * quote, quote


def _token_parts(
    x0: Decimal, f0: Decimal, p0: Decimal, x1: Decimal, f1: Decimal, p1: Decimal
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    """(fees, il, hold, value change incl. fees and collections) for one token, USD."""
    growth, collected = (f1 - f0, ZERO) if f1 >= f0 else (f1, f0)
    change = (x1 + f1) * p1 - (x0 + f0) * p0 + collected * p1
    return growth * p1, (x1 - x0) * p1, (x0 + f0) * (p1 - p0), change


def _sides(row: PositionRow) -> tuple[tuple[Decimal, Decimal], tuple[Decimal, Decimal]]:
    """((base amount, base fees), (quote amount, quote fees)) in token units."""
    return (row.base_amount, row.base_fees), (row.quote_amount, row.quote_fees)


def lp_interval(prev: Tick, cur: Tick, warn: list[str]) -> tuple[Components, Decimal]:
    """LP parts between two ticks, and the LP value change (incl. fees) computed apart."""
    before = {p.position_id: p for p in prev.positions}
    fees = il = hold = change = ZERO
    with localcontext() as ctx:
        ctx.prec = PRECISION
        for row in cur.positions:
            old = before.get(row.position_id)
            if old is None:
                continue  # a new position: its PnL starts at this tick
            prices0, prices1 = _position_prices(prev, old), _position_prices(cur, row)
            if prices0 is None or prices1 is None:
                warn.append(f"position {row.position_id}: no USD price for {row.quote}; skipped")
                continue
            for (x0, f0), (x1, f1), p0, p1 in zip(
                _sides(old), _sides(row), prices0, prices1, strict=True
            ):
                parts = _token_parts(x0, f0, p0, x1, f1, p1)
                fees, il, hold = fees + parts[0], il + parts[1], hold + parts[2]
                change += parts[3]
    return Components(lp_fees=fees, lp_il=il, lp_hold=hold), change


def delta_points(item: At[Tick]) -> list[DeltaPoint]:
    out = []
    for a in item.value.assets:
        ratio = None if a.lp_delta == 0 else (-a.hedge / a.lp_delta).quantize(RATIO_QUANTUM)
        out.append(
            DeltaPoint(
                item.ts_ms, a.asset, a.lp_delta, a.hedge, a.lp_delta + a.hedge, ratio, a.price_usd
            )
        )
    return out


def _sum(items: Iterable[Components]) -> Components:
    total = Components()
    for c in items:
        total = total + c
    return total


def _group_days(
    intervals: Iterable[tuple[int, Components]], counts: Mapping[date, list[int]]
) -> tuple[DayRow, ...]:
    by_day: dict[date, list[Components]] = defaultdict(list)
    for ts_ms, comps in intervals:
        by_day[utc_day(ts_ms)].append(comps)
    days = sorted(set(by_day) | set(counts))
    return tuple(DayRow(d, _sum(by_day.get(d, [])), *counts.get(d, [0, 0, 0])) for d in days)


@dataclass(frozen=True, slots=True)
class _HedgeStep:
    realised: Decimal
    mtm: Decimal
    trading_fees: Decimal
    slippage: Decimal


class _Replay:
    """The walk over ticks, fills and funding in ledger order (state local to one run)."""

    def __init__(self, data: ReportData) -> None:
        self.data = data
        self.book = HedgeBook()
        self.intents = {i.value.client_id: i.value for i in data.intents}
        self.assets = {d.value.symbol: d.value.asset for d in data.decisions if d.value.symbol}
        self.options = options.replay(data, self.intents, self.assets)
        self.prev: Tick | None = None
        self.prev_ts = 0
        self.marks: dict[str, Decimal] = {}
        self.u_prev = ZERO
        self.fills: list[At[Fill]] = []
        self.funding: list[At[FundingPayment]] = []
        self.intervals: list[tuple[int, Components]] = []
        self.counts: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.series: list[PnlPoint] = []
        self.views: list[FillView] = []
        self.warn: list[str] = []

    def run(self) -> Attribution:
        stream: list[At[Tick] | At[Fill] | At[FundingPayment]] = [
            *self.data.ticks,
            *self.data.fills,
            *self.data.funding,
        ]
        for item in sorted(stream, key=lambda i: i.seq):
            if isinstance(item.value, Tick):
                self._tick(item)
            elif isinstance(item.value, Fill):
                if not is_option_symbol(item.value.symbol):  # options: `self.options`
                    self.fills.append(item)
            else:
                self.funding.append(item)
        if self.fills or self.funding:
            self.warn.append(
                f"{len(self.fills)} fill(s) and {len(self.funding)} funding payment(s) after "
                "the last tick are not attributed yet (they count from the next tick)"
            )
        for item in self.fills:
            self.views.append(self._view(item, self.prev))
        deltas = [
            p for t in self.data.ticks if self.data.in_window(t.ts_ms) for p in delta_points(t)
        ]
        opt = self.options
        return Attribution(
            total=_sum(c for _, c in self.intervals),
            days=_group_days(self.intervals, self.counts),
            series=tuple(self.series),
            deltas=tuple(deltas),
            fills=tuple(v for v in self.views if self.data.in_window(v.ts_ms)),
            warnings=tuple(dict.fromkeys([*self.warn, *opt.warnings])),
            options=options.summary(self.data, opt) if opt.present else None,
        )

    def _tick(self, item: At[Tick]) -> None:
        tick = item.value
        marks = self._marks(tick)
        step = self._hedge(marks, self.prev or tick)
        funding = self._funding(self.prev or tick)
        u_now = self.book.unrealised(marks)
        if self.prev is not None and self.data.in_window(item.ts_ms):
            opt = self.options.steps[item.seq]
            lp, lp_change = lp_interval(self.prev, tick, self.warn)
            with localcontext() as ctx:
                ctx.prec = PRECISION
                comps = dataclasses.replace(
                    lp + opt.components(),
                    hedge_realised=step.realised,
                    hedge_unrealised=u_now - self.u_prev,
                    funding=funding,
                    trading_fees=step.trading_fees,
                    slippage=step.slippage,
                    net=lp_change + step.mtm + funding - step.trading_fees + opt.net,
                )
            self._record(item.ts_ms, comps, opt.flows)
        self.prev, self.prev_ts, self.marks, self.u_prev = tick, item.ts_ms, marks, u_now
        self.fills, self.funding = [], []

    def _record(self, ts_ms: int, comps: Components, option_flows: Iterable[OptionFlow]) -> None:
        self.intervals.append((ts_ms, comps))
        self.counts[utc_day(ts_ms)][0] += 1
        for f in self.fills:
            self.counts[utc_day(f.ts_ms)][1] += 1
        for o in option_flows:
            self.counts[utc_day(o.ts_ms)][1] += o.kind == "trade"
        for p in self.funding:
            self.counts[utc_day(p.ts_ms)][2] += 1
        if not self.series:
            self.series.append(PnlPoint(self.prev_ts, Components()))  # the window's start
        self.series.append(PnlPoint(ts_ms, self.series[-1].cumulative + comps))

    def _marks(self, tick: Tick) -> dict[str, Decimal]:
        """A mark for every symbol held or traded: tick mark, asset price, last mark, fill."""
        symbols = {s for s, leg in self.book.legs().items() if leg.qty != 0}
        symbols |= {f.value.symbol for f in self.fills}
        out: dict[str, Decimal] = {}
        for symbol in symbols:
            asset = asset_of_symbol(symbol, self.assets)
            mark = tick.marks.get(symbol) or tick.marks.get(asset) or usd_price(tick, asset)
            if mark is None:
                mark = self.marks.get(symbol)
            if mark is None:
                mark = next(f.value.price for f in reversed(self.fills) if f.value.symbol == symbol)
                self.warn.append(f"{symbol}: no mark in the ticks; marked at its last fill price")
            out[symbol] = mark
        return out

    def _hedge(self, marks: Mapping[str, Decimal], price_tick: Tick) -> _HedgeStep:
        realised = fees = slippage = ZERO
        with localcontext() as ctx:
            ctx.prec = PRECISION
            mtm = sum(
                (
                    leg.qty * (marks[s] - self.marks[s])
                    for s, leg in self.book.legs().items()
                    if leg.qty != 0
                ),
                ZERO,
            )
            for item in self.fills:
                view = self._view(item, price_tick)
                self.views.append(view)
                realised += self.book.fill(view.symbol, view.qty_base, view.price)
                mtm += view.qty_base * (marks[view.symbol] - view.price)
                fees += view.fee_usd
                slippage += view.slippage_usd
        return _HedgeStep(realised, mtm, fees, slippage)

    def _funding(self, price_tick: Tick) -> Decimal:
        total = ZERO
        for item in self.funding:
            p = item.value
            price = usd_price(price_tick, p.currency)
            if price is None:
                self.warn.append(f"funding {p.payment_id}: no USD price for {p.currency}; left out")
                continue
            total += p.amount * price
        return total

    def _view(self, item: At[Fill], price_tick: Tick | None) -> FillView:
        f = item.value
        intent = self.intents.get(f.client_id)
        size = (
            ZERO
            if intent is None or intent.amount == 0
            else (intent.amount_base / intent.amount).quantize(QUANTUM)
        )
        base = f.amount_base if f.amount_base is not None else f.amount * (size or Decimal(1))
        qty = base * (1 if f.side is Side.BUY else -1)
        fee_price = usd_price(price_tick, f.fee_currency) if f.fee else Decimal(1)
        if fee_price is None:
            self.warn.append(f"fill {f.trade_id}: no USD price for fee in {f.fee_currency}")
        decision = None if intent is None else intent.decision_price
        return FillView(
            seq=item.seq,
            ts_ms=f.ts_ms or item.ts_ms,
            client_id=f.client_id,
            trade_id=f.trade_id,
            symbol=f.symbol,
            asset=asset_of_symbol(f.symbol, self.assets),
            side=f.side,
            qty_base=qty,
            price=f.price,
            decision_price=decision,
            fee_usd=f.fee * (fee_price or ZERO),
            slippage_usd=ZERO if decision is None else (f.price - decision) * qty,
        )


def attribute(data: ReportData) -> Attribution:
    """Attribute PnL over the window of `data` (see the module docstring for the identity)."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return _Replay(data).run()
