"""Fee growth inside a tick range and the fees a v3 or v4 position can collect.

Fee growth values are Q128.128 fee tokens per unit of liquidity that wrap around
mod 2**256 on purpose (Tick.getFeeGrowthInside relies on it), so every subtraction
here is taken mod 2**256. Fees are raw token units and wrap mod 2**128 where the
contracts cast to uint128.
"""

from __future__ import annotations

from bot.amm.full_math import MAX_UINT128, MAX_UINT256, Q128, check_uint, mul_div

_MOD256 = MAX_UINT256 + 1
_MOD128 = MAX_UINT128 + 1


def _inside(
    tick_lower: int,
    tick_upper: int,
    tick_current: int,
    global_x128: int,
    lower_outside_x128: int,
    upper_outside_x128: int,
) -> int:
    below = (
        lower_outside_x128
        if tick_current >= tick_lower
        else (global_x128 - lower_outside_x128) % _MOD256
    )
    above = (
        upper_outside_x128
        if tick_current < tick_upper
        else (global_x128 - upper_outside_x128) % _MOD256
    )
    return (global_x128 - below - above) % _MOD256


def fee_growth_inside(
    tick_lower: int,
    tick_upper: int,
    tick_current: int,
    fee_growth_global0_x128: int,
    fee_growth_global1_x128: int,
    lower_outside0_x128: int,
    lower_outside1_x128: int,
    upper_outside0_x128: int,
    upper_outside1_x128: int,
) -> tuple[int, int]:
    """(fee_growth_inside0_x128, fee_growth_inside1_x128) as Tick.getFeeGrowthInside.

    `tick_current` is the pool's slot0 tick; the outside values are the two ticks'
    `feeGrowthOutside{0,1}X128` read at the same block.
    """
    for name, value in (
        ("fee_growth_global0_x128", fee_growth_global0_x128),
        ("fee_growth_global1_x128", fee_growth_global1_x128),
        ("lower_outside0_x128", lower_outside0_x128),
        ("lower_outside1_x128", lower_outside1_x128),
        ("upper_outside0_x128", upper_outside0_x128),
        ("upper_outside1_x128", upper_outside1_x128),
    ):
        check_uint(name, value)
    inside0 = _inside(
        tick_lower,
        tick_upper,
        tick_current,
        fee_growth_global0_x128,
        lower_outside0_x128,
        upper_outside0_x128,
    )
    inside1 = _inside(
        tick_lower,
        tick_upper,
        tick_current,
        fee_growth_global1_x128,
        lower_outside1_x128,
        upper_outside1_x128,
    )
    return inside0, inside1


def tokens_owed(
    liquidity: int, fee_growth_inside_x128: int, fee_growth_inside_last_x128: int
) -> int:
    """Raw fees earned since the last snapshot: uint128(mulDiv(inside - last, L, Q128))."""
    check_uint("liquidity", liquidity, 128)
    check_uint("fee_growth_inside_x128", fee_growth_inside_x128)
    check_uint("fee_growth_inside_last_x128", fee_growth_inside_last_x128)
    growth = (fee_growth_inside_x128 - fee_growth_inside_last_x128) % _MOD256
    return mul_div(growth, liquidity, Q128) % _MOD128


def uncollected_fees(
    liquidity: int,
    inside0: int,
    inside1: int,
    last0: int,
    last1: int,
    tokens_owed0: int,
    tokens_owed1: int,
) -> tuple[int, int]:
    """(fees0_raw, fees1_raw) that NonfungiblePositionManager.collect would pay now.

    `inside*` come from `fee_growth_inside` at the current block; `last*` and
    `tokens_owed*` are the NPM's `positions(tokenId)` fields. The NPM adds the growth
    since its snapshot to tokensOwed in uint128 (wrapping, Solidity 0.7).
    """
    check_uint("tokens_owed0", tokens_owed0, 128)
    check_uint("tokens_owed1", tokens_owed1, 128)
    fees0 = (tokens_owed0 + tokens_owed(liquidity, inside0, last0)) % _MOD128
    fees1 = (tokens_owed1 + tokens_owed(liquidity, inside1, last1)) % _MOD128
    return fees0, fees1


def v4_fees_owed(
    liquidity: int, inside0: int, inside1: int, last0: int, last1: int
) -> tuple[int, int]:
    """(fees0_raw, fees1_raw) a v4 position is owed, as v4-core Position.update computes them.

    v4 keeps no tokensOwed: fees are paid out on every modifyLiquidity, so growth since
    the position's last snapshot is all of it. `inside*` are StateView.getFeeGrowthInside
    at the block, `last*` StateView.getPositionInfo's feeGrowthInside*LastX128. The
    subtraction wraps mod 2**256 (unchecked); the result is a uint256, not cast to uint128
    (the PoolManager reverts on an int128 overflow instead of wrapping).
    """
    check_uint("liquidity", liquidity, 128)
    owed = []
    for inside, last in ((inside0, last0), (inside1, last1)):
        check_uint("fee_growth_inside_x128", inside)
        check_uint("fee_growth_inside_last_x128", last)
        owed.append(mul_div((inside - last) % _MOD256, liquidity, Q128))
    return owed[0], owed[1]
