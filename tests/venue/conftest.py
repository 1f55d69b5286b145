"""Fixtures for the venue tests: the emulator, a CcxtVenue pointed at it, and a PaperVenue
on a replay of real Binance ETHUSDT 1 m closes with a ledger on SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import ccxt.async_support as ccxt_async
import pytest
from pydantic import SecretStr

from bot.clock import FixedClock
from bot.domain.market import BINANCE_ETHUSDT, Instrument
from bot.ledger.store import Ledger
from bot.ports import Venue
from bot.venues.ccxt_venue import CcxtVenue
from bot.venues.paper import PaperVenue
from bot.venues.replay_market import PricePoint, ReplayMarketData, load_closes
from tests.support.emulator import Account, Binance, Emulator
from tests.support.emulator.bybit import Bybit, bybit_markets

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "vmK3yTestApiKey0123456789abcdefAPIKEYxyz"
API_SECRET = "sEcR3tTestSecret9876543210fedcbaSECRETzz"
ETH = "ETH/USDT:USDT"
ETH_1M = ROOT.parent / "shared/data/market/binance_eth_1m/ETHUSDT_1m_2024.csv"
# A fixed real price path: the first 600 minutes of the 2024 window (loaded once).
_SERIES: list[PricePoint] = []


def eth_series() -> list[PricePoint]:
    if not _SERIES:
        _SERIES.extend(load_closes(ETH_1M)[:600])
    return _SERIES


def eth_instrument(venue: str = "paper") -> Instrument:
    """Binance's ETHUSDT perp as ccxt describes it (step 0.001, min notional 20 USDT)."""
    return replace(BINANCE_ETHUSDT, venue=venue)


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(Binance(), api_key=API_KEY, secret=API_SECRET) as emu:
        yield emu


def bybit_emulator() -> Emulator:
    """A Bybit v5 emulator (not started) with Bybit's ETHUSDT/BTCUSDT filters."""
    return Emulator(Bybit(), api_key=API_KEY, secret=API_SECRET, account=Account(bybit_markets()))


def make_ccxt_venue(
    emu: Emulator, *, secret: str = API_SECRET, timeout_ms: int = 2000
) -> CcxtVenue:
    exchange_id = emu.dialect.ccxt_id()
    api = getattr(ccxt_async, exchange_id)().urls["api"]
    return CcxtVenue(
        exchange_id,
        api_key=SecretStr(API_KEY),
        secret=SecretStr(secret),
        mode="testnet",
        clock=FixedClock(),
        urls_override=emu.ccxt_urls(api),
        timeout_ms=timeout_ms,
        enable_rate_limit=False,
    )


@pytest.fixture
async def ccxt_venue(emulator: Emulator) -> AsyncIterator[CcxtVenue]:
    venue = make_ccxt_venue(emulator)
    yield venue
    await venue.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(ms=eth_series()[0].ts_ms + 60_000)


@pytest.fixture
def replay(clock: FixedClock) -> ReplayMarketData:
    return ReplayMarketData(
        {ETH: eth_series()}, {ETH: eth_instrument()}, clock, funding_rate=Decimal("0.0001")
    )


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    led = Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield led
    led.close()


@dataclass
class Harness:
    """One Venue implementation and the hooks the contract suite needs around it."""

    venue: Venue
    symbol: str
    settle_funding: Callable[[], None]  # make one funding time pass on the venue
    amount_step: Decimal = Decimal("0.001")  # ETH perp lot step (= min amount) on this venue
    min_cost: Decimal = Decimal(20)  # min notional, USDT
    too_small: str = "0.005"  # an ETH amount the venue refuses as too small, and why
    too_small_match: str = "notional"


@pytest.fixture(params=["paper", "ccxt-emulator", "ccxt-bybit"])
async def harness(request: pytest.FixtureRequest, clock: FixedClock) -> AsyncIterator[Harness]:
    if request.param == "paper":
        ledger = request.getfixturevalue("ledger")
        replay = request.getfixturevalue("replay")
        paper = PaperVenue("paper", replay, ledger, clock, Decimal(10000))
        yield Harness(paper, ETH, lambda: clock.advance(8 * 3600))
        await paper.close()
        return
    bybit = request.param == "ccxt-bybit"
    emu = bybit_emulator() if bybit else Emulator(Binance(), api_key=API_KEY, secret=API_SECRET)
    async with emu:
        venue = make_ccxt_venue(emu)

        def settle() -> None:
            emu.account.settle_funding(emu.clock_ms())

        if bybit:  # lot 0.01 ETH, 5 USDT minimum: ccxt refuses 0.005 ETH before sending
            yield Harness(venue, ETH, settle, Decimal("0.01"), Decimal(5), "0.005", "minimum")
        else:
            yield Harness(venue, ETH, settle)
        await venue.close()
