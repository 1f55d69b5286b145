"""ccxt's hyperliquid against the Hyperliquid dialect: what goes on the wire (IOC limit with
slippage, cloid, reduce-only, the builder fee ccxt attaches), what ccxt parses back (fills,
positions, balance, funding, liquidations), Hyperliquid's per-order errors as the ccxt
exception each maps to, and the signature check: recovered EIP-712 signers, mainnet vs
testnet source byte, canonical field order and numbers, API wallets, duplicate nonces."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt.async_support as ccxt
import pytest

from tests.support.emulator import Emulator, Fault
from tests.support.emulator.hyperliquid import (
    TEST_PRIVATE_KEY,
    Hyperliquid,
    address_of,
    ccxt_hyperliquid,
    hyperliquid_account,
)

WALLET = address_of(TEST_PRIVATE_KEY)
OTHER_KEY = "0x8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f"
AGENT_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
ETH, BTC = "ETH/USDC:USDC", "BTC/USDC:USDC"
CLOID = "0x" + "1" * 32


def hl_emulator(dialect: Hyperliquid | None = None) -> Emulator:
    """An emulator (not started) for the test wallet: BTC, ETH, 10,000 USDC."""
    return Emulator(
        dialect or Hyperliquid(), WALLET, TEST_PRIVATE_KEY, account=hyperliquid_account()
    )


@pytest.fixture
async def emu() -> AsyncIterator[Emulator]:
    async with hl_emulator() as e:
        yield e


@pytest.fixture
async def hl(emu: Emulator) -> AsyncIterator[Any]:
    exchange = ccxt_hyperliquid(emu)
    yield exchange
    await exchange.close()


def actions(emu: Emulator, kind: str) -> list[dict[str, Any]]:
    """The signed actions of `kind` the emulator received, in order."""
    out = []
    for r in emu.requests:
        if r.path == "/exchange":
            action = json.loads(r.body)["action"]
            if action.get("type") == kind:
                out.append(action)
    return out


def info_types(emu: Emulator) -> list[str]:
    return [json.loads(r.body)["type"] for r in emu.requests if r.path == "/info"]


async def test_load_markets_lists_usdc_perps_only(emu: Emulator, hl: Any) -> None:
    markets = await hl.load_markets()
    assert sorted(markets) == [BTC, ETH]
    eth, btc = markets[ETH], markets[BTC]
    assert eth["id"] == "1" and btc["id"] == "0"  # Hyperliquid's asset indices
    assert eth["swap"] and eth["settle"] == "USDC" and eth["linear"]
    assert eth["precision"] == {"amount": 0.0001, "price": 0.1}  # szDecimals 4, 5 sig. figs
    assert btc["precision"] == {"amount": 0.00001, "price": 1.0}
    assert eth["limits"]["cost"]["min"] == 10 and eth["limits"]["leverage"]["max"] == 50
    assert "spotMetaAndAssetCtxs" not in info_types(emu)
    assert {"spotMeta", "metaAndAssetCtxs"} <= set(info_types(emu))


async def test_ccxt_default_market_types_find_no_spot_or_hip3(emu: Emulator) -> None:
    options = {"fetchMarkets": {"types": ["spot", "swap", "hip3"]}}
    exchange = ccxt_hyperliquid(emu, options=options)
    try:
        assert sorted(await exchange.load_markets()) == [BTC, ETH]
    finally:
        await exchange.close()
    assert {"spotMetaAndAssetCtxs", "perpDexs"} <= set(info_types(emu))


async def test_funding_rate_carries_mark_and_hourly_rate(hl: Any) -> None:
    rate = await hl.fetch_funding_rate(ETH)
    assert rate["markPrice"] == 3000.0 and rate["indexPrice"] == 3000.0
    assert rate["fundingRate"] == 0.0000125 and rate["interval"] == "1h"
    rates = await hl.fetch_funding_rates([ETH, BTC])
    assert rates[BTC]["markPrice"] == 60000.0


async def test_order_book_is_the_book_the_account_fills_against(emu: Emulator, hl: Any) -> None:
    book = await hl.fetch_order_book(ETH)
    assert book["bids"][0][0] == 2999.7 and book["asks"][0][0] == 3000.3  # mark -/+ 1 bp
    assert len(book["bids"]) == 5 and book["bids"][1][0] == 2999.6
    [body] = [json.loads(r.body) for r in emu.requests if '"l2Book"' in r.body]
    assert body == {"type": "l2Book", "coin": "ETH"}


async def test_market_buy_is_an_ioc_limit_at_slippage_with_cloid(emu: Emulator, hl: Any) -> None:
    params = {"slippage": "0.05", "clientOrderId": CLOID}
    order = await hl.create_order(ETH, "market", "buy", 0.1, 3000, params)
    [action] = actions(emu, "order")
    assert action["orders"] == [
        {"a": 1, "b": True, "p": "3150", "s": "0.1", "r": False, "t": {"limit": {"tif": "Ioc"}}}
        | {"c": CLOID}
    ]
    assert order["filled"] == 0.1 and order["average"] == 3000.3  # mark + 1 bp, not 3150
    assert order["clientOrderId"] == CLOID and order["id"].isdigit()
    assert emu.account.positions["ETH"].qty == Decimal("0.1")
    await hl.create_order(ETH, "market", "sell", 0.05, 3000, {"slippage": "0.05"})
    assert actions(emu, "order")[1]["orders"][0]["p"] == "2850"
    assert emu.account.positions["ETH"].qty == Decimal("0.05")


async def test_fetch_order_by_cloid_and_by_oid(hl: Any) -> None:
    placed = await hl.create_order(ETH, "market", "buy", 0.1, 3000, {"clientOrderId": CLOID})
    by_cloid = await hl.fetch_order(None, ETH, {"clientOrderId": CLOID})
    by_oid = await hl.fetch_order(placed["id"], ETH)
    for found in (by_cloid, by_oid):
        assert found["id"] == placed["id"] and found["clientOrderId"] == CLOID
        assert found["status"] == "closed" and found["filled"] == 0.1
        assert found["side"] == "buy" and found["timeInForce"] == "IOC"
        assert found["symbol"] == ETH and found["price"] == 3150
    with pytest.raises(ccxt.OrderNotFound):
        await hl.fetch_order("424242", ETH)
    with pytest.raises(ccxt.OrderNotFound):
        await hl.fetch_order(None, ETH, {"clientOrderId": "0x" + "2" * 32})


async def test_reduce_only_closes_and_never_flips(emu: Emulator, hl: Any) -> None:
    await hl.create_order(ETH, "market", "sell", 0.3, 3000)
    closed = await hl.create_order(ETH, "market", "buy", 0.1, 3000, {"reduceOnly": True})
    assert closed["filled"] == 0.1 and actions(emu, "order")[1]["orders"][0]["r"] is True
    with pytest.raises(ccxt.InvalidOrder, match=r"Reduce only order would increase position\."):
        await hl.create_order(ETH, "market", "buy", 0.5, 3000, {"reduceOnly": True})
    assert emu.account.positions["ETH"].qty == Decimal("-0.2")


async def test_insufficient_margin_is_insufficient_funds(emu: Emulator, hl: Any) -> None:
    emu.account.balance = Decimal(10)  # 10 USDC cannot margin 1 ETH at 20x
    with pytest.raises(ccxt.InsufficientFunds, match=r"Insufficient margin .* asset=1"):
        await hl.create_order(ETH, "market", "buy", 1, 3000)
    assert emu.account.orders == {}


async def test_below_ten_dollars_is_invalid_order(emu: Emulator, hl: Any) -> None:
    with pytest.raises(ccxt.InvalidOrder, match=r"minimum value of \$10\. asset=1"):
        await hl.create_order(ETH, "market", "buy", 0.003, 3000)  # 9 USDC
    assert emu.account.orders == {}


async def test_resting_limit_open_then_cancel_by_oid_and_cloid(emu: Emulator, hl: Any) -> None:
    rest = await hl.create_order(ETH, "limit", "buy", 0.1, 2500)
    assert rest["info"] == {"resting": {"oid": int(rest["id"])}}
    await hl.create_order(BTC, "limit", "sell", 0.001, 65000, {"clientOrderId": CLOID})
    opened = {o["symbol"]: o for o in await hl.fetch_open_orders()}
    assert opened[ETH]["price"] == 2500 and opened[ETH]["amount"] == 0.1
    assert opened[ETH]["status"] == "open" and opened[BTC]["clientOrderId"] == CLOID
    await hl.cancel_order(rest["id"], ETH)
    assert actions(emu, "cancel") == [
        {"type": "cancel", "cancels": [{"a": 1, "o": int(rest["id"])}]}
    ]
    await hl.cancel_order(None, BTC, {"clientOrderId": CLOID})
    assert actions(emu, "cancelByCloid")[0]["cancels"] == [{"asset": 0, "cloid": CLOID}]
    assert await hl.fetch_open_orders() == []
    done = await hl.fetch_canceled_and_closed_orders(ETH)
    assert [(o["id"], o["status"], o["remaining"]) for o in done] == [(rest["id"], "canceled", 0.1)]
    with pytest.raises(ccxt.OrderNotFound, match="never placed, already canceled, or filled"):
        await hl.cancel_order(rest["id"], ETH)


async def test_unmarketable_ioc_and_crossing_post_only_are_refused(emu: Emulator, hl: Any) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="could not immediately match"):
        await hl.create_order(ETH, "limit", "buy", 0.1, 2900, {"timeInForce": "IOC"})
    assert await hl.fetch_closed_orders(ETH) == []  # rejected, not closed
    [rejected] = await hl.fetch_canceled_and_closed_orders(ETH)
    assert rejected["status"] == "rejected" and rejected["info"]["status"] == "iocCancelRejected"
    with pytest.raises(ccxt.InvalidOrder, match=r"Post only .* bbo was 2999\.7@3000\.3"):
        await hl.create_order(ETH, "limit", "buy", 0.1, 3100, {"postOnly": True})
    post = await hl.create_order(ETH, "limit", "buy", 0.1, 2990, {"postOnly": True})
    assert actions(emu, "order")[-1]["orders"][0]["t"] == {"limit": {"tif": "Alo"}}
    assert (await hl.fetch_order(post["id"], ETH))["postOnly"] is True


async def test_positions_and_balance_from_clearinghouse_state(emu: Emulator, hl: Any) -> None:
    await hl.create_order(ETH, "market", "buy", 1, 3000)
    await hl.create_order(BTC, "market", "sell", 0.01, 60000)
    emu.account.markets["ETH"].mark = Decimal(3100)
    positions = {p["symbol"]: p for p in await hl.fetch_positions()}
    eth, btc = positions[ETH], positions[BTC]
    assert eth["side"] == "long" and eth["contracts"] == 1 and eth["entryPrice"] == 3000.3
    assert eth["unrealizedPnl"] == pytest.approx(99.7) and eth["markPrice"] == 3100
    assert eth["leverage"] == 20 and eth["marginMode"] == "cross"
    assert eth["info"]["position"]["leverage"] == {"type": "cross", "value": 20}
    assert eth["liquidationPrice"] is None  # 10,000 USDC behind 1 ETH long: never
    assert btc["side"] == "short" and btc["contracts"] == 0.01 and btc["entryPrice"] == 59994
    assert btc["liquidationPrice"] > 600_000  # a short liquidates far above the mark
    state = json.loads(emu.requests[-1].response)
    assert state["marginSummary"]["totalNtlPos"] == "3700.0"  # 3100 + 600
    balance = await hl.fetch_balance()
    value = emu.account.balance + Decimal("99.7") + Decimal("-0.06")
    assert balance["USDC"]["total"] == pytest.approx(float(value))
    assert balance["USDC"]["used"] == pytest.approx(185.0)  # 3100/20 + 600/20


async def test_my_trades_carry_fees_pnl_and_start_position(emu: Emulator, hl: Any) -> None:
    since = emu.clock_ms()
    await hl.create_order(ETH, "market", "buy", 0.2, 3000, {"clientOrderId": CLOID})
    emu.account.markets["ETH"].mark = Decimal(3100)
    await hl.create_order(ETH, "market", "sell", 0.3, 3100)
    trades = await hl.fetch_my_trades(None, since)
    assert '"userFillsByTime"' in next(r.body for r in emu.requests if "userFills" in r.body)
    opened, flipped = trades
    assert opened["side"] == "buy" and opened["price"] == 3000.3 and opened["amount"] == 0.2
    assert opened["info"]["cloid"] == CLOID and opened["info"]["dir"] == "Open Long"
    assert flipped["info"]["dir"] == "Long > Short" and flipped["info"]["startPosition"] == "0.2"
    assert flipped["info"]["closedPnl"] == "19.88"  # 0.2 x (3099.7 - 3000.3)
    assert opened["takerOrMaker"] == "taker" and opened["fee"]["currency"] == "USDC"
    builder_fee = Decimal(opened["info"]["builderFee"])  # ccxt's builder: 1 bp on top
    assert builder_fee == Decimal("0.060006")
    assert Decimal(str(opened["fee"]["cost"])) == Decimal("0.270027") + builder_fee


async def test_builder_fee_is_approved_by_the_user_and_charged(emu: Emulator, hl: Any) -> None:
    await hl.load_markets()
    [approve] = actions(emu, "approveBuilderFee")
    assert approve["maxFeeRate"] == "0.01%" and approve["hyperliquidChain"] == "Mainnet"
    before = emu.account.balance
    await hl.create_order(ETH, "market", "buy", 0.1, 3000)
    assert actions(emu, "order")[0]["builder"]["f"] == 10  # tenths of a bp
    assert before - emu.account.balance == Decimal("0.1350135") + Decimal("0.030003")


async def test_builder_fee_off_attaches_a_zero_fee(emu: Emulator) -> None:
    exchange = ccxt_hyperliquid(emu, options={"builderFee": False})
    try:
        await exchange.create_order(ETH, "market", "buy", 0.1, 3000)
        [trade] = await exchange.fetch_my_trades(ETH)
    finally:
        await exchange.close()
    assert actions(emu, "approveBuilderFee")[0]["maxFeeRate"] == "0%"
    assert actions(emu, "order")[0]["builder"]["f"] == 0
    assert "builderFee" not in trade["info"] and trade["fee"]["cost"] == 0.135014


async def test_funding_history_is_hourly_and_signed_as_paid(emu: Emulator, hl: Any) -> None:
    await hl.create_order(ETH, "market", "buy", 1, 3000)
    for hour in (1, 2):
        emu.account.settle_funding(emu.clock_ms() + hour * 3_600_000)
    payments = await hl.fetch_funding_history(ETH, 0)
    assert [p["amount"] for p in payments] == [-0.0375, -0.0375]  # 1 ETH x 3000 x 0.00125 %
    assert payments[0]["rate"] == 0.0000125 and payments[0]["code"] == "USDC"
    assert payments[0]["info"]["delta"]["szi"] == "1.0" and payments[0]["symbol"] == ETH
    [position] = await hl.fetch_positions([ETH])
    assert position["info"]["position"]["cumFunding"]["allTime"] == "0.075"  # paid > 0


async def test_liquidation_and_adl_show_as_fills(emu: Emulator, hl: Any) -> None:
    since = emu.clock_ms()
    await hl.create_order(ETH, "market", "buy", 0.5, 3000)
    emu.account.force_close("ETH", emu.clock_ms(), price=Decimal(2900))
    [liq] = await hl.fetch_my_liquidations(ETH, since)
    assert liq["contracts"] == 0.5 and liq["price"] == 2900 and liq["side"] == "sell"
    assert liq["quoteValue"] == 1450 and liq["symbol"] == ETH
    assert liq["info"]["liquidation"]["liquidatedUser"] == WALLET.lower()
    assert liq["info"]["closedPnl"] == "-50.15" and liq["info"]["dir"] == "Close Long"
    await hl.create_order(ETH, "market", "sell", 0.1, 3000)
    emu.account.force_close("ETH", emu.clock_ms(), kind="adl")
    fills = await hl.fetch_my_trades(ETH, since)
    assert [t["info"]["dir"] for t in fills] == [
        "Open Long",
        "Close Long",
        "Open Short",
        "Auto-Deleveraging",
    ]
    assert len(await hl.fetch_my_liquidations(ETH, since)) == 1  # ADL is no liquidation
    assert emu.account.positions["ETH"].qty == 0


async def test_set_leverage_and_margin_mode_are_update_leverage(emu: Emulator, hl: Any) -> None:
    await hl.set_leverage(10, ETH, {"marginMode": "cross"})
    assert actions(emu, "updateLeverage") == [
        {"type": "updateLeverage", "asset": 1, "isCross": True, "leverage": 10}
    ]
    assert emu.account.leverage_of("ETH") == 10
    with pytest.raises(ccxt.ExchangeError, match="Invalid leverage value"):
        await hl.set_leverage(51, ETH)  # ETH's max is 50
    await hl.set_margin_mode("isolated", ETH, {"leverage": 5})
    assert emu.account.margin_mode_of("ETH") == "isolated"
    await hl.create_order(ETH, "market", "buy", 0.1, 3000)
    [pos] = await hl.fetch_positions([ETH])
    assert pos["marginMode"] == "isolated" and pos["isolated"] and pos["leverage"] == 5
    assert pos["info"]["position"]["leverage"]["rawUsd"] == "-240.024"  # 60.006 - 300.03
    assert pos["liquidationPrice"] == pytest.approx(2424.48, abs=0.01)
    with pytest.raises(ccxt.ExchangeError, match="Cannot switch leverage type"):
        await hl.set_margin_mode("cross", ETH, {"leverage": 5})


async def test_wrong_key_is_no_such_user_or_api_wallet(emu: Emulator) -> None:
    exchange = ccxt_hyperliquid(emu, OTHER_KEY, wallet=WALLET)
    try:
        with pytest.raises(ccxt.InvalidOrder, match=r"User or API Wallet 0x[0-9a-f]{40} does"):
            await exchange.create_order(ETH, "market", "buy", 0.1, 3000)
    finally:
        await exchange.close()
    answer = json.loads(emu.requests[-1].response)
    assert answer == {
        "status": "err",
        "response": f"User or API Wallet {address_of(OTHER_KEY).lower()} does not exist.",
    }
    assert emu.requests[-1].status == 200 and emu.account.orders == {}


@pytest.mark.parametrize(("server_testnet", "client_testnet"), [(True, True), (False, False)])
async def test_each_chain_accepts_its_own_source_byte(
    server_testnet: bool, client_testnet: bool
) -> None:
    async with hl_emulator(Hyperliquid(testnet=server_testnet)) as emu:
        exchange = ccxt_hyperliquid(emu, testnet=client_testnet)
        try:
            await exchange.create_order(ETH, "market", "buy", 0.1, 3000)
        finally:
            await exchange.close()
        chain = "Testnet" if client_testnet else "Mainnet"
        assert actions(emu, "approveBuilderFee")[0]["hyperliquidChain"] == chain
        assert emu.dialect.builders  # the user-signed action verified too
        assert emu.account.positions["ETH"].qty == Decimal("0.1")


@pytest.mark.parametrize(("server_testnet", "client_testnet"), [(True, False), (False, True)])
async def test_a_signature_for_the_other_chain_is_refused(
    server_testnet: bool, client_testnet: bool
) -> None:
    async with hl_emulator(Hyperliquid(testnet=server_testnet)) as emu:
        exchange = ccxt_hyperliquid(emu, testnet=client_testnet)
        try:
            with pytest.raises(ccxt.InvalidOrder, match="User or API Wallet"):
                await exchange.create_order(ETH, "market", "buy", 0.1, 3000)
        finally:
            await exchange.close()
        assert emu.account.orders == {} and emu.dialect.builders == {}


async def test_api_wallet_signs_for_the_account_but_not_user_actions() -> None:
    agent = address_of(AGENT_KEY)
    async with hl_emulator(Hyperliquid(agents=[agent])) as emu:
        exchange = ccxt_hyperliquid(emu, AGENT_KEY, wallet=WALLET)
        try:
            order = await exchange.create_order(ETH, "market", "buy", 0.1, 3000)
            [position] = await exchange.fetch_positions()
        finally:
            await exchange.close()
        assert order["filled"] == 0.1 and position["contracts"] == 0.1
        # approveBuilderFee must be the user's own signature: refused, so ccxt sends no builder
        assert emu.dialect.builders == {} and "builder" not in actions(emu, "order")[0]


async def post(emu: Emulator, body: dict[str, Any]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(emu.base_url + "/exchange", json=body) as resp,
    ):
        text = await resp.text()
        return resp.status, json.loads(text) if resp.status == 200 else text


def signed(hl: Any, action: dict[str, Any]) -> dict[str, Any]:
    """`action` signed by ccxt's own L1 signer, exactly as given (field order included)."""
    nonce = hl.incrementing_nonce()
    return {"action": action, "nonce": nonce, "signature": hl.sign_l1_action(action, nonce)}


