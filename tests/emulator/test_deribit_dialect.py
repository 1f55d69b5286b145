"""The Deribit dialect's inverse perpetuals beside its options, against a real ccxt `deribit`
object: instruments, tickers and funding, books, market and limit orders with labels and
reduce_only (amounts in USD, contracts of 1 and 10 USD), order lookups, positions, account
summaries, fills, the settlement history (funding settlements, option deliveries,
bankruptcies), and each Deribit error code as the ccxt exception class ccxt maps it to.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import ccxt.async_support as ccxt_async
import pytest
from ccxt.base import errors

from bot.clock import FixedClock
from tests.support.emulator import Account, Emulator, Fault
from tests.support.emulator.deribit import Deribit, deribit_markets
from tests.support.emulator.option_markets import NOW_MS, expiry, option_markets

KEY = "dRbT3stKey0123456789"
SECRET = "dRbT3stSecret9876543210abcdefXYZ"
ETH, BTC = "ETH/USD:ETH", "BTC/USD:BTC"
CALL = "ETH/USD:ETH-240531-3000-C"  # ETH-31MAY24-3000-C
API = "/api/v2"
DAY_MS = 86_400_000


def deribit_emulator(clock: FixedClock) -> Emulator:
    """Deribit (not started) with both perpetuals at marks 3000 / 60000, the ETH option grid
    and a BTC call priced at the same index, 10 ETH, 1 BTC and 1,000 USDC."""
    account = Account(
        deribit_markets(),
        options=option_markets("deribit"),
        underlying={"ETH": Decimal(3000), "BTC": Decimal(60000)},
        wallets={"ETH": Decimal(10), "BTC": Decimal(1), "USDC": Decimal(1000)},
    )
    return Emulator(Deribit(), api_key=KEY, secret=SECRET, account=account, now_ms=clock.now_ms)


def make_deribit(emu: Emulator, secret: str = SECRET) -> Any:
    ex = ccxt_async.deribit({"apiKey": KEY, "secret": secret, "enableRateLimit": False})
    ex.urls["api"] = emu.ccxt_urls(ex.urls["api"])
    ex.timeout_on_exit = 0  # ccxt waits 250 ms on close for TLS; none here
    return ex


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(ms=NOW_MS)  # 2024-04-16 08:00 UTC, a Deribit settlement time


@pytest.fixture
async def emu(clock: FixedClock) -> AsyncIterator[Emulator]:
    async with deribit_emulator(clock) as emulator:
        yield emulator


@pytest.fixture
async def ex(emu: Emulator) -> AsyncIterator[Any]:
    exchange = make_deribit(emu)
    try:
        await exchange.load_markets()
        yield exchange
    finally:
        await exchange.close()


def last_query(emu: Emulator, path: str) -> dict[str, str]:
    hit = [r for r in emu.requests if r.path == path]
    assert hit, f"no request to {path}"
    return {k: v[0] for k, v in parse_qs(hit[-1].query).items()}


def raw(emu: Emulator, path: str) -> Any:
    return next(json.loads(r.response) for r in reversed(emu.requests) if r.path == path)


def error_of(exc: BaseException) -> dict[str, Any]:
    """The Deribit error object ccxt's message carries ("deribit {body}")."""
    error: dict[str, Any] = json.loads(str(exc).removeprefix("deribit "))["error"]
    return error


def fee(usd: float, price: float) -> float:
    """Deribit's perp taker fee in the coin: 0.05 % of the USD amount at the fill price."""
    return usd * 0.0005 / price


# ---- instruments, tickers, books ------------------------------------------------------------


