"""Offline option market: Deribit-style options priced by Black-76 at the real DVOL.

Listing (what `option_chain` shows at a time): daily expiries for the next `daily_expiries`
days and weekly ones for the next `weekly_expiries` Fridays, all at 08:00 UTC; strikes every
`strike_step` USD within `strike_range_pct` of the current price, a call and a put each.
Deribit adds strikes as the price moves; here the listing is recomputed around the price, and
any well-formed symbol of the market's style can be quoted (so a held option keeps a quote).

Symbols and units (ccxt unified): inverse `ETH/USD:ETH-240322-3500-P`, contract size 1 ETH,
premium in ETH per contract (Deribit); or USD-settled `ETH/USDC:USDC-240322-3500-P`, premium
in USDC per contract. Deribit's base tick 0.0001 ETH and minimum 1 contract; its 0.0005 tick
above 0.005 ETH is not modelled.

Pricing, never invented: forward = the underlying's replayed close (no basis), t = (expiry -
now) / 365 d, vol = the DVOL close of the previous UTC day (causal) + `skew` x |ln(K / F)|,
mark = the Black-76 premium (USD per unit of underlying; / F for inverse). Book: best bid and
ask `half_spread` x mark from it, rounded outward to the tick, then `levels` levels
`level_step` x mark apart (at least one tick), `level_amount` contracts each.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal

import numpy as np

from bot.domain.market import (
    BookLevel,
    Greeks,
    Instrument,
    InstrumentKind,
    OptionType,
    OrderBook,
    Quote,
)
from bot.errors import InputError
from bot.options.black76 import (
    delta_array,
    gamma_array,
    price_array,
    theta_array,
    vega_array,
)
from bot.options.chain import format_symbol, parse_symbol
from bot.options.dvol import DvolSeries, listed_expiries

DAY_MS = 86_400_000
YEAR_MS = 365.0 * DAY_MS
PremiumStyle = Literal["inverse", "usd"]


@dataclass(frozen=True, slots=True)
class _Style:
    """Contract rules of one premium style (amounts in contracts, prices per contract)."""

    inverse: bool
    amount_step: Decimal
    min_amount: Decimal
    price_step: Decimal
    mark_places: Decimal


_STYLES: Mapping[str, _Style] = {
    # Deribit ETH options: 1 ETH per contract, min 1 contract, tick 0.0001 ETH.
    "inverse": _Style(True, Decimal(1), Decimal(1), Decimal("0.0001"), Decimal("1e-8")),
    # Bybit-style USDC options: 1 ETH per contract, qty step 0.1, tick 0.1 USDC.
    "usd": _Style(False, Decimal("0.1"), Decimal("0.1"), Decimal("0.1"), Decimal("1e-4")),
}


@dataclass(frozen=True, slots=True)
class ReplayOptionsSpec:
    """How the offline option market lists and prices. Fractions are of the option's mark;
    `skew` is vol per unit |log-moneyness|; `taker_fee` per unit of underlying (Deribit
    0.03 %), in the underlying for inverse options and in USD x price for USD ones."""

    venue: str = "deribit"
    premium: PremiumStyle = "inverse"
    usd_settle: str = "USDC"
    strike_step: Decimal = Decimal(25)
    strike_range_pct: float = 30.0
    daily_expiries: int = 3
    weekly_expiries: int = 4
    skew: float = 0.3
    half_spread: float = 0.03
    level_step: float = 0.01
    levels: int = 5
    level_amount: Decimal = Decimal(50)
    taker_fee: Decimal = Decimal("0.0003")


class ReplayOptions:
    """Lists and prices options of one style; `ReplayMarketData` serves them."""

    def __init__(self, spec: ReplayOptionsSpec, dvol: Mapping[str, DvolSeries]) -> None:
        if spec.premium not in _STYLES:
            raise InputError(f"options premium style {spec.premium!r}: use inverse or usd")
        self.spec = spec
        self._style = _STYLES[spec.premium]
        self._dvol = dict(dvol)

    def _quote_ccy(self, asset: str) -> tuple[str, str]:
        return ("USD", asset) if self._style.inverse else (self.spec.usd_settle,) * 2

    def symbol(self, asset: str, expiry_ms: int, strike: Decimal, kind: OptionType) -> str:
        quote, settle = self._quote_ccy(asset)
        return format_symbol(asset, quote, settle, expiry_ms, strike, kind)

    def owns(self, symbol: str) -> bool:
        """True for a well-formed option symbol of this market's style on a DVOL asset."""
        try:
            base, quote, settle, *_ = parse_symbol(symbol)
        except InputError:
            return False
        return base in self._dvol and (quote, settle) == self._quote_ccy(base)

    def instrument(self, symbol: str) -> Instrument:
        if not self.owns(symbol):
            raise InputError(
                f"replay options: {symbol!r} is not a {self.spec.premium} option symbol "
                f"of an asset with DVOL ({', '.join(sorted(self._dvol))})"
            )
        base, _, settle, expiry_ms, strike, kind = parse_symbol(symbol)
        st = self._style
        return Instrument(
            venue=self.spec.venue,
            symbol=symbol,
            asset=base,
            kind=InstrumentKind.OPTION,
            contract_size=Decimal(1),
            amount_step=st.amount_step,
            price_step=st.price_step,
            min_amount=st.min_amount,
            inverse=st.inverse,
            settle=settle,
            taker_fee=self.spec.taker_fee,
            maker_fee=self.spec.taker_fee,
            strike=strike,
            expiry_ms=expiry_ms,
            option_type=kind,
        )

    def volatility(self, asset: str, now_ms: int) -> float | None:
        """DVOL (at-the-money 30-day implied vol) known at `now_ms`, or None for no series."""
        series = self._dvol.get(asset)
        return None if series is None else series.at(now_ms)

    def chain(self, asset: str, now_ms: int, price: Decimal) -> dict[str, Instrument]:
        """The listed options of `asset` at `now_ms` around `price` (see the module doc)."""
        if asset not in self._dvol:
            return {}
        step = self.spec.strike_step
        width = price * Decimal(str(self.spec.strike_range_pct)) / 100
        lo = ((price - width) / step).to_integral_value(ROUND_CEILING)
        hi = ((price + width) / step).to_integral_value(ROUND_FLOOR)
        strikes = [k * step for k in range(max(int(lo), 1), int(hi) + 1)]
        out = {}
        for expiry in listed_expiries(now_ms, self.spec.daily_expiries, self.spec.weekly_expiries):
            for strike in strikes:
                for kind in (OptionType.CALL, OptionType.PUT):
                    sym = self.symbol(asset, expiry, strike, kind)
                    out[sym] = self.instrument(sym)
        return out

    def quotes(
        self, symbols: Sequence[str], now_ms: int, price_of: Callable[[str], Decimal]
    ) -> dict[str, Quote]:
        """Quotes of `symbols` at `now_ms`, all priced in one vectorised Black-76 pass."""
        if not symbols:
            return {}
        insts = [self.instrument(s) for s in symbols]
        fwd_dec = [price_of(i.asset) for i in insts]
        f = np.array([float(p) for p in fwd_dec])
        k = np.array([float(i.strike or 0) for i in insts])
        t = np.array([((i.expiry_ms or 0) - now_ms) / YEAR_MS for i in insts])
        atm = np.array([self._dvol[i.asset].at(now_ms) for i in insts])
        vol = atm + self.spec.skew * np.abs(np.log(k / f))
        call = np.array([1.0 if i.option_type is OptionType.CALL else 0.0 for i in insts])
        prem = price_array(f, k, t, vol, call)
        delta, gamma = delta_array(f, k, t, vol, call), gamma_array(f, k, t, vol)
        vega, theta = vega_array(f, k, t, vol), theta_array(f, k, t, vol, call)
        out = {}
        for n, inst in enumerate(insts):
            mark = self._mark(float(prem[n]), float(f[n]))
            bid, ask = self._touch(mark)
            out[inst.symbol] = Quote(
                symbol=inst.symbol,
                ts_ms=now_ms,
                mark=mark,
                index=fwd_dec[n],
                bid=bid if bid > 0 else None,
                ask=ask,
                implied_vol=Decimal(f"{vol[n]:.6f}"),
                greeks=Greeks(
                    float(delta[n]),
                    float(gamma[n]),
                    float(vega[n]) / 100.0,
                    float(theta[n]) / 365.0,
                    "black76",
                ),
                underlying=fwd_dec[n],
            )
        return out

    def _mark(self, premium_usd: float, forward: float) -> Decimal:
        value = premium_usd / forward if self._style.inverse else premium_usd
        return Decimal(repr(max(value, 0.0))).quantize(self._style.mark_places)

    def _touch(self, mark: Decimal) -> tuple[Decimal, Decimal]:
        tick = self._style.price_step
        h = Decimal(str(self.spec.half_spread))
        bid = (mark * (1 - h) / tick).to_integral_value(ROUND_FLOOR) * tick
        ask = (mark * (1 + h) / tick).to_integral_value(ROUND_CEILING) * tick
        return max(bid, Decimal(0)), max(ask, tick)

    def book(self, quote: Quote, depth: int) -> OrderBook:
        """A book around `quote`: its bid and ask, then levels `level_step` x mark apart."""
        tick = self._style.price_step
        gap = (quote.mark * Decimal(str(self.spec.level_step)) / tick).to_integral_value(
            ROUND_CEILING
        ) * tick
        gap = max(gap, tick)
        n = min(depth, self.spec.levels)
        amount = self.spec.level_amount
        asks = tuple(BookLevel((quote.ask or tick) + i * gap, amount) for i in range(n))
        bids: list[BookLevel] = []
        for i in range(n):
            price = (quote.bid or Decimal(0)) - i * gap
            if price <= 0:
                break
            bids.append(BookLevel(price, amount))
        return OrderBook(quote.symbol, quote.ts_ms, tuple(bids), asks)
