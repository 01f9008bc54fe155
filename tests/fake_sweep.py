"""A suite ``coin`` whose checks fail at known seeds, for testing ``mfcheck sweep``.

Each check states its false-failure rate (``Suite.check(..., false_failure_rate=)``, what
`mfcheck.sweep.stated_rate` reads), and fails on a known share of the seeds, so the
aggregate's counts, intervals and verdicts are known exactly.
"""

from __future__ import annotations

import importlib

from mfcheck import registry
from mfcheck.check import Outcome, Suite

NAME = "coin"
fake_solvers = importlib.import_module(__name__.replace("fake_sweep", "fake_solvers"))
suite = Suite(NAME, role="planner", description="checks that fail at known seeds",
              reference_solvers=[fake_solvers.spec("Good")])


def _fails_when(failed: bool, seed: int) -> Outcome:
    return Outcome(not failed, seed, None, None, f"seed {seed}")


@suite.check("fifth", false_failure_rate=0.2)
def fifth(solver, game, ctx):
    """Fails at every fifth seed: exactly its stated rate over 0:5k."""
    return _fails_when(ctx.seed % 5 == 0, ctx.seed)


@suite.check("half", games={"a": lambda device: None, "b": lambda device: None},
             false_failure_rate=0.05)
def half(solver, game, ctx):
    """Fails at every even seed, on both of its games: ten times its stated rate."""
    return _fails_when(ctx.seed % 2 == 0, ctx.seed)


@suite.check("never", false_failure_rate=0.5)
def never(solver, game, ctx):
    """Never fails, though it states a rate of one half."""
    return _fails_when(False, ctx.seed)


@suite.check("deterministic", false_failure_rate=0)
def deterministic(solver, game, ctx):
    """A deterministic check (rate 0) that fails at seed 3 only: any failure is a bug."""
    return _fails_when(ctx.seed == 3, ctx.seed)


@suite.check("unstated")
def unstated(solver, game, ctx):
    """States no rate; fails at seed 3 only."""
    return _fails_when(ctx.seed == 3, ctx.seed)


@suite.check("crashes", false_failure_rate=0.1)
def crashes(solver, game, ctx):
    """Errors at every third seed, fails at none."""
    if ctx.seed % 3 == 0:
        raise RuntimeError("boom")
    return _fails_when(False, ctx.seed)


@suite.check("skips")
def skips(solver, game, ctx):
    """Always skips."""
    return Outcome.skip("nothing here")


def register(monkeypatch) -> None:
    monkeypatch.setitem(registry.SUITE_MODULES, NAME, __name__)
