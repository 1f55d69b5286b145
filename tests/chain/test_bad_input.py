"""Bad input gives one clear line naming the item; other positions are still read."""

from __future__ import annotations

import pytest

from bot.chain.reader import ChainReader, ChainReaderConfig
from bot.devchain.anvil import free_port
from bot.errors import ChainUnavailable, ConfigError, InputError
from tests.chain.test_v3_positions import config, read
from tests.support.anvil import ACCOUNTS, ChainWorld

pytestmark = pytest.mark.chain


@pytest.mark.parametrize("bad_id", ["burned", 999_999])
async def test_unknown_or_burned_token_id_is_reported_and_others_read(
    chain_world: ChainWorld, bad_id: object
) -> None:
    token_id = chain_world.burned_token_id if bad_id == "burned" else int(str(bad_id))
    snap = await read(chain_world, token_ids=(1, token_id, 5))
    assert [p.position_id for p in snap.positions] == ["1", "5"]
    (error,) = snap.errors
    assert error.item == f"position {token_id}"
    assert "not found at position manager" in error.message
    assert "\n" not in error.message


@pytest.mark.parametrize("what", ["eoa", "token"])
async def test_wrong_position_manager_names_the_address(chain_world: ChainWorld, what: str) -> None:
    address = ACCOUNTS[2] if what == "eoa" else chain_world.world.tokens["USDC"]
    with pytest.raises(ConfigError) as caught:
        await read(chain_world, position_manager=address)
    message = str(caught.value)
    assert message.startswith(f"chain.position_manager {address} on chain 31337 ")
    assert "not a NonfungiblePositionManager" in message
    why = "no contract code there" if what == "eoa" else "factory() reverted"
    assert why in message and "\n" not in message


async def test_unreachable_rpc_names_the_url_without_secrets() -> None:
    url = f"http://127.0.0.1:{free_port()}/v3/SECRETKEY123"
    cfg = ChainReaderConfig((url,), 1, ACCOUNTS[0], token_ids=(1,), timeout_s=2.0)
    async with ChainReader(cfg) as reader:
        with pytest.raises(ChainUnavailable) as caught:
            await reader.read()
    message = str(caught.value)
    assert "127.0.0.1" in message and "SECRETKEY123" not in message


async def test_failover_to_the_next_url(chain_world: ChainWorld) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    snap = await read(chain_world, rpc_urls=(dead, chain_world.url), token_ids=(1,))
    assert [p.position_id for p in snap.positions] == ["1"]


def test_malformed_addresses_are_input_errors(chain_world: ChainWorld) -> None:
    with pytest.raises(InputError, match=r"^chain\.multicall: '0x1234' is not an 0x address"):
        ChainReader(config(chain_world, multicall_address="0x1234"))
