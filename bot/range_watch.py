"""LP positions leaving their price range, and coming back: told once per crossing.

Out of range, a v3 position earns no fees and holds one token only (its delta stops moving
with the price), which an operator wants to hear about once, when it happens, not every
block. A position first seen out of range is told too (the bot started that way); one
missing from a tick (not read) keeps its state, so it is not told again when it returns.
Pure: the monitor posts the lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.lp import ExposureBook, PositionExposure
from bot.report import readable


def _name(p: PositionExposure) -> str:
    where = "" if p.chain == "main" else f"{p.chain}:"
    return f"position {where}{p.position_id} ({p.base}/{p.quote})"


def _range(p: PositionExposure) -> str:
    if p.price_lower is None or p.price_upper is None:
        return "its range"
    return f"{readable.price(p.price_lower)}-{readable.price(p.price_upper)}"


def crossing(p: PositionExposure) -> str:
    """The line for `p` having just left (or re-entered) its range."""
    price = readable.price(p.price)
    if p.in_range:
        return f"{_name(p)} back in range: price {price} in {_range(p)}"
    side = "outside"
    if p.price_lower is not None and p.price < p.price_lower:
        side = "below"
    elif p.price_upper is not None and p.price >= p.price_upper:
        side = "above"
    return f"{_name(p)} out of range: price {price} {side} {_range(p)}; it earns no fees there"


@dataclass
class RangeWatch:
    """Remembers each position's last in-range flag (by chain and id)."""

    _in_range: dict[tuple[str, str], bool] = field(default_factory=dict)

    def observe(self, book: ExposureBook | None) -> list[str]:
        if book is None:
            return []
        lines = []
        for p in book.positions:
            key = (p.chain, p.position_id)
            before = self._in_range.get(key)
            self._in_range[key] = p.in_range
            if before != p.in_range and not (before is None and p.in_range):
                lines.append(crossing(p))
        return lines
