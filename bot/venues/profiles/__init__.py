"""One profile per exchange: every per-venue fact the ccxt adapter needs (see `base`).

`PROFILES` is written out by hand so the supported venues are visible; `profile(id)` refuses
an exchange without one, naming those that have one.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.errors import ConfigError
from bot.venues.profiles.base import VenueProfile
from bot.venues.profiles.binance import BINANCE_USDM
from bot.venues.profiles.bybit import BYBIT
from bot.venues.profiles.deribit import DERIBIT
from bot.venues.profiles.hyperliquid import HYPERLIQUID
from bot.venues.profiles.okx import OKX

PROFILES: Mapping[str, VenueProfile] = {
    p.ccxt_id: p for p in (BINANCE_USDM, BYBIT, OKX, HYPERLIQUID, DERIBIT)
}


def profile(exchange_id: str) -> VenueProfile:
    """The profile of `exchange_id` (a ccxt id), or ConfigError naming the supported ones."""
    found = PROFILES.get(exchange_id)
    if found is None:
        raise ConfigError(
            f"venue.exchange {exchange_id!r}: no venue profile, so it cannot trade live or on "
            f"a testnet; supported: {', '.join(sorted(PROFILES))} (paper mode takes any ccxt "
            "exchange's public market data)"
        )
    return found


def known_profile(exchange_id: str) -> VenueProfile | None:
    """The profile of `exchange_id` if there is one (public market data needs none)."""
    return PROFILES.get(exchange_id)


__all__ = ["PROFILES", "VenueProfile", "known_profile", "profile"]
