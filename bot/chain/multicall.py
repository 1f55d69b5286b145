"""Multicall3 `aggregate3` pinned to one block, and rounds of dependent calls.

A tick's reads form a short chain of dependencies (owner -> token ids -> positions ->
pools -> pool state). `resolve` runs a pure *plan* against the results known so far; the
plan names the calls it still misses, and each round sends all of them in one HTTP
request (a JSON-RPC batch of `eth_call`s to aggregate3, chunked to stay under the node's
gas cap). So the number of requests follows the depth of the chain, never the number of
positions. Results that never change (decimals, pool addresses) are kept across ticks,
and the last tick's calls are prefetched, so a steady tick takes one request.

Where the configured address has no code (a fresh anvil has no Multicall3), the rounds go
out as plain `eth_call`s in one batch pinned to the block number (`plain_calls`): still
O(1) requests, one warning line per process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.chain.abi import view
from bot.chain.calls import BlockHeader, Call, CallResult, Fetched, is_revert
from bot.chain.plain_calls import fetch_plain
from bot.chain.rpc import RpcClient, RpcError
from bot.errors import ChainUnavailable, ConfigError

MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
_AGGREGATE3 = view("multicall3", "aggregate3").selector
_BLOCK_NUMBER = view("multicall3", "getBlockNumber")
_TIMESTAMP = view("multicall3", "getCurrentBlockTimestamp")
_WARNED_MISSING: set[str] = set()  # addresses already warned about in this process
T = TypeVar("T")
log = logging.getLogger("lphedge.chain")


def _pad(data: bytes) -> bytes:
    return data + bytes(-len(data) % 32)


def encode_aggregate3(calls: Sequence[Call]) -> bytes:
    """aggregate3((address,bool,bytes)[]) calldata, every call with allowFailure=true."""
    heads, tails, offset = [], [], 32 * len(calls)
    for c in calls:
        heads.append(offset.to_bytes(32, "big"))
        item = bytes(12) + bytes.fromhex(c.target[2:]) + (1).to_bytes(32, "big")
        item += (96).to_bytes(32, "big") + len(c.data).to_bytes(32, "big") + _pad(c.data)
        tails.append(item)
        offset += len(item)
    body = (32).to_bytes(32, "big") + len(calls).to_bytes(32, "big")
    return _AGGREGATE3 + body + b"".join(heads) + b"".join(tails)


def decode_aggregate3(data: bytes) -> list[CallResult]:
    """Decode the (bool,bytes)[] that aggregate3 returns."""
    start = int.from_bytes(data[0:32], "big")
    count = int.from_bytes(data[start : start + 32], "big")
    base = start + 32
    results = []
    for i in range(count):
        item = base + int.from_bytes(data[base + 32 * i : base + 32 * (i + 1)], "big")
        success = data[item + 31] == 1
        at = item + int.from_bytes(data[item + 32 : item + 64], "big")
        size = int.from_bytes(data[at : at + 32], "big")
        results.append(CallResult(success, data[at + 32 : at + 32 + size]))
    return results


def _warn_missing_once(address: str, chain_id: int | None, block: int | None) -> None:
    """One warning line per process and address, not one per tick."""
    if address in _WARNED_MISSING:
        log.debug("no Multicall3 at %s: plain eth_call batch", address)
        return
    _WARNED_MISSING.add(address)
    at = "the latest block" if block is None else f"block {block}"
    log.warning(
        "Multicall3 is missing at %s (chain %s, %s): reading through a JSON-RPC batch "
        "of eth_calls instead; set chain.multicall if it lives elsewhere",
        address,
        chain_id,
        at,
    )


@dataclass
class Multicall:
    """Sends calls through aggregate3 at `address`, `max_calls` per eth_call; where the
    address has no code, through a batch of plain eth_calls (`plain`, kept from then on)."""

    rpc: RpcClient
    address: str = MULTICALL3_ADDRESS
    max_calls: int = 400
    plain: bool = False

    async def fetch(self, calls: Sequence[Call], block: int | None, *, clock: bool) -> Fetched:
        """All `calls` at `block` (None: latest) in one HTTP request (several eth_calls if
        chunked); with `clock`, also the number and timestamp of the block they ran at."""
        if not self.plain:
            fetched = await self._aggregate(calls, block, clock)
            if fetched is not None:
                return fetched
            await self._confirm_no_code(block)
        return await fetch_plain(self.rpc, calls, block, clock=clock)

    async def _aggregate(
        self, calls: Sequence[Call], block: int | None, clock: bool
    ) -> Fetched | None:
        """None if aggregate3 returned nothing: no contract at the address, it seems."""
        address = self.address.lower()
        head = [Call(address, _BLOCK_NUMBER.encode()), Call(address, _TIMESTAMP.encode())]
        wanted = [*head, *calls] if clock else list(calls)
        if not wanted:
            return Fetched([], None)
        tag = "latest" if block is None else hex(block)
        chunks = [wanted[i : i + self.max_calls] for i in range(0, len(wanted), self.max_calls)]
        requests = [
            ("eth_call", [{"to": self.address, "data": "0x" + encode_aggregate3(c).hex()}, tag])
            for c in chunks
        ]
        replies = await self.rpc.batch(requests)
        results: list[CallResult] = []
        for chunk, reply in zip(chunks, replies, strict=True):
            decoded = self._decode(chunk, reply, tag)
            if decoded is None:
                return None
            results += decoded
        if not clock:
            return Fetched(results, None)
        number = _BLOCK_NUMBER.decode_one(results[0].data)
        timestamp = _TIMESTAMP.decode_one(results[1].data)
        return Fetched(results[2:], BlockHeader(int(number), int(timestamp)))

    def _decode(self, chunk: Sequence[Call], reply: object, tag: str) -> list[CallResult] | None:
        if isinstance(reply, RpcError):
            if is_revert(reply.error):
                raise ConfigError(
                    f"chain.multicall {self.address}: aggregate3 reverted: not a Multicall3 "
                    f"on chain {self.rpc.chain_id}"
                )
            raise ChainUnavailable(
                f"multicall {self.address} at block {tag} failed: {reply}; "
                "is the block pruned (needs an archive node) or the batch too large?"
            )
        raw = bytes.fromhex(str(reply)[2:])
        if not raw:
            return None
        decoded = decode_aggregate3(raw)
        if len(decoded) != len(chunk):
            raise ConfigError(
                f"chain.multicall {self.address}: not a Multicall3 (bad aggregate3 reply)"
            )
        return decoded

    async def _confirm_no_code(self, block: int | None) -> None:
        """aggregate3 gave nothing back: switch to plain calls if the address has no code."""
        tag = "latest" if block is None else hex(block)
        code = await self.rpc.call("eth_getCode", [self.address, tag])
        if code not in ("0x", "", None):
            raise ConfigError(
                f"chain.multicall {self.address}: not a Multicall3 (aggregate3 returned "
                f"nothing) on chain {self.rpc.chain_id}"
            )
        self.plain = True
        _warn_missing_once(self.address, self.rpc.chain_id, block)


@dataclass
class CallMemo:
    """Results known at one block. `get` returns None for a call not yet fetched and
    remembers it as missing, so a plan can run again once the next round is in."""

    results: dict[Call, CallResult] = field(default_factory=dict)
    missing: dict[Call, None] = field(default_factory=dict)

    def get(self, c: Call) -> CallResult | None:
        hit = self.results.get(c)
        if hit is None:
            self.missing[c] = None
        return hit


@dataclass(frozen=True, slots=True)
class Resolved(Generic[T]):
    value: T
    block_number: int
    block_timestamp: int
    memo: CallMemo
    rounds: int


async def resolve(
    multicall: Multicall,
    plan: Callable[[CallMemo], T],
    *,
    block: int | None,
    known: dict[Call, CallResult],
    prefetch: Iterable[Call] = (),
    max_rounds: int = 8,
) -> Resolved[T]:
    """Run `plan` until it misses nothing; every round is one request pinned to one block.

    `known` are results valid at any block (token decimals...). Without `block`, the
    first round reads `latest` and learns the block number it ran at, and every later
    round is pinned to that number.
    """
    memo = CallMemo(dict(known))
    plan(memo)  # what can be asked before anything is known
    first = [*(c for c in prefetch if c not in memo.results), *memo.missing]
    pending = list(dict.fromkeys(first))
    header: BlockHeader | None = None
    for round_no in range(1, max_rounds + 1):
        fetched = await multicall.fetch(
            pending, block if header is None else header.number, clock=header is None
        )
        header = header or fetched.header
        assert header is not None  # the first round asked for it
        memo.results.update(zip(pending, fetched.results, strict=True))
        memo.missing.clear()
        value = plan(memo)
        if not memo.missing:
            return Resolved(value, header.number, header.timestamp, memo, round_no)
        pending = list(memo.missing)
    raise ChainUnavailable(f"reading positions needed more than {max_rounds} rounds of calls")
