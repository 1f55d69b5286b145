"""The Bybit v5 dialect against a real ccxt bybit object: executions (Trade, BustTrade,
AdlTrade, Funding) with Bybit's cursor paging and window, option deliveries, account set-up
on a unified account (leverage, position mode, account-wide margin mode), hedge-mode rows
and orders, and the venue's refusals as the ccxt classes they map to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import ccxt.async_support as ccxt_async
import pytest
from ccxt.base.errors import BadRequest, ExchangeError, NoChange, PermissionDenied

from tests.support.emulator import Account, Emulator
from tests.support.emulator.account import Position
from tests.support.emulator.bybit import Bybit, bybit_markets, order_uuid
from tests.support.emulator.option_markets import NOW_MS, UNDERLYING, option_markets

API_KEY = "bYb1tTestApiKey0123456789abcdefAPIKEYxyz"
API_SECRET = "bYb1tTestSecret9876543210fedcbaSECRETzz"
ETH = "ETH/USDT:USDT"
BTC = "BTC/USDT:USDT"
DAY_MS = 86_400_000


def make_exchange(emu: Emulator) -> Any:
    """A bybit ccxt object (swap by default, as the bot sets it) pointed at the emulator."""
    exchange = ccxt_async.bybit(
        {
            "apiKey": API_KEY,
            "secret": API_SECRET,
            "enableRateLimit": False,
            "options": {"defaultType": "swap"},
        }
    )
    exchange.urls["api"] = emu.ccxt_urls(exchange.urls["api"])
    exchange.timeout_on_exit = 0
    return exchange


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    account = Account(bybit_markets())
    async with Emulator(Bybit(), api_key=API_KEY, secret=API_SECRET, account=account) as e:
        yield e


@pytest.fixture
async def ex(emu: Emulator) -> AsyncIterator[Any]:
    exchange = make_exchange(emu)
    await exchange.load_markets()
    yield exchange
    await exchange.close()


def last_query(emu: Emulator, path: str) -> dict[str, list[str]]:
    return parse_qs(next(r for r in reversed(emu.requests) if r.path == path).query)


async def test_a_split_market_order_is_one_order_of_two_executions(emu: Emulator, ex: Any) -> None:
    emu.account.markets["ETHUSDT"].split_fills = True
    since = emu.clock_ms() - 1
    order = await ex.create_order(ETH, "market", "buy", 0.2)
    trades = await ex.fetch_my_trades(ETH, since)
    q = last_query(emu, "/v5/execution/list")
    assert q["execType"] == ["Trade"] and q["category"] == ["linear"]
    assert [t["order"] for t in trades] == [order["id"]] * 2
    assert sorted(t["price"] for t in trades) == [3000.30, 3000.31]
    assert [t["amount"] for t in trades] == [0.1, 0.1]
    assert await ex.fetch_my_trades(None, since) == trades  # category linear without symbol
    got = await ex.fetch_closed_order(order["id"], ETH)
    assert got["filled"] == 0.2 and got["status"] == "closed"
    assert got["cost"] == pytest.approx(0.1 * 3000.30 + 0.1 * 3000.31)
    assert got["average"] == pytest.approx(3000.305)
    assert got["fee"]["cost"] == pytest.approx(sum(t["fee"]["cost"] for t in trades))
    assert {t["fee"]["currency"] for t in trades} == {"USDT"}


async def test_executions_page_by_cursor_newest_first_within_seven_days(
    emu: Emulator, ex: Any
) -> None:
    for _ in range(3):
        await ex.create_order(ETH, "market", "buy", 0.01)
    emu.account.settle_funding(emu.clock_ms())
    first = await ex.privateGetV5ExecutionList({"category": "linear", "limit": 2})
    rows, cursor = first["result"]["list"], first["result"]["nextPageCursor"]
    assert [r["execType"] for r in rows] == ["Funding", "Trade"] and cursor
    rest = await ex.privateGetV5ExecutionList({"category": "linear", "limit": 2, "cursor": cursor})
    assert [r["execType"] for r in rest["result"]["list"]] == ["Trade", "Trade"]
    assert rest["result"]["nextPageCursor"] == ""
    times = [int(r["execTime"]) for r in rows + rest["result"]["list"]]
    assert times == sorted(times, reverse=True)
    funding = await ex.privateGetV5ExecutionList({"category": "linear", "execType": "Funding"})
    assert len(funding["result"]["list"]) == 1
    assert await ex.fetch_my_trades(BTC) == []
    now = emu.clock_ms()
    with pytest.raises(BadRequest, match="10001"):  # more than 7 days apart
        await ex.fetch_my_trades(ETH, now - 8 * DAY_MS, None, {"until": now})
    with pytest.raises(BadRequest, match="10001"):  # category is required
        await ex.privateGetV5ExecutionList({})


async def test_funding_history_reads_funding_executions(emu: Emulator, ex: Any) -> None:
    await ex.create_order(ETH, "market", "buy", 1)
    emu.account.settle_funding(emu.clock_ms())
    [funding] = await ex.fetch_funding_history(ETH)
    assert last_query(emu, "/v5/execution/list")["execType"] == ["Funding"]
    assert funding["amount"] == pytest.approx(0.3)  # execFee: > 0 paid by the account
    assert funding["rate"] == 0.0001 and funding["code"] == "USDT"


async def test_liquidation_and_adl_are_bust_and_adl_executions(emu: Emulator, ex: Any) -> None:
    since = emu.clock_ms() - 1
    await ex.create_order(ETH, "market", "sell", 1)
    now = emu.clock_ms()
    liq = emu.account.force_close("ETHUSDT", now, qty=Decimal("0.4"), price=Decimal(3100))
    emu.account.force_close("ETHUSDT", now + 1, kind="adl", qty=Decimal("0.1"))
    [liquidation] = await ex.fetch_my_liquidations(ETH, since)
    assert last_query(emu, "/v5/execution/list")["execType"] == ["BustTrade"]
    assert liquidation["contracts"] == 0.4 and liquidation["price"] == 3100
    assert liquidation["quoteValue"] == pytest.approx(1240)
    [adl] = await ex.fetch_my_liquidations(ETH, since, None, {"execType": "AdlTrade"})
    assert adl["contracts"] == 0.1
    [trade] = await ex.fetch_my_trades(ETH, since)  # execType Trade: the bot's own only
    assert trade["side"] == "sell" and trade["amount"] == 1
    raw = await ex.privateGetV5ExecutionList({"category": "linear", "execType": "BustTrade"})
    [row] = raw["result"]["list"]
    assert row["createType"] == "CreateByLiq" and row["closedSize"] == "0.4"
    assert row["orderId"] == order_uuid(liq.order_id)
    closed = await ex.fetch_closed_order(row["orderId"], ETH)
    assert closed["info"]["createType"] == "CreateByLiq" and closed["filled"] == 0.4
    [pos] = await ex.fetch_positions([ETH])
    assert pos["contracts"] == 0.5 and pos["side"] == "short"


async def test_leverage_is_per_symbol_and_refused_unchanged(emu: Emulator, ex: Any) -> None:
    assert (await ex.fetch_leverage(ETH))["longLeverage"] == 20
    await ex.set_leverage(10, ETH)
    body = next(r.body for r in reversed(emu.requests) if r.path == "/v5/position/set-leverage")
    assert '"buyLeverage":"10"' in body and '"sellLeverage":"10"' in body
    lev = await ex.fetch_leverage(ETH)
    assert lev["longLeverage"] == 10 and lev["shortLeverage"] == 10
    assert (await ex.fetch_leverage(BTC))["longLeverage"] == 20
    with pytest.raises(BadRequest, match="110043"):  # leverage not modified
        await ex.set_leverage(10, ETH)
    with pytest.raises(BadRequest, match="110013"):  # beyond the instrument's 100x
        await ex.set_leverage(150, ETH)
    with pytest.raises(BadRequest, match="10001"):
        await ex.set_leverage(5, ETH, {"sellLeverage": "6"})
    await ex.create_order(ETH, "market", "buy", 1)
    [pos] = await ex.fetch_positions([ETH])
    assert pos["leverage"] == 10 and pos["initialMargin"] == pytest.approx(300)


async def test_margin_mode_is_account_wide_on_a_unified_account(emu: Emulator, ex: Any) -> None:
    assert (await ex.fetch_margin_mode(ETH))["marginMode"] == "cross"
    answer = await ex.set_margin_mode("isolated")
    assert answer["retMsg"] == "Request accepted"
    body = next(r.body for r in emu.requests if r.path == "/v5/account/set-margin-mode")
    assert '"setMarginMode":"ISOLATED_MARGIN"' in body
    assert (await ex.fetch_margin_mode(BTC))["marginMode"] == "isolated"
    assert emu.account.margin_mode_of("ETHUSDT") == "isolated"
    await ex.create_order(BTC, "market", "buy", 0.001)
    with pytest.raises(ExchangeError, match="3400045"):  # a position stands in the way
        await ex.set_margin_mode("cross")
    with pytest.raises(ExchangeError, match="3400045"):
        await ex.set_margin_mode("portfolio")
    with pytest.raises(PermissionDenied, match="100028"):  # classic accounts only
        await ex.privatePostV5PositionSwitchIsolated(
            {"category": "linear", "symbol": "ETHUSDT", "tradeMode": 1}
        )


async def test_hedge_mode_rows_and_orders_by_position_idx(emu: Emulator, ex: Any) -> None:
    await ex.set_position_mode(True)
    body = next(r.body for r in emu.requests if r.path == "/v5/position/switch-mode")
    assert '"mode":3' in body and '"coin":"USDT"' in body
    with pytest.raises(NoChange, match="110025"):
        await ex.set_position_mode(True)
    rows = await ex.privateGetV5PositionList({"category": "linear", "symbol": "ETHUSDT"})
    assert [r["positionIdx"] for r in rows["result"]["list"]] == [1, 2]  # held or not
    await ex.create_order(ETH, "market", "buy", 0.3, None, {"positionIdx": 1})
    await ex.create_order(ETH, "market", "sell", 0.1, None, {"positionIdx": 2})
    positions = {p["side"]: p for p in await ex.fetch_positions()}
    assert positions["long"]["contracts"] == 0.3 and positions["short"]["contracts"] == 0.1
    assert positions["long"]["hedged"] and positions["short"]["hedged"]
    with pytest.raises(BadRequest, match="10001"):  # positionIdx 0 in hedge mode
        await ex.create_order(ETH, "market", "buy", 0.1)
    with pytest.raises(BadRequest, match="110024"):
        await ex.set_position_mode(False)
    # ccxt's hedged reduce-only: positionIdx of the side it closes, reduceOnly left out
    await ex.create_order(ETH, "market", "sell", 0.3, None, {"hedged": True, "reduceOnly": True})
    await ex.create_order(ETH, "market", "buy", 0.1, None, {"positionIdx": 2, "reduceOnly": True})
    assert await ex.fetch_positions() == []
    await ex.create_order(ETH, "limit", "buy", 0.1, 2500, {"positionIdx": 1})
    with pytest.raises(BadRequest, match="110028"):
        await ex.set_position_mode(False)
    [order] = await ex.fetch_open_orders(ETH)
    assert order["info"]["positionIdx"] == 1


async def test_balance_lists_the_unified_wallet(emu: Emulator, ex: Any) -> None:
    await ex.create_order(ETH, "market", "buy", 1)
    balance = await ex.fetch_balance()
    fee = 3000.30 * 0.0005
    assert balance["USDT"]["total"] == pytest.approx(10000 - fee)
    assert balance["USDT"]["used"] == pytest.approx(150)  # initial margin at 20x


@pytest.fixture
def option_clock() -> list[int]:
    return [NOW_MS]


@pytest.fixture
async def option_emu(option_clock: list[int]) -> AsyncIterator[Emulator]:
    account = Account(
        bybit_markets(),
        options=option_markets("bybit"),
        underlying=dict(UNDERLYING),
        wallets={"USDC": Decimal(20000)},
    )
    now: Callable[[], int] = lambda: option_clock[0]  # noqa: E731
    async with Emulator(Bybit(), API_KEY, API_SECRET, account=account, now_ms=now) as e:
        yield e


async def test_option_deliveries_are_my_settlement_history(
    option_emu: Emulator, option_clock: list[int]
) -> None:
    acct = option_emu.account
    call = next(
        om
        for om in acct.options.values()
        if om.base == "ETH" and om.call and om.strike < acct.underlying["ETH"]
    )
    put = next(om for om in acct.options.values() if om.base == "ETH" and not om.call)
    acct.option_positions[call.symbol] = Position(Decimal(2), Decimal(150))  # bought earlier
    acct.option_positions[put.symbol] = Position(Decimal("-1"), Decimal(40))  # written earlier
    option_clock[0] = max(call.expiry_ms, put.expiry_ms) + 1
    delivered = acct.deliver_options(option_clock[0])
    assert len(delivered) == 2
    ex = make_exchange(option_emu)
    try:
        settled = await ex.fetch_my_settlement_history(None, None, None, {"category": "option"})
    finally:
        await ex.close()
    assert last_query(option_emu, "/v5/asset/delivery-record")["category"] == ["option"]
    by_id = {s["info"]["symbol"]: s for s in settled}
    index = float(acct.underlying["ETH"])
    assert by_id[call.symbol]["price"] == index
    assert by_id[call.symbol]["info"]["side"] == "Buy"
    assert by_id[put.symbol]["info"]["side"] == "Sell"
    intrinsic = acct.underlying["ETH"] - call.strike
    fee = min(Decimal("0.00015") * acct.underlying["ETH"], Decimal("0.125") * intrinsic) * 2
    assert Decimal(by_id[call.symbol]["info"]["fee"]) == fee.quantize(Decimal("0.00000001"))
    rpl = (intrinsic - 150) * 2 - fee.quantize(Decimal("0.00000001"))
    assert Decimal(by_id[call.symbol]["info"]["deliveryRpl"]) == rpl
    assert acct.option_positions[call.symbol].qty == 0
