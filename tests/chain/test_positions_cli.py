"""`lphedge positions` as an operator runs it, in a subprocess against anvil: the exit
code and the message are the truth, and no "Unclosed client session" on any way out."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chain.test_multicall_fallback import remove_multicall
from tests.support.anvil import ACCOUNTS, ChainWorld

pytestmark = [pytest.mark.chain, pytest.mark.slow]

LPHEDGE = str(Path(sys.executable).parent / "lphedge")


@pytest.fixture(scope="module")
def hung_url() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/v3/SECRETKEY123"


def positions(
    cw: ChainWorld, tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "empty.toml"  # nothing from a config/lphedge.toml lying around
    cfg.write_text("")
    argv = [LPHEDGE, "positions", "--config", str(cfg), "--chain-id", "31337", "--json"]
    if "--rpc-url" not in args:
        argv += ["--rpc-url", cw.url]
    if "--position-manager" not in args:
        argv += ["--position-manager", cw.world.position_manager]
    argv += [*args, "--token-id", "1", "--token-id", "2"]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )
    assert "Unclosed" not in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_a_read_prints_the_positions(chain_world: ChainWorld, tmp_path: Path) -> None:
    done = positions(chain_world, tmp_path)
    assert done.returncode == 0, done.stderr
    assert [p["token_id"] for p in json.loads(done.stdout)["positions"]] == ["1", "2"]
    assert done.stderr == ""


def test_without_multicall_one_warning_line(chain_world: ChainWorld, tmp_path: Path) -> None:
    expected = json.loads(positions(chain_world, tmp_path).stdout)
    remove_multicall(chain_world)
    done = positions(chain_world, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == expected
    (line,) = done.stderr.splitlines()
    assert "Multicall3 is missing at 0xcA11bde05977b3631167028862bE2a173976CA11" in line


def test_an_eoa_as_position_manager_exits_2(chain_world: ChainWorld, tmp_path: Path) -> None:
    done = positions(chain_world, tmp_path, "--position-manager", ACCOUNTS[2])
    assert done.returncode == 2
    assert f"chain.position_manager {ACCOUNTS[2]} on chain 31337" in done.stderr


def test_the_wrong_chain_exits_2(chain_world: ChainWorld, tmp_path: Path) -> None:
    done = positions(chain_world, tmp_path, "--chain-id", "1")
    assert done.returncode == 2
    assert "chain.chain_id: expected 1, got 31337" in done.stderr


def test_a_hung_rpc_exits_3_after_the_configured_timeout(
    chain_world: ChainWorld, tmp_path: Path, hung_url: str
) -> None:
    env = {"LPHEDGE_CHAIN__RPC_TIMEOUT_S": "1"}
    done = positions(chain_world, tmp_path, "--rpc-url", hung_url, env=env)
    assert done.returncode == 3
    assert "timed out after 1s" in done.stderr and "SECRETKEY123" not in done.stderr
