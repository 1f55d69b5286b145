"""The report on the terminal: each table laid out for the console's width.

Each table has variants from richest to most compact (`VARIANTS`): a wide terminal gets
more columns, 80 columns get the ones that matter, merged or with shorter headers and
times, and never a number cut. Numbers are rounded for reading (`bot.report.readable`);
`--json`, `--csv` and `--html` keep every row and column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from rich.console import Console
from rich.table import Table as RichTable

from bot import report as review
from bot.commands.common import err_console
from bot.commands.render import MIN_FLEX, Column, fitted_table
from bot.report import readable
from bot.report.option_tables import latest_greeks_table
from bot.report.tables import MONEY_COLUMNS, Cell, Table, exact

TERMINAL_ROWS = 20
"""The terminal shows the newest rows of long tables; --csv / --json / --html have all."""

TERMINAL_TABLES = ("days", "decisions", "orders", "fills", "halts")
FARM_TABLE = "farm_rewards"  # only with staked positions in the ledger (bot.report.farm)
OPTION_TERMINAL_TABLES = ("options", "options_open")
"""Shown after the options summary when the ledger has options (the greeks: --csv/--html)."""


@dataclass(frozen=True, slots=True)
class Col:
    """A table column on the terminal: `key` in the Table, its `header`, its `priority`
    (0: always shown; higher goes first when narrow) and whether it is free text."""

    key: str
    header: str = ""
    priority: int = 0
    flex: bool = False
    min_width: int = MIN_FLEX
    unit: str = ""  # a column whose text follows each cell (price 0.0126 ETH)


def _cols(spec: str) -> tuple[Col, ...]:
    """'time asset:4 current:1=hedge price+currency reason~30' -> Cols: `:n` priority, `=h`
    header, `+c` the unit column, `~` free text (at least 16 wide, or the number after it)."""
    out = []
    for word in spec.split():
        word, flex, least = word.partition("~")
        word, _, header = word.partition("=")
        word, _, prio = word.partition(":")
        key, _, unit = word.partition("+")
        least_width = int(least or MIN_FLEX)
        out.append(Col(key, header or key, int(prio or 0), bool(flex), least_width, unit))
    return tuple(out)


VARIANTS: dict[str, tuple[tuple[Col, ...], ...]] = {
    "days": (
        _cols(
            "day lp_fees lp_il lp_hold lp_pnl hedge_realised hedge_unrealised hedge_pnl"
            " funding trading_fees options_pnl net slippage"
        ),
        _cols("day lp_fees lp_il lp_hold hedge_pnl funding trading_fees options_pnl net"),
        _cols(
            "day lp_pnl=LP hedge_pnl=hedge funding:2 trading_fees:3=fees options_pnl:1=options net"
        ),
    ),
    "decisions": (
        _cols("time strategy asset symbol current target_base reason~"),
        _cols("time asset:4 symbol:3 current:1=hedge target_base=target reason~28"),
    ),
    "orders": (
        _cols(
            "time client_id symbol side amount amount_base decision_price status filled"
            " average_price reason~"
        ),
        _cols(
            "time client_id:6=client symbol:4 side amount_base=base decision_price:3=decided"
            " status:1 filled:5 average_price:2=avg_price reason:7~"
        ),
    ),
    "fills": (
        _cols(
            "time symbol side qty_base price decision_price fee_usd slippage_usd client_id trade_id"
        ),
        _cols(
            "time symbol:4 side qty_base=qty price decision_price:3=decided fee_usd:1=fee"
            " slippage_usd:2=slippage"
        ),
    ),
    "halts": (
        _cols("time source reason~ flatten"),
        _cols("time source reason~ flatten:1"),
    ),
    "options": (
        _cols("time kind symbol side contracts price currency premium usd_rate usd fee_usd"),
        _cols(
            "time kind:2 symbol side contracts=qty price+currency:1 premium+currency:4 usd"
            " fee_usd:3=fee"
        ),
    ),
    "options_open": (_cols("symbol contracts"),),
    "greeks_now": (
        _cols("asset net_delta net_delta_at_expiry lp_gamma options_gamma vega theta source"),
        _cols(
            "asset net_delta=net_delta net_delta_at_expiry=at_expiry lp_gamma:2=LP_gamma"
            " options_gamma:2=opt_gamma vega:1 theta:1 source:3"
        ),
    ),
}
"""Columns per table and width; keys missing from a Table (no options) are left out."""

PRICE_COLUMNS = frozenset({"price", "decision_price", "average_price", "price_usd", "premium"})
QTY_COLUMNS = frozenset(
    {
        "current",
        "target_base",
        "qty_base",
        "amount_base",
        "lp_delta",
        "hedge",
        "net_delta",
        "perp_delta",
        "net_delta_at_expiry",
    }
)
CONTRACT_COLUMNS = frozenset({"amount", "filled", "contracts"})
"""Venue contracts, already at the market's step: shown exactly."""
GREEK_COLUMNS = frozenset({"lp_gamma", "options_gamma", "vega", "theta"})


