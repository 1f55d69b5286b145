"""The report as tables: one shape for the terminal, CSV, JSON and HTML.

Cells keep exact values (Decimal, int, bool, str, None); each output formats them:
CSV and JSON write Decimals exactly (as text), the terminal and HTML round for reading.
Times are UTC ISO 8601.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from bot.domain.orders import OrderAck
from bot.report.attribution import Attribution, Components
from bot.report.load import ReportData
from bot.report.values import BASE_FIELDS, OPTION_FIELDS

Cell = str | Decimal | int | bool | None

TOTAL_ROWS: tuple[tuple[str, str], ...] = (
    ("lp_fees", "LP fees earned"),
    ("lp_il", "LP value vs holding (IL)"),
    ("lp_hold", "LP hold (price move)"),
    ("lp_pnl", "= LP PnL incl. fees"),
    ("hedge_realised", "Hedge PnL realised"),
    ("hedge_unrealised", "Hedge PnL unrealised"),
    ("hedge_pnl", "= Hedge PnL"),
    ("funding", "Funding"),
    ("trading_fees", "Trading fees (-)"),
    ("net", "Net PnL"),
    ("slippage", "memo: slippage vs decision (in hedge PnL)"),
)
"""Components in reading order; `net` = lp_pnl + hedge_pnl + funding - trading_fees."""

OPTION_TOTAL_ROWS: tuple[tuple[str, str], ...] = (
    ("options_premium", "Option premiums (received +, paid -)"),
    ("options_settlement", "Option settlements"),
    ("options_mtm", "Option value change (MTM)"),
    ("options_fees", "Option fees (-)"),
    ("options_pnl", "= Options PnL"),
)
OPTION_MEMO_ROWS: tuple[tuple[str, str], ...] = (
    ("options_theta_paid", "memo: theta paid (in option value change)"),
)


def total_rows(with_options: bool) -> tuple[tuple[str, str], ...]:
    """TOTAL_ROWS, with the options rows before `net` (and their memo) when there are options."""
    if not with_options:
        return TOTAL_ROWS
    cut = next(i for i, (key, _) in enumerate(TOTAL_ROWS) if key == "net")
    return (*TOTAL_ROWS[:cut], *OPTION_TOTAL_ROWS, *TOTAL_ROWS[cut:], *OPTION_MEMO_ROWS)


DAY_COLUMNS: tuple[str, ...] = (
    "day",
    "lp_fees",
    "lp_il",
    "lp_hold",
    "lp_pnl",
    "hedge_realised",
    "hedge_unrealised",
    "hedge_pnl",
    "funding",
    "trading_fees",
    "net",
    "slippage",
    "intervals",
    "fills",
    "funding_payments",
)
OPTION_DAY_COLUMNS: tuple[str, ...] = (
    "options_premium",
    "options_settlement",
    "options_mtm",
    "options_fees",
    "options_pnl",
)


def day_columns(with_options: bool) -> tuple[str, ...]:
    """DAY_COLUMNS, with the options columns before `net` and theta after `slippage`."""
    if not with_options:
        return DAY_COLUMNS
    net, counts = DAY_COLUMNS.index("net"), DAY_COLUMNS.index("intervals")
    return (
        *DAY_COLUMNS[:net],
        *OPTION_DAY_COLUMNS,
        *DAY_COLUMNS[net:counts],
        "options_theta_paid",
        *DAY_COLUMNS[counts:],
    )


@dataclass(frozen=True, slots=True)
class Table:
    """`name` is the CSV file stem and JSON key; `title` is shown to people."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]

    def records(self) -> list[dict[str, str | int | bool | None]]:
        """Rows as JSON-ready dicts (Decimals as exact plain strings)."""
        return [
            {c: json_cell(v) for c, v in zip(self.columns, row, strict=True)} for row in self.rows
        ]


def iso(ts_ms: int) -> str:
    dt = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    return dt.isoformat(timespec="milliseconds" if ts_ms % 1000 else "seconds").replace(
        "+00:00", "Z"
    )


def component(c: Components, name: str) -> Decimal:
    value = getattr(c, name)
    assert isinstance(value, Decimal)
    return value


def total_table(a: Attribution) -> Table:
    rows = tuple(
        (label, name, component(a.total, name)) for name, label in total_rows(a.options is not None)
    )
    return Table("total", "PnL attribution, total (USD)", ("item", "key", "usd"), rows)


def days_table(a: Attribution) -> Table:
    columns = day_columns(a.options is not None)
    money = columns[1:-3]
    rows: list[tuple[Cell, ...]] = []
    for d in a.days:
        values: list[Cell] = [d.day.isoformat()]
        values += [component(d.pnl, n) for n in money]
        values += [d.ticks, d.fills, d.funding_payments]
        rows.append(tuple(values))
    return Table("days", "PnL attribution per UTC day (USD)", columns, tuple(rows))


def decisions_table(data: ReportData) -> Table:
    cols = ("time", "strategy", "asset", "symbol", "current", "target_base", "act", "reason")
    rows = tuple(
        (iso(d.ts_ms), v.strategy, v.asset, v.symbol, v.current, v.target_base, v.act, v.reason)
        for d in data.decisions
        if data.in_window(d.ts_ms)
        for v in (d.value,)
    )
    return Table("decisions", "Decisions", cols, rows)