async def test_load_markets_lists_the_perpetuals_beside_the_options(emu: Emulator, ex: Any) -> None:
    eth, btc = ex.market(ETH), ex.market(BTC)
    assert (eth["id"], btc["id"]) == ("ETH-PERPETUAL", "BTC-PERPETUAL")
    for m, size, tick in ((eth, 1, 0.05), (btc, 10, 0.5)):
        assert m["type"] == "swap" and m["swap"] and m["inverse"] and not m["linear"]
        assert m["contractSize"] == size  # USD per contract
        assert m["precision"] == {"amount": size, "price": tick}  # amounts are USD
        assert m["limits"]["amount"]["min"] == size
        assert (m["taker"], m["maker"]) == (0.0005, 0.0)
        assert m["settle"] == m["base"] and m["quote"] == "USD" and m["active"]
        assert m["expiry"] == 32503708800000  # what Deribit sends for a perpetual
    options = [m for m in ex.markets.values() if m["option"]]
    assert len(options) == 3 * 4 * 2 + 1 and CALL in ex.markets
    # ccxt asks once, without kind or currency: every kind of every currency
    assert [r.query for r in emu.requests if r.path == f"{API}/public/get_instruments"] == [""]


async def test_get_instruments_filters_by_kind_and_currency(ex: Any) -> None:
    futures = (await ex.publicGetGetInstruments({"kind": "future"}))["result"]
    assert [r["instrument_name"] for r in futures] == ["ETH-PERPETUAL", "BTC-PERPETUAL"]
    eth = futures[0]
    assert (eth["kind"], eth["settlement_period"], eth["settlement_currency"]) == (
        "future",
        "perpetual",
        "ETH",
    )
    assert (eth["contract_size"], eth["min_trade_amount"], eth["tick_size"]) == (1.0, 1.0, 0.05)
    assert (eth["taker_commission"], eth["maker_commission"], eth["is_active"]) == (
        0.0005,
        0.0,
        True,
    )
    btc = (await ex.publicGetGetInstruments({"currency": "BTC", "kind": "future"}))["result"]
    assert [(r["instrument_name"], r["contract_size"], r["tick_size"]) for r in btc] == [
        ("BTC-PERPETUAL", 10.0, 0.5)
    ]
    opts = (await ex.publicGetGetInstruments({"currency": "ETH", "kind": "option"}))["result"]
    assert len(opts) == 24 and {r["kind"] for r in opts} == {"option"}


async def test_ticker_and_funding_rate(emu: Emulator, ex: Any) -> None:
    t = await ex.fetch_ticker(ETH)
    assert (t["bid"], t["ask"], t["markPrice"], t["indexPrice"]) == (2999.7, 3000.3, 3000, 3000)
    assert (t["info"]["funding_8h"], t["info"]["current_funding"]) == (0.0001, 0.0001)
    assert t["info"]["min_price"] == 2955.0 and t["info"]["max_price"] == 3045.0
    rate = await ex.fetch_funding_rate(ETH)
    assert rate["fundingRate"] == 0.0001 and rate["interval"] == "8h"  # 0.03 % a day
    q = last_query(emu, f"{API}/public/get_funding_rate_value")
    assert q["instrument_name"] == "ETH-PERPETUAL"
    assert int(q["end_timestamp"]) - int(q["start_timestamp"]) == 8 * 3_600_000
    await ex.create_order(ETH, "market", "buy", 100)
    assert (await ex.fetch_ticker(ETH))["last"] == 3000.3  # our fill is the last trade


async def test_order_book_levels_are_usd_amounts_on_the_tick_grid(emu: Emulator, ex: Any) -> None:
    book = await ex.fetch_order_book(ETH, 3)
    assert book["bids"] == [[2999.7, 5000.0], [2999.65, 10000.0], [2999.6, 15000.0]]
    assert book["asks"] == [[3000.3, 5000.0], [3000.35, 10000.0], [3000.4, 15000.0]]
    assert book["nonce"] is not None
    assert last_query(emu, f"{API}/public/get_order_book")["depth"] == "3"
    btc = await ex.fetch_order_book(BTC)
    assert btc["asks"][0] == [60006.0, 20000.0] and btc["bids"][0] == [59994.0, 20000.0]
    assert all(amount % 10 == 0 for _, amount in btc["bids"] + btc["asks"])


# ---- orders ----------------------------------------------------------------------------------


