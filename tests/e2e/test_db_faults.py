"""The ledger's database failing under a running bot, over real connections: anvil + real
Uniswap v3, the Binance emulator, PostgreSQL behind a local TCP proxy that is taken down
for 20 s and then stalled for 30 s (connections open, nothing answered).

Through each fault the bot must not trade (every tick fails, quickly, with the ledger named),
must not die, must alert once when it starts failing and once when it hedges again, and must
recover by itself (same process, same run, its writer lease taken back with the same epoch).
After both: every order the venue saw has its ORDER_INTENT row, and the hash chain verifies.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import create_engine, text

from bot.clock import FixedClock
from bot.config import LedgerSettings, OpsSettings, Settings
from bot.demo import DemoChain, demo_settings
from bot.devchain.anvil import Anvil
from bot.domain import events as ev
from bot.engine import TickResult
from bot.errors import LedgerUnavailable
from bot.ledger import lease as lease_mod
from bot.wiring import monitor, runtime
from tests.e2e.test_midrun_faults import OPTS, lp, node, path, settings_for
from tests.ledger.conftest import POSTGRES_URL
from tests.support import venues
from tests.support.pg_proxy import PgProxy, pg_proxy

pytestmark = [pytest.mark.chain, pytest.mark.slow]
__all__ = ["lp", "node"]  # module fixtures shared with the mid-run venue faults

DOWN_S = 20
STALL_S = 30
STATEMENT_S = 2.0
REGAIN_S = 3.0


@pytest.fixture
def proxy() -> Iterator[PgProxy]:
    with pg_proxy() as p:
        yield p


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"dbf_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {name}"))
    yield name
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {name} CASCADE"))
    admin.dispose()


@pytest.fixture
async def hook() -> AsyncIterator[tuple[str, list[str]]]:
    """A webhook receiver: its URL and the alert texts posted to it."""
    got: list[str] = []

    async def receive(request: web.Request) -> web.Response:
        got.append((await request.json())["text"])
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook", got
    await runner.cleanup()


def _settings(base: Settings, ledger_url: str, hook_url: str) -> Settings:
    ledger = LedgerSettings.model_validate(
        {
            "url": ledger_url,
            "connect_timeout_s": 2,
            "statement_timeout_s": STATEMENT_S,
            "lease_regain_s": REGAIN_S,
        }
    )
    ops = OpsSettings.model_validate({"webhook_url": hook_url, "notice_every_s": 600})
    return settings_for(base, "binanceusdm").model_copy(update={"ledger": ledger, "ops": ops})


class Bot:
    """The running bot's engine, ticked on a fixed clock while wall time passes."""

    def __init__(self, rt: Any, lp: DemoChain, emu: Any, clock: FixedClock) -> None:
        self.rt, self.lp, self.emu, self.clock = rt, lp, emu, clock
        self.slowest_failed_tick_s = 0.0

    def move(self, factor: str) -> None:
        """Move the pool and the venue's mark together: the hedge must be resized."""
        price = (path()[0].price * Decimal(factor)).quantize(Decimal("0.01"))
        self.clock.advance(1)
        self.lp.move_to(price, self.clock.ms // 1000)
        venues.set_mark(self.emu, price)

    async def tick(self) -> TickResult:
        self.clock.advance(5)
        started = time.monotonic()
        result = await self.rt.engine.tick()
        if result.error:
            self.slowest_failed_tick_s = max(self.slowest_failed_tick_s, time.monotonic() - started)
        return result

    async def through(self, seconds: float) -> list[TickResult]:
        """Tick for `seconds` of wall time (a tick a second at most)."""
        results = []
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            results.append(await self.tick())
            time.sleep(max(0.0, min(1.0, until - time.monotonic())))
        return results

    async def until_hedging(self, within_s: float) -> tuple[TickResult, float]:
        started = time.monotonic()
        while time.monotonic() - started < within_s:
            result = await self.tick()
            if result.error is None:
                return result, time.monotonic() - started
            time.sleep(0.5)
        raise AssertionError(f"not hedging {within_s}s after the database came back")

    def orders(self) -> int:
        return len(self.emu.account.orders)


async def _fault(bot: Bot, hook: list[str], seconds: float, start: Any, end: Any) -> float:
    """`start()` the fault, tick through it, `end()` it; recovery time in seconds."""
    bot.move("1.04" if bot.orders() % 2 else "0.96")  # the hedge is now wrong
    sent, told = bot.orders(), len(hook)
    start()
    during = await bot.through(seconds)
    assert during and all(r.error and not r.acks for r in during), [r.error for r in during]
    assert all(isinstance(r.failure, LedgerUnavailable) for r in during)
    assert all("ledger" in (r.error or "") or "writer lease" in (r.error or "") for r in during)
    assert bot.orders() == sent, "no order while the ledger cannot record it"
    end()
    result, recovered_s = await bot.until_hedging(within_s=REGAIN_S + 20)
    assert result.acks, "hedged again without a restart"
    news = hook[told:]
    assert len([n for n in news if "tick failed" in n]) == 1, news
    assert any("hedging again" in n for n in news), news
    return recovered_s


async def test_database_down_then_stalled_while_the_bot_runs(
    node: Anvil,
    lp: DemoChain,
    tmp_path: Path,
    proxy: PgProxy,
    schema: str,
    hook: tuple[str, list[str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lease_mod, "CHECK_TIMEOUT_S", 2.0)
    hook_url, alerts = hook
    clock = FixedClock(path()[0].ts_ms + 400 * 3_600_000)
    lp.move_to(path()[0].price, clock.ms // 1000)
    emu = venues.emulator("binanceusdm", clock, balance=Decimal(400_000))
    venues.set_mark(emu, path()[0].price)
    url = proxy.url(query=f"?options=-csearch_path%3D{schema}")
    settings = _settings(demo_settings(node.url, lp, OPTS, url), url, hook_url)
    async with emu:
        rt = runtime(
            settings,
            clock=clock,
            market=venues.market_data(emu, clock),
            ccxt_kwargs=venues.transport(emu, timeout_ms=2000),
        )
        mon = monitor(settings, rt)
        bot = Bot(rt, lp, emu, clock)
        try:
            with rt.ledger.writer_lock("binanceusdm:dbf:testnet", regain_s=REGAIN_S) as lease:
                rt.engine.p.guard = lease.check
                await rt.engine.start()
                first = await bot.tick()
                assert first.error is None and first.acks
                down_s = await _fault(bot, alerts, DOWN_S, proxy.down, proxy.up)
                stall_s = await _fault(bot, alerts, STALL_S, proxy.stall, proxy.resume)
                assert lease.check() == lease.epoch == 1 and lease.regained == 2
            intents = {e.payload["client_id"] for e in rt.ledger.events([ev.ORDER_INTENT])}
            sent = {o.client_id for o in emu.account.orders.values()}
            assert sent and sent <= intents, "an order without its row"
            runs = {e.run_id for e in rt.ledger.events([ev.TICK])}
            assert len(runs) == 1, "recovered in the same run, no restart"
            assert rt.ledger.verify().ok
            print(
                f"\ndb faults: down {DOWN_S}s -> hedging {down_s:.1f}s after it came back; "
                f"stalled {STALL_S}s -> {stall_s:.1f}s after; slowest failed tick "
                f"{bot.slowest_failed_tick_s:.1f}s; orders {len(sent)}, all with intents; "
                f"alerts {len(alerts)}"
            )
            print("\n".join(alerts))
        finally:
            if mon is not None:
                await mon.close()
            await rt.close()
