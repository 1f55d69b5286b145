"""`lphedge report` end to end on a real SQLite ledger: terminal, JSON, CSV, filters, errors."""

from __future__ import annotations

import csv
import json
from decimal import Decimal as D
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from bot.commands.report import parse_time, register
from bot.errors import InputError
from bot.ledger.store import Ledger
from bot.report import build
from tests.report.ledger_data import ms, small_ledger


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Ledger.open(url) as ledger:
        for e in small_ledger().rows:
            ledger.append(e.kind, e.payload, ts_ms=e.ts_ms, run_id=e.run_id)
    return url


def run(*args: str) -> typer.testing.Result:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        """A local app: the real one lives in bot/cli.py."""

    return CliRunner().invoke(app, ["report", *args])


def test_real_ledger_gives_the_hand_computed_totals(db: str) -> None:
    with Ledger.open(db, create=False) as ledger:
        total = build(ledger).attribution.total
    assert (total.net, total.lp_pnl, total.hedge_pnl) == (D("-106.66"), D("-101.2"), D("-3.5"))
    assert total.component_sum == total.net


def test_json_is_one_object_with_exact_totals(db: str) -> None:
    result = run("--db", db, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert set(out) == {
        "window",
        "total",
        "days",
        "decisions",
        "orders",
        "fills",
        "deltas",
        "halts",
        "warnings",
    }
    t = out["total"]
    assert t["net"] == "-106.66" and t["lp_fees"] == "9" and t["slippage"] == "3"
    parts = D(t["lp_pnl"]) + D(t["hedge_pnl"]) + D(t["funding"]) - D(t["trading_fees"])
    assert parts == D(t["net"])
    assert [d["day"] for d in out["days"]] == ["2024-01-01", "2024-01-02"]
    assert out["orders"][1] | {"time": None} == {
        "time": None,
        "client_id": "c2",
        "symbol": "ETH/USDT:USDT",
        "side": "buy",
        "amount": "5",
        "amount_base": "0.5",
        "decision_price": "2100",
        "status": "filled",
        "filled": "5",
        "average_price": "2102",
        "reason": "rebalance to band",
    }
    assert out["fills"][0]["qty_base"] == "-1" and out["fills"][1]["fee_usd"] == "0.21"
    assert out["deltas"][1]["net_delta"] == "-0.099"
    assert out["halts"][0]["reason"] == "price divergence 200 bps"


def test_csv_one_file_per_table(db: str, tmp_path: Path) -> None:
    out_dir = tmp_path / "csv"
    result = run("--db", db, "--csv", str(out_dir))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out_dir.iterdir())
    assert names == [
        "days.csv",
        "decisions.csv",
        "deltas.csv",
        "fills.csv",
        "halts.csv",
        "orders.csv",
        "total.csv",
    ]
    with (out_dir / "days.csv").open() as fh:
        days = list(csv.DictReader(fh))
    assert [r["net"] for r in days] == ["-3.4", "-103.26"]
    assert days[1]["hedge_unrealised"] == "150.5" and days[1]["funding_payments"] == "1"
    with (out_dir / "total.csv").open() as fh:
        total = {r["key"]: r["usd"] for r in csv.DictReader(fh)}
    assert total["net"] == "-106.66" and total["trading_fees"] == "0.71"
    assert "Net PnL" in result.stdout  # the terminal tables are printed too


def test_since_and_until_filter_days_and_tables(db: str) -> None:
    out = json.loads(run("--db", db, "--json", "--since", "2024-01-02").stdout)
    assert [d["day"] for d in out["days"]] == ["2024-01-02"]
    assert out["total"]["net"] == "-103.26"  # hedge entry before the window still counts
    assert [o["client_id"] for o in out["orders"]] == ["c2"]
    until = str(ms("2024-01-02T00:00:00"))
    out = json.loads(run("--db", db, "--json", "--until", until).stdout)
    assert out["total"]["net"] == "-3.4" and len(out["decisions"]) == 2 and out["halts"] == []


def test_terminal_shows_totals_and_tables(db: str) -> None:
    result = run("--db", db)
    assert result.exit_code == 0, result.output
    for text in ("PnL attribution, total", "-106.66", "Decisions", "Orders", "Fills", "Halts"):
        assert text in result.stdout


def test_bad_input_exits_2_with_the_fix(db: str, tmp_path: Path) -> None:
    bad = run("--db", db, "--since", "yesterday")
    assert bad.exit_code == 2 and "ISO date/time" in bad.output
    swapped = run("--db", db, "--since", "2024-01-02", "--until", "2024-01-01")
    assert swapped.exit_code == 2 and "swap" in swapped.output
    missing = run("--db", str(tmp_path / "nope.db"))
    assert missing.exit_code == 2 and "no ledger at" in " ".join(missing.output.split())
    assert not (tmp_path / "nope.db").exists()


def test_config_ledger_url_is_used(db: str, tmp_path: Path) -> None:
    cfg = tmp_path / "lphedge.toml"
    cfg.write_text(f'[ledger]\nurl = "{db}"\n')
    result = run("--config", str(cfg), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"]["net"] == "-106.66"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-02", ms("2024-01-02T00:00:00")),
        ("2024-01-02T08:00:00Z", ms("2024-01-02T08:00:00")),
        ("2024-01-02T10:00:00+02:00", ms("2024-01-02T08:00:00")),
        ("1704182400000", 1704182400000),
    ],
)
def test_parse_time(text: str, expected: int) -> None:
    assert parse_time(text, "--since") == expected


def test_parse_time_rejects_words() -> None:
    with pytest.raises(InputError, match="--until 'soon'"):
        parse_time("soon", "--until")


def test_html_flag_writes_one_file(db: str, tmp_path: Path) -> None:
    page = tmp_path / "out" / "report.html"
    result = run("--db", db, "--json", "--html", str(page))
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)  # stdout stays pure JSON; the file note goes to stderr
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and text.count("<svg") == 8
    assert 'id="total-net"' in text and "-106.66" in text
    assert list(page.parent.iterdir()) == [page]
