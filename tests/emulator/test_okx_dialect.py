"""The OKX v5 dialect against a real ccxt `okx` object in sandbox mode: what goes on the wire
(batch-orders with clOrdId, tdMode, posSide, the signed headers and x-simulated-trading),
contracts of 0.1 ETH, net and long/short position modes, leverage and margin mode per
instrument, fills and funding bills with OKX's signs, forced closes as fills without a
clOrdId, and each OKX error code as the ccxt exception class ccxt's `exceptions` maps it to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.async_support as ccxt_async
import pytest
from ccxt.base import errors

from tests.support.emulator import Account, Emulator, Fault
from tests.support.emulator.okx import Okx, okx_markets

KEY = "6f1c2d3e-okx-demo-key-4a5b6c7d8e9f"
SECRET = "9C1E5B7A0D3F4E6A8B2C4D6E8F0A1B3C"
PASSPHRASE = "lphedge-pass"
ETH, BTC = "ETH/USDT:USDT", "BTC/USDT:USDT"
ETH_ID = "ETH-USDT-SWAP"
NOW = 1_717_228_800_000  # 2024-06-01 08:00 UTC, a funding time
BATCH = "/api/v5/trade/batch-orders"
OPTIONS: dict[str, Any] = {
    "defaultType": "swap",
    "fetchCurrencies": False,
    "fetchMarkets": {"types": ["swap"]},
}


class Clock:
    """The venue's clock, moved by the test (the signature check keeps the wall clock)."""

    def __init__(self, ms: int = NOW) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def okx_emulator(clock: Clock | None = None, **account: Any) -> Emulator:
    """An OKX emulator (not started) with ETH/BTC-USDT-SWAP, 10,000 USDT, keeping `clock`."""
    return Emulator(
        Okx(PASSPHRASE),
        api_key=KEY,
        secret=SECRET,
        account=Account(okx_markets(**account)),
        now_ms=clock or Clock(),
    )


def make_okx(
    emu: Emulator,
    *,
    api_key: str = KEY,
    secret: str = SECRET,
    password: str = PASSPHRASE,
    sandbox: bool = True,
    timeout_ms: int = 10_000,
) -> Any:
    """A ccxt okx (sandbox mode: demo trading) pointed at `emu`; close it after."""
    ex = ccxt_async.okx(
        {
            "apiKey": api_key,
            "secret": secret,
            "password": password,
            "enableRateLimit": False,
            "timeout": timeout_ms,
            "options": json.loads(json.dumps(OPTIONS)),
        }
    )
    if sandbox:
        ex.set_sandbox_mode(True)  # swaps urls['api'] for urls['test']: point them after
    ex.urls["api"] = emu.ccxt_urls(ex.urls["api"])
    ex.timeout_on_exit = 0
    return ex


def bodies(emu: Emulator, path: str = BATCH) -> list[Any]:
    return [json.loads(r.body) for r in emu.requests if r.path == path and r.body]


def rows(emu: Emulator, path: str) -> list[dict[str, Any]]:
    """The `data` rows the emulator last answered to `path`."""
    for r in reversed(emu.requests):
        if r.path == path and r.response:
            data: list[dict[str, Any]] = json.loads(r.response)["data"]
            return data
    raise AssertionError(f"no answer to {path}")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def emu(clock: Clock) -> AsyncIterator[Emulator]:
    async with okx_emulator(clock) as e:
        yield e


@pytest.fixture
async def okx(emu: Emulator) -> AsyncIterator[Any]:
    ex = make_okx(emu)
    yield ex
    await ex.close()


async def buy(okx: Any, amount: str, client_id: str = "", **params: Any) -> Any:
    extra = {"clOrdId": client_id} if client_id else {}
    return await okx.create_order(ETH, "market", "buy", float(amount), None, extra | params)


async def sell(okx: Any, amount: str, client_id: str = "", **params: Any) -> Any:
    extra = {"clOrdId": client_id} if client_id else {}
    return await okx.create_order(ETH, "market", "sell", float(amount), None, extra | params)