async def test_market_orders_with_labels_count_usd(emu: Emulator, ex: Any) -> None:
    """300 USD of ETH-PERPETUAL (300 contracts) and 1,000 USD of BTC-PERPETUAL (100 contracts
    of 10 USD): ccxt's amount, filled and Deribit's amount are USD, its cost the coin."""
    buy = await ex.create_order(ETH, "market", "buy", 300, None, {"label": "hedge-eth-1"})
    q = last_query(emu, f"{API}/private/buy")
    assert (q["instrument_name"], q["amount"], q["type"], q["label"]) == (
        "ETH-PERPETUAL",
        "300",
        "market",
        "hedge-eth-1",
    )
    assert buy["id"].startswith("ETH-") and buy["status"] == "closed"
    assert (buy["amount"], buy["filled"], buy["average"]) == (300, 300, 3000.3)
    assert buy["cost"] == pytest.approx(300 / 3000.3)  # ETH
    assert float(buy["fee"]["cost"]) == pytest.approx(fee(300, 3000.3))
    assert buy["fee"]["currency"] == "ETH"
    assert buy["info"]["label"] == "hedge-eth-1" and buy["info"]["contracts"] == 300
    assert buy["info"]["price"] == 3045.0  # a market order carries the band price
    assert [t["amount"] for t in buy["trades"]] == [300]
    assert emu.account.positions["ETH-PERPETUAL"].qty == 300
    assert emu.account.wallets["ETH"] == Decimal(10) - emu.account.trades[-1].fee

    sell = await ex.create_order(BTC, "market", "sell", 1000, None, {"label": "hedge-btc-1"})
    assert sell["id"].isdigit()  # BTC ids are bare numbers on Deribit
    assert (sell["amount"], sell["filled"], sell["average"]) == (1000, 1000, 59994.0)
    assert sell["info"]["contracts"] == 100 and sell["cost"] == pytest.approx(1000 / 59994)
    assert sell["fee"]["currency"] == "BTC"
    assert emu.account.positions["BTC-PERPETUAL"].qty == -100  # contracts of 10 USD


async def test_fetch_order_and_the_lookup_by_label(ex: Any) -> None:
    sent = await ex.create_order(ETH, "market", "buy", 200, None, {"label": "lp-7"})
    got = await ex.fetch_order(sent["id"], ETH)
    assert (got["id"], got["status"], got["filled"], got["average"]) == (
        sent["id"],
        "closed",
        200,
        3000.3,
    )
    again = await ex.create_order(ETH, "market", "sell", 50, None, {"label": "lp-7"})
    found = await ex.privateGetGetOrderStateByLabel({"currency": "ETH", "label": "lp-7"})
    orders = ex.parse_orders(found["result"], ex.market(ETH))
    # labels are not unique on Deribit: both, newest first from the venue
    assert [o["order_id"] for o in found["result"]] == [again["id"], sent["id"]]
    assert {o["id"] for o in orders} == {sent["id"], again["id"]}
    none = await ex.privateGetGetOrderStateByLabel({"currency": "BTC", "label": "lp-7"})
    assert none["result"] == []


async def test_reduce_only_reduces_and_refuses_to_open(emu: Emulator, ex: Any) -> None:
    await ex.create_order(ETH, "market", "buy", 300)
    closing = await ex.create_order(ETH, "market", "sell", 100, None, {"reduceOnly": True})
    assert last_query(emu, f"{API}/private/sell")["reduce_only"] == "true"
    assert closing["info"]["reduce_only"] is True
    assert emu.account.positions["ETH-PERPETUAL"].qty == 200
    pnl = emu.account.trades[-1].realized_pnl
    assert closing["info"]["profit_loss"] == pytest.approx(float(pnl)) and pnl < 0
    with pytest.raises(errors.ExchangeError) as refused:
        await ex.create_order(ETH, "market", "buy", 100, None, {"reduceOnly": True})
    assert type(refused.value) is errors.ExchangeError
    assert error_of(refused.value) == {"message": "other_reject reduce_only", "code": 11030}


