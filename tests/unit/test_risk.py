from decimal import Decimal

from bot.domain.orders import HedgePosition, OrderIntent, Side
from bot.hedge.risk import RiskInputs, RiskLimits, check

NOW = 1_700_000_000_000
D = Decimal


def intent(
    amount: str, side: Side = Side.SELL, reduce_only: bool = False, cid: str = "a"
) -> OrderIntent:
    return OrderIntent(
        plan_id="p",
        leg=0,
        venue="paper",
        symbol="ETH/USDT:USDT",
        side=side,
        amount=D(amount),
        amount_base=D(amount),
        reduce_only=reduce_only,
        client_id=cid,
        reason="test",
        decision_price=D(2000),
    )


def inputs(**kw: object) -> RiskInputs:
    base: dict[str, object] = dict(
        now_ms=NOW,
        block_ts_ms=NOW - 12_000,
        market_ts_ms=NOW - 1_000,
        pool_prices={"ETH": D(2000)},
        marks={"ETH": D(2001)},
    )
    base.update(kw)
    return RiskInputs(**base)  # type: ignore[arg-type]


def test_healthy_tick_passes_orders_unchanged() -> None:
    v = check([intent("1.5")], inputs(), RiskLimits())
    assert not v.halted and v.approved == (intent("1.5"),)


def test_stale_chain_data_halts_with_age_in_reason() -> None:
    v = check([intent("1")], inputs(block_ts_ms=NOW - 600_000), RiskLimits())
    assert v.approved == () and v.halt and "stale chain data" in v.halt and "600s" in v.halt


def test_stale_market_data_halts() -> None:
    v = check([intent("1")], inputs(market_ts_ms=NOW - 120_000), RiskLimits())
    assert v.halt and "stale market data" in v.halt


def test_price_divergence_between_pool_and_mark_halts() -> None:
    v = check([intent("1")], inputs(pool_prices={"ETH": D(2100)}), RiskLimits())
    assert v.halt and "divergence on ETH" in v.halt and "bp" in v.halt
    ok = check([intent("1")], inputs(pool_prices={"ETH": D(2010)}), RiskLimits())
    assert not ok.halted


def test_operator_halt_and_daily_loss_limit() -> None:
    assert "operator" in (check([], inputs(halted="manual"), RiskLimits()).halt or "")
    v = check([intent("1")], inputs(pnl_today_usd=D(-60_000)), RiskLimits())
    assert v.halt and "daily loss limit" in v.halt


def test_liquidation_distance_halts() -> None:
    h = HedgePosition("paper", "ETH/USDT:USDT", "ETH", D(-10), D(-10), D(2000), None, D(2200))
    v = check([intent("1")], inputs(hedges=[h]), RiskLimits(min_liquidation_distance_pct=20))
    assert v.halt and "from liquidation" in v.halt


def test_order_notional_is_capped_to_whole_steps() -> None:
    v = check([intent("200")], inputs(), RiskLimits(max_order_notional_usd=D(100_000)))
    (o,) = v.approved
    assert o.amount * D(2001) <= D(100_000) and o.amount == D("49.975")
    assert any("capped" in n for n in v.notes)


def test_max_hedge_notional_holds_back_growth_but_not_reduction() -> None:
    h = HedgePosition("paper", "ETH/USDT:USDT", "ETH", D(-400), D(-400), D(2000))
    lim = RiskLimits(max_hedge_notional_usd=D(1_000_000))
    v = check([intent("150")], inputs(hedges=[h]), lim)
    assert v.approved == () and any("held back" in n for n in v.notes)
    reduce = intent("150", side=Side.BUY, reduce_only=True)
    assert check([reduce], inputs(hedges=[h]), lim).approved == (reduce,)


def test_orders_per_hour_limit_counts_new_orders_only() -> None:
    lim = RiskLimits(max_orders_per_hour=2)
    v = check(
        [intent("1", cid="a"), intent("1", cid="b"), intent("1", cid="c")],
        inputs(orders_last_hour=1),
        lim,
    )
    assert [o.client_id for o in v.approved] == ["a"]
    r = intent("1", side=Side.BUY, reduce_only=True, cid="r")
    assert check([r], inputs(orders_last_hour=5), lim).approved == (r,)