# ---- markets and public data -----------------------------------------------------------


async def test_load_markets_reads_swap_instruments_with_okx_specs(emu: Emulator, okx: Any) -> None:
    markets = await okx.load_markets()
    assert set(markets) == {ETH, BTC}
    eth, btc = markets[ETH], markets[BTC]
    assert eth["id"] == ETH_ID and eth["swap"] and eth["linear"] and eth["settle"] == "USDT"
    assert eth["contractSize"] == 0.1 and eth["precision"] == {"amount": 0.01, "price": 0.01}
    assert eth["limits"]["amount"]["min"] == 0.01 and eth["limits"]["leverage"]["max"] == 100
    assert btc["contractSize"] == 0.01 and btc["precision"] == {"amount": 0.01, "price": 0.1}
    # only the SWAP instruments were asked for, and in demo trading
    assert [(r.path, r.query) for r in emu.requests] == [
        ("/api/v5/public/instruments", "instType=SWAP")
    ]
    assert emu.requests[0].headers.get("x-simulated-trading") == "1"
    [row] = [r for r in rows(emu, "/api/v5/public/instruments") if r["instId"] == ETH_ID]
    assert (row["ctVal"], row["ctValCcy"], row["settleCcy"]) == ("0.1", "ETH", "USDT")
    assert (row["lotSz"], row["minSz"], row["tickSz"]) == ("0.01", "0.01", "0.01")


async def test_time_funding_rate_ticker_and_book(okx: Any) -> None:
    assert await okx.fetch_time() == NOW
    rate = await okx.fetch_funding_rate(ETH)
    assert rate["fundingRate"] == 0.0001 and rate["interval"] == "8h"
    assert rate["fundingTimestamp"] == NOW + 8 * 3_600_000  # the next settlement
    ticker = await okx.fetch_ticker(ETH)
    assert (ticker["bid"], ticker["ask"], ticker["last"]) == (2999.7, 3000.3, 3000.0)
    assert ticker["timestamp"] == NOW
    mark = await okx.fetch_mark_price(ETH)
    assert mark["markPrice"] == 3000.0
    book = await okx.fetch_order_book(BTC, 5)
    assert len(book["bids"]) == len(book["asks"]) == 5
    assert book["bids"][0][:2] == [59994.0, 50.0] and book["asks"][0][:2] == [60006.0, 50.0]
    assert book["asks"][1][0] == 60006.1  # one 0.1 tick apart


# ---- orders ----------------------------------------------------------------------------


async def test_market_order_by_client_id_is_terse_then_looked_up(emu: Emulator, okx: Any) -> None:
    ack = await buy(okx, "2", "hedge0001")
    [[sent]] = bodies(emu)  # ccxt posts a one-order batch
    assert sent["instId"] == ETH_ID and sent["tdMode"] == "cross" and sent["sz"] == "2"
    assert (sent["side"], sent["ordType"], sent["clOrdId"]) == ("buy", "market", "hedge0001")
    # the answer is only ids: no status, no fill
    [answer] = rows(emu, BATCH)
    assert set(answer) == {"clOrdId", "ordId", "sCode", "sMsg", "tag", "ts"}
    assert ack["clientOrderId"] == "hedge0001" and len(ack["id"]) == 19 and ack["status"] is None
    by_client = await okx.fetch_order(None, ETH, {"clOrdId": "hedge0001"})
    by_id = await okx.fetch_order(ack["id"], ETH)
    assert by_client["id"] == by_id["id"] == ack["id"]
    assert by_id["status"] == "closed" and by_id["amount"] == by_id["filled"] == 2  # contracts
    assert by_id["average"] == 3000.3  # mark + 1 bp on the 0.01 tick
    assert by_id["fee"] == {"cost": 0.30003, "currency": "USDT"}  # 0.2 ETH x 3000.3 x 5 bp
    assert by_id["info"]["fee"] == "-0.30003" and by_id["info"]["posSide"] == "net"
    [closed] = await okx.fetch_closed_orders(ETH)
    assert closed["id"] == ack["id"] and closed["clientOrderId"] == "hedge0001"
    assert emu.count("/api/v5/trade/orders-history", instType="SWAP", state="filled") == 1


