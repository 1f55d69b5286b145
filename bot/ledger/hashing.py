"""Canonical JSON for ledger payloads and the sha256 hash chain over events.

Canonical means: sorted keys, no spaces, ASCII only, Decimals and integers beyond
JavaScript's 2**53 as strings, so the same event hashes the same in any language and
after any round trip through SQLite or PostgreSQL text columns.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any

from bot.errors import InputError

GENESIS_HASH = "0" * 64
"""The `prev_hash` of the first event: 64 zeros, the width of a sha256 hex digest."""

MAX_SAFE_INT = 2**53
"""Integers with magnitude at or above this are stored as strings (JSON readers lose them)."""


def to_json_value(value: Any) -> Any:
    """Turn Decimal/int/Enum/dataclass/mapping/sequence into exact JSON values.

    Decimals become their plain decimal string ("0.000000000000000001"), large ints their
    decimal string, Enums their value, dataclasses their fields. NaN and infinities are
    refused: they have no exact meaning in a money ledger.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, Enum):
        return to_json_value(value.value)
    if isinstance(value, int):
        return str(value) if abs(value) >= MAX_SAFE_INT else value
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InputError(f"ledger payload: {value!r} is not a finite number")
        return value
    return _container_to_json(value)


def _container_to_json(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError(f"ledger payload: key {key!r} must be a string")
            out[key] = to_json_value(item)
        return out
    if isinstance(value, (list, tuple)):
        return [to_json_value(item) for item in value]
    raise InputError(
        f"ledger payload: {type(value).__name__} value {value!r} is not JSON-able; "
        "pass str, int, Decimal, bool, None, Enum, a dataclass, a mapping or a list"
    )


def decimal_text(value: Decimal) -> str:
    """Plain (non-scientific) text of a finite Decimal: Decimal("1E-3") -> "0.001"."""
    if not value.is_finite():
        raise InputError(f"ledger payload: Decimal {value} is not finite")
    return format(value, "f")


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, ASCII: the one byte form that is hashed and stored."""
    return canonical_dumps(to_json_value(value))


def canonical_dumps(json_value: Any) -> str:
    """`canonical_json` of a value that is JSON already (what `to_json_value` returned):
    the same bytes without walking the value a second time."""
    return json.dumps(
        json_value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def event_hash(
    *,
    seq: int,
    ts_ms: int,
    run_id: str | None,
    kind: str,
    payload: Mapping[str, Any],
    prev_hash: str,
    payload_json: str | None = None,
) -> str:
    """sha256 hex over the canonical JSON of the event's fields and its predecessor's hash.

    `payload_json`, when the caller has it, is `canonical_json(payload)`: spliced in where
    the payload goes (keys sort as kind, payload, prev_hash, run_id, seq, ts_ms), so a large
    payload is not serialised twice; the bytes hashed are the same."""
    if payload_json is None:
        payload_json = canonical_json(payload)
    head = canonical_dumps
    body = (
        f'{{"kind":{head(kind)},"payload":{payload_json},"prev_hash":{head(prev_hash)},'
        f'"run_id":{head(run_id)},"seq":{head(to_json_value(seq))},'
        f'"ts_ms":{head(to_json_value(ts_ms))}}}'
    )
    return hashlib.sha256(body.encode("ascii")).hexdigest()


def stable_key64(text: str) -> int:
    """A signed 64-bit integer from sha256(text): PostgreSQL advisory lock keys are bigint."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
