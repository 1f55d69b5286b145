"""Every Protocol between the pure core and the outside world, on one page.

The core (exposure, strategies, planner, risk) depends only on these; adapters
implement them; `bot/wiring.py` chooses which implementation runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from bot.domain.account import AccountState, Liquidation
from bot.domain.events import OptionSettlement
from bot.domain.lp import ChainSnapshot
from bot.domain.market import Instrument, MarketSnapshot, OrderBook
from bot.domain.orders import (
    Fill,
    FundingPayment,
    HedgePosition,
    LedgerEvent,
    OrderAck,
    OrderIntent,
)


@runtime_checkable
class Clock(Protocol):
    def now_ms(self) -> int: ...

    async def sleep(self, seconds: float) -> None: ...


class PositionSource(Protocol):
    """Reads every configured LP position and its pool at one block."""

    async def read(self, block: int | None = None) -> ChainSnapshot: ...


@runtime_checkable
class ScanningSource(Protocol):
    """A position source that scans logs to find positions (v4 owners' NFTs), and whose
    scan a restart can go on from instead of starting over: the engine keeps
    `scan_state()` in the ledger and gives it back with `restore_scans` before the first
    tick. The state is JSON, by chain name."""

    def scan_state(self) -> Mapping[str, Any]: ...

    def restore_scans(self, saved: Mapping[str, Any]) -> None: ...


class MarketData(Protocol):
    """Marks, funding and books for venue symbols, plus USD prices per asset."""

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]: ...

    async def snapshot(self, symbols: Sequence[str]) -> MarketSnapshot: ...

    async def order_book(self, symbol: str, depth: int = 20) -> OrderBook: ...

    async def option_chain(self, asset: str) -> Mapping[str, Instrument]:
        """Listed, unexpired options on `asset` (kind OPTION) keyed by venue symbol;
        empty when the venue lists none. Their quotes (mark, implied vol, greeks) come
        from `snapshot` like any other symbol."""
        ...


class Venue(Protocol):
    """Where hedges are held and orders are placed: a real exchange or the paper venue.

    Besides orders, a venue reports what happened on the account (its account events):
    executions with their fees and trade ids (ours and not: a manual trade, a liquidation),
    funding, option settlements and forced closes, each since a venue time (ms). The engine
    polls them and writes each to the ledger once; no venue writes the ledger itself.
    """

    name: str

    async def instruments(self, symbols: Sequence[str]) -> Mapping[str, Instrument]: ...

    async def positions(self) -> list[HedgePosition]: ...

    async def submit(self, intent: OrderIntent) -> OrderAck: ...

    async def order_by_client_id(self, symbol: str, client_id: str) -> OrderAck | None: ...

    async def open_orders(self, symbol: str | None = None) -> list[OrderAck]: ...

    async def cancel(self, symbol: str, client_id: str) -> None: ...

    async def fills(self, symbols: Sequence[str], since_ms: int) -> list[Fill]:
        """Executions on `symbols` at or after `since_ms`, oldest first."""
        ...

    async def funding_payments(
        self, since_ms: int, symbols: Sequence[str] = ()
    ) -> list[FundingPayment]: ...

    async def settlements(
        self, since_ms: int, symbols: Sequence[str] = ()
    ) -> list[OptionSettlement]: ...

    async def liquidations(
        self, since_ms: int, symbols: Sequence[str] = ()
    ) -> list[Liquidation]: ...

    async def account_state(self, symbols: Sequence[str]) -> AccountState:
        """Position mode, balances, and each symbol's leverage and margin mode."""
        ...

    async def configure(
        self, symbol: str, leverage: Decimal | None, margin_mode: str | None
    ) -> None:
        """Set `symbol`'s leverage and margin mode (None: leave it)."""
        ...

    async def close(self) -> None: ...


class LedgerWriter(Protocol):
    """Append-only event log. `append` returns the event's sequence number.

    `payload` is JSON-able: Decimals and raw integers go in as strings (exact).
    `ts_ms` comes from the caller's clock, never from the ledger's.
    """

    def append(
        self, kind: str, payload: Mapping[str, Any], *, ts_ms: int, run_id: str | None = None
    ) -> int: ...


class LedgerReader(Protocol):
    """Reads events back in sequence order, for restarts, reconciliation and reports."""

    def events(
        self,
        kinds: Sequence[str] | None = None,
        *,
        since_seq: int = 0,
        since_ms: int | None = None,
        until_ms: int | None = None,
    ) -> list[LedgerEvent]: ...

    def last(self, kind: str) -> LedgerEvent | None: ...
