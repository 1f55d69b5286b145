"""Options as a hedge instrument: Black-76 pricing, option chains, backtest."""
