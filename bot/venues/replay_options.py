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
`level_step` x mark apart (at least one tick), `level_amount` contracts each. Fees:
`taker_fee` units of the underlying per contract, capped at `fee_cap` of the premium.

This is the one offline option market: the paper venue's replay, the vectorised backtest's
option book (`bot.backtest.options_market`) and the overlay study (`bot.options.backtest`)
all list, price, quote and charge through it, so every offline run prices an option alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Literal, TypeVar

import numpy as np
import numpy.typing as npt

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
    F64,
    delta_array,
    gamma_array,
    price_array,
    theta_array,
    vega_array,
)
from bot.options.black76 import price as b76_price
from bot.options.chain import format_symbol, parse_symbol
from bot.options.dvol import DvolSeries, listed_expiries

DAY_MS = 86_400_000
YEAR_MS = 365.0 * DAY_MS
PremiumStyle = Literal["inverse", "usd"]
FloatOrArray = TypeVar("FloatOrArray", float, npt.NDArray[np.float64])


def smile_vol(
    atm: FloatOrArray, strike: FloatOrArray, forward: FloatOrArray, skew: float
) -> FloatOrArray:
    """The smile of the offline option market: ATM vol (DVOL, causal) plus `skew` x
    |ln(K / F)|. Floats or numpy arrays."""
    out: FloatOrArray = atm + skew * np.abs(np.log(strike / forward))
    return out


def taker_fee_usd(
    mid_usd: FloatOrArray, spot: FloatOrArray, fee_per_contract: float, fee_cap: float
) -> FloatOrArray:
    """Deribit's option taker fee in USD per contract: `fee_per_contract` units of the
    underlying, capped at `fee_cap` of the premium."""
    out: FloatOrArray = np.minimum(fee_per_contract * spot, fee_cap * mid_usd)
    return out


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
    fee_cap: float = 0.125


class ReplayOptions:
    """Lists and prices options of one style; `ReplayMarketData` serves them."""

    def __init__(self, spec: ReplayOptionsSpec, dvol: Mapping[str, DvolSeries]) -> None:
        if spec.premium not in _STYLES:
            raise InputError(f"options premium style {spec.premium!r}: use inverse or usd")
        self.spec = spec
        self._style = _STYLES[spec.premium]
        self._dvol = dict(dvol)
        self._listed: dict[str, Instrument] = {}  # every symbol built so far: parsed once

    def _quote_ccy(self, asset: str) -> tuple[str, str]:
        return ("USD", asset) if self._style.inverse else (self.spec.usd_settle,) * 2

    def symbol(self, asset: str, expiry_ms: int, strike: Decimal, kind: OptionType) -> str:
        quote, settle = self._quote_ccy(asset)
        return format_symbol(asset, quote, settle, expiry_ms, strike, kind)

    def owns(self, symbol: str) -> bool:
        """True for a well-formed option symbol of this market's style on a DVOL asset."""
        if symbol in self._listed:
            return True
        try:
            base, quote, settle, *_ = parse_symbol(symbol)
        except InputError:
            return False
        return base in self._dvol and (quote, settle) == self._quote_ccy(base)

    def instrument(self, symbol: str) -> Instrument:
        hit = self._listed.get(symbol)
        if hit is not None:
            return hit
        if not self.owns(symbol):
            raise InputError(
                f"replay options: {symbol!r} is not a {self.spec.premium} option symbol "
                f"of an asset with DVOL ({', '.join(sorted(self._dvol))})"
            )
        base, _, _, expiry_ms, strike, kind = parse_symbol(symbol)
        return self._instrument(symbol, base, expiry_ms, strike, kind)

    def _instrument(
        self, symbol: str, asset: str, expiry_ms: int, strike: Decimal, kind: OptionType
    ) -> Instrument:
        st = self._style
        inst = self._listed[symbol] = Instrument(
            venue=self.spec.venue,
            symbol=symbol,
            asset=asset,
            kind=InstrumentKind.OPTION,
            contract_size=Decimal(1),
            amount_step=st.amount_step,
            price_step=st.price_step,
            min_amount=st.min_amount,
            inverse=st.inverse,
            settle=self._quote_ccy(asset)[1],
            taker_fee=self.spec.taker_fee,
            maker_fee=self.spec.taker_fee,
            strike=strike,
            expiry_ms=expiry_ms,
            option_type=kind,
        )
        return inst

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
                    hit = self._listed.get(sym)
                    out[sym] = hit or self._instrument(sym, asset, expiry, strike, kind)
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
        vol = self.smile(atm, k, f)
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

    def smile(self, atm: FloatOrArray, strike: FloatOrArray, forward: FloatOrArray) -> FloatOrArray:
        """This market's implied vol at `strike` for ATM vol `atm` (see `smile_vol`)."""
        return smile_vol(atm, strike, forward, self.spec.skew)

    def premium_usd(self, forward: F64, strike: F64, t_years: F64, vol: F64, call: F64) -> F64:
        """Black-76 premiums in USD per contract (intrinsic at t <= 0), vectorised."""
        return price_array(forward, strike, t_years, vol, call)

    def mid_usd(self, inst: Instrument, now_ms: int, spot: float) -> float:
        """One option's Black-76 value in USD per contract at its smile vol at `now_ms`;
        intrinsic at and after expiry."""
        atm = self._dvol[inst.asset].at(now_ms)
        k = float(inst.strike or 0)
        t = max((inst.expiry_ms or 0) - now_ms, 0) / YEAR_MS
        return b76_price(spot, k, t, float(self.smile(atm, k, spot)), inst.option_type is _CALL)

    def fee_usd(self, mid_usd: FloatOrArray, spot: FloatOrArray) -> FloatOrArray:
        """Taker fee in USD per contract traded at `mid_usd` (see `taker_fee_usd`)."""
        return taker_fee_usd(mid_usd, spot, float(self.spec.taker_fee), self.spec.fee_cap)

    def cost_usd(self, mid_usd: float, spot: float) -> float:
        """What trading one contract costs beside its mid: half the spread plus the fee."""
        return self.spec.half_spread * mid_usd + float(self.fee_usd(mid_usd, spot))

    def quote_view(
        self,
        chain: Mapping[str, Instrument],
        now_ms: int,
        spot: Decimal,
        others: Mapping[str, Quote],
    ) -> QuoteView:
        """`chain`'s quotes at `now_ms` after `others`, each priced when first read."""
        return QuoteView(self, chain, now_ms, spot, others)

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


_CALL = OptionType.CALL


class QuoteView(Mapping[str, Quote]):
    """A chain's quotes at one time (after `others`), priced by `ReplayOptions.quotes` when
    read: a backtest bar reads a few of a chain's thousands of options."""

    def __init__(
        self,
        market: ReplayOptions,
        chain: Mapping[str, Instrument],
        now_ms: int,
        spot: Decimal,
        others: Mapping[str, Quote],
    ) -> None:
        self._market, self._chain, self._now, self._spot = market, chain, now_ms, spot
        self._cache: dict[str, Quote] = dict(others)

    def __getitem__(self, symbol: str) -> Quote:
        hit = self._cache.get(symbol)
        if hit is None:
            if symbol not in self._chain:
                raise KeyError(symbol)
            hit = self._market.quotes([symbol], self._now, lambda _: self._spot)[symbol]
            self._cache[symbol] = hit
        return hit

    def __iter__(self) -> Iterator[str]:
        yield from (s for s in self._cache if s not in self._chain)
        yield from self._chain

    def __len__(self) -> int:
        return len(self._chain) + sum(1 for s in self._cache if s not in self._chain)
