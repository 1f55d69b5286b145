"""`lphedge report`: the post-trade review from the ledger alone (terminal, JSON, CSV, HTML)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console

from bot import report as review
from bot.commands.common import ConfigOption, err_console, guarded, print_json, settings_from
from bot.commands.report_text import print_report
from bot.errors import InputError


def parse_time(text: str, flag: str) -> int:
    """ISO date/time (UTC unless an offset is given) or epoch milliseconds -> epoch ms."""
    value = text.strip()
    if value.lstrip("-").isdigit():
        ms = int(value)
        if not 0 <= ms < 10**15:
            raise InputError(f"{flag} {text!r}: epoch milliseconds must be in [0, 10**15)")
        return ms
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise InputError(
            f"{flag} {text!r}: give an ISO date/time (2024-01-02, 2024-01-02T08:00Z) "
            "or epoch milliseconds"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def _ledger_url(db: str | None, config: Path | None) -> str:
    if db:
        return db
    return settings_from(config).ledger.url.get_secret_value()


def _build(url: str, since_ms: int | None, until_ms: int | None) -> review.Report:
    from bot.ledger.store import Ledger

    with Ledger.open(url, create=False) as ledger:
        return review.build(ledger, since_ms=since_ms, until_ms=until_ms)


def report(
    db: str | None = typer.Option(
        None,
        "--db",
        metavar="URL",
        help="Ledger: SQLite path, sqlite:///path or postgresql://... "
        "(default: the config's ledger.url).",
    ),
    config: Path | None = ConfigOption,
    since: str | None = typer.Option(
        None,
        "--since",
        metavar="T",
        help="From this time (inclusive): ISO date/time in UTC or epoch ms.",
    ),
    until: str | None = typer.Option(
        None,
        "--until",
        metavar="T",
        help="Up to this time (exclusive): ISO date/time in UTC or epoch ms.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    csv_dir: Path | None = typer.Option(
        None, "--csv", metavar="DIR", help="Write one CSV per table in DIR."
    ),
    html_file: Path | None = typer.Option(
        None, "--html", metavar="FILE", help="Write one self-contained HTML file with charts."
    ),
) -> None:
    """Post-trade review: PnL attribution per day and in total, deltas, decisions, orders, fills."""
    since_ms = None if since is None else guarded(lambda: parse_time(since, "--since"))
    until_ms = None if until is None else guarded(lambda: parse_time(until, "--until"))
    url = _ledger_url(db, config)
    rep = guarded(lambda: _build(url, since_ms, until_ms))
    if as_json:
        print_json(rep.to_json())
    else:
        print_report(rep, Console())
    if csv_dir is not None:
        paths = rep.write_csv(csv_dir)
        err_console.print(f"wrote {len(paths)} CSV files to {csv_dir}", highlight=False)
    if html_file is not None:
        rep.write_html(html_file)
        err_console.print(f"wrote {html_file}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(report)


__all__ = ["parse_time", "print_report", "register", "report"]