def _last_updates(data: ReportData) -> Mapping[str, OrderAck]:
    out: dict[str, OrderAck] = {}
    for u in data.updates:
        out[u.value.client_id] = u.value
    return out


def orders_table(data: ReportData) -> Table:
    cols = (
        "time",
        "client_id",
        "symbol",
        "side",
        "amount",
        "amount_base",
        "decision_price",
        "status",
        "filled",
        "average_price",
        "reason",
    )
    last = _last_updates(data)
    rows = []
    seen: set[str] = set()
    for item in data.intents:
        if not data.in_window(item.ts_ms) or item.value.client_id in seen:
            continue  # an intent re-recorded after a restart keeps its client id
        seen.add(item.value.client_id)
        i, ack = item.value, last.get(item.value.client_id)
        rows.append(
            (
                iso(item.ts_ms),
                i.client_id,
                i.symbol,
                i.side.value,
                i.amount,
                i.amount_base,
                i.decision_price,
                "pending" if ack is None else ack.status.value,
                None if ack is None else ack.filled,
                None if ack is None else ack.average_price,
                i.reason,
            )
        )
    return Table("orders", "Orders (intent and latest venue status)", cols, tuple(rows))


def fills_table(a: Attribution) -> Table:
    cols = (
        "time",
        "symbol",
        "side",
        "qty_base",
        "price",
        "decision_price",
        "fee_usd",
        "slippage_usd",
        "client_id",
        "trade_id",
    )
    rows = tuple(
        (
            iso(f.ts_ms),
            f.symbol,
            f.side.value,
            f.qty_base,
            f.price,
            f.decision_price,
            f.fee_usd,
            f.slippage_usd,
            f.client_id,
            f.trade_id,
        )
        for f in a.fills
    )
    return Table("fills", "Fills", cols, rows)


def deltas_table(a: Attribution) -> Table:
    cols = ("time", "asset", "price_usd", "lp_delta", "hedge", "net_delta", "hedge_ratio")
    rows = tuple(
        (iso(p.ts_ms), p.asset, p.price_usd, p.lp_delta, p.hedge, p.net_delta, p.hedge_ratio)
        for p in a.deltas
    )
    return Table("deltas", "Hedge ratio and net delta per asset, per tick", cols, rows)


def halts_table(data: ReportData) -> Table:
    cols = ("time", "source", "reason", "flatten")
    rows = tuple(
        (iso(h.ts_ms), h.value.source, h.value.reason, h.value.flatten)
        for h in data.halts
        if data.in_window(h.ts_ms)
    )
    return Table("halts", "Halts", cols, rows)


def all_tables(data: ReportData, a: Attribution) -> tuple[Table, ...]:
    """The attribution tables; `option_tables.all_tables` adds the options ones."""
    return (
        total_table(a),
        days_table(a),
        decisions_table(data),
        orders_table(data),
        fills_table(a),
        deltas_table(a),
        halts_table(data),
    )


def plain(value: Decimal) -> str:
    """Exact decimal text without exponent or trailing zeros: 9.000 -> 9, 1E+2 -> 100."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def json_cell(cell: Cell) -> str | int | bool | None:
    return plain(cell) if isinstance(cell, Decimal) else cell


def exact(cell: Cell) -> str:
    """Exact text of a cell (CSV): Decimals plain, None empty, bools lower case."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "true" if cell else "false"
    return plain(cell) if isinstance(cell, Decimal) else str(cell)


MONEY_COLUMNS = frozenset(
    {
        *DAY_COLUMNS[1:12],
        *OPTION_DAY_COLUMNS,
        "options_theta_paid",
        "usd",
        "fee_usd",
        "slippage_usd",
        "options_value_usd",
    }
)
"""Columns in USD: shown with 2 decimals."""


def rounded(cell: Cell, column: str = "") -> str:
    """A cell for reading: USD with 2 decimals, other numbers with up to 6 (zeros cut)."""
    if not isinstance(cell, Decimal):
        return exact(cell)
    if column in MONEY_COLUMNS or abs(cell) >= 1000:
        return f"{cell:,.2f}"
    text = f"{cell:,.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def write_csv(tables: Sequence[Table], directory: Path) -> list[Path]:
    """One `<name>.csv` per table, header first; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for t in tables:
        path = directory / f"{t.name}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(t.columns)
            w.writerows([exact(c) for c in row] for row in t.rows)
        paths.append(path)
    return paths


def to_json(data: ReportData, a: Attribution, tables: Sequence[Table]) -> dict[str, object]:
    """One JSON object: window, total (with lp_pnl, hedge_pnl), one list per table, warnings.

    With options the total also has the options_* components and options_pnl."""
    names: tuple[str, ...] = (*BASE_FIELDS, "lp_pnl", "hedge_pnl")
    if a.options is not None:
        names = (*names, *OPTION_FIELDS, "options_pnl")
    total = {n: plain(component(a.total, n)) for n in names}
    out: dict[str, object] = {
        "window": {"since_ms": data.since_ms, "until_ms": data.until_ms},
        "total": total,
    }
    for t in tables:
        if t.name != "total":
            out[t.name] = t.records()
    out["warnings"] = list(a.warnings)
    return out
