"""Runs the bot's execution path for one hedge plan against a venue emulator, and can die.

One run: open the SQLite ledger (holding the writer lock), resume pending intents, sync the
account's events, reconcile, plan the legs from the venue's position to `target`, execute
them, and sync the account events again (the fills' fees, any funding). The env var
`LPHEDGE_CRASH_AT=<point>[:<n>]` names where the process SIGKILLs itself, at the n-th
(default 1st) time it passes that point:

- `after_intent`:  the ORDER_INTENT is in the ledger, nothing sent yet
- `after_send`:    the venue accepted the order, the ack never came back
- `after_ack`:     the ack came back, its fill is not recorded yet
- `after_fills`:   a fill is recorded, the final ORDER_UPDATE is not
- `after_update`:  the final ORDER_UPDATE is recorded (a leg is done, the plan is not)
- `after_funding`: a funding payment is recorded, the rest of the sync is not

Modes:
    python -m tests.support.crash_runner run '<json config>'   # one run in this process
    python -m tests.support.crash_runner serve                 # fork server (for speed)

`serve` imports everything once, then per stdin line `{"config": {...}, "env": {...},
"log": path}` forks a child that does one run and answers `{"pid", "exit", "signal"}`:
each child is a fresh process that is SIGKILLed for real, without paying for the imports.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.clock import SystemClock
from bot.domain.events import FILL, FUNDING, ORDER_INTENT, ORDER_UPDATE
from bot.domain.orders import LedgerEvent, OrderAck, OrderIntent, Side
from bot.execution import ExecutionPolicy, OrderExecutor, reconcile
from bot.execution.account_sync import AccountSync
from bot.hedge.planner import client_id
from bot.ledger.store import Ledger
from bot.venues.ccxt_venue import CcxtVenue
from tests.support import venues

CRASH_ENV = "LPHEDGE_CRASH_AT"
POINTS = (
    "after_intent",
    "after_send",
    "after_ack",
    "after_fills",
    "after_update",
    "after_funding",
)


@dataclass(frozen=True)
class RunConfig:
    db: str
    venue: str  # ccxt id of the emulated venue
    emulator_url: str
    plan: str
    target: str  # signed contracts wanted on the venue's ETH perp
    leg: str  # contracts per order
    price: str = "3000"
    in_doubt_s: float = 0.3
    start_ms: int = 0  # the first run's start: account events before it are not replayed


class KillPoint:
    """Counts passes of the point named in LPHEDGE_CRASH_AT and SIGKILLs at the n-th."""

    def __init__(self, spec: str | None) -> None:
        name, _, nth = (spec or "").partition(":")
        if name and name not in POINTS:
            raise SystemExit(f"{CRASH_ENV}={spec!r}: use one of {', '.join(POINTS)}[:n]")
        self.name = name
        self.left = int(nth or 1)

    def passing(self, point: str) -> None:
        if point == self.name:
            self.left -= 1
            if self.left == 0:
                sys.stdout.flush()
                os.kill(os.getpid(), signal.SIGKILL)


class CrashingLedger:
    """The ledger, with kill points around the executor's and the account sync's appends."""

    def __init__(self, inner: Ledger, kill: KillPoint) -> None:
        self.inner = inner
        self.kill = kill

    def append(
        self, kind: str, payload: Mapping[str, Any], *, ts_ms: int, run_id: str | None = None
    ) -> int:
        if kind == FILL:
            self.kill.passing("after_ack")
        seq = self.inner.append(kind, payload, ts_ms=ts_ms, run_id=run_id)
        if kind == ORDER_INTENT:
            self.kill.passing("after_intent")
        elif kind == FILL:
            self.kill.passing("after_fills")
        elif kind == FUNDING:
            self.kill.passing("after_funding")
        elif kind == ORDER_UPDATE and payload.get("status") == "filled":
            self.kill.passing("after_update")
        return seq

    def events(self, kinds: Sequence[str] | None = None, **kw: Any) -> list[LedgerEvent]:
        return self.inner.events(kinds, **kw)

    def last(self, kind: str) -> LedgerEvent | None:
        return self.inner.last(kind)


class CrashingVenue:
    """The ccxt venue; `after_send` dies once the venue has accepted the order."""

    def __init__(self, inner: CcxtVenue, kill: KillPoint) -> None:
        self.inner = inner
        self.kill = kill
        self.name = inner.name

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.inner, attr)

    async def submit(self, intent: OrderIntent) -> OrderAck:
        ack = await self.inner.submit(intent)
        self.kill.passing("after_send")
        return ack


def legs(
    venue: str, symbol: str, plan_id: str, change: Decimal, leg: Decimal, price: Decimal
) -> list[OrderIntent]:
    """`change` (signed contracts) split into orders of at most `leg` contracts."""
    side = Side.BUY if change > 0 else Side.SELL
    left, out = abs(change), list[OrderIntent]()
    while left > 0:
        amount = min(leg, left)
        n = len(out)
        out.append(
            OrderIntent(
                plan_id=plan_id,
                leg=n,
                venue=venue,
                symbol=symbol,
                side=side,
                amount=amount,
                amount_base=amount,
                reduce_only=False,
                client_id=client_id(plan_id, n),
                reason="crash test",
                decision_price=price,
            )
        )
        left -= amount
    return out


def make_venue(cfg: RunConfig) -> CcxtVenue:
    kwargs = {
        **venues.SPECS[cfg.venue].credentials,
        **venues.transport_to(cfg.venue, cfg.emulator_url, timeout_ms=3000),
    }
    venue = CcxtVenue(cfg.venue, mode="testnet", clock=SystemClock(), **kwargs)
    venue._ex.timeout_on_exit = 0
    return venue


async def run_once(cfg: RunConfig) -> dict[str, Any]:
    """Resume, sync, reconcile, plan target - position, execute, sync. Returns a summary."""
    kill = KillPoint(os.environ.get(CRASH_ENV))
    clock = SystemClock()
    symbol = venues.SPECS[cfg.venue].symbol
    with Ledger.open(cfg.db) as base, base.writer_lock(f"{cfg.venue}:emulator"):
        ledger = CrashingLedger(base, kill)
        venue = CrashingVenue(make_venue(cfg), kill)
        run_no = len(base.events(["run_started"])) + 1
        run_id = f"{cfg.plan}-run{run_no}"
        base.append(
            "run_started",
            {"mode": "test", "config_digest": "-", "version": "0", "venue": cfg.venue},
            ts_ms=clock.now_ms(),
            run_id=run_id,
        )
        policy = ExecutionPolicy(in_doubt_s=cfg.in_doubt_s, lookup_wait_s=0.05)
        sync = AccountSync(venue, ledger, clock, run_id, start_ms=cfg.start_ms)  # type: ignore[arg-type]
        try:
            report = await reconcile(
                venue,
                ledger,
                clock,
                run_id,
                [symbol],
                policy=policy,
                sync=sync,  # type: ignore[arg-type]
            )
            change = Decimal(cfg.target) - report.positions.get(symbol, Decimal(0))
            intents = legs(
                cfg.venue,
                symbol,
                f"{cfg.plan}-{run_no}",
                change,
                Decimal(cfg.leg),
                Decimal(cfg.price),
            )
            executor = OrderExecutor(venue, ledger, clock, run_id, policy)  # type: ignore[arg-type]
            acks = await executor.execute(intents)
            await sync.poll([symbol])
        finally:
            await venue.inner.close()
    return {
        "run_id": run_id,
        "diffs": len(report.diffs),
        "resumed": len(report.resumed),
        "orders": [a.status.value for a in acks],
    }


def _child(cmd: Mapping[str, Any]) -> None:
    """In the forked child: one run, then _exit (never return into the server loop)."""
    code = 0
    try:
        fd = os.open(cmd["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.environ.pop(CRASH_ENV, None)
        os.environ.update(cmd.get("env") or {})
        print(json.dumps(asyncio.run(run_once(RunConfig(**cmd["config"])))), flush=True)
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    for line in sys.stdin:
        cmd = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(cmd)
        _, status = os.waitpid(pid, 0)
        reply = {
            "pid": pid,
            "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        }
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def main(argv: Sequence[str]) -> None:
    if argv[:1] == ["serve"]:
        serve()
    elif argv[:1] == ["run"] and len(argv) == 2:
        print(json.dumps(asyncio.run(run_once(RunConfig(**json.loads(argv[1]))))))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
