"""Farm rewards in the report: what staked positions earned over the window, per reward
token, from the `rewards` the TICK rows carry for staked positions. Pure.

Counted in the reward token's own units and kept out of `net`: the ledger has no USD price
for CAKE (no venue symbol for it, no pool of it in the book), and a guessed price would
make the attribution identity a guess too. Like uncollected fees, what a position earned
between two ticks is the growth of its pending reward, or all of it after a harvest (the
pending amount drops to what accrued since); a position counts from its first tick.
"""

from __future__ import annotations

from decimal import Decimal

from bot.report.load import ReportData
from bot.report.tables import Table

NAME = "farm_rewards"
_Key = tuple[str, str, str]  # chain, position id, reward token address


def _earned(data: ReportData) -> dict[tuple[str, str], tuple[Decimal, set[str]]]:
    """(symbol, token) -> (earned in the window, positions that earned)."""
    by_seq = {item.seq: item.value for item in data.rewards}
    out: dict[tuple[str, str], tuple[Decimal, set[str]]] = {}
    previous: dict[_Key, Decimal] = {}
    for item in data.ticks:
        now = {(r.chain, r.position_id, r.token): r for r in by_seq.get(item.seq, ())}
        if data.in_window(item.ts_ms):
            for key, r in now.items():
                before = previous.get(key)
                if before is None:
                    continue  # its first tick: nothing earned yet in the ledger's view
                grew = r.amount - before if r.amount >= before else r.amount
                total, positions = out.get((r.symbol, r.token), (Decimal(0), set()))
                if grew > 0:
                    positions = positions | {f"{r.chain}:{r.position_id}"}
                out[(r.symbol, r.token)] = (total + grew, positions)
        previous = {key: r.amount for key, r in now.items()}
    return out


def tables(data: ReportData) -> tuple[Table, ...]:
    """The farm rewards table, only for a ledger with staked positions."""
    if not data.rewards:
        return ()
    rows = tuple(
        (symbol, token, total, len(positions))
        for (symbol, token), (total, positions) in sorted(_earned(data).items())
    )
    title = "Farm rewards earned (reward token units; not in net: the ledger has no price)"
    return (Table(NAME, title, ("symbol", "token", "earned", "positions"), rows),)
