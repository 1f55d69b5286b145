"""The Bybit v5 dialect held to Bybit's own JSON as the ccxt repository records it
(recorded/bybit.json): per recorded method, the same ccxt call (a) against the dialect, whose
raw answer must carry every key the venue sends with the same JSON type, and (b) against the
recorded answer served as it is, whose unified result must not hold a value ours lacks.

The recordings are of LTCUSDT and BTCUSDT, so the account lists LTCUSDT too (Bybit's lot
0.1, tick 0.01). createOrder was recorded on spot; the linear create answers the same
{orderId, orderLinkId}, so the linear call stands in. fetchOrder on a unified account needs
an acknowledgement and reads the last 500 orders: the recorded fetchOpenOrder and
fetchClosedOrder are the order lookups.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from tests.emulator.test_bybit_dialect import API_KEY, API_SECRET, make_exchange
from tests.support.emulator import Account, Emulator, Market, recorded
from tests.support.emulator.bybit import Bybit, bybit_markets

RECORDED = recorded.load("bybit")
BTC = "BTC/USDT:USDT"
LTC = "LTC/USDT:USDT"
# Bybit sends these as JSON numbers (its docs; our answers); ccxt's recorder wrote them as
# strings, so a number here against a numeric string there is the recorder, not a mismatch.
RECORDER_STRINGS = {
    "retCode",
    "time",
    "positionIdx",
    "triggerDirection",
    "smpGroup",
    "riskId",
    "autoAddMargin",
    "adlRankIndicator",
    "seq",
    "tradeMode",
}


def venue_mismatches(ours: Any, theirs: Any) -> list[str]:
    """shape_mismatches less the recorder's number-to-string rewrites, and less the
    `nextPageCursor` ccxt's addPaginationCursorToResult writes into the first row of the
    response it has just parsed (the recorder logged it after)."""
    return recorded.without_recorder_strings(
        recorded.shape_mismatches(ours, theirs),
        RECORDER_STRINGS,
        ("list[0].nextPageCursor: missing (venue sends string)",),
    )


def test_the_fixture_names_its_source() -> None:
    assert RECORDED["source"].startswith("ccxt/ccxt ts/src/test/static/response/bybit.json @")
    assert RECORDED["license"] == "MIT (ccxt)"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    markets = bybit_markets()
    markets["LTCUSDT"] = Market(
        "LTCUSDT",
        "LTC",
        "USDT",
        Decimal("70.00"),
        qty_step=Decimal("0.1"),
        min_qty=Decimal("0.1"),
        max_qty=Decimal(10000),
        min_notional=Decimal(5),
    )
    account = Account(markets)
    async with Emulator(Bybit(), api_key=API_KEY, secret=API_SECRET, account=account) as e:
        yield e


@pytest.fixture
async def ex(emu: Emulator) -> AsyncIterator[Any]:
    exchange = make_exchange(emu)
    await exchange.load_markets()
    yield exchange
    await exchange.close()


async def conform(
    emu: Emulator,
    call: Any,
    method: str,
    route: tuple[str, str],
    ours_args: list[Any],
    theirs_args: list[Any] | None = None,
    ignore: tuple[str, ...] = (),
) -> tuple[Any, Any]:
    example = RECORDED["methods"][method]
    return await recorded.conform(
        emu,
        call,
        example,
        route,
        ours_args,
        shape=venue_mismatches,
        theirs_args=theirs_args,
        ignore=ignore,
    )


async def test_fetch_my_trades(emu: Emulator, ex: Any) -> None:
    await ex.create_order(LTC, "market", "buy", 0.1)
    args = RECORDED["methods"]["fetchMyTrades"]["input"]
    [ours], [theirs] = await conform(
        emu, ex.fetch_my_trades, "fetchMyTrades", ("GET", "/v5/execution/list"), args
    )
    assert ours["symbol"] == theirs["symbol"] == LTC and ours["fee"]["currency"] == "USDT"


async def test_fetch_funding_history(emu: Emulator, ex: Any) -> None:
    await ex.create_order(LTC, "market", "buy", 0.1)
    emu.account.settle_funding(emu.clock_ms() - 8 * 3_600_000)
    emu.account.settle_funding(emu.clock_ms())
    args = RECORDED["methods"]["fetchFundingHistory"]["input"]
    ours, theirs = await conform(
        emu, ex.fetch_funding_history, "fetchFundingHistory", ("GET", "/v5/execution/list"), args
    )
    assert len(ours) == len(theirs) == 2 and theirs[1]["amount"] == -0.00708126


async def test_fetch_positions(emu: Emulator, ex: Any) -> None:
    await ex.create_order(LTC, "market", "buy", 1.2)
    args = RECORDED["methods"]["fetchPositions"]["input"]
    [ours], [theirs] = await conform(
        emu, ex.fetch_positions, "fetchPositions", ("GET", "/v5/position/list"), args
    )
    assert ours["side"] == theirs["side"] == "long" and ours["contracts"] == 1.2


async def test_fetch_open_order(emu: Emulator, ex: Any) -> None:
    order = await ex.create_order(BTC, "limit", "buy", 0.001, 50000)
    recorded_id = RECORDED["methods"]["fetchOpenOrder"]["input"][0]
    ours, theirs = await conform(
        emu,
        ex.fetch_open_order,
        "fetchOpenOrder",
        ("GET", "/v5/order/realtime"),
        [order["id"], BTC],
        [recorded_id, BTC],
    )
    assert ours["status"] == theirs["status"] == "open"


async def test_fetch_closed_order(emu: Emulator, ex: Any) -> None:
    order = await ex.create_order(BTC, "market", "buy", 0.001)
    recorded_id = RECORDED["methods"]["fetchClosedOrder"]["input"][0]
    ours, theirs = await conform(
        emu,
        ex.fetch_closed_order,
        "fetchClosedOrder",
        ("GET", "/v5/order/history"),
        [order["id"], BTC],
        [recorded_id, BTC],
    )
    assert ours["status"] == theirs["status"] == "closed"
    assert ours["fee"]["currency"] == theirs["fee"]["currency"] == "USDT"


async def test_create_order(emu: Emulator, ex: Any) -> None:
    # the recorded spot call's linear twin; Bybit named that spot order, we name ours
    args = [BTC, "limit", "buy", 0.001, 50000, {"clientOrderId": "lphedge-create-1"}]
    ours, theirs = await conform(
        emu, ex.create_order, "createOrder", ("POST", "/v5/order/create"), args
    )
    assert ours["clientOrderId"] == "lphedge-create-1" and len(emu.account.orders) == 1
    assert theirs["id"] == "1609920528435648000"


async def test_fetch_balance(emu: Emulator, ex: Any) -> None:
    await ex.create_order(BTC, "market", "buy", 0.001)
    method = "fetchBalance"
    route = ("GET", "/v5/account/wallet-balance")
    ours = await ex.fetch_balance()
    raw = recorded.last_json(emu.requests, route[1])
    assert venue_mismatches(raw, RECORDED["methods"][method]["httpResponse"]) == []
    emu.override(route[0], route[1], RECORDED["methods"][method]["httpResponse"])
    theirs = await ex.fetch_balance()
    # the recorded wallet holds 7 coins, ours USDT only
    ignore = tuple(k for k in theirs if k.isupper() and k not in ours)
    assert recorded.unified_mismatches(ours, theirs, ignore) == []
    assert ours["USDT"]["used"] > 0 and theirs["USDT"]["used"] == 92.61831144
