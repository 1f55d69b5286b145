"""The option side of the hedge book (pure): which options to quote, their greeks, and the
whole book's sensitivities per asset for the BOOK_GREEKS ledger event.

Units as `bot.domain.market.Greeks`: per one unit of the underlying, delta base/base, gamma
base/USD, vega USD per vol point, theta USD per day. Greeks come from the quote when the
venue gives them, else from Black-76 at the quote's implied vol or the asset's volatility
(`source` says which). Floats: sizing and reporting, never ledger money.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.events import GreeksRow
from bot.domain.lp import ExposureBook
from bot.domain.market import USD, Greeks, Instrument, InstrumentKind, OptionType, Quote
from bot.domain.orders import HedgePosition
from bot.options.black76 import greeks as black76_greeks
from bot.options.strip import intrinsic_delta

YEAR_MS = 365.0 * 86_400_000
NEAR_RANGE_PCT = Decimal("0.1")
"""Without a v3 range (v2 or no position), strikes within +-10 % of the price are quoted."""


def is_option(inst: Instrument | None) -> bool:
    return inst is not None and inst.kind is InstrumentKind.OPTION


def _bounds(book: ExposureBook, asset: str, price: Decimal) -> tuple[Decimal, Decimal]:
    ranged = [
        p
        for p in book.positions
        if p.base == asset and p.quote == USD and p.price_lower and p.price_upper
    ]
    if not ranged:
        return price * (1 - NEAR_RANGE_PCT), price * (1 + NEAR_RANGE_PCT)
    return (
        min(p.price_lower or price for p in ranged),
        max(p.price_upper or price for p in ranged),
    )


def quoted_options(
    chain: Mapping[str, Instrument],
    book: ExposureBook,
    prices: Mapping[str, Decimal],
    now_ms: int,
    max_expiry_ms: int,
    strike_step: Decimal,
    held: Iterable[str] = (),
) -> list[str]:
    """Option symbols worth quoting this tick: unexpired within `max_expiry_ms`, strikes
    within the LP range of their asset +-one `strike_step`; plus every held symbol."""
    out = dict.fromkeys(held)
    bounds: dict[str, tuple[Decimal, Decimal]] = {}
    for symbol, inst in sorted(chain.items()):
        price = prices.get(inst.asset)
        if inst.strike is None or inst.expiry_ms is None or price is None:
            continue
        if not now_ms < inst.expiry_ms <= now_ms + max_expiry_ms:
            continue
        lo, hi = bounds.setdefault(inst.asset, _bounds(book, inst.asset, price))
        if lo - strike_step <= inst.strike <= hi + strike_step:
            out[symbol] = None
    return list(out)


def unit_greeks(
    inst: Instrument, quote: Quote | None, price: Decimal, now_ms: int, vol: float | None
) -> Greeks | None:
    """Greeks per unit of the asset: the quote's, else Black-76 at its implied vol (or
    `vol`); None when neither a quote's greeks nor any vol is known."""
    if quote is not None and quote.greeks is not None:
        return quote.greeks
    iv = float(quote.implied_vol) if quote is not None and quote.implied_vol else vol
    if iv is None or inst.strike is None or inst.expiry_ms is None or price <= 0:
        return None
    t = max(inst.expiry_ms - now_ms, 0) / YEAR_MS
    g = black76_greeks(float(price), float(inst.strike), t, iv, inst.option_type is OptionType.CALL)
    return Greeks(g.delta, g.gamma, g.vega / 100.0, g.theta / 365.0, "black76")


def option_deltas(
    symbols: Iterable[str],
    instruments: Mapping[str, Instrument],
    quotes: Mapping[str, Quote],
    prices: Mapping[str, Decimal],
    volatility: Mapping[str, float],
    now_ms: int,
) -> dict[str, float]:
    """Delta per unit of the asset of each option symbol whose greeks can be had."""
    out = {}
    for s in symbols:
        inst = instruments.get(s)
        if inst is None:
            continue
        price = prices.get(inst.asset, Decimal(0))
        g = unit_greeks(inst, quotes.get(s), price, now_ms, volatility.get(inst.asset))
        if g is not None:
            out[s] = g.delta
    return out


@dataclass
class _Sums:
    delta: float = 0.0
    gamma: float = 0.0
    vega: float = 0.0
    theta: float = 0.0
    expiry_delta: float = 0.0
    value_usd: Decimal = Decimal(0)


def _value_usd(inst: Instrument, quote: Quote | None, size: Decimal, price: Decimal) -> Decimal:
    if quote is None:
        return Decimal(0)
    per_contract = quote.mark * size / inst.contract_size
    return per_contract * (quote.underlying or price) if inst.inverse else per_contract


def book_greeks(
    book: ExposureBook,
    perps: Mapping[str, Decimal],
    options: Sequence[HedgePosition],
    instruments: Mapping[str, Instrument],
    quotes: Mapping[str, Quote],
    prices: Mapping[str, Decimal],
    volatility: Mapping[str, float],
    now_ms: int,
) -> tuple[GreeksRow, ...]:
    """One row per asset: LP delta/gamma, perp delta, options' summed greeks and value."""
    sums: dict[str, _Sums] = {}
    sources: dict[str, set[str]] = {}
    for h in options:
        inst = instruments.get(h.symbol)
        if inst is None:
            sources.setdefault(h.asset, set()).add("missing")
            continue
        price = prices.get(h.asset, Decimal(0))
        quote = quotes.get(h.symbol)
        g = unit_greeks(inst, quote, price, now_ms, volatility.get(h.asset))
        acc = sums.setdefault(h.asset, _Sums())
        acc.value_usd += _value_usd(inst, quote, h.size_base, price)
        if inst.strike is not None and price > 0:
            call = inst.option_type is OptionType.CALL
            acc.expiry_delta += float(h.size_base) * intrinsic_delta(
                float(inst.strike), call, float(price)
            )
        if g is None:
            sources.setdefault(h.asset, set()).add("missing")
            continue
        size = float(h.size_base)
        acc.delta += size * g.delta
        acc.gamma += size * g.gamma
        acc.vega += size * g.vega
        acc.theta += size * g.theta
        sources.setdefault(h.asset, set()).add(g.source)
    assets = {a for a in book.assets if a != USD} | set(perps) | set(sums)
    rows = []
    for asset in sorted(assets):
        exp = book.assets.get(asset)
        acc = sums.get(asset, _Sums())
        rows.append(
            GreeksRow(
                asset=asset,
                price_usd=prices.get(asset, Decimal(0)),
                lp_delta=exp.delta if exp else Decimal(0),
                lp_gamma=exp.gamma if exp else 0.0,
                perp_delta=perps.get(asset, Decimal(0)),
                options_delta=acc.delta,
                options_gamma=acc.gamma,
                options_vega=acc.vega,
                options_theta=acc.theta,
                options_value_usd=acc.value_usd,
                source="+".join(sorted(sources.get(asset, set()))) or "none",
                options_expiry_delta=acc.expiry_delta,
            )
        )
    return tuple(rows)
