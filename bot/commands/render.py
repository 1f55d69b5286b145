"""Terminal tables that stay readable at any width: one line per row, no number cut.

Rich shrinks a table that does not fit by wrapping or cutting every cell, so at 80 columns
`3,812.34` became `3,8…` and a reason took three lines. Here a table is laid out first:
the caller gives variants of its columns, richest first; the first variant that fits the
console is used, else the last (compact) one loses its least important columns until it
fits. Only free text (a `flex` column, e.g. a reason) is ever cut, with an ellipsis;
numbers are shown whole or not at all. `--json` keeps every value exact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

Justify = Literal["left", "right"]
Cell = str | Text

MIN_FLEX = 16
"""Free text narrower than this is not worth showing: its column goes instead."""


def _width(cell: Cell) -> int:
    return cell.cell_len if isinstance(cell, Text) else cell_len(cell)


@dataclass(frozen=True, slots=True)
class Column:
    """One column to lay out. `priority` 0 is always shown; of the others the highest
    number goes first when the table is too wide. A `flex` column holds free text: it takes
    the width left over (at least `min_width`) and is cut with an ellipsis."""

    header: str
    cells: Sequence[Cell]
    priority: int = 0
    justify: Justify = "left"
    flex: bool = False
    min_width: int = MIN_FLEX

    @property
    def natural(self) -> int:
        return max([cell_len(self.header), *(_width(c) for c in self.cells)])

    @property
    def least(self) -> int:
        """The narrowest it may be shown."""
        if not self.flex:
            return self.natural
        return min(self.natural, max(self.min_width, cell_len(self.header)))


def table_width(widths: Sequence[int]) -> int:
    """A rich table with edges and one space of padding each side: 3 per column, plus 1."""
    return sum(widths) + 3 * len(widths) + 1


@dataclass(frozen=True, slots=True)
class Layout:
    """The columns chosen, their widths, and the headers left out."""

    columns: tuple[Column, ...]
    widths: tuple[int, ...]
    dropped: tuple[str, ...] = ()


def _fits(columns: Sequence[Column], width: int) -> bool:
    return table_width([c.least for c in columns]) <= width


def _widths(columns: Sequence[Column], width: int) -> tuple[int, ...]:
    """Fixed columns at their natural width; flex columns share what is left."""
    widths = [c.least for c in columns]
    spare = width - table_width(widths)
    flex = [i for i, c in enumerate(columns) if c.flex]
    for n, i in enumerate(flex):
        grow = max(0, min(spare // (len(flex) - n), columns[i].natural - widths[i]))
        widths[i] += grow
        spare -= grow
    return tuple(widths)


def _constant(col: Column) -> bool:
    """The same text in every row (one symbol, one asset): it tells the least."""
    return len(col.cells) > 1 and len({str(c) for c in col.cells}) == 1


def layout(variants: Sequence[Sequence[Column]], width: int) -> Layout:
    """The first variant that fits `width`; else the last one without its least important
    columns: a column with one value in every row first, then the highest priority number,
    the rightmost among equals."""
    if not variants:
        raise ValueError("layout needs at least one variant")
    for columns in variants:
        if _fits(columns, width):
            return Layout(tuple(columns), _widths(columns, width))
    kept = list(variants[-1])
    dropped: list[str] = []
    while not _fits(kept, width):
        candidates = [i for i, c in enumerate(kept) if c.priority > 0]
        if not candidates:
            break
        worst = max(candidates, key=lambda i: (_constant(kept[i]), kept[i].priority, i))
        dropped.append(kept.pop(worst).header)
    return Layout(tuple(kept), _widths(kept, width), tuple(dropped))


def _cut(text: str, width: int) -> str:
    return text if cell_len(text) <= width else text[: max(0, width - 1)] + "…"


def cut_words(text: str, width: int) -> str:
    """`text` in `width` cells, cut after a whole word where one ends in its second half
    (so no number is cut mid-way), with an ellipsis."""
    if cell_len(text) <= width:
        return text
    head = text[: max(0, width - 1)]
    space = head.rstrip().rfind(" ")
    if space >= width // 2:
        return head[:space].rstrip() + " …"
    return head + "…"


def _fit_cell(cell: Cell, width: int) -> Cell:
    return cut_words(cell, width) if isinstance(cell, str) else cell


def fitted_table(
    title: str | None,
    variants: Sequence[Sequence[Column]],
    width: int,
    row_styles: Sequence[str | None] | None = None,
) -> Table:
    """A rich Table laid out for `width` (see `layout`); the title on one line too."""
    chosen = layout(variants, width)
    heading = None if title is None else _cut(title, width)
    out = Table(
        title=heading,
        box=box.HEAVY_HEAD,
        min_width=None if heading is None else min(width, cell_len(heading)),
    )
    for col, w in zip(chosen.columns, chosen.widths, strict=True):
        out.add_column(
            col.header,
            justify=col.justify,
            no_wrap=True,
            overflow="ellipsis",
            min_width=w,
            max_width=w if col.flex else None,
        )
    rows = len(chosen.columns[0].cells) if chosen.columns else 0
    for r in range(rows):
        style = row_styles[r] if row_styles else None
        cells = (
            _fit_cell(c.cells[r], w) if c.flex else c.cells[r]
            for c, w in zip(chosen.columns, chosen.widths, strict=True)
        )
        out.add_row(*cells, style=style)
    return out


def line(console: Console, text: str) -> None:
    """One line of plain text cut to the console's width (markup and highlights off)."""
    console.print(_cut(" ".join(text.split()), console.width), markup=False, highlight=False)
