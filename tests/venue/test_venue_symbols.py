"""An unknown `venue.symbols` entry is a ConfigError naming its key and what is listed."""

from __future__ import annotations

import ccxt.async_support as ccxt_async
import pytest

from bot.clock import FixedClock
from bot.errors import ConfigError
from bot.venues.ccxt_market import CcxtMarketData
from tests.support.emulator import Emulator


@pytest.mark.parametrize(
    ("symbol", "hint"),
    [("NOPE/USDT:USDT", "its ETH perps: ETH/USDT:USDT"), ("ETH/USDT:USDX", "ETH/USDT:USDT")],
)
async def test_unlisted_symbol_names_the_config_key(
    emulator: Emulator, symbol: str, hint: str
) -> None:
    urls = emulator.ccxt_urls(ccxt_async.binanceusdm().urls["api"])
    market = CcxtMarketData(
        "binanceusdm",
        clock=FixedClock(),
        urls_override=urls,
        enable_rate_limit=False,
        symbols={"ETH": symbol, "BTC": "BTC/USDT:USDT"},
    )
    try:
        with pytest.raises(ConfigError) as err:
            await market.snapshot([symbol, "BTC/USDT:USDT"])
    finally:
        await market.close()
    msg = str(err.value)
    assert msg.startswith(f"venue.symbols.ETH: binanceusdm lists no market {symbol!r}"), msg
    assert hint in msg and "\n" not in msg
