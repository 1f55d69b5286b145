"""The canonical encoding and hash are a file format: pin them so old ledgers keep verifying."""

from __future__ import annotations

import hashlib
from decimal import Decimal

import pytest

from bot.domain.orders import OrderStatus, Side
from bot.errors import InputError
from bot.ledger.hashing import GENESIS_HASH, canonical_json, event_hash, to_json_value

from .events import FUNDING


def test_canonical_json_is_sorted_compact_ascii_and_exact() -> None:
    value = {"b": 1, "a": Decimal("1E-18"), "c": 10**30, "d": -(2**53), "e": "é", "f": True}
    assert canonical_json(value) == (
        '{"a":"0.000000000000000001","b":1,"c":"1000000000000000000000000000000",'
        '"d":"-9007199254740992","e":"\\u00e9","f":true}'
    )


def test_to_json_value_of_domain_values() -> None:
    assert to_json_value(Side.BUY) == "buy" and to_json_value(OrderStatus.FILLED) == "filled"
    assert to_json_value(FUNDING) == {
        "venue": "binanceusdm",
        "symbol": "ETH/USDT:USDT",
        "amount": "-0.37",
        "currency": "USDT",
        "rate": "0.0001",
        "ts_ms": 1_700_000_000_000,
        "payment_id": "f-1",
    }
    with pytest.raises(InputError, match="not JSON-able"):
        to_json_value({"x": object()})
    with pytest.raises(InputError, match="not finite"):
        to_json_value(Decimal("NaN"))


def test_event_hash_is_sha256_of_the_documented_body() -> None:
    body = (
        '{"kind":"note","payload":{"text":"hi","x":"0.1"},"prev_hash":"' + GENESIS_HASH + '",'
        '"run_id":"r1","seq":1,"ts_ms":1700000000000}'
    )
    digest = event_hash(
        seq=1,
        ts_ms=1_700_000_000_000,
        run_id="r1",
        kind="note",
        payload={"text": "hi", "x": Decimal("0.1")},
        prev_hash=GENESIS_HASH,
    )
    assert digest == hashlib.sha256(body.encode()).hexdigest()
    assert digest == "69dc39fbac5b9e6058d4e72045bce9cc745b78132f433619bf3e025beefc8037"


def test_a_precomputed_payload_text_hashes_the_same_bytes() -> None:
    """The store passes the payload text it already made; the hash must not change."""
    payload = {"rows": [{"b": "2", "a": 1}] * 3, "big": str(2**60)}
    for run_id in ("r1", None):
        plain = event_hash(
            seq=9, ts_ms=5, run_id=run_id, kind="tick", payload=payload, prev_hash="ab"
        )
        spliced = event_hash(
            seq=9,
            ts_ms=5,
            run_id=run_id,
            kind="tick",
            payload=payload,
            prev_hash="ab",
            payload_json=canonical_json(payload),
        )
        full = canonical_json(
            {
                "seq": 9,
                "ts_ms": 5,
                "run_id": run_id,
                "kind": "tick",
                "payload": payload,
                "prev_hash": "ab",
            }
        )
        assert plain == spliced == hashlib.sha256(full.encode()).hexdigest()
