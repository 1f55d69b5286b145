"""Signed checkpoints of the ledger's tip: what anchors the tail the hash chain cannot.

A hash chain shows an edit in the middle, but not a cut at the tip, a forged event
appended with a correct hash, or an edit re-hashed all the way to the tip. A checkpoint
(seq and hash of the tip, event count, time, run) signed with HMAC-SHA256 under a key the
database never sees, and kept outside it, pins the chain: a later ledger must still hold
that seq with that hash. Everything here is pure (no files, no database): encode, sign,
parse, and `audit` a list of checkpoints against what a ledger holds.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from bot.ledger.hashing import canonical_dumps

VERSION = 1
_DOMAIN = b"lphedge-ledger-checkpoint-v1\n"  # so this MAC can never be mistaken for another
_FIELDS = ("v", "ledger", "where", "seq", "count", "tip_hash", "ts_ms", "run_id", "disowned")
_HEX64 = frozenset("0123456789abcdef")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The ledger at one moment. `ledger` is the hash of its first event (its identity,
    which moves with the data); `where` says where it was (path or host/database, no
    credentials), for people; `mac` is hex HMAC-SHA256 over `encode(self)`. `disowned`,
    when set, is a writer's signed refusal: "events from this seq on are not mine".
    `witness` marks an operator command's record of the one event it wrote (seq, hash):
    it pins that event like a checkpoint, but vouches for nothing before it, so it never
    anchors the tail; the running bot's writer accepts that event as written by a key
    holder (`bot.ledger.checkpointer`)."""

    ledger: str
    where: str
    seq: int
    count: int
    tip_hash: str
    ts_ms: int
    run_id: str | None
    mac: str = ""
    v: int = VERSION
    disowned: int | None = None
    witness: bool = False


def _body(cp: Checkpoint) -> dict[str, Any]:
    body = {name: getattr(cp, name) for name in _FIELDS}
    if cp.witness:  # only when set, so checkpoints signed before it existed still verify
        body["witness"] = True
    return body


def encode(cp: Checkpoint) -> bytes:
    """The canonical bytes signed: the fields but `mac`, as sorted compact ASCII JSON."""
    return _DOMAIN + canonical_dumps(_body(cp)).encode("ascii")


def _mac(cp: Checkpoint, key: bytes) -> str:
    return hmac.new(key, encode(cp), hashlib.sha256).hexdigest()


def sign(cp: Checkpoint, key: bytes) -> Checkpoint:
    """`cp` with its `mac` set under `key`."""
    return replace(cp, mac=_mac(cp, key))


def signature_ok(cp: Checkpoint, key: bytes) -> bool:
    """True when `cp.mac` is the MAC of its fields under `key` (constant-time compare)."""
    return hmac.compare_digest(cp.mac.encode("ascii", "replace"), _mac(cp, key).encode("ascii"))


def to_line(cp: Checkpoint) -> str:
    """One JSON line (no newline) for the checkpoint file and the log."""
    return canonical_dumps(_body(cp) | {"mac": cp.mac})


class CheckpointFormatError(ValueError):
    """A checkpoint line that does not parse: edited by hand, or not a checkpoint."""


