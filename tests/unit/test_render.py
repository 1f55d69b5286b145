"""Terminal tables laid out for the width, and numbers rounded for reading.

What a user relies on: no line wider than the terminal, one line per row, a number shown
whole or not at all, the least important columns gone first, and rounding that keeps the
sign, the step and the cents.
"""

from __future__ import annotations

import io
from decimal import Decimal as D

import pytest
from rich.console import Console

from bot.commands.render import Column, cut_words, fitted_table, layout, table_width
from bot.report import readable


def _render(table: object, width: int) -> list[str]:
    buf = io.StringIO()
    Console(file=buf, width=width, color_system=None).print(table)
    return buf.getvalue().splitlines()


def _body(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("│")]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("12345.678"), "12,345.68"),
        (D("-0.004"), "0.00"),
        (D("-1.005"), "-1.00"),  # half to even, as the ledger's Decimals round
        (1e-9, "0.00"),
    ],
)
def test_usd_is_to_the_cent(value: D | float, text: str) -> None:
    assert readable.usd(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("88.705909361006711233"), "88.706"),
        (D("-98.760"), "-98.760"),
        (D("-0.0004"), "0.000"),
        (D("1234.5"), "1,234.500"),
        ("5", "5.000"),
    ],
)
def test_quantities_sit_on_the_amount_step(value: D | str, text: str) -> None:
    assert readable.qty(value) == text


def test_quantities_take_another_step() -> None:
    assert readable.qty(D("3.14159"), D("0.01")) == "3.14"
    assert readable.qty(D("7.6"), D(1)) == "8"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (D("0.07628723522665366"), "0.07629"),
        (172.37464872451886, "172.4"),
        (D("123456.7"), "123,457"),
        (D("-0.000012346"), "-0.00001235"),
        (D(0), "0"),
    ],
)
def test_significant_digits_without_exponent(value: D | float, text: str) -> None:
    assert readable.sig(value, 4) == text


def test_prices_to_the_cent_or_to_five_digits() -> None:
    assert readable.price(D("3517.8")) == "3,517.80"
    assert readable.price(D("0.00108590")) == "0.0010859"
    assert readable.price(D("0.0505854321")) == "0.050585"


def test_tidy_cuts_long_decimals_and_leaves_ids() -> None:
    reason = "rebalance -39.620 -> -47.968196438145143593000000: outside band 1.25 +- 4.39"
    assert readable.tidy(reason) == "rebalance -39.620 -> -47.9682: outside band 1.25 +- 4.39"
    kept = "order 4f1c2a9be03d4c5f8e6a7b1c2d3e4f50 on ETH/USD:ETH-240329-3675-C, 0.1234567"
    assert readable.tidy(kept) == kept.replace("0.1234567", "0.123457")
    assert readable.tidy("two\nlines") == "two lines"


def test_compact_times_keep_seconds_only_where_some_have_them() -> None:
    hourly = ["2024-03-14T18:00:00Z", "2024-03-14T19:00:00Z"]
    assert readable.compact_times(hourly) == ["2024-03-14 18:00", "2024-03-14 19:00"]
    assert readable.compact_times(["2024-01-01T00:00:01Z", "2024-01-01T00:01:00Z"]) == [
        "2024-01-01 00:00:01",
        "2024-01-01 00:01:00",
    ]


def test_age_reads_in_the_largest_units() -> None:
    assert [readable.age(s) for s in (42.4, 310, 3 * 3600 + 300, 2 * 86400 + 4 * 3600)] == [
        "42s",
        "5m 10s",
        "3h 05m",
        "2d 04h",
    ]


def _orders(n: int = 3) -> list[Column]:
    """An orders-like table: the reason is free text, the symbol the same on every row."""
    prices = ["3,815.37", "13,869.58", "907.23"][:n]
    return [
        Column("time", [f"2024-03-14 1{i}:00" for i in range(n)]),
        Column("symbol", ["ETH/USDT:USDT"] * n, priority=1),
        Column("client id", [f"4f1c2a9be03d4c5f8e6a7b1c2d3e4f5{i}" for i in range(n)], priority=3),
        Column("side", ["sell", "buy", "sell"][:n]),
        Column("base", ["8.348", "-20.233", "0.500"][:n], justify="right"),
        Column("decided", prices, priority=2, justify="right"),
        Column("reason", ["rebalance -39.620 -> -47.968: outside band " * 2] * n, flex=True),
    ]


@pytest.mark.parametrize("width", [80, 120])
def test_a_table_fits_with_one_line_per_row_and_whole_numbers(width: int) -> None:
    lines = _render(fitted_table("Orders, newest 3 of 48", [_orders()], width), width)
    assert max(len(line) for line in lines) <= width
    assert len(_body(lines)) == 3
    text = "\n".join(lines)
    for number in ("8.348", "-20.233", "0.500"):  # priority 0: always there, never cut
        assert number in text
    if "decided" in text:
        assert all(p in text for p in ("3,815.37", "13,869.58", "907.23"))
    assert "…" in text  # only the reason was cut


def test_narrow_drops_the_constant_column_first_then_by_priority() -> None:
    chosen = layout([_orders()], 80)
    headers = [c.header for c in chosen.columns]
    assert headers == ["time", "side", "base", "decided", "reason"]
    assert chosen.dropped == ("symbol", "client id")  # constant first, though priority 1
    assert table_width(chosen.widths) <= 80
    wide = layout([_orders()], 200)
    assert [c.header for c in wide.columns] == [c.header for c in _orders()]
    assert wide.dropped == ()


def test_the_first_variant_that_fits_wins() -> None:
    full = _orders()
    compact = [full[0], full[3], full[4], full[6]]
    assert layout([full, compact], 200).columns == tuple(full)
    assert layout([full, compact], 80).columns == tuple(compact)


def test_free_text_keeps_its_minimum_width_before_anything_else() -> None:
    chosen = layout([_orders(1)], 60)
    widths = dict(zip((c.header for c in chosen.columns), chosen.widths, strict=True))
    assert widths["reason"] >= 16 and table_width(chosen.widths) <= 60
    assert chosen.dropped == ("client id", "decided", "symbol")


def test_a_title_longer_than_the_table_stays_on_one_line() -> None:
    title = "Option trades and settlements (usd: received +, paid -), newest 20 of 77"
    lines = _render(fitted_table(title, [[Column("n", ["1"])]], 80), 80)
    assert lines[0].strip() == title


def test_free_text_is_cut_after_a_whole_word() -> None:
    reason = "rebalance -39.620 -> -47.968196: outside band -47.968196 +- 4.39"
    assert cut_words(reason, 30) == "rebalance -39.620 -> …"
    assert cut_words(reason, 200) == reason
    assert cut_words("x" * 40, 10) == "x" * 9 + "…"  # one long word: cut where it must
