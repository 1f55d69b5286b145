"""`lphedge run --once` and `plan` exit with a code that says how the tick went.

Real parts: an anvil node with Uniswap v3 deployed, the real `lphedge` entry point in a
subprocess, and offline paper mode (`venue.paper_market = "replay"`) over the real Binance
ETHUSDT hourly closes in shared/data. 0 hedged, 2 a config that cannot work, 3 the chain or
venue unavailable, 4 halted by a guard; one line on stderr says why.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.demo import data_dir
from bot.devchain.anvil import rpc
from bot.errors import InputError
from bot.ledger.store import Ledger
from tests.support.anvil import ChainWorld
from tests.support.webhook import webhook_sink

ETH_1H = data_dir() / "market/binance_perp_1h/ETHUSDT_1h.csv"
FUNDING = data_dir() / "market/binance_perp_funding_8h/ETH_USDT_USDT-8h-funding_rate.csv"
AT_3000 = "2021-08-12T22:00:00Z"  # ETHUSDT closed at 3000.26: the dev pool's price
AT_1500 = "2021-07-20T00:00:00Z"  # ~1,800: 40 % from the pool, the price-divergence guard


def config(tmp_path: Path, w: ChainWorld, **over: str) -> Path:
    values = {
        "chain_id": "31337",
        "rpc": f'"{w.url}"',
        "npm": f'"{w.world.position_manager}"',
        "start": f'"{AT_3000}"',
        "ledger": f'"sqlite:///{tmp_path / "ledger.db"}"',
        "outage": "300",
        "ops": "",
        **over,
    }
    text = f"""
mode = "paper"
[chain]
chain_id = {values["chain_id"]}
rpc_urls = [{values["rpc"]}]
position_manager = {values["npm"]}
token_ids = [1, 2, 3]
poll_seconds = 0.5
max_tick_seconds = 1
max_outage_s = {values["outage"]}
[venue]
paper_market = "replay"
symbols = {{ ETH = "ETH/USDT:USDT" }}
[venue.replay]
prices = {{ "ETH/USDT:USDT" = "{ETH_1H}" }}
funding = {{ "ETH/USDT:USDT" = "{FUNDING}" }}
start = {values["start"]}
speed = 60
[ledger]
url = {values["ledger"]}
[ops]
notice_every_s = 10
{values["ops"]}
"""
    path = tmp_path / "lphedge.toml"
    path.write_text(text)
    return path


def lphedge(*args: str | Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "100"},
        check=False,
    )


def one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def run_for(cfg: Path, seconds: float) -> tuple[int, str]:
    """A continuous `lphedge run` stopped with Ctrl-C after `seconds`: exit code and stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "-c", str(cfg)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(seconds)
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
    return proc.returncode, err


@pytest.fixture
def fresh(chain_world: ChainWorld) -> ChainWorld:
    rpc(chain_world.url, "evm_mine")  # a block from now: the block-age guard is satisfied
    return chain_world


def test_offline_paper_run_hedges_and_exits_0(fresh: ChainWorld, tmp_path: Path) -> None:
    cfg = config(tmp_path, fresh)
    planned = lphedge("plan", "-c", cfg)
    assert planned.returncode == 0, planned.stderr
    assert "sell" in planned.stdout
    ran = lphedge("run", "--once", "-c", cfg)
    assert ran.returncode == 0, ran.stderr
    assert ran.stderr == ""
    with Ledger.open(str(tmp_path / "ledger.db"), create=False) as ledger:
        kinds = [e.kind for e in ledger.events()]
    assert "order_intent" in kinds and "fill" in kinds


@pytest.mark.parametrize(
    ("over", "code", "says"),
    [
        ({"chain_id": "1"}, (2,), "chain.chain_id: expected 1, got 31337"),
        ({"rpc": '"http://127.0.0.1:9"'}, (3,), "no RPC endpoint answered"),
        ({"npm": '"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"'}, (2,), "chain.position_manager"),
        ({"start": f'"{AT_1500}"'}, (4,), "halted: "),
    ],
    ids=["wrong chain id", "rpc down", "EOA as position manager", "guard halt"],
)
@pytest.mark.parametrize("command", [("plan",), ("run", "--once")], ids=" ".join)
def test_a_failed_or_halted_tick_is_not_success(
    fresh: ChainWorld,
    tmp_path: Path,
    command: tuple[str, ...],
    over: dict[str, str],
    code: tuple[int, ...],
    says: str,
) -> None:
    done = lphedge(*command, "-c", config(tmp_path, fresh, **over))
    assert done.returncode in code, (done.returncode, done.stderr)
    line = one_line(done.stderr)
    assert says in line
    assert fresh.url not in line  # RPC URLs can hold keys: never printed