def _int(body: Mapping[str, Any], name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CheckpointFormatError(f"{name} must be an integer >= 0")
    return value


def _str(body: Mapping[str, Any], name: str, *, optional: bool = False) -> str | None:
    value = body.get(name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise CheckpointFormatError(f"{name} must be a string")
    return value


def _hex64(body: Mapping[str, Any], name: str) -> str:
    value = _str(body, name) or ""
    if len(value) != 64 or not set(value) <= _HEX64:
        raise CheckpointFormatError(f"{name} must be 64 lowercase hex characters")
    return value


def parse_line(line: str) -> Checkpoint:
    """The checkpoint of one line of the file; CheckpointFormatError if it is not one."""
    try:
        body = json.loads(line)
    except ValueError:
        raise CheckpointFormatError("not JSON") from None
    if not isinstance(body, dict):
        raise CheckpointFormatError("not a JSON object")
    unknown = sorted(set(body) - {*_FIELDS, "mac", "witness"})
    if unknown:
        raise CheckpointFormatError(f"unknown field(s) {', '.join(unknown)}")
    if body.get("v") != VERSION:
        raise CheckpointFormatError(f"version must be {VERSION}")
    if body.get("witness", True) is not True:
        raise CheckpointFormatError("witness must be true when present")
    return Checkpoint(
        ledger=_hex64(body, "ledger"),
        where=_str(body, "where") or "",
        seq=_int(body, "seq"),
        count=_int(body, "count"),
        tip_hash=_hex64(body, "tip_hash"),
        ts_ms=_int(body, "ts_ms"),
        run_id=_str(body, "run_id", optional=True),
        mac=_hex64(body, "mac"),
        disowned=None if body.get("disowned") is None else _int(body, "disowned"),
        witness="witness" in body,
    )


@dataclass(frozen=True, slots=True)
class LedgerFacts:
    """What the ledger holds, as far as an audit needs: its identity (hash of seq 1, or
    None when empty), its tip seq, its event count, and its hash at each asked-for seq."""

    first_hash: str | None
    tip_seq: int
    count: int
    hashes: Mapping[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Audit:
    """The outcome of `audit`: problems (tampering, first one first), events a writer
    refused to sign (tampering too, unless an operator vouches for them), and warnings."""

    checked: int
    problems: tuple[str, ...]
    warnings: tuple[str, ...]
    last: Checkpoint | None
    disowned: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems and not self.disowned


def _when(cp: Checkpoint) -> str:
    return datetime.fromtimestamp(cp.ts_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _against_ledger(cp: Checkpoint, facts: LedgerFacts) -> str | None:
    """What is wrong with the ledger given this (authentic) checkpoint, or None."""
    at = f"checkpoint at {_when(cp)}"
    if facts.tip_seq < cp.seq:
        return f"truncated: ledger ends at seq {facts.tip_seq} but {at} says seq {cp.seq}"
    if facts.count < cp.count:
        return f"events deleted: ledger holds {facts.count} events but {at} counted {cp.count}"
    if facts.first_hash is not None and facts.first_hash != cp.ledger:
        return (
            f"rewritten from seq 1 (or another ledger's checkpoint): {at} names first "
            f"event {cp.ledger[:12]}…"
        )
    held = facts.hashes.get(cp.seq)
    if cp.seq > 0 and held != cp.tip_hash:
        return (
            f"forged or re-hashed: seq {cp.seq} has hash {str(held)[:12]}… but {at} "
            f"signed {cp.tip_hash[:12]}…"
        )
    return None


def audit(lines: Sequence[tuple[int, str]], key: bytes, facts: LedgerFacts) -> Audit:
    """Check every checkpoint line (line number, text): it parses, its MAC is right, and
    the ledger still holds its seq with its hash and at least its
    count. Events after the last checkpoint are a warning (nothing vouches for them)."""
    problems: list[str] = []
    last: Checkpoint | None = None
    disowned: list[Checkpoint] = []
    witnessed: set[int] = set()
    for number, line in lines:
        try:
            cp = parse_line(line)
        except CheckpointFormatError as err:
            problems.append(f"checkpoint file line {number} is not a checkpoint ({err}): edited?")
            continue
        if not signature_ok(cp, key):
            problems.append(
                f"checkpoint file line {number}: bad signature (forged or edited, or another key)"
            )
            continue
        problem = _against_ledger(cp, facts)
        if problem is not None:
            problems.append(f"{problem} (line {number})")
        if cp.witness:
            witnessed.add(cp.seq)
            continue
        last = cp if last is None or cp.seq >= last.seq else last
        if cp.disowned is not None:
            disowned.append(cp)
    warnings: list[str] = []
    unanchored = facts.tip_seq - (last.seq if last else 0)
    if unanchored > 0:
        warnings.append(f"{unanchored} events after the last checkpoint are not anchored")
    refused = tuple(_disowned([d for d in disowned if d.disowned not in witnessed], last, facts))
    return Audit(len(lines), tuple(problems), tuple(warnings), last, refused)


def _disowned(
    refusals: Sequence[Checkpoint], last: Checkpoint | None, facts: LedgerFacts
) -> list[str]:
    """Events a writer refused to sign that the ledger still holds and no checkpoint has
    signed since: appended by someone else, perhaps forged."""
    signed_through = last.seq if last else 0
    out = []
    for cp in refusals:
        seq = cp.disowned or 0
        if facts.tip_seq >= seq > signed_through:
            out.append(
                f"event {seq} was not written by the bot: its writer (run {str(cp.run_id)[:8]}) "
                f"refused to sign it at {_when(cp)}; forged, unless an operator wrote it "
                f"(review: lphedge ledger tail; vouch: lphedge ledger checkpoint --through N)"
            )
    return out


def checkpointed_seqs(lines: Sequence[tuple[int, str]]) -> list[int]:
    """The seqs the parseable lines name, to fetch their hashes before `audit`."""
    seqs: set[int] = set()
    for _, line in lines:
        try:
            seqs.add(parse_line(line).seq)
        except CheckpointFormatError:
            continue
    return sorted(seqs)
