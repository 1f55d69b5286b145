"""The config sections: every field with its bounds, each error naming `section.field`.

`bot.config` assembles them into `Settings` and loads them; import them from there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)

from bot.errors import ConfigError

MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"
UNISWAP_V3_NPM_MAINNET = "0xC36442b4a4522E871399CD717aBDD847Ab11FE88"

Mode = Literal["paper", "testnet", "live"]


# EIP-2294's bound on chain ids; token ids are uint256.
MAX_CHAIN_ID = 4_503_599_627_370_476
MAX_TOKEN_ID = 2**256 - 1
MAX_USD = Decimal(10**12)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
NUMBER_TYPES = (int, float, Decimal)


def _numeric(annotation: Any) -> bool:
    """True for int/float/Decimal fields (also optional ones, lists and tables of them)."""
    if get_origin(annotation) in (Union, UnionType, list, dict):
        return any(_numeric(a) for a in get_args(annotation))
    return annotation in NUMBER_TYPES


def _has_bool(value: Any) -> bool:
    if isinstance(value, list | tuple):
        return any(isinstance(v, bool) for v in value)
    if isinstance(value, Mapping):
        return any(isinstance(v, bool) for v in value.values())
    return isinstance(value, bool)


class _Section(BaseModel):
    """A config section: unknown keys, infinities, NaN and booleans for numbers are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_for_number(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and _numeric(field.annotation) and _has_bool(value):
            raise ValueError("expected a number, got true or false")
        return value


def _check_address(value: str, field: str) -> str:
    v = value.strip()
    if not (v.startswith("0x") and len(v) == 42):
        raise ValueError(f"{field} must be a 0x-prefixed 20-byte hex address, got {v!r}")
    try:
        int(v[2:], 16)
    except ValueError:
        raise ValueError(f"{field} is not hex: {v!r}") from None
    return v


# Protocols a chain may name in `position_managers` (and, for those read through a view
# contract, in `state_views`); Aerodrome Slipstream comes later.
PROTOCOLS = ("uniswap_v3", "uniswap_v4", "pancakeswap_v3")
STATE_VIEW_PROTOCOLS = ("uniswap_v4",)
STAKING_PROTOCOLS = ("pancakeswap_v3",)  # MasterChef v3
_CHAIN_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def _protocol_addresses(v: dict[str, str], protocols: tuple[str, ...]) -> dict[str, str]:
    for protocol, address in v.items():
        if protocol not in protocols:
            raise ValueError(
                f"{protocol}: not a protocol read yet (supported: {', '.join(protocols)})"
            )
        _check_address(address, protocol)
    return v


class _ChainRead(_Section):
    """How to read one chain's LP positions (shared by `[chain]` and `[[chains]]`)."""

    chain_id: int | None = Field(
        None, ge=1, le=MAX_CHAIN_ID, description="Expected chain id; the RPC is checked against it."
    )
    rpc_urls: list[SecretStr] = Field(default_factory=list, description="RPC URLs, failover order.")
    ws_url: SecretStr | None = Field(None, description="WebSocket URL for newHeads (optional).")
    position_manager: str = Field(
        UNISWAP_V3_NPM_MAINNET, description="Uniswap v3 (or v3-fork) NonfungiblePositionManager."
    )
    position_managers: dict[str, str] = Field(
        default_factory=dict,
        description="Protocol -> position manager: uniswap_v3 (the same as position_manager), "
        "uniswap_v4 (the v4 PositionManager, to read v4_token_ids), pancakeswap_v3 (PancakeSwap "
        "v3's NonfungiblePositionManager, to read pancakeswap_v3_token_ids and owners' NFTs).",
    )
    state_views: dict[str, str] = Field(
        default_factory=dict,
        description="Protocol -> the view contract its pools are read through: uniswap_v4 = "
        "the StateView of the PoolManager that position_managers.uniswap_v4 uses.",
    )
    staking: dict[str, str] = Field(
        default_factory=dict,
        description="Protocol -> the farm its owners stake NFTs in: pancakeswap_v3 = its "
        "MasterChef v3. Owners' staked NFTs are read as theirs, with the CAKE they have earned.",
    )
    token_ids: list[int] = Field(default_factory=list, description="Uniswap v3 NFT ids.")
    v4_token_ids: list[int] = Field(
        default_factory=list,
        description="Uniswap v4 NFT ids to read (beside those `owners` hold, which are "
        "found from the PositionManager's Transfer logs).",
    )
    pancakeswap_v3_token_ids: list[int] = Field(
        default_factory=list,
        description="PancakeSwap v3 NFT ids to read (with position_managers.pancakeswap_v3).",
    )
    owners: list[str] = Field(
        default_factory=list,
        description="Owners: every v3 NFT, v4 NFT (with position_managers.uniswap_v4), "
        "PancakeSwap v3 NFT (with position_managers.pancakeswap_v3) and v2 LP balance of "
        "theirs is read.",
    )
    v4_scan_from_block: int = Field(
        0,
        ge=0,
        le=2**63 - 1,
        description="Owners' v4 NFTs are found from Transfer logs from this block on (the "
        "PositionManager's deployment block: earlier blocks hold none). Scanned once at start, "
        "then only new blocks, logs_chunk_blocks per eth_getLogs.",
    )
    logs_chunk_blocks: int = Field(
        10_000,
        ge=1,
        le=1_000_000,
        description="Blocks per eth_getLogs when scanning for owners' v4 NFTs (what the RPC "
        "allows: 10,000 on most, less on some free tiers).",
    )
    v2_pairs: list[str] = Field(default_factory=list)
    multicall: str = MULTICALL3
    rpc_timeout_s: float = Field(
        5.0, gt=0, le=120, description="Seconds one RPC request may take; then the next URL."
    )

    @field_validator("position_manager", "multicall")
    @classmethod
    def _address(cls, v: str) -> str:
        return _check_address(v, "address")

    @field_validator("owners", "v2_pairs")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        return [_check_address(a, f"item {i}") for i, a in enumerate(v)]

    @field_validator("token_ids", "v4_token_ids", "pancakeswap_v3_token_ids")
    @classmethod
    def _ids(cls, v: list[int]) -> list[int]:
        for i, t in enumerate(v):
            if not 0 <= t <= MAX_TOKEN_ID:
                raise ValueError(f"item {i}: token id must be a uint256 (>= 0), got {t}")
        return v

    @field_validator("position_managers")
    @classmethod
    def _managers(cls, v: dict[str, str]) -> dict[str, str]:
        return _protocol_addresses(v, PROTOCOLS)

    @field_validator("state_views")
    @classmethod
    def _state_views(cls, v: dict[str, str]) -> dict[str, str]:
        return _protocol_addresses(v, STATE_VIEW_PROTOCOLS)

    @field_validator("staking")
    @classmethod
    def _staking(cls, v: dict[str, str]) -> dict[str, str]:
        return _protocol_addresses(v, STAKING_PROTOCOLS)

    def rpc_url_values(self) -> tuple[str, ...]:
        return tuple(u.get_secret_value() for u in self.rpc_urls)

    def has_positions(self) -> bool:
        ids = self.token_ids or self.v4_token_ids or self.pancakeswap_v3_token_ids
        return bool(ids or self.owners or self.v2_pairs)

    def uniswap_v3_manager(self) -> str | None:
        """Uniswap v3's NPM; None on a PancakeSwap chain that names no Uniswap v3 (the
        mainnet default has no code there, and owners' NFTs would be asked of it)."""
        npm = self.position_managers.get("uniswap_v3", self.position_manager)
        default = npm.lower() == UNISWAP_V3_NPM_MAINNET.lower()
        if default and not self.token_ids and "pancakeswap_v3" in self.position_managers:
            return None
        return npm


class ChainSettings(_ChainRead):
    """Where the LP positions live and how to read them; the loop's timing for every chain."""

    poll_seconds: float = Field(
        12.0,
        gt=0,
        le=3600,
        description="Poll for a new block this often (with ws_urls: the fallback while a "
        "newHeads stream is down).",
    )
    min_tick_seconds: float = Field(
        1.0,
        ge=0,
        le=3600,
        description="With pushed blocks (ws_url): at most one tick this often, so a fast "
        "chain does not start a tick per block.",
    )
    max_tick_seconds: float = Field(60.0, gt=0, le=86_400, description="Tick at least this often.")
    max_outage_s: float = Field(
        300.0,
        ge=1,
        le=7 * 86_400,
        description="Chain unreadable this long: halt until `lphedge resume` (and alert).",
    )

    def require_positions(self) -> None:
        """Refuse to run a bot that has nothing to read: no RPC URL, or no position."""
        if not self.rpc_urls:
            raise ConfigError(
                "chain.rpc_urls: no RPC URL configured; set it in the config or in "
                "LPHEDGE_CHAIN__RPC_URLS"
            )
        if not self.has_positions():
            raise ConfigError(
                "chain.token_ids, chain.owners, chain.v2_pairs, chain.v4_token_ids: all empty, "
                "so there is no LP position to hedge; list NFT ids, owners or v2 pair addresses"
            )


class ChainEntry(_ChainRead):
    """One more chain to read (`[[chains]]`): its name, id and positions; per-chain token
    -> asset entries (`assets`, 0x address or symbol -> asset) add to the global `[assets]`."""

    name: str = Field(description="Names the chain in logs, the ledger and `positions`.")
    chain_id: int | None = Field(None, ge=1, le=MAX_CHAIN_ID, description="Required.")
    assets: dict[str, str] = Field(default_factory=dict, description="Token -> asset, this chain.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _CHAIN_NAME.fullmatch(v):
            raise ValueError(f"must be 1-32 of a-z, 0-9, _ and -, got {v!r}")
        return v


def _manager_conflicts(where: str, chain: _ChainRead) -> None:
    """v3's manager given twice, differently; v4 ids without the contracts to read them."""
    npm = chain.position_managers.get("uniswap_v3")
    # set by hand (CLI overrides re-validate a dump, so every field looks set: compare)
    explicit = chain.position_manager.lower() != UNISWAP_V3_NPM_MAINNET.lower()
    if npm is not None and explicit and npm.lower() != chain.position_manager.lower():
        raise ConfigError(
            f"{where}.position_managers.uniswap_v3: differs from {where}.position_manager; "
            "give one of them"
        )
    v4_manager = chain.position_managers.get("uniswap_v4")
    if chain.v4_token_ids and v4_manager is None:
        raise ConfigError(
            f"{where}.position_managers.uniswap_v4: required with {where}.v4_token_ids "
            "(the address of this chain's v4 PositionManager)"
        )
    if chain.pancakeswap_v3_token_ids and "pancakeswap_v3" not in chain.position_managers:
        raise ConfigError(
            f"{where}.position_managers.pancakeswap_v3: required with "
            f"{where}.pancakeswap_v3_token_ids (the address of this chain's PancakeSwap v3 "
            "NonfungiblePositionManager)"
        )
    for protocol in chain.staking:
        if protocol not in chain.position_managers:
            raise ConfigError(
                f"{where}.position_managers.{protocol}: required with {where}.staking."
                f"{protocol} (the position manager whose NFTs the farm holds)"
            )
    has_view = "uniswap_v4" in chain.state_views
    if v4_manager is not None and not has_view:
        raise ConfigError(
            f"{where}.state_views.uniswap_v4: required with {where}.position_managers."
            "uniswap_v4 (the StateView of the PoolManager it uses: v4 pools are read there)"
        )
    if has_view and v4_manager is None:
        raise ConfigError(
            f"{where}.state_views.uniswap_v4: given without {where}.position_managers."
            "uniswap_v4; give both, or neither"
        )


def _entry_conflicts(i: int, entry: ChainEntry) -> None:
    where = f"chains[{i}]"
    if entry.chain_id is None:
        raise ConfigError(f"{where}.chain_id: required, to check each RPC serves that chain")
    if not entry.rpc_urls:
        raise ConfigError(f"{where}.rpc_urls: no RPC URL for chain {entry.name!r}")
    _manager_conflicts(where, entry)


def chain_list(chain: ChainSettings, chains: Sequence[ChainEntry]) -> list[tuple[str, _ChainRead]]:
    """Every chain to read as (name, section): `[chain]` as "main" when it has an RPC URL or
    positions, then `[[chains]]`. Raises ConfigError naming the field of a conflict."""
    out: list[tuple[str, _ChainRead]] = []
    if chain.rpc_urls or chain.has_positions() or not chains:
        _manager_conflicts("chain", chain)
        out.append(("main", chain))
    if chains and out:
        if chain.chain_id is None:
            raise ConfigError(
                "chain.chain_id: must be set when [[chains]] lists more chains "
                "(each chain is told apart by its id)"
            )
        if not chain.rpc_urls:
            raise ConfigError("chain.rpc_urls: [chain] lists positions but no RPC URL")
    seen_ids = {c.chain_id: "chain.chain_id" for _, c in out}
    seen_names = {"main": "chain"} if out else {}
    for i, entry in enumerate(chains):
        _entry_conflicts(i, entry)
        if entry.name in seen_names:
            raise ConfigError(
                f"chains[{i}].name: {entry.name!r} is already the name of {seen_names[entry.name]}"
            )
        if entry.chain_id in seen_ids:
            raise ConfigError(
                f"chains[{i}].chain_id: {entry.chain_id} is also {seen_ids[entry.chain_id]}; "
                "list each chain once"
            )
        seen_names[entry.name] = f"chains[{i}]"
        seen_ids[entry.chain_id] = f"chains[{i}].chain_id"
        out.append((entry.name, entry))
    return out


def require_chain_positions(chain: ChainSettings, chains: Sequence[ChainEntry]) -> None:
    """Refuse to run a bot with nothing to read, naming the first empty chain's fields."""
    if not chains:
        chain.require_positions()
        return
    for i, entry in enumerate(chains):
        if not entry.has_positions():
            raise ConfigError(
                f"chains[{i}].token_ids, chains[{i}].owners, chains[{i}].v2_pairs, "
                f"chains[{i}].v4_token_ids: all empty on chain {entry.name!r}; list NFT ids, "
                "owners or v2 pair addresses"
            )
    chain_list(chain, chains)


class ReplaySettings(_Section):
    """Offline paper mode (`venue.paper_market = "replay"`): recorded prices instead of the
    venue's live book, paced from `start` at `speed` data seconds per wall second."""

    prices: dict[str, Path] = Field(
        default_factory=dict,
        description="Perp symbol -> CSV of recorded closes (timestamp/Date and close columns).",
    )
    funding: dict[str, Path] = Field(
        default_factory=dict, description="Perp symbol -> CSV of funding rates (date,funding_rate)."
    )
    dvol: Path | None = Field(None, description="Deribit DVOL CSV, to price options offline.")
    start: str | None = Field(
        None, description="ISO time in the data to begin at (default: first row)."
    )
    speed: float = Field(1.0, gt=0, le=1_000_000, description="Data seconds per wall second.")


class VenueSettings(_Section):
    """The exchange that holds the hedges, and how its account must be set up."""

    exchange: str = "binanceusdm"
    api_key: SecretStr | None = None
    secret: SecretStr | None = None
    password: SecretStr | None = Field(None, description="OKX API passphrase.")
    wallet_address: str | None = Field(None, description="Hyperliquid: the account's address.")
    private_key: SecretStr | None = Field(
        None, description="Hyperliquid: the (API) wallet's private key, 0x + 64 hex."
    )
    demo: bool = Field(False, description="Binance demo trading instead of the futures testnet.")
    symbols: dict[str, str] = Field(
        default_factory=lambda: {"ETH": "ETH/USDT:USDT", "BTC": "BTC/USDT:USDT"},
        description="Underlying asset -> ccxt symbol of the perp that hedges it.",
    )
    position_mode: Literal["one_way", "hedge"] = Field(
        "one_way",
        description="What the account is in; the bot refuses to start in hedge mode unless "
        "this says hedge.",
    )
    margin_mode: Literal["cross", "isolated"] | None = Field(
        None, description="Set (or verify) per symbol on start; unset: leave it."
    )
    leverage: dict[str, Decimal] = Field(
        default_factory=dict, description="Asset (or symbol) -> leverage set on start."
    )
    account_setup: Literal["set", "verify"] = Field(
        "set", description="set: apply leverage/margin mode on start; verify: refuse on mismatch."
    )
    paper_balance_usd: Decimal = Field(Decimal(100_000), gt=0, le=MAX_USD)
    paper_market: Literal["live", "replay"] = "live"
    replay: ReplaySettings = Field(default_factory=ReplaySettings)

    @field_validator("wallet_address")
    @classmethod
    def _wallet(cls, v: str | None) -> str | None:
        return None if v is None else _check_address(v, "wallet_address")

    @field_validator("private_key")
    @classmethod
    def _key(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            raw = v.get_secret_value()
            hexpart = raw[2:] if raw.startswith("0x") else raw
            if len(hexpart) != 64 or any(c not in "0123456789abcdefABCDEF" for c in hexpart):
                raise ValueError("must be 32 bytes of hex (0x + 64 hex characters)")
        return v

    @field_validator("leverage")
    @classmethod
    def _leverage(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        for key, lev in v.items():
            if not Decimal(1) <= lev <= Decimal(125):
                raise ValueError(f"{key}: leverage must be between 1 and 125, got {lev}")
        return v

    def leverage_for(self, asset: str, symbol: str) -> Decimal | None:
        return self.leverage.get(symbol) or self.leverage.get(asset)


class ReconcileSettings(_Section):
    """Keeping the ledger true to the venue while the bot runs."""

    account_events_every_ticks: int = Field(
        1,
        ge=1,
        le=10_000,
        description="Poll fills, fees, funding, settlements, liquidations every N ticks.",
    )
    positions_every_ticks: int = Field(
        10, ge=1, le=10_000, description="Compare venue positions with the ledger every N ticks."
    )
    drift_confirmations: int = Field(
        2, ge=1, le=1_000, description="Checks in a row a drift must persist before it is acted on."
    )
    on_drift: Literal["adopt", "halt"] = Field(
        "halt", description="A position no execution explains: adopt and go on, or halt."
    )
    on_liquidation: Literal["halt", "continue"] = Field(
        "halt", description="After a liquidation or ADL: halt for the operator, or re-hedge."
    )
    account_events_overlap_s: float = Field(
        600, ge=0, le=86_400, description="How far back each poll re-reads (late rows)."
    )


class StrategySettings(_Section):
    name: str = "delta_band"
    params: dict[str, Any] = Field(default_factory=dict)
    path: str | None = Field(None, description="User strategy: 'file.py:Class' or 'pkg.mod:Class'.")


class RiskSettings(_Section):
    """Guards; each records why it acted. Amounts in USD."""

    max_block_age_s: float = Field(180, gt=0, le=86_400)
    max_market_age_s: float = Field(60, gt=0, le=86_400)
    max_price_divergence_bps: float = Field(150, gt=0, le=10_000)
    max_hedge_notional_usd: Decimal = Field(Decimal(1_000_000), gt=0, le=MAX_USD)
    max_order_notional_usd: Decimal = Field(Decimal(250_000), gt=0, le=MAX_USD)
    max_orders_per_hour: int = Field(30, gt=0, le=100_000)
    daily_loss_limit_usd: Decimal = Field(Decimal(50_000), gt=0, le=MAX_USD)
    min_liquidation_distance_pct: float = Field(20, ge=0, lt=100)


class OptionsSettings(_Section):
    """Options as hedge instruments. Fractions as decimals (0.03 = 3 %); USD amounts."""

    enabled: bool = Field(
        False, description="Quote and trade options (on by itself for option strategies)."
    )
    venue: str = Field("deribit", description="Exchange whose options are traded.")
    premium: Literal["inverse", "usd"] = Field(
        "inverse", description="inverse: premium in the coin (Deribit); usd: USD-settled."
    )
    usd_settle: str = Field("USDC", description="Settle currency of USD-settled options.")
    strike_step: Decimal = Field(Decimal(25), gt=0, le=1_000_000, description="Strike grid, USD.")
    strike_range_pct: float = Field(30.0, gt=0, lt=100, description="Listed strikes, +- %.")
    daily_expiries: int = Field(
        3, ge=0, le=31, description="Daily expiries listed (replay market)."
    )
    weekly_expiries: int = Field(
        4, ge=0, le=52, description="Friday expiries listed (replay market)."
    )
    skew: float = Field(0.3, ge=0, le=10, description="Vol added per unit |log-moneyness|.")
    half_spread: float = Field(0.03, ge=0, lt=1, description="Bid/ask distance, of the mark.")
    max_slippage: Decimal = Field(
        Decimal("0.05"), ge=0, lt=1, description="Limit price beyond the touch, of the price."
    )
    max_premium_per_order_usd: Decimal = Field(Decimal(50_000), gt=0, le=MAX_USD)
    max_premium_per_day_usd: Decimal = Field(Decimal(100_000), gt=0, le=MAX_USD)
    max_expiry_days: float = Field(
        21.0, gt=0, le=3650, description="Quote expiries up to this far."
    )
    taker_fee: Decimal = Field(
        Decimal("0.0003"),
        ge=0,
        lt=1,
        description="Per contract, of the underlying (Deribit 0.03 %).",
    )
    fee_cap: Decimal = Field(
        Decimal("0.125"), ge=0, le=1, description="Fee cap, of the premium (Deribit 12.5 %)."
    )

    @field_validator("venue", "usd_settle")
    @classmethod
    def _name(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v.strip()

    @field_validator("weekly_expiries")
    @classmethod
    def _listing(cls, v: int, info: ValidationInfo) -> int:
        if info.data.get("enabled") and v + int(info.data.get("daily_expiries") or 0) == 0:
            raise ValueError("0 with daily_expiries 0: no expiry would be listed")
        return v


class LedgerSettings(_Section):
    url: SecretStr = SecretStr("sqlite:///lphedge.db")
    checkpoint_key: SecretStr | None = Field(
        None,
        description="HMAC key for signed tip checkpoints (env LPHEDGE_LEDGER__CHECKPOINT_KEY); "
        "kept out of the database. Unset: the ledger's tail is not anchored.",
    )
    checkpoint_file: Path | None = Field(
        None, description="Where checkpoints are appended (JSON lines): another disk or host."
    )
    checkpoint_every_s: float = Field(
        60.0, ge=1, le=86_400, description="Write a checkpoint at most this often, seconds."
    )
    connect_timeout_s: float = Field(
        5.0, ge=2, le=120, description="Give up connecting to the database after this, seconds."
    )
    statement_timeout_s: float = Field(
        10.0,
        ge=1,
        le=600,
        description="The running bot's longest wait on one ledger statement (PostgreSQL: "
        "cancelled by the server; a stalled link is cut), seconds.",
    )
    lease_regain_s: float = Field(
        30.0,
        ge=0,
        le=3600,
        description="After its lock connection dropped, the bot waits this long (room for a "
        "replacement bot to take over) before taking its writer lease back, seconds.",
    )

    @field_validator("checkpoint_key")
    @classmethod
    def _checkpoint_key(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and len(v.get_secret_value().strip()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return v


class ApiToken(_Section):
    """One bearer token of the REST API: `name` is who the ledger says acted."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")
    token: SecretStr
    scope: Literal["read", "control"] = "read"

    @field_validator("token")
    @classmethod
    def _long_enough(cls, v: SecretStr) -> SecretStr:
        if len(v.get_secret_value()) < 24:
            raise ValueError("must be at least 24 characters (e.g. `openssl rand -hex 24`)")
        return v


class OpsSettings(_Section):
    log_json: bool = False
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL.")
    metrics_port: int | None = Field(None, ge=1, le=65_535)
    metrics_host: str = Field("127.0.0.1", description="0.0.0.0 inside a container.")
    notice_every_s: float = Field(
        300.0, ge=10, le=86400, description="While halted or failing, remind this often."
    )
    webhook_url: SecretStr | None = None
    telegram_token: SecretStr | None = None
    telegram_chat_id: str | None = None
    telegram_allowed_chats: list[int] = Field(
        default_factory=list,
        description="Chat ids the Telegram command bot answers (and telegram_chat_id); "
        "any other chat gets no reply, only a log line.",
    )
    telegram_api_url: str = Field(
        "https://api.telegram.org/bot",
        description="Bot API base URL, the token appended (a local Bot API server, a test).",
    )
    telegram_file_url: str = Field(
        "https://api.telegram.org/file/bot",
        description="Bot API file base URL, the token appended.",
    )
    notify_urls: list[SecretStr] = Field(
        default_factory=list,
        description="Apprise URLs every alert also goes to (json://, slack://, discord://, "
        "mailto://...); secrets: in .env as LPHEDGE_OPS__NOTIFY_URLS='[\"...\"]'.",
    )
    api_port: int | None = Field(
        None, ge=1, le=65_535, description="Serve the REST API and dashboard here (off: None)."
    )
    api_host: str = Field("127.0.0.1", description="Bind address of the API; 0.0.0.0 exposes it.")
    api_tokens: list[ApiToken] = Field(
        default_factory=list,
        description="Bearer tokens (name, token, scope read/control); in .env as "
        'LPHEDGE_OPS__API_TOKENS=\'[{"name": ..., "token": ..., "scope": ...}]\'.',
    )
    api_auth_failures_per_minute: int = Field(
        5, ge=1, le=1000, description="Failed logins per client per minute before 429."
    )

    @field_validator("api_tokens")
    @classmethod
    def _distinct_tokens(cls, v: list[ApiToken]) -> list[ApiToken]:
        names = [t.name for t in v]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValueError(f"[{i}].name {name!r} is also [{names.index(name)}].name")
        secrets = [t.token.get_secret_value() for t in v]
        if len(set(secrets)) != len(secrets):
            raise ValueError("two entries share one token: give each caller its own")
        return v

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        level = v.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, got {v!r}")
        return level
