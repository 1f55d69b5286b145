"""What the REST API and Telegram read and do, in one place: the ledger's views (the same
ones `lphedge status` and `lphedge report` print) and the operator's actions.

The desk reads and writes the bot's ledger through its own connection, in a worker thread,
so a slow query never stalls the engine's loop; actions are ledger events naming the caller
(`bot.control`), exactly as `lphedge halt` writes them, and the engine (when it runs in
this process) is woken to act on them at once. Reads are cached per ledger tip: a dashboard
refreshing every few seconds costs one `last` query while nothing new was written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot import control
from bot import report as review
from bot.commands.status_view import open_orders, status_data
from bot.config import Settings
from bot.domain import events as ev
from bot.errors import InputError
from bot.ports import Clock
from strategies.base import validate_params
from strategies.registry import strategy_class

T = TypeVar("T")
DECISIONS_MAX = 500


class NotRunning(InputError):
    """The action needs the engine, and no bot runs in this process (the API answers 409)."""


@dataclass
class _Cache:
    tip: int = -1
    values: dict[str, Any] = field(default_factory=dict)


class Desk:
    """Reads and actions for one bot: its settings, a ledger handle of its own and, when the
    bot runs in this process, its engine."""

    def __init__(
        self, settings: Settings, ledger: Any, clock: Clock, engine: Any | None = None
    ) -> None:
        self.settings = settings
        self._ledger = ledger
        self._clock = clock
        self._engine = engine
        self._cache = _Cache()
        self._io = asyncio.Lock()  # one ledger call at a time on this handle
        name = settings.strategy.path or settings.strategy.name
        self.strategy_name = name
        self._params: dict[str, Any] = dict(
            engine.p.strategy_params if engine is not None else settings.strategy.params
        )

    def close(self) -> None:
        self._ledger.close()

    @property
    def running(self) -> bool:
        return self._engine is not None

    async def _call(self, fn: Callable[[], T]) -> T:
        async with self._io:
            return await asyncio.to_thread(fn)

    async def _cached(self, key: str, fn: Callable[[], T]) -> T:
        """`fn()` once per ledger tip: any append invalidates every cached view."""

        def run() -> T:
            newest = self._ledger.tail(1)
            tip = newest[-1].seq if newest else 0
            if tip != self._cache.tip:
                self._cache = _Cache(tip)
            if key not in self._cache.values:
                self._cache.values[key] = fn()
            hit: T = self._cache.values[key]
            return hit

        return await self._call(run)

    @property
    def params_model(self) -> type[Any]:
        """The running strategy's `Params` (what a change is validated against)."""
        params: type[Any] = strategy_class(self.strategy_name).Params
        return params

    def _effective_params(self) -> dict[str, Any]:
        """Every param the strategy runs with, defaults included."""
        cls = strategy_class(self.strategy_name)
        valid = validate_params(cls.Params, self._params, self.strategy_name, error=InputError)
        dumped: dict[str, Any] = valid.model_dump(mode="json")
        return dumped

    # ---- reads ---------------------------------------------------------------------------

    async def _latest(self) -> tuple[int, dict[str, Any], Any]:
        """(when computed, `status_data`, the last TICK): one ledger round per tip."""
        now = self._clock.now_ms()
        return await self._cached(
            "latest", lambda: (now, status_data(self._ledger, now), self._ledger.last(ev.TICK))
        )

    def _status(self, latest: tuple[int, dict[str, Any], Any]) -> dict[str, Any]:
        at, data, tick = latest
        return {
            **_aged(data, (self._clock.now_ms() - at) / 1000),
            "last_tick_ms": None if tick is None else tick.ts_ms,
            "mode": self.settings.mode,
            "account": self.settings.account,
            "venue": self.settings.venue.exchange,
            "strategy": self.strategy_name,
            "params": self._effective_params(),
            "engine_running": self.running,
        }

    async def status(self) -> dict[str, Any]:
        return self._status(await self._latest())

    async def exposure(self) -> dict[str, Any]:
        latest = await self._latest()
        status, tick = self._status(latest), latest[2]
        positions: list[Any] = [] if tick is None else list(tick.payload.get("positions", []))
        return {
            "block": status["block"],
            "last_tick_age_s": status["last_tick_age_s"],
            "assets": status["assets"],
            "positions": positions,
        }

    async def hedges(self) -> dict[str, Any]:
        status = await self.status()
        rows = [
            {k: a[k] for k in ("asset", "hedge", "options_delta", "lp_delta", "net_delta")}
            for a in status["assets"]
        ]
        return {"hedges_read": status["hedges_read"], "assets": rows}

    async def open_orders(self) -> list[dict[str, Any]]:
        return await self._cached("orders", lambda: open_orders(self._ledger))

    async def decisions(self, limit: int) -> list[dict[str, Any]]:
        if not 1 <= limit <= DECISIONS_MAX:
            raise InputError(f"limit: must be 1..{DECISIONS_MAX}, got {limit}")

        def read() -> list[dict[str, Any]]:
            rows = self._ledger.tail(limit, [ev.DECISION])
            return [{"seq": e.seq, "ts_ms": e.ts_ms, **e.payload} for e in reversed(rows)]

        return await self._cached(f"decisions:{limit}", read)

    async def pnl(self) -> dict[str, Any]:
        """Attribution in total and per UTC day, from the ledger alone (`lphedge report`)."""
        rep = await self._cached("report", lambda: review.build(self._ledger))
        data = rep.to_json()
        return {
            "window": data["window"],
            "total": data["total"],
            "days": data.get("days", []),
            "warnings": data["warnings"],
        }

    async def report_html(self) -> str:
        rep = await self._cached("report", lambda: review.build(self._ledger))
        return rep.to_html()

    async def verify(self) -> dict[str, Any]:
        def check() -> dict[str, Any]:
            result = self._ledger.verify()
            return {
                "ok": result.ok and not self._ledger.missing_triggers(),
                "events_checked": result.events_checked,
                "broken_seq": result.broken_seq,
                "reason": result.reason,
                "tip_hash": result.tip_hash,
                "missing_triggers": self._ledger.missing_triggers(),
            }

        return await self._cached("verify", check)

    # ---- actions -------------------------------------------------------------------------

    async def halt(self, by: control.Caller, reason: str, flatten: bool) -> int:
        """Record an operator halt (flattening hedges with `flatten`); the engine acts on it
        at its next tick, started at once when it runs here. The event's seq."""
        payload = control.halt_payload(_reason(reason), flatten, by)
        return await self._act(ev.HALT, payload)

    async def resume(self, by: control.Caller, reason: str) -> int:
        return await self._act(ev.RESUME, control.resume_payload(_reason(reason), by))

    async def reload_params(
        self, by: control.Caller, changes: Mapping[str, Any], reason: str
    ) -> dict[str, Any]:
        """Validate `changes` over the running params against the strategy's own bounds and
        run them from the next tick; refused (InputError naming the key) when a value is out
        of bounds or unknown, and then nothing changes. Needs the engine in this process."""
        if self._engine is None:
            raise NotRunning("params: no bot runs in this process; change them in the config")
        if not changes:
            raise InputError("params: give at least one key to change")
        cls = strategy_class(self.strategy_name)
        merged = {**self._params, **dict(changes)}
        validated = validate_params(
            cls.Params, merged, self.strategy_name, where="params", error=InputError
        )
        strategy = cls(validated)
        payload = control.params_payload(
            self.strategy_name,
            self._params,
            merged,
            self.settings.strategy.params,
            _reason(reason),
            by,
        )
        seq = await self._act(control.PARAMS_RELOADED, payload)
        self._engine.reload_strategy(strategy, merged)
        self._params = merged
        return {"seq": seq, "params": merged, "changed": payload["changed"]}

    async def _act(self, kind: str, payload: dict[str, Any]) -> int:
        now = self._clock.now_ms()
        seq, _ = await self._call(
            lambda: control.record(self._ledger, self.settings.ledger, kind, payload, now)
        )
        if self._engine is not None:
            self._engine.wake()
        return seq


def _aged(data: dict[str, Any], seconds: float) -> dict[str, Any]:
    """A cached status `seconds` later: every age grows by that much."""
    if seconds <= 0:
        return data
    out = dict(data)
    if out.get("last_tick_age_s") is not None:
        out["last_tick_age_s"] = round(out["last_tick_age_s"] + seconds, 1)
    for key in ("tick_halt", "sticky_halt", "last_error"):
        if out.get(key) is not None:
            out[key] = {**out[key], "age_s": round(out[key]["age_s"] + seconds, 1)}
    return out


def _reason(text: str) -> str:
    reason = " ".join(text.split())
    if not reason:
        raise InputError("reason: say why (it goes into the ledger with your name)")
    if len(reason) > 500:
        raise InputError("reason: at most 500 characters")
    return reason
