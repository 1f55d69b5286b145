"""The offline demo: a real Uniswap v3 pool on anvil follows a real ETH price path while
the bot hedges an LP position in paper mode against a venue whose market follows the same
path. Everything runs on this machine: anvil from npm, the real Uniswap artifacts, Binance
ETHUSDT hourly closes and 8-hourly funding rates from the shared data folder.

With an option strategy (`--strategy options_overlay`) the paper venue also lists Deribit-style
ETH options priced by Black-76 at the real Deribit DVOL (`bot.venues.replay_options`), and the
bot buys, rolls and settles them on the same replay.
"""

from __future__ import annotations

import bisect
import csv
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from math import floor, log
from pathlib import Path
from typing import Any

from bot.clock import FixedClock
from bot.config import Settings
from bot.devchain.anvil import ACCOUNTS, Anvil
from bot.devchain.contracts import artifact
from bot.devchain.deploy import (
    DEADLINE,
    MULTICALL3_ADDRESS,
    DevChain,
    Uniswap,
    aligned_tick,
    deploy_token_on_side,
    sqrt_price_x96,
)
from bot.domain.market import BINANCE_ETHUSDT
from bot.errors import InputError
from bot.options.chain import is_option_symbol
from bot.venues.replay_market import PricePoint, ReplayMarketData
from bot.wiring import Runtime, replay_options, runtime
from strategies.registry import strategy_class

SYMBOL = "ETH/USDT:USDT"
FEE = 500
SPACING = 10
RANGE_PCT = (0.5, 90.0)  # narrower ranges round to one tick spacing; wider leave no price
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class DemoOptions:
    start: str = "2024-03-11"
    hours: int = 240
    range_pct: float = 10.0
    eth_in_position: int = 50
    strategy: str = "delta_band"
    out: Path = Path("out")
    option_premium: str = "inverse"  # inverse (Deribit, ETH) or usd (USDC-settled)
    params: tuple[tuple[str, Any], ...] = ()  # strategy params

    def __post_init__(self) -> None:
        """Refuse bad flags before anything starts; each error names its flag."""
        try:
            if not _DAY.match(self.start):
                raise ValueError
            date.fromisoformat(self.start)
        except ValueError:
            raise InputError(
                f"--start {self.start!r}: give a day as YYYY-MM-DD (UTC), e.g. 2024-03-11"
            ) from None
        if self.hours < 2:
            raise InputError(f"--hours {self.hours}: at least 2 hourly bars")
        lo, hi = RANGE_PCT
        if not lo <= self.range_pct <= hi:
            raise InputError(
                f"--range-pct {self.range_pct:g}: the LP range must be {lo:g} to {hi:g} % "
                "either side of the start price"
            )
        if self.option_premium not in ("inverse", "usd"):
            raise InputError(f"--option-premium {self.option_premium!r}: use inverse or usd")
        if self.out.exists() and not self.out.is_dir():
            raise InputError(f"--out {self.out}: is a file, not a folder")
        if self.eth_in_position <= 0:
            raise InputError(f"eth_in_position {self.eth_in_position}: must be > 0")
        strategy_class(self.strategy, "--strategy")


def uses_options(strategy: str) -> bool:
    """True for a strategy that trades options (its class says `uses_options`)."""
    return bool(getattr(strategy_class(strategy), "uses_options", False))


def dvol_csv() -> Path:
    return data_dir() / "market/deribit_dvol_daily/eth_dvol.csv"


def data_dir() -> Path:
    """`LPHEDGE_DATA_DIR`, else the shared data folder beside the repository."""
    env = os.environ.get("LPHEDGE_DATA_DIR")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[1]
    return here.parent / "shared" / "data"


