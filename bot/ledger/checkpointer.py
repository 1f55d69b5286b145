"""The bot's checkpoint writer: it signs the tip only when it wrote every event since the
last checkpoint itself.

Signing whatever the tip holds would anchor a forgery: someone with database write access
appends an event with a correct hash, and the next checkpoint vouches for it. So the writer
remembers (seq, hash) of each of its own appends (`Ledger.on_append`) and, before signing,
walks the tail from the last checkpoint: the anchor must still be there with its hash, the
links must hold, every event must be one of its own, and none of its own may be gone.
Events an operator command wrote and witnessed in the file under the key (`lphedge halt`,
`resume`) count as vouched for. Otherwise it refuses, logs an error and alerts once per
problem. An operator clears a
refusal by reviewing the tail and signing it (`lphedge ledger checkpoint --through SEQ`); the
writer picks that checkpoint up from the file.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.ledger import checkpoint_file
from bot.ledger.anchors import Link
from bot.ledger.checkpoints import Checkpoint, sign, to_line
from bot.ledger.hashing import GENESIS_HASH
from bot.ledger.store import Ledger
from bot.ports import Clock

log = logging.getLogger("lphedge.ledger.checkpoint")

Alert = Callable[[str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Anchor:
    """The newest checkpoint this writer trusts: seq, hash and count of its tip."""

    seq: int
    hash: str
    count: int


GENESIS = Anchor(0, GENESIS_HASH, 0)


def write_witness(ledger: Ledger, path: Path, key: bytes, seq: int, ts_ms: int) -> Checkpoint:
    """Record, signed, that an operator command wrote event `seq` (see
    `Checkpoint.witness`), so a running bot's writer signs over it instead of raising a
    tamper alert."""
    facts = ledger.facts([seq])
    cp = sign(
        Checkpoint(
            ledger=facts.first_hash or GENESIS_HASH,
            where=ledger.describe(),
            seq=seq,
            count=seq,
            tip_hash=facts.hashes[seq],
            ts_ms=ts_ms,
            run_id="operator",
            witness=True,
        ),
        key,
    )
    checkpoint_file.append(path, cp)
    return cp


class Checkpointer:
    """Writes signed checkpoints of what this process appended; see the module docstring.

    Call `observe` after each tick (an engine observer; it writes at most every `every_s`)
    and `close` on a clean shutdown (a last checkpoint, so a restart starts anchored)."""

    def __init__(
        self,
        ledger: Ledger,
        key: bytes,
        path: Path,
        clock: Clock,
        run_id: str,
        *,
        every_s: float = 60.0,
        alert: Alert | None = None,
    ) -> None:
        self._ledger, self._key, self._path = ledger, key, path
        self._clock, self._run_id, self._every_ms = clock, run_id, int(every_s * 1000)
        self._alert = alert
        self._own: dict[int, str] = {}
        self._anchor = self._from_file() or GENESIS
        self._last_ms: int | None = None
        self._reported: set[str] = set()
        self.refusal: str | None = None  # why the last attempt did not sign (None: it did)
        checkpoint_file.check_writable(path)
        ledger.on_append(self._record)

    def _record(self, seq: int, digest: str) -> None:
        self._own[seq] = digest

    def _from_file(self) -> Anchor | None:
        cp = checkpoint_file.last_signed(self._path, self._key)
        return None if cp is None else Anchor(cp.seq, cp.tip_hash, cp.count)

    async def observe(self, _result: object) -> None:
        """After a tick: checkpoint when `every_s` has passed since the last attempt."""
        now = self._clock.now_ms()
        if self._last_ms is not None and now - self._last_ms < self._every_ms:
            return
        self._last_ms = now
        await self.checkpoint()

    async def close(self) -> None:
        """On a clean shutdown: a last checkpoint of this run's events."""
        await self.checkpoint()

    async def checkpoint(self) -> Checkpoint | None:
        """Sign and write the tip if this writer can vouch for it; the checkpoint written,
        or None (nothing new of ours, or refused: see `refusal`)."""
        if not any(seq > self._anchor.seq for seq in self._own):
            return None  # nothing of ours to anchor (a refused second bot stays silent)
        tail = self._ledger.links_from(self._anchor.seq)
        refused = self._vouch(tail)
        if refused is not None:
            newer = self._from_file()  # an operator may have signed the tail by now
            if newer is not None and newer.seq > self._anchor.seq:
                self._anchor = newer
                return await self.checkpoint()
            await self._refuse(*refused)
            return None
        return self._write(tail[-1])

    def _vouch(self, tail: list[Link]) -> tuple[str, int | None] | None:
        """Why this writer cannot sign `tail` (the anchor, then every event after it)."""
        a = self._anchor
        if a.seq > 0 and (not tail or (tail[0].seq, tail[0].hash) != (a.seq, a.hash)):
            return (
                f"the ledger no longer holds seq {a.seq} with the hash last checkpointed "
                "(cut or rewritten)"
            ), None
        after = tail[1:] if a.seq > 0 else tail
        prev_seq, prev_hash = a.seq, a.hash
        witnessed: dict[int, str] | None = None
        for link in after:
            if link.seq != prev_seq + 1 or link.prev_hash != prev_hash:
                return f"broken link at seq {link.seq}", None
            if self._own.get(link.seq) != link.hash and witnessed is None:
                witnessed = checkpoint_file.witnessed(self._path, self._key, a.seq)
            vouched = link.hash in (self._own.get(link.seq), (witnessed or {}).get(link.seq))
            if not vouched:
                return (
                    f"event {link.seq} was not written by this bot (run {self._run_id[:8]}); "
                    "an operator's halt/resume, a previous run that crashed, or a forgery"
                ), link.seq
            prev_seq, prev_hash = link.seq, link.hash
        gone = [seq for seq in self._own if seq > prev_seq]
        if gone:
            return f"event {min(gone)} this bot wrote is gone (the tip was cut)", None
        return None

    def _write(self, tip: Link) -> Checkpoint | None:
        if tip.seq == self._anchor.seq:
            return None
        count = self._anchor.count + (tip.seq - self._anchor.seq)
        cp = self._signed(tip.seq, tip.hash, count, None)
        try:
            checkpoint_file.append(self._path, cp)
        except OSError as err:
            log.error("ledger checkpoint not written to %s: %s", self._path, err.strerror)
            return None
        log.info(
            "ledger checkpoint: seq %s, %s events, tip %s %s",
            cp.seq,
            count,
            cp.tip_hash,
            to_line(cp),
        )
        self._anchor = Anchor(cp.seq, cp.tip_hash, count)
        self._own = {s: h for s, h in self._own.items() if s > cp.seq}
        self.refusal = None
        return cp

    def _signed(self, seq: int, tip_hash: str, count: int, disowned: int | None) -> Checkpoint:
        return sign(
            Checkpoint(
                ledger=self._ledger.facts().first_hash or GENESIS_HASH,
                where=self._ledger.describe(),
                seq=seq,
                count=count,
                tip_hash=tip_hash,
                ts_ms=self._clock.now_ms(),
                run_id=self._run_id,
                disowned=disowned,
            ),
            self._key,
        )

    def _disown(self, seq: int) -> None:
        """Put the refusal on record, signed: verify then names the event as not ours."""
        a = self._anchor
        try:
            checkpoint_file.append(self._path, self._signed(a.seq, a.hash, a.count, seq))
        except OSError as err:
            log.error("ledger checkpoint not written to %s: %s", self._path, err.strerror)

    async def _refuse(self, problem: str, disowned: int | None) -> None:
        tip = self._ledger.facts().tip_seq
        text = (
            f"ledger checkpoint refused: {problem}; events {self._anchor.seq + 1}..{tip} stay "
            "unanchored until an operator reviews them (lphedge ledger tail) and signs them "
            f"(lphedge ledger checkpoint --through {tip})"
        )
        self.refusal = text
        if problem in self._reported:
            return
        self._reported.add(problem)
        if disowned is not None:
            self._disown(disowned)
        log.error("%s", text)
        if self._alert is not None:
            await self._alert(text)