async def test_fills_carry_contracts_and_negative_fees(emu: Emulator, okx: Any) -> None:
    await buy(okx, "2", "fill0001")
    [trade] = await okx.fetch_my_trades(ETH, NOW)
    assert trade["amount"] == 2 and trade["price"] == 3000.3 and trade["side"] == "buy"
    assert (
        trade["fee"] == {"cost": 0.30003, "currency": "USDT"} and trade["takerOrMaker"] == "taker"
    )
    [raw] = rows(emu, "/api/v5/trade/fills-history")
    assert (raw["fee"], raw["feeCcy"], raw["fillSz"], raw["execType"]) == (
        "-0.30003",
        "USDT",
        "2",
        "T",
    )
    assert (raw["clOrdId"], raw["posSide"], raw["fillPnl"]) == ("fill0001", "net", "0")
    assert emu.count("/api/v5/trade/fills-history", instType="SWAP", begin=str(NOW)) == 1
    assert await okx.fetch_my_trades(None, NOW + 1, None, {"instType": "SWAP"}) == []
    await okx.private_get_trade_fills({"instType": "SWAP"})  # the last-3-days endpoint too
    assert len(rows(emu, "/api/v5/trade/fills")) == 1


async def test_net_positions_are_signed_contracts(emu: Emulator, okx: Any) -> None:
    await buy(okx, "2")
    await sell(okx, "0.5")
    [pos] = await okx.fetch_positions()
    assert pos["symbol"] == ETH and pos["side"] == "long" and pos["contracts"] == 1.5
    assert pos["contractSize"] == 0.1 and pos["entryPrice"] == 3000.3 and not pos["hedged"]
    assert pos["notional"] == 450.0 and pos["leverage"] == 20 and pos["marginMode"] == "cross"
    await sell(okx, "3")
    [pos] = await okx.fetch_positions([ETH])
    assert pos["side"] == "short" and pos["contracts"] == 1.5 and pos["entryPrice"] == 2999.7
    [raw] = rows(emu, "/api/v5/account/positions")
    assert (raw["pos"], raw["posSide"], raw["mgnMode"]) == ("-1.5", "net", "cross")
    # cross: the whole 10,000 USDT stands behind 0.15 ETH short
    assert pos["liquidationPrice"] == pytest.approx((0.15 * 2999.7 + 10000 - 0.6) / 0.1506, 1e-3)
    await buy(okx, "1.5")
    assert await okx.fetch_positions() == []


async def test_balance_is_cash_plus_unrealised(emu: Emulator, okx: Any) -> None:
    await buy(okx, "10")  # 1 ETH at 3000.3: fee 1.50015, upl -0.3, margin 150 at 20x
    balance = await okx.fetch_balance()
    usdt = balance["USDT"]
    assert usdt["total"] == pytest.approx(10000 - 1.50015 - 0.3)
    assert usdt["free"] == pytest.approx(usdt["total"] - 150)
    [row] = rows(emu, "/api/v5/account/balance")
    assert row["details"][0]["cashBal"] == "9998.49985"


