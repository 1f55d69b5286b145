"""Typed payloads of the ledger events the bot writes, and their exact JSON form.

Every writer (engine, execution, paper venue) and every reader (report, status,
reconciliation) goes through these, so the ledger's JSON has one schema per kind.
Decimals and big ints travel as strings, so nothing is rounded through float.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from bot.domain.account import AccountState, Liquidation
from bot.domain.orders import Fill, FundingPayment, OrderAck, OrderIntent

T = TypeVar("T")

RUN_STARTED = "run_started"
RUN_STOPPED = "run_stopped"
TICK = "tick"
DECISION = "decision"
ORDER_INTENT = "order_intent"
ORDER_UPDATE = "order_update"
FILL = "fill"
FUNDING = "funding"
HALT = "halt"
RESUME = "resume"
ERROR = "error"
RECONCILE_DIFF = "reconcile_diff"
SKIPPED = "skipped"
COMMAND = "command"
OPTION_SETTLEMENT = "option_settlement"
BOOK_GREEKS = "book_greeks"
LIQUIDATION = "liquidation"
ACCOUNT_STATE = "account_state"
SCAN_STATE = "scan_state"  # the chain reader's log scans, so a restart goes on from there


@dataclasses.dataclass(frozen=True, slots=True)
class RunStarted:
    run_id: str
    mode: str
    venue: str
    strategy: str
    params: Mapping[str, Any]
    config_digest: str
    version: str


@dataclasses.dataclass(frozen=True, slots=True)
class PositionRow:
    """One LP position as the report needs it (human units, quote = `quote`).

    `price_lower` / `price_upper`: the v3 range in quote per base (None for v2, and in
    ledgers written before the range was recorded)."""

    position_id: str
    pool: str
    base: str
    quote: str
    in_range: bool
    base_amount: Decimal
    quote_amount: Decimal
    base_fees: Decimal
    quote_fees: Decimal
    price: Decimal
    value: Decimal
    delta: Decimal
    gamma: float
    price_lower: Decimal | None = None
    price_upper: Decimal | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class AssetRow:
    asset: str
    lp_delta: Decimal
    hedge: Decimal
    gamma: float
    value_usd: Decimal
    price_usd: Decimal


@dataclasses.dataclass(frozen=True, slots=True)
class Tick:
    """What the bot saw at one tick: chain block, positions, exposure, hedges, market."""

    block: int
    block_ts: int
    positions: tuple[PositionRow, ...]
    assets: tuple[AssetRow, ...]
    marks: Mapping[str, Decimal]
    exposure: Mapping[str, Decimal]  # asset -> net LP delta, signed base units


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    strategy: str
    params: Mapping[str, Any]
    asset: str
    symbol: str
    current: Decimal
    target_base: Decimal
    act: bool
    reason: str
    plan_id: str


@dataclasses.dataclass(frozen=True, slots=True)
class Halt:
    reason: str
    source: str
    flatten: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class ErrorEvent:
    where: str
    message: str


@dataclasses.dataclass(frozen=True, slots=True)
class ReconcileDiff:
    what: str
    symbol: str
    ledger: str
    venue: str
    action: str
    venue_id: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Skipped:
    plan_id: str
    asset: str
    symbol: str
    wanted_base: Decimal
    reason: str


@dataclasses.dataclass(frozen=True, slots=True)
class OptionSettlement:
    """An option held at expiry, cash-settled against the underlying's settlement price.

    `contracts` and `size_base` are signed as held (long > 0); `payout` is what the holder
    is credited (negative for a short in the money), in `currency` (ETH on Deribit, USDT
    or USDC on USD-settled venues), and `payout_usd` the same in USD at `settle_price`.
    """

    venue: str
    symbol: str
    asset: str
    contracts: Decimal
    size_base: Decimal
    strike: Decimal
    option_type: str
    expiry_ms: int
    settle_price: Decimal
    payout: Decimal
    currency: str
    payout_usd: Decimal


@dataclasses.dataclass(frozen=True, slots=True)
class GreeksRow:
    """The whole book's sensitivities on one asset at one tick (units as `Greeks`).

    LP and perp deltas are exact (base units); option figures sum quantity x per-unit
    greeks, taken from the venue when it gives them, else from Black-76 (`source`).
    `options_expiry_delta` is the options' delta at expiry if the price stays put (their
    intrinsic delta): what `options_overlay`'s perp offsets.
    """

    asset: str
    price_usd: Decimal
    lp_delta: Decimal
    lp_gamma: float
    perp_delta: Decimal
    options_delta: float
    options_gamma: float
    options_vega: float
    options_theta: float
    options_value_usd: Decimal
    source: str
    options_expiry_delta: float = 0.0


@dataclasses.dataclass(frozen=True, slots=True)
class BookGreeks:
    block: int
    rows: tuple[GreeksRow, ...]


def _encode(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return value if abs(value) < 2**53 else str(value)
    if isinstance(value, Decimal):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    raise TypeError(f"cannot encode {type(value).__name__} into a ledger payload")


def to_payload(event: object) -> dict[str, Any]:
    """A dataclass -> exact JSON-able dict (Decimal and ints >= 2**53 as strings)."""
    out = _encode(event)
    if not isinstance(out, dict):
        raise TypeError("a ledger payload must be a dataclass or a mapping")
    return out


def _decode(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if value is None:
        return None
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _decode(inner[0], value) if len(inner) == 1 else value
    if tp is Decimal:
        return Decimal(str(value))
    if tp is int:
        return int(value)
    if tp is float:
        return float(value)
    if isinstance(tp, type) and issubclass(tp, Enum):
        return tp(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return from_payload(tp, value)
    if origin is tuple:
        return tuple(_decode(args[0], v) for v in value)
    if origin in (Mapping, dict, typing.Mapping):
        return {k: _decode(args[1], v) for k, v in value.items()}
    return value


def from_payload(cls: type[T], payload: Mapping[str, Any]) -> T:
    """The inverse of `to_payload` for the dataclasses of this module and bot.domain.orders."""
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs = {k: _decode(hints[k], v) for k, v in payload.items() if k in names}
    return cls(**kwargs)


PAYLOAD_TYPES: Mapping[str, type] = {
    RUN_STARTED: RunStarted,
    TICK: Tick,
    DECISION: Decision,
    ORDER_INTENT: OrderIntent,
    ORDER_UPDATE: OrderAck,
    FILL: Fill,
    FUNDING: FundingPayment,
    HALT: Halt,
    ERROR: ErrorEvent,
    RECONCILE_DIFF: ReconcileDiff,
    SKIPPED: Skipped,
    OPTION_SETTLEMENT: OptionSettlement,
    BOOK_GREEKS: BookGreeks,
    LIQUIDATION: Liquidation,
    ACCOUNT_STATE: AccountState,
}
