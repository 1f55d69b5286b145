"""Risk guards on option legs: counted by delta, premium capped per order and per day."""

from __future__ import annotations

from decimal import Decimal as D

from bot.domain.market import Instrument, InstrumentKind, OptionType
from bot.domain.orders import HedgePosition, OrderIntent, Side
from bot.hedge.risk import RiskInputs, RiskLimits, check

NOW = 1_700_000_000_000
PUT = "ETH/USD:ETH-231201-1900-P"
PUT_INST = Instrument(
    "paper",
    PUT,
    "ETH",
    InstrumentKind.OPTION,
    amount_step=D(1),
    min_amount=D(1),
    price_step=D("0.0001"),
    inverse=True,
    settle="ETH",
    strike=D(1900),
    expiry_ms=NOW + 86_400_000,
    option_type=OptionType.PUT,
)
PERP = "ETH/USDT:USDT"


def buy(symbol: str, amount: str, limit: str | None = None, cid: str = "o") -> OrderIntent:
    return OrderIntent(
        "p",
        0,
        "paper",
        symbol,
        Side.BUY,
        D(amount),
        D(amount),
        False,
        cid,
        "t",
        D(2000),
        order_type="limit" if limit else "market",
        limit_price=D(limit) if limit else None,
    )


def inputs(**kw: object) -> RiskInputs:
    base: dict[str, object] = dict(
        now_ms=NOW,
        block_ts_ms=NOW,
        market_ts_ms=NOW,
        pool_prices={"ETH": D(2000)},
        marks={"ETH": D(2000)},
        option_deltas={PUT: -0.25},
    )
    base.update(kw)
    return RiskInputs(**base)  # type: ignore[arg-type]


def test_hedge_notional_counts_options_by_delta_not_size() -> None:
    limits = RiskLimits(max_hedge_notional_usd=D(100_000))
    # 100 puts of delta -0.25 are a 25 ETH = 50,000 USD hedge: passes, though 100 ETH of size
    v = check([buy(PUT, "100", "0.0100")], inputs(), limits, {PUT: PUT_INST})
    assert [i.amount for i in v.approved] == [D(100)]
    # held: 40 ETH short perp (-40) and 120 puts (-30 ETH): 70 ETH; 20 more puts would be 75
    held = [
        HedgePosition("paper", PERP, "ETH", D(-40), D(-40)),
        HedgePosition("paper", PUT, "ETH", D(120), D(120)),
    ]
    v = check([buy(PUT, "20", "0.0100")], inputs(hedges=held), RiskLimits(), {PUT: PUT_INST})
    assert v.approved  # 75 ETH = 150,000 USD < 1,000,000
    tight = RiskLimits(max_hedge_notional_usd=D(145_000))
    v = check([buy(PUT, "20", "0.0100")], inputs(hedges=held), tight, {PUT: PUT_INST})
    assert v.approved == ()
    assert "hedge would be 150000 USD (options by delta) > max 145000" in v.notes[0]


def test_order_notional_cap_uses_the_option_delta() -> None:
    limits = RiskLimits(max_order_notional_usd=D(10_000))
    # 40 puts x 0.25 x 2000 = 20,000 USD of delta notional -> 20 contracts
    v = check([buy(PUT, "40", "0.0100")], inputs(), limits, {PUT: PUT_INST})
    assert [i.amount for i in v.approved] == [D(20)]
    assert "capped to 10000 USD (40 -> 20 contracts)" in v.notes[0]


def test_premium_is_capped_per_order_and_per_day_with_the_reason() -> None:
    limits = RiskLimits(
        max_option_premium_per_order_usd=D(1000), max_option_premium_per_day_usd=D(1500)
    )
    # 10 contracts at a 0.1 ETH limit = 1 ETH = 2000 USD > 1000 per order -> 5 contracts
    v = check([buy(PUT, "10", "0.1000")], inputs(), limits, {PUT: PUT_INST})
    assert [i.amount for i in v.approved] == [D(5)]
    assert "option premium 2000.00 USD capped (max per order 1000 USD): 10 -> 5" in v.notes[0]
    # 1200 USD already paid today: 300 left -> 1 contract (200 USD); then nothing left
    two = [buy(PUT, "3", "0.1000", "a"), buy(PUT, "1", "0.1000", "b")]
    today = inputs(option_premium_today_usd=D(1200))
    v = check(two, today, limits, {PUT: PUT_INST})
    assert [(i.client_id, i.amount) for i in v.approved] == [("a", D(1))]
    assert "max per day 1500 USD, 1200.00 spent today" in v.notes[0]
    assert v.notes[1].startswith("b: held back, option premium 200.00 USD > max per day")


def test_perp_orders_are_not_premium_capped() -> None:
    limits = RiskLimits(max_option_premium_per_order_usd=D(1))
    v = check([buy(PERP, "1")], inputs(), limits, {})
    assert v.approved and not v.notes
