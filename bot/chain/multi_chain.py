"""`MultiChainReader`: the `PositionSource` over several chains, each read at its own block.

The chains are read concurrently, one `ChainReader` each (so O(1) requests per chain per
tick). A chain that cannot be read does not fail the tick: its head carries the error and
the positions of its last good read, and the guards stop trading the assets it holds. Only
when no chain can be read does the read fail (`ChainUnavailable`), as one chain's does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any

from bot.chain.reader import ChainReader
from bot.chain.rpc import RequestStats
from bot.domain.lp import ChainHead, ChainSnapshot, LpPosition
from bot.errors import ChainUnavailable, InputError, Retryable


@dataclass
class MultiChainReader:
    """Reads every chain's positions concurrently. Use `async with`, or `close()`."""

    readers: Sequence[ChainReader]
    _last_seen: dict[str, tuple[LpPosition, ...]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        names = [r.config.name for r in self.readers]
        if not names or len(set(names)) != len(names):
            raise InputError(f"chains: need distinct chain names, got {names}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.config.name for r in self.readers)

    def stats(self) -> dict[str, RequestStats]:
        """Request counters per chain name."""
        return {r.config.name: r.stats for r in self.readers}

    def scan_state(self) -> dict[str, Any]:
        """Every chain's v4 owner scan state, by chain name."""
        return {name: state for r in self.readers for name, state in r.scan_state().items()}

    def restore_scans(self, saved: Mapping[str, Any]) -> None:
        for reader in self.readers:
            reader.restore_scans(saved)

    async def read(self, block: int | None = None) -> ChainSnapshot:
        """Every chain at its latest block (`block` only with one chain: block numbers are
        per chain)."""
        if block is not None and len(self.readers) > 1:
            raise InputError(f"--block {block}: block numbers are per chain; read one chain")
        reads = await asyncio.gather(*(r.read(block) for r in self.readers), return_exceptions=True)
        heads: list[ChainHead] = []
        good: list[ChainSnapshot] = []
        failures: list[str] = []
        for reader, got in zip(self.readers, reads, strict=True):
            name = reader.config.name
            if isinstance(got, ChainSnapshot):
                good.append(got)
                heads.extend(got.chains)
                self._last_seen[name] = got.positions
                continue
            if not isinstance(got, Retryable):
                raise got  # a config error, a bad input, a bug: no other chain fixes it
            failures.append(f"chain {name}: {got}")
            chain_id = reader.config.chain_id or reader.rpc.chain_id or 0
            heads.append(
                ChainHead(name, chain_id, error=str(got), last_seen=self._last_seen.get(name))
            )
        if not good:
            raise ChainUnavailable("; ".join(failures))
        newest = max(good, key=lambda s: s.block_timestamp)
        return ChainSnapshot(
            chain_id=heads[0].chain_id,
            block_number=newest.block_number,
            block_timestamp=newest.block_timestamp,
            positions=tuple(p for s in good for p in s.positions),
            errors=tuple(
                replace(e, item=f"{e.item} on chain {h.name}")
                for s in good
                for h in s.chains
                for e in s.errors
            ),
            chains=tuple(heads),
        )

    async def head(self) -> int:
        """A number that grows when any chain has a new block (the sum of the latest block
        numbers of the chains that answer): the run loop ticks when it changes."""
        numbers = await asyncio.gather(
            *(r.rpc.call("eth_blockNumber", []) for r in self.readers), return_exceptions=True
        )
        answered = [int(n, 16) for n in numbers if isinstance(n, str)]
        if not answered:
            raise ChainUnavailable("no chain answered eth_blockNumber")
        return sum(answered)

    async def close(self) -> None:
        for reader in self.readers:
            await reader.close()

    async def __aenter__(self) -> MultiChainReader:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
