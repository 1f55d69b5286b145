"""The values every way of sending view calls shares: a call, its result, the block it ran at.

Both transports (Multicall3 `aggregate3`, or a JSON-RPC batch of plain `eth_call`s where
no Multicall3 is deployed) take `Call`s and give back one `CallResult` each, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.chain.abi import view


@dataclass(frozen=True, slots=True)
class Call:
    """A view call: `target` as a lowercase 0x address, `data` the calldata."""

    target: str
    data: bytes


@dataclass(frozen=True, slots=True)
class CallResult:
    success: bool
    data: bytes


@dataclass(frozen=True, slots=True)
class BlockHeader:
    """The block a read is pinned to: its number and timestamp (unix seconds)."""

    number: int
    timestamp: int


@dataclass(frozen=True, slots=True)
class Fetched:
    """One round's results, in call order; `header` when the round was asked for it."""

    results: list[CallResult]
    header: BlockHeader | None


def call(target: str, abi_name: str, fn_name: str, *args: object) -> Call:
    return Call(target.lower(), view(abi_name, fn_name).encode(*args))


def is_revert(error: Any) -> bool:
    """A JSON-RPC error that says the call reverted (code 3 from geth, reth, anvil;
    geth without revert data says -32000 "execution reverted")."""
    if not isinstance(error, dict):
        return False
    return error.get("code") == 3 or "revert" in str(error.get("message", "")).lower()
