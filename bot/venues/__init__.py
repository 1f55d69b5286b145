"""Venue adapters: `CcxtVenue` (real exchanges via ccxt) and `PaperVenue` (simulated fills).

Both implement `bot.ports.Venue`; `bot.wiring` chooses one. Market data for paper and
backtests comes from `CcxtMarketData` (public endpoints) or `ReplayMarketData` (offline).
"""
