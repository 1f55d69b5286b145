"""The main loop: one tick at a time, chain -> exposure -> strategy -> planner -> risk -> venue.

With `wiring.py`, the only code that knows every port. Each tick reads the chain at one block
and the market concurrently (a slow venue never delays the chain read), decides, checks the
guards and executes, writing every step to the ledger. Ticks run on each new block and at
least every `max_tick_seconds`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from bot import exposure
from bot.domain import events as ev
from bot.domain.lp import ChainSnapshot, ExposureBook
from bot.domain.market import AssetMap, Instrument, MarketSnapshot
from bot.domain.orders import HedgePosition, HedgeTarget, OrderAck, OrderIntent
from bot.errors import LphedgeError, NeedsOperator
from bot.hedge import planner
from bot.hedge.risk import RiskInputs, RiskLimits, Verdict, check
from bot.operator import OperatorState, OperatorWatch
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
    async def execute(self, intents: list[OrderIntent]) -> list[OrderAck]: ...


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


@dataclass(frozen=True, slots=True)
class TickResult:
    """What one tick saw and did (for `plan`, tests and status lines)."""

    block: int
    book: ExposureBook | None
    targets: tuple[HedgeTarget, ...]
    intents: tuple[OrderIntent, ...]
    verdict: Verdict | None
    acks: tuple[OrderAck, ...]
    error: str | None = None


class Engine:
    """Runs ticks; one at a time, never re-entrant."""

    def __init__(self, parts: EngineParts) -> None:
        self.p = parts
        self._lock = asyncio.Lock()
        self._state = self._restore_state()
        self._operator = OperatorWatch()
        self._stop = asyncio.Event()
        self._instruments: dict[str, Instrument] = {}
        self._day_start: tuple[int, Decimal] | None = None
        self.last_tick: TickResult | None = None

    async def start(self) -> None:
        """Before the first tick: reconcile the venue with the ledger (after a crash too)."""
        if self.p.on_start is not None:
            await self.p.on_start()

    def stop(self) -> None:
        """Stop after the current tick (SIGTERM lands here)."""
        self._stop.set()

    def _append(self, kind: str, payload: object) -> int:
        body = payload if isinstance(payload, Mapping) else ev.to_payload(payload)
        return self.p.ledger.append(kind, body, ts_ms=self.p.clock.now_ms(), run_id=self.p.run_id)

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
                self._append(ev.ERROR, ev.ErrorEvent("tick", str(err)))
                log.warning("tick failed: %s", err)
                result = TickResult(0, None, (), (), None, (), error=str(err))
            self.last_tick = result
            for observe in self.p.observers:
                await observe(result)
            return result

    async def _tick(self) -> TickResult:
        now = self.p.clock.now_ms()
        chain, market, hedges = await self._read_all()
        for err in chain.errors:
            self._append(ev.ERROR, ev.ErrorEvent(f"position {err.item}", err.message))
        if isinstance(market, BaseException) or isinstance(hedges, BaseException):
            failed = market if isinstance(market, BaseException) else hedges
            book = exposure.book(chain, self.p.assets)
            self._record_tick(chain, book, None, {})
            halt = f"venue unavailable: {failed}"
            self._append(ev.HALT, ev.Halt(halt, "guard"))
            return TickResult(chain.block_number, book, (), (), Verdict((), halt=halt), ())
        instruments = await self._instruments_for()
        book = exposure.book(chain, self.p.assets, market.prices)
        hedge_by_asset = _hedge_by_asset(hedges)
        self._record_tick(chain, book, market, hedge_by_asset)
        op = self._operator.current(self.p.ledger)
        targets = self._targets(now, book, hedge_by_asset, market, instruments, op)
        plan_id = f"{self.p.run_id[:8]}-{chain.block_number}-{now}"
        plan = planner.plan(targets, hedge_by_asset, instruments, dict(market.prices), plan_id)
        for t in targets:
            self._append(ev.DECISION, self._decision(t, hedge_by_asset, plan_id))
        for s in plan.skipped:
            self._append(
                ev.SKIPPED, ev.Skipped(plan_id, s.asset, s.symbol, s.wanted_base, s.reason)
            )
        verdict = check(
            list(plan.intents),
            self._risk_inputs(now, chain, book, market, hedges, op),
            self.p.limits,
            {i.symbol: i for i in instruments.values()},
        )
        return await self._act(chain.block_number, book, targets, plan.intents, verdict)

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
            log.warning("halted: %s", verdict.halt)
        acks: list[OrderAck] = []
        if verdict.approved and not self.p.dry_run:
            acks = await self.p.executor.execute(list(verdict.approved))
        return TickResult(block, book, targets, intents, verdict, tuple(acks))

    def _targets(
        self,
        now: int,
        book: ExposureBook,
        hedges: Mapping[str, Decimal],
        market: MarketSnapshot,
        instruments: Mapping[str, Instrument],
        op: OperatorState,
    ) -> tuple[HedgeTarget, ...]:
        if op.flatten:
            return tuple(
                HedgeTarget(a, instruments[a].symbol, Decimal(0), "operator: flatten")
                for a, h in hedges.items()
                if h != 0 and a in instruments
            )
        ctx = StrategyContext(now, book, hedges, market, self._state, instruments)
        decision = self.p.strategy.target(ctx)
        if decision.state != self._state:
            self._state = decision.state
            self._append(STRATEGY_STATE, {"state": decision.state.to_json()})
        return tuple(
            t
            if t.symbol
            else HedgeTarget(
                t.asset, self.p.symbols.get(t.asset, ""), t.target_base, t.reason, t.act
            )
            for t in decision.targets
        )

    def _decision(self, t: HedgeTarget, hedges: Mapping[str, Decimal], plan_id: str) -> ev.Decision:
        return ev.Decision(
            strategy=self.p.strategy.name,
            params=self.p.strategy_params,
            asset=t.asset,
            symbol=t.symbol,
            current=hedges.get(t.asset, Decimal(0)),
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
        hedge_by_asset: Mapping[str, Decimal],
    ) -> None:
        prices = dict(market.prices) if market else {}
        rows = tuple(
            ev.PositionRow(
                e.position_id,
                e.pool,
                e.base,
                e.quote,
                e.in_range,
                *_base_quote(
                    e.amount0, e.amount1, e.fees0, e.fees1, e.base, p.pool.token0, self.p.assets
                ),
                e.price,
                e.value,
                e.delta,
                e.gamma,
            )
            for e, p in zip(book.positions, chain.positions, strict=True)
        )
        assets = tuple(
            ev.AssetRow(
                a.asset,
                a.delta,
                hedge_by_asset.get(a.asset, Decimal(0)),
                a.gamma,
                a.value_usd,
                prices.get(a.asset, Decimal(0)),
            )
            for a in book.assets.values()
        )
        marks = {q.symbol: q.mark for q in market.quotes.values()} if market else {}
        tick = ev.Tick(
            chain.block_number,
            chain.block_timestamp * 1000,
            rows,
            assets,
            marks,
            {a.asset: a.delta for a in book.assets.values()},
        )
        self._append(ev.TICK, tick)

    def _risk_inputs(
        self,
        now: int,
        chain: ChainSnapshot,
        book: ExposureBook,
        market: MarketSnapshot,
        hedges: list[HedgePosition],
        op: OperatorState,
    ) -> RiskInputs:
        pool_prices = _pool_prices(book)
        recent = self.p.ledger.events([ev.ORDER_INTENT], since_ms=now - HOUR_MS)
        return RiskInputs(
            now_ms=now,
            block_ts_ms=chain.block_timestamp * 1000,
            market_ts_ms=market.ts_ms,
            pool_prices=pool_prices,
            marks=dict(market.prices),
            hedges=hedges,
            orders_last_hour=len(recent),
            pnl_today_usd=self._pnl_today(now, book, hedges),
            halted=None if op.flatten else op.halted,
        )

    def _pnl_today(self, now: int, book: ExposureBook, hedges: list[HedgePosition]) -> Decimal:
        """LP value + hedge unrealised PnL change since the first tick of the UTC day."""
        equity = sum((a.value_usd for a in book.assets.values()), Decimal(0))
        equity += sum((h.unrealized_pnl or Decimal(0) for h in hedges), Decimal(0))
        day = now // DAY_MS
        if self._day_start is None or self._day_start[0] != day:
            self._day_start = (day, equity)
        return equity - self._day_start[1]

    async def run(
        self,
        block_number: Callable[[], Awaitable[int]],
        *,
        poll_seconds: float,
        max_tick_seconds: float,
        once: bool = False,
    ) -> None:
        """Tick on every new block (polled) and at least every `max_tick_seconds`."""
        last_block = -1
        last_tick_ms = 0
        while not self._stop.is_set():
            try:
                block = await block_number()
            except LphedgeError as err:
                self._append(ev.ERROR, ev.ErrorEvent("block poll", str(err)))
                block = last_block
            due = self.p.clock.now_ms() - last_tick_ms >= max_tick_seconds * 1000
            if block != last_block or due:
                await self.tick()
                last_block, last_tick_ms = block, self.p.clock.now_ms()
                if once:
                    return
            await self._sleep(poll_seconds)

    async def _sleep(self, seconds: float) -> None:
        stop = asyncio.ensure_future(self._stop.wait())
        sleep = asyncio.ensure_future(self.p.clock.sleep(seconds))
        await asyncio.wait({stop, sleep}, return_when=asyncio.FIRST_COMPLETED)
        for f in (stop, sleep):
            f.cancel()


def _hedge_by_asset(hedges: list[HedgePosition]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for h in hedges:
        out[h.asset] = out.get(h.asset, Decimal(0)) + h.size_base
    return out


def _pool_prices(book: ExposureBook) -> dict[str, Decimal]:
    """USD price per asset as the pools see it (from USD-quoted positions)."""
    out: dict[str, Decimal] = {}
    for e in book.positions:
        if e.quote == "USD" and e.base not in out and e.price > 0:
            out[e.base] = e.price
    return out


def _base_quote(
    amount0: Decimal,
    amount1: Decimal,
    fees0: Decimal,
    fees1: Decimal,
    base: str,
    token0: Any,
    assets: AssetMap,
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    if assets.asset_of(token0) == base:
        return amount0, amount1, fees0, fees1
    return amount1, amount0, fees1, fees0
