"""What every command shares: config loading from flags, error -> exit code, JSON output."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from bot import secrets
from bot.config import Settings, load_settings
from bot.errors import (
    ChainUnavailable,
    ConfigError,
    InputError,
    LphedgeError,
    NeedsOperator,
    Rejected,
    Retryable,
)

T = TypeVar("T")

err_console = Console(stderr=True)

# Exit codes: 0 ok, 1 partial (some items failed), 2 bad config/input, 3 unavailable,
# 4 needs operator, 5 rejected.
EXIT_PARTIAL = 1
_EXIT_CODES: tuple[tuple[type[LphedgeError], int], ...] = (
    (ConfigError, 2),
    (InputError, 2),
    (ChainUnavailable, 3),
    (Retryable, 3),
    (NeedsOperator, 4),
    (Rejected, 5),
)

VerboseOption = typer.Option(
    False, "--verbose", "-v", help="Debug lines, libraries' too (alembic, web3, ccxt)."
)
ConfigOption = typer.Option(
    None, "--config", "-c", help="TOML config file (default: config/lphedge.toml if present)."
)


EXIT_UNAVAILABLE = 3
EXIT_NEEDS_OPERATOR = 4


def exit_code(err: LphedgeError) -> int:
    return next((c for kind, c in _EXIT_CODES if isinstance(err, kind)), 1)


def say_error(text: str, label: str = "error") -> None:
    """One line on stderr, secrets removed, never wrapped (a line a script can grep)."""
    line = f"[red]{label}:[/red] {secrets.redact(text)}"
    err_console.print(line, highlight=False, soft_wrap=True)


def fail(err: LphedgeError) -> NoReturn:
    """Print a one-line error (secrets removed) and exit with the code for its kind."""
    say_error(str(err))
    raise typer.Exit(exit_code(err))


def settings_from(config: Path | None, overrides: Mapping[str, Any] | None = None) -> Settings:
    try:
        return load_settings(config, overrides)
    except ConfigError as err:
        fail(err)


def run_async(coro: Awaitable[T]) -> T:
    """Run a coroutine; LphedgeErrors become one-line errors with their exit code."""

    async def _wrap() -> T:
        return await coro

    try:
        return asyncio.run(_wrap())
    except LphedgeError as err:
        fail(err)


def guarded(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except LphedgeError as err:
        fail(err)


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=_default) + "\n")
