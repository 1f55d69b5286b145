"""The Binance USDⓈ-M dialect against a real ccxt binanceusdm object: account history
(userTrades, forceOrders, income), account set-up (leverage, margin type, dual-side mode),
hedge-mode positions and orders, and the venue's refusals as the ccxt classes they map to.
The seam is HTTP: ccxt signs, sends and parses for real; only the venue is emulated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import ccxt.async_support as ccxt_async
import pytest
from ccxt.base.errors import BadRequest, MarginModeAlreadySet, OperationRejected

from tests.support.emulator import Binance, Emulator

API_KEY = "bNcE5tTestApiKey0123456789abcdefAPIKEYxyz"
API_SECRET = "bNcE5tTestSecret9876543210fedcbaSECRETzz"
ETH = "ETH/USDT:USDT"
BTC = "BTC/USDT:USDT"
DAY_MS = 86_400_000


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with Emulator(Binance(), api_key=API_KEY, secret=API_SECRET) as e:
        yield e


def make_binance(emu: Emulator) -> Any:
    """A binanceusdm ccxt object whose every API host is the emulator."""
    exchange = ccxt_async.binanceusdm(
        {
            "apiKey": API_KEY,
            "secret": API_SECRET,
            "enableRateLimit": False,
            "options": {"fetchCurrencies": False},
        }
    )
    exchange.urls["api"] = emu.ccxt_urls(exchange.urls["api"])
    return exchange


@pytest.fixture
async def ex(emu: Emulator) -> AsyncIterator[Any]:
    exchange = make_binance(emu)
    await exchange.load_markets()
    yield exchange
    await exchange.close()


def last_query(emu: Emulator, path: str) -> dict[str, list[str]]:
    return parse_qs(next(r for r in reversed(emu.requests) if r.path == path).query)


async def test_a_split_market_order_is_one_order_of_two_trades(emu: Emulator, ex: Any) -> None:
    emu.account.markets["ETHUSDT"].split_fills = True
    since = emu.clock_ms() - 1
    order = await ex.create_order(ETH, "market", "buy", 0.01)
    trades = await ex.fetch_my_trades(ETH, since)
    assert [t["order"] for t in trades] == [order["id"]] * 2
    assert [t["amount"] for t in trades] == [0.005, 0.005]
    assert [t["price"] for t in trades] == [3000.30, 3000.31]  # one tick apart
    assert last_query(emu, "/fapi/v1/userTrades")["startTime"] == [str(since)]
    got = await ex.fetch_order(order["id"], ETH)
    assert got["filled"] == 0.01 and got["status"] == "closed"
    assert got["cost"] == pytest.approx(0.005 * 3000.30 + 0.005 * 3000.31)
    assert got["average"] == pytest.approx(3000.305)
    fees = sum(t["fee"]["cost"] for t in trades)
    assert fees == pytest.approx(float(emu.account.orders[int(order["id"])].fee))
    assert {t["fee"]["currency"] for t in trades} == {"USDT"}


async def test_income_carries_trade_ids_and_funding_history_only_funding(
    emu: Emulator, ex: Any
) -> None:
    since = emu.clock_ms() - 1
    await ex.create_order(ETH, "market", "buy", 0.1)
    await ex.create_order(ETH, "market", "sell", 0.05)  # realises PnL
    emu.account.settle_funding(emu.clock_ms())
    [funding] = await ex.fetch_funding_history(None, since)
    assert last_query(emu, "/fapi/v1/income")["incomeType"] == ["FUNDING_FEE"]
    assert funding["amount"] == pytest.approx(-0.05 * 3000 * 0.0001)  # a long pays
    trade_ids = {t["id"] for t in await ex.fetch_my_trades(ETH, since)}
    rows = await ex.fapiPrivateGetIncome({"startTime": since})
    by_kind: dict[str, set[str]] = {}
    for row in rows:
        by_kind.setdefault(row["incomeType"], set()).add(row["tradeId"])
    assert by_kind["COMMISSION"] == trade_ids
    assert by_kind["REALIZED_PNL"] <= trade_ids and by_kind["REALIZED_PNL"]
    assert by_kind["FUNDING_FEE"] == {""}


async def test_user_trades_keep_binances_window_and_parameter_rules(emu: Emulator, ex: Any) -> None:
    await ex.create_order(ETH, "market", "buy", 0.01)
    await ex.create_order(ETH, "market", "buy", 0.01)
    first, second = await ex.fetch_my_trades(ETH)  # the last 7 days when no window is sent
    assert int(second["id"]) > int(first["id"])
    [only] = await ex.fetch_my_trades(ETH, None, None, {"fromId": second["id"]})
    assert only["id"] == second["id"]
    assert await ex.fetch_my_trades(BTC) == []
    now = emu.clock_ms()
    with pytest.raises(BadRequest, match="-1127"):  # more than 7 days apart
        await ex.fetch_my_trades(ETH, now - 8 * DAY_MS, None, {"endTime": now})
    with pytest.raises(BadRequest, match="-1128"):  # fromId with a time window
        await ex.fetch_my_trades(ETH, now - DAY_MS, None, {"fromId": first["id"]})
    with pytest.raises(BadRequest, match="-1102"):  # symbol is mandatory
        await ex.fapiPrivateGetUserTrades({})


async def test_liquidation_and_adl_show_as_forced_orders_and_trades(emu: Emulator, ex: Any) -> None:
    since = emu.clock_ms() - 1
    await ex.create_order(ETH, "market", "buy", 0.1)
    now = emu.clock_ms()
    liq = emu.account.force_close("ETHUSDT", now, qty=Decimal("0.04"), price=Decimal(2900))
    adl = emu.account.force_close("ETHUSDT", now + 1, kind="adl", qty=Decimal("0.02"))
    [liquidation] = await ex.fetch_my_liquidations(ETH, since)
    assert last_query(emu, "/fapi/v1/forceOrders")["autoCloseType"] == ["LIQUIDATION"]
    assert liquidation["contracts"] == 0.04 and liquidation["price"] == 2900
    assert liquidation["side"] == "sell" and liquidation["quoteValue"] == pytest.approx(116)
    [deleveraged] = await ex.fetch_my_liquidations(ETH, since, None, {"autoCloseType": "ADL"})
    assert deleveraged["contracts"] == 0.02
    by_id = {o["id"]: o for o in await ex.fetch_orders(ETH)}
    assert by_id[str(liq.order_id)]["clientOrderId"].startswith("autoclose-")
    assert by_id[str(adl.order_id)]["clientOrderId"] == "adl_autoclose"
    found = await ex.fetch_order(None, ETH, {"origClientOrderId": "adl_autoclose"})
    assert found["id"] == str(adl.order_id) and found["type"] == "limit"
    trades = await ex.fetch_my_trades(ETH, since)
    assert [t["order"] for t in trades][1:] == [str(liq.order_id), str(adl.order_id)]
    [pos] = await ex.fetch_positions([ETH])
    assert pos["contracts"] == pytest.approx(0.04)
    with pytest.raises(BadRequest, match="-1130"):
        await ex.fetch_my_liquidations(ETH, since, None, {"autoCloseType": "BANKRUPT"})


async def test_leverage_and_margin_type_are_per_symbol(emu: Emulator, ex: Any) -> None:
    answer = await ex.set_leverage(10, ETH)
    assert answer == {"leverage": 10, "maxNotionalValue": "40000000", "symbol": "ETHUSDT"}
    lev = await ex.fetch_leverage(ETH)
    assert lev["longLeverage"] == 10 and lev["marginMode"] == "cross"
    leverages = await ex.fetch_leverages()
    assert leverages[BTC]["longLeverage"] == 20  # the account default, untouched
    await ex.set_margin_mode("isolated", ETH)
    assert (await ex.fetch_margin_mode(ETH))["marginMode"] == "isolated"
    modes = await ex.fetch_margin_modes()
    assert modes[BTC]["marginMode"] == "cross"
    with pytest.raises(MarginModeAlreadySet):  # -4046 "No need to change margin type."
        await ex.set_margin_mode("isolated", ETH)
    [row] = [r for r in await ex.fapiPrivateV2GetPositionRisk() if r["symbol"] == "ETHUSDT"]
    assert row["leverage"] == "10" and row["marginType"] == "isolated"
    await ex.create_order(ETH, "market", "buy", 0.1)
    [pos] = await ex.fetch_positions([ETH])
    assert pos["marginMode"] == "isolated" and pos["collateral"] > 0
    assert pos["initialMargin"] == pytest.approx(0.1 * 3000 / 10)
    assert pos["liquidationPrice"] == pytest.approx(2711.1, abs=0.1)  # ~ entry x (1 - 1/10)
    with pytest.raises(OperationRejected, match="-4048"):  # a position stands in the way
        await ex.set_margin_mode("cross", ETH)
    await ex.create_order(BTC, "limit", "buy", 0.002, 50000)
    with pytest.raises(OperationRejected, match="-4047"):  # an open order stands in the way
        await ex.set_margin_mode("isolated", BTC)
    with pytest.raises(BadRequest, match="-4028"):  # ccxt checks 1..125, the venue too
        await ex.fapiPrivatePostLeverage({"symbol": "ETHUSDT", "leverage": 126})


async def test_hedge_mode_positions_and_orders(emu: Emulator, ex: Any) -> None:
    assert (await ex.fetch_position_mode(ETH))["hedged"] is False
    await ex.set_position_mode(True)
    assert (await ex.fetch_position_mode(ETH))["hedged"] is True
    with pytest.raises(OperationRejected, match="-4059"):
        await ex.set_position_mode(True)
    await ex.create_order(ETH, "market", "buy", 0.3, None, {"positionSide": "LONG"})
    short = await ex.create_order(ETH, "market", "sell", 0.1, None, {"positionSide": "SHORT"})
    assert short["info"]["positionSide"] == "SHORT"
    positions = {p["side"]: p for p in await ex.fetch_positions()}
    assert positions["long"]["contracts"] == 0.3 and positions["short"]["contracts"] == 0.1
    assert positions["long"]["hedged"] and positions["short"]["hedged"]
    rows = await ex.fapiPrivateV3GetPositionRisk()
    assert {(r["positionSide"], r["positionAmt"]) for r in rows} == {
        ("LONG", "0.3"),
        ("SHORT", "-0.1"),
    }
    with pytest.raises(BadRequest, match="-1106"):  # reduceOnly is refused in hedge mode
        await ex.create_order(
            ETH, "market", "sell", 0.1, None, {"positionSide": "LONG", "reduceOnly": True}
        )
    with pytest.raises(OperationRejected, match="-4061"):  # no positionSide in hedge mode
        await ex.create_order(ETH, "market", "buy", 0.1)
    with pytest.raises(OperationRejected, match="-4068"):
        await ex.set_position_mode(False)
    await ex.create_order(ETH, "market", "buy", 0.1, None, {"positionSide": "SHORT"})
    await ex.create_order(ETH, "market", "sell", 0.3, None, {"positionSide": "LONG"})
    assert await ex.fetch_positions() == []
    await ex.create_order(ETH, "limit", "buy", 0.01, 2500, {"positionSide": "LONG"})
    with pytest.raises(OperationRejected, match="-4067"):
        await ex.set_position_mode(False)


async def test_position_risk_v3_lists_held_symbols_v2_every_symbol(emu: Emulator, ex: Any) -> None:
    await ex.create_order(BTC, "market", "sell", 0.002)
    v3 = await ex.fapiPrivateV3GetPositionRisk()
    assert [(r["symbol"], r["positionAmt"]) for r in v3] == [("BTCUSDT", "-0.002")]
    assert "leverage" not in v3[0] and v3[0]["breakEvenPrice"] != v3[0]["entryPrice"]
    v2 = await ex.fapiPrivateV2GetPositionRisk()
    assert {r["symbol"] for r in v2} == {"ETHUSDT", "BTCUSDT"}
    [pos] = await ex.fetch_positions()
    assert pos["side"] == "short" and pos["marginMode"] == "cross"
    assert pos["liquidationPrice"] > 60000 and pos["maintenanceMarginPercentage"] == 0.004


async def test_balance_follows_margin_in_use(emu: Emulator, ex: Any) -> None:
    before = await ex.fetch_balance()
    assert before["USDT"]["total"] == 10000 and before["USDT"]["free"] == 10000
    await ex.create_order(ETH, "market", "buy", 1)
    after = await ex.fetch_balance()
    fee = 3000.30 * 0.0005
    assert after["USDT"]["total"] == pytest.approx(10000 - fee - 0.30)  # margin balance
    assert after["USDT"]["free"] == pytest.approx(10000 - fee - 3000 / 20 - 0.30, abs=0.01)
    v2 = await ex.fapiPrivateV2GetAccount()
    assert len(v2["positions"]) == 2 and v2["canTrade"] is True
