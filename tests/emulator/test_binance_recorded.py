"""The Binance USDⓈ-M dialect held to Binance's own JSON as the ccxt repository records it
(recorded/binanceusdm.json, copied from ccxt's binance.json): per recorded method, the same
ccxt call (a) against the dialect, whose raw answer must carry every key the venue sends with
the same JSON type, and (b) against the recorded answer served as it is, whose unified result
must not hold a value ours lacks.

Where the recording is not of the call ccxt makes here, the nearest one stands in and says
so: fetchFundingHistory was recorded on portfolio margin (/papi/v1/um/income, the same rows
as /fapi/v1/income); fetchOrder reuses the fetchOpenOrder answer (GET /fapi/v1/order and
/fapi/v1/openOrder answer the same order object); createOrder the first order of the
createOrders (batchOrders) answer; fetchBalance was recorded from /fapi/v2/account, so it is
called with useV2. The recorded LTCUSDT order needs the LTCUSDT market, listed here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from tests.emulator.test_binance_dialect import API_KEY, API_SECRET, make_binance
from tests.support.emulator import Account, Binance, Emulator, Market, default_markets, recorded

RECORDED = recorded.load("binanceusdm")
BTC = "BTC/USDT:USDT"
LTC = "LTC/USDT:USDT"
# Binance sends these as JSON numbers (its docs; our answers); ccxt's recorder wrote them as
# strings, so a number here against a numeric string there is the recorder, not a mismatch.
RECORDER_STRINGS = {
    "id",
    "orderId",
    "time",
    "updateTime",
    "tranId",
    "adl",
    "goodTillDate",
    "feeTier",
    "tradeGroupId",
    "leverage",
}


def venue_mismatches(ours: Any, theirs: Any) -> list[str]:
    """shape_mismatches less the recorder's number-to-string rewrites."""
    return recorded.without_recorder_strings(
        recorded.shape_mismatches(ours, theirs), RECORDER_STRINGS
    )


def test_the_fixture_names_its_source() -> None:
    assert RECORDED["source"].startswith("ccxt/ccxt ts/src/test/static/response/binance.json @")
    assert RECORDED["license"] == "MIT (ccxt)"


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    markets = default_markets()
    markets["LTCUSDT"] = Market("LTCUSDT", "LTC", "USDT", Decimal("70.00"), min_notional=Decimal(5))
    account = Account(markets)
    async with Emulator(Binance(), api_key=API_KEY, secret=API_SECRET, account=account) as e:
        yield e


@pytest.fixture
async def ex(emu: Emulator) -> AsyncIterator[Any]:
    exchange = make_binance(emu)
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
    served: Any = None,
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
        served=served,
    )


async def test_fetch_my_trades(emu: Emulator, ex: Any) -> None:
    await ex.create_order(BTC, "market", "buy", 0.01)
    args = RECORDED["methods"]["fetchMyTrades"]["input"]
    [ours], [theirs] = await conform(
        emu, ex.fetch_my_trades, "fetchMyTrades", ("GET", "/fapi/v1/userTrades"), args
    )
    assert theirs["id"] == "272536245" and ours["fee"]["currency"] == "USDT"


async def test_fetch_funding_history(emu: Emulator, ex: Any) -> None:
    await ex.create_order(BTC, "market", "buy", 0.01)
    emu.account.settle_funding(emu.clock_ms())
    args = RECORDED["methods"]["fetchFundingHistory"]["input"][:3]  # fapi, not papi
    [ours], [theirs] = await conform(
        emu, ex.fetch_funding_history, "fetchFundingHistory", ("GET", "/fapi/v1/income"), args
    )
    assert ours["amount"] < 0 and theirs["amount"] == -0.04618913


async def test_fetch_positions(emu: Emulator, ex: Any) -> None:
    """The recorded cross long has a liquidation price, so ours holds one too: a small
    wallet (30 USDT) under 0.009 BTC, as in the recording."""
    emu.account.balance = Decimal(30)
    await ex.create_order(BTC, "market", "buy", 0.009)
    [ours], [theirs] = await conform(
        emu, ex.fetch_positions, "fetchPositions", ("GET", "/fapi/v3/positionRisk"), []
    )
    assert theirs["liquidationPrice"] == 64846.9875379
    assert 50000 < ours["liquidationPrice"] < 60000 and ours["marginRatio"] > 0


async def test_fetch_open_order_and_fetch_order(emu: Emulator, ex: Any) -> None:
    order = await ex.create_order(LTC, "limit", "buy", 0.2, 50, {"postOnly": True})
    recorded_id = RECORDED["methods"]["fetchOpenOrder"]["input"][0]
    route = ("GET", "/fapi/v1/openOrder")
    ours, theirs = await conform(
        emu, ex.fetch_open_order, "fetchOpenOrder", route, [order["id"], LTC], [recorded_id, LTC]
    )
    assert ours["timeInForce"] == theirs["timeInForce"] == "PO"
    route = ("GET", "/fapi/v1/order")
    served = RECORDED["methods"]["fetchOpenOrder"]["httpResponse"]
    ours, theirs = await conform(
        emu, ex.fetch_order, "fetchOpenOrder", route, [order["id"], LTC], [recorded_id, LTC], served
    )
    assert ours["status"] == theirs["status"] == "open"


async def test_create_order(emu: Emulator, ex: Any) -> None:
    [spec] = RECORDED["methods"]["createOrders"]["input"][0]
    args = [spec["symbol"], spec["type"], spec["side"], spec["amount"], spec["price"]]
    served = RECORDED["methods"]["createOrders"]["httpResponse"][0]
    route = ("POST", "/fapi/v1/order")
    ours, theirs = await conform(emu, ex.create_order, "createOrders", route, args, None, served)
    assert ours["status"] == theirs["status"] == "open" and len(emu.account.orders) == 1


async def test_fetch_balance(emu: Emulator, ex: Any) -> None:
    [params] = RECORDED["methods"]["fetchBalance"]["input"]
    args = [{**params, "useV2": True}]  # recorded from /fapi/v2/account
    ours, theirs = await conform(
        emu, ex.fetch_balance, "fetchBalance", ("GET", "/fapi/v2/account"), args
    )
    assert ours["USDT"]["total"] == 10000 and theirs["USDT"]["total"] == 31.022612


async def test_fetch_margin_mode(emu: Emulator, ex: Any) -> None:
    args = RECORDED["methods"]["fetchMarginMode"]["input"]
    ours, theirs = await conform(
        emu, ex.fetch_margin_mode, "fetchMarginMode", ("GET", "/fapi/v1/symbolConfig"), args
    )
    assert ours["marginMode"] == theirs["marginMode"] == "cross"