async def test_limit_orders_rest_cancel_and_leave_the_history(emu: Emulator, ex: Any) -> None:
    filled = await ex.create_order(ETH, "market", "buy", 100)
    rest = await ex.create_order(ETH, "limit", "buy", 100, 2900, {"label": "rest"})
    assert rest["status"] == "open" and rest["price"] == 2900 and rest["filled"] == 0
    assert [o["id"] for o in await ex.fetch_open_orders(ETH)] == [rest["id"]]
    cancelled = await ex.cancel_order(rest["id"], ETH)
    assert cancelled["status"] == "canceled"
    assert cancelled["info"]["cancel_reason"] == "user_request"
    assert await ex.fetch_open_orders(ETH) == []
    # order history lists unfilled cancelled orders only when asked (ccxt does not ask)
    assert [o["id"] for o in await ex.fetch_closed_orders(ETH)] == [filled["id"]]
    assert last_query(emu, f"{API}/private/get_order_history_by_instrument")["count"] == "1000"
    every = await ex.fetch_closed_orders(ETH, None, None, {"include_unfilled": True})
    assert {o["id"] for o in every} == {filled["id"], rest["id"]}
    # a buy limit beyond max_price is clamped to it (Deribit futures), and crosses
    clamped = await ex.create_order(ETH, "limit", "buy", 100, 3100)
    assert clamped["price"] == 3045.0 and clamped["status"] == "closed"
    assert clamped["average"] == 3000.3


async def test_open_orders_and_history_by_currency(ex: Any) -> None:
    eth = await ex.create_order(ETH, "limit", "sell", 100, 3040)
    btc = await ex.create_order(BTC, "limit", "sell", 100, 61000)
    assert [o["id"] for o in await ex.fetch_open_orders(None, None, None, {"code": "ETH"})] == [
        eth["id"]
    ]
    assert [o["id"] for o in await ex.fetch_open_orders()] == [btc["id"]]  # ccxt's BTC default
    cancelled = await ex.cancelAllOrders(ETH)
    assert cancelled[0]["info"]["result"] == 1
    assert await ex.fetch_open_orders(ETH) == []


async def test_order_errors_are_deribits(emu: Emulator, ex: Any) -> None:
    async def fails(call: Any, cls: type[Exception], code: int) -> dict[str, Any]:
        with pytest.raises(cls) as caught:
            await call
        assert type(caught.value) is cls, f"{type(caught.value).__name__} for {code}"
        error = error_of(caught.value)
        assert error["code"] == code
        return error

    filled = await ex.create_order(ETH, "market", "buy", 100)
    await fails(ex.fetch_order("ETH-1", ETH), errors.OrderNotFound, 10004)
    await fails(ex.cancel_order(filled["id"], ETH), errors.OrderNotFound, 10010)
    # 10M USD at 20x needs 166 ETH of margin; the account has 10
    await fails(ex.create_order(ETH, "market", "buy", 10_000_000), errors.InsufficientFunds, 10009)
    await fails(
        ex.create_order(ETH, "limit", "sell", 100, 2990, {"postOnly": True}),
        errors.InvalidOrder,
        11054,
    )
    buy = {"instrument_name": "BTC-PERPETUAL", "type": "market"}
    error = await fails(ex.privateGetBuy({**buy, "amount": 15}), errors.BadRequest, -32602)
    assert error["data"] == {"reason": "must be a multiple of contract size", "param": "amount"}
    await fails(ex.privateGetBuy({**buy, "amount": 0}), errors.InvalidOrder, 10002)
    tick = {"instrument_name": "ETH-PERPETUAL", "type": "limit", "amount": 100}
    await fails(ex.privateGetBuy({**tick, "price": "2999.93"}), errors.InvalidOrder, 10043)
    await fails(
        ex.publicGetTicker({"instrument_name": "XRP-PERPETUAL"}), errors.ExchangeError, 10020
    )
    error = await fails(ex.privateGetGetUserTradesByInstrument({}), errors.BadRequest, -32602)
    assert error["data"]["param"] == "instrument_name"
    emu.inject(Fault("http429", method="GET", path=f"{API}/private/buy"))
    await fails(ex.create_order(ETH, "market", "buy", 100), errors.DDoSProtection, 10028)
    assert emu.account.positions["ETH-PERPETUAL"].qty == 100  # nothing of that went through


