"""Running one solver through suites in-process, for the power tests."""

from __future__ import annotations

import torch

from mfcheck import solvers
from mfcheck.check import ERROR, FAIL, Budget, Context
from mfcheck.registry import get_suite

CTX = Context(seed=0, budget=Budget.QUICK, device=torch.device("cpu"))


def suite_results(suite_names: list[str], spec: str, *, checks=None, games=None,
                  stop_at_first_failure: bool = False):
    """The results of the solver ``spec`` on every case of ``suite_names`` that applies to
    it (only ``checks`` and ``games``, when given), on the CPU, quick budget, seed 0."""
    solver = solvers.load(spec)
    for name in suite_names:
        suite = get_suite(name)
        for case in suite.cases([(spec, solver)], ["cpu"]):
            if case.solver != spec or (checks and case.check not in checks) \
                    or (games and case.game not in games):
                continue
            result = suite.run(case, solver, CTX)
            yield result
            if stop_at_first_failure and result.status in (FAIL, ERROR):
                return


def checks_of(suite_names: list[str]) -> list[tuple[str, str]]:
    """(suite, check) for every solver check of ``suite_names``: reference-solver tests are
    parametrised by check, so pytest-xdist spreads one solver's checks over the workers."""
    return [(name, check.name) for name in suite_names
            for check in get_suite(name).checks.values() if check.needs_solver]
