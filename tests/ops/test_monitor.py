"""Metrics, health and alerts as an operator sees them over HTTP."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
from aiohttp import web

from bot import secrets
from bot.clock import FixedClock
from bot.domain.lp import AssetExposure, ExposureBook
from bot.engine import TickResult
from bot.hedge.risk import Verdict
from bot.monitor import Monitor


def tick(
    halt: str | None = None, error: str | None = None, hedge: str | None = "-10"
) -> TickResult:
    book = ExposureBook(7, 0, {"ETH": AssetExposure("ETH", Decimal("12.5"), -0.01, Decimal(1), 1)})
    hedges = None if hedge is None else {"ETH": Decimal(hedge)}
    return TickResult(7, book, (), (), Verdict((), halt=halt), (), error=error, hedges=hedges)


async def test_metrics_and_healthz_follow_the_ticks() -> None:
    clock = FixedClock(1_000_000)
    mon = Monitor(clock, stale_after_s=60)
    port = await mon.serve(0)
    try:
        async with aiohttp.ClientSession() as s:
            async with s.get(f"http://127.0.0.1:{port}/healthz") as r:
                assert r.status == 503  # no tick yet
            await mon.observe(tick())
            async with s.get(f"http://127.0.0.1:{port}/metrics") as r:
                text = await r.text()
            assert 'lphedge_lp_delta{asset="ETH"} 12.5' in text
            assert "lphedge_block_number 7.0" in text
            async with s.get(f"http://127.0.0.1:{port}/healthz") as r:
                assert r.status == 200 and (await r.json())["status"] == "ok"
            clock.advance(120)
            async with s.get(f"http://127.0.0.1:{port}/healthz") as r:
                assert r.status == 503 and (await r.json())["status"] == "stale"
    finally:
        await mon.close()


async def test_halts_and_errors_are_posted_when_they_start_and_then_at_a_bounded_rate() -> None:
    got: list[dict[str, str]] = []

    async def hook(request: web.Request) -> web.Response:
        got.append(await request.json())
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook/SECRET-TOKEN", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    clock = FixedClock(0)
    mon = Monitor(
        clock,
        stale_after_s=60,
        webhook_url=f"http://127.0.0.1:{port}/hook/SECRET-TOKEN",
        notice_every_s=300,
    )
    try:
        for _ in range(3):  # a halt that lasts is told once, not every tick
            await mon.observe(tick(halt="stale chain data: last block is 400s old"))
            clock.ms += 60_000
        await mon.observe(tick(error="venue unavailable", hedge=None))  # a new state: told
        clock.ms += 300_000
        await mon.observe(tick(error="venue unavailable", hedge=None))  # reminder when due
        await mon.observe(tick())  # hedging again
        await mon.observe(tick())
        assert [g["text"] for g in got] == [
            "lphedge: halted: stale chain data: last block is 400s old; unhedged ETH 2.5",
            "lphedge: tick failed: venue unavailable; unhedged ETH 2.5",
            "lphedge: tick failed (for 300s): venue unavailable; unhedged ETH 2.5",
            "lphedge: hedging again after 300s failed",
        ]
        assert "SECRET-TOKEN" not in secrets.redact(f"http://127.0.0.1:{port}/hook/SECRET-TOKEN")
    finally:
        await mon.close()
        await runner.cleanup()
