"""Options in the attribution: premiums, fees, settlements and the book's option value. Pure.

Option fills (symbols `bot.options.chain.parse_symbol` reads) never enter the perp hedge
book. Over the interval that closes at a tick:

    options_pnl = premiums (received > 0, paid < 0) + settlement payouts - option fees
                  + (option value at this tick - option value at the tick before)

The option value of a tick is the sum of `options_value_usd` of the BOOK_GREEKS event that
belongs to it (same block, the nearest in ledger order; written just before or after the
TICK). Cash flows are cut at that event, not at the TICK: a trade recorded before it is
inside its value, so the premium paid and the value it bought land in the same interval
whatever order the engine writes them in. A tick without BOOK_GREEKS keeps the value
before it (with a warning) while options are held, else 0.

A premium is fill price x contracts x contract size (from the intent: amount_base / amount;
1 without an intent, as for Deribit ETH options) in the premium currency (the symbol's
settle: ETH for `ETH/USD:ETH-...`). Coin premiums and coin fees convert to USD at the price
of the tick the trade came from (the last TICK before the fill). Theta paid is
-∫ options_theta dt between ticks by the trapezoid rule, -(theta0 + theta1) / 2 x days
(theta in USD/day, the book's sum over assets; 0 at a tick where nothing is held): a memo
item, already inside the value change, positive when long options decay.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from bot.domain.events import BookGreeks, OptionSettlement, Tick
from bot.domain.orders import Fill, OrderIntent, Side
from bot.options.chain import is_option_symbol, parse_symbol
from bot.report.hedge_book import PRECISION, QUANTUM, ZERO
from bot.report.load import At, ReportData
from bot.report.prices import USD_LIKE, asset_of_symbol, usd_price
from bot.report.values import Components, GreeksPoint, OptionFlow, OptionsReport

DAY_MS = 86_400_000


def premium_currency(symbol: str) -> str:
    """The currency an option's premium is paid in: the symbol's settle currency."""
    return parse_symbol(symbol)[2]


@dataclass(frozen=True, slots=True)
class OptionsStep:
    """Options over the interval that closes at one tick (USD)."""

    premium: Decimal
    fees: Decimal
    settlement: Decimal
    value_before: Decimal
    value_after: Decimal
    theta_paid: Decimal
    flows: tuple[OptionFlow, ...]

    def components(self) -> Components:
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return Components(
                options_premium=self.premium,
                options_fees=self.fees,
                options_settlement=self.settlement,
                options_mtm=self.value_after - self.value_before,
                options_theta_paid=self.theta_paid,
            )

    @property
    def net(self) -> Decimal:
        """The account's change from options, from values: Δ value + cash in - fees."""
        with localcontext() as ctx:
            ctx.prec = PRECISION
            cash = sum((f.cash_usd - f.fee_usd for f in self.flows), ZERO)
            return self.value_after - self.value_before + cash


@dataclass(frozen=True, slots=True)
class OptionsPass:
    """The options replay of a whole ledger: a step per closing tick seq, values per tick."""

    present: bool
    steps: Mapping[int, OptionsStep]
    values: Mapping[int, Decimal]
    flows: tuple[OptionFlow, ...]
    greeks: Mapping[int, At[BookGreeks]]
    open_contracts: tuple[tuple[str, Decimal], ...]
    warnings: tuple[str, ...]


@dataclass
class _Walk:
    """Mutable state of one replay (local to `replay`)."""

    holdings: dict[str, Decimal] = field(default_factory=lambda: defaultdict(lambda: ZERO))
    value: Decimal = ZERO
    theta: Decimal = ZERO
    carried: int = 0


def _dec(x: float) -> Decimal:
    """A ledger float (greeks) as the decimal it was written as (its shortest text)."""
    return Decimal(repr(x))


