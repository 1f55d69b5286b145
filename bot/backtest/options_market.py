"""Listed options for the backtester, priced by Black-76 from the real Deribit DVOL series.

Deribit-style: an expiry every day at 08:00 UTC up to `max_days` ahead, strikes every
`strike_step` USD within +-`span` of the price when the window opens, whole contracts of
one unit of the asset. Implied vol = DVOL's close of the day before (causal) plus `skew` x
|ln(K/F)|; quotes are the Black-76 mid -+ `half_spread`. Premiums are kept in USD here
(Deribit quotes them in ETH: the same money at that price). Quotes are computed when a
strategy reads them, not for the whole chain at every bar.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from bot.domain.market import Instrument, InstrumentKind, OptionType, Quote
from bot.domain.orders import HedgeTarget
from bot.errors import InputError
from bot.options.black76 import price as b76_price
from bot.options.chain import format_symbol
from bot.options.dvol import DvolSeries, covers, listed_expiries

DAY_MS = 86_400_000
MS_PER_YEAR = 365.0 * DAY_MS


@dataclass(frozen=True)
class OptionPricing:
    """`dvol` the asset's DVOL series; `fee_per_contract` in units of the asset (Deribit
    0.0003 ETH) capped at `fee_cap` of the premium."""

    dvol: DvolSeries
    skew: float = 0.3
    half_spread: float = 0.03
    strike_step: float = 50.0
    max_days: int = 21
    span: float = 0.3
    fee_per_contract: float = 0.0003
    fee_cap: float = 0.125

    def __post_init__(self) -> None:
        for name in ("skew", "half_spread", "fee_per_contract", "fee_cap"):
            if getattr(self, name) < 0:
                raise InputError(f"option pricing: {name} must be >= 0")
        if self.strike_step <= 0 or self.max_days < 1 or not 0 < self.span < 1:
            raise InputError(
                "option pricing: strike_step must be > 0, max_days >= 1 and 0 < span < 1"
            )

    def implied_vol(self, ts_ms: int) -> float:
        """DVOL's close of the day before `ts_ms`, as a fraction."""
        return self.dvol.at(ts_ms)

    def covers(self, start_ms: int, end_ms: int) -> bool:
        """True when DVOL prices options at both ends of a window."""
        return covers(self.dvol, start_ms, end_ms)

    def chain(self, asset: str, open_ms: int, price: float) -> dict[str, Instrument]:
        """Every option listed when a window opens, keyed by symbol."""
        step = self.strike_step
        lo = math.ceil(price * (1 - self.span) / step)
        hi = math.floor(price * (1 + self.span) / step)
        out: dict[str, Instrument] = {}
        for expiry in listed_expiries(open_ms, self.max_days, 0):
            for n in range(lo, hi + 1):
                strike = Decimal(repr(n * step))
                for kind in OptionType:
                    inst = _instrument(asset, expiry, strike, kind)
                    out[inst.symbol] = inst
        return out

    def vol(self, inst: Instrument, now_ms: int, spot: float) -> float:
        """The option's implied vol: DVOL plus the skew at its log-moneyness."""
        return self.implied_vol(now_ms) + self.skew * abs(math.log(float(inst.strike or 0) / spot))

    def mid(self, inst: Instrument, now_ms: int, spot: float) -> float:
        """Black-76 value in USD of one contract; intrinsic at and after expiry."""
        call = inst.option_type is OptionType.CALL
        t = max((inst.expiry_ms or 0) - now_ms, 0) / MS_PER_YEAR
        return b76_price(spot, float(inst.strike or 0), t, self.vol(inst, now_ms, spot), call)

    def fee(self, mid: float, spot: float) -> float:
        """USD fee for one contract traded at `mid`."""
        return min(self.fee_per_contract * spot, self.fee_cap * mid)


