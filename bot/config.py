"""Configuration: a TOML file, then `.env`, then `LPHEDGE_*` environment variables.

Precedence, highest first: explicit overrides (CLI flags) > environment (`LPHEDGE_CHAIN__RPC_URLS`,
`__` nests) > `.env` > secrets directory (`/run/secrets`) > the TOML file > defaults.
Secrets are `SecretStr`: they print as `**********` and are registered for redaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot import secrets
from bot.errors import ConfigError

DEFAULT_CONFIG_PATH = Path("config/lphedge.toml")
MULTICALL3 = "0xcA11bde05977b3631167028862bE2a173976CA11"
UNISWAP_V3_NPM_MAINNET = "0xC36442b4a4522E871399CD717aBDD847Ab11FE88"

Mode = Literal["paper", "testnet", "live"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_address(value: str, field: str) -> str:
    v = value.strip()
    if not (v.startswith("0x") and len(v) == 42):
        raise ValueError(f"{field} must be a 0x-prefixed 20-byte hex address, got {v!r}")
    try:
        int(v[2:], 16)
    except ValueError:
        raise ValueError(f"{field} is not hex: {v!r}") from None
    return v


class ChainSettings(_Section):
    """Where the LP positions live and how to read them."""

    chain_id: int | None = Field(
        None, description="Expected chain id; the RPC is checked against it."
    )
    rpc_urls: list[SecretStr] = Field(default_factory=list, description="RPC URLs, failover order.")
    ws_url: SecretStr | None = Field(None, description="WebSocket URL for newHeads (optional).")
    position_manager: str = UNISWAP_V3_NPM_MAINNET
    token_ids: list[int] = Field(default_factory=list)
    owners: list[str] = Field(default_factory=list)
    v2_pairs: list[str] = Field(default_factory=list)
    multicall: str = MULTICALL3
    poll_seconds: float = Field(12.0, gt=0)
    max_tick_seconds: float = Field(60.0, gt=0, description="Tick at least this often.")

    @field_validator("position_manager", "multicall")
    @classmethod
    def _address(cls, v: str) -> str:
        return _check_address(v, "address")

    @field_validator("owners", "v2_pairs")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        return [_check_address(a, f"item {i}") for i, a in enumerate(v)]

    @field_validator("token_ids")
    @classmethod
    def _ids(cls, v: list[int]) -> list[int]:
        for i, t in enumerate(v):
            if t < 0:
                raise ValueError(f"item {i}: token id must be >= 0, got {t}")
        return v

    def rpc_url_values(self) -> tuple[str, ...]:
        return tuple(u.get_secret_value() for u in self.rpc_urls)


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
    paper_balance_usd: Decimal = Field(Decimal(100_000), gt=0)
    paper_market: Literal["live", "replay"] = "live"

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
        1, ge=1, description="Poll fills, fees, funding, settlements, liquidations every N ticks."
    )
    positions_every_ticks: int = Field(
        10, ge=1, description="Compare venue positions with the ledger every N ticks."
    )
    drift_confirmations: int = Field(
        2, ge=1, description="Checks in a row a drift must persist before it is acted on."
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

    max_block_age_s: float = Field(180, gt=0)
    max_market_age_s: float = Field(60, gt=0)
    max_price_divergence_bps: float = Field(150, gt=0)
    max_hedge_notional_usd: Decimal = Field(Decimal(1_000_000), gt=0)
    max_order_notional_usd: Decimal = Field(Decimal(250_000), gt=0)
    max_orders_per_hour: int = Field(30, gt=0)
    daily_loss_limit_usd: Decimal = Field(Decimal(50_000), gt=0)
    min_liquidation_distance_pct: float = Field(20, ge=0)


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
    strike_step: Decimal = Field(Decimal(25), gt=0, description="Strike grid, USD.")
    strike_range_pct: float = Field(30.0, gt=0, lt=100, description="Listed strikes, +- %.")
    daily_expiries: int = Field(3, ge=0, description="Daily expiries listed (replay market).")
    weekly_expiries: int = Field(4, ge=0, description="Friday expiries listed (replay market).")
    skew: float = Field(0.3, ge=0, description="Vol added per unit |log-moneyness|.")
    half_spread: float = Field(0.03, ge=0, lt=1, description="Bid/ask distance, of the mark.")
    max_slippage: Decimal = Field(
        Decimal("0.05"), ge=0, lt=1, description="Limit price beyond the touch, of the price."
    )
    max_premium_per_order_usd: Decimal = Field(Decimal(50_000), gt=0)
    max_premium_per_day_usd: Decimal = Field(Decimal(100_000), gt=0)
    max_expiry_days: float = Field(21.0, gt=0, description="Quote expiries up to this far.")
    taker_fee: Decimal = Field(
        Decimal("0.0003"), ge=0, description="Per contract, of the underlying (Deribit 0.03 %)."
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


class OpsSettings(_Section):
    log_json: bool = False
    log_level: str = "INFO"
    metrics_port: int | None = None
    metrics_host: str = Field("127.0.0.1", description="0.0.0.0 inside a container.")
    webhook_url: SecretStr | None = None
    telegram_token: SecretStr | None = None
    telegram_chat_id: str | None = None


class Settings(BaseSettings):
    """The whole configuration. See config/example.toml for every field with a comment."""

    model_config = SettingsConfigDict(
        env_prefix="LPHEDGE_",
        env_nested_delimiter="__",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        frozen=True,
    )
    _toml_path: ClassVar[Path | None] = None

    mode: Mode = "paper"
    confirm_live: bool = False
    account: str = Field("default", description="Names the venue account for the writer lock.")
    chain: ChainSettings = Field(default_factory=ChainSettings)
    assets: dict[str, str] = Field(default_factory=dict, description="Token symbol -> asset.")
    venue: VenueSettings = Field(default_factory=VenueSettings)
    strategy: StrategySettings = Field(default_factory=StrategySettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    options: OptionsSettings = Field(default_factory=OptionsSettings)
    reconcile: ReconcileSettings = Field(default_factory=ReconcileSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    ops: OpsSettings = Field(default_factory=OpsSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
        ]
        if cls._toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls._toml_path))
        return tuple(sources)

    def secret_values(self) -> list[str]:
        """Every secret in this config, for the redaction registry."""
        values = [u.get_secret_value() for u in self.chain.rpc_urls]
        for s in (
            self.chain.ws_url,
            self.venue.api_key,
            self.venue.secret,
            self.venue.password,
            self.venue.private_key,
            self.ops.webhook_url,
            self.ops.telegram_token,
        ):
            if s is not None:
                values.append(s.get_secret_value())
        url = self.ledger.url.get_secret_value()
        if "@" in url:
            values.append(url)
        return values


def _format_error(err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        path = ".".join(str(p) for p in e["loc"]) or "(root)"
        msg = e["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {msg}")
    return "invalid config: " + "; ".join(lines)


def _drop_none(d: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            nested = _drop_none(v)
            if nested:
                out[k] = nested
        elif v is not None:
            out[k] = v
    return out


def load_settings(path: Path | None = None, overrides: Mapping[str, Any] | None = None) -> Settings:
    """Load settings from `path` (or config/lphedge.toml if present), env, .env and overrides.

    `overrides` is a nested mapping from CLI flags; `None` values are ignored, so an absent
    flag never masks the file. Raises ConfigError naming each bad field path.
    """
    if path is None and DEFAULT_CONFIG_PATH.exists():
        path = DEFAULT_CONFIG_PATH
    if path is not None and not path.exists():
        raise ConfigError(f"config file {path} not found")
    cls = type("Settings", (Settings,), {"_toml_path": path})
    file_defaults: dict[str, Any] = {}
    try:
        base = cls()
        if overrides:
            file_defaults = _merge(base.model_dump(), _drop_none(overrides))
            settings: Settings = Settings.model_validate(_unsecret(file_defaults))
        else:
            settings = base
    except ValidationError as err:
        raise ConfigError(secrets.redact(_format_error(err))) from None
    except (OSError, ValueError) as err:  # TOML syntax errors are ValueError subclasses
        raise ConfigError(f"config file {path}: {err}") from None
    secrets.register(*settings.secret_values())
    return settings


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _unsecret(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: _unsecret(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unsecret(v) for v in value]
    return value
