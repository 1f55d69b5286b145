"""`[[chains]]` beside `[chain]`: what loads, and every conflict refused naming its field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import wiring
from bot.config import Settings, load_settings
from bot.errors import ConfigError

NPM_BASE = "0x03a520b32C04BF3bEEf7BEb72E919cf822Ed34f1"
WETH_BASE = "0x4200000000000000000000000000000000000006"
OWNER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"

MAIN = """
[chain]
chain_id = 1
rpc_urls = ["http://127.0.0.1:1/main"]
token_ids = [1]
"""


def entry(name: str, chain_id: object, extra: str = "") -> str:
    return (
        f'\n[[chains]]\nname = "{name}"\nchain_id = {chain_id}\n'
        f'rpc_urls = ["http://127.0.0.1:1/{name}"]\nowners = ["{OWNER}"]\n{extra}'
    )


def load(tmp_path: Path, text: str) -> Settings:
    path = tmp_path / "lphedge.toml"
    path.write_text(text)
    return load_settings(path)


def test_chain_and_chains_make_one_list_of_named_chains(tmp_path: Path) -> None:
    extra = f'position_managers = {{ uniswap_v3 = "{NPM_BASE}" }}\n'
    extra += f'assets = {{ "{WETH_BASE}" = "ETH" }}\n'
    s = load(tmp_path, MAIN + entry("arbitrum", 42161) + entry("base", 8453, extra))
    source = wiring.position_source(s)
    assert source.names == ("main", "arbitrum", "base")
    (base,) = [r for r in source.readers if r.config.name == "base"]
    assert base.config.position_manager == NPM_BASE and base.config.chain_id == 8453
    assert wiring.asset_map(s).by_address[WETH_BASE.lower()] == "ETH"


def test_chains_alone_need_no_chain_section(tmp_path: Path) -> None:
    s = load(tmp_path, entry("arbitrum", 42161) + entry("base", 8453))
    assert wiring.position_source(s).names == ("arbitrum", "base")


def test_one_chain_section_still_gives_the_plain_reader(tmp_path: Path) -> None:
    s = load(tmp_path, MAIN)
    reader = wiring.position_source(s)
    assert reader.config.name == "main" and hasattr(reader, "rpc")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MAIN + entry("base", 8453) + entry("op", 8453), r"chains\[1\]\.chain_id: 8453 is also "),
        (MAIN + entry("main", 10), r"chains\[0\]\.name: 'main' is already the name of chain"),
        (MAIN + entry("eth", 1), r"chains\[0\]\.chain_id: 1 is also chain\.chain_id"),
        (
            MAIN.replace("chain_id = 1\n", "") + entry("base", 8453),
            r"chain\.chain_id: must be set when \[\[chains\]\] lists more chains",
        ),
        (MAIN + entry("base", "0"), r"chains\[0\]\.chain_id: Input should be greater"),
        (
            MAIN + entry("base", 8453).replace("chain_id = 8453\n", ""),
            r"chains\[0\]\.chain_id: required",
        ),
        (MAIN + entry("Base Chain", 8453), r"chains\[0\]\.name: must be 1-32 of a-z"),
        (
            MAIN + entry("base", 8453, f'position_managers = {{ pancake_v3 = "{NPM_BASE}" }}\n'),
            r"chains\[0\]\.position_managers: pancake_v3: not a protocol read yet",
        ),
        (
            MAIN
            + entry(
                "base",
                8453,
                f'position_manager = "{OWNER}"\n'
                f'position_managers = {{ uniswap_v3 = "{NPM_BASE}" }}\n',
            ),
            r"chains\[0\]\.position_managers\.uniswap_v3: differs from chains\[0\]\.position_",
        ),
        (MAIN + entry("base", 8453, "rpc_timeout = 3\n"), r"chains\[0\]\.rpc_timeout: Extra"),
    ],
)
def test_conflicts_name_the_field(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load(tmp_path, text)


def test_one_address_two_assets_is_refused(tmp_path: Path) -> None:
    extra = f'assets = {{ "{WETH_BASE}" = "ETH" }}\n'
    other = f'assets = {{ "{WETH_BASE}" = "OP" }}\n'
    s = load(tmp_path, MAIN + entry("base", 8453, extra) + entry("op", 10, other))
    with pytest.raises(ConfigError, match=r"chains\[1\]\.assets\.0x4200.*'OP' here, 'ETH'"):
        wiring.asset_map(s)


def test_a_chain_without_positions_is_refused_to_run(tmp_path: Path) -> None:
    text = entry("base", 8453).replace(f'owners = ["{OWNER}"]\n', "")
    s = load(tmp_path, text)
    with pytest.raises(ConfigError, match=r"chains\[0\]\.token_ids, chains\[0\]\.owners"):
        wiring.require_positions(s)
