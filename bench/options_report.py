"""Options overlay vs perps alone on real ETH 1h + DVOL: `python -m bench.options_report`."""

from __future__ import annotations

from bot.options.backtest import main

if __name__ == "__main__":
    main()
