"""Hedge strategies: pure functions of a `StrategyContext` to per-asset hedge targets."""
