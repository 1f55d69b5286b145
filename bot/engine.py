"""The main loop: one tick at a time, chain -> exposure -> strategy -> planner -> risk -> venue.

With `wiring.py`, the only code that knows every port. Each tick reads the chain at one block
and the market concurrently (a slow venue never delays the chain read), decides, checks the
guards and executes, writing every step to the ledger. Ticks run on each new block and at
least every `max_tick_seconds`.

With `options` set (an option strategy, or `[options] enabled`), each tick also quotes the
options near the LP range (`engine_options.OptionDesk`), gives the strategy held options
keyed by symbol beside the perps keyed by asset, plans the strategy's option targets as
limit IOC legs of the same plan, and records the book's greeks (BOOK_GREEKS).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from bot import exposure
from bot.backoff import Backoff
from bot.domain import events as ev
from bot.domain.lp import ChainSnapshot, ExposureBook
from bot.domain.market import USD, AssetMap, Instrument, MarketSnapshot
from bot.domain.orders import HedgePosition, HedgeTarget, OrderAck, OrderIntent
from bot.engine_account import AccountDesk, DeskReport
from bot.engine_events import tick_event, tick_payload
from bot.engine_options import OptionDesk, OptionsPolicy, split_positions
from bot.engine_risk import DayPnl, pool_prices_of
from bot.engine_scans import ScanKeeper
from bot.errors import (
    ChainUnavailable,
    ConfigError,
    LedgerUnavailable,
    LphedgeError,
    NeedsOperator,
    NotTheWriter,
)
from bot.hedge import planner
from bot.hedge.risk import ANY_ASSET, RiskInputs, RiskLimits, Verdict, blind_assets, check
from bot.operator import CHAIN_OUTAGE, OperatorState, OperatorWatch
from bot.ports import Clock, LedgerReader, LedgerWriter, MarketData, PositionSource, Venue
from strategies.base import HedgeStrategy, StrategyContext, StrategyState

log = logging.getLogger("lphedge.engine")
T = TypeVar("T")
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
STRATEGY_STATE = "strategy_state"


class Ledger(LedgerWriter, LedgerReader, Protocol):
    """The engine both writes and reads the ledger (halts, order counts, strategy state)."""


class Executor(Protocol):
    """The order executor as the engine and its account desk use it."""

    async def execute(self, intents: list[OrderIntent]) -> list[OrderAck]: ...

    def pending(self) -> list[OrderIntent]: ...

    async def resume_pending(self, *, wait: bool = True) -> list[OrderAck]: ...


@dataclass
class EngineParts:
    """The ports one engine drives; built by `bot.wiring`."""

    source: PositionSource
    market: MarketData
    venue: Venue
    ledger: Ledger
    executor: Executor
    strategy: HedgeStrategy
    strategy_params: Mapping[str, Any]
    clock: Clock
    assets: AssetMap
    symbols: Mapping[str, str]  # asset -> venue symbol
    limits: RiskLimits = field(default_factory=RiskLimits)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    venue_timeout_s: float = 10.0
    dry_run: bool = False
    on_start: Callable[[], Awaitable[object]] | None = None  # reconcile venue vs ledger
    observers: list[Callable[[TickResult], Awaitable[None]]] = field(default_factory=list)
    options: OptionsPolicy | None = None  # None: perps only
    account: AccountDesk | None = None  # set-up checks, account events, pending, drift
    started: ev.RunStarted | None = None  # recorded by `start` (after the writer lock is taken)
    max_outage_s: float | None = None  # chain unreadable this long: a sticky halt (None: never)
    guard: Callable[[], int | None] | None = None  # writer lease check: first thing each tick


@dataclass(frozen=True, slots=True)
class TickResult:
    """What one tick saw and did (for `plan`, tests and status lines)."""

    block: int
    book: ExposureBook | None
    targets: tuple[HedgeTarget, ...]  # perp targets, then option targets
    intents: tuple[OrderIntent, ...]
    verdict: Verdict | None
    acks: tuple[OrderAck, ...]
    error: str | None = None
    alerts: tuple[str, ...] = ()  # what the operator should hear (drift, trades by hand, ...)
    failure: LphedgeError | None = None  # why the tick failed (its kind sets the exit code)
    unavailable: bool = False  # halted because the venue could not be read
    hedges: Mapping[str, Decimal] | None = None  # perp hedge per asset (None: not read)
    item_errors: tuple[str, ...] = ()  # positions that could not be read (the rest were)


class Engine:
    """Runs ticks; one at a time, never re-entrant."""

    def __init__(self, parts: EngineParts) -> None:
        self.p = parts
        self._lock = asyncio.Lock()
        self._state = self._restore_state()
        self._operator = OperatorWatch()
        self._outage_since: int | None = None
        self._unread_since: dict[str, int] = {}  # chain name -> first tick it was unreadable
        self._scans = ScanKeeper(parts.source, self._append)
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()  # an operator acted: tick now, not at the next block
        self._instruments: dict[str, Instrument] = {}
        self._day = DayPnl()
        self.last_tick: TickResult | None = None
        self._options = (
            None if parts.options is None else OptionDesk(parts.market, parts.venue, parts.options)
        )

    async def start(self) -> None:
        """Before the first tick: check the venue account's set-up (refusing to start when it
        is wrong), then reconcile the venue with the ledger (after a crash too). The run's
        start is recorded first, so a bot refused its writer lock writes nothing."""
        if self.p.started is not None:
            self._append(ev.RUN_STARTED, self.p.started)
        self._scans.restore(self.p.ledger)
        if self.p.account is not None and not self.p.dry_run:
            await self.p.account.start(list(self.p.symbols.values()))
        if self.p.on_start is not None:
            await self.p.on_start()

    def wake(self) -> None:
        """Tick at once (an operator halted, resumed or changed the params): the loop does
        not wait for the next block."""
        self._wake.set()

    def reload_strategy(self, strategy: HedgeStrategy, params: Mapping[str, Any]) -> None:
        """Run `strategy` (already validated) from the next tick on; its state is kept."""
        self.p.strategy = strategy
        self.p.strategy_params = dict(params)

    def stop(self) -> None:
        """Stop after the current tick (SIGTERM lands here)."""
        self._stop.set()

    def _append(self, kind: str, payload: object) -> int:
        body = payload if isinstance(payload, Mapping) else ev.to_payload(payload)
        return self.p.ledger.append(kind, body, ts_ms=self.p.clock.now_ms(), run_id=self.p.run_id)

    def _record_failure(self, where: str, err: LphedgeError) -> None:
        """An ERROR row for a failure, unless the ledger is what failed or this bot is not
        the writer now (then the log): a ledger that cannot be written must not turn one
        failed tick into a dead bot, and a bot without the lease must not write at all."""
        if isinstance(err, NotTheWriter):
            log.warning("%s failed: %s", where, err)
            return
        try:
            self._append(ev.ERROR, ev.ErrorEvent(where, str(err)))
        except LedgerUnavailable as lost:
            log.warning("%s failed (%s); not recorded: %s", where, err, lost)

    def _restore_state(self) -> StrategyState:
        last = self.p.ledger.last(STRATEGY_STATE)
        if last is None:
            return StrategyState()
        data = last.payload.get("state", {})
        return StrategyState.from_json(data if isinstance(data, Mapping) else {})

    async def _timed(self, what: str, aw: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(aw, self.p.venue_timeout_s)
        except TimeoutError:
            raise NeedsOperator(f"{what} took longer than {self.p.venue_timeout_s:g}s") from None

    async def _instruments_for(self) -> dict[str, Instrument]:
        if not self._instruments:
            symbols = list(self.p.symbols.values())
            by_symbol = await self._timed("instruments", self.p.venue.instruments(symbols))
            self._instruments = {i.asset: i for i in by_symbol.values()}
        return self._instruments

    async def _read_all(
        self,
    ) -> tuple[ChainSnapshot, MarketSnapshot | BaseException, list[HedgePosition] | BaseException]:
        """Chain, market and hedges concurrently; only a chain failure fails the tick."""
        symbols = list(self.p.symbols.values())
        chain, market, hedges = await asyncio.gather(
            self.p.source.read(),
            self._timed("market snapshot", self.p.market.snapshot(symbols)),
            self._timed("venue positions", self.p.venue.positions()),
            return_exceptions=True,
        )
        if isinstance(chain, BaseException):
            raise chain
        return chain, market, hedges

    async def tick(self) -> TickResult:
        async with self._lock:
            try:
                result = await self._tick()
            except LphedgeError as err:
                self._record_failure("tick", err)
                log.debug("tick failed: %s", err)
                result = TickResult(0, None, (), (), None, (), error=str(err), failure=err)
            self._save_scans(result)
            try:
                outage = self._watch_outage(result)
            except LedgerUnavailable as lost:
                outage = f"chain outage not checked: {lost}"
            if outage is not None:
                result = dataclasses.replace(result, alerts=(*result.alerts, outage))
            self.last_tick = result
            for observe in self.p.observers:
                await observe(result)
            return result

    def _save_scans(self, result: TickResult) -> None:
        """Keep the reader's log scans in the ledger (not in dry runs, nor without the
        writer's lease); a ledger that cannot take them now takes them on a later tick."""
        if self.p.dry_run or isinstance(result.failure, NotTheWriter):
            return
        try:
            self._scans.save(self.p.clock.now_ms())
        except LedgerUnavailable as lost:
            log.warning("log scan state not saved: %s", lost)

    def _watch_outage(self, result: TickResult) -> str | None:
        """A chain unreadable for `max_outage_s` halts the bot until an operator resumes it:
        a hedge sized on exposure read that long ago may be wrong either way."""
        if not isinstance(result.failure, ChainUnavailable):
            self._outage_since = None
            return None
        now = self.p.clock.now_ms()
        if self._outage_since is None:
            self._outage_since = now
        limit = self.p.max_outage_s
        down_s = (now - self._outage_since) / 1000
        if limit is None or down_s < limit or self._operator.current(self.p.ledger).halted:
            return None
        reason = (
            f"chain unreadable for {down_s:.0f}s (chain.max_outage_s {limit:g}): {result.error}"
        )
        try:
            self._append(ev.HALT, ev.Halt(reason, CHAIN_OUTAGE))
        except LedgerUnavailable as lost:  # not halted yet: said again on the next tick
            return f"chain outage halt not recorded ({lost}): {reason}"
        return f"halted until `lphedge resume`: {reason}"

    def _unavailable(
        self, chain: ChainSnapshot, failed: BaseException, desk: DeskReport
    ) -> TickResult:
        book = exposure.book(chain, self.p.assets)
        self._record_tick(chain, book, None, {})
        halt = f"venue unavailable: {failed}"
        self._append(ev.HALT, ev.Halt(halt, "guard"))
        verdict = Verdict((), halt=halt)
        return TickResult(
            chain.block_number,
            book,
            (),
            (),
            verdict,
            (),
            alerts=desk.alerts,
            unavailable=True,
            item_errors=_item_errors(chain),
        )

    async def _desk(self) -> DeskReport:
        """The account desk's work before a tick (none in dry runs: `plan` only looks)."""
        if self.p.account is None or self.p.dry_run:
            return DeskReport()
        return await self.p.account.before_tick(list(self.p.symbols.values()))

    def _note_read_errors(self, chain: ChainSnapshot, now: int) -> None:
        """ERROR rows for what was not read; since when each chain has been unreadable."""
        for err in chain.errors:
            self._append(ev.ERROR, ev.ErrorEvent(f"position {err.item}", err.message))
        for head in chain.unread:
            self._append(ev.ERROR, ev.ErrorEvent(f"chain {head.name}", head.error or ""))
        for head in chain.chains:
            if head.error is None:
                self._unread_since.pop(head.name, None)
            else:
                self._unread_since.setdefault(head.name, now)

    async def _tick(self) -> TickResult:
        if self.p.guard is not None:
            self.p.guard()  # raises NotTheWriter (lost or suspended lease): nothing is done
        now = self.p.clock.now_ms()
        desk = await self._desk()
        chain, market, hedges = await self._read_all()
        self._note_read_errors(chain, now)
        if isinstance(market, ConfigError):
            raise market  # e.g. a venue symbol that is not listed: no retry will fix it
        if isinstance(market, BaseException):
            return self._unavailable(chain, market, desk)
        if isinstance(hedges, BaseException):
            return self._unavailable(chain, hedges, desk)
        instruments = await self._instruments_for()
        book = exposure.book(chain, self.p.assets, market.prices)
        perps, held = split_positions(hedges)
        try:
            market = await self._option_market(now, book, market, held)
        except LphedgeError as err:
            return self._unavailable(chain, err, desk)
        options = {h.symbol: h.size_base for h in held}
        self._record_tick(chain, book, market, perps, options)
        if self._options is not None:
            self._append(ev.BOOK_GREEKS, self._options.greeks(book, perps, held, market, now))
        op = self._operator.current(self.p.ledger)
        plan_id = f"{self.p.run_id[:8]}-{chain.block_number}-{now}"
        targets, plan = self._plan(now, book, perps, options, market, instruments, op, plan_id)
        plan = self._hold_blocked(plan, desk.blocked)
        by_symbol = {i.symbol: i for i in instruments.values()}
        by_symbol.update(self._options.instruments if self._options else {})
        verdict = check(
            list(plan.intents),
            self._risk_inputs(now, chain, book, market, hedges, op, plan.intents),
            self.p.limits,
            by_symbol,
        )
        result = await self._act(chain.block_number, book, targets, plan.intents, verdict)
        alerts = desk.alerts + _blind_alerts(self._blind(now, chain, op))
        alerts += _unhedged_alerts(book, self.p.symbols)
        if self.p.account is not None and not self.p.dry_run:
            after = await self.p.account.after_tick(list(self.p.symbols.values()), result.acks)
            alerts += after.alerts
        return dataclasses.replace(
            result, alerts=alerts, hedges=perps, item_errors=_item_errors(chain)
        )

    def _hold_blocked(self, plan: planner.Plan, blocked: Mapping[str, str]) -> planner.Plan:
        """No new order on a symbol whose last order is still in doubt: it may have filled."""
        if not blocked:
            return plan
        held = tuple(i for i in plan.intents if i.symbol in blocked)
        for i in held:
            self._append(
                ev.SKIPPED, ev.Skipped(i.plan_id, "", i.symbol, i.amount_base, blocked[i.symbol])
            )
        kept = tuple(i for i in plan.intents if i.symbol not in blocked)
        return planner.Plan(kept, plan.skipped)

    async def _option_market(
        self, now: int, book: ExposureBook, market: MarketSnapshot, held: list[HedgePosition]
    ) -> MarketSnapshot:
        """With options on: the snapshot plus the options worth quoting. Options
        held without options on (another strategy bought them) turn them on, so they are
        valued, counted by the guards and closed by a flatten."""
        if self._options is None and held:
            self._options = OptionDesk(self.p.market, self.p.venue, OptionsPolicy())
        if self._options is None:
            return market
        return await self._options.snapshot(now, book, market, held, self._timed)

    def _plan(
        self,
        now: int,
        book: ExposureBook,
        perps: Mapping[str, Decimal],
        options: Mapping[str, Decimal],
        market: MarketSnapshot,
        instruments: Mapping[str, Instrument],
        op: OperatorState,
        plan_id: str,
    ) -> tuple[tuple[HedgeTarget, ...], planner.Plan]:
        """Targets (perps, then options) and the plan for them, each recorded."""
        targets, option_targets = self._targets(now, book, perps, options, market, instruments, op)
        plan = planner.plan(targets, perps, instruments, dict(market.prices), plan_id)
        if self._options is not None:
            oplan = self._options.plan(option_targets, options, market, plan_id, len(plan.intents))
            plan = planner.Plan(plan.intents + oplan.intents, plan.skipped + oplan.skipped)
        for t in targets:
            self._append(ev.DECISION, self._decision(t, perps.get(t.asset), plan_id))
        for t in option_targets:
            self._append(ev.DECISION, self._decision(t, options.get(t.symbol), plan_id))
        for s in plan.skipped:
            self._append(
                ev.SKIPPED, ev.Skipped(plan_id, s.asset, s.symbol, s.wanted_base, s.reason)
            )
        return targets + option_targets, plan

    async def _act(
        self,
        block: int,
        book: ExposureBook,
        targets: tuple[HedgeTarget, ...],
        intents: tuple[OrderIntent, ...],
        verdict: Verdict,
    ) -> TickResult:
        for note in verdict.notes:
            self._append(ev.SKIPPED, ev.Skipped("", "", "", Decimal(0), note))
        if verdict.halt:
            self._append(ev.HALT, ev.Halt(verdict.halt, "guard"))
            log.debug("halted: %s", verdict.halt)
        acks: list[OrderAck] = []
        if verdict.approved and not self.p.dry_run:
            acks = await self.p.executor.execute(list(verdict.approved))
        return TickResult(block, book, targets, intents, verdict, tuple(acks))

    def _targets(
        self,
        now: int,
        book: ExposureBook,
        perps: Mapping[str, Decimal],
        options: Mapping[str, Decimal],
        market: MarketSnapshot,
        instruments: Mapping[str, Instrument],
        op: OperatorState,
    ) -> tuple[tuple[HedgeTarget, ...], tuple[HedgeTarget, ...]]:
        """Perp targets (by asset) and option targets (by symbol) for this tick."""
        if op.flatten:
            why = "operator: flatten"
            flat_perps = tuple(
                HedgeTarget(a, instruments[a].symbol, Decimal(0), why)
                for a, h in perps.items()
                if h != 0 and a in instruments
            )
            assets = {s: i.asset for s, i in market.instruments.items()}
            flat_options = tuple(
                HedgeTarget(assets.get(s, ""), s, Decimal(0), why)
                for s, h in options.items()
                if h != 0
            )
            return flat_perps, flat_options
        hedges = {**perps, **options} if self._options is not None else dict(perps)
        # an asset with no venue symbol has no price nor instrument: the strategy sees only
        # those it can hedge (the others are told as `not hedging`)
        hedgeable = {a: e for a, e in book.assets.items() if a in self.p.symbols or a == USD}
        seen = dataclasses.replace(book, assets=hedgeable)
        ctx = StrategyContext(now, seen, hedges, market, self._state, instruments)
        decision = self.p.strategy.target(ctx)
        if decision.state != self._state:
            self._state = decision.state
            self._append(STRATEGY_STATE, {"state": decision.state.to_json()})
        perp_targets = tuple(
            t
            if t.symbol
            else HedgeTarget(
                t.asset, self.p.symbols.get(t.asset, ""), t.target_base, t.reason, t.act
            )
            for t in decision.targets
        )
        return perp_targets, tuple(decision.options)

    def _decision(self, t: HedgeTarget, current: Decimal | None, plan_id: str) -> ev.Decision:
        return ev.Decision(
            strategy=self.p.strategy.name,
            params=self.p.strategy_params,
            asset=t.asset,
            symbol=t.symbol,
            current=current or Decimal(0),
            target_base=t.target_base,
            act=t.act,
            reason=t.reason,
            plan_id=plan_id,
        )

    def _record_tick(
        self,
        chain: ChainSnapshot,
        book: ExposureBook,
        market: MarketSnapshot | None,
        perps: Mapping[str, Decimal],
        options: Mapping[str, Decimal] | None = None,
    ) -> None:
        marked = set(self.p.symbols.values()) | set(options or {})
        tick = tick_event(chain, book, market, perps, marked, self.p.assets)
        self._append(ev.TICK, tick_payload(chain, tick))

    def _risk_inputs(
        self,
        now: int,
        chain: ChainSnapshot,
        book: ExposureBook,
        market: MarketSnapshot,
        hedges: list[HedgePosition],
        op: OperatorState,
        intents: tuple[OrderIntent, ...] = (),
    ) -> RiskInputs:
        blind = self._blind(now, chain, op)
        pool_prices = pool_prices_of(book)
        recent = self.p.ledger.events([ev.ORDER_INTENT], since_ms=now - HOUR_MS)
        deltas: dict[str, float] = {}
        premium = Decimal(0)
        if self._options is not None:
            symbols = {h.symbol for h in hedges} | {i.symbol for i in intents}
            deltas = self._options.deltas(symbols, market, now)
            premium = self._options.premium_today_usd(self.p.ledger, now, market.prices)
        return RiskInputs(
            now_ms=now,
            block_ts_ms=chain.block_timestamp * 1000,
            market_ts_ms=market.ts_ms,
            pool_prices=pool_prices,
            marks=dict(market.prices),
            hedges=hedges,
            orders_last_hour=len(recent),
            pnl_today_usd=self._day.pnl(now, book, hedges, complete=not chain.unread),
            halted=None if op.flatten else op.halted,
            option_deltas=deltas,
            option_premium_today_usd=premium,
            blind_assets=blind,
        )

    def _blind(self, now: int, chain: ChainSnapshot, op: OperatorState) -> dict[str, str]:
        """Assets on a chain not read in full this tick (none to a flatten: it needs no
        exposure). One chain: its staleness halts the whole tick instead."""
        if op.flatten or len(chain.chains) <= 1:
            return {}
        limit = self.p.limits.max_block_age_s
        return blind_assets(
            chain.chains,
            chain.positions,
            self.p.assets,
            now,
            limit,
            self._unread_since,
            self.p.max_outage_s,
        )

    async def run(
        self,
        block_number: Callable[[], Awaitable[int]],
        *,
        poll_seconds: float,
        max_tick_seconds: float,
        once: bool = False,
        new_head: Callable[[float], Awaitable[None]] | None = None,
        min_tick_seconds: float = 0.0,
    ) -> None:
        """Tick on every new block and at least every `max_tick_seconds`; returns after one
        tick with `once`, and when a tick fails on the config itself. Blocks are polled
        every `poll_seconds`, or pushed: `new_head(timeout)` returns at the next block
        (`bot.chain.heads`), and ticks are then at least `min_tick_seconds` apart."""
        last_block = -1
        last_tick_ms = 0
        retry = Backoff(poll_seconds, max_tick_seconds)
        while not self._stop.is_set():
            try:
                block = await block_number()
            except LphedgeError as err:
                self._record_failure("block poll", err)
                block = last_block
            now = self.p.clock.now_ms()
            woken = self._wake.is_set()  # while backing off a failure, a wake waits for it
            self._wake.clear()
            due = now - last_tick_ms >= max_tick_seconds * 1000 or woken
            if (block != last_block or due) and retry.ready(now):
                result = await self.tick()
                last_block, last_tick_ms = block, self.p.clock.now_ms()
                retry.after(result.failure, last_tick_ms)
                if once or isinstance(result.failure, ConfigError):
                    return  # a config that cannot work will not start working by retrying
            if new_head is None:
                await self._sleep(poll_seconds)
            else:
                await self._sleep(min_tick_seconds)  # fast chains: not a tick per block
                await self._until(new_head(poll_seconds))

    async def _until(self, aw: Awaitable[None]) -> None:
        """`aw`, or less if the bot is stopped or woken meanwhile."""
        stop = asyncio.ensure_future(self._stop.wait())
        wake = asyncio.ensure_future(self._wake.wait())
        done = asyncio.ensure_future(aw)
        await asyncio.wait({stop, wake, done}, return_when=asyncio.FIRST_COMPLETED)
        for f in (stop, wake, done):
            f.cancel()

    async def _sleep(self, seconds: float) -> None:
        await self._until(self.p.clock.sleep(seconds))


def _unhedged_alerts(book: ExposureBook, symbols: Mapping[str, str]) -> tuple[str, ...]:
    """LP exposure to an asset that venue.symbols does not name: nothing can hedge it."""
    return tuple(
        f"not hedging {a.asset}: no venue symbol for it in venue.symbols (has "
        f"{', '.join(sorted(symbols)) or 'none'}); its LP delta {a.delta:.6g} stays open"
        for a in book.assets.values()
        if a.asset != USD and a.asset not in symbols and a.delta != 0
    )


def _blind_alerts(blind: Mapping[str, str]) -> tuple[str, ...]:
    """One alert per chain problem, naming the assets it stops."""
    by_reason: dict[str, list[str]] = {}
    for asset, why in blind.items():
        by_reason.setdefault(why, []).append("every asset" if asset == ANY_ASSET else asset)
    return tuple(f"not trading {', '.join(a)}: {why}" for why, a in by_reason.items())


def _item_errors(chain: ChainSnapshot) -> tuple[str, ...]:
    return tuple(f"position {e.item}: {e.message}" for e in chain.errors)
