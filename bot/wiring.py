"""The composition root: the ONLY place that turns config into adapters.

Paper vs live, SQLite vs PostgreSQL and which strategy runs are chosen here and nowhere
else; the engine and commands receive ports.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import __version__
from bot.clock import SystemClock
from bot.config import Settings
from bot.config_sections import chain_list, require_chain_positions
from bot.domain import events as ev
from bot.domain.market import DEFAULT_ASSET_MAP, AssetMap
from bot.domain.orders import OrderIntent
from bot.engine import Engine, EngineParts
from bot.engine_account import AccountDesk, AccountPolicy
from bot.engine_options import OptionsPolicy
from bot.errors import ConfigError
from bot.hedge.risk import RiskLimits
from bot.ports import Clock, MarketData, PositionSource, Venue

if TYPE_CHECKING:
    from bot.execution.account_sync import AccountSync
from strategies.base import HedgeStrategy, validate_params
from strategies.registry import strategy_class

log = logging.getLogger("lphedge.wiring")


def asset_map(settings: Settings) -> AssetMap:
    """Default token->asset map plus the config's `[assets]` and each `[[chains]]` entry's
    `assets` (symbols or 0x addresses): WETH is ETH on every chain, at its own address."""
    by_symbol = dict(DEFAULT_ASSET_MAP)
    by_address: dict[str, str] = {}
    tables = [("assets", settings.assets)]
    tables += [(f"chains[{i}].assets", c.assets) for i, c in enumerate(settings.chains)]
    for where, table in tables:
        for key, asset in table.items():
            if key.startswith("0x") and len(key) == 42:
                known = by_address.get(key.lower())
                if known is not None and known != asset.upper():
                    raise ConfigError(f"{where}.{key}: {asset!r} here, {known!r} elsewhere")
                by_address[key.lower()] = asset.upper()
            else:
                by_symbol[key.upper()] = asset.upper()
    return AssetMap(by_symbol=by_symbol, by_address=by_address)


def require_positions(settings: Settings) -> None:
    """Refuse to run with nothing to read (`[chain]` or every `[[chains]]` entry)."""
    require_chain_positions(settings.chain, settings.chains)


def position_source(settings: Settings) -> Any:
    """The chain reader (a `PositionSource` with `close`, and `rpc` for block polling with
    one chain, `head()` with several: a `MultiChainReader` reading them concurrently)."""
    from bot.chain.multi_chain import MultiChainReader
    from bot.chain.reader import ChainReader, ChainReaderConfig

    paths = {"main": "chain"} | {c.name: f"chains[{i}]" for i, c in enumerate(settings.chains)}
    readers = [
        ChainReader(
            ChainReaderConfig(
                rpc_urls=chain.rpc_url_values(),
                chain_id=chain.chain_id,
                position_manager=chain.uniswap_v3_manager(),
                token_ids=tuple(chain.token_ids),
                owners=tuple(chain.owners),
                v2_pairs=tuple(chain.v2_pairs),
                multicall_address=chain.multicall,
                timeout_s=chain.rpc_timeout_s,
                name=name,
                v4_position_manager=chain.position_managers.get("uniswap_v4"),
                v4_state_view=chain.state_views.get("uniswap_v4"),
                v4_token_ids=tuple(chain.v4_token_ids),
                v4_scan_from_block=chain.v4_scan_from_block,
                logs_chunk_blocks=chain.logs_chunk_blocks,
                config_path=paths[name],
                pancakeswap_v3_position_manager=chain.position_managers.get("pancakeswap_v3"),
                pancakeswap_v3_token_ids=tuple(chain.pancakeswap_v3_token_ids),
                pancakeswap_v3_farm=chain.staking.get("pancakeswap_v3"),
            )
        )
        for name, chain in chain_list(settings.chain, settings.chains)
    ]
    return readers[0] if len(readers) == 1 else MultiChainReader(readers)


def ledger(settings: Settings, *, create: bool = True, running: bool = False) -> Any:
    """The configured ledger; `create=False` (commands that read or steer a bot) refuses one
    that does not exist yet. A `running` bot bounds each statement too (`bot.ledger.faults`);
    a command reading a long ledger must not be cut."""
    from bot.ledger.faults import DbTimeouts
    from bot.ledger.store import Ledger

    cfg = settings.ledger
    statement = cfg.statement_timeout_s if running else None
    timeouts = DbTimeouts(connect_s=cfg.connect_timeout_s, statement_s=statement)
    return Ledger.open(cfg.url.get_secret_value(), create=create, timeouts=timeouts)


def strategy(settings: Settings) -> HedgeStrategy:
    """The configured strategy (built-in, entry point or `path`), params validated."""
    name = settings.strategy.path or settings.strategy.name
    cls = strategy_class(name)
    params = validate_params(cls.Params, settings.strategy.params, name)
    built: HedgeStrategy = cls(params)
    return built


def operator_params(
    settings: Settings, book: Any, built: HedgeStrategy
) -> tuple[HedgeStrategy, dict[str, Any]]:
    """The strategy with the params an operator last set through the API, while the config
    still says what it said then (a reload outlives a restart; an edited config wins)."""
    from bot import control

    params = dict(settings.strategy.params)
    name = settings.strategy.path or settings.strategy.name
    reloaded = control.reloaded_params(book, name, params)
    if reloaded is None:
        return built, params
    cls = strategy_class(name)
    valid = validate_params(cls.Params, reloaded, name, where="params_reloaded.params")
    log.warning("strategy %s runs the params an operator set: %s", name, reloaded)
    strategy: HedgeStrategy = cls(valid)
    return strategy, reloaded


def risk_limits(settings: Settings) -> RiskLimits:
    r = settings.risk
    return RiskLimits(
        max_block_age_s=r.max_block_age_s,
        max_market_age_s=r.max_market_age_s,
        max_price_divergence_bps=r.max_price_divergence_bps,
        max_hedge_notional_usd=r.max_hedge_notional_usd,
        max_order_notional_usd=r.max_order_notional_usd,
        max_orders_per_hour=r.max_orders_per_hour,
        daily_loss_limit_usd=r.daily_loss_limit_usd,
        min_liquidation_distance_pct=r.min_liquidation_distance_pct,
        max_option_premium_per_order_usd=settings.options.max_premium_per_order_usd,
        max_option_premium_per_day_usd=settings.options.max_premium_per_day_usd,
    )


def options_policy(settings: Settings, strat: HedgeStrategy) -> OptionsPolicy | None:
    """Options are traded when `[options] enabled` or the strategy uses them; live and
    testnet trade them on the hedging venue itself (one venue port per engine)."""
    o = settings.options
    if not (o.enabled or getattr(strat, "uses_options", False)):
        return None
    if settings.mode != "paper" and o.venue != settings.venue.exchange:
        raise ConfigError(
            f"options.venue: {o.venue!r} differs from venue.exchange "
            f"{settings.venue.exchange!r}; outside paper mode options trade on the hedging venue"
        )
    return OptionsPolicy(
        max_expiry_days=o.max_expiry_days,
        strike_step=o.strike_step,
        max_slippage=o.max_slippage,
    )


def replay_options(settings: Settings, dvol_csv: Path) -> Any:
    """The offline option market of `[options]` (a `ReplayOptions` for `ReplayMarketData`),
    priced from the Deribit DVOL daily CSV at `dvol_csv`."""
    from bot.options.dvol import load_dvol
    from bot.venues.replay_options import ReplayOptions, ReplayOptionsSpec

    o = settings.options
    spec = ReplayOptionsSpec(
        venue=o.venue,
        premium=o.premium,
        usd_settle=o.usd_settle,
        strike_step=o.strike_step,
        strike_range_pct=o.strike_range_pct,
        daily_expiries=o.daily_expiries,
        weekly_expiries=o.weekly_expiries,
        skew=o.skew,
        half_spread=o.half_spread,
        taker_fee=o.taker_fee,
    )
    return ReplayOptions(spec, load_dvol(dvol_csv))


def market_data(settings: Settings, clock: Clock, *, options: bool = False) -> MarketData:
    """Public market data of the configured venue (no keys needed), or, in offline paper
    mode (`venue.paper_market = "replay"`), recorded prices from `[venue.replay]`."""
    v = settings.venue
    if v.paper_market == "replay":
        if settings.mode != "paper":
            raise ConfigError(
                f'venue.paper_market: "replay" is for paper mode; mode is {settings.mode!r}'
            )
        from bot.venues.replay_source import replay_market

        offline = None
        if options:
            if v.replay.dvol is None:
                raise ConfigError("venue.replay.dvol: options offline need a Deribit DVOL CSV")
            offline = replay_options(settings, v.replay.dvol)
        return replay_market(v.replay, v.symbols, clock, offline)
    from bot.venues.ccxt_market import CcxtMarketData

    md: MarketData = CcxtMarketData(v.exchange, clock=clock, symbols=v.symbols)
    return md


def venue(
    settings: Settings,
    market: MarketData,
    book: Any,
    clock: Clock,
    ccxt_kwargs: Mapping[str, Any] | None = None,
) -> Venue:
    """Paper or a real exchange: decided here and nowhere else. The paper venue reads its
    account back from the ledger's events; neither writes the ledger. `ccxt_kwargs` reach
    CcxtVenue as they are (tests point `urls_override` at a venue emulator)."""
    v = settings.venue
    if settings.mode == "paper":
        from bot.venues.paper import PaperVenue
        from bot.venues.profiles import known_profile
        from bot.venues.replay_market import FUNDING_PERIOD_MS

        known = known_profile(v.exchange)
        period = known.funding_period_ms if known else FUNDING_PERIOD_MS
        return PaperVenue(
            f"paper-{v.exchange}",
            market,
            book,
            clock,
            v.paper_balance_usd,
            price_symbols=v.symbols,
            option_fee_cap=settings.options.fee_cap,
            funding_period_ms=period,
        )
    from bot.venues.ccxt_venue import CcxtVenue

    return CcxtVenue(
        v.exchange,
        api_key=v.api_key,
        secret=v.secret,
        password=v.password,
        wallet_address=v.wallet_address,
        private_key=v.private_key,
        mode=settings.mode,
        clock=clock,
        demo=v.demo,
        confirm_live=settings.confirm_live,
        position_mode=v.position_mode,
        margin_mode=v.margin_mode or "cross",
        **dict(ccxt_kwargs or {}),
    )


def account_policy(settings: Settings) -> AccountPolicy:
    v, r = settings.venue, settings.reconcile
    leverage = {}
    for asset, symbol in v.symbols.items():
        lev = v.leverage_for(asset, symbol)
        if lev is not None:
            leverage[symbol] = lev
    unknown = sorted(set(v.leverage) - set(v.symbols) - set(v.symbols.values()))
    if unknown:
        raise ConfigError(
            f"venue.leverage: {unknown} are neither assets nor symbols of venue.symbols"
        )
    return AccountPolicy(
        position_mode=v.position_mode,
        margin_mode=v.margin_mode,
        leverage=leverage,
        setup=v.account_setup,
        events_every_ticks=r.account_events_every_ticks,
        positions_every_ticks=r.positions_every_ticks,
        on_liquidation=r.on_liquidation,
    )


def first_start_ms(book: Any, venue_name: str, now_ms: int) -> int:
    """When this ledger first ran against `venue_name`: account events before it are not
    ours to replay (reconcile adopts the positions they left)."""
    for event in book.events([ev.RUN_STARTED]):
        if event.payload.get("venue") == venue_name:
            return int(event.ts_ms)
    return now_ms


def account_desk(
    settings: Settings, ven: Venue, book: Any, clock: Clock, run_id: str, executor: Any
) -> tuple[AccountDesk, AccountSync]:
    from bot.execution.account_sync import AccountSync
    from bot.execution.reconcile import DriftWatch

    r = settings.reconcile
    sync = AccountSync(
        ven,
        book,
        clock,
        run_id,
        start_ms=first_start_ms(book, ven.name, clock.now_ms()),
        overlap_ms=int(r.account_events_overlap_s * 1000),
    )
    symbols = list(settings.venue.symbols.values())
    drift = DriftWatch(ven, book, clock, run_id, symbols, r.on_drift, r.drift_confirmations)
    desk = AccountDesk(ven, book, clock, run_id, executor, sync, drift, account_policy(settings))
    return desk, sync


def config_digest(settings: Settings) -> str:
    """A digest of the config without secrets, to tell runs' configurations apart."""
    dumped = settings.model_dump(mode="json")  # SecretStr dump as '**********'
    return hashlib.sha256(json.dumps(dumped, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Runtime:
    """Everything a running bot holds, to close in one place."""

    engine: Engine
    reader: Any
    venue: Venue
    market: MarketData
    ledger: Any
    settings: Settings

    def pending_intents(self) -> list[OrderIntent]:
        """Intents the ledger holds without a final status (in doubt, or their fills not
        yet on the venue's trades endpoint)."""
        return self.engine.p.executor.pending()

    async def block_number(self) -> int:
        head = getattr(self.reader, "head", None)  # several chains: any one's new block
        if head is not None:
            return int(await head())
        return int(await self.reader.rpc.call("eth_blockNumber", []), 16)

    async def close(self) -> None:
        await self.venue.close()
        close = getattr(self.market, "close", None)
        if close is not None:
            await close()
        await self.reader.close()
        self.ledger.close()


def _lease_check(parts: EngineParts) -> int | None:
    """The writer lease's check (`run` sets `parts.guard` once it holds the lease)."""
    return None if parts.guard is None else parts.guard()


def runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    market: MarketData | None = None,
    source: PositionSource | None = None,
    dry_run: bool = False,
    ccxt_kwargs: Mapping[str, Any] | None = None,
) -> Runtime:
    """Build the engine and its adapters from settings; `market`/`source` may be injected,
    and `ccxt_kwargs` passed to a live or testnet venue."""
    from bot.execution.orders import OrderExecutor
    from bot.execution.reconcile import reconcile

    clock = clock or SystemClock()
    run_id = uuid.uuid4().hex
    if source is None:
        require_positions(settings)  # before any file or connection is opened
    strat = strategy(settings)
    options = options_policy(settings, strat)
    md = market or market_data(settings, clock, options=options is not None)
    book = ledger(settings, running=True)
    strat, params = operator_params(settings, book, strat)
    reader = source or position_source(settings)
    ven = venue(settings, md, book, clock, ccxt_kwargs)
    executor = OrderExecutor(ven, book, clock, run_id, fence=lambda: _lease_check(parts))
    desk, sync = account_desk(settings, ven, book, clock, run_id, executor)
    symbols = list(settings.venue.symbols.values())
    parts = EngineParts(
        source=reader,
        market=md,
        venue=ven,
        ledger=book,
        executor=executor,
        strategy=strat,
        strategy_params=params,
        clock=clock,
        assets=asset_map(settings),
        symbols=dict(settings.venue.symbols),
        limits=risk_limits(settings),
        run_id=run_id,
        dry_run=dry_run,
        on_start=lambda: reconcile(ven, book, clock, run_id, symbols, sync=sync),
        options=options,
        account=desk,
        max_outage_s=settings.chain.max_outage_s,
    )
    if not dry_run:  # written by Engine.start, so only once the writer lock is held
        parts.started = ev.RunStarted(
            run_id,
            settings.mode,
            ven.name,
            strat.name,
            params,
            config_digest(settings),
            __version__,
        )
    return Runtime(Engine(parts), reader, ven, md, book, settings)


def monitor(settings: Settings, rt: Runtime) -> Any:
    """Metrics/health endpoint and alerts, when `[ops]` asks for any of them."""
    ops = settings.ops
    wanted = (ops.metrics_port, ops.webhook_url, ops.telegram_token)
    if all(w is None for w in wanted) and not ops.notify_urls:
        return None
    from bot.monitor import Monitor

    telegram = None
    chats = list(dict.fromkeys([ops.telegram_chat_id or "", *map(str, ops.telegram_allowed_chats)]))
    chats = [c for c in chats if c]  # alerts go where the commands are answered too
    if ops.telegram_token is not None and chats:
        telegram = (ops.telegram_token.get_secret_value(), chats)
    mon = Monitor(
        rt.engine.p.clock,
        stale_after_s=3 * settings.chain.max_tick_seconds,
        webhook_url=ops.webhook_url.get_secret_value() if ops.webhook_url else None,
        telegram=telegram,
        notice_every_s=ops.notice_every_s,
        notify_urls=[u.get_secret_value() for u in ops.notify_urls],
        telegram_api_url=ops.telegram_api_url,
    )
    rt.engine.p.observers.append(mon.observe)
    return mon


def checkpointer(settings: Settings, rt: Runtime, monitor: Any = None) -> Any:
    """Signed checkpoints of the ledger's tip after each tick (`ledger.checkpoint_key`),
    alerting through `monitor` when the writer refuses to sign; None (and one warning)
    without a key."""
    import logging

    from bot import secrets
    from bot.ledger.checkpointer import Checkpointer

    lg = settings.ledger
    if lg.checkpoint_key is not None and lg.checkpoint_file is None:
        raise ConfigError("ledger.checkpoint_file: must be set when ledger.checkpoint_key is")
    if lg.checkpoint_key is None or lg.checkpoint_file is None:
        logging.getLogger("lphedge.ledger.checkpoint").warning(
            "ledger.checkpoint_key is not set: the ledger's tail is not anchored "
            "(a cut or a forged tip would verify ok; see docs/ledger-security.md)"
        )
        return None
    key = lg.checkpoint_key.get_secret_value()
    secrets.register(key)
    try:
        cp = Checkpointer(
            rt.ledger,
            key.encode("utf-8"),
            lg.checkpoint_file,
            rt.engine.p.clock,
            rt.engine.p.run_id,
            every_s=lg.checkpoint_every_s,
            alert=None if monitor is None else monitor.alert,
        )
    except OSError as err:
        raise ConfigError(
            f"ledger.checkpoint_file: cannot write {lg.checkpoint_file}: {err.strerror}"
        ) from None
    rt.engine.p.observers.append(cp.observe)
    return cp
