"""`ChainReader`: the `PositionSource` over JSON-RPC. One tick = one block.

A tick runs the v3 and v2 plans together through `multicall.resolve`, so every round of
calls is one HTTP request whatever the number of positions. Between ticks it keeps the
results that never change (factory, pool addresses, token decimals and symbols) and the
list of last tick's calls, which it prefetches: a steady tick is a single request.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import TracebackType

from eth_utils.address import is_address, to_checksum_address

from bot.chain.abi import view
from bot.chain.calls import Call, CallResult
from bot.chain.multicall import MULTICALL3_ADDRESS, CallMemo, Multicall, resolve
from bot.chain.rpc import RequestStats, RpcClient
from bot.chain.v2_positions import V2Plan
from bot.chain.v3_positions import V3Plan
from bot.domain.lp import ChainHead, ChainSnapshot, LpPosition, PositionError
from bot.errors import InputError

# Results of these never change for a given target and arguments.
_STATIC = frozenset(
    view(abi, fn).selector
    for abi, fn in (
        ("position_manager", "factory"),
        ("v3_factory", "getPool"),
        ("v3_pool", "tickSpacing"),
        ("erc20", "decimals"),
        ("erc20", "symbol"),
        ("v2_pair", "token0"),
        ("v2_pair", "token1"),
    )
)
_ZERO_WORD = bytes(32)


def _address(what: str, value: str) -> str:
    """`what` names the config field (`chain.owners`...) the value came from."""
    if not is_address(value):
        raise InputError(f"{what}: {value!r} is not an 0x address of 40 hex digits")
    return to_checksum_address(value)


@dataclass(frozen=True, slots=True)
class ChainReaderConfig:
    """What to read: NFT ids and/or owners at one position manager, plus v2 pairs."""

    rpc_urls: tuple[str, ...]
    chain_id: int | None
    position_manager: str
    token_ids: tuple[int, ...] = ()
    owners: tuple[str, ...] = ()
    v2_pairs: tuple[str, ...] = ()
    multicall_address: str = MULTICALL3_ADDRESS
    max_calls_per_eth_call: int = 400
    timeout_s: float = 5.0  # each RPC request (chain.rpc_timeout_s)
    name: str = "main"  # the chain's name in config (`[chain]` is "main")


def _is_static(c: Call, result: CallResult) -> bool:
    return result.success and c.data[:4] in _STATIC and result.data not in (b"", _ZERO_WORD)


@dataclass
class _Plan:
    v3: V3Plan | None
    v2: V2Plan

    def __call__(self, memo: CallMemo) -> tuple[list[LpPosition], list[PositionError]]:
        positions, errors = self.v3(memo) if self.v3 else ([], [])
        v2_positions, v2_errors = self.v2(memo)
        return positions + v2_positions, errors + v2_errors


@dataclass
class ChainReader:
    """Reads every configured position at one block. Use `async with`, or `close()`."""

    config: ChainReaderConfig
    rpc: RpcClient = field(init=False)
    _multicall: Multicall = field(init=False)
    _static: dict[Call, CallResult] = field(init=False, default_factory=dict)
    _last_calls: tuple[Call, ...] = field(init=False, default=())
    last_rounds: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        cfg = self.config
        for token_id in cfg.token_ids:
            if not 0 <= token_id < 2**256:
                raise InputError(f"token id {token_id} is out of range (uint256)")
        self.rpc = RpcClient(cfg.rpc_urls, cfg.chain_id, timeout_s=cfg.timeout_s)
        address = _address("chain.multicall", cfg.multicall_address)
        self._multicall = Multicall(self.rpc, address, cfg.max_calls_per_eth_call)

    @property
    def stats(self) -> RequestStats:
        return self.rpc.stats

    @property
    def uses_multicall(self) -> bool:
        """False once the multicall address had no code: reads go as plain eth_calls."""
        return not self._multicall.plain

    def _plan(self) -> _Plan:
        cfg = self.config
        owners = tuple(_address("chain.owners", o) for o in cfg.owners)
        v3 = None
        if cfg.token_ids or owners:
            npm = _address("chain.position_manager", cfg.position_manager)
            v3 = V3Plan(npm, cfg.token_ids, owners, self.rpc.chain_id)
        pairs = tuple(_address("chain.v2_pairs", p) for p in cfg.v2_pairs)
        return _Plan(v3, V2Plan(pairs, owners))

    async def read(self, block: int | None = None) -> ChainSnapshot:
        plan = self._plan()
        done = await resolve(
            self._multicall, plan, block=block, known=self._static, prefetch=self._last_calls
        )
        results = done.memo.results
        self._static.update((c, r) for c, r in results.items() if _is_static(c, r))
        self._last_calls = tuple(c for c in results if c not in self._static)
        self.last_rounds = done.rounds
        positions, errors = done.value
        chain_id = self.rpc.chain_id or 0
        name = self.config.name
        return ChainSnapshot(
            chain_id=chain_id,
            block_number=done.block_number,
            block_timestamp=done.block_timestamp,
            positions=tuple(replace(p, chain=name) for p in positions),
            errors=tuple(errors),
            chains=(ChainHead(name, chain_id, done.block_number, done.block_timestamp),),
        )

    async def close(self) -> None:
        await self.rpc.close()

    async def __aenter__(self) -> ChainReader:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
