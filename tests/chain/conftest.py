from tests.chain.two_chains import other_v4, other_world, two_chains  # noqa: F401
from tests.support.fixtures import chain_world, uniswap_world  # noqa: F401
from tests.support.pancake import pancake_session, pancake_world  # noqa: F401
from tests.support.pancake_farm import farm_session, farm_world  # noqa: F401
from tests.support.v4 import v4_session, v4_world  # noqa: F401