class OptionQuotes(Mapping[str, Quote]):
    """The chain's quotes at one bar (after `others`, the perp's), each priced when read."""

    def __init__(
        self,
        pricing: OptionPricing,
        chain: Mapping[str, Instrument],
        now_ms: int,
        spot: float,
        others: Mapping[str, Quote],
    ) -> None:
        self._pricing, self._chain, self._now, self._spot = pricing, chain, now_ms, spot
        self._cache: dict[str, Quote] = dict(others)

    def __getitem__(self, symbol: str) -> Quote:
        hit = self._cache.get(symbol)
        if hit is None:
            inst = self._chain[symbol]
            p = self._pricing
            mid = p.mid(inst, self._now, self._spot)
            iv = p.vol(inst, self._now, self._spot)
            hit = Quote(
                symbol,
                self._now,
                _dec(mid),
                bid=_dec(mid * (1 - p.half_spread)),
                ask=_dec(mid * (1 + p.half_spread)),
                implied_vol=_dec(iv),
                underlying=_dec(self._spot),
            )
            self._cache[symbol] = hit
        return hit

    def __iter__(self) -> Iterator[str]:
        yield from (s for s in self._cache if s not in self._chain)
        yield from self._chain

    def __len__(self) -> int:
        return len(self._chain) + sum(1 for s in self._cache if s not in self._chain)


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
        return cls(pricing, pricing.chain(asset, open_ms, price))

    def quotes(self, now_ms: int, spot: float, others: Mapping[str, Quote]) -> OptionQuotes:
        return OptionQuotes(self.pricing, self.chain, now_ms, spot, others)

    def trade(self, targets: Iterable[HedgeTarget], now_ms: int, spot: float) -> None:
        """Move each named option to its target at mid, paying half the spread and fees."""
        for t in targets:
            inst = self.chain.get(t.symbol)
            if inst is None:
                raise InputError(f"backtest: strategy traded {t.symbol!r}, which is not listed")
            change = t.target_base - self.held.get(t.symbol, Decimal(0))
            if change == 0:
                continue
            mid = self.pricing.mid(inst, now_ms, spot)
            n = float(change)
            self.cash -= n * mid
            self.premium += max(n, 0.0) * mid
            self.cost += abs(n) * (self.pricing.half_spread * mid + self.pricing.fee(mid, spot))
            self.trades += 1
            self.held[t.symbol] = t.target_base
            if t.target_base == 0:
                del self.held[t.symbol]

    def settle(self, now_ms: int, spot: float) -> None:
        """Cash-settle options whose expiry has come, at their intrinsic value."""
        for sym in [s for s in self.held if (self.chain[s].expiry_ms or 0) <= now_ms]:
            self.cash += float(self.held.pop(sym)) * self.pricing.mid(self.chain[sym], now_ms, spot)

    def value(self, now_ms: int, spot: float) -> float:
        return sum(
            float(q) * self.pricing.mid(self.chain[s], now_ms, spot) for s, q in self.held.items()
        )

    def closing_cost(self, now_ms: int, spot: float) -> float:
        """What selling everything still held would cost in spread and fees."""
        total = 0.0
        for s, q in self.held.items():
            mid = self.pricing.mid(self.chain[s], now_ms, spot)
            total += abs(float(q)) * (self.pricing.half_spread * mid + self.pricing.fee(mid, spot))
        return total


def _dec(x: float) -> Decimal:
    return Decimal(f"{x:.10g}")


def _instrument(asset: str, expiry_ms: int, strike: Decimal, kind: OptionType) -> Instrument:
    return Instrument(
        venue="deribit",
        symbol=format_symbol(asset, "USD", asset, expiry_ms, strike, kind),
        asset=asset,
        kind=InstrumentKind.OPTION,
        contract_size=Decimal(1),
        amount_step=Decimal(1),
        min_amount=Decimal(1),
        inverse=True,
        settle=asset,
        taker_fee=Decimal("0.0003"),
        strike=strike,
        expiry_ms=expiry_ms,
        option_type=kind,
    )
