"""Finding solvers: ``module:attr`` specs, expanded to one spec per solver object.

``attr`` may name a solver object, a class (instantiated with no arguments), or a
dict or list of solvers (expanded to ``module:attr[key]`` each).
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from .errors import UsageError

_SPEC = re.compile(r"^(?P<module>[\w.]+):(?P<attr>[\w.]+)(?:\[(?P<key>[^\]]+)\])?$")


def _resolve(spec: str) -> tuple[Any, str | None]:
    match = _SPEC.match(spec)
    if not match:
        raise UsageError(f"solver {spec!r}: expected MODULE:ATTR, e.g. mypkg.solvers:MyPlanner")
    try:
        obj = importlib.import_module(match["module"])
    except Exception as exc:
        raise UsageError(f"solver {spec!r}: cannot import {match['module']!r}: "
                         f"{type(exc).__name__}: {exc}") from None
    for part in match["attr"].split("."):
        if not hasattr(obj, part):
            raise UsageError(f"solver {spec!r}: module {match['module']!r} has no attribute "
                             f"{match['attr']!r}")
        obj = getattr(obj, part)
    return obj, match["key"]


def _instantiate(spec: str, obj: Any) -> Any:
    if isinstance(obj, type):
        try:
            return obj()
        except Exception as exc:
            raise UsageError(f"solver {spec!r}: {obj.__name__}() failed: "
                             f"{type(exc).__name__}: {exc}") from None
    return obj


def expand(spec: str) -> list[str]:
    """One spec per solver object that ``spec`` names."""
    obj, key = _resolve(spec)
    if key is None and isinstance(obj, dict):
        return [f"{spec}[{k}]" for k in obj]
    if key is None and isinstance(obj, (list, tuple)):
        return [f"{spec}[{i}]" for i in range(len(obj))]
    return [spec]


def load(spec: str) -> Any:
    """The solver object a single (expanded) spec names."""
    obj, key = _resolve(spec)
    if key is not None:
        try:
            obj = obj[int(key)] if isinstance(obj, (list, tuple)) else obj[key]
        except (KeyError, IndexError, ValueError):
            raise UsageError(f"solver {spec!r}: no entry {key!r}") from None
    return _instantiate(spec, obj)