async def test_resting_limit_order_is_open_then_canceled(
    emu: Emulator, okx: Any, clock: Clock
) -> None:
    placed = await okx.create_order(ETH, "limit", "buy", 1, 2900, {"clOrdId": "rest0001"})
    [open_order] = await okx.fetch_open_orders(ETH)
    assert open_order["id"] == placed["id"] and open_order["status"] == "open"
    assert open_order["price"] == 2900 and open_order["filled"] == 0
    await okx.cancel_order(placed["id"], ETH)
    assert (await okx.fetch_order(placed["id"], ETH))["status"] == "canceled"
    assert await okx.fetch_open_orders() == []
    with pytest.raises(errors.OrderNotFound, match="51400"):
        await okx.cancel_order(placed["id"], ETH)
    clock.ms += 2 * 3_600_000 + 1  # OKX keeps unfilled canceled orders 2 hours
    with pytest.raises(errors.OrderNotFound, match="51603"):
        await okx.fetch_order(placed["id"], ETH)


async def test_timeout_after_accept_then_lookup_finds_exactly_one(emu: Emulator) -> None:
    okx = make_okx(emu, timeout_ms=300)
    try:
        await okx.load_markets()
        emu.inject(Fault("timeout_after_accept", path=BATCH, delay_s=1.0))
        with pytest.raises(errors.RequestTimeout):
            await buy(okx, "1", "late0001")
        found = await okx.fetch_order(None, ETH, {"clOrdId": "late0001"})
        assert found["status"] == "closed"
        with pytest.raises(errors.InvalidOrder, match="51016"):  # a blind retry is refused
            await buy(okx, "1", "late0001")
    finally:
        await okx.close()
    assert [o.client_id for o in emu.account.orders.values()] == ["late0001"]


# ---- position modes, leverage, margin mode ---------------------------------------------


async def test_long_short_mode_orders_name_the_side(emu: Emulator, okx: Any) -> None:
    assert (await okx.fetch_position_mode(ETH))["hedged"] is False
    await okx.set_position_mode(True)
    assert bodies(emu, "/api/v5/account/set-position-mode") == [{"posMode": "long_short_mode"}]
    assert emu.account.position_mode == "hedge"
    assert (await okx.fetch_position_mode(ETH))["hedged"] is True
    await buy(okx, "1", posSide="long")
    await sell(okx, "2", posSide="short")
    positions = {p["side"]: p for p in await okx.fetch_positions()}
    assert {s: p["contracts"] for s, p in positions.items()} == {"long": 1, "short": 2}
    assert all(p["hedged"] for p in positions.values())
    raw = {r["posSide"]: r["pos"] for r in rows(emu, "/api/v5/account/positions")}
    assert raw == {"long": "1", "short": "2"}  # pos is unsigned in long/short mode
    await sell(okx, "1", posSide="long")  # sell-long closes
    [left] = await okx.fetch_positions()
    assert left["side"] == "short"
    with pytest.raises(errors.InvalidOrder, match="51112"):
        await buy(okx, "3", posSide="short")  # closes more than held
    with pytest.raises(errors.ExchangeError, match="51169") as no_long:
        await sell(okx, "1", posSide="long")
    assert type(no_long.value) is errors.ExchangeError  # 51169 is not in ccxt's table
    with pytest.raises(errors.BadRequest, match="51000"):
        await buy(okx, "1")  # long/short mode needs posSide
    with pytest.raises(errors.ExchangeError, match="59000"):
        await okx.set_position_mode(False)  # not while a position is open
    assert emu.account.position_mode == "hedge"
    await okx.private_get_trade_fills({"instType": "SWAP"})
    fills = {(r["posSide"], r["side"]): r["subType"] for r in rows(emu, "/api/v5/trade/fills")}
    assert fills == {("long", "buy"): "3", ("short", "sell"): "4", ("long", "sell"): "5"}


async def test_net_mode_reduce_only_rejections(emu: Emulator, okx: Any) -> None:
    with pytest.raises(errors.ExchangeError, match="51169") as nothing:
        await sell(okx, "1", reduceOnly=True)
    assert type(nothing.value) is errors.ExchangeError
    await buy(okx, "1")
    with pytest.raises(errors.ExchangeError, match="51170") as same_side:
        await buy(okx, "1", reduceOnly=True)
    assert type(same_side.value) is errors.ExchangeError
    with pytest.raises(errors.InvalidOrder, match="51112"):
        await sell(okx, "2", reduceOnly=True)
    with pytest.raises(errors.BadRequest, match="51000"):
        await sell(okx, "1", posSide="long")  # net mode takes no long/short
    await sell(okx, "1", "close0001", reduceOnly=True)
    assert bodies(emu)[-1][0]["reduceOnly"] is True
    assert await okx.fetch_positions() == []


