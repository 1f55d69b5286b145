"""A typed option chain from ccxt-style market dicts, and the choice of strikes and expiry.

Symbols follow ccxt's unified form `BASE/QUOTE:SETTLE-YYMMDD-STRIKE-C|P`:
Deribit (inverse, premium in the coin) `ETH/USD:ETH-240628-3000-C`; USD-settled venues
(Bybit, OKX, Binance) `ETH/USDT:USDT-240628-3000-C`. Strikes, contract sizes and steps are
Decimal, exactly as the venue lists them; expiry in ms since the epoch (08:00 UTC on the
date when the market dict gives none: Deribit's, Bybit's and Binance's expiry time).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from bot.domain.market import Instrument, InstrumentKind, OptionType
from bot.errors import InputError

_SYMBOL = re.compile(
    r"^(?P<base>[A-Z0-9]+)/(?P<quote>[A-Z0-9]+):(?P<settle>[A-Z0-9]+)-"
    r"(?P<date>\d{6})-(?P<strike>\d+(?:\.\d+)?)-(?P<kind>[CP])$"
)
EXPIRY_HOUR_UTC = 8


@dataclass(frozen=True, slots=True)
class OptionSpec:
    """One listed option. `contract_size` in base units per contract; `premium_currency`
    is what the premium is quoted and paid in (ETH on Deribit, USDT/USDC elsewhere)."""

    venue: str
    symbol: str
    base: str
    quote: str
    settle: str
    strike: Decimal
    expiry_ms: int
    option_type: OptionType
    contract_size: Decimal
    inverse: bool
    premium_currency: str
    amount_step: Decimal
    taker_fee: Decimal

    def to_instrument(self) -> Instrument:
        return Instrument(
            venue=self.venue,
            symbol=self.symbol,
            asset=self.base,
            kind=InstrumentKind.OPTION,
            contract_size=self.contract_size,
            amount_step=self.amount_step,
            inverse=self.inverse,
            settle=self.settle,
            taker_fee=self.taker_fee,
            strike=self.strike,
            expiry_ms=self.expiry_ms,
            option_type=self.option_type,
        )


def _dec(value: object, what: str, symbol: str) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InputError(f"option {symbol}: {what} {value!r} is not a number") from None


def _or(value: object, default: str) -> object:
    """`value`, or `default` where ccxt left the field None (a present key with no value)."""
    return default if value is None else value


def parse_symbol(symbol: str) -> tuple[str, str, str, int, Decimal, OptionType]:
    """`ETH/USD:ETH-240628-3000-C` -> (base, quote, settle, expiry_ms, strike, type)."""
    hit = _SYMBOL.match(symbol)
    if hit is None:
        raise InputError(
            f"option symbol {symbol!r} is not BASE/QUOTE:SETTLE-YYMMDD-STRIKE-C|P (ccxt form)"
        )
    d = hit.group("date")
    day = datetime(2000 + int(d[:2]), int(d[2:4]), int(d[4:]), EXPIRY_HOUR_UTC, tzinfo=UTC)
    kind = OptionType.CALL if hit.group("kind") == "C" else OptionType.PUT
    strike = Decimal(hit.group("strike"))
    return hit["base"], hit["quote"], hit["settle"], int(day.timestamp() * 1000), strike, kind


def format_symbol(
    base: str, quote: str, settle: str, expiry_ms: int, strike: Decimal, kind: OptionType
) -> str:
    """The ccxt unified symbol `parse_symbol` reads: `ETH/USD:ETH-240628-3000-C`."""
    day = datetime.fromtimestamp(expiry_ms / 1000, UTC).strftime("%y%m%d")
    text = format(strike, "f")
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return f"{base}/{quote}:{settle}-{day}-{text}-{'C' if kind is OptionType.CALL else 'P'}"


@lru_cache(maxsize=4096)
def is_option_symbol(symbol: str) -> bool:
    """True for a ccxt unified option symbol (`ETH/USD:ETH-240628-3000-C`)."""
    try:
        parse_symbol(symbol)
    except InputError:
        return False
    return True


def parse_market(venue: str, market: Mapping[str, Any]) -> OptionSpec:
    """A ccxt market dict of type option -> OptionSpec (the market's own fields win)."""
    symbol = str(market.get("symbol", ""))
    base, quote, settle, expiry_ms, strike, kind = parse_symbol(symbol)
    if market.get("strike") is not None:
        strike = _dec(market["strike"], "strike", symbol)
    if market.get("expiry") is not None:
        expiry_ms = int(market["expiry"])
    raw_type = market.get("optionType")
    if raw_type is not None:
        kind = OptionType(str(raw_type).lower())
    inverse = bool(market.get("inverse")) or settle == base
    precision = market.get("precision") or {}
    step = precision.get("amount")
    return OptionSpec(
        venue=venue,
        symbol=symbol,
        base=base,
        quote=quote,
        settle=settle,
        strike=strike,
        expiry_ms=expiry_ms,
        option_type=kind,
        contract_size=_dec(market.get("contractSize") or 1, "contractSize", symbol),
        inverse=inverse,
        premium_currency=base if inverse else settle,
        amount_step=_dec(step, "precision.amount", symbol) if step else Decimal("0.01"),
        taker_fee=_dec(_or(market.get("taker"), "0.0003"), "taker", symbol),
    )


@dataclass(frozen=True, slots=True)
class OptionChain:
    """The listed options of one underlying on one venue."""

    options: tuple[OptionSpec, ...]

    @classmethod
    def from_markets(
        cls, venue: str, markets: Iterable[Mapping[str, Any]], base: str
    ) -> OptionChain:
        """Keep the option markets of `base` (others, and non-options, are skipped)."""
        specs = []
        for m in markets:
            if m.get("type") != "option" and not m.get("option"):
                continue
            spec = parse_market(venue, m)
            if spec.base == base:
                specs.append(spec)
        return cls(tuple(sorted(specs, key=lambda s: (s.expiry_ms, s.strike, s.option_type))))

    def expiries(self, after_ms: int) -> tuple[int, ...]:
        return tuple(sorted({o.expiry_ms for o in self.options if o.expiry_ms > after_ms}))
