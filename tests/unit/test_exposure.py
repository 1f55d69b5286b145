"""The exposure book: delta is the base holdings in either orientation, netted per asset."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot import exposure
from bot.amm.liquidity_amounts import position_amounts
from bot.amm.tick_math import get_sqrt_ratio_at_tick
from bot.domain.lp import ChainSnapshot, LpPosition, PoolKind, PoolState
from bot.domain.market import AssetMap, Token

USDC = Token("0x" + "a" * 40, "USDC", 6)
WETH = Token("0x" + "b" * 40, "WETH", 18)
WBTC = Token("0x" + "c" * 40, "WBTC", 8)
L = 10**15


def v3(
    token0: Token,
    token1: Token,
    tick: int,
    lower: int,
    upper: int,
    pid: str = "1",
    liquidity: int = L,
    fees: tuple[int, int] = (0, 0),
) -> LpPosition:
    sqrt_p = get_sqrt_ratio_at_tick(tick)
    pool = PoolState("0x" + "d" * 40, PoolKind.V3, token0, token1, 500, 10, sqrt_p, tick, liquidity)
    a0, a1 = position_amounts(sqrt_p, tick, lower, upper, liquidity)
    return LpPosition(
        pid,
        PoolKind.V3,
        "0x" + "e" * 40,
        "0x" + "f" * 40,
        pool,
        lower,
        upper,
        liquidity,
        a0,
        a1,
        fees[0],
        fees[1],
    )


# USDC(6)/WETH(18) with ETH ~ 2000 USDC: token1 per token0 = 1/2000 * 1e12 raw -> tick ~ 200311
TICK_USDC_WETH = 200_310


def test_weth_as_token1_is_base_with_price_in_usdc() -> None:
    pos = v3(
        USDC,
        WETH,
        TICK_USDC_WETH,
        TICK_USDC_WETH - 1000,
        TICK_USDC_WETH + 1000,
        fees=(5_000_000, 10**15),
    )
    e = exposure.position_exposure(pos, AssetMap())
    assert (e.base, e.quote) == ("ETH", "USD")
    assert Decimal(1990) < e.price < Decimal(2010)
    # delta = WETH holdings incl. fees, exact to the wei
    assert e.delta == Decimal(pos.amount1_raw + 10**15).scaleb(-18)
    assert e.deltas == {"ETH": e.delta}
    assert e.price_lower is not None and e.price_upper is not None
    assert e.price_lower < e.price < e.price_upper
    expected = e.delta * e.price + Decimal(pos.amount0_raw + 5_000_000).scaleb(-6)
    assert abs(e.value - expected) < Decimal("1e-20")
    assert e.in_range and e.gamma < 0


def test_gamma_matches_finite_difference_of_delta_in_both_orientations() -> None:
    for t0, t1, tick in ((USDC, WETH, TICK_USDC_WETH), (WETH, USDC, -TICK_USDC_WETH)):
        lo, hi = tick - 2000, tick + 2000
        e0 = exposure.position_exposure(v3(t0, t1, tick, lo, hi), AssetMap())
        e1 = exposure.position_exposure(v3(t0, t1, tick + 20, lo, hi), AssetMap())
        fd = float(e1.delta - e0.delta) / float(e1.price - e0.price)
        assert fd == pytest.approx(e0.gamma, rel=2e-3)


def test_out_of_range_position_has_constant_delta_and_no_gamma() -> None:
    below = v3(WETH, USDC, -TICK_USDC_WETH - 5000, -TICK_USDC_WETH, -TICK_USDC_WETH + 1000)
    e = exposure.position_exposure(below, AssetMap())
    assert not e.in_range and e.gamma == 0.0
    assert e.delta == Decimal(below.amount0_raw).scaleb(-18) and below.amount1_raw == 0


def test_book_nets_across_positions_and_counts_cross_pairs_for_both_assets() -> None:
    a = v3(USDC, WETH, TICK_USDC_WETH, TICK_USDC_WETH - 600, TICK_USDC_WETH + 600, pid="1")
    b = v3(WETH, USDC, -TICK_USDC_WETH, -TICK_USDC_WETH - 600, -TICK_USDC_WETH + 600, pid="2")
    # WBTC(8)/WETH(18) pair: both sides are exposures
    c = v3(WBTC, WETH, 260_000, 259_000, 261_000, pid="3")
    snap = ChainSnapshot(1, 100, 1_700_000_000, (a, b, c))
    book = exposure.book(snap, AssetMap(), usd_prices={"ETH": Decimal(2000), "BTC": Decimal(60000)})
    ea, eb, ec = book.positions
    assert book.assets["ETH"].delta == ea.delta + eb.delta + ec.deltas["ETH"]
    assert book.assets["BTC"].delta == ec.deltas["BTC"]
    assert book.assets["ETH"].positions == 2 and "USD" not in book.assets
    assert book.assets["BTC"].value_usd == ec.value * Decimal(2000)


def test_asset_map_by_address_overrides_symbol() -> None:
    odd = Token("0x" + "1" * 40, "USDC", 6)  # a token calling itself USDC that is not
    amap = AssetMap(by_address={odd.address: "SCAM"})
    assert amap.asset_of(odd) == "SCAM" and amap.asset_of(USDC) == "USD"


def test_wallet_holdings_add_delta() -> None:
    snap = ChainSnapshot(1, 1, 0, ())
    book = exposure.book(snap, wallet={"ETH": Decimal("2.5"), "USD": Decimal(100)})
    assert book.delta("ETH") == Decimal("2.5") and book.delta("USD") == 0
