"""The bot in live mode on a venue emulator: anvil + real Uniswap v3 for the LP, the real
Binance ETHUSDT hourly closes for the price path, and the venue account (Binance USD-M,
Hyperliquid, Bybit, OKX) moving with it, paying funding at its own funding times.

What a live trader relies on: every fill in the ledger carries the venue's own fee and
trade id, every funding payment of the account is in the ledger once, and `lphedge report`
(its attribution, from the ledger alone) matches the venue's own account history, its
booked realised PnL, fees and funding plus the unrealised PnL at its mark, to the cent.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.demo import DemoOptions, demo_settings, deploy, load_path
from bot.devchain.anvil import Anvil
from bot.domain import events as ev
from bot.report import build
from bot.venues.profiles import PROFILES
from bot.wiring import runtime
from tests.support import venues
from tests.support.emulator import Emulator

pytestmark = pytest.mark.chain

# 2024-03-11 00:00 UTC on: ETH 3831 -> ~4000, crossing Binance's 08:00 and 16:00 funding.
OPTS = DemoOptions(start="2024-03-11", hours=20, range_pct=10.0, strategy="delta_band")
HOUR_MS = 3_600_000


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    path = load_path(OPTS)
    with Anvil(extra_args=("--timestamp", str(path[0].ts_ms // 1000 - 3600))) as a:
        yield a


def live_settings(base: Settings, name: str) -> Settings:
    spec = venues.SPECS[name]
    data = base.model_dump(mode="python")
    data["mode"] = "live"
    data["confirm_live"] = True
    data["venue"].update(
        {
            "exchange": name,
            "symbols": {"ETH": spec.symbol},
            "leverage": {"ETH": Decimal(5)} if spec.leverage_settable else {},
            **venues.venue_settings(name),
        }
    )
    data["strategy"]["params"] = {"band_rel": 0.1}
    data["reconcile"] = {"positions_every_ticks": 3}
    return Settings.model_validate(_plain(data))


def _plain(value: object) -> object:
    """A model dump with its secrets as plain strings, to validate again."""
    from pydantic import SecretStr

    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def funding_times(after_ms: int, until_ms: int, period_ms: int) -> list[int]:
    first = (after_ms // period_ms + 1) * period_ms
    return list(range(first, until_ms + 1, period_ms))


@pytest.mark.parametrize("name", ["binanceusdm", "hyperliquid", "bybit", "okx"])
async def test_live_run_records_funding_and_fees_and_the_report_matches_the_venue(
    name: str, node: Anvil, tmp_path: Path
) -> None:
    snap = node.snapshot()
    path = load_path(OPTS)
    dc = deploy(node.url, OPTS, path[0].price)
    clock = FixedClock(path[0].ts_ms)
    emu: Emulator = venues.emulator(name, clock, balance=Decimal(250_000), testnet=False)
    period = PROFILES[name].funding_period_ms
    venues.set_mark(emu, path[0].price)
    try:
        async with emu:
            settings = live_settings(
                demo_settings(node.url, dc, OPTS, f"sqlite:///{tmp_path / 'live.db'}"), name
            )
            market = venues.market_data(emu, clock)
            rt = runtime(settings, clock=clock, market=market, ccxt_kwargs=venues.transport(emu))
            paid = 0
            try:
                await rt.engine.start()
                for prev, point in itertools.pairwise(path):
                    for t in funding_times(prev.ts_ms, point.ts_ms, period):
                        clock.ms = t
                        emu.account.settle_funding(t)
                        paid += 1
                    dc.move_to(point.price, point.ts_ms // 1000)
                    clock.ms = point.ts_ms
                    venues.set_mark(emu, point.price)
                    result = await rt.engine.tick()
                    assert result.error is None and not (result.verdict and result.verdict.halt)
                clock.ms += 60_000  # the next tick, a minute on: the last orders' fills are
                dc.move_to(path[-1].price, clock.ms // 1000)  # attributed up to its marks
                assert not (await rt.engine.tick()).acks
                ledger = rt.ledger
                funding = ledger.events([ev.FUNDING])
                fills = ledger.events([ev.FILL])
                report = build(ledger)
            finally:
                await rt.close()
            booked = [i for i in emu.account.incomes if i.kind == "FUNDING_FEE"]
            assert paid >= 2 and len(funding) == len(booked) >= 2  # every payment, once
            assert {e.payload["payment_id"] for e in funding}.__len__() == len(funding)
            trades = emu.account.trades
            assert len(fills) == len(trades) > 2  # every execution, once, with its fee
            assert sum(Decimal(str(e.payload["fee"])) for e in fills) == sum(t.fee for t in trades)
            assert len({e.payload["trade_id"] for e in fills}) == len(fills)
            total = report.attribution.total
            assert report.attribution.warnings == ()
            ours = total.hedge_pnl + total.funding - total.trading_fees
            theirs = venues.account_pnl(emu)
            assert abs(ours - theirs) < Decimal("0.005"), (ours, theirs)
            assert total.funding == sum(i.amount for i in booked)
    finally:
        dc.chain.close()
        node.revert(snap)
