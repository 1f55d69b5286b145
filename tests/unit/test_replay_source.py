"""Offline paper mode's market: recorded closes on a live-paced timeline, bad config named."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import ReplaySettings
from bot.demo import data_dir
from bot.errors import ConfigError, VenueUnavailable
from bot.venues.replay_source import replay_market

ETH = "ETH/USDT:USDT"
ETH_1H = data_dir() / "market/binance_perp_1h/ETHUSDT_1h.csv"
FUNDING = data_dir() / "market/binance_perp_funding_8h/ETH_USDT_USDT-8h-funding_rate.csv"
WALL_MS = 1_790_000_000_000  # the bot's own clock: quotes are stamped with it


def settings(**over: object) -> ReplaySettings:
    base: dict[str, object] = {"prices": {ETH: ETH_1H}, "start": "2023-01-01T00:00:00Z"}
    return ReplaySettings.model_validate({**base, **over})


async def test_prices_follow_the_recorded_path_at_the_configured_speed() -> None:
    wall = FixedClock(WALL_MS)
    market = replay_market(
        settings(speed=3600, funding={ETH: FUNDING}), {"ETH": ETH}, wall
    )  # an hour of data per wall second
    first = await market.snapshot([ETH])
    assert first.ts_ms == WALL_MS  # stamped now, so the staleness guards see a live market
    assert first.prices["ETH"] == Decimal("1193.89")  # ETHUSDT, the 2023-01-01 00:00 bar
    wall.advance(2)
    later = await market.snapshot([ETH])
    assert later.prices["ETH"] == Decimal("1195.62")  # the 02:00 bar
    assert later.quotes[ETH].funding_rate == Decimal("0.0001")  # recorded rate, 2023-01-01


async def test_the_end_of_the_data_is_an_outage_that_says_what_to_change() -> None:
    wall = FixedClock(WALL_MS)
    market = replay_market(settings(start="2024-04-18T00:00:00Z", speed=3600), {"ETH": ETH}, wall)
    await market.snapshot([ETH])
    wall.advance(3600)  # 3,600 hours later: past the last row
    with pytest.raises(VenueUnavailable, match=r"venue.replay.start .* venue.replay.speed"):
        await market.snapshot([ETH])


@pytest.mark.parametrize(
    ("over", "symbols", "names"),
    [
        ({"prices": {}}, {"ETH": ETH}, "venue.replay.prices.ETH/USDT:USDT"),
        ({"prices": {ETH: Path("/nope.csv")}}, {"ETH": ETH}, "/nope.csv does not exist"),
        ({}, {"ETH": "NOPE/USDT:USDT"}, "venue.symbols.ETH"),
        ({"start": "yesterday"}, {"ETH": ETH}, "venue.replay.start"),
        ({"start": "2030-01-01T00:00:00Z"}, {"ETH": ETH}, "outside the price data"),
        ({"funding": {"BTC/USDT:USDT": FUNDING}}, {"ETH": ETH}, "venue.replay.funding"),
        (
            {"prices": {ETH: FUNDING}},
            {"ETH": ETH},
            "no close column; expected one of close, Close, price",
        ),
    ],
)
def test_bad_replay_config_names_the_field(
    over: dict[str, object], symbols: dict[str, str], names: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(names)):
        replay_market(settings(**over), symbols, FixedClock(WALL_MS))
