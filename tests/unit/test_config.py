"""Config: TOML + env + flags, field paths in errors, secrets never printed."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import secrets
from bot.cli import app
from bot.config import load_settings
from bot.errors import ConfigError

TOML = """
mode = "paper"
[chain]
chain_id = 1
rpc_urls = ["https://eth.example/v3/SECRETKEY123"]
token_ids = [1, 2]
[strategy]
name = "delta_band"
params = { band_abs = 0.5 }
[risk]
max_orders_per_hour = 10
"""


@pytest.fixture
def toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    p = tmp_path / "c.toml"
    p.write_text(TOML)
    return p


def test_env_overrides_file_with_double_underscore_nesting(
    toml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LPHEDGE_RISK__MAX_ORDERS_PER_HOUR", "7")
    monkeypatch.setenv("LPHEDGE_VENUE__API_KEY", "k-from-env")
    s = load_settings(toml)
    assert s.risk.max_orders_per_hour == 7 and s.chain.token_ids == [1, 2]
    assert s.venue.api_key is not None and s.venue.api_key.get_secret_value() == "k-from-env"
    assert "k-from-env" not in repr(s) and "SECRETKEY123" not in repr(s)


def test_flags_override_env_and_file(toml: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LPHEDGE_CHAIN__CHAIN_ID", "10")
    s = load_settings(toml, {"chain": {"chain_id": 8453, "token_ids": None}})
    assert s.chain.chain_id == 8453 and s.chain.token_ids == [1, 2]


def test_dotenv_is_read(toml: Path, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LPHEDGE_ACCOUNT=desk-7\n")
    assert load_settings(toml).account == "desk-7"


def test_invalid_values_name_the_field_path(toml: Path) -> None:
    with pytest.raises(ConfigError) as e:
        load_settings(toml, {"chain": {"owners": ["0x123"]}, "risk": {"max_orders_per_hour": 0}})
    msg = str(e.value)
    assert "chain.owners" in msg and "item 0" in msg and "risk.max_orders_per_hour" in msg


def test_unknown_key_is_an_error_naming_it(tmp_path: Path) -> None:
    p = tmp_path / "bad.toml"
    p.write_text("[risk]\nmax_order_notional = 5\n")
    with pytest.raises(ConfigError, match=r"risk\.max_order_notional"):
        load_settings(p)


def test_rpc_url_secret_is_registered_for_redaction(toml: Path) -> None:
    load_settings(toml)
    assert "SECRETKEY123" not in secrets.redact("failed: https://eth.example/v3/SECRETKEY123")


def test_cli_exits_2_with_the_field_path(toml: Path) -> None:
    result = CliRunner().invoke(
        app, ["positions", "--config", str(toml), "--owner", "nonsense", "--rpc-url", "http://x"]
    )
    assert result.exit_code == 2
    assert "chain.owners" in result.output and "nonsense" in result.output


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml not found"):
        load_settings(tmp_path / "nope.toml")


def test_log_level_is_a_choice_naming_the_field(toml: Path) -> None:
    assert load_settings(toml, {"ops": {"log_level": "debug"}}).ops.log_level == "DEBUG"
    with pytest.raises(ConfigError) as e:
        load_settings(toml, {"ops": {"log_level": "LOUD"}})
    assert str(e.value) == (
        "invalid config: ops.log_level: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL,"
        " got 'LOUD'"
    )


def test_numbers_refuse_negatives_booleans_and_infinity(
    toml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LPHEDGE_VENUE__PAPER_BALANCE_USD", "-100000")
    with pytest.raises(ConfigError, match=r"venue\.paper_balance_usd: .*greater than 0, got"):
        load_settings(toml)
    monkeypatch.delenv("LPHEDGE_VENUE__PAPER_BALANCE_USD")
    for over, field in (
        ({"risk": {"max_orders_per_hour": True}}, "risk.max_orders_per_hour: expected a number"),
        ({"chain": {"poll_seconds": float("inf")}}, "chain.poll_seconds: Input should be finite"),
        ({"chain": {"token_ids": [1, False]}}, "chain.token_ids: expected a number"),
        ({"ops": {"metrics_port": 70000}}, "ops.metrics_port: Input should be less than"),
        ({"chain": {"chain_id": 0}}, "chain.chain_id: Input should be greater than or equal to 1"),
    ):
        with pytest.raises(ConfigError) as e:
            load_settings(toml, over)
        assert field.replace("finite", "a finite number") in str(e.value), str(e.value)


def test_an_environment_value_that_is_not_json_is_one_line(
    toml: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LPHEDGE_CHAIN__TOKEN_IDS", "[1")
    with pytest.raises(ConfigError, match=r"field \"chain\".*LPHEDGE_\* values .* are JSON$"):
        load_settings(toml)


def test_run_and_plan_refuse_a_chain_with_nothing_to_read(tmp_path: Path) -> None:
    db = tmp_path / "l.db"
    cases = {
        "chain.rpc_urls: no RPC URL configured": "[chain]\ntoken_ids = [1]\n",
        "chain.token_ids, chain.owners, chain.v2_pairs, chain.v4_token_ids: all empty": (
            '[chain]\nrpc_urls = ["http://127.0.0.1:9"]\n'
        ),
    }
    for line, text in cases.items():
        path = tmp_path / "c.toml"
        path.write_text(f'{text}[ledger]\nurl = "sqlite:///{db}"\n')
        for cmd in (["plan"], ["run", "--once"]):
            res = CliRunner().invoke(app, [*cmd, "--config", str(path)])
            assert res.exit_code == 2 and res.stderr.startswith(f"error: {line}"), res.output
            assert len(res.stderr.splitlines()) == 1 and "--rpc-url" not in res.stderr
    assert not db.exists()  # refused before the ledger was opened
