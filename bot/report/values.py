"""The values the attribution produces (USD, exact Decimal); see `attribution` for the identity."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext

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
    def component_sum(self) -> Decimal:
        """lp_pnl + hedge_pnl + funding - trading_fees: equals `net` exactly."""
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return self.lp_pnl + self.hedge_pnl + self.funding - self.trading_fees

    def __add__(self, other: Components) -> Components:
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return Components(*(getattr(self, f) + getattr(other, f) for f in COMPONENT_FIELDS))


COMPONENT_FIELDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Components))


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
class Attribution:
    total: Components
    days: tuple[DayRow, ...]
    series: tuple[PnlPoint, ...]
    deltas: tuple[DeltaPoint, ...]
    fills: tuple[FillView, ...]
    warnings: tuple[str, ...]
