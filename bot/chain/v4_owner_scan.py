"""An owner's Uniswap v4 NFTs, from the PositionManager's ERC-721 `Transfer` logs.

The v4 PositionManager cannot enumerate an owner's tokens, so they are found the way a
wallet finds them: every `Transfer` to or from the owners, scanned once from
`v4_scan_from_block` up to the tick's block, then only the new blocks each tick (two
`eth_getLogs` a tick, filtered by the owners at the node). The scan is a hint, not the
truth: the tick reads each found id's `ownerOf` at its own block and keeps only those the
owners still hold (a transfer in a block that was later reorganised away is dropped that
way), and `balanceOf` still says when some are missing.

The scan's state (`to_json`) is kept in the ledger by the engine, so a restart goes on
from the last block saved instead of scanning again from `v4_scan_from_block` (two million
blocks of mainnet since v4's launch: 200 eth_getLogs pairs). It goes on `REORG_MARGIN`
blocks before that block, in case the blocks last scanned were reorganised away, and only
for the same position manager, owners and start block; anything else scans from the start.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eth_utils.crypto import keccak

from bot.chain.abi import checksum
from bot.errors import ChainUnavailable

TRANSFER = "0x" + keccak(b"Transfer(address,address,uint256)").hex()
REORG_MARGIN = 128  # blocks scanned again when a saved scan is resumed
log = logging.getLogger(__name__)


def _topic(address: str) -> str:
    return "0x" + "0" * 24 + address.lower().removeprefix("0x")


def _position(log: dict[str, Any]) -> tuple[int, int]:
    return int(log["blockNumber"], 16), int(log["logIndex"], 16)


def _address(topic: str) -> str:
    return checksum(bytes.fromhex(topic.removeprefix("0x")[-40:]))


@dataclass
class OwnerScan:
    """Token ids of `owners` at `position_manager`, by the logs up to `scanned_to`."""

    position_manager: str
    owners: tuple[str, ...]
    from_block: int = 0
    chunk_blocks: int = 10_000  # what public RPCs allow in one eth_getLogs
    held: dict[int, str] = field(default_factory=dict)  # token id -> its owner (of ours)
    scanned_to: int = field(init=False)

    _resumed: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.scanned_to = self.from_block - 1

    def to_json(self) -> dict[str, Any]:
        """What a restart needs to go on from here (JSON: ids as strings)."""
        return {
            "position_manager": self.position_manager,
            "owners": sorted(self.owners),
            "from_block": self.from_block,
            "scanned_to": self.scanned_to,
            "held": {str(token_id): owner for token_id, owner in sorted(self.held.items())},
        }

    def resume(self, saved: Mapping[str, Any]) -> bool:
        """Go on from a saved scan of the same manager, owners and start block (else False:
        scan from the start); REORG_MARGIN blocks before where it stopped."""
        try:
            same = (
                saved["position_manager"] == self.position_manager
                and sorted(saved["owners"]) == sorted(self.owners)
                and int(saved["from_block"]) == self.from_block
            )
            scanned_to = int(saved["scanned_to"])
            held = {int(t): str(o) for t, o in dict(saved["held"]).items()}
        except (KeyError, TypeError, ValueError):
            return False
        if not same or any(owner not in self.owners for owner in held.values()):
            return False
        self.scanned_to = max(self.from_block - 1, scanned_to - REORG_MARGIN)
        self.held = held
        self._resumed = True
        return True

    async def advance(self, rpc: Any, to_block: int) -> bool:
        """Scan up to `to_block` with `rpc` (`bot.chain.rpc.RpcClient`); True when the held
        ids changed."""
        if self._resumed and self.scanned_to > to_block:
            # saved past this chain's head: another chain or a reset dev chain, start over
            log.warning(
                "v4 owner scan saved up to block %d, but the chain is at %d: scanning "
                "again from block %d",
                self.scanned_to + REORG_MARGIN,
                to_block,
                self.from_block,
            )
            self.scanned_to, self.held = self.from_block - 1, {}
        self._resumed = False
        before = dict(self.held)
        while self.scanned_to < to_block:
            lo = self.scanned_to + 1
            hi = min(to_block, lo + self.chunk_blocks - 1)
            logs = await self._logs(rpc, lo, hi)
            for entry in sorted(logs, key=_position):
                self._apply(entry)
            self.scanned_to = hi
        return self.held != before

    async def _logs(self, rpc: Any, lo: int, hi: int) -> list[dict[str, Any]]:
        owners = [_topic(o) for o in self.owners]
        base = {"address": self.position_manager, "fromBlock": hex(lo), "toBlock": hex(hi)}
        received = {**base, "topics": [TRANSFER, None, owners]}
        sent = {**base, "topics": [TRANSFER, owners]}
        got = await rpc.batch([("eth_getLogs", [received]), ("eth_getLogs", [sent])])
        out: list[dict[str, Any]] = []
        for answer in got:
            if isinstance(answer, BaseException):
                raise ChainUnavailable(
                    f"eth_getLogs of v4 transfers (blocks {lo}-{hi}) failed: {answer}"
                )
            out += [e for e in answer if not e.get("removed")]
        unique = {(e["blockNumber"], e["logIndex"]): e for e in out}  # a self-transfer is in both
        return list(unique.values())

    def _apply(self, log: dict[str, Any]) -> None:
        topics = log["topics"]
        if len(topics) != 4 or topics[0] != TRANSFER:
            return
        to, token_id = _address(topics[2]), int(topics[3], 16)
        if to in self.owners:
            self.held[token_id] = to
        else:
            self.held.pop(token_id, None)
