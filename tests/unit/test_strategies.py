"""Strategy properties: bands hold, hedges have the right sign and size, minimums, hysteresis,
no churn out of range, funding awareness, params parsing and loading user strategies."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path

import pytest

from bot.domain.lp import AssetExposure, ExposureBook
from bot.domain.market import Instrument, MarketSnapshot, Quote
from bot.errors import ConfigError, InputError
from strategies.base import (
    Decision,
    StrategyContext,
    StrategyState,
    parse_params,
    split_prefixed,
    validate_params,
)
from strategies.delta_band import DeltaBand, DeltaBandParams
from strategies.fixed_interval import FixedInterval, FixedIntervalParams
from strategies.fixed_threshold import FixedThreshold, FixedThresholdParams
from strategies.registry import BUILTINS, build, strategy_class
from strategies.vol_band import VolBand, VolBandParams

INST = Instrument("binanceusdm", "ETH/USDT:USDT", "ETH")
HOUR = 3_600_000


def ctx(
    delta: str,
    hedge: str,
    *,
    gamma: float = -0.005,
    price: str = "3000",
    now: int = 0,
    state: StrategyState | None = None,
    funding: str | None = None,
    vol: float | None = None,
) -> StrategyContext:
    exposure = ExposureBook(1, 0, {"ETH": AssetExposure("ETH", D(delta), gamma, D(100000), 1)})
    quotes = {}
    if funding is not None:
        quotes = {INST.symbol: Quote(INST.symbol, now, D(price), funding_rate=D(funding))}
    return StrategyContext(
        now_ms=now,
        exposure=exposure,
        hedges={"ETH": D(hedge)},
        market=MarketSnapshot(
            now, {"ETH": D(price)}, quotes, volatility={"ETH": vol} if vol else {}
        ),
        state=state or StrategyState(),
        instruments={"ETH": INST},
    )


def only(decision: Decision) -> tuple[bool, D, str]:
    (t,) = decision.targets
    assert t.symbol == INST.symbol and t.asset == "ETH"
    return t.act, t.target_base, t.reason


def test_delta_band_leaves_a_hedge_within_the_band_alone() -> None:
    s = DeltaBand(DeltaBandParams(band_rel=0.1))
    act, base, reason = only(s.target(ctx("10", "-9.2")))
    assert not act and base == D("-9.2") and "within" in reason


def test_delta_band_hedges_short_the_lp_delta_times_the_ratio() -> None:
    s = DeltaBand(DeltaBandParams(band_rel=0.1, hedge_ratio=0.5))
    act, base, reason = only(s.target(ctx("10", "0")))
    assert act and base == D("-5") and "outside" in reason
    act, base, _ = only(s.target(ctx("-4", "0")))  # a short LP delta is hedged long
    assert act and base == D("2")


def test_delta_band_absolute_band_is_used_when_wider() -> None:
    s = DeltaBand(DeltaBandParams(band_abs=2, band_rel=0.01))
    assert not only(s.target(ctx("10", "-8.5")))[0]
    assert only(s.target(ctx("10", "-7.9")))[0]


def test_no_trade_below_min_notional() -> None:
    s = DeltaBand(DeltaBandParams(band_rel=0.0, min_notional_usd=100))
    act, _, reason = only(s.target(ctx("10", "-9.99")))  # 0.01 ETH * 3000 = 30 USD
    assert not act and "min notional" in reason
    assert only(s.target(ctx("10", "-9.9")))[0]  # 300 USD


def test_hysteresis_trades_to_the_inner_band_not_the_edge() -> None:
    s = DeltaBand(DeltaBandParams(band_rel=0.1, rebalance_to=0.5))
    act, base, _ = only(s.target(ctx("10", "-8")))  # under-hedged by 2 > band 1
    assert act and base == D("-9.5")  # half-way inside, not at the edge -9
    # next tick at the same delta: inside the band, so no trade back
    assert not only(s.target(ctx("10", str(base))))[0]
    act, base, _ = only(s.target(ctx("10", "-12")))  # over-hedged: lands on the other side
    assert act and base == D("-10.5")


def test_fixed_interval_trades_once_per_interval() -> None:
    s = FixedInterval(FixedIntervalParams(interval=24 * 3600))
    d0 = s.target(ctx("10", "0", now=0))
    assert only(d0)[:2] == (True, D("-10"))
    d1 = s.target(ctx("12", "-10", now=23 * HOUR, state=d0.state))
    assert not only(d1)[0]
    d2 = s.target(ctx("12", "-10", now=24 * HOUR, state=d1.state))
    assert only(d2)[:2] == (True, D("-12"))


def test_fixed_threshold_is_relative_to_the_delta() -> None:
    s = FixedThreshold(FixedThresholdParams(threshold=0.05))
    assert not only(s.target(ctx("10", "-9.6")))[0]
    assert only(s.target(ctx("10", "-9.4")))[:2] == (True, D("-10"))


def test_vol_band_widens_with_cost_and_gamma() -> None:
    # the Whalley-Wilmott band alone: no relative floor, risk aversion 10
    cheap = VolBand(VolBandParams(cost=0.0001, min_band_rel=0, risk_aversion=10))
    dear = VolBand(VolBandParams(cost=0.001, min_band_rel=0, risk_aversion=10))
    c = ctx("10", "0")
    from strategies.base import asset_view

    view = asset_view(c, "ETH")
    assert dear.half_width(view, D(-10)) > cheap.half_width(view, D(-10))
    steep = asset_view(ctx("10", "0", gamma=-0.02), "ETH")
    assert dear.half_width(steep, D(-10)) > dear.half_width(view, D(-10))
    # Whalley-Wilmott: (1.5 c P G^2 / lam)^(1/3) with lam = 10 / 100000
    expected = (1.5 * 0.001 * 3000 * 0.005**2 / (10 / 100000)) ** (1 / 3)
    assert dear.half_width(view, D(-10)) == pytest.approx(expected)


def test_vol_band_static_band_narrows_with_volatility() -> None:
    s = VolBand(VolBandParams())
    from strategies.base import asset_view

    flat = asset_view(ctx("10", "0", gamma=0.0, vol=0.3), "ETH")
    wild = asset_view(ctx("10", "0", gamma=0.0, vol=1.2), "ETH")
    assert 0 < s.half_width(wild, D(-10)) < s.half_width(flat, D(-10))


def test_out_of_range_position_does_not_churn() -> None:
    """Gamma zero, delta constant: hedge once, then hold tick after tick."""
    s = VolBand(VolBandParams())
    d = s.target(ctx("8", "0", gamma=0.0, vol=0.8))
    act, base, _ = only(d)
    assert act and D(-8) <= base <= D(-8) + D("0.3") * 8  # inside the default 30 % floor
    state = d.state
    for k in range(1, 50):
        d = s.target(ctx("8", str(base), gamma=0.0, vol=0.8, now=k * HOUR, state=state))
        state = d.state
        assert not only(d)[0]


def test_funding_aware_reduces_the_short_when_shorts_pay() -> None:
    plain = VolBand(VolBandParams(rebalance_to=0))
    aware = VolBand(VolBandParams(rebalance_to=0, funding_aware=True))
    paying = ctx("10", "0", funding="-0.0001", vol=0.5)
    _, base_plain, _ = only(plain.target(paying))
    act, base_aware, reason = only(aware.target(paying))
    assert act and D(-10) < base_aware < D(0) and base_plain == D(-10)
    assert "funding" in reason
    receiving = ctx("10", "0", funding="0.0001", vol=0.5)
    assert only(aware.target(receiving))[1] == D(-10)


def test_state_round_trips_through_json() -> None:
    d = VolBand(VolBandParams()).target(ctx("10", "0", now=5))
    assert StrategyState.from_json(d.state.to_json()) == d.state


def test_parse_params_units_and_errors_name_the_key() -> None:
    p = parse_params(FixedIntervalParams, ["interval=24h", "hedge_ratio=80%"], "fixed_interval")
    assert p == FixedIntervalParams(interval=86400, hedge_ratio=0.8)
    vb = parse_params(VolBandParams, ["funding_aware=true", "cost=5%"], "vol_band")
    assert isinstance(vb, VolBandParams) and vb.funding_aware and vb.cost == 0.05
    with pytest.raises(InputError, match="intervall"):
        parse_params(FixedIntervalParams, ["intervall=24h"], "fixed_interval")
    with pytest.raises(InputError, match="interval"):
        parse_params(FixedIntervalParams, ["interval=soon"], "fixed_interval")
    with pytest.raises(InputError, match="key=value"):
        parse_params(FixedIntervalParams, ["interval"], "fixed_interval")


def test_prefixed_params_go_to_their_strategy() -> None:
    routed = split_prefixed(
        ["fixed_interval.interval=1h", "hedge_ratio=0.9", "vol_band.risk_aversion=3"],
        {"fixed_interval": FixedIntervalParams, "vol_band": VolBandParams},
    )
    assert routed == {
        "fixed_interval": ["interval=1h", "hedge_ratio=0.9"],
        "vol_band": ["hedge_ratio=0.9", "risk_aversion=3"],
    }


def test_registry_and_loader(tmp_path: Path) -> None:
    assert isinstance(build("vol_band", ["risk_aversion=3"]), VolBand)
    with pytest.raises(InputError, match="unknown strategy"):
        build("nope")
    s = build("strategies/examples/half_hedge.py:HalfHedge", ["ratio=0.5"])
    assert only(s.target(ctx("10", "0")))[:2] == (True, D("-5"))
    assert type(build("strategies.examples.half_hedge:HalfHedge")).__name__ == "HalfHedge"
    bad = tmp_path / "bad.py"
    bad.write_text("class Nope:\n    name = 'nope'\n")
    with pytest.raises(InputError, match="missing Params, target"):
        build(f"{bad}:Nope")


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("hedge_ratio", 0),
        ("hedge_ratio", 1.51),
        ("band_abs", -1),
        ("band_rel", -0.01),
        ("threshold", "-1%"),
        ("min_band_rel", -0.1),
        ("rebalance_to", 1),
        ("rebalance_to", -0.1),
        ("interval", "0s"),
        ("horizon", 0),
        ("vol_halflife", -5),
        ("risk_aversion", 0),
        ("band_abs", "nan"),
        ("band_abs", True),
    ],
)
def test_out_of_bounds_params_name_strategy_params_key(key: str, bad: object) -> None:
    takers = [(n, c.Params) for n, c in BUILTINS.items() if key in c.Params.model_fields]
    assert takers
    for name, model in takers:
        with pytest.raises(ConfigError, match=rf"^strategy\.params\.{key}: "):
            validate_params(model, {key: bad}, name)
    name, model = takers[0]
    with pytest.raises(InputError, match=rf"^--param {key}: "):
        parse_params(model, [f"{key}={str(bad).lower()}"], name)


def test_unknown_param_and_strategy_name_where_they_came_from() -> None:
    with pytest.raises(
        ConfigError, match=r"^strategy\.params\.bandabs: unknown param \(delta_band"
    ):
        validate_params(DeltaBandParams, {"bandabs": 1}, "delta_band")
    with pytest.raises(InputError, match=r"^strategy\.name 'nope': unknown strategy; choose one"):
        strategy_class("nope")
    with pytest.raises(InputError, match=r"^--strategy 'nope': unknown strategy"):
        build("nope")
