"""`lphedge demo`: the offline end-to-end demo (anvil + Uniswap v3 + paper venue + ledger)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bot.commands.common import guarded, run_async
from bot.demo import RANGE_PCT, DemoOptions, load_path, run_demo, uses_options


def demo(
    out: Path = typer.Option(Path("out"), "--out", help="Folder for the ledger and the report."),
    start: str = typer.Option(
        "2024-03-11", help="First day of the ETH price path, YYYY-MM-DD (UTC)."
    ),
    hours: int = typer.Option(240, help="Hourly bars to replay (at least 2)."),
    range_pct: float = typer.Option(
        10.0,
        help=f"LP range, +- percent around the start price ({RANGE_PCT[0]:g} to {RANGE_PCT[1]:g}).",
    ),
    strategy: str = typer.Option(
        "delta_band", help="Strategy name; options_overlay also trades options."
    ),
    option_premium: str = typer.Option(
        "inverse",
        "--option-premium",
        help="Options of option strategies: inverse (Deribit, premium in ETH) or usd (USDC).",
    ),
    serve: int | None = typer.Option(
        None,
        "--serve",
        metavar="PORT",
        min=0,
        max=65_535,
        help="Then keep the REST API and dashboard on the demo's ledger at 127.0.0.1:PORT "
        "until Ctrl-C (a control token is printed once).",
    ),
) -> None:
    """Run the bot end to end offline on a real ETH price path, then report."""
    console = Console()
    opts = guarded(
        lambda: DemoOptions(
            start=start,
            hours=hours,
            range_pct=range_pct,
            strategy=strategy,
            out=out,
            option_premium=option_premium,
        )
    )
    path = guarded(lambda: load_path(opts))
    options = (
        f", {option_premium} ETH options at Black-76 on Deribit DVOL"
        if uses_options(strategy)
        else ""
    )
    console.print(
        f"[bold]lphedge demo[/bold]: anvil + Uniswap v3, a WETH/USDC position of +-{range_pct:g} %,"
        f" Binance ETHUSDT hourly closes from {start} ({hours} h), paper venue, {strategy}"
        + options
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
        console=console,
    ) as bar:
        task = bar.add_task("replaying", total=hours, note="")

        def progress(done: int, total: int, note: str) -> None:
            bar.update(task, completed=done, total=total, note=note)
            if "hedge" in note:
                bar.console.print(f"  tick {done:>4}: {note}")

        summary = run_async(run_demo(opts, progress, path))
    console.print(
        f"{summary['ticks']} ticks, {summary['orders']} hedge orders in {summary['seconds']} s;"
        f" ledger: {summary['ledger']}"
    )
    if "option_settlements" in summary:
        console.print(f"{summary['option_settlements']} options settled at expiry")
    from bot.demo_report import finish

    db = Path(str(summary["ledger"]))
    finish(db, out, console)
    if serve is not None:
        run_async(_serve(db, opts, serve, console))


async def _serve(db: Path, opts: DemoOptions, port: int, console: Console) -> None:
    """The dashboard on the finished demo's ledger; the token lives as long as this run."""
    import secrets

    from bot.api.server import serve_forever, serve_ledger
    from bot.config import Settings

    settings = Settings.model_validate(
        {
            "mode": "paper",
            "account": "demo",
            "venue": {"exchange": "binanceusdm"},
            "strategy": {"name": opts.strategy, "params": dict(opts.params)},
            "ledger": {"url": f"sqlite:///{db}"},
        }
    )
    token = secrets.token_urlsafe(24)
    server = await serve_ledger(settings, "127.0.0.1", port, token)
    console.print(
        f"dashboard: http://127.0.0.1:{server.port}/  token (control, this run only): {token}\n"
        "API spec: /api/v1/openapi.json; stop with Ctrl-C",
        highlight=False,
        soft_wrap=True,
    )
    await serve_forever(server)


def register(app: typer.Typer) -> None:
    app.command()(demo)
