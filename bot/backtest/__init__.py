"""Replay recorded prices through the strategies and the planner with simulated fills."""
