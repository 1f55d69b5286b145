"""The vectorised backtest's options: its listing of the one offline option market
(`bot.venues.replay_options.ReplayOptions`) and the book of what a window holds.

Deribit-style: an expiry every day at 08:00 UTC up to `max_days` ahead, strikes every
`strike_step` USD within +-`span` of the price when the window opens, whole contracts of
one unit of the asset, priced by Black-76 at DVOL's close of the day before (causal) plus
the market's smile. The book keeps money in USD at mid (Deribit quotes premiums in ETH: the
same money at that price), with the half spread and fees apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from bot.domain.market import Instrument, Quote
from bot.domain.orders import HedgeTarget
from bot.errors import InputError
from bot.options.dvol import DvolSeries, covers
from bot.venues.replay_options import QuoteView, ReplayOptions, ReplayOptionsSpec


@dataclass(frozen=True)
class OptionPricing:
    """`dvol` the asset's DVOL series; `fee_per_contract` in units of the asset (Deribit
    0.0003 ETH) capped at `fee_cap` of the premium. `market` is the option market these
    settings make."""

    dvol: DvolSeries
    skew: float = 0.3
    half_spread: float = 0.03
    strike_step: float = 50.0
    max_days: int = 21
    span: float = 0.3
    fee_per_contract: float = 0.0003
    fee_cap: float = 0.125
    market: ReplayOptions = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("skew", "half_spread", "fee_per_contract", "fee_cap"):
            if getattr(self, name) < 0:
                raise InputError(f"option pricing: {name} must be >= 0")
        if self.strike_step <= 0 or self.max_days < 1 or not 0 < self.span < 1:
            raise InputError(
                "option pricing: strike_step must be > 0, max_days >= 1 and 0 < span < 1"
            )
        spec = ReplayOptionsSpec(
            strike_step=Decimal(repr(self.strike_step)),
            strike_range_pct=self.span * 100,
            daily_expiries=self.max_days,
            weekly_expiries=0,
            skew=self.skew,
            half_spread=self.half_spread,
            taker_fee=Decimal(repr(self.fee_per_contract)),
            fee_cap=self.fee_cap,
        )
        object.__setattr__(self, "market", ReplayOptions(spec, {self.dvol.asset: self.dvol}))

    def implied_vol(self, ts_ms: int) -> float:
        """DVOL's close of the day before `ts_ms`, as a fraction."""
        return self.dvol.at(ts_ms)

    def covers(self, start_ms: int, end_ms: int) -> bool:
        """True when DVOL prices options at both ends of a window."""
        return covers(self.dvol, start_ms, end_ms)


@dataclass
class OptionBook:
    """Options held during one backtest window, in USD at mid; spread and fees apart."""

    pricing: OptionPricing
    chain: Mapping[str, Instrument]
    held: dict[str, Decimal] = field(default_factory=dict)
    cash: float = 0.0  # -premium paid + premium received + settlements, at mid
    premium: float = 0.0  # paid for purchases, at mid
    cost: float = 0.0  # half spread + fees
    trades: int = 0

    @classmethod
    def open(cls, pricing: OptionPricing, asset: str, open_ms: int, price: float) -> OptionBook:
        """The options listed when a window opens at `price`."""
        return cls(pricing, pricing.market.chain(asset, open_ms, Decimal(repr(price))))

    def quotes(self, now_ms: int, spot: float, others: Mapping[str, Quote]) -> QuoteView:
        return self.pricing.market.quote_view(self.chain, now_ms, Decimal(repr(spot)), others)

    def trade(self, targets: Iterable[HedgeTarget], now_ms: int, spot: float) -> None:
        """Move each named option to its target at mid, paying half the spread and fees."""
        market = self.pricing.market
        for t in targets:
            inst = self.chain.get(t.symbol)
            if inst is None:
                raise InputError(f"backtest: strategy traded {t.symbol!r}, which is not listed")
            change = t.target_base - self.held.get(t.symbol, Decimal(0))
            if change == 0:
                continue
            mid = market.mid_usd(inst, now_ms, spot)
            n = float(change)
            self.cash -= n * mid
            self.premium += max(n, 0.0) * mid
            self.cost += abs(n) * market.cost_usd(mid, spot)
            self.trades += 1
            self.held[t.symbol] = t.target_base
            if t.target_base == 0:
                del self.held[t.symbol]

    def settle(self, now_ms: int, spot: float) -> None:
        """Cash-settle options whose expiry has come, at their intrinsic value."""
        for sym in [s for s in self.held if (self.chain[s].expiry_ms or 0) <= now_ms]:
            mid = self.pricing.market.mid_usd(self.chain[sym], now_ms, spot)
            self.cash += float(self.held.pop(sym)) * mid

    def value(self, now_ms: int, spot: float) -> float:
        market = self.pricing.market
        return sum(
            float(q) * market.mid_usd(self.chain[s], now_ms, spot) for s, q in self.held.items()
        )

    def closing_cost(self, now_ms: int, spot: float) -> float:
        """What selling everything still held would cost in spread and fees."""
        market = self.pricing.market
        return sum(
            abs(float(q)) * market.cost_usd(market.mid_usd(self.chain[s], now_ms, spot), spot)
            for s, q in self.held.items()
        )
