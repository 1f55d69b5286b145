"""Planner: venue rounding and minimums, reduce-only and flips, deterministic client ids.

Market rules as ccxt 4.5.90 builds them from the venues' own responses:
- Binance USD-M ETH/USDT:USDT: contractSize 1, LOT_SIZE stepSize/minQty 0.001 ETH,
  MIN_NOTIONAL 20 USDT.
- OKX ETH-USDT-SWAP: ctVal 0.1 ETH (ccxt contractSize), lotSz 0.01, minSz 0.01 contracts.
- Deribit BTC-PERPETUAL (inverse): contract_size 10 USD, min_trade_amount 10 (ccxt uses it
  for both precision.amount and limits.amount.min; see the recorded response in
  ccxt/deribit.py fetch_markets).
"""

from __future__ import annotations

import re
from decimal import Decimal as D

from bot.domain.market import Instrument
from bot.domain.orders import HedgePosition, HedgeTarget, Side
from bot.hedge.planner import client_id, plan

BINANCE = Instrument(
    "binanceusdm",
    "ETH/USDT:USDT",
    "ETH",
    amount_step=D("0.001"),
    min_amount=D("0.001"),
    min_cost=D(20),
)
OKX = Instrument(
    "okx",
    "ETH/USDT:USDT",
    "ETH",
    contract_size=D("0.1"),
    amount_step=D("0.01"),
    min_amount=D("0.01"),
)
DERIBIT = Instrument(
    "deribit",
    "BTC/USD:BTC",
    "BTC",
    contract_size=D(10),
    amount_step=D(10),
    min_amount=D(10),
    inverse=True,
    settle="BTC",
)


def target(asset: str, base: str, reason: str = "test") -> HedgeTarget:
    return HedgeTarget(asset, "", D(base), reason)


def test_binance_amount_rounds_toward_zero_to_the_step() -> None:
    p = plan([target("ETH", "-1.23456")], {}, {"ETH": BINANCE}, {"ETH": D(3000)}, "p1")
    (intent,) = p.intents
    assert intent.side is Side.SELL
    assert intent.amount == D("1.234")  # never 1.235: no more than the target
    assert intent.amount_base == D("1.234")
    assert intent.symbol == "ETH/USDT:USDT" and intent.reason == "test"
    assert not intent.reduce_only


def test_binance_min_notional_skips_with_reason() -> None:
    # 0.006 ETH * 3000 = 18 USDT < 20 USDT
    p = plan([target("ETH", "-0.006")], {}, {"ETH": BINANCE}, {"ETH": D(3000)}, "p1")
    assert p.intents == ()
    (skip,) = p.skipped
    assert "notional 18.00" in skip.reason and "20" in skip.reason


def test_okx_contracts_are_base_over_ct_val() -> None:
    p = plan([target("ETH", "-1.2345")], {}, {"ETH": OKX}, {"ETH": D(3000)}, "p1")
    (intent,) = p.intents
    assert intent.amount == D("12.34")  # 1.2345 ETH / 0.1 = 12.345 -> 12.34 contracts
    assert intent.amount_base == D("1.234")


def test_below_step_is_skipped() -> None:
    p = plan([target("ETH", "-0.0009")], {}, {"ETH": OKX}, {"ETH": D(3000)}, "p1")
    assert p.intents == () and "rounds to 0" in p.skipped[0].reason


def test_deribit_inverse_contracts_in_usd() -> None:
    # 0.5 BTC at 60,000 = 30,000 USD = 3000 contracts of 10 USD; 0.1234 BTC -> 7404 USD -> 7400
    p = plan([target("BTC", "-0.1234")], {}, {"BTC": DERIBIT}, {"BTC": D(60000)}, "p1")
    (intent,) = p.intents
    assert intent.amount == D(740)
    assert intent.amount_base == D(7400) / D(60000)
    p = plan([target("BTC", "-0.0001")], {}, {"BTC": DERIBIT}, {"BTC": D(60000)}, "p1")
    assert p.intents == ()  # 6 USD < one 10 USD contract


def test_reduce_only_when_shrinking_the_short() -> None:
    hedges = {"ETH": HedgePosition("binanceusdm", "ETH/USDT:USDT", "ETH", D(-2), D(-2))}
    p = plan([target("ETH", "-1.5")], hedges, {"ETH": BINANCE}, {"ETH": D(3000)}, "p1")
    (intent,) = p.intents
    assert intent.side is Side.BUY and intent.amount == D("0.5") and intent.reduce_only


def test_flip_splits_into_reduce_only_close_and_opening_leg() -> None:
    p = plan([target("ETH", "1")], {"ETH": D(-2)}, {"ETH": BINANCE}, {"ETH": D(3000)}, "p1")
    close, open_ = p.intents
    assert (close.side, close.amount, close.reduce_only) == (Side.BUY, D(2), True)
    assert (open_.side, open_.amount, open_.reduce_only) == (Side.BUY, D(1), False)
    assert (close.leg, open_.leg) == (0, 1)
    assert close.client_id != open_.client_id


def test_hold_targets_make_no_orders() -> None:
    hold = HedgeTarget("ETH", "", D(-5), "within band", act=False)
    assert plan([hold], {"ETH": D(-4)}, {"ETH": BINANCE}, {"ETH": D(3000)}, "p").intents == ()


def test_missing_instrument_is_skipped_with_a_fix() -> None:
    p = plan([target("SOL", "-3")], {}, {"ETH": BINANCE}, {"ETH": D(3000)}, "p1")
    assert p.intents == () and "no instrument for SOL" in p.skipped[0].reason


def test_client_ids_are_deterministic_32_hex() -> None:
    a = client_id("plan-7", 0, 0)
    assert re.fullmatch(r"[0-9a-f]{32}", a)
    assert a == client_id("plan-7", 0, 0)
    assert len({a, client_id("plan-7", 1, 0), client_id("plan-7", 0, 1), client_id("x", 0, 0)}) == 4
    p1 = plan([target("ETH", "-1")], {}, {"ETH": BINANCE}, {"ETH": D(3000)}, "plan-7", attempt=2)
    p2 = plan([target("ETH", "-1")], {}, {"ETH": BINANCE}, {"ETH": D(3000)}, "plan-7", attempt=2)
    assert p1 == p2 and p1.intents[0].client_id == client_id("plan-7", 0, 2)
