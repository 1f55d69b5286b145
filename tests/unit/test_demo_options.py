"""`lphedge demo` refuses bad flags before anvil starts: exit 2, one line naming the flag."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import app


@pytest.fixture
def clean_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def one_line(text: str) -> bool:
    return len(text.strip().splitlines()) == 1 and "Traceback" not in text


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--range-pct", "-5"], "error: --range-pct -5: the LP range must be 0.5 to 90 %"),
        (["--strategy", "nope"], "error: --strategy 'nope': unknown strategy; choose one of"),
        (["--start", "yesterday"], "error: --start 'yesterday': give a day as YYYY-MM-DD"),
        (["--start", "2019-06-01"], "error: --start 2019-06-01: the hourly data starts 2020-01-01"),
        (["--start", "2024-04-10", "--hours", "400"], "error: --hours 400: only 196 hourly bars"),
        (["--hours", "1"], "error: --hours 1: at least 2 hourly bars"),
        (["--option-premium", "eth"], "error: --option-premium 'eth': use inverse or usd"),
    ],
)
def test_demo_flags_from_the_issue(clean_dir: Path, argv: list[str], line: str) -> None:
    res = CliRunner().invoke(app, ["demo", *argv, "--out", str(clean_dir / "out")])
    assert res.exit_code == 2 and res.stdout == "", res.output
    assert one_line(res.stderr) and res.stderr.startswith(line), res.stderr
    assert not (clean_dir / "out").exists()


def test_demo_out_must_be_a_folder(clean_dir: Path) -> None:
    (clean_dir / "f").write_text("x")
    res = CliRunner().invoke(app, ["demo", "--out", str(clean_dir / "f")])
    assert res.exit_code == 2 and res.stderr.startswith("error: --out ") and one_line(res.stderr)
