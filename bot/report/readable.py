"""Numbers and text rounded for people: USD to the cent, quantities at an amount step,
prices and greeks to a few significant digits, long decimals in free text cut.

For the terminal (and any page a person reads); CSV and JSON keep the exact values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

Number = Decimal | float | int | str

QTY_STEP = Decimal("0.001")
"""Base quantities (deltas, hedges) are shown at a perp amount step; 0.001 is the step of
the majors (Binance ETH and BTC perps) and `Instrument`'s default."""


def _dec(value: Number) -> Decimal:
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        return Decimal("NaN")


CENT = Decimal("0.01")


def _no_minus_zero(text: str) -> str:
    if text.startswith("-") and not any(c in "123456789" for c in text):
        return text[1:]
    return text


def usd(value: Number) -> str:
    """USD to the cent, with thousands separators: 12345.678 -> 12,345.68."""
    x = _dec(value)
    if not x.is_finite():
        return str(x)
    # quantize first: a Decimal's own format rounds by the thread's context, which code
    # elsewhere may have changed; the report rounds half to even, as the ledger does
    return _no_minus_zero(f"{x.quantize(CENT, rounding=ROUND_HALF_EVEN):,f}")


def qty(value: Number, step: Decimal = QTY_STEP) -> str:
    """A quantity at its amount step (0.001 unless given): 88.705909361 -> 88.706."""
    x = _dec(value)
    if not x.is_finite():
        return str(x)
    return _no_minus_zero(f"{x.quantize(step, rounding=ROUND_HALF_EVEN):,f}")


def sig(value: Number, digits: int = 4) -> str:
    """`digits` significant digits, no exponent, zeros after the point cut:
    0.0762872 -> 0.07629, 172.3746 -> 172.4, 123456.7 -> 123,457."""
    x = _dec(value)
    if not x.is_finite():
        return str(x)
    if x == 0:
        return "0"
    exp = min(x.adjusted() - digits + 1, 0)
    text = f"{x.quantize(Decimal(1).scaleb(exp), rounding=ROUND_HALF_EVEN):,f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return _no_minus_zero(text)


def price(value: Number) -> str:
    """A price: to the cent from 1 up (3,517.80), else 5 significant digits (0.0010859)."""
    x = _dec(value)
    if x.is_finite() and abs(x) >= 1:
        return usd(x)
    return sig(x, 5)


_LONG_DECIMAL = re.compile(r"(?<![\w.])-?\d+\.\d{7,}(?![\w.])")


def tidy(text: str, digits: int = 6) -> str:
    """Free text on one line, its long decimals cut to `digits` significant digits:
    'band -96.883446287365800453 +- 4.4' -> 'band -96.8834 +- 4.4'. Ids, symbols and
    numbers of up to 6 decimals are left as they are."""
    one_line = " ".join(text.split())
    return _LONG_DECIMAL.sub(lambda m: sig(m.group(), digits).replace(",", ""), one_line)


def compact_times(cells: Sequence[str]) -> list[str]:
    """ISO UTC times as `2024-03-14 18:00`, or with the seconds where any cell has them."""
    spaced = [c.replace("T", " ").removesuffix("Z") for c in cells]
    if all(len(c) == 19 and c.endswith(":00") for c in spaced):
        return [c[:16] for c in spaced]
    return spaced


def age(seconds: float) -> str:
    """A duration for people: 42s, 5m 10s, 3h 05m, 2d 04h."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {s % 3600 // 60:02d}m"
    return f"{s // 86400}d {s % 86400 // 3600:02d}h"
