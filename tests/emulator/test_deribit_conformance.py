"""The Deribit dialect held to JSON it did not write: per ccxt method, (a) our raw answer has
every key of the recorded venue answer with the same JSON type, and (b) ccxt's unified result
from our answer is filled wherever ccxt's result from the recorded answer (served through the
emulator to the same call) is. Recordings (tests/support/emulator/recorded/deribit.json):
ccxt's static test responses (fetchBalance, fetchClosedOrders, fetchTicker), and for the
private perpetual methods ccxt has not recorded, the example responses in ccxt's deribit.py.

Two venue facts the comparison allows for: ccxt's recorder keeps every Deribit number as a
string (Deribit sends numbers), and the examples carry the JSON-RPC `id` of the request they
answered, which Deribit echoes only when a request has one (ccxt's GETs have none).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import pytest

from bot.clock import FixedClock
from tests.emulator.test_deribit_dialect import CALL, ETH, deribit_emulator, make_deribit
from tests.support.emulator import Emulator
from tests.support.emulator import recorded as rec
from tests.support.emulator.option_markets import NOW_MS

RECORDED = rec.load("deribit")
METHODS: dict[str, Any] = RECORDED["methods"]
API = "/api/v2"

Setup = Callable[[Any, Emulator], Awaitable[list[Any]]]


def _numeric(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def as_recorded(ours: Any, recorded: Any) -> Any:
    """Our JSON with a number written as a string wherever the recording holds a numeric
    string there: what ccxt's recorder would have stored of our answer."""
    number = isinstance(ours, int | float) and not isinstance(ours, bool)
    if number and isinstance(recorded, str) and _numeric(recorded):
        return str(ours)
    if isinstance(ours, dict) and isinstance(recorded, dict):
        return {k: as_recorded(v, recorded.get(k)) for k, v in ours.items()}
    if isinstance(ours, list) and isinstance(recorded, list) and recorded:
        return [as_recorded(x, recorded[0]) for x in ours]
    return ours


def venue_shape(ours: Any, recorded: Any) -> list[str]:
    """shape_mismatches, ours as the recorder writes it, the request's `id` left out."""
    answered = {k: v for k, v in recorded.items() if k != "id"}
    return rec.shape_mismatches(as_recorded(ours, answered), answered)


async def eth_ticker(ex: Any, emu: Emulator) -> list[Any]:
    return [ETH]


async def eth_long(ex: Any, emu: Emulator) -> list[Any]:
    await ex.create_order(ETH, "market", "buy", 3000, None, {"label": "hedge"})
    return []


async def filled_market(ex: Any, emu: Emulator) -> list[Any]:
    await ex.create_order(ETH, "market", "sell", 300)
    return [ETH, None, 1]


async def filled_limit(ex: Any, emu: Emulator) -> list[Any]:
    order = await ex.create_order(ETH, "limit", "sell", 37, 2990)  # crosses the bid
    return [order["id"], ETH]


async def option_fill(ex: Any, emu: Emulator) -> list[Any]:
    ask = (await ex.fetch_order_book(CALL))["asks"][0][0]
    await ex.create_order(CALL, "limit", "buy", 2, ask, {"timeInForce": "IOC"})
    return list(METHODS["fetchMyTrades"]["input"])


async def liquidated(ex: Any, emu: Emulator) -> list[Any]:
    await ex.create_order(ETH, "market", "buy", 3000)
    emu.account.force_close("ETH-PERPETUAL", emu.clock_ms(), price=Decimal("2700.00"))
    return [ETH]


@dataclass(frozen=True)
class Case:
    method: str  # the recording's key, ccxt's unified name
    call: str  # the ccxt Python method
    path: str  # the endpoint ccxt calls for it
    setup: Setup  # trades what the call needs and returns its arguments


CASES = [
    Case("fetchBalance", "fetch_balance", f"{API}/private/get_account_summaries", eth_long),
    Case(
        "fetchClosedOrders",
        "fetch_closed_orders",
        f"{API}/private/get_order_history_by_instrument",
        filled_market,
    ),
    Case("fetchTicker", "fetch_ticker", f"{API}/public/ticker", eth_ticker),
    Case("fetchPositions", "fetch_positions", f"{API}/private/get_positions", eth_long),
    Case("fetchOrder", "fetch_order", f"{API}/private/get_order_state", filled_limit),
    Case(
        "fetchMyTrades",
        "fetch_my_trades",
        f"{API}/private/get_user_trades_by_currency",
        option_fill,
    ),
    Case(
        "fetchMyLiquidations",
        "fetch_my_liquidations",
        f"{API}/private/get_settlement_history_by_instrument",
        liquidated,
    ),
]


def test_every_recorded_method_has_a_case() -> None:
    assert {c.method for c in CASES} == set(METHODS)
    assert RECORDED["source"].startswith("ccxt/ccxt ts/src/test/static/response/deribit.json @")
    for name, entry in METHODS.items():
        assert "parsedResponse" in entry or entry["source"].startswith("ccxt/ccxt "), name


@pytest.mark.parametrize("case", CASES, ids=[c.method for c in CASES])
async def test_conformance(case: Case) -> None:
    recorded = METHODS[case.method]["httpResponse"]
    async with deribit_emulator(FixedClock(ms=NOW_MS)) as emu:
        ex = make_deribit(emu)
        try:
            await ex.load_markets()
            args = await case.setup(ex, emu)
            ours = await getattr(ex, case.call)(*args)
            assert venue_shape(rec.last_json(emu.requests, case.path), recorded) == []
            emu.override("GET", case.path, recorded)
            theirs = await getattr(ex, case.call)(*args)
            assert not any(o.times for o in emu.overrides), "the recording was not served"
            assert rec.unified_mismatches(ours, theirs) == []
        finally:
            await ex.close()


async def test_the_trimmed_balance_recording_still_parses_to_its_recorded_result() -> None:
    """fetchBalance keeps 3 of the 12 recorded summaries: ccxt 4.5.90 parses what is left to
    exactly the recorded result cut the same way."""
    entry = METHODS["fetchBalance"]
    async with deribit_emulator(FixedClock(ms=NOW_MS)) as emu:
        ex = make_deribit(emu)
        try:
            await ex.load_markets()
            emu.override("GET", f"{API}/private/get_account_summaries", entry["httpResponse"])
            parsed = await ex.fetch_balance()
        finally:
            await ex.close()
    want = entry["parsedResponse"]
    assert {k: parsed[k] for k in want if k != "info"} == {
        k: v for k, v in want.items() if k != "info"
    }
    assert parsed["info"] == want["info"]
