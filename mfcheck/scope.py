"""A solver's declared scope: its optional ``supports(game) -> bool | str``.

The harness asks it in one place, for every role and every suite: `Suite.run` hands a
check the solver wrapped by `scoped`, whose role method asks ``supports`` before every
call and, where the solver declines, stops the case with `Declined`; the case is then
``skip`` with the solver's reason (exemption ``supports(game)`` on the report card; a
failure under ``--strict``). What ``supports`` receives is what that call is about:

======================  ==================================================================
role                    ``supports`` receives
======================  ==================================================================
planner                 the `mfcheck.FiniteMFG` that ``solve`` is about to get
simulator               the `mfcheck.FiniteMFG` that ``simulate`` is about to get
learner, TMF learner    the environment that ``learn`` is about to get (an
                        `mfcheck.envs.AgentEnv`; a `FiniteGameEnv` for TMF learners)
sampler                 an `IsingSetting` (L, temperatures, coupling, field) of the
                        ``sample`` (or ``step``) call about to be made
======================  ==================================================================

Answers: True runs the call; False declines it (a generic reason naming what was
declined); a non-empty string declines it with that reason. Anything else, or an
exception inside ``supports``, is an error of the solver. A check that runs the solver on
several games is skipped as a whole when the solver declines any one of them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .protocols import role_of, solver_name

#: The exemption a declined case carries (the report card's heading for it).
EXEMPTION = "supports(game)"


class Declined(BaseException):
    """A solver's ``supports`` declined (``error=False``) or broke (``error=True``) before
    a call of its role method. A `BaseException`, as pytest's skip is: the boundary turns
    every ``Exception`` a solver raises into an error, and this must reach `Suite.run`."""

    def __init__(self, message: str, *, error: bool = False) -> None:
        super().__init__(message)
        self.message, self.error = message, error


@dataclass(frozen=True)
class IsingSetting:
    """What a sampler's ``supports`` receives: the lattice side ``L``, the temperatures,
    the coupling J and the field h of the call about to be made."""

    L: int
    temperatures: tuple[float, ...]
    coupling: float = 1.0
    field: float = 0.0

    @property
    def name(self) -> str:
        temps = ", ".join(f"{t:.4g}" for t in self.temperatures)
        return f"the Ising setting L={self.L}, T=({temps}), J={self.coupling:g}, h={self.field:g}"


def _ising_call(L, temperatures, *args, coupling: float = 1.0, field: float = 0.0,
                **kwargs) -> IsingSetting:
    temps = temperatures.reshape(-1).tolist() if hasattr(temperatures, "reshape") else \
        list(temperatures) if isinstance(temperatures, (list, tuple)) else [temperatures]
    return IsingSetting(int(L), tuple(float(t) for t in temps), float(coupling), float(field))


def _ising_step(spins, beta, coupling: float = 1.0, field: float = 0.0, *args,
                **kwargs) -> IsingSetting:
    betas = beta.reshape(-1).tolist() if hasattr(beta, "reshape") else [beta]
    return IsingSetting(int(spins.shape[-1]), tuple(1.0 / float(b) for b in betas),
                        float(coupling), float(field))


def _first(what, *args, **kwargs):
    return what


#: (role, method) → what ``supports`` receives, from that method's arguments.
SUBJECTS: dict[tuple[str, str], Callable[..., Any]] = {
    ("planner", "solve"): _first,
    ("simulator", "simulate"): _first,
    ("learner", "learn"): _first,
    ("sampler", "sample"): _ising_call,
    ("sampler", "step"): _ising_step,
}


def declined(solver: Any, subject: Any) -> str | None:
    """None if ``solver`` (with or without ``supports``) takes on ``subject``; otherwise
    its reason. Raises `Declined` (``error=True``) for a ``supports`` that raises or
    answers something other than a bool or a reason."""
    supports = getattr(solver, "supports", None)
    if not callable(supports):
        return None
    name = solver_name(solver)
    what = getattr(subject, "name", None) or repr(subject)
    try:
        answer = supports(subject)
    except Exception as exc:
        raise Declined(f"{name}.supports({what}) raised {type(exc).__name__}: {exc}",
                       error=True) from exc
    if isinstance(answer, str) and answer:
        return f"{name} does not support {what}: {answer}"
    if answer is True or answer is False or type(answer).__name__ == "bool_":  # numpy's too
        return None if answer else f"{name} does not support {what} (its supports() is False)"
    raise Declined(f"{name}.supports({what}) returned {answer!r}; expected True, False or a "
                   f"reason (a non-empty str)", error=True)


class _Scoped:
    """``solver`` as a check sees it: every attribute is the solver's, except that its
    role methods (`SUBJECTS`) ask ``supports`` first."""

    def __init__(self, solver: Any, role: str) -> None:
        self._solver, self._role = solver, role
        self.name = solver_name(solver)

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._solver, attr)
        subject = SUBJECTS.get((self._role, attr))
        if subject is None or not callable(value):
            return value

        @functools.wraps(value)  # keeps the signature (initial_policy is looked up on it)
        def asked_first(*args, **kwargs):
            reason = declined(self._solver, subject(*args, **kwargs))
            if reason:
                raise Declined(reason)
            return value(*args, **kwargs)

        return asked_first

    def __repr__(self) -> str:
        return repr(self._solver)


def scoped(solver: Any) -> Any:
    """``solver`` itself if it declares no ``supports``; else it, asking ``supports`` before
    every call of its role method (`Declined` where it declines)."""
    role = role_of(solver)
    if not callable(getattr(solver, "supports", None)) or role is None:
        return solver
    return _Scoped(solver, role)
