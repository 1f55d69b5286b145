"""Start-up checks on live and testnet accounts, against each venue's emulator: hedge
(dual-side) position mode is refused unless configured, and then traded side by side;
leverage and margin mode are set (or verified) per symbol; what the venue reports is
recorded in the ledger."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.domain import events as ev
from bot.domain.orders import OrderIntent, Side
from bot.engine_account import AccountDesk, AccountPolicy
from bot.errors import ConfigError, NeedsOperator
from bot.execution import OrderExecutor
from bot.execution.account_sync import AccountSync
from bot.execution.reconcile import DriftWatch
from bot.ledger.store import Ledger
from tests.support import venues
from tests.support.emulator import Emulator

HEDGE_VENUES = ("binanceusdm", "bybit", "okx")


@pytest.fixture
def led(tmp_path: Path) -> AsyncIterator[Ledger]:
    with Ledger.open(f"sqlite:///{tmp_path / 'setup.db'}") as ledger:
        yield ledger  # type: ignore[misc]


def desk(venue: object, ledger: Ledger, clock: FixedClock, policy: AccountPolicy) -> AccountDesk:
    ex = OrderExecutor(venue, ledger, clock, "r")  # type: ignore[arg-type]
    sync = AccountSync(venue, ledger, clock, "r", start_ms=0)  # type: ignore[arg-type]
    drift = DriftWatch(venue, ledger, clock, "r", [])  # type: ignore[arg-type]
    return AccountDesk(venue, ledger, clock, "r", ex, sync, drift, policy)  # type: ignore[arg-type]


def order(name: str, side: Side, n: str, cid: str, *, reduce_only: bool = False) -> OrderIntent:
    spec = venues.SPECS[name]
    return OrderIntent(
        "p",
        0,
        name,
        spec.symbol,
        side,
        Decimal(n),
        Decimal(n),
        reduce_only,
        cid,
        "t",
        Decimal(3000),
    )


@pytest.mark.parametrize("name", HEDGE_VENUES)
async def test_hedge_mode_is_refused_unless_configured_then_traded_by_side(
    name: str, led: Ledger
) -> None:
    clock = FixedClock(1_714_000_000_000)
    spec = venues.SPECS[name]
    emu: Emulator = venues.emulator(name, clock, balance=Decimal(20000))
    emu.account.position_mode = "hedge"
    async with emu:
        one_way = venues.ccxt_venue(emu, clock)
        try:
            with pytest.raises(NeedsOperator, match="hedge position mode"):
                await desk(one_way, led, clock, AccountPolicy()).start([spec.symbol])
        finally:
            await one_way.close()
        assert led.events([ev.ACCOUNT_STATE]) == []  # refused before anything is recorded
        hedged = venues.ccxt_venue(emu, clock, position_mode="hedge")
        try:
            state = await desk(hedged, led, clock, AccountPolicy(position_mode="hedge")).start(
                [spec.symbol]
            )
            assert state.position_mode == "hedge"
            n = str(spec.lot * 20)
            await hedged.submit(order(name, Side.SELL, n, "a" * 32))  # opens the SHORT side
            [pos] = await hedged.positions()
            assert pos.contracts == -Decimal(n)
            assert emu.account.position(spec.emu_symbol, "SHORT").qty == -Decimal(n)
            await hedged.submit(order(name, Side.BUY, n, "b" * 32, reduce_only=True))
            assert await hedged.positions() == []
            assert emu.account.position(spec.emu_symbol, "LONG").qty == 0
        finally:
            await hedged.close()
    [recorded] = led.events([ev.ACCOUNT_STATE])
    assert recorded.payload["position_mode"] == "hedge"


@pytest.mark.parametrize("name", ["binanceusdm", "bybit", "okx", "hyperliquid"])
async def test_leverage_and_margin_are_set_then_verified(name: str, led: Ledger) -> None:
    clock = FixedClock(1_714_000_000_000)
    spec = venues.SPECS[name]
    async with venues.emulator(name, clock, balance=Decimal(20000)) as emu:
        v = venues.ccxt_venue(emu, clock)
        try:
            want = AccountPolicy(leverage={spec.symbol: Decimal(3)}, margin_mode="cross")
            await desk(v, led, clock, want).start([spec.symbol])
            assert emu.account.leverage_of(spec.emu_symbol) == 3
            stricter = AccountPolicy(leverage={spec.symbol: Decimal(7)}, setup="verify")
            if name == "hyperliquid":  # leverage shows only on an open position there
                await v.submit(order(name, Side.BUY, str(spec.lot * 100), "c" * 32))
            with pytest.raises(NeedsOperator, match="leverage 3"):
                await desk(v, led, clock, stricter).start([spec.symbol])
        finally:
            await v.close()
    [state] = led.events([ev.ACCOUNT_STATE])
    setup = state.payload["symbols"][0]
    # Hyperliquid reports leverage only on an open position; there was none at the start
    assert setup["leverage"] is None if name == "hyperliquid" else Decimal(setup["leverage"]) == 3


async def test_deribit_has_no_leverage_to_set(led: Ledger) -> None:
    clock = FixedClock(1_714_000_000_000)
    async with venues.emulator("deribit", clock) as emu:
        v = venues.ccxt_venue(emu, clock)
        try:
            policy = AccountPolicy(leverage={"ETH/USD:ETH": Decimal(3)})
            with pytest.raises(ConfigError, match=r"venue\.leverage"):
                await desk(v, led, clock, policy).start(["ETH/USD:ETH"])
            state = await desk(v, led, clock, AccountPolicy()).start(["ETH/USD:ETH"])
            assert state.position_mode == "one_way" and state.balances["ETH"] > 0
        finally:
            await v.close()
