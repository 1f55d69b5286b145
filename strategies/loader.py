"""Load a user strategy from `path/to/file.py:ClassName` or `pkg.module:ClassName`.

The class must provide `name`, `Params` (a pydantic model) and `target(ctx)`, and may set
`interface_version` (default 1); a strategy for another interface version is refused.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from bot.errors import InputError
from strategies.base import INTERFACE_VERSION


def _module_from_file(path: Path) -> ModuleType:
    if not path.is_file():
        raise InputError(f"strategy file {path} not found")
    mod_name = f"lphedge_user_strategy_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(mod_name, path)
    if spec is None or spec.loader is None:
        raise InputError(f"strategy file {path} cannot be imported as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[mod_name] = module
    spec.loader.exec_module(module)
    return module


def _module(where: str) -> ModuleType:
    if where.endswith(".py") or "/" in where or "\\" in where:
        return _module_from_file(Path(where))
    try:
        return importlib.import_module(where)
    except ImportError as exc:
        raise InputError(f"strategy module {where!r} cannot be imported: {exc}") from None


def check(cls: Any, ref: str) -> type[Any]:
    """Refuse a class that does not meet the strategy interface, naming what is missing."""
    missing = [a for a in ("name", "Params", "target") if not hasattr(cls, a)]
    if missing:
        raise InputError(f"strategy {ref}: missing {', '.join(missing)}")
    if not (isinstance(cls.Params, type) and issubclass(cls.Params, BaseModel)):
        raise InputError(f"strategy {ref}: Params must be a pydantic BaseModel")
    version = getattr(cls, "interface_version", INTERFACE_VERSION)
    if version != INTERFACE_VERSION:
        raise InputError(
            f"strategy {ref}: written for interface {version}, lphedge has {INTERFACE_VERSION}"
        )
    return cls  # type: ignore[no-any-return]


def load(ref: str) -> type[Any]:
    """`file.py:Class` or `pkg.mod:Class` -> the strategy class."""
    where, sep, cls_name = ref.rpartition(":")
    if not sep or not where or not cls_name:
        raise InputError(f"strategy {ref!r}: use path/to/file.py:ClassName or pkg.mod:ClassName")
    module = _module(where)
    try:
        cls = getattr(module, cls_name)
    except AttributeError:
        raise InputError(f"strategy {ref!r}: {where} has no {cls_name}") from None
    return check(cls, ref)
