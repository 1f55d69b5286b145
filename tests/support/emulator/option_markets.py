"""Option listings for the emulator at one real moment: 2024-04-16 08:00 UTC.

Underlying prices are the Binance ETHUSDT / BTCUSDT perp 1 h opens at that hour and vols the
Deribit DVOL daily opens of that day (both from ../shared/data/market); option prices then
come from Black-76 at that vol (test-fixture pricing, flat smile). Specs are each venue's:
Deribit ETH options inverse (premium in ETH), contract 1 ETH, min 1, tick 0.0001 (0.0005
above 0.005), fee 0.0003 ETH capped at 12.5 % of the premium; Bybit ETH options USDC-settled,
tick 0.1 USDC, qty step and min 0.1, fee 0.03 % of the index capped at 7 %.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from .account import OptionMarket
from .deribit import deribit_name

NOW_MS = int(datetime(2024, 4, 16, 8, tzinfo=UTC).timestamp() * 1000)
ETH_INDEX = Decimal("3105.87")  # binance_perp_1h ETHUSDT open 2024-04-16 08:00
BTC_INDEX = Decimal("63488.0")  # binance_perp_1h BTCUSDT open 2024-04-16 08:00
ETH_VOL = 0.7404  # deribit_dvol_daily ETH open 2024-04-16 (74.04 %)
BTC_VOL = 0.7048  # deribit_dvol_daily BTC open 2024-04-16 (70.48 %)
LAUNCH_MS = NOW_MS - 30 * 86_400_000


def expiry(year: int, month: int, day: int) -> int:
    """Options expire at 08:00 UTC on their date."""
    return int(datetime(year, month, day, 8, tzinfo=UTC).timestamp() * 1000)


ETH_EXPIRIES = (expiry(2024, 4, 26), expiry(2024, 5, 31), expiry(2024, 6, 28))
ETH_STRIKES = (Decimal(2800), Decimal(3000), Decimal(3200), Decimal(3400))


def _deribit(base: str, exp: int, strike: Decimal, call: bool, vol: float) -> OptionMarket:
    eth = base == "ETH"
    return OptionMarket(
        symbol=deribit_name(base, exp, strike, call),
        base=base,
        settle=base,
        strike=strike,
        expiry_ms=exp,
        call=call,
        vol=vol,
        inverse=True,
        tick=Decimal("0.0001") if eth else Decimal("0.0005"),
        tick_steps=((Decimal("0.005"), Decimal("0.0005")),) if eth else (),
        qty_step=Decimal(1) if eth else Decimal("0.1"),
        min_qty=Decimal(1) if eth else Decimal("0.1"),
        fee_cap=Decimal("0.125"),
        launch_ms=LAUNCH_MS,
    )


def _bybit(base: str, exp: int, strike: Decimal, call: bool, vol: float) -> OptionMarket:
    return OptionMarket(
        symbol=deribit_name(base, exp, strike, call),
        base=base,
        settle="USDC",
        strike=strike,
        expiry_ms=exp,
        call=call,
        vol=vol,
        inverse=False,
        tick=Decimal("0.1") if base == "ETH" else Decimal(5),
        qty_step=Decimal("0.1") if base == "ETH" else Decimal("0.01"),
        min_qty=Decimal("0.1") if base == "ETH" else Decimal("0.01"),
        max_qty=Decimal(1500) if base == "ETH" else Decimal(500),
        fee_cap=Decimal("0.07"),
        launch_ms=LAUNCH_MS,
    )


def option_markets(
    venue: str,
    strikes: tuple[Decimal, ...] = ETH_STRIKES,
    expiries: tuple[int, ...] = ETH_EXPIRIES,
) -> dict[str, OptionMarket]:
    """ETH calls and puts at each strike and expiry (by default four strikes and three
    expiries), plus one BTC call."""
    make = _deribit if venue == "deribit" else _bybit
    markets = [
        make("ETH", exp, strike, call, ETH_VOL)
        for exp in expiries
        for strike in strikes
        for call in (True, False)
    ]
    markets.append(make("BTC", expiry(2024, 6, 28), Decimal(65000), True, BTC_VOL))
    return {m.symbol: m for m in markets}


UNDERLYING = {"ETH": ETH_INDEX, "BTC": BTC_INDEX}
