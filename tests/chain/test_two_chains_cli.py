"""`lphedge positions` over two chains, as an operator runs it: one book, each position
named by chain and protocol, the existing JSON fields kept."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.chain.test_positions_cli import LPHEDGE
from tests.chain.two_chains import OTHER_CHAIN_ID, TwoChains
from tests.support.anvil import ACCOUNTS

pytestmark = [pytest.mark.chain, pytest.mark.slow]


def run(tc: TwoChains, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "lphedge.toml"
    cfg.write_text(
        f"""
[chain]
chain_id = 31337
rpc_urls = ["{tc.a.url}"]
position_manager = "{tc.a.world.position_manager}"
token_ids = [1, 9]

[[chains]]
name = "base"
chain_id = {OTHER_CHAIN_ID}
rpc_urls = ["{tc.b.url}"]
position_managers = {{ uniswap_v3 = "{tc.b.world.position_manager}" }}
owners = ["{ACCOUNTS[1]}"]
"""
    )
    done = subprocess.run(
        [LPHEDGE, "positions", "--config", str(cfg), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert "Traceback" not in done.stderr and "Unclosed" not in done.stderr, done.stderr
    return done


def test_json_names_chain_protocol_and_staking(two_chains: TwoChains, tmp_path: Path) -> None:
    done = run(two_chains, tmp_path, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    rows = out["positions"]
    base_ids = {str(p.token_id) for p in two_chains.b.world.positions if p.owner == ACCOUNTS[1]}
    assert [(r["chain"], r["token_id"]) for r in rows] == [("main", "1"), ("main", "9")] + [
        ("base", i) for i in sorted(base_ids, key=int)
    ]
    assert {(r["protocol"], r["staked_in"], r["kind"]) for r in rows} == {
        ("uniswap_v3", None, "v3")
    }
    assert {"amount0_raw", "fees1_raw", "value_usd", "delta", "token0"} <= set(rows[0])
    assert [(c["name"], c["chain_id"], c["error"]) for c in out["chains"]] == [
        ("main", 31337, None),
        ("base", OTHER_CHAIN_ID, None),
    ]
    eth = out["exposure"]["ETH"]
    assert eth["held_by_positions"] == len(rows)  # every position holds or is based on ETH


def test_table_shows_the_chain_of_each_position(two_chains: TwoChains, tmp_path: Path) -> None:
    done = run(two_chains, tmp_path)
    assert done.returncode == 0, done.stderr
    assert "LP positions on main (31337) block" in done.stdout
    assert f"base ({OTHER_CHAIN_ID}) block" in done.stdout
    lines = [line for line in done.stdout.splitlines() if "uniswap_v3" in line]
    assert (
        sum(" base " in line for line in lines) == 8
        and sum(" main " in line for line in lines) == 2
    )


def test_block_is_refused_across_chains(two_chains: TwoChains, tmp_path: Path) -> None:
    done = run(two_chains, tmp_path, "--block", "5")
    assert done.returncode == 2
    assert "block numbers are per chain" in done.stderr