async def test_a_wrong_secret_is_invalid_credentials(emu: Emulator) -> None:
    bad = make_deribit(emu, secret="not-the-secret")
    try:
        with pytest.raises(errors.AuthenticationError) as caught:
            await bad.fetch_balance({"code": "ETH"})
        assert type(caught.value) is errors.AuthenticationError
        assert error_of(caught.value) == {"message": "invalid_credentials", "code": 13004}
    finally:
        await bad.close()


async def test_json_rpc_post_is_signed_over_its_body(emu: Emulator, ex: Any) -> None:
    """Deribit's other transport, for the new private methods too: a JSON-RPC body, signed
    over it, answered with the request's id."""
    await ex.create_order(ETH, "market", "sell", 500)
    uri = f"{API}/private/get_positions"
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 42,
            "method": "private/get_positions",
            "params": {"kind": "future"},
        }
    )
    ts, nonce = "1713254400000", "abcd"
    data = f"{ts}\n{nonce}\nPOST\n{uri}\n{body}\n"
    sig = hmac.new(SECRET.encode(), data.encode(), hashlib.sha256).hexdigest()
    auth = f"deri-hmac-sha256 id={KEY},ts={ts},sig={sig},nonce={nonce}"
    async with aiohttp.ClientSession() as http:
        async with http.post(emu.base_url + uri, data=body, headers={"Authorization": auth}) as r:
            ok = await r.json()
        async with http.post(
            emu.base_url + uri, data=body, headers={"Authorization": auth.replace(sig, "0" * 64)}
        ) as r:
            refused = (r.status, await r.json())
    assert ok["id"] == 42
    assert [(p["instrument_name"], p["size"]) for p in ok["result"]] == [("ETH-PERPETUAL", -500)]
    assert refused[0] == 400 and refused[1]["error"]["code"] == 13004


# ---- positions and balances --------------------------------------------------------------


async def test_positions_list_perpetuals_and_options_together(emu: Emulator, ex: Any) -> None:
    await ex.create_order(ETH, "market", "buy", 3000)  # 1 ETH worth, long
    await ex.create_order(BTC, "market", "sell", 1000)
    ask = (await ex.fetch_order_book(CALL))["asks"][0][0]
    await ex.create_order(CALL, "limit", "buy", 2, ask, {"timeInForce": "IOC"})
    emu.account.markets["ETH-PERPETUAL"].mark = Decimal("3100.00")
    rows = {p["symbol"]: p for p in await ex.fetch_positions()}
    assert "kind" not in last_query(emu, f"{API}/private/get_positions")
    assert set(rows) == {ETH, BTC, CALL}
    eth = rows[ETH]
    assert (eth["side"], eth["contracts"], eth["entryPrice"], eth["markPrice"]) == (
        "long",
        3000,
        3000.3,
        3100,
    )
    assert eth["unrealizedPnl"] == pytest.approx(3000 * (1 / 3000.3 - 1 / 3100))  # ETH
    assert eth["notional"] == pytest.approx(3000 / 3100)  # size_currency, ETH
    assert eth["initialMargin"] == pytest.approx(3000 / 20 / 3100) and eth["leverage"] == 20
    assert eth["liquidationPrice"] is not None and eth["liquidationPrice"] < 3000
    assert eth["info"]["kind"] == "future" and eth["info"]["direction"] == "buy"
    btc = rows[BTC]
    assert (btc["side"], btc["contracts"], btc["entryPrice"]) == ("short", -1000, 59994.0)
    assert btc["liquidationPrice"] is None  # a short inverse position fully collateralised
    assert (rows[CALL]["side"], rows[CALL]["contracts"]) == ("long", 2)
    futures = await ex.fetch_positions(None, {"kind": "future"})
    assert {p["symbol"] for p in futures} == {ETH, BTC}
    options = await ex.fetch_positions(None, {"currency": "ETH", "kind": "option"})
    assert [p["symbol"] for p in options] == [CALL]
    one = await ex.fetch_position(ETH)
    assert one["contracts"] == 3000 and one["unrealizedPnl"] == eth["unrealizedPnl"]
    flat = (await ex.privateGetGetPosition({"instrument_name": "ETH-PERPETUAL"}))["result"]
    assert flat["size"] == 3000
    emu.account.force_close("BTC-PERPETUAL", emu.clock_ms())
    zero = (await ex.privateGetGetPosition({"instrument_name": "BTC-PERPETUAL"}))["result"]
    assert (zero["size"], zero["direction"]) == (0, "zero")


