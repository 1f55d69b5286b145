"""Faults while the bot runs, on every venue dialect, without a restart.

Each trial, on anvil + real Uniswap v3 and a venue emulator: the bot's first hedge order is
accepted by the venue but its answer never arrives (timeout after accept) and the venue then
goes down for a minute (every request 503). The intent stays pending, its symbol untraded,
through the outage; when the venue is back the running engine finds the order by its client
id and records its fills. Then someone trades on the venue behind the bot's back (recorded
as an execution not placed by the bot, alerted, hedged again), and the position moves with no
execution at all (an ADL the venue does not report: recorded as drift, adopted after two
checks). After all that, per venue: no client id has two orders on the venue, every intent is
final, the ledger's position equals the venue's and its hash chain verifies.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.demo import DemoChain, DemoOptions, demo_settings, deploy, load_path
from bot.devchain.anvil import Anvil
from bot.domain import events as ev
from bot.domain.orders import OrderAck
from bot.execution import ledger_positions
from bot.venues.replay_market import PricePoint
from bot.wiring import Runtime, runtime
from tests.support import venues
from tests.support.emulator import Emulator, Fault

pytestmark = [pytest.mark.chain, pytest.mark.slow]

# `make test` runs 3 trials per venue; `make trials` the full 20 (LPHEDGE_FAULT_TRIALS=20).
TRIALS = int(os.environ.get("LPHEDGE_FAULT_TRIALS", "3"))
OPTS = DemoOptions(start="2024-03-11", hours=2, range_pct=10.0, strategy="delta_band")
TICK_S = 10
_PATH: list[PricePoint] = []


def path() -> list[PricePoint]:
    if not _PATH:
        _PATH.extend(load_path(OPTS))
    return _PATH


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    with Anvil(extra_args=("--timestamp", str(path()[0].ts_ms // 1000 - 3600))) as a:
        yield a


@pytest.fixture(scope="module")
def lp(node: Anvil) -> Iterator[DemoChain]:
    dc = deploy(node.url, OPTS, path()[0].price)
    yield dc
    dc.chain.close()


def settings_for(base: Settings, name: str) -> Settings:
    spec = venues.SPECS[name]
    data: dict[str, Any] = base.model_dump(mode="json")
    data["mode"] = "testnet"
    data["venue"].update(
        {"exchange": name, "symbols": {"ETH": spec.symbol}, **venues.venue_settings(name)}
    )
    data["chain"]["rpc_urls"] = [str(u) for u in base.chain.rpc_url_values()]
    data["ledger"]["url"] = base.ledger.url.get_secret_value()
    data["strategy"]["params"] = {"band_rel": 0.1}
    data["risk"]["max_orders_per_hour"] = 1000
    data["risk"]["max_block_age_s"] = 3600  # one block per trial: the LP does not move
    data["reconcile"] = {"positions_every_ticks": 1, "drift_confirmations": 2, "on_drift": "adopt"}
    return Settings.model_validate(data)


class Trial:
    """One bot on one venue emulator; `tick` moves the clock, mines a block and ticks."""

    def __init__(self, rt: Runtime, emu: Emulator, lp: DemoChain, clock: FixedClock) -> None:
        self.rt, self.emu, self.lp, self.clock = rt, emu, lp, clock
        self.price = path()[0].price
        self.alerts: list[str] = []

    async def tick(self) -> list[OrderAck]:
        self.clock.advance(TICK_S)
        result = await self.rt.engine.tick()
        assert result.error is None, result.error
        self.alerts += result.alerts
        return list(result.acks)

    def orders(self) -> int:
        return len(self.emu.account.orders)


_HOURS = itertools.count(1)  # each trial an hour after the last, on one chain


async def one_trial(name: str, node: Anvil, lp: DemoChain, tmp: Path, n: int) -> dict[str, int]:
    spec = venues.SPECS[name]
    clock = FixedClock(path()[0].ts_ms + next(_HOURS) * 3_600_000)
    lp.move_to(path()[0].price, clock.ms // 1000)  # a fresh block at the trial's start
    emu = venues.emulator(name, clock, balance=Decimal(400_000))
    venues.set_mark(emu, path()[0].price)
    base = demo_settings(node.url, lp, OPTS, f"sqlite:///{tmp / f'{name}-{n}.db'}")
    async with emu:
        rt = runtime(
            settings_for(base, name),
            clock=clock,
            market=venues.market_data(emu, clock),
            ccxt_kwargs=venues.transport(emu, timeout_ms=600),
        )
        t = Trial(rt, emu, lp, clock)
        try:
            await rt.engine.start()

            def outage() -> None:
                emu.down = True

            emu.inject(
                Fault(
                    "timeout_after_accept",
                    spec.order_method,
                    spec.order_path,
                    delay_s=1.2,
                    also=(spec.order_path.replace("/buy", "/sell"),),
                    on_accept=outage,
                )
            )
            [pending] = await t.tick()  # accepted, answer lost, venue down
            assert pending.status.value == "pending"
            assert t.orders() == 1
            for _ in range(60 // TICK_S):  # a minute of outage: nothing sent
                assert await t.tick() == []
            assert t.orders() == 1
            emu.down = False
            assert await t.tick() == []  # resolved by client id; the hedge stands
            assert any("resolved: filled" in a for a in t.alerts)
            assert not rt.pending_intents(), "the pending intent resolved without a restart"
            hedge = emu.account.net_position(spec.emu_symbol)
            by_hand = (abs(hedge) * Decimal("0.3") / spec.lot).to_integral_value() * spec.lot
            venues.trade_by_hand(emu, "BUY" if hedge < 0 else "SELL", by_hand, clock.ms)
            rehedge = await t.tick()
            assert rehedge and any("not placed by this bot" in a for a in t.alerts)
            pos = emu.account.position(spec.emu_symbol)
            pos.qty += spec.lot * 7 * (1 if pos.qty < 0 else -1)  # moved with no execution
            await t.tick()
            await t.tick()  # seen twice: drift, adopted
            drift = [
                e for e in rt.ledger.events([ev.RECONCILE_DIFF]) if e.payload["what"] == "drift"
            ]
            assert len(drift) == 1
            await t.tick()
            await t.tick()
            per_id = Counter(o.client_id for o in emu.account.orders.values() if o.client_id)
            dups = sum(c - 1 for c in per_id.values())
            assert not rt.pending_intents()
            ledger_pos = ledger_positions(rt.ledger, rt.venue.name).get(spec.symbol, Decimal(0))
            assert ledger_pos == emu.account.net_position(spec.emu_symbol)
            assert rt.ledger.verify().ok
            return {"dups": dups, "orders": t.orders(), "ticks": 13}
        finally:
            await rt.close()


@pytest.mark.parametrize("name", venues.VENUES)
async def test_timeout_outage_trade_by_hand_and_drift_mid_run(
    name: str, node: Anvil, lp: DemoChain, tmp_path: Path
) -> None:
    totals: Counter[str] = Counter()
    for n in range(TRIALS):
        totals.update(await one_trial(name, node, lp, tmp_path, n))
    print(
        f"\n{name}: {TRIALS} trials, {totals['orders']} venue orders, {totals['dups']} duplicates"
    )
    assert totals["dups"] == 0


@pytest.mark.parametrize("name", [n for n in venues.VENUES if venues.SPECS[n].liquidations])
async def test_a_liquidation_is_recorded_alerted_and_halts_until_resumed(
    name: str, node: Anvil, lp: DemoChain, tmp_path: Path
) -> None:
    spec = venues.SPECS[name]
    clock = FixedClock(path()[0].ts_ms + next(_HOURS) * 3_600_000)
    lp.move_to(path()[0].price, clock.ms // 1000)
    emu = venues.emulator(name, clock, balance=Decimal(400_000))
    venues.set_mark(emu, path()[0].price)
    base = demo_settings(node.url, lp, OPTS, f"sqlite:///{tmp_path / 'liq.db'}")
    async with emu:
        rt = runtime(
            settings_for(base, name),
            clock=clock,
            market=venues.market_data(emu, clock),
            ccxt_kwargs=venues.transport(emu),
        )
        t = Trial(rt, emu, lp, clock)
        try:
            await rt.engine.start()
            assert await t.tick()  # hedged
            emu.account.force_close(spec.emu_symbol, clock.ms + 5_000)
            assert await t.tick() == []  # recorded, halted: no re-hedge into a margin call
            [liq] = rt.ledger.events([ev.LIQUIDATION])
            assert liq.payload["kind"] == "liquidation" and liq.payload["venue"] == name
            assert any("liquidation of" in a for a in t.alerts)
            assert await t.tick() == []  # the halt holds
            rt.ledger.append(
                ev.RESUME, {"reason": "topped up", "source": "operator"}, ts_ms=clock.ms
            )
            assert await t.tick()  # hedged again
        finally:
            await rt.close()
