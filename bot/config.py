"""Configuration: a TOML file, then `.env`, then `LPHEDGE_*` environment variables.

Precedence, highest first: explicit overrides (CLI flags) > environment (`LPHEDGE_CHAIN__RPC_URLS`,
`__` nests) > `.env` > secrets directory (`/run/secrets`) > the TOML file > defaults.
Secrets are `SecretStr`: they print as `**********` and are registered for redaction.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    TomlConfigSettingsSource,
)

from bot import secrets
from bot.config_sections import (
    LOG_LEVELS,
    MAX_CHAIN_ID,
    MAX_TOKEN_ID,
    MAX_USD,
    MULTICALL3,
    NUMBER_TYPES,
    UNISWAP_V3_NPM_MAINNET,
    ChainEntry,
    ChainSettings,
    LedgerSettings,
    Mode,
    OpsSettings,
    OptionsSettings,
    ReconcileSettings,
    ReplaySettings,
    RiskSettings,
    StrategySettings,
    VenueSettings,
    chain_list,
)
from bot.errors import ConfigError

__all__ = [  # the sections live in bot.config_sections; import them from here
    "DEFAULT_CONFIG_PATH",
    "LOG_LEVELS",
    "MAX_CHAIN_ID",
    "MAX_TOKEN_ID",
    "MAX_USD",
    "MULTICALL3",
    "NUMBER_TYPES",
    "UNISWAP_V3_NPM_MAINNET",
    "ChainEntry",
    "ChainSettings",
    "LedgerSettings",
    "Mode",
    "OpsSettings",
    "OptionsSettings",
    "ReconcileSettings",
    "ReplaySettings",
    "RiskSettings",
    "Settings",
    "StrategySettings",
    "VenueSettings",
    "load_settings",
]

DEFAULT_CONFIG_PATH = Path("config/lphedge.toml")


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
    chains: list[ChainEntry] = Field(
        default_factory=list, description="More chains (`[[chains]]`), netted into one book."
    )
    assets: dict[str, str] = Field(default_factory=dict, description="Token symbol -> asset.")
    venue: VenueSettings = Field(default_factory=VenueSettings)
    strategy: StrategySettings = Field(default_factory=StrategySettings)
    risk: RiskSettings = Field(default_factory=RiskSettings)
    options: OptionsSettings = Field(default_factory=OptionsSettings)
    reconcile: ReconcileSettings = Field(default_factory=ReconcileSettings)
    ledger: LedgerSettings = Field(default_factory=LedgerSettings)
    ops: OpsSettings = Field(default_factory=OpsSettings)

    @model_validator(mode="after")
    def _chains_agree(self) -> Settings:
        chain_list(self.chain, self.chains)  # ConfigError naming the conflicting field
        return self

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
        for entry in self.chains:
            values += entry.rpc_url_values()
            values += [entry.ws_url.get_secret_value()] if entry.ws_url else []
        for s in (
            self.chain.ws_url,
            self.venue.api_key,
            self.venue.secret,
            self.venue.password,
            self.venue.private_key,
            self.ops.webhook_url,
            self.ops.telegram_token,
            self.ledger.checkpoint_key,
        ):
            if s is not None:
                values.append(s.get_secret_value())
        values += [t.token.get_secret_value() for t in self.ops.api_tokens]
        values += [u.get_secret_value() for u in self.ops.notify_urls]
        url = self.ledger.url.get_secret_value()
        if "@" in url:
            values.append(url)
        return values


def _one_line(text: str) -> str:
    return " ".join(text.split())


# Errors only numeric fields raise: their input is a number someone typed, never a secret.
_NUMBER_ERRORS = frozenset(
    {
        "greater_than",
        "greater_than_equal",
        "less_than",
        "less_than_equal",
        "finite_number",
        "float_parsing",
        "int_parsing",
        "int_from_float",
        "decimal_parsing",
        "decimal_type",
    }
)


def _format_error(err: ValidationError) -> str:
    """One line naming each bad field path; numbers given are quoted (never strings: a
    string may be a secret)."""
    lines = []
    for e in err.errors():
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"])
        path = path.removeprefix(".") or "(root)"
        msg = e["msg"].removeprefix("Value error, ")
        value = e.get("input")
        number = isinstance(value, NUMBER_TYPES) and not isinstance(value, bool)
        numeric_error = e["type"] in _NUMBER_ERRORS and len(str(value)) <= 40
        if (number or numeric_error) and "got" not in msg:
            msg += f", got {value!r}" if isinstance(value, str) else f", got {value}"
        lines.append(f"{path}: {msg}")
    return _one_line("invalid config: " + "; ".join(lines))


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
    cls = _reading(path)
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
    except SettingsError as err:  # an LPHEDGE_* value that is not valid JSON
        raise ConfigError(
            secrets.redact(f"{_one_line(str(err))}: LPHEDGE_* values of lists and tables are JSON")
        ) from None
    except (OSError, ValueError) as err:  # TOML syntax errors are ValueError subclasses
        raise ConfigError(f"config file {path}: {_one_line(str(err))}") from None
    secrets.register(*settings.secret_values())
    return settings


@functools.lru_cache(maxsize=8)
def _reading(path: Path | None) -> type[Settings]:
    """Settings that read the TOML file at `path` (one class per path: building one costs
    a schema build)."""
    return type("Settings", (Settings,), {"_toml_path": path})


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