async def test_balance_per_currency_is_the_accounts_margin(emu: Emulator, ex: Any) -> None:
    await ex.create_order(ETH, "market", "buy", 3000)
    ask = (await ex.fetch_order_book(CALL))["asks"][0][0]
    await ex.create_order(CALL, "limit", "buy", 1, ask, {"timeInForce": "IOC"})
    market = emu.account.markets["ETH-PERPETUAL"]
    market.mark = Decimal("3100.00")
    acct = emu.account
    pos = acct.positions["ETH-PERPETUAL"]
    upl = market.pnl(pos.qty, pos.entry, market.mark)
    om = acct.options["ETH-31MAY24-3000-C"]
    value = acct.option_mark(om, emu.clock_ms())  # one long call
    wallet = acct.wallets["ETH"]
    im = Decimal(3000) / 20 / Decimal(3100)

    one = await ex.fetch_balance({"code": "ETH"})
    assert last_query(emu, f"{API}/private/get_account_summary")["currency"] == "ETH"
    eth = one["ETH"]
    assert eth["total"] == pytest.approx(float(wallet + upl + value))  # equity
    assert eth["free"] == pytest.approx(float(wallet + upl - im))  # available_funds
    assert eth["free"] == pytest.approx(float(acct.available_in("ETH")))
    assert eth["used"] == pytest.approx(float(im / 2))  # maintenance margin
    info = one["info"]
    assert info["futures_session_upl"] == pytest.approx(float(upl))
    assert info["options_value"] == pytest.approx(float(value))
    assert info["delta_total"] == pytest.approx(3000 / 3100 + info["options_delta"], abs=1e-5)

    every = await ex.fetch_balance()
    assert any(r.path == f"{API}/private/get_account_summaries" for r in emu.requests)
    assert {c: every[c]["total"] for c in ("BTC", "USDC")} == {"BTC": 1, "USDC": 1000}
    assert every["ETH"] == eth


# ---- fills -----------------------------------------------------------------------------------


async def test_my_trades_since_a_time_in_usd_and_coin(
    emu: Emulator, ex: Any, clock: FixedClock
) -> None:
    opening = await ex.create_order(ETH, "market", "buy", 300, None, {"label": "open"})
    clock.advance(60)
    closing = await ex.create_order(ETH, "market", "sell", 100, None, {"label": "close"})
    fills = await ex.fetch_my_trades(ETH, NOW_MS + 1)
    q = last_query(emu, f"{API}/private/get_user_trades_by_instrument_and_time")
    assert (q["instrument_name"], q["start_timestamp"]) == ("ETH-PERPETUAL", str(NOW_MS + 1))
    assert len(fills) == 1
    t = fills[0]
    assert (t["order"], t["side"], t["amount"], t["price"]) == (closing["id"], "sell", 100, 2999.7)
    assert t["cost"] == pytest.approx(100 / 2999.7)  # ETH
    assert t["fee"]["cost"] == pytest.approx(fee(100, 2999.7)) and t["fee"]["currency"] == "ETH"
    assert t["takerOrMaker"] == "taker" and t["timestamp"] == NOW_MS + 60_000
    assert t["info"]["label"] == "close" and t["info"]["contracts"] == 100
    assert t["info"]["profit_loss"] == pytest.approx(100 * (1 / 3000.3 - 1 / 2999.7))
    assert t["id"].startswith("ETH-") and "liquidation" not in t["info"]
    both = await ex.fetch_my_trades(ETH)
    assert [x["order"] for x in both] == [opening["id"], closing["id"]]
    assert "start_timestamp" not in last_query(emu, f"{API}/private/get_user_trades_by_instrument")


