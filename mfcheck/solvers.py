"""Finding solvers: specs and registered names, expanded to one spec per solver object.

A spec is ``module:attr``, where ``attr`` names a solver object, a class (constructed
with the spec's keyword arguments, none by default), or a dict or list of solvers
(expanded to ``module:attr[key]`` each). Constructor arguments travel inside the spec,
as Python literals: ``my_planner:Damped(damping=0.5, name='half')``, so that a spec is
still a plain string a worker process can load. A registered name (entry-point group
``mfcheck.solvers``, `registered`) stands for the spec it registers.

Modules are imported from the current directory first (`search_cwd_first`), as
``python -m mfcheck`` does, for the console script and the pytest plugin alike.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import re
import sys
from importlib.metadata import entry_points
from typing import Any

from .errors import UsageError

#: The entry-point group in which installed packages register named solvers.
ENTRY_POINT_GROUP = "mfcheck.solvers"
#: The optional peers of mfcheck's adapters: adapter module → (the peer's import name, the
#: extra that installs it). A solver of such a module is unavailable without its peer.
PEERS = {"mfcheck.adapters.mfglib": ("mfglib", "mfglib"),
         "mfcheck.adapters.openspiel": ("pyspiel", "openspiel"),
         "mfcheck.adapters.benchmfg": ("benchmfg", "benchmfg")}

_SPEC = re.compile(r"^(?P<module>[\w.]+):(?P<attr>[\w.]+)(?:\[(?P<key>[^\]]+)\])?"
                   r"(?:\((?P<args>.*)\))?$", re.S)
_NAME = re.compile(r"^(?P<name>[\w.-]+)(?:\((?P<args>.*)\))?$", re.S)


def search_cwd_first() -> None:
    """Put the current directory first on ``sys.path``, where ``python -m`` puts it (the
    console script puts its own folder there instead), so ``--solver my_planner:X`` finds
    ``./my_planner.py``."""
    cwd = os.getcwd()
    if sys.path[:1] not in ([cwd], [""]):
        sys.path.insert(0, cwd)


def registered() -> dict[str, str]:
    """Registered solver names and the specs they stand for, sorted by name (entry-point
    group ``mfcheck.solvers``: ``name = "module:attr"`` in an installed package's metadata;
    the value is an mfcheck spec, resolved by mfcheck, so ``module:attr[key]`` is allowed)."""
    return {ep.name: ep.value.strip()
            for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name)}


def parse_arg(text: str) -> tuple[str, Any]:
    """``key=value`` → (key, value): the value as a Python literal if it is one, else the
    string (``lr=0.1`` → 0.1, ``name=my planner`` → 'my planner')."""
    key, eq, value = text.partition("=")
    key = key.strip()
    if not eq or not key.isidentifier():
        raise UsageError(f"--solver-arg {text!r}: expected KEY=VALUE, e.g. learning_rate=0.1")
    try:
        return key, ast.literal_eval(value.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return key, value


def with_args(spec: str, args: dict[str, Any]) -> str:
    """``spec`` with constructor arguments added: ``mod:Cls(k=v, ...)`` (values as repr)."""
    if not args:
        return spec
    if spec.endswith(")"):
        raise UsageError(f"solver {spec!r} already has constructor arguments; give them "
                         f"either in the spec or by --solver-arg, not both")
    for key, value in args.items():
        if not _is_literal(value):
            raise UsageError(f"--solver-arg {key}: {value!r} is not a Python literal")
    return f"{spec}({', '.join(f'{k}={v!r}' for k, v in args.items())})"


def _is_literal(value: Any) -> bool:
    try:
        return ast.literal_eval(repr(value)) == value
    except (ValueError, SyntaxError):
        return False


def _kwargs(spec: str, args: str | None) -> dict[str, Any]:
    if not args:
        return {}
    try:
        call = ast.parse(f"f({args})", mode="eval").body
        if call.args or any(k.arg is None for k in call.keywords):
            raise ValueError("only key=value arguments")
        return {k.arg: ast.literal_eval(k.value) for k in call.keywords}
    except (SyntaxError, ValueError) as exc:
        raise UsageError(f"solver {spec!r}: cannot read the constructor arguments "
                         f"({args}): {exc}") from None


def _canonical(spec: str) -> str:
    """A spec with a registered name replaced by the spec it registers."""
    if _SPEC.match(spec):
        return spec
    match = _NAME.match(spec)
    names = registered()
    if match and match["name"] in names:
        target = names[match["name"]]
        return f"{target}({match['args']})" if match["args"] is not None else target
    known = f"; registered solvers: {', '.join(names)}" if names else ""
    raise UsageError(f"solver {spec!r}: expected MODULE:ATTR (e.g. mypkg.solvers:MyPlanner) "
                     f"or a registered name (mfcheck list --solvers){known}")


def _resolve(spec: str) -> tuple[Any, re.Match]:
    match = _SPEC.match(spec)
    if not match:
        return _resolve(_canonical(spec))
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
    return obj, match


def _instantiate(spec: str, obj: Any, kwargs: dict[str, Any]) -> Any:
    if isinstance(obj, type):
        try:
            return obj(**kwargs)
        except Exception as exc:
            call = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
            raise UsageError(f"solver {spec!r}: {obj.__name__}({call}) failed: "
                             f"{type(exc).__name__}: {exc}") from None
    if kwargs:
        raise UsageError(f"solver {spec!r} names an instance of {type(obj).__name__}, not a "
                         f"class: constructor arguments (--solver-arg) need a class")
    return obj


def expand(spec: str) -> list[str]:
    """One spec per solver object that ``spec`` (a spec or a registered name) names."""
    spec = _canonical(spec.strip())
    obj, match = _resolve(spec)
    if match["key"] is None and isinstance(obj, (dict, list, tuple)):
        if match["args"] is not None:
            raise UsageError(f"solver {spec!r} names a collection of solvers, not a class: "
                             f"constructor arguments (--solver-arg) need a class")
        keys = obj if isinstance(obj, dict) else range(len(obj))
        return [f"{spec}[{k}]" for k in keys]
    return [spec]


def missing_peer(spec: str) -> str | None:
    """None if the solver ``spec`` (a spec or a registered name) needs no optional peer, or
    its peer is installed; else what to install. Imports no peer (nor the solver)."""
    match = _SPEC.match(_canonical(spec.strip()))
    peer = PEERS.get(match["module"]) if match else None
    if peer is None or importlib.util.find_spec(peer[0]) is not None:
        return None
    return f"its peer {peer[0]!r} is not installed: pip install 'mfcheck[{peer[1]}]'"


def load(spec: str) -> Any:
    """The solver object a single (expanded) spec names (`UsageError` if it cannot be
    loaded, or needs a peer that is not installed)."""
    missing = missing_peer(spec)
    if missing:
        raise UsageError(f"solver {spec!r}: {missing}")
    obj, match = _resolve(spec)
    key = match["key"]
    if key is not None:
        try:
            obj = obj[int(key)] if isinstance(obj, (list, tuple)) else obj[key]
        except (KeyError, IndexError, ValueError):
            raise UsageError(f"solver {spec!r}: no entry {key!r}") from None
    return _instantiate(spec, obj, _kwargs(spec, match["args"]))


#: How much of a docstring `describe` keeps.
DESCRIPTION_WIDTH = 100


def describe(solver: Any) -> str:
    """The first paragraph of the docstring of the solver's class (its own, not
    inherited), else of the class's module, on one line of at most `DESCRIPTION_WIDTH`."""
    cls = solver if isinstance(solver, type) else type(solver)
    doc = cls.__dict__.get("__doc__") or getattr(sys.modules.get(cls.__module__), "__doc__", "")
    text = " ".join((doc or "").strip().split("\n\n")[0].split())
    return text if len(text) <= DESCRIPTION_WIDTH else text[:DESCRIPTION_WIDTH - 1] + "…"
