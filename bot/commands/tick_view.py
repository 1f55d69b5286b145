"""What `lphedge plan` and `run --once` print for one tick: the decision per asset, the
orders it leads to, and any halt, laid out for the terminal's width.

Assets with no LP delta, no hedge and no target are left out (an asset map names more
assets than a book holds). Quantities are shown at the perp amount step, reasons with
their long decimals cut; the ledger and `report --json` keep them exact.
"""

from __future__ import annotations

from decimal import Decimal

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.commands.render import Column, fitted_table, layout
from bot.domain.orders import HedgeTarget
from bot.engine import TickResult
from bot.options.chain import is_option_symbol
from bot.report import readable


def _lp(result: TickResult, asset: str) -> Decimal:
    return result.book.delta(asset) if result.book else Decimal(0)


def _current(result: TickResult, target: HedgeTarget) -> str:
    """The perp hedge the tick read for a perp target; blank for an option leg."""
    if result.hedges is None or is_option_symbol(target.symbol):
        return ""
    return readable.qty(result.hedges.get(target.asset, Decimal(0)))


def _shown(result: TickResult, target: HedgeTarget) -> bool:
    hedge = (result.hedges or {}).get(target.asset, Decimal(0))
    return target.act or any(x != 0 for x in (_lp(result, target.asset), hedge, target.target_base))


def decision_columns(result: TickResult) -> list[Column]:
    targets = [t for t in result.targets if _shown(result, t)]
    return [
        Column("asset", [t.asset for t in targets]),
        Column("symbol", [t.symbol for t in targets], priority=2),
        Column("LP delta", [readable.qty(_lp(result, t.asset)) for t in targets], 1, "right"),
        Column("hedge", [_current(result, t) for t in targets], justify="right"),
        Column("target", [readable.qty(t.target_base) for t in targets], justify="right"),
        Column("act", ["yes" if t.act else "no" for t in targets]),
        Column("reason", [readable.tidy(t.reason) for t in targets], flex=True, min_width=24),
    ]


def cut_reasons(result: TickResult, width: int) -> list[str]:
    """`asset: reason` of the rows whose reason the table had to cut."""
    cols = decision_columns(result)
    chosen = layout([cols], width)
    room = dict(zip((c.header for c in chosen.columns), chosen.widths, strict=True))
    assets, reasons = cols[0].cells, cols[-1].cells
    return [
        f"{a}: {r}"
        for a, r in zip(assets, reasons, strict=True)
        if cell_len(str(r)) > room.get("reason", 0)
    ]


def intents_table(result: TickResult, width: int) -> Table:
    intents = result.intents
    ids = [i.client_id for i in intents]
    wide = [
        Column("client id", ids, priority=3),
        Column("symbol", [i.symbol for i in intents]),
        Column("side", [i.side.value for i in intents]),
        Column("contracts", [readable.sig(i.amount, 12) for i in intents], 1, "right"),
        Column("base", [readable.qty(i.amount_base) for i in intents], justify="right"),
        Column("reduce-only", ["yes" if i.reduce_only else "no" for i in intents], 2),
    ]
    compact = [Column("client", [c[:8] for c in ids], priority=3), *wide[1:]]
    return fitted_table("Order intents", [wide, compact], width)


def print_decision(result: TickResult, console: Console) -> None:
    """Targets with their reasons, the orders they lead to, and any halt."""
    if result.error:
        console.print(Text.assemble(("tick failed: ", "red"), result.error))
        return
    if any(_shown(result, t) for t in result.targets):
        title = f"Decision at block {result.block}"
        console.print(fitted_table(title, [decision_columns(result)], console.width))
        for text in cut_reasons(result, console.width):
            console.print(Text(text), highlight=False)
    else:
        console.print(f"Decision at block {result.block}: no exposure, hedge or target")
    if result.intents:
        console.print(intents_table(result, console.width))
    if result.verdict and result.verdict.halt:
        console.print(Text.assemble(("halted: ", "yellow"), result.verdict.halt))
    for note in result.verdict.notes if result.verdict else ():
        console.print(Text.assemble(("risk: ", "yellow"), readable.tidy(note)))