async def test_user_trades_page_by_count_and_span_the_currency(emu: Emulator, ex: Any) -> None:
    for _ in range(6):
        await ex.create_order(ETH, "market", "buy", 10)
        await ex.create_order(ETH, "market", "sell", 10)
    ask = (await ex.fetch_order_book(CALL))["asks"][0][0]
    await ex.create_order(CALL, "limit", "buy", 1, ask, {"timeInForce": "IOC"})
    assert len(await ex.fetch_my_trades(ETH)) == 10  # Deribit's default count
    assert raw(emu, f"{API}/private/get_user_trades_by_instrument")["result"]["has_more"] is True
    assert len(await ex.fetch_my_trades(ETH, None, 1000)) == 12
    by_currency = await ex.fetch_my_trades(None, None, 100, {"code": "ETH"})
    assert last_query(emu, f"{API}/private/get_user_trades_by_currency")["currency"] == "ETH"
    assert {x["symbol"] for x in by_currency} == {ETH, CALL}
    futures = await ex.privateGetGetUserTradesByCurrency({"currency": "ETH", "kind": "future"})
    assert {r["instrument_name"] for r in futures["result"]["trades"]} == {"ETH-PERPETUAL"}


# ---- settlement history ------------------------------------------------------------------


async def settlement_rows(ex: Any, **params: Any) -> list[dict[str, Any]]:
    response = await ex.privateGetGetSettlementHistoryByCurrency(params)
    rows: list[dict[str, Any]] = response["result"]["settlements"]
    return rows


async def test_funding_settlements_from_the_accounts_settle_funding(
    emu: Emulator, ex: Any, clock: FixedClock
) -> None:
    """A 3,000 USD short across two daily settlements: each `settle_funding` is one
    "settlement" row with the funding received (the rate is > 0), the position, the mark
    it settled at and the session's PnL."""
    await ex.create_order(ETH, "market", "sell", 3000)
    acct, market = emu.account, emu.account.markets["ETH-PERPETUAL"]
    first, second = NOW_MS + DAY_MS, NOW_MS + 2 * DAY_MS
    wallet = acct.wallets["ETH"]
    clock.ms = first
    acct.settle_funding(first)
    rows = await settlement_rows(ex, currency="ETH", type="settlement")
    assert len(rows) == 1
    row = rows[0]
    assert (row["type"], row["instrument_name"], row["timestamp"]) == (
        "settlement",
        "ETH-PERPETUAL",
        first,
    )
    assert (row["position"], row["mark_price"], row["index_price"]) == (-3000, 3000, 3000)
    assert row["funding"] == pytest.approx(3000 / 3000 * 0.0003) and row["funding"] > 0
    assert acct.wallets["ETH"] - wallet == Decimal(str(row["funding"]))
    upl_first = float(market.pnl(Decimal(-3000), Decimal("2999.7"), Decimal(3000)))
    assert row["profit_loss"] == pytest.approx(upl_first)
    assert row["session_profit_loss"] == pytest.approx(upl_first + row["funding"])

    market.mark = Decimal("2900.00")
    clock.ms = second
    acct.settle_funding(second)
    rows = await settlement_rows(ex, currency="ETH", type="settlement")
    assert [r["timestamp"] for r in rows] == [second, first]  # newest first
    assert rows[0]["mark_price"] == 2900 and rows[0]["funding"] == pytest.approx(3000 / 2900 * 3e-4)
    upl_second = float(market.pnl(Decimal(-3000), Decimal("2999.7"), Decimal(2900)))
    assert rows[0]["profit_loss"] == pytest.approx(upl_second - upl_first)
    funding = sum(i.amount for i in acct.incomes if i.kind == "FUNDING_FEE")
    assert sum(r["funding"] for r in rows) == pytest.approx(float(funding))
    position = await ex.fetch_position(ETH)
    assert position["info"]["realized_funding"] == pytest.approx(float(funding))
    assert position["info"]["settlement_price"] == 2900

    page = await ex.privateGetGetSettlementHistoryByCurrency(
        {"currency": "ETH", "type": "settlement", "count": 1}
    )
    token = page["result"]["continuation"]
    assert [r["timestamp"] for r in page["result"]["settlements"]] == [second] and token
    rest = await ex.privateGetGetSettlementHistoryByCurrency(
        {"currency": "ETH", "type": "settlement", "count": 1, "continuation": token}
    )
    assert [r["timestamp"] for r in rest["result"]["settlements"]] == [first]
    assert rest["result"]["continuation"] is None
    before = await settlement_rows(ex, currency="ETH", search_start_timestamp=first)
    assert [r["timestamp"] for r in before] == [first]  # Deribit searches back from it
    assert await settlement_rows(ex, currency="ETH", type="delivery") == []
    assert await settlement_rows(ex, currency="BTC", type="settlement") == []
    by_instrument = await ex.privateGetGetSettlementHistoryByInstrument(
        {"instrument_name": "ETH-PERPETUAL", "type": "settlement"}
    )
    assert len(by_instrument["result"]["settlements"]) == 2


