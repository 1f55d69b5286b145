"""Fixtures for the venue tests: the emulator, a CcxtVenue pointed at it, and a PaperVenue
on a replay of real Binance ETHUSDT 1 m closes with a ledger on SQLite; Deribit and Bybit
emulators listing options (tests/support/emulator/option_markets.py) for the option tests;
and `option_contract`, one option venue path per implementation for the option contract
suite (paper on the replay with DVOL-priced options, ccxt on the Deribit/Bybit emulators)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import ccxt.async_support as ccxt_async
import pytest
from pydantic import SecretStr

from bot.clock import FixedClock
from bot.domain.market import BINANCE_ETHUSDT, Instrument, OptionType, Quote
from bot.domain.orders import OrderIntent, Side
from bot.ledger.store import Ledger
from bot.options.dvol import load_dvol
from bot.ports import MarketData, Venue
from bot.venues.ccxt_market import CcxtMarketData
from bot.venues.ccxt_venue import CcxtVenue
from bot.venues.paper import PaperVenue
from bot.venues.replay_market import PricePoint, ReplayMarketData, load_closes
from bot.venues.replay_options import ReplayOptions, ReplayOptionsSpec
from tests.support import venues
from tests.support.emulator import Account, Binance, Emulator
from tests.support.emulator.bybit import Bybit, bybit_markets
from tests.support.emulator.deribit import Deribit
from tests.support.emulator.option_markets import ETH_INDEX, NOW_MS, UNDERLYING, option_markets

ROOT = Path(__file__).resolve().parents[2]
API_KEY = "vmK3yTestApiKey0123456789abcdefAPIKEYxyz"
API_SECRET = "sEcR3tTestSecret9876543210fedcbaSECRETzz"
ETH = "ETH/USDT:USDT"
ETH_1M = ROOT.parent / "shared/data/market/binance_eth_1m/ETHUSDT_1m_2024.csv"
ETH_DVOL = ROOT.parent / "shared/data/market/deribit_dvol_daily/eth_dvol.csv"
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
    emu: Emulator,
    *,
    secret: str = API_SECRET,
    timeout_ms: int = 2000,
    clock: FixedClock | None = None,
) -> CcxtVenue:
    exchange_id = emu.dialect.ccxt_id()
    api = getattr(ccxt_async, exchange_id)().urls["api"]
    return CcxtVenue(
        exchange_id,
        api_key=SecretStr(API_KEY),
        secret=SecretStr(secret),
        mode="testnet",
        clock=clock or FixedClock(),
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
    """One Venue implementation and what the contract suite does around it: `settle_funding`
    makes one funding time pass, `trade_by_hand` makes a trade the bot did not place (on the
    venue's own books), `force_close` has the venue close the position itself (None: the
    venue never does, as the paper venue)."""

    name: str
    venue: Venue
    symbol: str
    settle: str
    lot: Decimal  # amount step (= minimum) in the venue's contracts
    contract_base: Decimal  # base per contract (linear; inverse: USD per contract)
    inverse: bool
    settle_funding: Callable[[], None]
    trade_by_hand: Callable[[str, Decimal], Awaitable[None]]
    force_close: Callable[[], None] | None
    reports_liquidations: bool
    leverage_settable: bool
    mark: Callable[[], Decimal]
    emu: Emulator | None = None

    def contracts(self, base: str) -> Decimal:
        """Contracts for about `base` ETH at the mark, on the lot."""
        raw = Decimal(base) * (
            self.mark() / self.contract_base if self.inverse else 1 / self.contract_base
        )
        return (raw / self.lot).to_integral_value() * self.lot


VENUES = ("paper", *venues.VENUES)


@pytest.fixture(params=VENUES)
async def harness(request: pytest.FixtureRequest, clock: FixedClock) -> AsyncIterator[Harness]:
    if request.param == "paper":
        ledger = request.getfixturevalue("ledger")
        replay = request.getfixturevalue("replay")
        paper = PaperVenue("paper", replay, ledger, clock, Decimal(10000))
        ids = itertools.count(1)

        async def by_hand(side: str, contracts: Decimal) -> None:
            await paper.submit(hand_order(paper.name, ETH, side, contracts, next(ids)))

        yield Harness(
            "paper",
            paper,
            ETH,
            "USDT",
            Decimal("0.001"),
            Decimal(1),
            False,
            lambda: clock.advance(8 * 3600),
            by_hand,
            None,
            False,
            True,
            lambda: replay.mark(ETH),
        )
        await paper.close()
        return
    emu = venues.emulator(request.param, clock, balance=Decimal(20000))
    async with emu:
        venue = venues.ccxt_venue(emu, clock)
        yield ccxt_harness(emu, venue, clock)
        await venue.close()


def ccxt_harness(emu: Emulator, venue: Venue, clock: FixedClock) -> Harness:
    """The harness of a CcxtVenue on `emu`: the emulator's account is the venue's books."""
    name = emu.dialect.ccxt_id()
    spec = venues.SPECS[name]

    def settle() -> None:
        clock.advance(3600)
        emu.account.settle_funding(clock.now_ms())

    async def by_hand(side: str, contracts: Decimal) -> None:
        venues.trade_by_hand(emu, side.upper(), contracts, clock.now_ms())

    def liquidate() -> None:
        emu.account.force_close(spec.emu_symbol, clock.now_ms())

    return Harness(
        name,
        venue,
        spec.symbol,
        spec.settle,
        spec.lot,
        spec.contract_base,
        spec.inverse,
        settle,
        by_hand,
        liquidate,
        spec.liquidations,
        spec.leverage_settable,
        lambda: venues.eth(emu).mark,
        emu,
    )


def hand_order(venue: str, symbol: str, side: str, contracts: Decimal, n: int) -> OrderIntent:
    """An order placed on the paper venue directly, not through the executor and ledger."""
    return OrderIntent(
        plan_id=f"hand{n}",
        leg=0,
        venue=venue,
        symbol=symbol,
        side=Side(side.lower()),
        amount=contracts,
        amount_base=contracts,
        reduce_only=False,
        client_id=f"{n:032x}",
        reason="by hand",
        decision_price=Decimal(3000),
    )


def option_emulator(
    venue: str, clock: FixedClock, recorded: dict[str, dict[str, object]] | None = None
) -> Emulator:
    """A Deribit or Bybit emulator (not started) listing ETH/BTC options at NOW_MS, with
    10 ETH / 1 BTC / 20,000 USDC to pay premiums; it keeps time by `clock`."""
    account = Account(
        {} if venue == "deribit" else bybit_markets(),
        options=option_markets(venue),
        underlying=dict(UNDERLYING),
        wallets={"ETH": Decimal(10), "BTC": Decimal(1), "USDC": Decimal(20000)},
    )
    if "ETHUSDT" in account.markets:
        account.markets["ETHUSDT"].mark = ETH_INDEX
    dialect = Deribit(recorded) if venue == "deribit" else Bybit(recorded)  # type: ignore[arg-type]
    return Emulator(dialect, API_KEY, API_SECRET, account=account, now_ms=clock.now_ms)


def make_market_data(
    emu: Emulator, clock: FixedClock, markets_ttl_ms: int = 3_600_000
) -> CcxtMarketData:
    exchange_id = emu.dialect.ccxt_id()
    api = getattr(ccxt_async, exchange_id)().urls["api"]
    market = CcxtMarketData(
        exchange_id,
        clock=clock,
        urls_override=emu.ccxt_urls(api),
        enable_rate_limit=False,
        markets_ttl_ms=markets_ttl_ms,
    )
    market._ex.timeout_on_exit = 0  # ccxt waits 250 ms on close for TLS; none here
    return market


@dataclass
class OptionRig:
    """An option venue emulator with our market data and venue adapters pointed at it."""

    name: str
    emu: Emulator
    market: CcxtMarketData
    venue: CcxtVenue
    clock: FixedClock


@pytest.fixture
def option_clock() -> FixedClock:
    return FixedClock(ms=NOW_MS)


@pytest.fixture(params=["deribit", "bybit"])
async def option_rig(
    request: pytest.FixtureRequest, option_clock: FixedClock
) -> AsyncIterator[OptionRig]:
    async with option_emulator(request.param, option_clock) as emu:
        market = make_market_data(emu, option_clock)
        venue = make_ccxt_venue(emu, clock=option_clock)
        venue._ex.timeout_on_exit = 0
        try:
            yield OptionRig(request.param, emu, market, venue, option_clock)
        finally:
            await market.close()
            await venue.close()


@dataclass
class OptionContract:
    """One option venue path for the option contract suite: market data and a venue over the
    same options, the clock both keep time by, and `near_money` to pick what to trade."""

    name: str
    market: MarketData
    venue: Venue
    clock: FixedClock
    emu: Emulator | None = None

    def expire(self) -> None:
        """What the venue does at an expiry: deliver the options held (Deribit's dialect
        does it by itself on the next request; the paper venue on its next call)."""
        if self.emu is not None and self.name == "ccxt-bybit":
            self.emu.account.deliver_options(self.clock.now_ms())

    async def near_money(
        self, kind: OptionType = OptionType.CALL, min_days: int = 7
    ) -> tuple[Instrument, Quote]:
        """The listed ETH option of `kind` at the first expiry at least `min_days` out (the
        last one if none is) with the strike nearest the underlying, and its quote now."""
        chain = await self.market.option_chain("ETH")
        assert chain, f"{self.name}: no ETH options listed"
        expiries = sorted({i.expiry_ms for i in chain.values() if i.expiry_ms is not None})
        soon = self.clock.now_ms() + min_days * 86_400_000
        expiry = next((e for e in expiries if e >= soon), expiries[-1])
        listed = [i for i in chain.values() if i.expiry_ms == expiry and i.option_type is kind]
        probe = (await self.market.snapshot([listed[0].symbol])).quotes[listed[0].symbol]
        assert probe.underlying is not None, f"{self.name}: option quote without underlying"
        under = probe.underlying
        inst = min(listed, key=lambda i: (abs((i.strike or Decimal(0)) - under), i.strike))
        return inst, (await self.market.snapshot([inst.symbol])).quotes[inst.symbol]


def paper_option_market(clock: FixedClock) -> ReplayMarketData:
    """The real ETHUSDT 1 m replay with Deribit-style (inverse) options priced by Black-76 at
    the real ETH DVOL."""
    options = ReplayOptions(ReplayOptionsSpec(premium="inverse"), load_dvol(ETH_DVOL))
    return ReplayMarketData({ETH: eth_series()}, {ETH: eth_instrument()}, clock, options=options)


@pytest.fixture(params=["paper", "ccxt-deribit", "ccxt-bybit"])
async def option_contract(
    request: pytest.FixtureRequest, clock: FixedClock, option_clock: FixedClock
) -> AsyncIterator[OptionContract]:
    if request.param == "paper":  # 2024-05-01 03:01 UTC, 10,000 USD, a SQLite ledger
        market = paper_option_market(clock)
        ledger = request.getfixturevalue("ledger")
        paper = PaperVenue(
            "paper", market, ledger, clock, Decimal(10000), price_symbols={"ETH": ETH}
        )
        yield OptionContract("paper", market, paper, clock)
        await paper.close()
        return
    venue_name = request.param.removeprefix("ccxt-")  # 2024-04-16 08:00 UTC
    async with option_emulator(venue_name, option_clock) as emu:
        data = make_market_data(emu, option_clock)
        venue = make_ccxt_venue(emu, clock=option_clock)
        venue._ex.timeout_on_exit = 0
        try:
            yield OptionContract(request.param, data, venue, option_clock, emu)
        finally:
            await data.close()
            await venue.close()
