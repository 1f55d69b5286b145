"""End to end with options: anvil + real Uniswap v3 + paper venue with the offline option
market (Black-76 at the real Deribit DVOL on real Binance ETHUSDT hourly closes) + ledger.

From 2024-03-11 00:00 UTC (ETH 3831) with `options_overlay` on short horizons, so expiries
pass within the replay: the bot buys a strip of Deribit-style inverse ETH options expiring
12 Mar 08:00, the perp holds the net delta (LP + options at expiry) inside its band, and
at 08:00 the paper venue settles the strip (OPTION_SETTLEMENT) before a new one is bought;
with a roll margin the strip is sold before expiry instead.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.demo import DemoChain, DemoOptions, demo_market, demo_settings, deploy, load_path
from bot.devchain.anvil import Anvil
from bot.domain import events as ev
from bot.domain.orders import HedgePosition
from bot.options.chain import is_option_symbol, parse_symbol
from bot.venues.replay_market import PricePoint
from bot.wiring import Runtime, runtime

pytestmark = pytest.mark.chain

BASE = DemoOptions(start="2024-03-11", hours=36, strategy="options_overlay")
SETTLE_PARAMS = (("horizon", "12h"), ("roll_before", "0s"), ("band_rel", "5%"))
ROLL_PARAMS = (("horizon", "12h"), ("roll_before", "6h"), ("band_rel", "5%"))
EXPIRY_MS = int(datetime(2024, 3, 12, 8, tzinfo=UTC).timestamp() * 1000)
PERP_STEP = Decimal("0.001")


@dataclass
class Bot:
    rt: Runtime
    chain: DemoChain
    clock: FixedClock
    path: list[PricePoint]
    db: Path


@pytest.fixture(scope="module")
def node() -> Iterator[Anvil]:
    path = load_path(BASE)
    with Anvil(extra_args=("--timestamp", str(path[0].ts_ms // 1000 - 3600))) as a:
        yield a


async def start(
    node: Anvil,
    db: Path,
    params: tuple[tuple[str, Any], ...],
    chain: DemoChain | None = None,
    at_ms: int | None = None,
) -> Bot:
    opts = replace(BASE, params=params)
    path = load_path(opts)
    dc = chain or deploy(node.url, opts, path[0].price)
    clock = FixedClock(at_ms or path[0].ts_ms)
    settings = demo_settings(node.url, dc, opts, f"sqlite:///{db}")
    rt = runtime(settings, clock=clock, market=demo_market(settings, path, clock))
    await rt.engine.start()
    return Bot(rt, dc, clock, path, db)


async def step(b: Bot, point: PricePoint) -> list[HedgePosition]:
    b.chain.move_to(point.price, point.ts_ms // 1000)
    b.clock.ms = point.ts_ms
    result = await b.rt.engine.tick()
    assert result.error is None, result.error
    return await b.rt.venue.positions()


def expiry_delta(options: list[HedgePosition], spot: Decimal) -> Decimal:
    """The options' delta at expiry (what the overlay's perp nets): calls 1 above the
    strike, puts -1 below it."""
    total = Decimal(0)
    for h in options:
        _, _, _, _, strike, kind = parse_symbol(h.symbol)
        above = Decimal(1) if spot > strike else Decimal("0.5") if spot == strike else Decimal(0)
        total += h.size_base * (above if kind.value == "call" else above - 1)
    return total


def check_perp_in_band(b: Bot, held: list[HedgePosition], spot: Decimal) -> None:
    tick = b.rt.ledger.last(ev.TICK)
    assert tick is not None
    lp = ev.from_payload(ev.Tick, tick.payload).assets[0].lp_delta
    options = [h for h in held if is_option_symbol(h.symbol)]
    perp = sum((h.size_base for h in held if not is_option_symbol(h.symbol)), Decimal(0))
    ideal = -(lp + expiry_delta(options, spot))
    assert abs(perp - ideal) <= Decimal("0.05") * abs(lp) + PERP_STEP, (spot, lp, perp, ideal)


async def test_options_are_bought_netted_by_perps_settled_at_expiry_and_survive_a_restart(
    node: Anvil, tmp_path: Path
) -> None:
    snap = node.snapshot()
    bot = await start(node, tmp_path / "ledger.db", SETTLE_PARAMS)
    second: Bot | None = None
    try:
        held = await step(bot, bot.path[0])
        first_strip = {h.symbol: h.size_base for h in held if is_option_symbol(h.symbol)}
        assert len(first_strip) >= 5 and all(q > 0 for q in first_strip.values())
        assert {parse_symbol(s)[3] for s in first_strip} == {EXPIRY_MS}
        check_perp_in_band(bot, held, bot.path[0].price)
        for point in bot.path[1:20]:
            check_perp_in_band(bot, await step(bot, point), point.price)
        before = sorted(await bot.rt.venue.positions(), key=lambda h: h.symbol)
        await bot.rt.close()
        second = await start(node, bot.db, SETTLE_PARAMS, bot.chain, bot.clock.ms)
        after = sorted(await second.rt.venue.positions(), key=lambda h: h.symbol)
        assert after == before  # options and the perp restored from the ledger
        for point in bot.path[20:]:
            held = await step(second, point)
            check_perp_in_band(second, held, point.price)
            if point.ts_ms == EXPIRY_MS:
                settled = second.rt.ledger.events([ev.OPTION_SETTLEMENT])
                assert {e.payload["symbol"] for e in settled} == set(first_strip)
                new = [h for h in held if is_option_symbol(h.symbol)]
                assert new and all(parse_symbol(h.symbol)[3] > EXPIRY_MS for h in new)
        ledger = second.rt.ledger
        for e in ledger.events([ev.OPTION_SETTLEMENT]):
            s = ev.from_payload(ev.OptionSettlement, e.payload)
            assert s.settle_price == point_at(bot.path, EXPIRY_MS) and s.payout >= 0
            assert s.currency == "ETH" and s.venue == second.rt.venue.name
        assert len(ledger.events([ev.BOOK_GREEKS])) == len(ledger.events([ev.TICK])) == 36
        greeks = ev.from_payload(ev.BookGreeks, ledger.events([ev.BOOK_GREEKS])[-1].payload)
        (row,) = greeks.rows
        assert row.options_gamma > 0 and row.lp_gamma < 0 and row.source == "black76"
        # the report's "net delta at expiry" (each tick's book before its trades): what the
        # perp hedged an hour earlier, so small against the LP's own delta
        rows = [
            ev.from_payload(ev.BookGreeks, e.payload).rows[0]
            for e in ledger.events([ev.BOOK_GREEKS])[1:]
        ]
        net = [abs(float(r.lp_delta + r.perp_delta) + r.options_expiry_delta) for r in rows]
        assert statistics.median(net) < 0.05 * statistics.median(float(r.lp_delta) for r in rows)
        fills = [e.payload for e in ledger.events([ev.FILL])]
        assert any(is_option_symbol(f["symbol"]) and f["fee_currency"] == "ETH" for f in fills)
        cids = [e.payload["client_id"] for e in ledger.events([ev.ORDER_INTENT])]
        assert len(cids) == len(set(cids))
        assert ledger.verify().ok
    finally:
        if second is not None:
            await second.rt.close()
        else:
            await bot.rt.close()
        bot.chain.chain.close()
        node.revert(snap)


def point_at(path: list[PricePoint], ts_ms: int) -> Decimal:
    return next(p.price for p in path if p.ts_ms == ts_ms)


async def test_options_roll_before_expiry_and_flatten_closes_them(
    node: Anvil, tmp_path: Path
) -> None:
    snap = node.snapshot()
    bot = await start(node, tmp_path / "ledger.db", ROLL_PARAMS)
    roll_at = EXPIRY_MS - 6 * 3_600_000
    try:
        for point in bot.path[:30]:
            held = await step(bot, point)
            if point.ts_ms == roll_at:
                sells = [
                    e.payload
                    for e in bot.rt.ledger.events([ev.ORDER_INTENT])
                    if e.payload["reduce_only"] and is_option_symbol(e.payload["symbol"])
                ]
                assert sells and all(e["side"] == "sell" for e in sells)
                assert all(e["order_type"] == "limit" and e["limit_price"] for e in sells)
                new = [h for h in held if is_option_symbol(h.symbol)]
                assert any(parse_symbol(h.symbol)[3] > EXPIRY_MS for h in new)
        ledger = bot.rt.ledger
        halt = ev.Halt("test", "operator", flatten=True)
        ledger.append(ev.HALT, ev.to_payload(halt), ts_ms=bot.clock.ms)
        left = await step(bot, bot.path[30])
        assert all(is_option_symbol(h.symbol) for h in left)  # the perp is flat
        skipped = {e.payload["symbol"]: e.payload["reason"] for e in ledger.events([ev.SKIPPED])}
        for h in left:  # what stays has no bid to sell into
            assert skipped[h.symbol] == f"no bid for {h.symbol}"
        assert ledger.verify().ok
    finally:
        await bot.rt.close()
        bot.chain.chain.close()
        node.revert(snap)
