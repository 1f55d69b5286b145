"""Multicall3 `aggregate3` pinned to one block, and rounds of dependent calls.

A tick's reads form a short chain of dependencies (owner -> token ids -> positions ->
pools -> pool state). `resolve` runs a pure *plan* against the results known so far; the
plan names the calls it still misses, and each round sends all of them in one HTTP
request (a JSON-RPC batch of `eth_call`s to aggregate3, chunked to stay under the node's
gas cap). So the number of requests follows the depth of the chain, never the number of
positions. Results that never change (decimals, pool addresses) are kept across ticks,
and the last tick's calls are prefetched, so a steady tick takes one request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from bot.chain.abi import view
from bot.chain.rpc import RpcClient, RpcError
from bot.errors import ChainUnavailable, InputError

MULTICALL3_ADDRESS = "0xcA11bde05977b3631167028862bE2a173976CA11"
_AGGREGATE3 = view("multicall3", "aggregate3").selector
_BLOCK_NUMBER = view("multicall3", "getBlockNumber")
_TIMESTAMP = view("multicall3", "getCurrentBlockTimestamp")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call:
    """A view call: `target` as a lowercase 0x address, `data` the calldata."""

    target: str
    data: bytes


@dataclass(frozen=True, slots=True)
class CallResult:
    success: bool
    data: bytes


def call(target: str, abi_name: str, fn_name: str, *args: object) -> Call:
    return Call(target.lower(), view(abi_name, fn_name).encode(*args))


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


@dataclass
class Multicall:
    """Sends calls through aggregate3 at `address`, `max_calls` per eth_call."""

    rpc: RpcClient
    address: str = MULTICALL3_ADDRESS
    max_calls: int = 400

    async def fetch(self, calls: Sequence[Call], block: int | str) -> list[CallResult]:
        """All `calls` at `block` in one HTTP request (several eth_calls if chunked)."""
        tag = hex(block) if isinstance(block, int) else block
        chunks = [calls[i : i + self.max_calls] for i in range(0, len(calls), self.max_calls)]
        requests = [
            ("eth_call", [{"to": self.address, "data": "0x" + encode_aggregate3(c).hex()}, tag])
            for c in chunks
        ]
        replies = await self.rpc.batch(requests)
        results: list[CallResult] = []
        for chunk, reply in zip(chunks, replies, strict=True):
            results += self._decode(chunk, reply, block)
        return results

    def _decode(self, chunk: Sequence[Call], reply: object, block: int | str) -> list[CallResult]:
        if isinstance(reply, RpcError):
            raise ChainUnavailable(
                f"multicall {self.address} at block {block} failed: {reply}; "
                "is the block pruned (needs an archive node) or the batch too large?"
            )
        raw = bytes.fromhex(str(reply)[2:])
        if not raw:
            raise InputError(
                f"multicall {self.address}: no Multicall3 contract on chain {self.rpc.chain_id}; "
                "deploy one or set chain.multicall_address"
            )
        decoded = decode_aggregate3(raw)
        if len(decoded) != len(chunk):
            raise InputError(f"multicall {self.address}: not a Multicall3 (bad aggregate3 reply)")
        return decoded


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
    first round reads `latest` and asks the multicall for the block number it ran at,
    and every later round is pinned to that number.
    """
    memo = CallMemo(dict(known))
    clock = [Call(multicall.address.lower(), _BLOCK_NUMBER.encode())]
    clock.append(Call(multicall.address.lower(), _TIMESTAMP.encode()))
    plan(memo)  # what can be asked before anything is known
    first = [*clock, *(c for c in prefetch if c not in memo.results), *memo.missing]
    pending = list(dict.fromkeys(first))
    at: int | str = "latest" if block is None else block
    for round_no in range(1, max_rounds + 1):
        results = await multicall.fetch(pending, at)
        memo.results.update(zip(pending, results, strict=True))
        if round_no == 1:
            at = _BLOCK_NUMBER.decode_one(memo.results[clock[0]].data)
        memo.missing.clear()
        value = plan(memo)
        if not memo.missing:
            timestamp = _TIMESTAMP.decode_one(memo.results[clock[1]].data)
            return Resolved(value, int(at), int(timestamp), memo, round_no)
        pending = list(memo.missing)
    raise ChainUnavailable(f"reading positions needed more than {max_rounds} rounds of calls")
