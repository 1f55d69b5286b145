"""Option chains from ccxt market dicts; choice of strikes and expiry; gamma sizing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from bot.domain.market import InstrumentKind, OptionType
from bot.errors import InputError
from bot.options.chain import OptionChain, cheapest_expiry, parse_market, parse_symbol
from bot.options.sizing import horizon_gamma, lp_gamma_abs, size_for_gamma

JUN28 = int(datetime(2024, 6, 28, 8, tzinfo=UTC).timestamp() * 1000)


def deribit(symbol: str, strike: float, kind: str, expiry: int = JUN28) -> dict[str, Any]:
    """As ccxt 4.5 deribit.load_markets() lists an ETH option."""
    return {
        "symbol": symbol,
        "base": "ETH",
        "quote": "USD",
        "settle": "ETH",
        "type": "option",
        "option": True,
        "inverse": True,
        "linear": False,
        "contractSize": 1.0,
        "strike": strike,
        "expiry": expiry,
        "optionType": kind,
        "taker": 0.0003,
        "precision": {"amount": 1.0, "price": 0.0005},
    }


def test_deribit_symbol_is_inverse_and_premium_in_coin() -> None:
    spec = parse_market("deribit", deribit("ETH/USD:ETH-240628-3000-C", 3000.0, "call"))
    assert (spec.base, spec.settle, spec.premium_currency) == ("ETH", "ETH", "ETH")
    assert spec.inverse and spec.strike == Decimal(3000) and spec.option_type is OptionType.CALL
    assert spec.expiry_ms == JUN28 and spec.contract_size == Decimal(1)
    inst = spec.to_instrument()
    assert inst.kind is InstrumentKind.OPTION and inst.strike == Decimal(3000)


def test_binance_usdt_option_from_symbol_alone() -> None:
    market = {
        "symbol": "ETH/USDT:USDT-240628-3050.5-P",
        "type": "option",
        "contractSize": "0.1",
        "precision": {"amount": "0.01"},
    }
    spec = parse_market("binance", market)
    assert not spec.inverse and spec.premium_currency == "USDT"
    assert spec.strike == Decimal("3050.5") and spec.option_type is OptionType.PUT
    assert spec.contract_size == Decimal("0.1") and spec.amount_step == Decimal("0.01")
    assert spec.expiry_ms == JUN28  # 08:00 UTC when the dict has no expiry


def test_bad_symbol_names_the_form() -> None:
    with pytest.raises(InputError, match="BASE/QUOTE:SETTLE"):
        parse_symbol("ETH-28JUN24-3000-C")


def _chain() -> OptionChain:
    jul5 = JUN28 + 7 * 86_400_000
    markets = [{"symbol": "ETH/USD:ETH", "type": "swap"}]
    for exp, tag in ((JUN28, "240628"), (jul5, "240705")):
        for k in (2600, 2700, 2800, 3000, 3200, 3300, 3400):
            for kind, c in (("call", "C"), ("put", "P")):
                markets.append(deribit(f"ETH/USD:ETH-{tag}-{k}-{c}", k, kind, exp))
    markets.append(deribit("BTC/USD:BTC-240628-60000-C", 60000, "call"))
    return OptionChain.from_markets("deribit", markets, "ETH")


def test_legs_near_range_bounds_are_out_of_the_money() -> None:
    chain = _chain()
    legs = chain.legs_for_range(JUN28, 3000.0, 2700.0, 3300.0)
    assert [(int(o.strike), o.option_type) for o in legs] == [
        (2700, OptionType.PUT),
        (3000, OptionType.CALL),
        (3300, OptionType.CALL),
    ]
    assert len(chain.options) == 28  # BTC and the swap left out


def test_cheapest_expiry_respects_minimum_and_cost() -> None:
    chain = _chain()
    now = JUN28 - 3 * 86_400_000
    jul5 = JUN28 + 7 * 86_400_000
    assert cheapest_expiry(chain, now, 0, lambda e: 1.0 if e == JUN28 else 2.0) == JUN28
    assert cheapest_expiry(chain, now, 5 * 86_400_000, lambda e: 1.0) == jul5
    with pytest.raises(InputError, match="no expiry"):
        cheapest_expiry(chain, now, 30 * 86_400_000, lambda e: 1.0)


def test_sizing_keeps_gamma_above_the_fraction_across_the_range() -> None:
    grid = np.linspace(2700.0, 3300.0, 31)
    target = lp_gamma_abs(grid, np.array([4000.0]), np.array([2700.0]), np.array([3300.0]))
    strikes = np.array([2700.0, 3000.0, 3300.0])
    g = horizon_gamma(grid, strikes, np.full(3, 0.7), np.full(3, 7 / 365), 7 / 365)
    for fraction in (0.5, 1.0):
        q = size_for_gamma(target, g, fraction)
        assert np.all(q >= 0)
        assert np.all(g @ q >= fraction * target * (1 - 1e-9))
        assert np.min((g @ q) / target) == pytest.approx(fraction)
    assert np.all(size_for_gamma(target, g, 0.0) == 0)
    # twice the LP buys twice the options
    q1 = size_for_gamma(target, g, 1.0)
    assert size_for_gamma(2 * target, g, 1.0) == pytest.approx(2 * q1)
