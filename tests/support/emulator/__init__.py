"""A venue emulator for tests: a real HTTP server on 127.0.0.1 speaking each venue's JSON.

async with Emulator(Binance(), api_key=KEY, secret=SECRET) as emu:
    exchange.urls["api"] = emu.ccxt_urls(exchange.urls["api"])
"""

from .account import Account, Market, VenueReject
from .binance import Binance
from .hyperliquid import Hyperliquid
from .okx import Okx
from .server import Emulator, Fault, LoggedRequest, Override, default_markets

__all__ = [
    "Account",
    "Binance",
    "Emulator",
    "Fault",
    "Hyperliquid",
    "LoggedRequest",
    "Market",
    "Okx",
    "Override",
    "VenueReject",
    "default_markets",
]
