"""ccxt option markets and option quotes -> our Instrument and Quote, in our units.

Venues quote greeks in their own units; `Quote.greeks` is always per one unit of the
underlying (delta base/base, gamma 1/USD, vega USD per vol point, theta USD per day) and
`Quote.implied_vol` an annualised fraction. What each venue sends (checked against the
venues' own documented ticker examples, which Black-76 reproduces to < 0.05 %):

- Deribit `public/ticker` (inverse ETH/BTC options, premium in the coin): `greeks` are Black-
  Scholes for one coin, already in USD (delta, gamma 1/USD, vega USD per 1 % vol, theta USD
  per day, rounded to 5 decimals); `mark_iv` is in percent (74.04 = 74.04 %);
  `underlying_price` is the USD forward the option is priced on; `mark_price` coin per
  contract (contract = 1 coin).
- Deribit `public/get_book_summary_by_currency?kind=option` (ccxt fetch_option_chain, every
  option of one settlement currency in one call): the same `mark_price`, `bid_price`/
  `ask_price` (null when none), `underlying_price` and `mark_iv` (percent) as the ticker, but
  no greeks and no `index_price` (`estimated_delivery_price` is the index until the final
  30 minutes before delivery). ccxt's parse_option keeps neither `mark_iv` nor the
  `creation_timestamp`: both are read from the raw row. The greeks are our Black-76 at the
  venue's mark IV, flagged `black76`.
- Bybit v5 `/v5/market/tickers?category=option` (USDC-settled; one symbol, or every option of
  a `baseCoin`, which defaults to BTC): `delta gamma vega theta` in the same units as ours;
  `markIv` a fraction (0.7404); `markPrice` USDC per contract.

A venue whose profile gives no IV unit (or a ticker without greeks or IV) gets our own
Black-76 from its mark and underlying, flagged `Greeks.source == "black76"`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from bot.domain.market import Greeks, Instrument, InstrumentKind, OptionType, Quote
from bot.domain.orders import Side
from bot.errors import InputError
from bot.options import black76
from bot.options.chain import parse_market
from bot.venues.ccxt_parse import dec, dec0, instrument, step

MS_PER_YEAR = 365 * 86_400_000  # Black-76 here, Deribit and Bybit all count 365-day years


def is_option(market: Mapping[str, Any]) -> bool:
    return market.get("type") == "option" or bool(market.get("option"))


def option_instrument(venue: str, market: Mapping[str, Any], precision_mode: int) -> Instrument:
    """An option market as an Instrument (kind OPTION): strike, expiry, type and contract size
    through bot.options.chain; steps, minimum and fees exactly as the market lists them."""
    spec = parse_market(venue, market)
    precision = market.get("precision") or {}
    limits = market.get("limits") or {}
    return dataclasses.replace(
        spec.to_instrument(),
        amount_step=step(precision.get("amount"), precision_mode) or spec.amount_step,
        price_step=step(precision.get("price"), precision_mode),
        min_amount=dec0((limits.get("amount") or {}).get("min")),
        maker_fee=dec0(market.get("maker")),
    )


def any_instrument(
    venue: str, market: Mapping[str, Any], precision_mode: int, usd_amount_inverse: bool = False
) -> Instrument:
    """Perp or option, whichever the market is (`usd_amount_inverse`: see ccxt_parse)."""
    if is_option(market):
        return option_instrument(venue, market, precision_mode)
    return instrument(venue, market, precision_mode, usd_amount_inverse)


def tick_price(market: Mapping[str, Any], price: Decimal, side: Side) -> Decimal:
    """`price` on the venue's tick grid, moved towards the passive side (a buy limit never
    rises, a sell limit never falls). Deribit options tick coarser above a price
    (`tick_size_steps`: ETH 0.0001, 0.0005 above 0.005) which ccxt's precision ignores."""
    info = market.get("info") or {}
    tick = dec(info.get("tick_size"))
    if tick is None or tick <= 0:
        return price
    for row in sorted(info.get("tick_size_steps") or [], key=lambda r: dec0(r["above_price"])):
        if price > dec0(row["above_price"]):
            tick = dec0(row["tick_size"])
    rounding = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
    return (price / tick).to_integral_value(rounding) * tick


def _positive(value: Any) -> Decimal | None:
    """Option bids/asks of 0 mean "none" on both venues."""
    d = dec(value)
    return d if d is not None and d > 0 else None


def _venue_iv(scale: Decimal | None, g: Mapping[str, Any]) -> Decimal | None:
    """The venue's mark IV as a fraction; `scale`: its IV number per unit fraction (the
    profile's `option_iv_per_fraction`: Deribit 100, Bybit 1)."""
    iv = _positive(g.get("markImpliedVolatility"))
    return iv / scale if scale is not None and iv is not None else None


