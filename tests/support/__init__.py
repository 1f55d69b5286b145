"""Shared test support: real parts only, no mocks.

- `tests.support.anvil`: `ChainWorld` (an anvil node with the standard Uniswap world
  deployed) and helpers for ground truth (static `decreaseLiquidity`/`collect`, v2 burn).
- `tests.support.fixtures`: pytest fixtures. Import them in a conftest:
  `from tests.support.fixtures import uniswap_world, chain_world  # noqa: F401`
  `chain_world` gives each test the deployed world and reverts the chain afterwards.
- `tests.support.emulator`: the venue HTTP emulator (another engineer's).

The reusable process and deployment code lives in `bot.devchain` (the demo uses it too).
"""
