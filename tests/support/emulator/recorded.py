"""Hold each emulator dialect to JSON no one here wrote: the venues' own responses as the ccxt
repository records them for its static tests (`ts/src/test/static/response/<id>.json`).

A fixture file `recorded/<ccxt id>.json` keeps, per ccxt method, one recorded exchange:
`{"source": ..., "methods": {"fetchMyTrades": {"input": [...], "httpResponse": ...,
"parsedResponse": ...}}}` (copied as recorded; `source` names the file and commit).

Two checks per method (`conformance`):
1. `shape_mismatches(ours, recorded)`: every key of the recorded venue JSON is in ours, with
   the same JSON type (string vs number vs bool vs object vs array; null matches anything),
   recursively (lists: their first items). Our JSON may have more keys; it may not lack one.
2. `unified_mismatches(ours, recorded)`: ccxt's unified result parsed from our JSON has a
   value wherever ccxt's result from the recorded JSON has one (the same `info`-free keys).
The recorded `httpResponse` is served through the emulator (`Emulator.override`), so both
go through the same real ccxt object, signing and parsing included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

RECORDED = Path(__file__).parent / "recorded"


def load(ccxt_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDED / f"{ccxt_id}.json").read_text())
    return data


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def shape_mismatches(ours: Any, recorded: Any, path: str = "$") -> list[str]:
    """Where our venue JSON lacks a recorded key or gives it another JSON type."""
    a, b = _kind(ours), _kind(recorded)
    if "null" in (a, b):
        return []
    if a != b:
        return [f"{path}: ours is {a}, the venue's is {b}"]
    if b == "object":
        out: list[str] = []
        for key, value in recorded.items():
            if key not in ours:
                out.append(f"{path}.{key}: missing (venue sends {_kind(value)})")
            else:
                out += shape_mismatches(ours[key], value, f"{path}.{key}")
        return out
    if b == "array" and ours and recorded:
        return shape_mismatches(ours[0], recorded[0], f"{path}[0]")
    return []


def _first(parsed: Any) -> Any:
    return parsed[0] if isinstance(parsed, list) and parsed else parsed


def unified_mismatches(ours: Any, recorded: Any, ignore: tuple[str, ...] = ()) -> list[str]:
    """Unified keys ccxt filled from the recorded JSON but left empty (None) from ours."""
    mine, theirs = _first(ours), _first(recorded)
    if not isinstance(theirs, Mapping):
        return [] if _kind(mine) == _kind(theirs) else [f"ours {mine!r} vs {theirs!r}"]
    if not isinstance(mine, Mapping):
        return [f"ours parsed to {_kind(mine)}, the recording to an object"]
    return [
        f"unified {k!r}: None from ours, {theirs[k]!r} from the recording"
        for k in theirs
        if k not in ("info", *ignore) and theirs[k] not in (None, [], {}) and mine.get(k) is None
    ]


def last_json(requests: list[Any], path: str) -> Any:
    """The JSON body the emulator last answered to `path`."""
    for logged in reversed(requests):
        if logged.path == path and logged.response:
            return json.loads(logged.response)
    raise AssertionError(f"no answer to {path} was logged")


def without_recorder_strings(
    mismatches: list[str], stringified: frozenset[str] | set[str], also: tuple[str, ...] = ()
) -> list[str]:
    """`mismatches` less those the recorder made: numbers it wrote as strings under keys in
    `stringified`, and any mismatch ending in one of `also`."""
    out = []
    for m in mismatches:
        key = re.search(r"\.(\w+): ours is number, the venue's is string$", m)
        if key is not None and key.group(1) in stringified:
            continue
        if any(m.endswith(tail) for tail in also):
            continue
        out.append(m)
    return out


async def conform(
    emu: Any,
    call: Callable[..., Awaitable[Any]],
    example: Mapping[str, Any],
    route: tuple[str, str],
    ours_args: list[Any],
    *,
    shape: Callable[[Any, Any], list[str]] = shape_mismatches,
    theirs_args: list[Any] | None = None,
    served: Any = None,
    ignore: tuple[str, ...] = (),
) -> tuple[Any, Any]:
    """Both checks for one recorded `example`: (a) our raw answer to `call(*ours_args)` on
    `route` (method, path) in the recorded shape; (b) the recorded answer (or `served`),
    served on the same route to the same call, fills no unified value ours leaves empty."""
    venue_json = example["httpResponse"] if served is None else served
    ours = await call(*ours_args)
    assert shape(last_json(emu.requests, route[1]), venue_json) == []
    emu.override(route[0], route[1], venue_json)
    theirs = await call(*(ours_args if theirs_args is None else theirs_args))
    assert unified_mismatches(ours, theirs, ignore) == []
    return ours, theirs
