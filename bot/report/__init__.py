"""Post-trade review from the ledger alone: attribution, tables, CSV/JSON and one HTML file.

`build(reader, since_ms=, until_ms=)` reads a `LedgerReader`; the outputs take the `Report`.
Options (fills of option symbols, OPTION_SETTLEMENT, BOOK_GREEKS) add an options component,
tables and an HTML section; a ledger without them gives the report it always gave.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.ports import LedgerReader
from bot.report import farm, html, option_tables, tables
from bot.report.attribution import Attribution, Components, attribute
from bot.report.load import ReportData, load
from bot.report.tables import Table
from bot.report.values import OptionsReport


@dataclass(frozen=True, slots=True)
class Report:
    data: ReportData
    attribution: Attribution
    tables: tuple[Table, ...]

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    def to_json(self) -> dict[str, object]:
        return tables.to_json(self.data, self.attribution, self.tables)

    def write_csv(self, directory: Path) -> list[Path]:
        return tables.write_csv(self.tables, directory)

    def to_html(self) -> str:
        return html.render(self.data, self.attribution, self.tables)

    def write_html(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_html(), encoding="utf-8")
        return path


def from_data(data: ReportData) -> Report:
    a = attribute(data)
    return Report(
        data, a, (*tables.all_tables(data, a), *farm.tables(data), *option_tables.all_tables(a))
    )


def build(
    reader: LedgerReader, *, since_ms: int | None = None, until_ms: int | None = None
) -> Report:
    """The report of the window [since_ms, until_ms) (ms since the epoch, UTC)."""
    return from_data(load(reader, since_ms=since_ms, until_ms=until_ms))


__all__ = [
    "Attribution",
    "Components",
    "OptionsReport",
    "Report",
    "ReportData",
    "Table",
    "build",
    "from_data",
]
