"""lphedge: hedge the impermanent loss of AMM liquidity positions."""

__version__ = "0.1.0"
