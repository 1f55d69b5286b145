"""The Hyperliquid dialect held to JSON it did not write: per ccxt method, (a) our raw answer has
every key of the recorded venue answer with the same JSON type, and (b) ccxt's unified result
from our answer is filled wherever ccxt's result from the recorded answer (served through the
emulator to the same call) is. Recordings: ccxt's static test responses, and for userFunding
Hyperliquid's own SDK cassette (tests/support/emulator/recorded/hyperliquid.json)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.support.emulator import Emulator
from tests.support.emulator import recorded as rec
from tests.support.emulator.hyperliquid import (
    TEST_PRIVATE_KEY,
    Hyperliquid,
    address_of,
    ccxt_hyperliquid,
    hyperliquid_account,
    hyperliquid_markets,
    perp_market,
)

RECORDED = rec.load("hyperliquid")
WALLET = address_of(TEST_PRIVATE_KEY)
LIQUIDATED = "0x193bd350ec838b1e22d6f302da5343b920aa1c2b"  # the recorded liquidated user
HYPE, SOL, ETH = "HYPE/USDC:USDC", "SOL/USDC:USDC", "ETH/USDC:USDC"
# ccxt's recordings keep some of Hyperliquid's integers as strings; Hyperliquid sends numbers
# ("oid": 189324432, "time": 1683245884863, "leverage": {"type": "cross", "value": 20} in its
# SDK's cassettes; "maxLeverage": 50 in its docs), so only these keys may be number here and
# string there.
STRINGIFIED_INTS = {"oid", "tid", "time", "timestamp", "statusTimestamp", "value", "maxLeverage"}

Setup = Callable[[Any, Emulator], Awaitable[list[Any]]]


def venue_shape(ours: Any, recorded: Any) -> list[str]:
    out = []
    for m in rec.shape_mismatches(ours, recorded):
        path, _, what = m.partition(": ")
        key = path.rsplit(".", 1)[-1]
        if not (key in STRINGIFIED_INTS and what == "ours is number, the venue's is string"):
            out.append(m)
    return out


def markets() -> dict[str, Any]:
    """BTC, ETH and the recordings' SOL and HYPE, at the recordings' prices."""
    out = hyperliquid_markets()
    out["SOL"] = perp_market("SOL", Decimal("137.96"), 2)
    out["HYPE"] = perp_market("HYPE", Decimal("25.585"), 2)
    return out


async def sell_hype(hl: Any, emu: Emulator) -> list[Any]:
    return list(RECORDED["methods"]["createOrder"]["input"])


async def resting_alo(hl: Any, emu: Emulator) -> list[Any]:
    order = await hl.create_order(HYPE, "limit", "buy", 2, 13.5, {"postOnly": True})
    return [order["id"], HYPE]


async def hype_fill(hl: Any, emu: Emulator) -> list[Any]:
    await hl.create_order(HYPE, "market", "buy", 0.73, 25.585)
    return [HYPE, None, 2]


async def sol_short(hl: Any, emu: Emulator) -> list[Any]:
    await hl.create_order(SOL, "market", "sell", 0.5, 137.96)
    return [[SOL]]


async def nothing(hl: Any, emu: Emulator) -> list[Any]:
    return []


async def eth_funding(hl: Any, emu: Emulator) -> list[Any]:
    await hl.create_order(ETH, "market", "buy", 1, 3000)
    emu.account.settle_funding(emu.clock_ms() + 3_600_000)
    return list(RECORDED["methods"]["fetchFundingHistory"]["input"])


async def hype_liquidated(hl: Any, emu: Emulator) -> list[Any]:
    await hl.create_order(HYPE, "market", "buy", 5.2, 25.585)
    emu.account.force_close("HYPE", emu.clock_ms(), price=Decimal("21.147"))
    return [HYPE]


CASES: dict[str, tuple[str, str, Setup]] = {
    "createOrder": ("create_order", "/exchange", sell_hype),
    "fetchOrder": ("fetch_order", "/info", resting_alo),
    "fetchMyTrades": ("fetch_my_trades", "/info", hype_fill),
    "fetchPositions": ("fetch_positions", "/info", sol_short),
    "fetchBalance": ("fetch_balance", "/info", nothing),
    "fetchFundingHistory": ("fetch_funding_history", "/info", eth_funding),
    "fetchMyLiquidations": ("fetch_my_liquidations", "/info", hype_liquidated),
}


@pytest.mark.parametrize("method", sorted(CASES))
async def test_conforms_to_the_recorded_venue_json(method: str) -> None:
    call, path, setup = CASES[method]
    recording = RECORDED["methods"][method]
    # the liquidation recording is of user 0x193b...: our key signs for it as its API wallet
    wallet = LIQUIDATED if method == "fetchMyLiquidations" else WALLET
    dialect = Hyperliquid(agents=[WALLET], max_leverage={"SOL": 20, "HYPE": 10})
    account = hyperliquid_account(markets())
    async with Emulator(dialect, wallet, TEST_PRIVATE_KEY, account=account) as emu:
        hl = ccxt_hyperliquid(emu, wallet=wallet)
        try:
            await hl.load_markets()
            args = await setup(hl, emu)
            ours = await getattr(hl, call)(*args)
            ours_raw = rec.last_json(emu.requests, path)
            assert venue_shape(ours_raw, recording["httpResponse"]) == []
            emu.override("POST", path, recording["httpResponse"])
            theirs = await getattr(hl, call)(*recording["input"])
        finally:
            await hl.close()
    assert theirs, f"{method}: ccxt parsed nothing from the recording"
    assert rec.unified_mismatches(ours, theirs) == []
