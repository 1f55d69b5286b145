"""Account events into the ledger exactly once: across polls, restarts, late rows and trades
the bot did not place (Hyperliquid and Binance emulators, a real ccxt object each)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.domain import events as ev
from bot.domain.orders import OrderIntent, Side
from bot.execution import OrderExecutor
from bot.execution.account_sync import AccountSync
from bot.ledger.store import Ledger
from tests.support import venues

START = 1_714_000_000_000


def order(name: str, cid: str, n: str) -> OrderIntent:
    spec = venues.SPECS[name]
    return OrderIntent(
        "p", 0, name, spec.symbol, Side.SELL, Decimal(n), Decimal(n), False, cid, "t", Decimal(3000)
    )


@pytest.mark.parametrize("name", ["hyperliquid", "binanceusdm"])
async def test_each_event_is_written_once_across_polls_and_restarts(
    name: str, tmp_path: Path
) -> None:
    clock = FixedClock(START)
    spec = venues.SPECS[name]
    with Ledger.open(f"sqlite:///{tmp_path / 's.db'}") as ledger:
        async with venues.emulator(name, clock, balance=Decimal(20000)) as emu:
            v = venues.ccxt_venue(emu, clock)
            try:
                sync = AccountSync(v, ledger, clock, "r1", start_ms=START)
                await OrderExecutor(v, ledger, clock, "r1").execute([order(name, "a" * 32, "0.5")])
                for _ in range(3):
                    clock.advance(3600)
                    emu.account.settle_funding(clock.ms)
                first = await sync.poll([spec.symbol])
                assert len(first.funding) == 3 and first.fills == ()  # the executor wrote it
                assert (await sync.poll([spec.symbol])).empty
                again = AccountSync(v, ledger, clock, "r2", start_ms=START)  # a restart
                assert (await again.poll([spec.symbol])).empty
                venues.trade_by_hand(emu, "BUY", Decimal("0.1"), clock.ms)
                late = emu.account.trades[-1]
                late.time_ms = clock.ms - 300_000  # published late, inside the overlap
                clock.advance(3600)
                emu.account.settle_funding(clock.ms)
                report = await again.poll([spec.symbol])
                assert len(report.funding) == 1
                [external] = report.external
                assert external.client_id == "" and external.amount == Decimal("0.1")
            finally:
                await v.close()
        fills = ledger.events([ev.FILL])
        funding = ledger.events([ev.FUNDING])
        assert len(fills) == 2 and len({e.payload["trade_id"] for e in fills}) == 2
        assert len(funding) == 4 and len({e.payload["payment_id"] for e in funding}) == 4
        assert fills[0].payload["client_id"] == "a" * 32
