"""The catalogue of deliberately broken solvers: every role's, in one list.

Each ``tests/broken_*.py`` module keeps its broken solvers and declares them next to the
code in a module-level ``CATALOGUE`` list of `Entry`: what the solver gets wrong (its bug
class and a sentence) and which named check(s) must catch it. `entries()` collects them
all; the power tests run each entry against its named checks, and the catch matrix of
docs/power.md runs each against every check of its role.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

#: The modules that declare a ``CATALOGUE``.
MODULES = ("tests.broken_planners", "tests.broken_samplers", "tests.broken_learners",
           "tests.broken_tmf", "tests.broken_simulators")

#: The roles a broken solver may have (``mfcheck.protocols.role_of``; TMF learners are
#: learners that declare ``tmf = True``).
ROLES = ("planner", "sampler", "learner", "tmf-learner", "simulator")


@dataclass(frozen=True)
class Entry:
    """One broken solver and the checks that must catch it.

    ``spec``: a solver spec that `mfcheck.solvers.load` resolves
    (``"tests.broken_planners:BROKEN[no-continuation]"``); ``bug_class``: a short phrase
    shared across roles ("time indexing", "tensor orientation", "continuation value",
    "temperature convention", "discount convention", "random stream", "boundary
    condition", "acting set", "stale population", "measurement", "protocol output", ...);
    ``caught_by``: ``"suite::check"`` names, each of which must give the solver status
    FAIL (ERROR for the bug class "protocol output", where an error with its reason is
    the right verdict); ``games``: restrict the catching cases to these game labels (none:
    every game of the check).
    """

    spec: str
    role: str
    bug_class: str
    description: str
    caught_by: tuple[str, ...]
    games: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"{self.spec}: role {self.role!r} is not one of {ROLES}")
        if not self.caught_by or any("::" not in c for c in self.caught_by):
            raise ValueError(f"{self.spec}: caught_by needs 'suite::check' names, "
                             f"got {self.caught_by!r}")

    @property
    def expected_status(self) -> str:
        return "error" if self.bug_class == "protocol output" else "fail"


def entries() -> list[Entry]:
    """Every catalogue entry, module by module in `MODULES` order."""
    out: list[Entry] = []
    for name in MODULES:
        out += list(getattr(importlib.import_module(name), "CATALOGUE", ()))
    specs = [e.spec for e in out]
    duplicated = {s for s in specs if specs.count(s) > 1}
    if duplicated:
        raise ValueError(f"catalogue entries declared twice: {sorted(duplicated)}")
    return out
