"""Fixtures for the execution tests: a SQLite ledger, the Binance emulator with a real ccxt
venue on it (short timeout, so timeout-after-accept is quick), and a PaperVenue on a replay
of real ETHUSDT 1 m closes sharing the ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.domain.market import BINANCE_ETHUSDT, Instrument
from bot.execution import ExecutionPolicy
from bot.ledger.store import Ledger
from bot.venues.ccxt_venue import CcxtVenue
from bot.venues.paper import PaperVenue
from bot.venues.replay_market import PricePoint, ReplayMarketData, load_closes
from tests.execution.helpers import API_KEY, API_SECRET, ETH, make_ccxt_venue
from tests.support.emulator import Binance, Emulator

ETH_1M = (
    Path(__file__).resolve().parents[3] / "shared/data/market/binance_eth_1m/ETHUSDT_1m_2024.csv"
)
TIMEOUT_MS = 400
"""ccxt's request timeout in these tests; the emulator holds a timed-out answer 1 s."""

# FixedClock: the in-doubt wait and lookup back-off advance it instantly.
POLICY = ExecutionPolicy(in_doubt_s=15.0, lookup_attempts=4, lookup_wait_s=0.05)

_SERIES: list[PricePoint] = []


@pytest.fixture
def clock() -> FixedClock:
    if not _SERIES:
        _SERIES.extend(load_closes(ETH_1M)[:120])
    return FixedClock(ms=_SERIES[0].ts_ms + 60_000)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(f"sqlite:///{tmp_path / 'ledger.db'}") as led:
        yield led


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with Emulator(Binance(), api_key=API_KEY, secret=API_SECRET) as emu:
        yield emu


@pytest.fixture
async def ccxt_venue(emulator: Emulator, clock: FixedClock) -> AsyncIterator[CcxtVenue]:
    venue = make_ccxt_venue(emulator, clock, timeout_ms=TIMEOUT_MS)
    yield venue
    await venue.close()


def eth_instrument() -> Instrument:
    return replace(BINANCE_ETHUSDT, venue="paper")


@pytest.fixture
async def paper(clock: FixedClock, ledger: Ledger) -> AsyncIterator[PaperVenue]:
    market = ReplayMarketData({ETH: _SERIES}, {ETH: eth_instrument()}, clock)
    venue = PaperVenue("paper", market, ledger, clock, Decimal(10000))
    yield venue
    await venue.close()