async def test_leverage_and_margin_mode_per_instrument(emu: Emulator, okx: Any) -> None:
    await okx.set_leverage(5, ETH, {"mgnMode": "isolated"})
    [body] = bodies(emu, "/api/v5/account/set-leverage")
    assert body == {"lever": 5, "mgnMode": "isolated", "instId": ETH_ID, "posSide": "net"}
    acct = emu.account
    assert acct.leverage_of(ETH_ID) == 5 and acct.margin_mode_of(ETH_ID) == "isolated"
    isolated = await okx.fetch_leverage(ETH, {"marginMode": "isolated"})
    assert isolated["marginMode"] == "isolated" and isolated["longLeverage"] == 5
    assert (await okx.fetch_leverage(ETH))["longLeverage"] == 20  # cross is still the default
    await okx.set_margin_mode("cross", ETH, {"lever": 10})
    assert acct.leverage_of(ETH_ID) == 10 and acct.margin_mode_of(ETH_ID) == "cross"
    assert (await okx.fetch_leverage(ETH))["shortLeverage"] == 10
    # an isolated order on a flat instrument switches it, with isolated's own leverage
    await buy(okx, "10", marginMode="isolated")
    assert bodies(emu)[-1][0]["tdMode"] == "isolated"
    [pos] = await okx.fetch_positions()
    assert pos["marginMode"] == "isolated" and pos["leverage"] == 5
    assert pos["initialMargin"] == pytest.approx(3000.3 / 5)
    with pytest.raises(errors.BadRequest, match="51000"):
        await buy(okx, "1", marginMode="cross")  # cross beside an isolated position
    with pytest.raises(errors.ExchangeError, match="59102"):
        await okx.set_leverage(110, ETH)  # ETH-USDT-SWAP allows 100x


# ---- errors ----------------------------------------------------------------------------


async def test_order_failures_are_http_200_with_scode(emu: Emulator, okx: Any) -> None:
    emu.account.balance = Decimal(10)  # 10 USDT cannot margin 10 ETH at 20x
    with pytest.raises(errors.InsufficientFunds, match="51008"):
        await buy(okx, "100", "poor0001")
    post = next(r for r in emu.requests if r.path == BATCH)
    answer = json.loads(post.response)
    assert post.status == 200 and answer["code"] == "1" and answer["msg"] == "All operations failed"
    assert answer["data"][0]["sCode"] == "51008" and answer["data"][0]["clOrdId"] == "poor0001"
    assert answer["data"][0]["sMsg"] == "Order failed. Insufficient USDT margin in account"
    assert emu.account.orders == {}


