"""Option chains from ccxt market dicts: symbols, strikes, sizes and premium currencies."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from bot.domain.market import InstrumentKind, OptionType
from bot.errors import InputError
from bot.options.chain import OptionChain, format_symbol, parse_market, parse_symbol

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


def test_chain_keeps_only_the_underlyings_options() -> None:
    chain = _chain()
    assert len(chain.options) == 28  # BTC and the swap left out
    assert chain.expiries(JUN28 - 1)[0] == JUN28


def test_format_symbol_is_the_inverse_of_parse_symbol() -> None:
    for sym in ("ETH/USD:ETH-240628-3000-C", "BTC/USDC:USDC-241227-62500.5-P"):
        base, quote, settle, expiry, strike, kind = parse_symbol(sym)
        assert format_symbol(base, quote, settle, expiry, strike, kind) == sym
    expiry = parse_symbol("ETH/USD:ETH-240628-3000-C")[3]
    assert format_symbol("ETH", "USD", "ETH", expiry, Decimal("3000.00"), OptionType.PUT) == (
        "ETH/USD:ETH-240628-3000-P"
    )
