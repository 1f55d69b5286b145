"""What a running bot tells its operator about its state, at a bounded rate.

A bot that halts every tick must not stay silent (nothing on the terminal while the
ledger fills with halts), nor shout on every tick (an alert a block). `Narrator` turns tick
results into notices: one when the state changes (hedging -> halted, failing, or back), and
while it stays bad a reminder every `repeat_s`, each naming what is unhedged. Pure: the
caller passes the time, and logs or posts the notices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from bot import secrets
from bot.domain.orders import Side
from bot.engine import TickResult
from bot.engine_risk import pool_prices_of

State = Literal["ok", "halted", "failed"]


@dataclass(frozen=True, slots=True)
class Notice:
    """One line for the operator; `bad` notices are warnings, the rest information."""

    text: str
    bad: bool


def tick_state(result: TickResult) -> tuple[State, str]:
    """The tick's state and its reason (empty when it hedged normally)."""
    if result.error:
        return "failed", result.error
    if result.verdict is not None and result.verdict.halt:
        return "halted", result.verdict.halt
    return "ok", ""


def _amount(value: Decimal) -> str:
    return f"{value:,.4f}".rstrip("0").rstrip(".")


@dataclass
class Narrator:
    """Notices on state changes, and reminders while halted or failing."""

    repeat_s: float = 300.0
    _state: State = "ok"
    _reason: str = ""
    _since_ms: int = 0
    _told_ms: int | None = None
    _lp: dict[str, Decimal] = field(default_factory=dict)
    _hedge: dict[str, Decimal] = field(default_factory=dict)
    _hedge_known: bool = False
    _prices: dict[str, Decimal] = field(default_factory=dict)

    def _remember(self, result: TickResult) -> None:
        if result.book is not None:
            self._lp = {a: e.delta for a, e in result.book.assets.items()}
            self._prices.update(pool_prices_of(result.book))
        if result.hedges is not None:
            self._hedge, self._hedge_known = dict(result.hedges), True
            for asset, base in filled_base(result).items():  # hedges were read before them
                self._hedge[asset] = self._hedge.get(asset, Decimal(0)) + base

    def unhedged(self) -> str:
        """Net delta per asset from the last known LP and hedge amounts, with USD value."""
        parts = []
        for asset in sorted(set(self._lp) | set(self._hedge)):
            net = self._lp.get(asset, Decimal(0)) + self._hedge.get(asset, Decimal(0))
            if net == 0:
                continue
            price = self._prices.get(asset)
            usd = f" (~${abs(net) * price:,.0f})" if price else ""
            parts.append(f"{asset} {_amount(net)}{usd}")
        if not parts and not self._lp and not self._hedge_known:
            return "exposure not read yet"
        if not parts:
            return "nothing unhedged"
        if not self._hedge_known:
            return "LP delta " + ", ".join(parts) + ", hedges not read yet"
        return "unhedged " + ", ".join(parts)

    def observe(self, result: TickResult, now_ms: int) -> list[Notice]:
        self._remember(result)
        state, reason = tick_state(result)
        changed = state != self._state or (state != "ok" and _kind(reason) != _kind(self._reason))
        notices: list[Notice] = []
        if changed:
            if state == "ok":
                down_s = (now_ms - self._since_ms) / 1000
                notices.append(Notice(f"hedging again after {down_s:.0f}s {self._state}", False))
            self._state, self._reason, self._since_ms = state, reason, now_ms
            self._told_ms = None
        if state == "ok":
            return notices
        due = self._told_ms is None or now_ms - self._told_ms >= self.repeat_s * 1000
        if due:
            for_s = (now_ms - self._since_ms) / 1000
            still = "" if self._told_ms is None else f" (for {for_s:.0f}s)"
            head = "tick failed" if state == "failed" else "halted"
            text = f"{head}{still}: {secrets.redact(reason)}; {self.unhedged()}"
            notices.append(Notice(text, True))
            self._told_ms = now_ms
        return notices


def filled_base(result: TickResult) -> dict[str, Decimal]:
    """The perp hedge change per asset from this tick's fills, signed, in base units
    (`targets` lists each asset's perp target before any option target)."""
    assets: dict[str, str] = {}
    for t in result.targets:
        if t.asset not in assets.values():
            assets[t.symbol] = t.asset
    intents = {i.client_id: i for i in result.intents}
    out: dict[str, Decimal] = {}
    for ack in result.acks:
        intent, asset = intents.get(ack.client_id), assets.get(ack.symbol)
        if intent is None or asset is None or intent.amount == 0 or ack.filled == 0:
            continue
        base = ack.filled * intent.amount_base / intent.amount
        out[asset] = out.get(asset, Decimal(0)) + (base if ack.side is Side.BUY else -base)
    return out


def _kind(reason: str) -> str:
    """A reason without its figures, so a halt whose numbers move each tick is one state."""
    return reason.split(":", 1)[0]


STANDING = "not trading "  # the per-chain guard's alert (bot/engine.py): true every tick it lasts
UNHEDGED = "not hedging "  # an asset the LPs hold that has no venue symbol (bot/engine.py)


@dataclass
class AlertGate:
    """A tick's alerts at a bounded rate. Most are events (a fill by hand, a drift) and pass
    as they come; the per-chain guard's `not trading ETH: chain base stale ...` is a state,
    repeated by every tick while it lasts, so it is told when it starts, every `repeat_s`
    while it lasts, and once when it ends (`trading ETH again`). Pure: the caller passes
    the time. `not hedging BTC: no venue symbol ...` is a state too, told the same way; its
    end (the exposure gone) is not news."""

    repeat_s: float = 300.0
    _told_ms: dict[str, int] = field(default_factory=dict)  # "not trading ETH" -> last told

    def filter(self, result: TickResult, now_ms: int) -> list[str]:
        out: list[str] = []
        standing: set[str] = set()
        for alert in result.alerts:
            if not alert.startswith((STANDING, UNHEDGED)):
                out.append(alert)
                continue
            key = _kind(alert)
            standing.add(key)
            last = self._told_ms.get(key)
            if last is None or now_ms - last >= self.repeat_s * 1000:
                out.append(alert)
                self._told_ms[key] = now_ms
        if not result.error:  # a failed tick says nothing about what the guard would stop
            for key in [k for k in self._told_ms if k not in standing]:
                del self._told_ms[key]
                if key.startswith(STANDING):
                    out.append(f"{key.replace(STANDING, 'trading ', 1)} again: its chains are read")
        return out
