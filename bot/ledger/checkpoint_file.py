"""The checkpoint file: one signed JSON line per checkpoint, appended and fsynced.

Keep it outside the database, best on another host or append-only storage: whoever can
rewrite both the ledger and this file (and holds the key) can hide anything.
"""

from __future__ import annotations

import os
from pathlib import Path

from bot.errors import InputError
from bot.ledger.checkpoints import (
    Checkpoint,
    CheckpointFormatError,
    parse_line,
    signature_ok,
    to_line,
)

TAIL_BYTES = 64 * 1024
"""How much of the file's end `last_signed` reads to find the newest checkpoint."""


def append(path: Path, cp: Checkpoint) -> None:
    """Append `cp` as one line with a single write, then fsync: a crash leaves whole lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (to_line(cp) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def check_writable(path: Path) -> None:
    """Raise OSError now, not an hour into the run, if `path` cannot be appended to."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))


def read_lines(path: Path, flag: str = "--checkpoint") -> list[tuple[int, str]]:
    """(line number, text) of every non-blank line; InputError naming `flag` if unreadable."""
    try:
        with path.open("r", encoding="ascii", errors="replace") as f:
            return [(n, line.strip()) for n, line in enumerate(f, 1) if line.strip()]
    except FileNotFoundError:
        raise InputError(f"{flag}: no checkpoint file at {path}") from None
    except OSError as err:
        raise InputError(f"{flag}: cannot read {path}: {err.strerror}") from None


def _tail(path: Path, key: bytes) -> list[Checkpoint]:
    """The signed checkpoints in the file's last `TAIL_BYTES`, oldest first."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - TAIL_BYTES))
            chunk = f.read().decode("ascii", "replace")
    except FileNotFoundError:
        return []
    out = []
    for line in chunk.splitlines():
        try:
            cp = parse_line(line.strip())
        except CheckpointFormatError:
            continue
        if signature_ok(cp, key):
            out.append(cp)
    return out


def last_signed(path: Path, key: bytes) -> Checkpoint | None:
    """The newest anchoring checkpoint of the file signed under `key` (None: none);
    witnesses anchor nothing and are skipped."""
    anchors = [cp for cp in _tail(path, key) if not cp.witness]
    return anchors[-1] if anchors else None


def witnessed(path: Path, key: bytes, after_seq: int) -> dict[int, str]:
    """seq -> hash of the events after `after_seq` that an operator command wrote and
    witnessed under `key`."""
    return {cp.seq: cp.tip_hash for cp in _tail(path, key) if cp.witness and cp.seq > after_seq}
