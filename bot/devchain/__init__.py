"""A local dev chain for tests, `make bench` and the offline demo.

`anvil` runs a node, `contracts` loads the real Uniswap artifacts and our small test
contracts, `deploy` puts a Uniswap v2/v3 world on it. Nothing here runs in production.
"""