class _Replay:
    def __init__(
        self, data: ReportData, intents: Mapping[str, OrderIntent], assets: Mapping[str, str]
    ) -> None:
        self.data = data
        self.intents = intents
        self.assets = assets
        self.ticks = data.ticks
        self.tick_seqs = [t.seq for t in data.ticks]
        self.warn: list[str] = []

    def run(self) -> OptionsPass:
        greeks = self._assign_greeks()
        cuts = self._cuts(greeks)
        raw: list[At[Fill] | At[OptionSettlement]] = [
            *(f for f in self.data.fills if is_option_symbol(f.value.symbol)),
            *self.data.settlements,
        ]
        flows = [self._flow(item) for item in sorted(raw, key=lambda i: i.seq)]
        by_cut: dict[int, list[OptionFlow]] = defaultdict(list)
        for f in flows:
            by_cut[bisect_left(cuts, f.seq)].append(f)
        late = len(by_cut.get(len(cuts), []))
        if late:
            self.warn.append(
                f"{late} option trade(s)/settlement(s) after the last tick are not attributed "
                "yet (they count from the next tick)"
            )
        walk = _Walk()
        steps: dict[int, OptionsStep] = {}
        values: dict[int, Decimal] = {}
        for j, tick in enumerate(self.ticks):
            before, theta_before = walk.value, walk.theta
            self._advance(walk, by_cut.get(j, []), greeks.get(j))
            values[tick.seq] = walk.value
            if j > 0:
                dt_ms = tick.ts_ms - self.ticks[j - 1].ts_ms
                paid = (-(theta_before + walk.theta) * dt_ms / (2 * DAY_MS)).quantize(QUANTUM)
                steps[tick.seq] = self._step(by_cut.get(j, []), before, walk.value, paid)
        if walk.carried:
            self.warn.append(
                f"{walk.carried} tick(s) without BOOK_GREEKS while options were held: "
                "option value carried from the tick before"
            )
        held = tuple((s, q) for s, q in sorted(walk.holdings.items()) if q != 0)
        present = bool(flows) or any(_has_option_greeks(g.value) for g in self.data.greeks)
        return OptionsPass(
            present,
            steps,
            values,
            tuple(flows),
            {self.ticks[j].seq: g for j, g in greeks.items()},
            held,
            tuple(self.warn),
        )

    def _assign_greeks(self) -> dict[int, At[BookGreeks]]:
        """Tick index -> its BOOK_GREEKS: same block, just after the tick (else just before)."""
        out: dict[int, At[BookGreeks]] = {}
        blocks = [t.value.block for t in self.ticks]
        for g in self.data.greeks:
            i = bisect_left(self.tick_seqs, g.seq) - 1
            near = (j for j in (i, i + 1) if 0 <= j < len(blocks))
            hit = next((j for j in near if blocks[j] == g.value.block), None)
            if hit is None:
                self.warn.append(f"book greeks of block {g.value.block} match no tick; left out")
            else:
                out[hit] = g  # a later event for the same tick wins
        return out

    def _cuts(self, greeks: dict[int, At[BookGreeks]]) -> list[int]:
        """Where each tick's interval ends for options: its BOOK_GREEKS, else the TICK."""
        cuts: list[int] = []
        for j, tick in enumerate(self.ticks):
            cut = greeks[j].seq if j in greeks else tick.seq
            if cuts and cut <= cuts[-1]:
                self.warn.append(f"book greeks seq {cut} out of order; tick {tick.seq} used")
                greeks.pop(j)
                cut = tick.seq
            cuts.append(cut)
        return cuts

    def _price_tick(self, seq: int) -> Tick | None:
        i = bisect_left(self.tick_seqs, seq) - 1
        return self.ticks[i].value if i >= 0 else None

    def _flow(self, item: At[Fill] | At[OptionSettlement]) -> OptionFlow:
        if isinstance(item.value, OptionSettlement):
            s = item.value
            rate = Decimal(1) if s.currency.upper() in USD_LIKE else s.settle_price
            return OptionFlow(
                item.seq,
                item.ts_ms,
                "settlement",
                s.symbol,
                s.asset,
                "settle",
                s.contracts,
                s.settle_price,
                s.currency,
                s.payout,
                rate,
                s.payout_usd,
                ZERO,
            )
        return self._trade(item.seq, item.ts_ms, item.value)

    def _trade(self, seq: int, ts_ms: int, f: Fill) -> OptionFlow:
        tick = self._price_tick(seq)
        intent = self.intents.get(f.client_id)
        size = (
            Decimal(1)
            if intent is None or intent.amount == 0
            else (intent.amount_base / intent.amount).quantize(QUANTUM)
        )
        currency = premium_currency(f.symbol)
        premium = f.price * f.amount * size
        rate = usd_price(tick, currency)
        if rate is None:
            self.warn.append(f"option fill {f.trade_id}: no USD price for {currency}; left out")
        fee_rate = usd_price(tick, f.fee_currency) if f.fee else Decimal(1)
        if fee_rate is None:
            self.warn.append(f"option fill {f.trade_id}: no USD price for fee in {f.fee_currency}")
        sign = -1 if f.side is Side.BUY else 1
        return OptionFlow(
            seq,
            f.ts_ms or ts_ms,
            "trade",
            f.symbol,
            asset_of_symbol(f.symbol, self.assets),
            f.side.value,
            f.amount,
            f.price,
            currency,
            premium,
            rate,
            sign * premium * (rate or ZERO),
            f.fee * (fee_rate or ZERO),
        )

    def _advance(self, walk: _Walk, flows: Sequence[OptionFlow], g: At[BookGreeks] | None) -> None:
        for f in flows:
            if f.kind == "settlement":
                walk.holdings[f.symbol] -= f.contracts
            else:
                walk.holdings[f.symbol] += f.contracts if f.side == Side.BUY.value else -f.contracts
        if g is not None:
            walk.value = sum((r.options_value_usd for r in g.value.rows), ZERO)
            walk.theta = sum((_dec(r.options_theta) for r in g.value.rows), ZERO)
        elif not any(walk.holdings.values()):
            walk.value, walk.theta = ZERO, ZERO
        else:
            walk.carried += 1

    def _step(
        self, flows: Sequence[OptionFlow], before: Decimal, after: Decimal, theta_paid: Decimal
    ) -> OptionsStep:
        trades = [f for f in flows if f.kind == "trade"]
        return OptionsStep(
            premium=sum((f.cash_usd for f in trades), ZERO),
            fees=sum((f.fee_usd for f in flows), ZERO),
            settlement=sum((f.cash_usd for f in flows if f.kind == "settlement"), ZERO),
            value_before=before,
            value_after=after,
            theta_paid=theta_paid,
            flows=tuple(flows),
        )


