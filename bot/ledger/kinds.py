"""The payload schema of every event kind, in one place: kind -> typed-table row.

A payload is the canonical JSON value of what the caller appended (Decimals are strings
by then). The mapper turns it into the typed row written beside the event; `verify`
runs the same mapper again and compares, so a typed row can never drift from its event.
Payloads built with `to_json_value(<domain dataclass>)` fit as they are, plus the
extra keys named below.

Kinds and their payload keys (`?` = optional):
- run_started: mode, config_digest, version; run_id from the event (or payload run_id)
- run_stopped: free-form (reason?); events table only
- tick: block, block_ts, exposure {asset: signed base quantity}; anything else is kept
- decision: strategy, params {..}, asset, symbol?, target_base, reason (HedgeTarget + strategy)
- order_intent: an OrderIntent: client_id, plan_id, leg, venue, symbol, side, amount,
  amount_base?, reduce_only, reason, decision_price
- order_update: an OrderAck: client_id, status, filled, average_price?, venue_order_id?
- fill: a Fill + venue: venue, trade_id, client_id, symbol, side, amount, price, fee, fee_currency
- funding: a FundingPayment: venue, payment_id, symbol, amount, currency, rate
- halt / resume: reason, source
- error: where, message
- reconcile_diff, paper_state, note: free-form; events table only
Any other kind is stored in `ledger_events` only.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.errors import InputError
from bot.ledger.hashing import canonical_json
from bot.ledger.models import (
    Base,
    DecisionRow,
    ErrorRow,
    FillRow,
    FundingRow,
    HaltRow,
    OrderIntentRow,
    OrderUpdateRow,
    RunRow,
    TickRow,
)

KNOWN_KINDS: tuple[str, ...] = (
    "run_started",
    "run_stopped",
    "tick",
    "decision",
    "order_intent",
    "order_update",
    "fill",
    "funding",
    "halt",
    "resume",
    "error",
    "reconcile_diff",
    "paper_state",
    "note",
)


@dataclass(frozen=True, slots=True)
class EventHead:
    """The parts of an event a mapper may use besides its payload."""

    kind: str
    ts_ms: int
    run_id: str | None


class _Fields:
    """Typed access to payload keys with error messages that name the kind and the key."""

    def __init__(self, kind: str, payload: Mapping[str, Any]) -> None:
        self.kind = kind
        self.payload = payload

    def _get(self, key: str, optional: bool) -> Any:
        value = self.payload.get(key)
        if value is None and not optional:
            raise InputError(f"ledger {self.kind} payload: {key!r} is required")
        return value

    def text(self, key: str) -> str:
        value = self._get(key, False)
        if not isinstance(value, str):
            raise InputError(f"ledger {self.kind} payload: {key!r} must be a string")
        return value

    def opt_text(self, key: str) -> str | None:
        value = self._get(key, True)
        return None if value is None else str(value)

    def integer(self, key: str) -> int:
        value = self._get(key, False)
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise InputError(f"ledger {self.kind} payload: {key!r} must be an integer")
        try:
            return int(value)
        except ValueError:
            raise InputError(
                f"ledger {self.kind} payload: {key!r}={value!r} is not an integer"
            ) from None

    def decimal(self, key: str) -> Decimal:
        value = self._get(key, False)
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise InputError(
                f"ledger {self.kind} payload: {key!r} must be a Decimal, int or decimal string "
                "(floats are not exact)"
            )
        try:
            result = Decimal(value)
        except InvalidOperation:
            raise InputError(
                f"ledger {self.kind} payload: {key!r}={value!r} is not a number"
            ) from None
        if not result.is_finite():
            raise InputError(f"ledger {self.kind} payload: {key!r} must be finite")
        return result

    def opt_decimal(self, key: str) -> Decimal | None:
        return None if self.payload.get(key) is None else self.decimal(key)

    def boolean(self, key: str) -> bool:
        value = self._get(key, False)
        if not isinstance(value, bool):
            raise InputError(f"ledger {self.kind} payload: {key!r} must be true or false")
        return value

    def json_object(self, key: str) -> str:
        value = self._get(key, False)
        if not isinstance(value, Mapping):
            raise InputError(f"ledger {self.kind} payload: {key!r} must be an object")
        return canonical_json(value)


Row = dict[str, Any]
Mapper = Callable[[EventHead, _Fields], Row]


def _run(head: EventHead, f: _Fields) -> Row:
    run_id = head.run_id or f.opt_text("run_id")
    if not run_id:
        raise InputError("ledger run_started: pass run_id to append (or in the payload)")
    return {
        "run_id": run_id,
        "mode": f.text("mode"),
        "started_ms": head.ts_ms,
        "config_digest": f.text("config_digest"),
        "version": f.text("version"),
    }


def _tick(head: EventHead, f: _Fields) -> Row:
    return {
        "block": f.integer("block"),
        "block_ts": f.integer("block_ts"),
        "exposure": f.json_object("exposure"),
    }


def _decision(head: EventHead, f: _Fields) -> Row:
    return {
        "strategy": f.text("strategy"),
        "params": f.json_object("params"),
        "asset": f.text("asset"),
        "symbol": f.opt_text("symbol"),
        "target_base": f.decimal("target_base"),
        "reason": f.text("reason"),
    }


def _order_intent(head: EventHead, f: _Fields) -> Row:
    return {
        "client_id": f.text("client_id"),
        "plan_id": f.text("plan_id"),
        "leg": f.integer("leg"),
        "venue": f.text("venue"),
        "symbol": f.text("symbol"),
        "side": f.text("side"),
        "amount": f.decimal("amount"),
        "amount_base": f.opt_decimal("amount_base"),
        "reduce_only": f.boolean("reduce_only"),
        "reason": f.text("reason"),
        "decision_price": f.decimal("decision_price"),
    }


def _order_update(head: EventHead, f: _Fields) -> Row:
    return {
        "client_id": f.text("client_id"),
        "status": f.text("status"),
        "filled": f.decimal("filled"),
        "average_price": f.opt_decimal("average_price"),
        "venue_order_id": f.opt_text("venue_order_id"),
    }


def _fill(head: EventHead, f: _Fields) -> Row:
    return {
        "venue": f.text("venue"),
        "trade_id": f.text("trade_id"),
        "client_id": f.text("client_id"),
        "symbol": f.text("symbol"),
        "side": f.text("side"),
        "amount": f.decimal("amount"),
        "price": f.decimal("price"),
        "fee": f.decimal("fee"),
        "fee_currency": f.text("fee_currency"),
    }


def _funding(head: EventHead, f: _Fields) -> Row:
    return {
        "venue": f.text("venue"),
        "payment_id": f.text("payment_id"),
        "symbol": f.text("symbol"),
        "amount": f.decimal("amount"),
        "currency": f.text("currency"),
        "rate": f.decimal("rate"),
    }


def _halt(head: EventHead, f: _Fields) -> Row:
    return {"reason": f.text("reason"), "source": f.text("source"), "active": head.kind == "halt"}


def _error(head: EventHead, f: _Fields) -> Row:
    return {"where": f.text("where"), "message": f.text("message")}


TYPED_KINDS: Mapping[str, tuple[type[Base], Mapper]] = {
    "run_started": (RunRow, _run),
    "tick": (TickRow, _tick),
    "decision": (DecisionRow, _decision),
    "order_intent": (OrderIntentRow, _order_intent),
    "order_update": (OrderUpdateRow, _order_update),
    "fill": (FillRow, _fill),
    "funding": (FundingRow, _funding),
    "halt": (HaltRow, _halt),
    "resume": (HaltRow, _halt),
    "error": (ErrorRow, _error),
}
"""kind -> (typed model, payload mapper). Kinds not listed live in `ledger_events` only."""

TYPED_MODELS: tuple[type[Base], ...] = tuple(dict.fromkeys(m for m, _ in TYPED_KINDS.values()))


def typed_row(head: EventHead, payload: Mapping[str, Any]) -> tuple[type[Base], Row] | None:
    """The typed model and column values for an event, or None for events-only kinds."""
    spec = TYPED_KINDS.get(head.kind)
    if spec is None:
        return None
    model, mapper = spec
    return model, mapper(head, _Fields(head.kind, payload))


def row_text(value: Any) -> Any:
    """A column value in the form compared by `verify` (Decimals by exact text)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def payload_of(text: str) -> dict[str, Any]:
    """Parse a stored payload; it is always a JSON object."""
    value = json.loads(text)
    if not isinstance(value, dict):
        raise InputError("ledger payload is not a JSON object")
    return value
