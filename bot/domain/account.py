"""What a venue account is and what happened on it, as values: its set-up (position mode,
leverage and margin mode per symbol, balances) and the events it reports beyond our own
orders (liquidations and auto-deleveraging). Fills, funding and option settlements are in
`bot.domain.orders` and `bot.domain.events`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

PositionMode = Literal["one_way", "hedge"]
MarginMode = Literal["cross", "isolated"]


@dataclass(frozen=True, slots=True)
class SymbolSetup:
    """Leverage and margin mode of one symbol (None: the venue does not say or set it)."""

    symbol: str
    leverage: Decimal | None = None
    margin_mode: str | None = None


@dataclass(frozen=True, slots=True)
class AccountState:
    """The account as the venue reports it: written to the ledger at start-up.

    `balances` and `free` are per currency (total and available for margin)."""

    venue: str
    position_mode: PositionMode
    balances: Mapping[str, Decimal]
    free: Mapping[str, Decimal]
    symbols: tuple[SymbolSetup, ...] = ()
    ts_ms: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Liquidation:
    """The venue closed (part of) a position itself: `kind` liquidation or adl. `side` is the
    closing order's; `contracts` venue contracts; `liquidation_id` names it on the venue."""

    venue: str
    symbol: str
    side: str
    contracts: Decimal
    price: Decimal
    ts_ms: int
    kind: str
    liquidation_id: str