def _has_option_greeks(g: BookGreeks) -> bool:
    return any(
        r.options_value_usd != 0 or r.options_delta != 0 or r.options_gamma != 0 for r in g.rows
    )


def replay(
    data: ReportData, intents: Mapping[str, OrderIntent], assets: Mapping[str, str]
) -> OptionsPass:
    """The options of the whole ledger in `data`, interval by interval (see the docstring)."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return _Replay(data, intents, assets).run()


def summary(data: ReportData, opt: OptionsPass) -> OptionsReport:
    """The options of the window: sums over the intervals that close inside it."""
    window = [t for t in data.ticks if data.in_window(t.ts_ms)]
    steps = [opt.steps[t.seq] for t in window if t.seq in opt.steps]
    flows = [f for s in steps for f in s.flows]
    trades = [f for f in flows if f.kind == "trade"]
    with localcontext() as ctx:
        ctx.prec = PRECISION
        last = opt.values[window[-1].seq] if window else ZERO
        total = sum((s.components() for s in steps), Components())
        return OptionsReport(
            premiums_paid_usd=-sum((f.cash_usd for f in trades if f.side == "buy"), ZERO),
            premiums_received_usd=sum((f.cash_usd for f in trades if f.side == "sell"), ZERO),
            fees_usd=total.options_fees,
            settlements_usd=total.options_settlement,
            value_start_usd=steps[0].value_before if steps else last,
            value_end_usd=last,
            pnl_usd=total.options_pnl,
            theta_paid_usd=total.options_theta_paid,
            flows=tuple(f for f in opt.flows if data.in_window(f.ts_ms)),
            greeks=tuple(
                GreeksPoint(g.ts_ms, row)
                for t in window
                if (g := opt.greeks.get(t.seq)) is not None
                for row in g.value.rows
            ),
            open_contracts=opt.open_contracts,
        )
