"""`make bench`: every benchmark, one after another, printing its figures."""

from __future__ import annotations

import importlib

BENCHES = (
    "bench.chain_read",
    "bench.backtest_speed",
    "bench.latency",
    "bench.api_latency",
    "bench.options_report",
)

for name in BENCHES:
    print(f"\n== {name} ==", flush=True)
    importlib.import_module(name).main()