async def test_each_okx_code_as_its_ccxt_class(emu: Emulator, okx: Any) -> None:
    await okx.load_markets()
    order = {"instId": ETH_ID, "tdMode": "cross", "side": "buy", "ordType": "market"}
    with pytest.raises(errors.InvalidOrder, match="51020"):
        await okx.private_post_trade_order(order | {"sz": "0.001"})  # below minSz
    with pytest.raises(errors.InvalidOrder, match="51121"):
        await okx.private_post_trade_order(order | {"sz": "0.015"})  # not a lot multiple
    with pytest.raises(errors.BadSymbol, match="51001"):
        await okx.private_post_trade_order(order | {"instId": "DOGE-USDT-SWAP", "sz": "1"})
    with pytest.raises(errors.BadRequest, match="51000"):
        await buy(okx, "1", tdMode="portfolio")
    with pytest.raises(errors.OrderNotFound, match="51603"):
        await okx.fetch_order(None, ETH, {"clOrdId": "nosuch01"})
    await buy(okx, "1", "twice001")
    with pytest.raises(errors.InvalidOrder, match="51016"):
        await buy(okx, "1", "twice001")
    emu.inject(Fault("min_notional", path=BATCH))
    with pytest.raises(errors.InvalidOrder, match="51020"):
        await buy(okx, "1", "fault001")
    emu.inject(Fault("http429", path=BATCH))
    with pytest.raises(errors.RateLimitExceeded, match="50011"):
        await buy(okx, "1", "fault002")
    assert emu.requests[-1].status == 429
    assert [o.client_id for o in emu.account.orders.values()] == ["twice001"]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"secret": "wrong-" + SECRET}, "50113"),
        ({"password": "not-the-passphrase"}, "50105"),
        ({"api_key": "someone-elses-key"}, "50111"),
        ({"sandbox": False}, "50101"),  # a demo key without x-simulated-trading
    ],
)
async def test_bad_credentials_are_401_authentication_errors(
    emu: Emulator, change: dict[str, Any], code: str
) -> None:
    okx = make_okx(emu, **change)
    try:
        with pytest.raises(errors.AuthenticationError, match=code):
            await okx.fetch_positions()
    finally:
        await okx.close()
    denied = emu.requests[-1]
    assert denied.status == 401 and json.loads(denied.response)["code"] == code
    assert emu.account.orders == {}


def _headers(secret: str, stamp: str, method: str, path: str, body: str) -> dict[str, str]:
    digest = hmac.new(secret.encode(), (stamp + method + path + body).encode(), hashlib.sha256)
    return {
        "OK-ACCESS-KEY": KEY,
        "OK-ACCESS-PASSPHRASE": PASSPHRASE,
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-SIGN": base64.b64encode(digest.digest()).decode(),
        "x-simulated-trading": "1",
        "Content-Type": "application/json",
    }


def _stamp(offset_s: float = 0) -> str:
    now = datetime.now(UTC).timestamp() + offset_s
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


async def test_signature_covers_path_query_and_body(emu: Emulator) -> None:
    """The emulator's check is OKX's formula: a body altered after signing is refused, and
    so is a stale timestamp."""
    body = json.dumps(
        {"instId": ETH_ID, "tdMode": "cross", "side": "buy", "ordType": "market", "sz": "1"}
    )
    path = "/api/v5/trade/order"
    stamp = _stamp()
    headers = _headers(SECRET, stamp, "POST", path, body)
    async with aiohttp.ClientSession() as http:
        async with http.post(emu.base_url + path, data=body, headers=headers) as resp:
            assert (await resp.json())["code"] == "0"
        tampered = body.replace('"sz": "1"', '"sz": "9"')
        async with http.post(emu.base_url + path, data=tampered, headers=headers) as resp:
            assert resp.status == 401 and (await resp.json())["code"] == "50113"
        query = "/api/v5/account/positions?instId=" + ETH_ID
        signed = _headers(SECRET, stamp, "GET", query, "")
        async with http.get(emu.base_url + query, headers=signed) as resp:
            assert (await resp.json())["code"] == "0"
        stale = _stamp(-60)
        old = _headers(SECRET, stale, "GET", query, "")
        async with http.get(emu.base_url + query, headers=old) as resp:
            assert resp.status == 401 and (await resp.json())["code"] == "50102"
    assert len(emu.account.orders) == 1


# ---- funding and forced closes ---------------------------------------------------------


