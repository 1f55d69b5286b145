"""One rig per emulated venue: its emulator, a CcxtVenue and CcxtMarketData on it, and what
tests do to the venue behind the bot's back (move the mark, pay funding, liquidate, trade by
hand). The venue contract suite, the live-mode runs and the fault and crash trials all take
their venues from here, so every venue is proven by the same tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import ccxt.async_support as ccxt_async
from pydantic import SecretStr

from bot.ports import Clock
from bot.venues.ccxt_market import CcxtMarketData
from bot.venues.ccxt_venue import CcxtVenue
from tests.support.emulator import Account, Binance, Emulator, default_markets
from tests.support.emulator.account import Market
from tests.support.emulator.bybit import Bybit, bybit_markets
from tests.support.emulator.deribit import Deribit, deribit_markets
from tests.support.emulator.hyperliquid import (
    TEST_PRIVATE_KEY,
    Hyperliquid,
    address_of,
    hyperliquid_account,
)

API_KEY = "vmK3yTestApiKey0123456789abcdefAPIKEYxyz"
API_SECRET = "sEcR3tTestSecret9876543210fedcbaSECRETzz"
OKX_PASSPHRASE = "lphedge-Pass1"
WALLET = address_of(TEST_PRIVATE_KEY)


@dataclass(frozen=True)
class VenueSpec:
    """What tests need to know of one venue: its ETH perp as ccxt names it and as the
    emulator keys it, the venue's lot and minimums, fee and settle currency, and the request
    path an order is placed on (for faults)."""

    name: str  # ccxt id
    symbol: str  # ETH perp, ccxt unified
    emu_symbol: str  # the emulator account's key of that market
    lot: Decimal  # amount step (= minimum) in our contracts
    min_cost: Decimal  # minimum notional (settle currency; 0: none)
    settle: str
    order_path: str
    order_method: str = "POST"
    contract_base: Decimal = Decimal(1)  # base per contract (linear); inverse: USD per contract
    inverse: bool = False
    liquidations: bool = True  # the venue reports forced closes through ccxt
    leverage_settable: bool = True
    too_small: str = ""  # an amount (contracts) below the venue's minimum notional
    credentials: Mapping[str, Any] = field(default_factory=dict)


def _keys(**extra: Any) -> dict[str, Any]:
    return {"api_key": SecretStr(API_KEY), "secret": SecretStr(API_SECRET), **extra}


SPECS: dict[str, VenueSpec] = {
    "binanceusdm": VenueSpec(
        "binanceusdm",
        "ETH/USDT:USDT",
        "ETHUSDT",
        Decimal("0.001"),
        Decimal(20),
        "USDT",
        "/fapi/v1/order",
        too_small="0.005",
        credentials=_keys(),
    ),
    "bybit": VenueSpec(
        "bybit",
        "ETH/USDT:USDT",
        "ETHUSDT",
        Decimal("0.01"),
        Decimal(5),
        "USDT",
        "/v5/order/create",
        too_small="",
        credentials=_keys(),
    ),
    "okx": VenueSpec(
        "okx",
        "ETH/USDT:USDT",
        "ETH-USDT-SWAP",
        Decimal("0.01"),
        Decimal(0),
        "USDT",
        "/api/v5/trade/batch-orders",
        contract_base=Decimal("0.1"),
        liquidations=False,
        credentials=_keys(password=SecretStr(OKX_PASSPHRASE)),
    ),
    "hyperliquid": VenueSpec(
        "hyperliquid",
        "ETH/USDC:USDC",
        "ETH",
        Decimal("0.0001"),
        Decimal(10),
        "USDC",
        "/exchange",
        too_small="0.003",
        credentials={"wallet_address": WALLET, "private_key": SecretStr(TEST_PRIVATE_KEY)},
    ),
    "deribit": VenueSpec(
        "deribit",
        "ETH/USD:ETH",
        "ETH-PERPETUAL",
        Decimal(1),
        Decimal(0),
        "ETH",
        "/api/v2/private/buy",
        order_method="GET",
        inverse=True,
        liquidations=False,
        leverage_settable=False,
        credentials=_keys(),
    ),
}
VENUES = tuple(SPECS)


def _okx(testnet: bool) -> tuple[Any, dict[str, Market]]:
    from tests.support.emulator.okx import Okx, okx_markets

    # an OKX demo key works only in simulated trading, a live key only outside it
    return Okx(passphrase=OKX_PASSPHRASE, demo=testnet), okx_markets()


def emulator(
    name: str, clock: Clock, *, balance: Decimal = Decimal(10000), testnet: bool = True
) -> Emulator:
    """The venue's emulator (not started), keeping time by `clock`, with `balance` USD of
    margin (its worth in ETH on Deribit), booking money at the venue's precision.
    `testnet`: the chain Hyperliquid signs for."""
    emu = _emulator(name, clock, balance, testnet)
    emu.account.book_quantum = _QUANTUM[name]
    return emu


def _emulator(name: str, clock: Clock, balance: Decimal, testnet: bool) -> Emulator:
    now = clock.now_ms
    if name == "binanceusdm":
        account = Account(default_markets(), balance=balance)
        return Emulator(Binance(), API_KEY, API_SECRET, account=account, now_ms=now)
    if name == "bybit":
        account = Account(bybit_markets(), balance=balance)
        return Emulator(Bybit(), API_KEY, API_SECRET, account=account, now_ms=now)
    if name == "okx":
        dialect, markets = _okx(testnet)
        account = Account(markets, balance=balance)
        return Emulator(dialect, API_KEY, API_SECRET, account=account, now_ms=now)
    if name == "hyperliquid":
        account = hyperliquid_account(balance=balance)
        dialect = Hyperliquid(testnet=testnet)
        return Emulator(dialect, WALLET, TEST_PRIVATE_KEY, account=account, now_ms=now)
    if name == "deribit":
        markets = deribit_markets()
        eth = balance / markets["ETH-PERPETUAL"].mark
        account = Account(
            markets,
            wallets={"ETH": eth, "BTC": balance / markets["BTC-PERPETUAL"].mark},
            underlying={"ETH": markets["ETH-PERPETUAL"].mark, "BTC": markets["BTC-PERPETUAL"].mark},
        )
        return Emulator(Deribit(), API_KEY, API_SECRET, account=account, now_ms=now)
    raise KeyError(name)


# What each venue books money in (its API renders exactly these amounts).
_QUANTUM = {
    "binanceusdm": Decimal("1e-8"),
    "bybit": Decimal("1e-8"),
    "okx": Decimal("1e-8"),
    "hyperliquid": Decimal("1e-6"),
    "deribit": Decimal("1e-8"),
}


def transport(emu: Emulator, *, timeout_ms: int = 2000) -> dict[str, Any]:
    """How CcxtVenue reaches `emu` (wiring.runtime's `ccxt_kwargs`): URLs, timeout, no
    rate limiter."""
    return transport_to(emu.dialect.ccxt_id(), emu.base_url, timeout_ms=timeout_ms)


def transport_to(name: str, base_url: str, *, timeout_ms: int = 2000) -> dict[str, Any]:
    """`transport` for an emulator known by its URL only (from another process)."""
    api = getattr(ccxt_async, name)().urls["api"]
    return {
        "urls_override": _pointed(api, base_url),
        "timeout_ms": timeout_ms,
        "enable_rate_limit": False,
    }


def _pointed(urls: Any, base: str) -> Any:
    if isinstance(urls, str):
        return re.sub(r"^https?://[^/]+", base, urls)
    if isinstance(urls, Mapping):
        return {k: _pointed(v, base) for k, v in urls.items()}
    return urls


def venue_settings(name: str) -> dict[str, str]:
    """The `[venue]` credential fields a user sets for this venue (plain strings)."""
    return {
        k: v.get_secret_value() if isinstance(v, SecretStr) else v
        for k, v in SPECS[name].credentials.items()
    }


def ccxt_kwargs(
    emu: Emulator, *, timeout_ms: int = 2000, secret: str | None = None
) -> dict[str, Any]:
    """Credentials and transport for a CcxtVenue built by hand on `emu`."""
    name = emu.dialect.ccxt_id()
    creds = dict(SPECS[name].credentials)
    if secret is not None:
        key = "private_key" if name == "hyperliquid" else "secret"
        creds[key] = SecretStr(secret)
    return {**creds, **transport(emu, timeout_ms=timeout_ms)}


def ccxt_venue(emu: Emulator, clock: Clock, *, mode: str = "testnet", **kw: Any) -> CcxtVenue:
    args = {**ccxt_kwargs(emu), **kw}
    venue = CcxtVenue(
        emu.dialect.ccxt_id(),
        mode=mode,
        clock=clock,
        confirm_live=mode == "live",
        **args,  # type: ignore[arg-type]
    )
    venue._ex.timeout_on_exit = 0  # ccxt waits 250 ms on close for TLS; none here
    return venue


def market_data(emu: Emulator, clock: Clock) -> CcxtMarketData:
    name = emu.dialect.ccxt_id()
    api = getattr(ccxt_async, name)().urls["api"]
    market = CcxtMarketData(
        name, clock=clock, urls_override=emu.ccxt_urls(api), enable_rate_limit=False
    )
    market._ex.timeout_on_exit = 0
    return market


def eth(emu: Emulator) -> Market:
    return emu.account.markets[SPECS[emu.dialect.ccxt_id()].emu_symbol]


def set_mark(emu: Emulator, price: Decimal) -> None:
    """Move the venue's ETH mark (and index) to `price`, on the venue's tick grid."""
    m = eth(emu)
    m.mark = price.quantize(m.tick)
    emu.account.underlying["ETH"] = m.mark


def trade_by_hand(emu: Emulator, side: str, contracts: Decimal, now_ms: int) -> None:
    """A trade on the venue not placed by the bot (its web UI, another script)."""
    emu.account.place(
        symbol=SPECS[emu.dialect.ccxt_id()].emu_symbol,
        side=side,
        qty=contracts,
        order_type="MARKET",
        reduce_only=False,
        client_id="",
        price=Decimal(0),
        now_ms=now_ms,
    )


def account_pnl(emu: Emulator) -> Decimal:
    """The venue's own view of the account's PnL on ETH: every income row it books (realised
    PnL, commissions, funding, any other fee) plus the unrealised PnL at its mark, in the
    settle currency."""
    spec = SPECS[emu.dialect.ccxt_id()]
    booked = sum((i.amount for i in emu.account.incomes if i.symbol == spec.emu_symbol), Decimal(0))
    m = eth(emu)
    pos = emu.account.position(spec.emu_symbol)
    return booked + m.pnl(pos.qty, pos.entry, m.mark)


SettleFunding = Callable[[Emulator, int], None]


def settle_funding(emu: Emulator, now_ms: int) -> None:
    emu.account.settle_funding(now_ms)
