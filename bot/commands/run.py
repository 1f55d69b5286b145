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

from bot import wiring
from bot.commands.common import (
    EXIT_NEEDS_OPERATOR,
    EXIT_PARTIAL,
    EXIT_UNAVAILABLE,
    ConfigOption,
    VerboseOption,
    exit_code,
    run_async,
    say_error,
    settings_from,
)
from bot.commands.tick_view import print_decision
from bot.config import Settings
from bot.config_sections import chain_list
from bot.engine import TickResult
from bot.errors import ConfigError
from bot.ledger.lease import LeaseLost
from bot.logs import setup_logging
from bot.narrator import AlertGate, Narrator

log = logging.getLogger("lphedge.run")


def print_tick(result: TickResult, console: Console) -> None:
    """Targets with their reasons, the orders they lead to, and any halt (fitted to the
    console's width: `bot.commands.tick_view`)."""
    print_decision(result, console)


def tick_outcome(result: TickResult) -> tuple[int, str | None]:
    """The exit code of a one-tick command and the line that says why it is not 0: a failed
    tick exits with its error's code, a venue that could not be read 3, a halt 4, a tick
    that read only some positions 1."""
    if result.failure is not None:
        return exit_code(result.failure), f"tick failed: {result.error}"
    if result.error:
        return 1, f"tick failed: {result.error}"
    if result.verdict is not None and result.verdict.halt:
        code = EXIT_UNAVAILABLE if result.unavailable else EXIT_NEEDS_OPERATOR
        return code, f"halted: {result.verdict.halt}"
    if result.item_errors:
        n = len(result.item_errors)
        return EXIT_PARTIAL, f"{n} position(s) not read: " + "; ".join(result.item_errors)
    return 0, None


def report_tick(result: TickResult) -> None:
    """Print the decision (stdout) and, when the tick was not clean, one line on stderr;
    exits with the tick's code."""
    if result.error is None:
        print_tick(result, Console())
    code, line = tick_outcome(result)
    if line is not None:
        label, _, text = line.partition(": ")
        say_error(text, label)
    if code:
        raise typer.Exit(code)


def _narrate(settings: Settings, rt: Any) -> None:
    """Say on the terminal (the log) when the bot halts or fails, what is unhedged, and when
    it hedges again; reminders every `ops.notice_every_s` while it stays that way."""
    narrator = Narrator(repeat_s=settings.ops.notice_every_s)
    gate = AlertGate(repeat_s=settings.ops.notice_every_s)
    clock = rt.engine.p.clock

    async def observe(result: TickResult) -> None:
        for alert in gate.filter(result, clock.now_ms()):  # drift, trades by hand, ...
            log.warning("%s", alert)
        if isinstance(result.failure, ConfigError):
            return  # the run stops on it, and its exit line says it
        for notice in narrator.observe(result, clock.now_ms()):
            (log.warning if notice.bad else log.info)("%s", notice.text)

    rt.engine.p.observers.append(observe)


def _stop_on_lost_lease(rt: Any) -> None:
    """A lost writer lease stops the run (exit 4). Nothing is written: another bot may be
    the writer now, and a halt recorded by this one would halt that one too."""
    engine = rt.engine

    async def observe(result: TickResult) -> None:
        if isinstance(result.failure, LeaseLost):
            engine.stop()

    engine.p.observers.append(observe)


def _head_watch(settings: Settings) -> Any:
    """newHeads streams for every chain with a `ws_url` (None: none, poll)."""
    urls = [
        (name, chain.ws_url.get_secret_value())
        for name, chain in chain_list(settings.chain, settings.chains)
        if chain.ws_url is not None
    ]
    if not urls:
        return None
    from bot.chain.heads import HeadWatch

    return HeadWatch(urls).start()


async def _loop(settings: Settings, rt: Any, once: bool) -> None:
    """The engine's loop, on pushed blocks where a chain has a `ws_url`."""
    chain = settings.chain
    heads = None if once else _head_watch(settings)
    try:
        await rt.engine.run(
            rt.block_number if heads is None else heads.block_probe(rt.block_number),
            poll_seconds=chain.poll_seconds,
            max_tick_seconds=chain.max_tick_seconds,
            once=once,
            new_head=None if heads is None else heads.next_head,
            min_tick_seconds=chain.min_tick_seconds,
        )
    finally:
        if heads is not None:
            await heads.close()


async def _serve(settings: Settings, rt: Any, monitor: Any, once: bool) -> Any:
    """/metrics and /healthz; for a running bot also its control surface: the REST API and
    dashboard, and Telegram commands (returned; None when `[ops]` asks for neither)."""
    if monitor is not None and settings.ops.metrics_port is not None:
        await monitor.serve(settings.ops.metrics_port, settings.ops.metrics_host)
    if once:
        return None
    from bot.api.server import serve_bot

    return await serve_bot(settings, rt.engine)


async def _run(settings: Settings, once: bool) -> TickResult | None:
    rt = wiring.runtime(settings)
    monitor = wiring.monitor(settings, rt)
    checkpoints = None
    api = None
    if not once or settings.ledger.checkpoint_key is not None:  # one tick: no warning line
        checkpoints = wiring.checkpointer(settings, rt, monitor)
    if not once:
        _narrate(settings, rt)
    lock_key = f"{settings.venue.exchange}:{settings.account}:{settings.mode}"
    try:
        regain = settings.ledger.lease_regain_s
        with rt.ledger.writer_lock(lock_key, regain_s=regain) as lease:
            rt.engine.p.guard = lease.check  # before each tick and each order
            _stop_on_lost_lease(rt)
            api = await _serve(settings, rt, monitor, once)
            await rt.engine.start()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                with contextlib.suppress(NotImplementedError):
                    loop.add_signal_handler(sig, rt.engine.stop)
            if not once:
                log.info(
                    "running: %s on %s, strategy %s; stop with Ctrl-C",
                    settings.mode,
                    rt.venue.name,
                    settings.strategy.path or settings.strategy.name,
                )
            await _loop(settings, rt, once)
            last = rt.engine.last_tick
            if last is not None and isinstance(last.failure, LeaseLost):
                raise last.failure  # exit 4: another bot may be writing for the account
            if not once and last is not None and isinstance(last.failure, ConfigError):
                raise last.failure
            return last
    finally:
        if api is not None:
            await api.close()
        if checkpoints is not None:
            await checkpoints.close()
        if monitor is not None:
            await monitor.close()
        await rt.close()


def run(
    config: Path | None = ConfigOption,
    once: bool = typer.Option(
        False, "--once", help="Run one tick and exit (its code says how it went)."
    ),
    confirm_live: bool = typer.Option(False, "--confirm-live", help="Allow live trading."),
    verbose: bool = VerboseOption,
) -> None:
    """Run the bot: a tick on every new block and at least every max_tick_seconds."""
    overrides: dict[str, Any] = {"confirm_live": True} if confirm_live else {}
    settings = settings_from(config, overrides)
    setup_logging(settings.ops.log_level, settings.ops.log_json, verbose=verbose)
    last = run_async(_run(settings, once))
    if once and last is not None:
        report_tick(last)


async def _plan(settings: Settings) -> TickResult:
    rt = wiring.runtime(settings, dry_run=True)
    try:
        return await rt.engine.tick()
    finally:
        await rt.close()


def plan(config: Path | None = ConfigOption, verbose: bool = VerboseOption) -> None:
    """Run one tick without placing orders: what the bot would do now, and why."""
    settings = settings_from(config)
    setup_logging("WARNING", settings.ops.log_json, verbose=verbose)
    report_tick(run_async(_plan(settings)))


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(plan)
