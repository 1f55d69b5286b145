"""The chain reader's log scans kept in the ledger (SCAN_STATE), so a restart goes on from
the last block saved instead of scanning a chain's history again.

Saved when the NFTs found change (at once: a restart must not miss one) and otherwise at
most every `SAVE_EVERY_MS`, so a steady bot writes a row every few minutes, not a tick.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from bot.domain import events as ev
from bot.ports import LedgerReader, ScanningSource

SAVE_EVERY_MS = 600_000
log = logging.getLogger(__name__)


def _held(state: Mapping[str, Any]) -> dict[str, Any]:
    return {chain: scan.get("held") for chain, scan in state.items() if isinstance(scan, Mapping)}


class ScanKeeper:
    """Restores the source's scans from the ledger at start and saves them after ticks."""

    def __init__(self, source: object, append: Callable[[str, object], int]) -> None:
        self._source = source if isinstance(source, ScanningSource) else None
        self._append = append
        self._saved: Mapping[str, Any] = {}
        self._saved_ms: int | None = None

    def restore(self, ledger: LedgerReader) -> None:
        if self._source is None:
            return
        last = ledger.last(ev.SCAN_STATE)
        chains = last.payload.get("chains") if last is not None else None
        if isinstance(chains, Mapping):
            self._source.restore_scans(chains)
            self._saved = chains

    def save(self, now_ms: int) -> None:
        """A SCAN_STATE row when the scans moved on and are due (or found other NFTs)."""
        if self._source is None:
            return
        state = dict(self._source.scan_state())
        if not state or state == self._saved:
            return
        found_other = _held(state) != _held(self._saved)
        due = self._saved_ms is None or now_ms - self._saved_ms >= SAVE_EVERY_MS
        if not (found_other or due):
            return
        self._append(ev.SCAN_STATE, {"chains": state})
        self._saved, self._saved_ms = state, now_ms
