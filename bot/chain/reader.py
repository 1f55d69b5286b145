"""`ChainReader`: the `PositionSource` over JSON-RPC. One tick = one block.

A tick runs the v3 (Uniswap's and PancakeSwap's), v4 and v2 plans together through
`multicall.resolve`, so every round of calls is one HTTP request whatever the number of
positions. Between ticks it keeps the results that never change (factory, pool addresses,
token decimals and symbols) and the list of last tick's calls, which it prefetches: a
steady tick is a single request.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import TracebackType
from typing import Any

from eth_utils.address import is_address, to_checksum_address

from bot.chain.abi import view
from bot.chain.calls import Call, CallResult
from bot.chain.multicall import MULTICALL3_ADDRESS, CallMemo, Multicall, resolve
from bot.chain.rpc import RequestStats, RpcClient
from bot.chain.v2_positions import V2Plan
from bot.chain.v3_positions import V3Plan
from bot.chain.v4_owner_scan import OwnerScan
from bot.chain.v4_positions import V4Plan
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
        ("v4_position_manager", "poolManager"),
        ("v4_state_view", "poolManager"),
        ("masterchef_v3", "CAKE"),
        ("masterchef_v3", "nonfungiblePositionManager"),
    )
)
_ZERO_WORD = bytes(32)
log = logging.getLogger(__name__)


def _address(what: str, value: str) -> str:
    """`what` names the config field (`chain.owners`...) the value came from."""
    if not is_address(value):
        raise InputError(f"{what}: {value!r} is not an 0x address of 40 hex digits")
    return to_checksum_address(value)


@dataclass(frozen=True, slots=True)
class ChainReaderConfig:
    """What to read: v3 NFT ids and/or owners at one position manager, v4 NFT ids at a v4
    PositionManager (read through its PoolManager's StateView), PancakeSwap v3 NFT ids
    and/or owners at its NonfungiblePositionManager, plus v2 pairs.

    `config_path` is the chain's config section (`chain`, `chains[1]`), named in errors.
    `position_manager` None: no Uniswap v3 on this chain (a PancakeSwap-only chain).
    """

    rpc_urls: tuple[str, ...]
    chain_id: int | None
    position_manager: str | None
    token_ids: tuple[int, ...] = ()
    owners: tuple[str, ...] = ()
    v2_pairs: tuple[str, ...] = ()
    multicall_address: str = MULTICALL3_ADDRESS
    max_calls_per_eth_call: int = 400
    timeout_s: float = 5.0  # each RPC request (chain.rpc_timeout_s)
    name: str = "main"  # the chain's name in config (`[chain]` is "main")
    v4_position_manager: str | None = None
    v4_state_view: str | None = None
    v4_token_ids: tuple[int, ...] = ()
    v4_scan_from_block: int = 0  # owners' v4 NFTs: Transfer logs from this block on
    logs_chunk_blocks: int = 10_000  # blocks per eth_getLogs
    config_path: str = "chain"
    pancakeswap_v3_position_manager: str | None = None
    pancakeswap_v3_token_ids: tuple[int, ...] = ()
    pancakeswap_v3_farm: str | None = None  # MasterChef v3: owners' staked NFTs too


def _is_static(c: Call, result: CallResult) -> bool:
    return result.success and c.data[:4] in _STATIC and result.data not in (b"", _ZERO_WORD)


@dataclass
class _Plan:
    v3: tuple[V3Plan, ...]  # Uniswap's, then PancakeSwap's
    v4: V4Plan | None
    v2: V2Plan

    def __call__(self, memo: CallMemo) -> tuple[list[LpPosition], list[PositionError]]:
        positions: list[LpPosition] = []
        errors: list[PositionError] = []
        plans: tuple[V3Plan | V4Plan | V2Plan | None, ...] = (*self.v3, self.v4, self.v2)
        for plan in plans:
            if plan is not None:
                more, more_errors = plan(memo)
                positions, errors = positions + more, errors + more_errors
        return positions, errors


@dataclass
class ChainReader:
    """Reads every configured position at one block. Use `async with`, or `close()`."""

    config: ChainReaderConfig
    rpc: RpcClient = field(init=False)
    _multicall: Multicall = field(init=False)
    _static: dict[Call, CallResult] = field(init=False, default_factory=dict)
    _last_calls: tuple[Call, ...] = field(init=False, default=())
    last_rounds: int = field(init=False, default=0)
    _v4_scan: OwnerScan | None = field(init=False, default=None)
    _saved_scan: Mapping[str, Any] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        cfg = self.config
        for token_id in (*cfg.token_ids, *cfg.v4_token_ids, *cfg.pancakeswap_v3_token_ids):
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
        v3: list[V3Plan] = []
        if cfg.token_ids and cfg.position_manager is None:
            raise InputError(f"{cfg.config_path}.position_manager: needed to read token_ids")
        if cfg.position_manager is not None and (cfg.token_ids or owners):
            npm = _address("chain.position_manager", cfg.position_manager)
            v3.append(V3Plan(npm, cfg.token_ids, owners, self.rpc.chain_id))
        pancake = self._pancake_plan(owners)
        if pancake is not None:
            v3.append(pancake)
        pairs = tuple(_address("chain.v2_pairs", p) for p in cfg.v2_pairs)
        return _Plan(tuple(v3), self._v4_plan(owners), V2Plan(pairs, owners))

    def _pancake_plan(self, owners: tuple[str, ...]) -> V3Plan | None:
        """PancakeSwap v3 positions: the v3 plan at PancakeSwap's NPM (the same interface)."""
        cfg, where = self.config, f"{self.config.config_path}.position_managers.pancakeswap_v3"
        if cfg.pancakeswap_v3_position_manager is None:
            if cfg.pancakeswap_v3_farm is not None:
                raise InputError(
                    f"{where}: needed with {cfg.config_path}.staking.pancakeswap_v3 (the "
                    "PancakeSwap v3 NonfungiblePositionManager whose NFTs the farm holds)"
                )
            if cfg.pancakeswap_v3_token_ids:
                raise InputError(
                    f"{where}: needed to read {cfg.config_path}.pancakeswap_v3_token_ids "
                    "(the PancakeSwap v3 NonfungiblePositionManager's address)"
                )
            return None
        if not (cfg.pancakeswap_v3_token_ids or owners):
            return None
        npm = _address(where, cfg.pancakeswap_v3_position_manager)
        ids = cfg.pancakeswap_v3_token_ids
        farm_field = f"{cfg.config_path}.staking.pancakeswap_v3"
        farm = cfg.pancakeswap_v3_farm
        return V3Plan(
            npm,
            ids,
            owners,
            self.rpc.chain_id,
            "pancakeswap_v3",
            where,
            farm=None if farm is None else _address(farm_field, farm),
            farm_field=farm_field,
        )

    def _v4_plan(self, owners: tuple[str, ...]) -> V4Plan | None:
        """v4 positions by token id; with owners, a check that none is left out."""
        cfg, where = self.config, self.config.config_path
        if cfg.v4_position_manager is None:
            if cfg.v4_token_ids:
                raise InputError(
                    f"{where}.position_managers.uniswap_v4: needed to read "
                    f"{where}.v4_token_ids (the v4 PositionManager's address)"
                )
            return None
        if not (cfg.v4_token_ids or owners):
            return None
        if cfg.v4_state_view is None:
            raise InputError(
                f"{where}.state_views.uniswap_v4: needed to read v4 positions (the StateView "
                "of the PoolManager the PositionManager uses)"
            )
        manager = _address(f"{where}.position_managers.uniswap_v4", cfg.v4_position_manager)
        if owners and self._v4_scan is None:
            self._v4_scan = OwnerScan(
                manager, owners, cfg.v4_scan_from_block, chunk_blocks=cfg.logs_chunk_blocks
            )
            saved = self._saved_scan
            if saved is not None and self._v4_scan.resume(saved):
                log.info(
                    "chain %s: v4 owner scan goes on from block %d (saved in the ledger)",
                    cfg.name,
                    self._v4_scan.scanned_to + 1,
                )
        return V4Plan(
            manager,
            _address(f"{where}.state_views.uniswap_v4", cfg.v4_state_view),
            cfg.v4_token_ids,
            owners,
            lambda: self.rpc.chain_id,
            where,
            found=dict(self._v4_scan.held) if self._v4_scan else {},
        )

    def scan_state(self) -> dict[str, Any]:
        """The v4 owner scan's state by chain name, for the ledger ({}: no scan yet)."""
        scan = self._v4_scan
        return {} if scan is None else {self.config.name: scan.to_json()}

    def restore_scans(self, saved: Mapping[str, Any]) -> None:
        """Go on from a saved scan (`scan_state()` of an earlier run) at the first read."""
        state = saved.get(self.config.name)
        self._saved_scan = state if isinstance(state, Mapping) else None

    async def read(self, block: int | None = None) -> ChainSnapshot:
        plan = self._plan()
        done = await resolve(
            self._multicall, plan, block=block, known=self._static, prefetch=self._last_calls
        )
        scan = self._v4_scan
        if scan is not None and await scan.advance(self.rpc, done.block_number):
            # owners received or sent v4 NFTs: read again at the same block with them
            asked = tuple(c for c in done.memo.results if c not in self._static)
            done = await resolve(
                self._multicall,
                self._plan(),
                block=done.block_number,
                known=self._static,
                prefetch=asked,
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