def _ms(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def _day(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


def load_hourly(symbol_file: str, start_ms: int, hours: int) -> list[PricePoint]:
    """`hours` hourly closes of a Binance perp (`ETHUSDT_1h.csv`...) from `start_ms` (real
    data); the data must hold the whole span, else the error names --start / --hours."""
    path = data_dir() / "market/binance_perp_1h" / symbol_file
    if not path.exists():
        raise InputError(f"market data {path} not found; set LPHEDGE_DATA_DIR")
    out: list[PricePoint] = []
    first = last = None
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            ts = _ms(row["Date"])
            first = ts if first is None else first
            last = ts
            if ts >= start_ms:
                out.append(PricePoint(ts, Decimal(row["Close"])))
                if len(out) == hours:
                    break
    if first is None or last is None:
        raise InputError(f"market data {path} has no rows")
    if start_ms < first:
        raise InputError(f"--start {_day(start_ms)[:10]}: the hourly data starts {_day(first)} UTC")
    span = f"the hourly data ends {_day(last)} UTC"  # the whole file was read: out is short
    if not out:
        raise InputError(f"--start {_day(start_ms)[:10]}: {span}")
    if len(out) < hours:
        raise InputError(
            f"--hours {hours}: only {len(out)} hourly bars from --start {_day(start_ms)[:10]} "
            f"({span})"
        )
    return out


def load_path(opts: DemoOptions) -> list[PricePoint]:
    """The demo's ETH path: Binance ETHUSDT perp hourly closes from `opts.start`."""
    return load_hourly("ETHUSDT_1h.csv", _ms(opts.start + "T00:00:00+00:00"), opts.hours)


def load_funding() -> tuple[list[int], list[Decimal]]:
    path = data_dir() / "market/binance_perp_funding_8h/ETH_USDT_USDT-8h-funding_rate.csv"
    times, rates = [], []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            times.append(_ms(row["date"]))
            rates.append(Decimal(row["funding_rate"]))
    return times, rates


def eth_price_to_sqrt(price: Decimal, usdc_is_token0: bool) -> int:
    """sqrtPriceX96 for an ETH price in USDC (USDC 6 decimals, WETH 18)."""
    scale = 10**12
    num, den = int(scale * 10**6), int(price * 10**6)  # WETH raw per USDC raw = 1e12 / P
    if not usdc_is_token0:
        num, den = den, num
    return sqrt_price_x96(num, den)


def price_tick(price: float, usdc_is_token0: bool) -> int:
    raw = 1e12 / price if usdc_is_token0 else price / 1e12
    return floor(log(raw) / log(1.0001))


@dataclass
class DemoChain:
    chain: DevChain
    uni: Uniswap
    usdc: str
    pool: str
    usdc_is_token0: bool
    token_id: int

    def move_to(self, price: Decimal, ts_s: int) -> None:
        """Swap the pool to `price` with a price-limited exactInputSingle, in a block at `ts_s`."""
        target = eth_price_to_sqrt(price, self.usdc_is_token0)
        slot0 = self.chain.contract("UniswapV3Pool", self.pool).functions.slot0().call()
        self.chain.rpc("evm_setNextBlockTimestamp", ts_s)
        if target == slot0[0]:
            self.chain.rpc("evm_mine")
            return
        zero_for_one = target < slot0[0]
        token0, token1 = (
            (self.usdc, self.uni.weth.address)
            if self.usdc_is_token0
            else (self.uni.weth.address, self.usdc)
        )
        token_in, token_out = (token0, token1) if zero_for_one else (token1, token0)
        params = (token_in, token_out, FEE, ACCOUNTS[0], DEADLINE, 10**33, 0, target)
        self.chain.receipt(self.chain.send(self.uni.router.functions.exactInputSingle(params)))


def deploy(url: str, opts: DemoOptions, p0: Decimal) -> DemoChain:
    """Uniswap v3 + WETH9 + a 6-decimal USDC, one 0.05 % pool at `p0`, one LP position."""
    chain = DevChain(url)
    chain.set_code(MULTICALL3_ADDRESS, artifact("BlockCalls").deployed_bytecode)
    uni = Uniswap.deploy(chain)
    usdc = deploy_token_on_side(chain, "USDC", 6, other=uni.weth.address, below=True)
    chain.rpc("anvil_setBalance", ACCOUNTS[0], hex(10**33))
    chain.receipt(chain.send(uni.weth.functions.deposit(), ACCOUNTS[0], value=10**32))
    uni.fund([usdc, uni.weth])
    usdc_is_token0 = int(usdc.address, 16) < int(uni.weth.address, 16)
    token0, token1 = (
        (usdc.address, uni.weth.address) if usdc_is_token0 else (uni.weth.address, usdc.address)
    )
    pool = uni.create_pool(token0, token1, FEE, eth_price_to_sqrt(p0, usdc_is_token0))
    lo_price, hi_price = (
        float(p0) * (1 - opts.range_pct / 100),
        float(p0) * (1 + opts.range_pct / 100),
    )
    ticks = sorted(
        aligned_tick(price_tick(p, usdc_is_token0), SPACING) for p in (lo_price, hi_price)
    )
    weth_amt = opts.eth_in_position * 10**18
    usdc_amt = int(p0 * opts.eth_in_position) * 10**6
    a0, a1 = (usdc_amt, weth_amt) if usdc_is_token0 else (weth_amt, usdc_amt)
    params = (token0, token1, FEE, ticks[0], ticks[1], a0, a1, 0, 0, ACCOUNTS[1], DEADLINE)
    token_id = uni.mint(params, ACCOUNTS[1])
    # Other LPs: thin liquidity over +-60 %, so the price can leave our range (the router
    # refuses swaps entirely inside zero-liquidity regions).
    wide = sorted(
        aligned_tick(price_tick(float(p0) * f, usdc_is_token0), SPACING) for f in (0.4, 1.6)
    )
    other = (token0, token1, FEE, wide[0], wide[1], a0 // 10, a1 // 10, 0, 0, ACCOUNTS[0], DEADLINE)
    uni.mint(other, ACCOUNTS[0])
    return DemoChain(chain, uni, usdc.address, pool, usdc_is_token0, token_id)


def demo_settings(url: str, dc: DemoChain, opts: DemoOptions, ledger_url: str) -> Settings:
    return Settings.model_validate(
        {
            "mode": "paper",
            "account": "demo",
            "chain": {
                "chain_id": 31337,
                "rpc_urls": [url],
                "position_manager": dc.uni.npm.address,
                "owners": [ACCOUNTS[1]],
                "poll_seconds": 1,
            },
            "venue": {
                "exchange": "binanceusdm",
                "symbols": {"ETH": SYMBOL},
                "paper_balance_usd": "100000",
                "paper_market": "replay",
            },
            "strategy": {"name": opts.strategy, "params": dict(opts.params)},
            "ledger": {"url": ledger_url},
            **(_option_settings(opts) if uses_options(opts.strategy) else {}),
        }
    )


def _option_settings(opts: DemoOptions) -> dict[str, Any]:
    """Options on the paper venue; a strip is one order per strike, so more orders an hour."""
    return {
        "options": {"enabled": True, "premium": opts.option_premium},
        "risk": {"max_orders_per_hour": 200},
    }


def demo_market(settings: Settings, path: list[PricePoint], clock: FixedClock) -> ReplayMarketData:
    """The replayed venue market: the perp on the real closes, options when enabled."""
    options = replay_options(settings, dvol_csv()) if settings.options.enabled else None
    return ReplayMarketData({SYMBOL: path}, {SYMBOL: BINANCE_ETHUSDT}, clock, options=options)


Progress = Callable[[int, int, str], None]


async def run_demo(
    opts: DemoOptions,
    progress: Progress | None = None,
    path: list[PricePoint] | None = None,
) -> dict[str, Any]:
    """Run the whole demo; returns figures for the summary (ledger path, orders, ticks).
    `path` is the price path when the caller has loaded it already (`load_path`)."""
    path = path if path is not None else load_path(opts)
    f_times, f_rates = load_funding()
    try:
        opts.out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"--out {opts.out}: {err.strerror or err}") from None
    db = opts.out / "demo-ledger.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    t0 = time.monotonic()
    first_s = path[0].ts_ms // 1000
    with Anvil(extra_args=("--timestamp", str(first_s - 3600))) as node:
        dc = deploy(node.url, opts, path[0].price)
        clock = FixedClock(path[0].ts_ms)
        settings = demo_settings(node.url, dc, opts, f"sqlite:///{db}")
        market = demo_market(settings, path, clock)
        rt = runtime(settings, clock=clock, market=market)
        try:
            await rt.engine.start()
            orders = await _replay(rt, dc, market, clock, path, (f_times, f_rates), progress)
        finally:
            await rt.close()
            dc.chain.close()
    extra = {}
    if uses_options(opts.strategy):
        extra["option_settlements"] = len(_events(db, "option_settlement"))
    return {
        **extra,
        "ledger": str(db),
        "ticks": len(path),
        "orders": orders,
        "seconds": round(time.monotonic() - t0, 1),
        "token_id": dc.token_id,
    }


async def _replay(
    rt: Runtime,
    dc: DemoChain,
    market: ReplayMarketData,
    clock: FixedClock,
    path: list[PricePoint],
    funding: tuple[list[int], list[Decimal]],
    progress: Progress | None,
) -> int:
    orders = 0
    for i, point in enumerate(path):
        dc.move_to(point.price, point.ts_ms // 1000)
        clock.ms = point.ts_ms
        j = bisect.bisect_right(funding[0], point.ts_ms) - 1
        if j >= 0:
            market.funding_rate = funding[1][j]
        result = await rt.engine.tick()
        sent = len(result.acks)
        orders += sent
        if progress:
            hedge = next((t.target_base for t in result.targets if t.act), None)
            note = f"ETH {point.price:.2f}" + (f" -> hedge {hedge:.3f} ETH" if sent else "")
            legs = sum(1 for a in result.acks if is_option_symbol(a.symbol))
            progress(i + 1, len(path), note + (f", {legs} option orders" if legs else ""))
    return orders


def _events(db: Path, kind: str) -> list[Any]:
    from bot.ledger.store import Ledger

    with Ledger.open(f"sqlite:///{db}") as led:
        return led.events([kind])
