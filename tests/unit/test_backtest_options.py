"""`lphedge backtest --strategy options_overlay`: options listed and priced from the real
DVOL, bought and settled in the option book, compared with perps alone on the same windows."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.backtest.options_market import OptionBook, OptionPricing
from bot.demo import data_dir
from bot.domain.orders import HedgeTarget
from bot.errors import InputError
from bot.options.black76 import price as b76
from bot.options.dvol import DvolSeries, load_dvol
from tests.unit.test_backtest import ETH_1H, cli

DVOL = data_dir() / "market/deribit_dvol_daily/eth_dvol.csv"
DAY = 86_400_000
JAN3_2022 = 1_641_168_000_000


@pytest.fixture(scope="module")
def weeks_2022(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three weeks of real hourly ETH from 2022-01-03, inside the DVOL series."""
    lines = ETH_1H.read_text().splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("2022-01-03 00:00"))
    out = tmp_path_factory.mktemp("bto") / "eth.csv"
    out.write_text("\n".join([lines[0], *lines[start : start + 24 * 21 + 1]]) + "\n")
    return out


def _run(prices: Path, *extra: str) -> tuple[int, str]:
    args = ["backtest", "--prices", str(prices), "--range-pct", "10", *extra]
    res = CliRunner().invoke(cli(), args)
    return res.exit_code, res.output


def test_overlay_against_perps_alone_on_the_same_windows(weeks_2022: Path) -> None:
    code, out = _run(
        weeks_2022,
        "--strategy",
        "options_overlay",
        "--strategy",
        "fixed_interval",
        "--param",
        "fixed_interval.interval=1h",
        "--dvol",
        str(DVOL),
        "--json",
    )
    assert code == 0, out
    data = json.loads(out)
    over, perp = data["options_overlay"], data["fixed_interval"]
    assert over["windows"] == perp["windows"] == 3
    assert over["option_premium"] > 0.001 and perp["option_premium"] is None
    assert over["hedged_std"] != perp["hedged_std"]


def test_windows_dvol_does_not_cover_are_left_out_for_every_strategy(tmp_path: Path) -> None:
    lines = ETH_1H.read_text().splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith("2021-03-10 00:00"))
    prices = tmp_path / "eth2021.csv"  # four weeks; DVOL starts on 2021-03-24
    prices.write_text("\n".join([lines[0], *lines[start : start + 24 * 28 + 1]]) + "\n")
    both = ["--strategy", "delta_band", "--strategy", "options_overlay", "--json"]
    res = CliRunner().invoke(
        cli(),
        ["backtest", "--prices", str(prices), "--range-pct", "10", "--dvol", str(DVOL), *both],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["delta_band"]["windows"] == data["options_overlay"]["windows"] == 1
    assert (
        res.stderr.strip() == "ran 1 of 4 7d windows: 3 outside --dvol (2021-03-24 to 2026-04-06)"
    )


def test_no_window_dvol_covers_is_an_error_naming_it(tmp_path: Path) -> None:
    lines = ETH_1H.read_text().splitlines()[: 1 + 24 * 21 + 1]  # January 2020: no DVOL yet
    prices = tmp_path / "eth2020.csv"
    prices.write_text("\n".join(lines) + "\n")
    code, out = _run(prices, "--strategy", "delta_band", "--dvol", str(DVOL), "--json")
    assert code == 2 and out.startswith("error: --dvol: covers none of the 3 7d windows"), out
    assert "nan" not in out


def test_options_strategy_without_dvol_says_what_to_give(weeks_2022: Path) -> None:
    code, out = _run(weeks_2022, "--strategy", "options_overlay")
    assert code == 2 and "--dvol" in out


def test_table_shows_the_premium(weeks_2022: Path) -> None:
    code, out = _run(weeks_2022, "--strategy", "options_overlay", "--dvol", str(DVOL))
    assert code == 0, out
    assert "option premium" in out and "option PnL" in out


def _pricing() -> OptionPricing:
    return OptionPricing(load_dvol(DVOL)["ETH"], skew=0.0, half_spread=0.05)


def test_book_buys_at_mid_pays_spread_and_fee_and_settles_at_intrinsic() -> None:
    pricing = _pricing()
    now = JAN3_2022 + 3_600_000
    book = OptionBook.open(pricing, "ETH", now, 3800.0)
    expiry = JAN3_2022 + 8 * 3_600_000 + 2 * DAY  # 2022-01-05 08:00 UTC
    sym = "ETH/USD:ETH-220105-3800-C"
    inst = book.chain[sym]
    assert inst.expiry_ms == expiry and inst.strike == Decimal(3800) and inst.min_amount == 1
    vol = pricing.implied_vol(now)
    mid = b76(3800.0, 3800.0, (expiry - now) / (365 * DAY), vol, True)
    book.trade([HedgeTarget("ETH", sym, Decimal(2), "test")], now, 3800.0)
    assert book.cash == pytest.approx(-2 * mid)
    assert book.premium == pytest.approx(2 * mid)
    assert book.cost == pytest.approx(2 * (0.05 * mid + min(0.0003 * 3800.0, 0.125 * mid)))
    book.settle(expiry - 1, 3900.0)
    assert sym in book.held  # not expired yet
    book.settle(expiry, 3900.0)
    assert book.held == {} and book.cash == pytest.approx(-2 * mid + 2 * 100.0)


def test_book_refuses_an_unlisted_option_and_dvol_gaps_name_the_file() -> None:
    book = OptionBook.open(_pricing(), "ETH", JAN3_2022, 3800.0)
    with pytest.raises(InputError, match="not listed"):
        book.trade([HedgeTarget("ETH", "ETH/USD:ETH-220105-99999-C", Decimal(1), "x")], 0, 1.0)
    empty = OptionPricing(DvolSeries("ETH", (0,), (0.8,)))
    with pytest.raises(InputError, match="DVOL ETH: no daily close"):
        empty.implied_vol(JAN3_2022)
    with pytest.raises(InputError, match="strike_step"):
        OptionPricing(empty.dvol, strike_step=0)