async def test_options_held_at_expiry_are_delivered(
    emu: Emulator, ex: Any, clock: FixedClock
) -> None:
    """Two ETH-26APR24-2800-C held through their expiry pay (3100 - 2800) / 3100 ETH each at
    the index then; the position closes and a "delivery" row records it."""
    symbol = "ETH/USD:ETH-240426-2800-C"
    ask = (await ex.fetch_order_book(symbol))["asks"][0][0]
    await ex.create_order(symbol, "limit", "buy", 2, ask, {"timeInForce": "IOC"})
    acct = emu.account
    entry = acct.option_positions["ETH-26APR24-2800-C"].entry
    wallet = acct.wallets["ETH"]
    clock.ms = expiry(2024, 4, 26) + 60_000
    acct.underlying["ETH"] = Decimal(3100)
    rows = await settlement_rows(ex, currency="ETH", type="delivery")
    value = (Decimal(300) / Decimal(3100)).quantize(Decimal("0.00000001"))
    assert len(rows) == 1
    row = rows[0]
    assert (row["instrument_name"], row["position"], row["index_price"]) == (
        "ETH-26APR24-2800-C",
        2,
        3100,
    )
    assert (row["type"], row["timestamp"], row["mark_price"]) == (
        "delivery",
        expiry(2024, 4, 26),
        float(value),
    )
    assert row["profit_loss"] == pytest.approx(float((value - entry) * 2))
    assert acct.wallets["ETH"] == wallet + 2 * value
    assert symbol not in {p["symbol"] for p in await ex.fetch_positions()}
    assert len(await settlement_rows(ex, currency="ETH")) == 1  # delivered once


async def test_a_liquidation_is_a_flagged_fill_and_a_bankruptcy_row(
    emu: Emulator, ex: Any, clock: FixedClock
) -> None:
    await ex.create_order(ETH, "market", "buy", 3000, None, {"label": "hedge"})
    clock.advance(60)
    forced = emu.account.force_close("ETH-PERPETUAL", clock.now_ms(), price=Decimal("2700.00"))
    fills = await ex.fetch_my_trades(ETH)
    last = fills[-1]
    assert (last["side"], last["amount"], last["price"]) == ("sell", 3000, 2700)
    assert last["info"]["liquidation"] == "T" and last["info"]["label"] == ""
    assert "liquidation" not in fills[0]["info"]
    order = await ex.fetch_order(last["order"], ETH)
    assert order["info"]["is_liquidation"] is True and order["status"] == "closed"
    found = await ex.privateGetGetOrderStateByLabel({"currency": "ETH", "label": ""})
    assert found["result"] == []  # the venue's order, not ours
    liquidations = await ex.fetch_my_liquidations(ETH)
    q = last_query(emu, f"{API}/private/get_settlement_history_by_instrument")
    assert (q["instrument_name"], q["type"]) == ("ETH-PERPETUAL", "bankruptcy")
    trade = emu.account.trades_of(forced)[0]
    loss = -(trade.realized_pnl - trade.fee)
    assert [(x["symbol"], x["timestamp"]) for x in liquidations] == [(ETH, clock.now_ms())]
    assert liquidations[0]["baseValue"] == pytest.approx(float(loss)) and loss > 0
    assert await ex.fetch_positions() == []
