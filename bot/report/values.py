"""The values the attribution produces (USD, exact Decimal); see `attribution` for the identity."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

from bot.domain.events import GreeksRow
from bot.domain.orders import Side
from bot.report.hedge_book import PRECISION, ZERO


@dataclass(frozen=True, slots=True)
class Components:
    """PnL parts in USD. `net` is computed from values, not as the sum of the parts."""

    lp_fees: Decimal = ZERO
    lp_il: Decimal = ZERO
    lp_hold: Decimal = ZERO
    hedge_realised: Decimal = ZERO
    hedge_unrealised: Decimal = ZERO
    funding: Decimal = ZERO
    trading_fees: Decimal = ZERO
    slippage: Decimal = ZERO
    net: Decimal = ZERO
    options_premium: Decimal = ZERO
    options_fees: Decimal = ZERO
    options_settlement: Decimal = ZERO
    options_mtm: Decimal = ZERO
    options_theta_paid: Decimal = ZERO

    @property
    def lp_pnl(self) -> Decimal:
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return self.lp_fees + self.lp_il + self.lp_hold

    @property
    def hedge_pnl(self) -> Decimal:
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return self.hedge_realised + self.hedge_unrealised

    @property
    def options_pnl(self) -> Decimal:
        """Premiums (received > 0) + settlements + change in option value - option fees."""
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return (
                self.options_premium
                + self.options_settlement
                + self.options_mtm
                - self.options_fees
            )

    @property
    def component_sum(self) -> Decimal:
        """lp_pnl + hedge_pnl + funding - trading_fees + options_pnl: equals `net` exactly."""
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return (
                self.lp_pnl + self.hedge_pnl + self.funding - self.trading_fees + self.options_pnl
            )

    def __add__(self, other: Components) -> Components:
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return Components(*(getattr(self, f) + getattr(other, f) for f in COMPONENT_FIELDS))


COMPONENT_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Components))
OPTION_FIELDS: tuple[str, ...] = tuple(f for f in COMPONENT_FIELDS if f.startswith("options_"))
"""Shown only when the ledger has options, so a report without them keeps its old shape."""
BASE_FIELDS: tuple[str, ...] = tuple(f for f in COMPONENT_FIELDS if f not in OPTION_FIELDS)


@dataclass(frozen=True, slots=True)
class DayRow:
    day: date
    pnl: Components
    ticks: int
    fills: int
    funding_payments: int


@dataclass(frozen=True, slots=True)
class PnlPoint:
    """Cumulative attribution since the window's start, at one tick."""

    ts_ms: int
    cumulative: Components


@dataclass(frozen=True, slots=True)
class DeltaPoint:
    """Exposure of one asset at one tick; `hedge_ratio` = -hedge / lp_delta (None if no LP)."""

    ts_ms: int
    asset: str
    lp_delta: Decimal
    hedge: Decimal
    net_delta: Decimal
    hedge_ratio: Decimal | None
    price_usd: Decimal


@dataclass(frozen=True, slots=True)
class FillView:
    """One fill as the report shows it: signed base quantity, USD fee, slippage cost."""

    seq: int
    ts_ms: int
    client_id: str
    trade_id: str
    symbol: str
    asset: str
    side: Side
    qty_base: Decimal
    price: Decimal
    decision_price: Decimal | None
    fee_usd: Decimal
    slippage_usd: Decimal


@dataclass(frozen=True, slots=True)
class OptionFlow:
    """One option trade or settlement as the report shows it.

    Trades: `contracts` as filled (unsigned, `side` buy/sell), `price` the premium per
    contract in `currency`, `premium` = price x contracts x contract size (in `currency`),
    `usd_rate` the USD price of `currency` at the tick the trade came from. Settlements:
    `contracts` signed as held, `price` the settlement price (USD), `premium` the payout in
    `currency`. `cash_usd` is what it did to the account (paid < 0, received > 0).
    """

    seq: int
    ts_ms: int
    kind: str
    symbol: str
    asset: str
    side: str
    contracts: Decimal
    price: Decimal
    currency: str
    premium: Decimal
    usd_rate: Decimal | None
    cash_usd: Decimal
    fee_usd: Decimal


@dataclass(frozen=True, slots=True)
class GreeksPoint:
    """The book's greeks on one asset at one tick (from a BOOK_GREEKS event; floats)."""

    ts_ms: int
    row: GreeksRow

    @property
    def net_delta(self) -> float:
        """LP + perp + options delta, base units."""
        return float(self.row.lp_delta) + float(self.row.perp_delta) + self.row.options_delta

    @property
    def net_expiry_delta(self) -> float:
        """LP + perp + options counted at their delta at expiry (what `options_overlay`
        hedges: zero there while the book's current delta keeps the options' time value)."""
        lp_perp = float(self.row.lp_delta) + float(self.row.perp_delta)
        return lp_perp + self.row.options_expiry_delta

    @property
    def net_gamma(self) -> float:
        return self.row.lp_gamma + self.row.options_gamma


@dataclass(frozen=True, slots=True)
class OptionsReport:
    """Options over the window (USD). `pnl_usd` equals the total's `options_pnl`:
    received - paid - fees + settlements + (value_end - value_start)."""

    premiums_paid_usd: Decimal
    premiums_received_usd: Decimal
    fees_usd: Decimal
    settlements_usd: Decimal
    value_start_usd: Decimal
    value_end_usd: Decimal
    pnl_usd: Decimal
    theta_paid_usd: Decimal
    flows: tuple[OptionFlow, ...]
    greeks: tuple[GreeksPoint, ...]
    open_contracts: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True, slots=True)
class Attribution:
    total: Components
    days: tuple[DayRow, ...]
    series: tuple[PnlPoint, ...]
    deltas: tuple[DeltaPoint, ...]
    fills: tuple[FillView, ...]
    warnings: tuple[str, ...]
    options: OptionsReport | None = None
    """None when the ledger has no option trades, settlements or option greeks."""
