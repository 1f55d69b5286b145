"""TickMath: sqrt(1.0001**tick) * 2**96 and back, bit for bit as the v3-core library.

Both directions follow the contract's own integer steps (its magic constants and its
log2 approximation), so a tick or price computed here equals the one the pool stores.
"""

from __future__ import annotations

from bot.amm.full_math import MAX_UINT256, AmmInputError

MIN_TICK = -887272
MAX_TICK = 887272
MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342

# ratio multipliers for bits 0x2 .. 0x80000 of |tick|: 2**128 / sqrt(1.0001)**(2**i)
_MAGIC = (
    0xFFF97272373D413259A46990580E213A,
    0xFFF2E50F5F656932EF12357CF3C7FDCC,
    0xFFE5CACA7E10E4E61C3624EAA0941CD0,
    0xFFCB9843D60F6159C9DB58835C926644,
    0xFF973B41FA98C081472E6896DFB254C0,
    0xFF2EA16466C96A3843EC78B326B52861,
    0xFE5DEE046A99A2A811C461F1969C3053,
    0xFCBE86C7900A88AEDCFFC83B479AA3A4,
    0xF987A7253AC413176F2B074CF7815E54,
    0xF3392B0822B70005940C7A398E4B70F3,
    0xE7159475A2C29B7443B29C7FA6E889D9,
    0xD097F3BDFD2022B8845AD8F792AA5825,
    0xA9F746462D870FDF8A65DC1F90E061E5,
    0x70D869A156D2A1B890BB3DF62BAF32F7,
    0x31BE135F97D08FD981231505542FCFA6,
    0x9AA508B5B7A84E1C677DE54F3E99BC9,
    0x5D6AF8DEDB81196699C329225EE604,
    0x2216E584F5FA1EA926041BEDFE98,
    0x48A170391F7DC42444E8FA2,
)
_LOG_SQRT10001 = 255738958999603826347141  # 2**64 / log2(sqrt(1.0001)), Q128.128 scale
_TICK_LOW_ERR = 3402992956809132418596140100660247210
_TICK_HI_ERR = 291339464771989622907027621153398088495


def get_sqrt_ratio_at_tick(tick: int) -> int:
    """sqrt(1.0001**tick) * 2**96 as a Q64.96, rounded up as TickMath.getSqrtRatioAtTick."""
    if not MIN_TICK <= tick <= MAX_TICK:
        raise AmmInputError(f"tick={tick} is outside [{MIN_TICK}, {MAX_TICK}]")
    abs_tick = abs(tick)
    ratio = 0xFFFCB933BD6FAD37AA2D162D1A594001 if abs_tick & 1 else 1 << 128
    for bit, magic in enumerate(_MAGIC, start=1):
        if abs_tick & (1 << bit):
            ratio = (ratio * magic) >> 128
    if tick > 0:
        ratio = MAX_UINT256 // ratio
    return (ratio >> 32) + (1 if ratio & 0xFFFFFFFF else 0)


def _log2_q64(ratio: int) -> int:
    """log2(ratio / 2**128) as a signed Q64.64 (14 fraction bits), as the contract has it."""
    msb = ratio.bit_length() - 1
    r = ratio >> (msb - 127) if msb >= 128 else ratio << (127 - msb)
    log_2 = (msb - 128) << 64
    for shift in range(63, 49, -1):
        r = (r * r) >> 127
        f = r >> 128
        log_2 |= f << shift
        r >>= f
    return log_2


def get_tick_at_sqrt_ratio(sqrt_price_x96: int) -> int:
    """The greatest tick whose sqrt ratio is <= sqrt_price_x96, as TickMath.getTickAtSqrtRatio."""
    if not MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO:
        raise AmmInputError(
            f"sqrt_price_x96={sqrt_price_x96} is outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO)"
        )
    log_sqrt10001 = _log2_q64(sqrt_price_x96 << 32) * _LOG_SQRT10001
    tick_low = (log_sqrt10001 - _TICK_LOW_ERR) >> 128
    tick_hi = (log_sqrt10001 + _TICK_HI_ERR) >> 128
    if tick_low == tick_hi:
        return tick_low
    return tick_hi if get_sqrt_ratio_at_tick(tick_hi) <= sqrt_price_x96 else tick_low
