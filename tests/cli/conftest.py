from tests.support.fixtures import chain_world, uniswap_world  # noqa: F401
