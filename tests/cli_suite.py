"""A tiny suite with every kind of declared exemption, for the report card, ``--strict``
and the pytest plugin's tests; and the solvers it judges.

`register(monkeypatch)` makes it the suite ``declarations`` of the registry. Its checks
look only at what the solvers declare, so that a test of the card runs in milliseconds.
"""

from __future__ import annotations

from mfcheck import registry
from mfcheck.check import Outcome, Requires, Suite

NAME = "declarations"
_SIZES = {"L=4": 4, "L=64": 64}

suite = Suite(NAME, role="planner", description="declared exemptions, for mfcheck's tests",
              reference_solvers=[])


def _convergent(solver) -> bool:
    return getattr(solver, "convergent", True)


@suite.check("converges", games={"g1": lambda d: "g1", "g2": lambda d: "g2"},
             applies=Requires(_convergent, "planners meant to converge",
                              opted_out_by="convergent = False"))
def converges(solver, game, ctx):
    """Passes for every convergent planner."""
    return Outcome(True, 0.0, 0.0, 0.0, f"converged on {game}")


@suite.check("cycles", games={"g1": lambda d: "g1"},
             applies=Requires(lambda s: not _convergent(s),
                              "planners that declare convergent = False"))
def cycles(solver, game, ctx):
    """Passes for every planner that declares convergent = False."""
    return Outcome(True, 2, ">= 2", 0, "cycles with period 2")


@suite.check("beats-baseline", games={"g1": lambda d: "g1"})
def beats_baseline(solver, game, ctx):
    """Fails for every solver; a declared baseline is expected to."""
    baseline = getattr(solver, "baseline", False)
    return Outcome(False, 0.5, 1.0, 0.1, "reached 0.5 of 1",
                   expected_failure="a baseline" if baseline else None,
                   exemption="baseline = True")


@suite.check("sized", games={label: (lambda d, n=n: n) for label, n in _SIZES.items()})
def sized(solver, size, ctx):
    """Passes where the solver takes the size; skips by its declaration elsewhere."""
    limit = getattr(solver, "max_size", None)
    if limit is not None and size > limit:
        return Outcome.skip(f"declares max_size {limit} < L = {size}",
                            exemption=f"max_size = {limit}")
    return Outcome(True, size, size, 0, f"ran L = {size}")


@suite.check("self-check", needs_solver=False)
def self_check(solver, game, ctx):
    """Checks mfcheck itself."""
    return Outcome(True, 1.0, 1.0, 0.0, "one is one")


class Planner:
    """A planner that declares nothing: judged on every check (and fails beats-baseline)."""

    def solve(self, game, *, seed):
        yield from ()


class Exempt(Planner):
    """A planner that exempts itself three ways."""

    name = "exempt"
    baseline = True
    convergent = False
    max_size = 8


class Configurable(Planner):
    """A planner class with constructor arguments."""

    def __init__(self, rate: float = 0.1, label: str = "x") -> None:
        self.rate, self.label = rate, label
        self.name = f"configurable(rate={rate}, label={label})"


INSTANCE = Configurable()


def spec(name: str) -> str:
    return f"{__name__}:{name}"


def register(monkeypatch) -> None:
    monkeypatch.setattr(registry, "SUITE_MODULES", {NAME: __name__})