def terminal_cell(cell: Cell, column: str) -> str:
    """A cell for reading on the terminal, by what its column holds."""
    if isinstance(cell, str):
        return readable.tidy(cell) if column == "reason" else cell
    if not isinstance(cell, Decimal):
        return exact(cell)
    if column in MONEY_COLUMNS or column.endswith("_usd") or column == "usd":
        return readable.usd(cell)
    if column in PRICE_COLUMNS:
        return readable.price(cell)
    if column in QTY_COLUMNS:
        return readable.qty(cell)
    if column in CONTRACT_COLUMNS:
        return exact(cell)
    if column in GREEK_COLUMNS:
        return readable.sig(cell, 4)
    return readable.sig(cell, 6)


def _compact(column: str, cells: list[str]) -> list[str]:
    """Shorter texts for the compact variant: times without T/Z, ids and symbols cut."""
    if column == "time":
        return readable.compact_times(cells)
    if column == "client_id":
        return [c[:8] for c in cells]
    if column == "symbol":
        return [c.partition(":")[2] if "-" in c.partition(":")[2] else c for c in cells]
    return cells


def _variant(
    t: Table, rows: Sequence[tuple[Cell, ...]], cols: Sequence[Col], compact: bool
) -> list[Column]:
    out = []
    for col in cols:
        if col.key not in t.columns:
            continue
        i = t.columns.index(col.key)
        values = [r[i] for r in rows]
        cells = [terminal_cell(v, col.key) for v in values]
        if col.unit in t.columns:
            units = [exact(r[t.columns.index(col.unit)]) for r in rows]
            cells = [f"{c} {u}".strip() for c, u in zip(cells, units, strict=True)]
        numeric = any(isinstance(v, Decimal | int) and not isinstance(v, bool) for v in values)
        out.append(
            Column(
                col.header.replace("_", " ") if compact else col.header,
                _compact(col.key, cells) if compact else cells,
                priority=col.priority,
                justify="right" if numeric else "left",
                flex=col.flex,
                min_width=col.min_width,
            )
        )
    return out


def rich_table(t: Table, width: int, rows: int = TERMINAL_ROWS) -> RichTable:
    """The newest `rows` rows of `t`, laid out for `width` columns."""
    shown = t.rows[-rows:]
    title = t.title if len(t.rows) <= rows else f"{t.title}, newest {rows} of {len(t.rows)}"
    specs = VARIANTS.get(t.name, (tuple(Col(c, c) for c in t.columns),))
    last = len(specs) - 1
    variants = [_variant(t, shown, s, compact=n == last and n > 0) for n, s in enumerate(specs)]
    return fitted_table(title, variants, width)


def _acting(t: Table) -> Table:
    """Only the decisions that asked for a trade (the terminal's view; the rest hold)."""
    act = t.columns.index("act")
    rows = tuple(r for r in t.rows if r[act] is True)
    return Table(t.name, f"{t.title} that acted ({len(rows)} of {len(t.rows)})", t.columns, rows)


def usd_rows(t: Table, bold: tuple[str, ...], width: int) -> RichTable:
    """An (item, key, usd) table as two columns, amounts in USD to the cent."""
    labels = [str(label) for label, _, _ in t.rows]
    amounts = [readable.usd(value) for _, _, value in t.rows]  # type: ignore[arg-type]
    styles = ["bold" if key in bold else None for _, key, _ in t.rows]
    cols = [Column("component", labels, flex=True), Column("USD", amounts, justify="right")]
    return fitted_table(t.title, [cols], width, row_styles=styles)


def print_report(rep: review.Report, console: Console) -> None:
    width = console.width
    total = rep.table("total")
    console.print(usd_rows(total, ("net", "lp_pnl", "hedge_pnl", "options_pnl"), width))
    for name in TERMINAL_TABLES:
        t = rep.table(name)
        if name == "decisions":
            t = _acting(t)
        if t.rows:
            console.print(rich_table(t, width))
    for t in rep.tables:
        if t.name == FARM_TABLE and t.rows:
            console.print(rich_table(t, width))
    options = rep.attribution.options
    if options is not None:
        summary = rep.table("options_summary")
        console.print(usd_rows(summary, ("pnl_usd", "value_end_usd"), width))
        tables = [*(rep.table(n) for n in OPTION_TERMINAL_TABLES), latest_greeks_table(options)]
        for t in tables:
            if t.rows:
                console.print(rich_table(t, width))
    for w in rep.attribution.warnings:
        err_console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)