def test_a_running_bot_says_it_is_halted_once_not_every_tick(
    fresh: ChainWorld, tmp_path: Path
) -> None:
    cfg = config(tmp_path, fresh, start=f'"{AT_1500}"')
    code, err = run_for(cfg, 6)  # ~6 ticks, all halted by the price guard
    assert code == 0, err  # stopped by the operator: a clean stop
    halted = [ln for ln in err.splitlines() if "halted" in ln]
    assert len(halted) == 1, err
    assert "price divergence" in halted[0] and "unhedged ETH 61.9" in halted[0], halted
    with Ledger.open(str(tmp_path / "ledger.db"), create=False) as ledger:
        assert len(ledger.events(["halt"])) >= 3  # the ledger still records every one


def test_a_running_bot_stops_with_2_on_a_config_that_cannot_work(
    fresh: ChainWorld, tmp_path: Path
) -> None:
    with webhook_sink() as hook:
        ops = f'webhook_url = "{hook.url}"'
        done = lphedge("run", "-c", config(tmp_path, fresh, chain_id="1", ops=ops), timeout=60)
    assert done.returncode == 2
    assert "chain.chain_id: expected 1, got 31337" in done.stderr.splitlines()[-1]
    [alert] = hook.texts()  # the alert channel hears it too, once
    assert alert.startswith("lphedge: tick failed: chain.chain_id: expected 1, got 31337"), alert


def test_a_second_bot_refused_the_writer_lock_writes_nothing(
    fresh: ChainWorld, tmp_path: Path
) -> None:
    cfg = config(tmp_path, fresh)
    first = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "-c", str(cfg)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        db = tmp_path / "ledger.db"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the first bot is up once it has ticked
            try:
                with Ledger.open(str(db), create=False) as ledger:
                    if ledger.events(["tick"]):
                        break
            except InputError:  # the file is there a moment before its tables
                pass
            time.sleep(0.3)
        with Ledger.open(str(db), create=False) as ledger:
            before = len(ledger.events(["run_started"]))
        second = lphedge("run", "--once", "-c", cfg)
        assert second.returncode == 4, second.stderr
        assert "writer" in one_line(second.stderr)
        with Ledger.open(str(db), create=False) as ledger:
            assert len(ledger.events(["run_started"])) == before == 1
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=30)


def test_a_chain_unreadable_past_max_outage_halts_until_resumed(
    fresh: ChainWorld, tmp_path: Path
) -> None:
    with webhook_sink() as hook:
        ops = f'webhook_url = "{hook.url}"'
        cfg = config(tmp_path, fresh, rpc='"http://127.0.0.1:9"', outage="2", ops=ops)
        _code, err = run_for(cfg, 7)
    texts = hook.texts()
    assert texts[0].startswith("lphedge: tick failed: no RPC endpoint answered"), texts
    assert sum("halted until `lphedge resume`: chain unreadable" in t for t in texts) == 1, texts
    assert "tick failed: no RPC endpoint answered" in err  # said at once...
    told = [ln for ln in err.splitlines() if "halted until `lphedge resume`" in ln]
    assert len(told) == 1 and "chain.max_outage_s 2" in told[0], err  # ...and the halt once
    with Ledger.open(str(tmp_path / "ledger.db"), create=False) as ledger:
        halts = [e.payload for e in ledger.events(["halt"])]
    assert [h["source"] for h in halts] == ["chain"]
    status = lphedge("status", "--db", f"sqlite:///{tmp_path / 'ledger.db'}")
    assert "chain unreadable" in status.stdout


def test_a_run_signs_a_checkpoint_that_verify_holds_the_ledger_against(
    fresh: ChainWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "k" * 40
    monkeypatch.setenv("LPHEDGE_LEDGER__CHECKPOINT_KEY", key)
    monkeypatch.setenv("LPHEDGE_LEDGER__CHECKPOINT_FILE", str(tmp_path / "anchors.jsonl"))
    ran = lphedge("run", "--once", "-c", config(tmp_path, fresh))
    assert ran.returncode == 0, ran.stderr
    assert key not in ran.stderr + ran.stdout
    lines = (tmp_path / "anchors.jsonl").read_text().splitlines()
    assert lines and key not in lines[-1]
    db = str(tmp_path / "ledger.db")
    verified = lphedge("ledger", "verify", "--db", db, "--checkpoint", tmp_path / "anchors.jsonl")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "checkpoint" in verified.stdout