async def test_funding_bills_are_signed_as_received(emu: Emulator, okx: Any, clock: Clock) -> None:
    await buy(okx, "10")  # 1 ETH long
    emu.account.settle_funding(clock.ms)  # longs pay 1 x 3000 x 0.0001
    [paid] = await okx.fetch_funding_history(ETH)
    assert paid["amount"] == -0.3 and paid["code"] == "USDT" and paid["symbol"] == ETH
    assert emu.count("/api/v5/account/bills-archive", type="8", instType="SWAP", ccy="USDT") == 1
    [bill] = rows(emu, "/api/v5/account/bills-archive")
    assert (bill["type"], bill["subType"], bill["balChg"], bill["pnl"]) == (
        "8",
        "173",
        "-0.3",
        "-0.3",
    )
    assert bill["sz"] == "10" and bill["instId"] == ETH_ID
    await sell(okx, "20")  # now 1 ETH short
    clock.ms += 8 * 3_600_000
    emu.account.settle_funding(clock.ms)
    history = await okx.fetch_funding_history(None, None, None, {"instType": "SWAP"})
    assert [h["amount"] for h in history] == [-0.3, 0.3]  # oldest first
    assert rows(emu, "/api/v5/account/bills-archive")[0]["subType"] == "174"
    # every bill, trades included, carries the balance after it
    bills = await okx.private_get_account_bills({"instType": "SWAP"})
    assert bills["data"][0]["bal"] == str(emu.account.balance.normalize())
    assert [b["type"] for b in bills["data"]] == ["8", "2", "8", "2"]


async def test_liquidation_is_a_fill_without_client_id(
    emu: Emulator, okx: Any, clock: Clock
) -> None:
    assert okx.has["fetchMyLiquidations"] is None  # so the fills are where it shows
    await buy(okx, "5", "mine0001")
    clock.ms += 60_000
    forced = emu.account.force_close(ETH_ID, clock.ms, price=Decimal("2700"))
    mine, liquidation = await okx.fetch_my_trades(ETH, NOW)
    assert mine["info"]["clOrdId"] == "mine0001"
    assert liquidation["info"]["clOrdId"] == "" and liquidation["side"] == "sell"
    assert liquidation["amount"] == 5 and liquidation["price"] == 2700
    assert liquidation["info"]["subType"] == "107"  # liquidation sell (net mode)
    order = await okx.fetch_order(liquidation["order"], ETH)
    assert order["clientOrderId"] is None and order["info"]["category"] == "full_liquidation"
    assert order["id"] == str(2_896_576_000_000_000_000 + forced.order_id)
    assert await okx.fetch_positions() == []
    bills = (await okx.private_get_account_bills_archive({"instType": "SWAP"}))["data"]
    assert (bills[0]["type"], bills[0]["subType"]) == ("5", "107")
    assert Decimal(bills[0]["pnl"]) == Decimal("-150.15")  # 0.5 ETH from 3000.3 to 2700


async def test_adl_is_a_partial_forced_close(emu: Emulator, okx: Any, clock: Clock) -> None:
    await sell(okx, "4")
    emu.account.force_close(ETH_ID, clock.ms, kind="adl", qty=Decimal(1))
    [pos] = await okx.fetch_positions()
    assert pos["side"] == "short" and pos["contracts"] == 3
    fills = await okx.fetch_my_trades(ETH)
    adl = next(f for f in fills if f["info"]["clOrdId"] == "")
    assert adl["side"] == "buy" and adl["info"]["subType"] == "127"  # ADL buy
    assert (await okx.fetch_order(adl["order"], ETH))["info"]["category"] == "adl"


async def test_live_key_loads_currencies_without_sandbox(clock: Clock) -> None:
    """With a live key ccxt's load_markets also asks /asset/currencies: served too."""
    emu = Emulator(
        Okx(PASSPHRASE, demo=False),
        api_key=KEY,
        secret=SECRET,
        account=Account(okx_markets()),
        now_ms=clock,
    )
    async with emu:
        okx = make_okx(emu, sandbox=False)
        try:
            await okx.load_markets()
            assert okx.currencies["USDT"]["networks"]["ERC20"]["withdraw"] is True
            await buy(okx, "1")
        finally:
            await okx.close()
    assert emu.count("/api/v5/asset/currencies") == 1
    assert all("x-simulated-trading" not in r.headers for r in emu.requests)