def _venue_greeks(scale: Decimal | None, g: Mapping[str, Any]) -> Greeks | None:
    """The venue's own greeks, if it sent all four and we know its units (identity for
    Deribit and Bybit: both already quote per coin in USD, vega per vol point, theta per day)."""
    if scale is None:
        return None
    raw = [dec(g.get(k)) for k in ("delta", "gamma", "vega", "theta")]
    if any(v is None for v in raw) or all(v == 0 for v in raw):
        return None
    delta, gamma, vega, theta = (float(v) for v in raw if v is not None)
    return Greeks(delta=delta, gamma=gamma, vega=vega, theta=theta, source="venue")


def black76_greeks(
    inst: Instrument, premium: Decimal, underlying: Decimal, ts_ms: int, vol: float | None
) -> tuple[Decimal | None, Greeks | None]:
    """Our Black-76 at `vol`, or at the vol implied by `premium` (per contract, in the
    premium currency: the coin for inverse options) when `vol` is None."""
    if inst.strike is None or inst.expiry_ms is None or inst.option_type is None:
        raise InputError(f"option {inst.symbol}: instrument has no strike/expiry/type")
    t_years = (inst.expiry_ms - ts_ms) / MS_PER_YEAR
    forward, strike = float(underlying), float(inst.strike)
    call = inst.option_type is OptionType.CALL
    if t_years <= 0 or forward <= 0:
        return None, None
    if vol is None:
        usd = (premium * underlying if inst.inverse else premium) / inst.contract_size
        try:
            vol = black76.implied_vol(float(usd), forward, strike, t_years, call)
        except InputError:
            return None, None  # a mark outside no-arbitrage bounds: no model greeks
    g = black76.greeks(forward, strike, t_years, vol, call)
    greeks = Greeks(g.delta, g.gamma, g.vega / 100, g.theta / 365, source="black76")
    return Decimal(f"{vol:.8f}"), greeks


def option_quote(
    venue: str,
    g: Mapping[str, Any],
    inst: Instrument,
    now_ms: int,
    iv_per_fraction: Decimal | None = None,
) -> Quote:
    """A ccxt greeks structure (fetch_greeks, fetch_all_greeks, or one of the converters
    below) for one option -> Quote in our units; `iv_per_fraction` from the venue profile."""
    if inst.kind is not InstrumentKind.OPTION:
        raise InputError(f"{venue}: {inst.symbol} is not an option")
    info = g.get("info") or {}
    ts = int(g.get("timestamp") or now_ms)
    mark = dec(g.get("markPrice")) or Decimal(0)
    index = dec(g.get("indexPrice") or info.get("index_price") or info.get("indexPrice"))
    underlying = _positive(g.get("underlyingPrice")) or index
    iv = _venue_iv(iv_per_fraction, g)
    greeks = _venue_greeks(iv_per_fraction, g) if iv is not None else None
    if greeks is None and underlying is not None and (iv is not None or mark > 0):
        model_iv, greeks = black76_greeks(
            inst, mark, underlying, ts, float(iv) if iv is not None else None
        )
        iv = iv if iv is not None else model_iv
    return Quote(
        symbol=inst.symbol,
        ts_ms=ts,
        mark=mark,
        index=index,
        bid=_positive(g.get("bidPrice")),
        ask=_positive(g.get("askPrice")),
        implied_vol=iv,
        greeks=greeks,
        underlying=underlying,
    )


def greeks_from_ticker(t: Mapping[str, Any]) -> dict[str, Any]:
    """A ccxt ticker in the shape of a greeks structure (for venues without fetchGreeks)."""
    info = t.get("info") or {}
    return {
        "timestamp": t.get("timestamp"),
        "markPrice": t.get("markPrice"),
        "bidPrice": t.get("bid"),
        "askPrice": t.get("ask"),
        "underlyingPrice": info.get("underlying_price") or info.get("underlyingPrice"),
        "info": info,
    }


def greeks_from_option_chain(o: Mapping[str, Any]) -> dict[str, Any]:
    """A ccxt option-chain entry (Deribit book summary) in the shape of a greeks structure
    without greeks: `option_quote` then prices them with Black-76 at the venue's mark IV.
    ccxt's parse_option drops the IV and the timestamp, so they come from the raw row."""
    info = o.get("info") or {}
    return {
        "timestamp": o.get("timestamp") or info.get("creation_timestamp"),
        "markPrice": o.get("markPrice"),
        "bidPrice": o.get("bidPrice"),
        "askPrice": o.get("askPrice"),
        "underlyingPrice": o.get("underlyingPrice"),
        "indexPrice": info.get("index_price") or info.get("estimated_delivery_price"),
        "markImpliedVolatility": info.get("mark_iv"),
        "info": info,
    }
