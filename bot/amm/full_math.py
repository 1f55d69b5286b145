"""FullMath and the fixed-point constants of Uniswap v3, with uint256 semantics.

Python ints never overflow, so the port checks what the EVM would revert on: a zero
denominator and a result that does not fit 256 bits. Inputs are uint256 (0 <= x < 2**256).
"""

from __future__ import annotations

from bot.errors import InputError

Q96 = 2**96
Q128 = 2**128
MAX_UINT128 = 2**128 - 1
MAX_UINT160 = 2**160 - 1
MAX_UINT256 = 2**256 - 1


class AmmInputError(InputError, ValueError):
    """An input a Uniswap contract would revert on; the message names the argument."""


def check_uint(name: str, value: int, bits: int = 256) -> None:
    """Raise AmmInputError unless `value` is an unsigned integer of `bits` bits."""
    if not 0 <= value < 1 << bits:
        raise AmmInputError(f"{name}={value} is not a uint{bits}: pass 0 <= {name} < 2**{bits}")


def mul_div(a: int, b: int, denominator: int) -> int:
    """floor(a * b / denominator) with full 512-bit precision, as FullMath.mulDiv."""
    check_uint("a", a)
    check_uint("b", b)
    check_uint("denominator", denominator)
    if denominator == 0:
        raise AmmInputError("mul_div: denominator is 0")
    result = a * b // denominator
    if result > MAX_UINT256:
        raise AmmInputError(f"mul_div: result of {a} * {b} / {denominator} overflows uint256")
    return result


def mul_div_rounding_up(a: int, b: int, denominator: int) -> int:
    """ceil(a * b / denominator), as FullMath.mulDivRoundingUp (reverts past uint256)."""
    result = mul_div(a, b, denominator)
    if a * b % denominator:
        if result == MAX_UINT256:
            raise AmmInputError(f"mul_div_rounding_up: {a} * {b} / {denominator} overflows uint256")
        result += 1
    return result


def div_rounding_up(x: int, y: int) -> int:
    """ceil(x / y) for uint256 x, y > 0, as UnsafeMath.divRoundingUp."""
    if y == 0:
        raise AmmInputError("div_rounding_up: divisor is 0")
    return -(-x // y)
