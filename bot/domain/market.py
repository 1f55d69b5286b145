"""Tokens, the underlying assets they stand for, and venue instruments.

Quantities of money are `Decimal` (human units) or `int` (`_raw`, token base units).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

USD = "USD"

DEFAULT_ASSET_MAP: Mapping[str, str] = {
    "WETH": "ETH",
    "ETH": "ETH",
    "STETH": "ETH",
    "WSTETH": "ETH",
    "WBTC": "BTC",
    "CBBTC": "BTC",
    "BTCB": "BTC",
    "TBTC": "BTC",
    "USDC": USD,
    "USDC.E": USD,
    "USDBC": USD,
    "USDT": USD,
    "DAI": USD,
    "USDS": USD,
    "FRAX": USD,
    "WMATIC": "MATIC",
    "WPOL": "POL",
    "WSOL": "SOL",
    "ARB": "ARB",
    "OP": "OP",
}


@dataclass(frozen=True, slots=True)
class Token:
    """An ERC-20 token on one chain. `address` is checksummed."""

    address: str
    symbol: str
    decimals: int

    def to_human(self, raw: int) -> Decimal:
        """Base units -> token units, exact."""
        return Decimal(raw).scaleb(-self.decimals)


@dataclass(frozen=True, slots=True)
class AssetMap:
    """Which underlying asset each token stands for (WETH->ETH, USDC->USD).

    Lookups go by checksummed address first (to pin a specific token), then by
    upper-case symbol. A token not in the map is its own asset (its symbol).
    """

    by_symbol: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ASSET_MAP))
    by_address: Mapping[str, str] = field(default_factory=dict)

    def asset_of(self, token: Token) -> str:
        hit = self.by_address.get(token.address) or self.by_address.get(token.address.lower())
        if hit:
            return hit
        return self.by_symbol.get(token.symbol.upper(), token.symbol.upper())

    def is_quote(self, token: Token) -> bool:
        return self.asset_of(token) == USD


class InstrumentKind(StrEnum):
    PERP = "perp"
    OPTION = "option"


class OptionType(StrEnum):
    CALL = "call"
    PUT = "put"


@dataclass(frozen=True, slots=True)
class Instrument:
    """A venue market as the planner needs it: how much one contract is and how to round.

    `contract_size` is in base units per contract for linear markets and in quote (USD)
    per contract for inverse ones (Deribit BTC-PERPETUAL: 10 USD). `amount_step` and
    `min_amount` are in contracts; `min_cost` in the settle/quote currency.
    """

    venue: str
    symbol: str
    asset: str
    kind: InstrumentKind = InstrumentKind.PERP
    contract_size: Decimal = Decimal(1)
    amount_step: Decimal = Decimal("0.001")
    price_step: Decimal = Decimal("0.01")
    min_amount: Decimal = Decimal(0)
    min_cost: Decimal = Decimal(0)
    inverse: bool = False
    settle: str = "USDT"
    taker_fee: Decimal = Decimal("0.0005")
    maker_fee: Decimal = Decimal("0.0002")
    strike: Decimal | None = None
    expiry_ms: int | None = None
    option_type: OptionType | None = None


BINANCE_ETHUSDT = Instrument(
    venue="binanceusdm",
    symbol="ETH/USDT:USDT",
    asset="ETH",
    amount_step=Decimal("0.001"),
    price_step=Decimal("0.01"),
    min_amount=Decimal("0.001"),
    min_cost=Decimal(20),
    taker_fee=Decimal("0.0005"),
    maker_fee=Decimal("0.0002"),
)
"""Binance USDⓈ-M ETHUSDT perp filters (step 0.001 ETH, tick 0.01, min notional 20 USDT) and
VIP0 fees: the market offline runs (demo, backtest, tests) trade against."""

BINANCE_BTCUSDT = Instrument(
    venue="binanceusdm",
    symbol="BTC/USDT:USDT",
    asset="BTC",
    amount_step=Decimal("0.001"),
    price_step=Decimal("0.1"),
    min_amount=Decimal("0.001"),
    min_cost=Decimal(100),
    taker_fee=Decimal("0.0005"),
    maker_fee=Decimal("0.0002"),
)
"""Binance USDⓈ-M BTCUSDT perp filters (step 0.001 BTC, tick 0.1, min notional 100 USDT)."""


@dataclass(frozen=True, slots=True)
class BookLevel:
    price: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class OrderBook:
    """Top of an order book; amounts in contracts."""

    symbol: str
    ts_ms: int
    bids: tuple[BookLevel, ...]
    asks: tuple[BookLevel, ...]


@dataclass(frozen=True, slots=True)
class Greeks:
    """Option sensitivities per one unit of the underlying (one ETH of notional), in USD.

    `delta` base per base; `gamma` base per USD; `vega` USD per vol point (0.01); `theta`
    USD per day. `source` says who computed them: "venue" or "black76" (our fallback).
    Floats: model outputs for sizing and reporting, never ledger money.
    """

    delta: float
    gamma: float
    vega: float
    theta: float
    source: str = "venue"


@dataclass(frozen=True, slots=True)
class Quote:
    """Market data for one venue symbol at one time."""

    symbol: str
    ts_ms: int
    mark: Decimal
    index: Decimal | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    funding_rate: Decimal | None = None
    next_funding_ms: int | None = None
    implied_vol: Decimal | None = None
    greeks: Greeks | None = None
    underlying: Decimal | None = None  # options: the venue's underlying/index price, USD


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """What the strategy may know of the market at `ts_ms`.

    `prices` are USD prices per underlying asset (`{"ETH": Decimal("3012.5")}`),
    `quotes` per venue symbol, `instruments` per venue symbol.
    """

    ts_ms: int
    prices: Mapping[str, Decimal]
    quotes: Mapping[str, Quote] = field(default_factory=dict)
    instruments: Mapping[str, Instrument] = field(default_factory=dict)
    volatility: Mapping[str, float] = field(default_factory=dict)

    def price(self, asset: str) -> Decimal:
        if asset == USD:
            return Decimal(1)
        try:
            return self.prices[asset]
        except KeyError:
            raise KeyError(f"no USD price for asset {asset!r} in the market snapshot") from None
