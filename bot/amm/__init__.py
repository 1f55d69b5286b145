"""Exact integer ports of the Uniswap v3 libraries, the v2 LP share, and float greeks.

One module per Solidity library, named as the contracts name it; every integer
function matches the contract to the unit (see tests/unit/test_amm_*.py).
"""