def eth_ioc(px: str = "3150", sz: str = "0.1") -> dict[str, Any]:
    wire = {"a": 1, "b": True, "p": px, "s": sz, "r": False, "t": {"limit": {"tif": "Ioc"}}}
    return {"type": "order", "orders": [wire], "grouping": "na"}


async def test_the_signature_covers_the_canonical_action(emu: Emulator, hl: Any) -> None:
    await hl.load_markets()
    status, answer = await post(emu, signed(hl, eth_ioc()))
    assert status == 200 and "filled" in answer["response"]["data"]["statuses"][0]
    tampered = signed(hl, eth_ioc())
    tampered["action"]["orders"][0]["s"] = "1"
    reordered = eth_ioc()
    reordered["orders"] = [dict(reversed(list(reordered["orders"][0].items())))]
    for body in (tampered, signed(hl, reordered), signed(hl, eth_ioc(px="3150.0"))):
        status, answer = await post(emu, body)
        assert status == 200 and answer["status"] == "err"
        assert answer["response"].startswith("User or API Wallet 0x")
    assert emu.account.positions["ETH"].qty == Decimal("0.1")


async def test_a_replayed_request_is_a_duplicate_nonce(emu: Emulator, hl: Any) -> None:
    await hl.load_markets()
    body = signed(hl, eth_ioc())
    assert (await post(emu, body))[1]["status"] == "ok"
    _, answer = await post(emu, body)
    assert answer == {
        "status": "err",
        "response": f"Invalid nonce: duplicate nonce {body['nonce']}",
    }
    assert emu.account.positions["ETH"].qty == Decimal("0.1")


