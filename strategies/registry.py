"""Strategy names -> classes: the built-ins written out by hand, plus plugins.

Third-party strategies register under the `lphedge.strategies` entry-point group
(`name = "pkg.module:ClassName"`), or are named by path: `path/to/file.py:ClassName` or
`pkg.module:ClassName` (see `strategies.loader`).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any

from bot.errors import InputError
from strategies.base import HedgeStrategy, parse_params
from strategies.delta_band import DeltaBand
from strategies.fixed_interval import FixedInterval
from strategies.fixed_threshold import FixedThreshold
from strategies.options_overlay import OptionsOverlay
from strategies.vol_band import VolBand

BUILTINS: dict[str, type[Any]] = {
    DeltaBand.name: DeltaBand,
    VolBand.name: VolBand,
    FixedInterval.name: FixedInterval,
    FixedThreshold.name: FixedThreshold,
    OptionsOverlay.name: OptionsOverlay,
}

ENTRY_POINT_GROUP = "lphedge.strategies"


def plugins() -> dict[str, str]:
    """Installed third-party strategies: name -> 'module:Class'."""
    return {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available() -> list[str]:
    return sorted({*BUILTINS, *plugins()})


def strategy_class(name: str, field: str = "strategy.name") -> type[Any]:
    """A built-in or entry-point name, or a `file.py:Class` / `pkg.mod:Class` path;
    an unknown name is an error naming `field` (the config key or CLI flag it came from)."""
    if name in BUILTINS:
        return BUILTINS[name]
    from strategies.loader import load

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            return load(ep.value)
    if ":" in name:
        return load(name)
    raise InputError(
        f"{field} {name!r}: unknown strategy; choose one of {', '.join(available())}"
        " or give path/to/file.py:Class"
    )


def build(name: str, params: Sequence[str] = (), field: str = "--strategy") -> HedgeStrategy:
    """Instantiate strategy `name` with `k=v` params from `--param` (errors name the key)."""
    cls = strategy_class(name, field)
    strategy: HedgeStrategy = cls(parse_params(cls.Params, params, name))
    return strategy
