"""The v4 owner scan outlives a restart: the engine keeps it in the ledger (SCAN_STATE),
and the next run goes on from the last block saved (less REORG_MARGIN) instead of
scanning the chain's history again; a saved scan of other owners, another manager or
another chain's history is not used."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from bot import wiring
from bot.chain.reader import ChainReader
from bot.chain.v4_owner_scan import REORG_MARGIN
from bot.config import Settings
from bot.domain import events as ev
from bot.domain.lp import ChainSnapshot, PoolKind
from bot.domain.market import BINANCE_ETHUSDT
from bot.engine_scans import SAVE_EVERY_MS
from tests.chain.servers import CountingProxy
from tests.chain.test_positions_cli import LPHEDGE
from tests.chain.test_v4_positions import config
from tests.support.anvil import ACCOUNTS
from tests.support.paper_bot import PaperStart, paper_start
from tests.support.v4 import V4ChainWorld

pytestmark = pytest.mark.chain

OWNER = ACCOUNTS[1]
CHUNK = 100  # blocks per eth_getLogs (chain.logs_chunk_blocks)
HISTORY = 450  # empty blocks after the mints: five or more eth_getLogs pairs


SCAN: dict[str, object] = {"logs_chunk_blocks": CHUNK}


def v4_ids(snap: ChainSnapshot) -> set[str]:
    return {p.position_id for p in snap.positions if p.kind is PoolKind.V4}


def mine_history(vw: V4ChainWorld) -> None:
    vw.base.chain.rpc("anvil_mine", hex(HISTORY))


async def cold_read(vw: V4ChainWorld) -> tuple[ChainSnapshot, int, dict[str, Any]]:
    async with ChainReader(config(vw, owners=(OWNER,), v4_token_ids=(), **SCAN)) as reader:
        snap = await reader.read()
        return snap, reader.stats.http_requests, reader.scan_state()


async def resumed_read(vw: V4ChainWorld, saved: dict[str, Any]) -> tuple[ChainSnapshot, int]:
    async with ChainReader(config(vw, owners=(OWNER,), v4_token_ids=(), **SCAN)) as reader:
        reader.restore_scans(saved)
        snap = await reader.read()
        return snap, reader.stats.http_requests


async def test_a_resumed_scan_reads_only_the_blocks_since(v4_world: V4ChainWorld) -> None:
    mine_history(v4_world)
    snap, cold, saved = await cold_read(v4_world)
    theirs = {f"v4:{m.token_id}" for m in v4_world.v4.positions if m.owner == OWNER}
    assert v4_ids(snap) == theirs and snap.errors == ()
    (state,) = saved.values()
    assert state["scanned_to"] == snap.block_number and state["owners"] == [OWNER]
    assert set(state["held"]) == {i.removeprefix("v4:") for i in theirs}
    # a transfer after the save: in the blocks the resumed scan reads
    mine = [m.token_id for m in v4_world.v4.positions if m.owner == OWNER]
    posm = v4_world.uni.position_manager.functions
    chain = v4_world.base.chain
    chain.receipt(chain.send(posm.transferFrom(OWNER, ACCOUNTS[0], mine[0]), OWNER))
    again, resumed = await resumed_read(v4_world, saved)
    assert v4_ids(again) == theirs - {f"v4:{mine[0]}"} and again.errors == ()
    # cold: the read, 5+ eth_getLogs batches (450+ blocks), the read again with the ids
    assert cold >= 7 and resumed <= cold - 4, (cold, resumed)


@pytest.mark.parametrize(
    "change",
    [
        {"owners": [ACCOUNTS[2]]},
        {"position_manager": "0x000000000000000000000000000000000000dEaD"},
        {"from_block": 7},
        {"held": {"1": ACCOUNTS[3]}},  # an owner not configured: not this scan's
        {"scanned_to": "not a block"},
    ],
)
async def test_a_saved_scan_of_something_else_is_not_used(
    v4_world: V4ChainWorld, change: dict[str, Any]
) -> None:
    mine_history(v4_world)
    snap, cold, saved = await cold_read(v4_world)
    (name,) = saved
    other = {name: {**saved[name], **change}}
    again, requests = await resumed_read(v4_world, other)
    assert v4_ids(again) == v4_ids(snap) and requests == cold


async def test_a_scan_saved_past_the_chains_head_starts_over(
    v4_world: V4ChainWorld, caplog: pytest.LogCaptureFixture
) -> None:
    """A saved scan from a longer history (a dev chain reset, a wrong RPC): its ids are not
    trusted, the scan starts again from v4_scan_from_block."""
    snap, cold, saved = await cold_read(v4_world)
    (name,) = saved
    future = saved[name]["scanned_to"] + REORG_MARGIN + 50_000
    stale = {name: {**saved[name], "scanned_to": future, "held": {"999": OWNER}}}
    with caplog.at_level(logging.WARNING, logger="bot.chain.v4_owner_scan"):
        again, requests = await resumed_read(v4_world, stale)
    assert v4_ids(again) == v4_ids(snap) and again.errors == () and requests == cold
    assert any("scanning again from block 0" in r.getMessage() for r in caplog.records)


def settings(vw: V4ChainWorld, tmp: Path) -> Settings:
    return Settings.model_validate(
        {
            "mode": "paper",
            "chain": {
                "chain_id": 31337,
                "rpc_urls": [vw.url],
                "position_manager": vw.base.world.position_manager,
                "position_managers": {"uniswap_v4": vw.v4.position_manager},
                "state_views": {"uniswap_v4": vw.v4.state_view},
                "owners": [OWNER],
                "logs_chunk_blocks": CHUNK,
            },
            "venue": {"symbols": {"ETH": BINANCE_ETHUSDT.symbol}, "paper_balance_usd": "1e7"},
            "risk": {"max_order_notional_usd": "1000000"},
            "ledger": {"url": f"sqlite:///{tmp / 'ledger.db'}"},
        }
    )


async def run_ticks(s: Settings, start: PaperStart, ticks: int) -> list[int]:
    """One run of the bot (start, `ticks` ticks, close); the chain requests of each tick."""
    clock = start.clock
    rt = wiring.runtime(s, clock=clock, market=start.market())
    counts: list[int] = []
    try:
        await rt.engine.start()
        for _ in range(ticks):
            before = rt.engine.p.source.stats.http_requests
            result = await rt.engine.tick()
            assert result.error is None, result.error
            # the owner's WBTC positions hold BTC, which venue.symbols leaves out: told, not
            # hedged, and ETH is hedged all the same
            assert any(a.startswith("not hedging BTC: no venue symbol") for a in result.alerts)
            assert {t.asset for t in result.targets} == {"ETH"}
            counts.append(rt.engine.p.source.stats.http_requests - before)
            clock.advance(60)
    finally:
        await rt.close()
    return counts


async def test_the_bot_keeps_the_scan_in_the_ledger_across_a_restart(
    v4_world: V4ChainWorld, tmp_path: Path
) -> None:
    mine_history(v4_world)
    s = settings(v4_world, tmp_path)
    start = await paper_start(s, v4_world.base.chain)
    snap = start.snap
    first = await run_ticks(s, start, 3)
    ledger = wiring.ledger(s, create=False)
    try:
        saves = ledger.events([ev.SCAN_STATE])
        assert len(saves) == 1  # then no change and not due: not a row a tick
        (state,) = saves[0].payload["chains"].values()
        assert state["scanned_to"] >= snap.block_number and set(state["held"])
    finally:
        ledger.close()
    v4_world.base.chain.rpc("evm_mine")
    start.clock.advance(SAVE_EVERY_MS // 1000)
    second = await run_ticks(s, start, 1)
    assert second[0] <= first[0] - 4, (first, second)
    ledger = wiring.ledger(s, create=False)
    try:
        ticks = ledger.events([ev.TICK])
        v4_rows = [
            {r["position_id"] for r in t.payload["positions"] if r["position_id"].startswith("v4:")}
            for t in ticks
        ]
        assert v4_rows[-1] == v4_rows[0] == v4_ids(snap)  # the same positions after restart
        assert len(ledger.events([ev.SCAN_STATE])) == 2  # due again: saved
    finally:
        ledger.close()


async def positions_cli(cfg: Path, cwd: Path) -> set[str]:
    """`lphedge positions --json`: the v4 ids it shows (the config points at the proxy)."""
    proc = await asyncio.create_subprocess_exec(
        LPHEDGE,
        "positions",
        "--config",
        str(cfg),
        "--json",
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    rows = json.loads(out)["positions"]
    return {r["token_id"] for r in rows if r["token_id"].startswith("v4:")}


@pytest.mark.slow
async def test_lphedge_positions_reads_from_where_the_bot_got_to(
    v4_world: V4ChainWorld, tmp_path: Path
) -> None:
    """With the bot's ledger in its config, `positions` scans only the blocks since the
    bot's last save; without one it scans from v4_scan_from_block, to the same positions."""
    mine_history(v4_world)
    s = settings(v4_world, tmp_path)
    start = await paper_start(s, v4_world.base.chain)
    snap = start.snap
    await run_ticks(s, start, 1)  # the bot saves its scan
    async with CountingProxy(v4_world.url) as proxy:
        counts: dict[str, int] = {}
        for label, ledger in (("bot's", tmp_path / "ledger.db"), ("none", tmp_path / "no.db")):
            cfg = tmp_path / f"{label}.toml"
            cfg.write_text(
                f"""
[chain]
chain_id = 31337
rpc_urls = ["{proxy.url}"]
position_manager = "{v4_world.base.world.position_manager}"
position_managers = {{ uniswap_v4 = "{v4_world.v4.position_manager}" }}
state_views = {{ uniswap_v4 = "{v4_world.v4.state_view}" }}
owners = ["{OWNER}"]
logs_chunk_blocks = {CHUNK}

[ledger]
url = "sqlite:///{ledger}"
"""
            )
            proxy.reset()
            ids = await positions_cli(cfg, tmp_path)
            assert ids == v4_ids(snap)
            counts[label] = proxy.methods.count("eth_getLogs")
    assert not (tmp_path / "no.db").exists()  # read only: no ledger made
    # the last REORG_MARGIN (128) blocks: two 100-block pairs, against 5+ pairs from block 0
    assert counts["bot's"] == 4 and counts["none"] >= 10, counts