async def test_prices_off_the_grid_and_bad_cloids(emu: Emulator, hl: Any) -> None:
    await hl.load_markets()
    _, answer = await post(emu, signed(hl, eth_ioc(px="3150.05")))  # 6 significant figures
    assert answer["response"]["data"]["statuses"] == [
        {"error": "Price must be divisible by tick size. asset=1"}
    ]
    _, answer = await post(emu, signed(hl, eth_ioc(px="9000")))
    assert "80% away from the reference price" in answer["response"]["data"]["statuses"][0]["error"]
    bad_cloid = eth_ioc()
    bad_cloid["orders"][0]["c"] = "my-order-1"
    status, text = await post(emu, signed(hl, bad_cloid))
    assert status == 422 and "Failed to deserialize" in text
    assert emu.account.orders == {}


async def test_rate_limit_is_retryable_and_nothing_was_placed(emu: Emulator, hl: Any) -> None:
    await hl.load_markets()
    emu.inject(Fault("http429", path="/exchange"))
    with pytest.raises(ccxt.RateLimitExceeded):
        await hl.create_order(ETH, "market", "buy", 0.1, 3000, {"clientOrderId": CLOID})
    assert emu.account.orders == {}
    assert (await hl.create_order(ETH, "market", "buy", 0.1, 3000))["filled"] == 0.1


async def test_timeout_after_accept_then_lookup_by_cloid(emu: Emulator) -> None:
    exchange = ccxt_hyperliquid(emu)
    exchange.timeout = 300
    try:
        await exchange.load_markets()
        emu.inject(Fault("timeout_after_accept", path="/exchange", delay_s=1.0))
        with pytest.raises(ccxt.RequestTimeout):
            await exchange.create_order(ETH, "market", "buy", 0.1, 3000, {"clientOrderId": CLOID})
        found = await exchange.fetch_order(None, ETH, {"clientOrderId": CLOID})
    finally:
        await exchange.close()
    assert found["status"] == "closed" and found["filled"] == 0.1
    assert len(actions(emu, "order")) == 1 and len(emu.account.orders) == 1


async def test_another_address_reads_as_an_empty_account(emu: Emulator, hl: Any) -> None:
    await hl.create_order(ETH, "market", "buy", 0.1, 3000)
    someone = {"user": address_of(OTHER_KEY)}
    assert await hl.fetch_positions(None, someone) == []
    assert await hl.fetch_my_trades(ETH, None, None, someone) == []
    assert (await hl.fetch_balance(someone))["USDC"]["total"] == 0
