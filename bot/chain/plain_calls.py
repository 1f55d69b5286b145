"""Plain `eth_call`s in one JSON-RPC batch, every one at the same block number.

The fallback where no Multicall3 is deployed (a fresh anvil, a young chain, a block before
its deployment). A round is still one HTTP request: a JSON-RPC batch, with no gas cap to
chunk for since each `eth_call` has its own. Reading at `latest` first asks for the latest
header (one more request) so that every call of the read is pinned to that number: a
batch of `latest` calls could straddle a new block on a node that runs them in parallel.
A revert comes back as the call's JSON-RPC error and becomes a failed `CallResult`, as
`aggregate3` with `allowFailure` reports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.chain.calls import BlockHeader, Call, CallResult, Fetched, is_revert
from bot.chain.rpc import RpcClient, RpcError
from bot.errors import ChainUnavailable, InputError


def _header(reply: Any, tag: str, chain_id: int | None) -> BlockHeader:
    if isinstance(reply, RpcError):
        raise ChainUnavailable(f"eth_getBlockByNumber({tag}) failed: {reply}")
    if not isinstance(reply, dict):
        raise InputError(f"--block {int(tag, 16)}: no such block yet on chain {chain_id}")
    return BlockHeader(int(reply["number"], 16), int(reply["timestamp"], 16))


def _result(reply: Any, block: int) -> CallResult:
    if isinstance(reply, RpcError):
        if is_revert(reply.error):
            data = reply.error.get("data") if isinstance(reply.error, dict) else None
            raw = bytes.fromhex(data[2:]) if isinstance(data, str) and data[:2] == "0x" else b""
            return CallResult(False, raw)
        raise ChainUnavailable(
            f"eth_call at block {block} failed: {reply}; "
            "is the block pruned (needs an archive node)?"
        )
    return CallResult(True, bytes.fromhex(str(reply)[2:]))


async def fetch_plain(
    rpc: RpcClient, calls: Sequence[Call], block: int | None, *, clock: bool
) -> Fetched:
    """`calls` at `block` (None: the latest block, whose header is read first).

    With `clock`, the header of the block comes back too, from the same batch.
    """
    header = None
    if block is None:
        (latest,) = await rpc.batch([("eth_getBlockByNumber", ["latest", False])])
        header = _header(latest, "latest", rpc.chain_id)
        block = header.number
    tag = hex(block)
    requests: list[tuple[str, list[Any]]] = [
        ("eth_call", [{"to": c.target, "data": "0x" + c.data.hex()}, tag]) for c in calls
    ]
    want_header = clock and header is None
    if want_header:
        requests.insert(0, ("eth_getBlockByNumber", [tag, False]))
    if not requests:
        return Fetched([], header)
    replies = await rpc.batch(requests)
    if want_header:
        header = _header(replies.pop(0), tag, rpc.chain_id)
    return Fetched([_result(r, block) for r in replies], header)
