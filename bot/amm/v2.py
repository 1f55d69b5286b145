"""A Uniswap v2 LP share of the pair's reserves, as UniswapV2Pair.burn pays it."""

from __future__ import annotations

from bot.amm.full_math import AmmInputError, check_uint


def share_of_reserves(
    lp_balance: int, total_supply: int, reserve0: int, reserve1: int
) -> tuple[int, int]:
    """(amount0_raw, amount1_raw) = floor(lp_balance * reserve / total_supply) per token.

    The pair pays from its token balances, which equal the reserves after a `sync`;
    pass the reserves (or the balances, to match a burn to the unit when they differ).
    Protocol-fee minting at burn time (feeOn) is not modelled.
    """
    if total_supply <= 0:
        raise AmmInputError("v2 pair has total_supply 0: it holds no liquidity to share")
    check_uint("lp_balance", lp_balance)
    check_uint("reserve0", reserve0, 112)
    check_uint("reserve1", reserve1, 112)
    if lp_balance > total_supply:
        raise AmmInputError(
            f"lp_balance={lp_balance} exceeds total_supply={total_supply}; read both at one block"
        )
    return lp_balance * reserve0 // total_supply, lp_balance * reserve1 // total_supply
