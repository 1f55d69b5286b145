"""`lphedge run` and `lphedge plan`: the bot loop, or one tick without orders."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from bot import wiring
from bot.commands.common import ConfigOption, run_async, settings_from
from bot.config import Settings
from bot.engine import TickResult
from bot.logs import setup_logging

log = logging.getLogger("lphedge.run")


def print_tick(result: TickResult, console: Console) -> None:
    """Targets with their reasons, the orders they lead to, and any halt."""
    if result.error:
        console.print(f"[red]tick failed:[/red] {result.error}")
        return
    t = Table(title=f"Decision at block {result.block}")
    for col in ("asset", "LP delta", "target hedge", "act", "reason"):
        t.add_column(col)
    book = result.book
    for target in result.targets:
        lp = book.delta(target.asset) if book else 0
        t.add_row(
            target.asset,
            f"{lp:.6f}",
            f"{target.target_base:.6f}",
            "yes" if target.act else "no",
            target.reason,
        )
    console.print(t)
    if result.intents:
        o = Table(title="Order intents")
        for col in ("client id", "symbol", "side", "contracts", "base", "reduce-only"):
            o.add_column(col)
        for i in result.intents:
            o.add_row(
                i.client_id,
                i.symbol,
                i.side.value,
                str(i.amount),
                str(i.amount_base),
                "yes" if i.reduce_only else "no",
            )
        console.print(o)
    if result.verdict and result.verdict.halt:
        console.print(f"[yellow]halted:[/yellow] {result.verdict.halt}")
    for note in result.verdict.notes if result.verdict else ():
        console.print(f"[yellow]risk:[/yellow] {note}")


async def _run(settings: Settings, once: bool) -> None:
    rt = wiring.runtime(settings)
    monitor = wiring.monitor(settings, rt)
    lock_key = f"{settings.venue.exchange}:{settings.account}:{settings.mode}"
    try:
        with rt.ledger.writer_lock(lock_key):
            if monitor is not None and settings.ops.metrics_port is not None:
                await monitor.serve(settings.ops.metrics_port, settings.ops.metrics_host)
            await rt.engine.start()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, rt.engine.stop)
            await rt.engine.run(
                rt.block_number,
                poll_seconds=settings.chain.poll_seconds,
                max_tick_seconds=settings.chain.max_tick_seconds,
                once=once,
            )
            if once and rt.engine.last_tick:
                print_tick(rt.engine.last_tick, Console())
    finally:
        if monitor is not None:
            await monitor.close()
        await rt.close()


def run(
    config: Path | None = ConfigOption,
    once: bool = typer.Option(False, "--once", help="Run one tick and exit."),
    confirm_live: bool = typer.Option(False, "--confirm-live", help="Allow live trading."),
) -> None:
    """Run the bot: a tick on every new block and at least every max_tick_seconds."""
    overrides: dict[str, Any] = {"confirm_live": True} if confirm_live else {}
    settings = settings_from(config, overrides)
    setup_logging(settings.ops.log_level, settings.ops.log_json)
    run_async(_run(settings, once))


async def _plan(settings: Settings) -> TickResult:
    rt = wiring.runtime(settings, dry_run=True)
    try:
        return await rt.engine.tick()
    finally:
        await rt.close()


def plan(config: Path | None = ConfigOption) -> None:
    """Run one tick without placing orders: what the bot would do now, and why."""
    settings = settings_from(config)
    print_tick(run_async(_plan(settings)), Console())


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(plan)
