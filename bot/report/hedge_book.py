"""Replay of hedge fills per symbol: position, cost basis, realised and unrealised PnL. Pure.

Linear perps only (PnL in the quote, USD): a position of `qty` base units with cost basis
`cost` (signed sum of qty * price of the open lots, USD) is worth `qty * mark - cost`
unrealised. Each fill changes the cost basis by `d_cost` and realises
`d_cost - dq * price`; on a reduction `d_cost` is the closed share of the basis. Written
this way realised + change in unrealised equals the mark-to-market `Δ(qty * mark) - Σ dq *
price` exactly, whatever rounding the proportional basis has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, localcontext

ZERO = Decimal(0)
PRECISION = 120
"""Decimal digits for report arithmetic: products of 40-digit prices and 18-decimal amounts
(and their sums) stay exact, so the attribution identity holds to the last digit."""
QUANTUM = Decimal("1e-36")
"""Results of divisions are cut to this many places, so the sums they enter stay exact."""


@dataclass(frozen=True, slots=True)
class Leg:
    """One symbol's hedge: signed base quantity and cost basis (USD)."""

    qty: Decimal = ZERO
    cost: Decimal = ZERO

    @property
    def avg_price(self) -> Decimal | None:
        if self.qty == 0:
            return None
        with localcontext() as ctx:
            ctx.prec = PRECISION
            return self.cost / self.qty


def _close_part(leg: Leg, dq: Decimal, price: Decimal) -> tuple[Leg, Decimal]:
    """Reduce `leg` by `dq` (opposite sign, |dq| <= |qty|); returns new leg and realised."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        d_cost = -leg.cost if dq == -leg.qty else (leg.cost * dq / leg.qty).quantize(QUANTUM)
        realised = d_cost - dq * price
        return Leg(leg.qty + dq, leg.cost + d_cost), realised


def apply_fill(leg: Leg, dq: Decimal, price: Decimal) -> tuple[Leg, Decimal]:
    """`leg` after a fill of `dq` base (signed: + buy) at `price`; and the realised PnL."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        if leg.qty == 0 or (leg.qty > 0) == (dq > 0):
            return Leg(leg.qty + dq, leg.cost + dq * price), ZERO
        if abs(dq) <= abs(leg.qty):
            return _close_part(leg, dq, price)
        closed, realised = _close_part(leg, -leg.qty, price)
        rest = dq + leg.qty
        return Leg(closed.qty + rest, closed.cost + rest * price), realised


def unrealised(leg: Leg, mark: Decimal) -> Decimal:
    """Open PnL of `leg` at `mark` (USD)."""
    with localcontext() as ctx:
        ctx.prec = PRECISION
        return leg.qty * mark - leg.cost


class HedgeBook:
    """Legs by symbol, replayed fill by fill (mutable, local to one attribution run)."""

    def __init__(self) -> None:
        self._legs: dict[str, Leg] = {}

    def fill(self, symbol: str, dq: Decimal, price: Decimal) -> Decimal:
        leg, realised = apply_fill(self._legs.get(symbol, Leg()), dq, price)
        self._legs[symbol] = leg
        return realised

    def legs(self) -> Mapping[str, Leg]:
        return dict(self._legs)

    def unrealised(self, marks: Mapping[str, Decimal]) -> Decimal:
        """Sum over symbols at `marks` (a leg without a mark counts as flat PnL)."""
        total = ZERO
        for symbol, leg in self._legs.items():
            mark = marks.get(symbol)
            if mark is not None:
                total += unrealised(leg, mark)
        return total
