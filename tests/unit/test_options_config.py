"""`[options]`: errors name the field; wiring turns options on for option strategies and
keeps live options on the hedging venue."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from bot import wiring
from bot.config import load_settings
from bot.errors import ConfigError


@pytest.fixture(autouse=True)
def no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"strike_step": 0}, "options.strike_step: Input should be greater than 0"),
        ({"premium": "coin"}, "options.premium: Input should be 'inverse' or 'usd'"),
        ({"max_slippage": "1.5"}, "options.max_slippage: Input should be less than 1"),
        ({"venue": " "}, "options.venue: must not be empty"),
        (
            {"enabled": True, "daily_expiries": 0, "weekly_expiries": 0},
            "options.weekly_expiries: 0 with daily_expiries 0",
        ),
        ({"max_premium_per_day_usd": -1}, "options.max_premium_per_day_usd"),
    ],
)
def test_bad_options_name_the_field(options: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_settings(None, {"options": options})


def test_option_strategies_turn_options_on_and_limits_reach_the_guards() -> None:
    perps = load_settings(None, {"strategy": {"name": "delta_band"}})
    assert wiring.options_policy(perps, wiring.strategy(perps)) is None
    overlay = load_settings(
        None,
        {
            "strategy": {"name": "options_overlay"},
            "options": {"max_slippage": "0.02", "max_premium_per_day_usd": "7000"},
        },
    )
    policy = wiring.options_policy(overlay, wiring.strategy(overlay))
    assert policy is not None and policy.max_slippage == Decimal("0.02")
    assert wiring.risk_limits(overlay).max_option_premium_per_day_usd == Decimal(7000)
    enabled = load_settings(None, {"options": {"enabled": True}})
    assert wiring.options_policy(enabled, wiring.strategy(enabled)) is not None


def test_live_options_must_trade_on_the_hedging_venue() -> None:
    live = load_settings(
        None,
        {"mode": "testnet", "venue": {"exchange": "bybit"}, "options": {"enabled": True}},
    )
    with pytest.raises(ConfigError, match=re.escape("options.venue: 'deribit' differs from")):
        wiring.options_policy(live, wiring.strategy(live))
    same = load_settings(
        None,
        {
            "mode": "testnet",
            "venue": {"exchange": "bybit"},
            "options": {"enabled": True, "venue": "bybit"},
        },
    )
    assert wiring.options_policy(same, wiring.strategy(same)) is not None
