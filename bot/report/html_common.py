"""Pieces the HTML report's sections share: the palette and how money and shares read."""

from __future__ import annotations

from decimal import Decimal

PALETTE = (
    "#2563eb",
    "#16a34a",
    "#dc2626",
    "#9333ea",
    "#ea580c",
    "#0891b2",
    "#4b5563",
    "#be185d",
)
COSTS = frozenset({"trading_fees", "slippage", "options_fees", "options_theta_paid"})
"""Components where a positive number is a cost (shown red)."""
CENT = Decimal("0.01")


def sign_class(good: Decimal) -> str:
    return "pos" if good > 0 else "neg" if good < 0 else ""


def usd(value: Decimal, key: str = "") -> str:
    """USD with 2 decimals, green when good for the account, red when bad."""
    good = -value if key in COSTS else value
    return f'<span class="{sign_class(good)}">{value:,.2f}</span>'


def pct(value: Decimal | None) -> str:
    """A percentage with 2 decimals and its sign colour; n/a without one."""
    if value is None:
        return '<span class="">n/a</span>'
    return f'<span class="{sign_class(value)}">{value:,.2f} %</span>'


def cents(value: Decimal | None) -> str:
    """Exact-to-the-cent text for data-* attributes ('' without a value)."""
    return "" if value is None else str(value.quantize(CENT))
