"""Load price, funding and Uniswap pool-minute CSVs into numpy arrays.

Times are milliseconds since the epoch (UTC); prices USD per unit of the asset.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bot.errors import InputError

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

TIME_COLUMNS = ("timestamp", "date", "Date", "time", "datetime")
CLOSE_COLUMNS = ("close", "Close", "price")


@dataclass(frozen=True)
class PriceSeries:
    """Bar closes: `ts_ms` ascending, `close` in USD."""

    name: str
    ts_ms: I64
    close: F64


@dataclass(frozen=True)
class FundingSeries:
    """Funding events: rate per period (0.0001 = 1 bp), paid by longs to shorts if > 0."""

    ts_ms: I64
    rate: F64


@dataclass(frozen=True)
class PoolBars:
    """Uniswap v3 minute bars: ETH price, USD volume swapped in, active liquidity (raw)."""

    ts_ms: I64
    price: F64
    volume_usd: F64
    active_liquidity: F64
    fee: float
    days: frozenset[str]


def parse_time_ms(text: str) -> int:
    """ISO 8601 (naive = UTC) or epoch seconds/milliseconds -> ms."""
    text = text.strip()
    try:
        num = float(text)
    except ValueError:
        pass
    else:
        return int(num if num > 1e11 else num * 1000)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"time {text!r} is neither ISO 8601 nor epoch seconds") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def _pick(header: Sequence[str], options: Sequence[str], path: Path, what: str) -> int:
    for name in options:
        if name in header:
            return list(header).index(name)
    raise InputError(f"{path}: no {what} column; expected one of {', '.join(options)}")


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    try:
        with path.open(newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            return header, [row for row in reader if row]
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except StopIteration:
        raise InputError(f"{path}: empty file") from None


FUNDING_COLUMNS = ("funding_rate", "fundingRate", "rate")


def read_series(path: Path, value_columns: Sequence[str], what: str) -> list[tuple[int, str]]:
    """(epoch ms, the value's text) rows of a CSV with a time column and a `what` column,
    sorted by time; the text is kept as written, for callers that parse it exactly."""
    header, rows = _rows(path)
    t_col = _pick(header, TIME_COLUMNS, path, "time")
    v_col = _pick(header, value_columns, path, what)
    try:
        out = [(parse_time_ms(r[t_col]), r[v_col]) for r in rows]
    except IndexError as exc:
        raise InputError(f"{path}: bad row ({exc})") from None
    out.sort(key=lambda row: row[0])
    return out


def load_prices(path: Path | str) -> PriceSeries:
    """A CSV with a time column and a close column, any bar size; sorted by time."""
    path = Path(path)
    header, rows = _rows(path)
    t_col = _pick(header, TIME_COLUMNS, path, "time")
    c_col = _pick(header, CLOSE_COLUMNS, path, "close")
    try:
        ts = np.array([parse_time_ms(r[t_col]) for r in rows], dtype=np.int64)
        close = np.array([float(r[c_col]) for r in rows], dtype=np.float64)
    except (ValueError, IndexError) as exc:
        raise InputError(f"{path}: bad row ({exc})") from None
    if len(ts) < 2:
        raise InputError(f"{path}: needs at least two bars")
    bad = np.flatnonzero(~np.isfinite(close) | (close <= 0))
    if len(bad):
        raise InputError(f"{path}: row {int(bad[0]) + 2} has close {close[bad[0]]}; prices are > 0")
    order = np.argsort(ts, kind="stable")
    return PriceSeries(path.stem, ts[order], close[order])


def load_funding(path: Path | str) -> FundingSeries:
    """`date,funding_rate` (Binance 8 h funding as recorded by freqtrade)."""
    path = Path(path)
    header, rows = _rows(path)
    t_col = _pick(header, TIME_COLUMNS, path, "time")
    r_col = _pick(header, FUNDING_COLUMNS, path, "funding rate")
    try:
        ts = np.array([parse_time_ms(r[t_col]) for r in rows], dtype=np.int64)
        rate = np.array([float(r[r_col]) for r in rows], dtype=np.float64)
    except (ValueError, IndexError) as exc:
        raise InputError(f"{path}: bad row ({exc})") from None
    order = np.argsort(ts, kind="stable")
    return FundingSeries(ts[order], rate[order])


POOL_COLUMNS = ("timestamp", "closeTick", "inAmount0", "inAmount1", "currentLiquidity")


def load_pool(directory: Path | str, fee: float = 0.0005) -> PoolBars:
    """Every `*.csv` of Uniswap USDC/WETH minute bars in `directory` (token0 USDC 6 dec,
    token1 WETH 18 dec): ETH price 1e12 / 1.0001**tick, volume in = inAmount0 + inAmount1."""
    directory = Path(directory)
    files = sorted(directory.glob("*.csv"))
    if not files:
        raise InputError(f"{directory}: no CSV files")
    ts: list[int] = []
    tick: list[float] = []
    in0: list[float] = []
    in1: list[float] = []
    liq: list[float] = []
    for f in files:
        header, rows = _rows(f)
        missing = [c for c in POOL_COLUMNS if c not in header]
        if missing:
            raise InputError(f"{f}: no {', '.join(missing)} column")
        t_col, tick_col, in0_col, in1_col, liq_col = (header.index(c) for c in POOL_COLUMNS)
        try:
            for r in rows:
                ts.append(parse_time_ms(r[t_col]))
                tick.append(float(r[tick_col]))
                in0.append(float(r[in0_col]))
                in1.append(float(r[in1_col]))
                liq.append(float(r[liq_col]))
        except (ValueError, IndexError) as exc:
            raise InputError(f"{f}: bad row ({exc})") from None
    price = 1e12 / np.power(1.0001, np.array(tick))
    volume = np.array(in0) / 1e6 + np.array(in1) / 1e18 * price
    return PoolBars(
        np.array(ts, dtype=np.int64),
        price,
        volume,
        np.array(liq),
        fee,
        frozenset(f.stem for f in files),
    )
