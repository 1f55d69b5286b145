"""Which options the engine quotes, and the book's greeks: the venue's when the quote has
them, Black-76 at the quote's implied vol (or the asset's vol) when it does not."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from bot.domain.lp import AssetExposure, ExposureBook, PositionExposure
from bot.domain.market import Greeks, Instrument, InstrumentKind, OptionType, Quote
from bot.domain.orders import HedgePosition
from bot.hedge.option_book import book_greeks, quoted_options
from bot.options.black76 import greeks

NOW = 1_710_115_200_000  # 2024-03-11 00:00 UTC
DAY = 86_400_000


def opt(strike: int, kind: OptionType, days: float) -> Instrument:
    c = "C" if kind is OptionType.CALL else "P"
    expiry = NOW + int(days * DAY)
    return Instrument(
        "deribit",
        f"ETH/USD:ETH-X{days}-{strike}-{c}",
        "ETH",
        InstrumentKind.OPTION,
        inverse=True,
        settle="ETH",
        strike=D(strike),
        expiry_ms=expiry,
        option_type=kind,
    )


def book(lower: str | None, upper: str | None) -> ExposureBook:
    pos = PositionExposure(
        "1", "0xp", "ETH", "USD", True, D(0), D(0), D(0), D(0), D(3000), D(300000), D(50),
        -0.1, {"ETH": D(50)}, D(lower) if lower else None, D(upper) if upper else None,
    )  # fmt: skip
    return ExposureBook(
        1, NOW // 1000, {"ETH": AssetExposure("ETH", D(50), -0.1, D(300000), 1)}, (pos,)
    )


def test_quotes_strikes_in_the_lp_range_plus_one_step_and_expiries_up_to_the_max() -> None:
    strikes_listed = (2650, 2675, 2700, 3300, 3325, 3350)
    listed = [opt(k, t, d) for k in strikes_listed for t in OptionType for d in (1, 30)]
    chain = {o.symbol: o for o in listed}
    held = "ETH/USD:ETH-X30-5000-C"
    picked = quoted_options(
        chain, book("2700", "3300"), {"ETH": D(3000)}, NOW, 21 * DAY, D(25), [held]
    )
    strikes = sorted({chain[s].strike for s in picked if s in chain})
    assert strikes == [D(2675), D(2700), D(3300), D(3325)]  # 2700..3300 +- 25
    assert all(chain[s].expiry_ms == NOW + DAY for s in picked if s in chain)
    assert picked[0] == held  # held options are always quoted
    no_range = quoted_options(chain, book(None, None), {"ETH": D(3000)}, NOW, 21 * DAY, D(25))
    # without a v3 range: +-10 % of the price (2700..3300), +- one step
    assert {chain[s].strike for s in no_range} == {D(2675), D(2700), D(3300), D(3325)}


def test_book_greeks_sum_size_times_unit_greeks_with_black76_fallback() -> None:
    call, put = opt(3000, OptionType.CALL, 7), opt(2800, OptionType.PUT, 7)
    venue_greeks = Greeks(0.5, 0.001, 2.0, -30.0, "venue")
    quotes = {
        call.symbol: Quote(call.symbol, NOW, D("0.04"), greeks=venue_greeks, underlying=D(3000)),
        put.symbol: Quote(put.symbol, NOW, D("0.01"), implied_vol=D("0.7"), underlying=D(3000)),
    }
    held = [
        HedgePosition("paper", call.symbol, "ETH", D(4), D(4)),
        HedgePosition("paper", put.symbol, "ETH", D(10), D(10)),
    ]
    instruments = {call.symbol: call, put.symbol: put}
    (row,) = book_greeks(
        book("2700", "3300"), {"ETH": D(-40)}, held, instruments, quotes, {"ETH": D(3000)}, {}, NOW
    )
    g = greeks(3000.0, 2800.0, 7 / 365, 0.7, False)
    assert row.options_delta == pytest.approx(4 * 0.5 + 10 * g.delta)
    assert row.options_gamma == pytest.approx(4 * 0.001 + 10 * g.gamma)
    assert row.options_vega == pytest.approx(4 * 2.0 + 10 * g.vega / 100)
    assert row.options_theta == pytest.approx(4 * -30.0 + 10 * g.theta / 365)
    assert row.options_value_usd == (4 * D("0.04") + 10 * D("0.01")) * 3000  # coin x price
    assert row.source == "black76+venue"
    assert (row.lp_delta, row.perp_delta, row.lp_gamma) == (D(50), D(-40), -0.1)
    (none,) = book_greeks(book("2700", "3300"), {}, [], {}, {}, {"ETH": D(3000)}, {}, NOW)
    assert none.options_delta == 0 and none.source == "none"
