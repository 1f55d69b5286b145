"""`lphedge report`: the post-trade review from the ledger alone (terminal, JSON, CSV, HTML)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table as RichTable

from bot import report as review
from bot.commands.common import ConfigOption, err_console, guarded, print_json, settings_from
from bot.errors import InputError
from bot.report.option_tables import latest_greeks_table
from bot.report.tables import Table, rounded

TERMINAL_ROWS = 20
"""The terminal shows the newest rows of long tables; --csv / --json / --html have all."""

TERMINAL_TABLES = ("days", "decisions", "orders", "fills", "halts")
OPTION_TERMINAL_TABLES = ("options", "options_open")
"""Shown after the options summary when the ledger has options (the greeks: --csv/--html)."""


def parse_time(text: str, flag: str) -> int:
    """ISO date/time (UTC unless an offset is given) or epoch milliseconds -> epoch ms."""
    value = text.strip()
    if value.lstrip("-").isdigit():
        return int(value)
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


TERMINAL_COLUMNS = {
    "decisions": ("time", "asset", "symbol", "current", "target_base", "reason"),
    "days": ("day", "lp_fees", "lp_il", "lp_hold", "hedge_pnl", "funding", "trading_fees", "net"),
    "fills": (
        "time",
        "symbol",
        "side",
        "qty_base",
        "price",
        "decision_price",
        "fee_usd",
        "slippage_usd",
    ),
    "options": (
        "time",
        "kind",
        "symbol",
        "side",
        "contracts",
        "price",
        "currency",
        "premium",
        "usd",
    ),
    "orders": (
        "time",
        "client_id",
        "symbol",
        "side",
        "amount_base",
        "decision_price",
        "status",
        "filled",
        "average_price",
    ),
}
"""Narrower tables for the terminal; the other outputs keep every column."""


def _acting(t: Table) -> Table:
    """Only the decisions that asked for a trade (the terminal's view; the rest hold)."""
    act = t.columns.index("act")
    rows = tuple(r for r in t.rows if r[act] is True)
    return Table(t.name, f"{t.title} that acted ({len(rows)} of {len(t.rows)})", t.columns, rows)


def _rich(t: Table, rows: int = TERMINAL_ROWS, with_options: bool = False) -> RichTable:
    shown = t.rows[-rows:]
    title = t.title if len(t.rows) <= rows else f"{t.title}, newest {rows} of {len(t.rows)}"
    cols = TERMINAL_COLUMNS.get(t.name, t.columns)
    if with_options and t.name == "days":
        cols = (*cols[:-1], "options_pnl", cols[-1])
    index = [t.columns.index(c) for c in cols]
    out = RichTable(title=title)
    for i, col in zip(index, cols, strict=True):
        numeric = any(isinstance(r[i], Decimal | int) and not isinstance(r[i], bool) for r in shown)
        out.add_column(
            col,
            justify="right" if numeric else "left",
            no_wrap=col in ("time", "reason"),
            overflow="ellipsis",
            max_width=60,
        )
    for row in shown:
        out.add_row(*(rounded(row[i], col) for i, col in zip(index, cols, strict=True)))
    return out


def _usd_rows(t: Table, bold: tuple[str, ...]) -> RichTable:
    """An (item, key, usd) table as two columns, amounts in USD with 2 decimals."""
    out = RichTable(title=t.title)
    out.add_column("component")
    out.add_column("USD", justify="right")
    for label, key, value in t.rows:
        style = "bold" if key in bold else None
        out.add_row(str(label), f"{value:,.2f}", style=style)
    return out


def print_report(rep: review.Report, console: Console) -> None:
    console.print(_usd_rows(rep.table("total"), ("net", "lp_pnl", "hedge_pnl", "options_pnl")))
    with_options = rep.attribution.options is not None
    for name in TERMINAL_TABLES:
        t = rep.table(name)
        if name == "decisions":
            t = _acting(t)
        if t.rows:
            console.print(_rich(t, with_options=with_options))
    options = rep.attribution.options
    if options is not None:
        console.print(_usd_rows(rep.table("options_summary"), ("pnl_usd", "value_end_usd")))
        tables = [*(rep.table(n) for n in OPTION_TERMINAL_TABLES), latest_greeks_table(options)]
        for t in tables:
            if t.rows:
                console.print(_rich(t))
    for w in rep.attribution.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)


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
