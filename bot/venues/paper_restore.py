"""A paper account rebuilt from the ledger: the account events the engine wrote for it.

The paper venue writes nothing itself. Its state is the fold of what the engine recorded
of it, in ledger order: FILL events (`venue` = its name), FUNDING payments and
OPTION_SETTLEMENT events (cash and positions), and ORDER_UPDATE events of its intents
(what `order_by_client_id` answers after a restart, fills attached). An order the venue
filled but the ledger never heard of did not happen: the executor finds no such order by
its client id after the in-doubt window and re-plans.

Funding is settled from the later of the last funding payment and the last fill: between
the last fill and now the position did not change, so every funding time since is paid on
the position as it is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from decimal import Decimal

from bot.domain import events as ev
from bot.domain.market import Instrument
from bot.domain.orders import Fill, FundingPayment, LedgerEvent, OrderAck
from bot.ports import LedgerReader
from bot.venues.paper_state import PaperAccount

KINDS = (ev.ORDER_INTENT, ev.ORDER_UPDATE, ev.FILL, ev.FUNDING, ev.OPTION_SETTLEMENT)


async def restore(
    name: str,
    ledger: LedgerReader,
    start_balance_usd: Decimal,
    now_ms: int,
    instrument: Callable[[str], Awaitable[Instrument]],
) -> PaperAccount:
    """The account of paper venue `name` as the ledger's events leave it (fresh if none)."""
    account = PaperAccount(start_balance_usd, now_ms)
    events = ledger.events(list(KINDS))
    for event in events:
        p = event.payload
        if p.get("venue") != name:
            continue
        if event.kind == ev.FILL:
            f = ev.from_payload(Fill, p)
            account.apply_fill(f, await instrument(f.symbol))
        elif event.kind == ev.FUNDING:
            account.apply_funding(ev.from_payload(FundingPayment, p))
        elif event.kind == ev.OPTION_SETTLEMENT:
            account.apply_settlement(ev.from_payload(ev.OptionSettlement, p))
    if account.fills or account.funding:
        paid = max((f.ts_ms for f in account.funding), default=0)
        account.funded_until_ms = max(paid, max((f.ts_ms for f in account.fills), default=0))
    account.orders = _orders(events, name, account)
    return account


def _orders(events: list[LedgerEvent], name: str, account: PaperAccount) -> dict[str, OrderAck]:
    """The last recorded ack of each intent sent to `name`, with its fills attached."""
    mine = {
        str(e.payload.get("client_id"))
        for e in events
        if e.kind == ev.ORDER_INTENT and e.payload.get("venue") == name
    }
    last: dict[str, OrderAck] = {}
    for e in events:
        cid = str(e.payload.get("client_id"))
        if e.kind == ev.ORDER_UPDATE and cid in mine:
            last[cid] = ev.from_payload(OrderAck, e.payload)
    return {
        cid: dataclasses.replace(ack, fills=tuple(f for f in account.fills if f.client_id == cid))
        for cid, ack in last.items()
    }
