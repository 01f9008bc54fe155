"""Running cases: plan them, hand them to an executor, report as they finish.

Where the cases execute (worker processes on this machine, or a Dask cluster) is
`mfcheck.executors`; whatever the order in which they finish, the reports list them in
plan order, and a case's seed depends only on the case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import registry, solvers
from .check import Budget, Case, CheckResult
from .errors import UsageError
from .executors import execute, run_case  # noqa: F401  (run_case: used from here)
from .protocols import role_of, solver_name
from .report import RunInfo, write_reports

DEFAULT_TIMEOUT_S = {Budget.QUICK: 300.0, Budget.FULL: 3600.0}


@dataclass
class Plan:
    suites: list[str]
    solvers: list[str]  # expanded specs, in order
    cases: list[Case]
    #: Every solver of the plan, by spec (the objects: for names and declarations).
    loaded: dict[str, Any] = field(default_factory=dict)

    def solver_names(self) -> dict[str, str]:
        """The report's solver column: each spec's ``name`` attribute, where it has one."""
        return {spec: solver_name(solver) for spec, solver in self.loaded.items()
                if spec in self.solvers and isinstance(getattr(solver, "name", None), str)}


def plan(suite_names: list[str], solver_specs: list[str] | None, devices: list[str]) -> Plan:
    """The cases of a run; bad usage raises `UsageError` before anything runs.

    With solvers and no suite names, the run covers the suites those solvers fit. A
    given solver on which no check of the selected suites runs is bad usage: the error
    says what each suite asks of a solver (`Suite.why_not`).
    """
    unknown = [n for n in suite_names if n not in registry.suite_names()]
    if unknown:
        raise UsageError(f"unknown suite {unknown[0]!r}; known suites: "
                         f"{', '.join(registry.suite_names())}")
    # Solvers first: a typo in --solver should not wait for every suite to import.
    given = list(dict.fromkeys(s for spec in solver_specs or [] for s in solvers.expand(spec)))
    loaded = {spec: solvers.load(spec) for spec in given}
    suites = {name: registry.get_suite(name) for name in suite_names or registry.suite_names()}
    for spec, solver in loaded.items():
        if role_of(solver) is None:
            raise UsageError(f"solver {spec!r} implements no known solver protocol (solve, "
                             f"sample, learn or simulate; see mfcheck.protocols)")
        reasons = [suite.why_not(solver) for suite in suites.values()
                   if not suite_names or suite.accepts(solver)]
        if all(reasons):
            role = role_of(solver)
            raise UsageError(f"no check applies to {spec!r} (a {role}): " + "; ".join(
                reasons or [f"{n} applies to {'/'.join(s.roles)}s" for n, s in suites.items()]))
    if given and not suite_names:
        suites = {n: s for n, s in suites.items() if any(map(s.accepts, loaded.values()))}
    cases, used = [], []
    for suite in suites.values():
        specs = given or list(dict.fromkeys(
            s for spec in suite.reference_solvers for s in solvers.expand(spec)))
        for spec in specs:
            if spec not in loaded:
                loaded[spec] = solvers.load(spec)
        used += specs
        cases += suite.cases([(spec, loaded[spec]) for spec in specs], devices)
    return Plan(list(suites), list(dict.fromkeys(used)), cases, loaded)


def run(suites: list[str], solver_specs: list[str] | None, devices: list[str], seed: int,
        budget: Budget | str, report_dir: Path, timeout_s: float | None = None,
        progress: Any = None, *, workers: int = 1, the_plan: Plan | None = None,
        executor: str = "local", scheduler: str | None = None) -> list[CheckResult]:
    """Run every case of the plan; the reports in ``report_dir`` are current after each case.

    ``the_plan``, if given, is ``plan(suites, solver_specs, devices)`` made beforehand.

    ``progress`` receives ``start(cases)``, ``case_started(case)``,
    ``case_finished(case, result)`` and ``close()`` (see `mfcheck.progress.Progress`).
    ``workers`` is the number of worker processes; 0 runs in this process.
    ``executor`` is where the cases run (`mfcheck.executors`): ``"local"``, or ``"dask"``
    on a ``LocalCluster`` of ``workers`` processes or on the scheduler at ``scheduler``.
    """
    budget = Budget(budget)
    timeout_s = timeout_s or DEFAULT_TIMEOUT_S[budget]
    report_dir = Path(report_dir)
    the_plan = the_plan or plan(suites, solver_specs, devices)
    cases = the_plan.cases
    info = RunInfo(seed, budget.value, devices, the_plan.suites, the_plan.solvers,
                   planned=len(cases), solver_names=the_plan.solver_names())
    results: dict[int, CheckResult] = {}

    def in_order() -> list[CheckResult]:
        return [results[i] for i in sorted(results)]

    try:  # the header is on disk even if the first case crashes
        write_reports(report_dir, info, [])
    except OSError as exc:
        raise UsageError(f"cannot write reports to {str(report_dir)!r}: {exc}") from None
    on_start = progress.case_started if progress else (lambda case: None)
    job = (seed, budget.value, report_dir)
    finished = execute(cases, job, on_start, executor=executor, workers=workers,
                       timeout_s=timeout_s, scheduler=scheduler)
    if progress:
        progress.start(cases)
    try:
        for i, result in finished:
            results[i] = result
            write_reports(report_dir, info, in_order())
            if progress:
                progress.case_finished(cases[i], result)
    finally:
        finished.close()  # stops the workers, also on Ctrl-C
        if progress:
            progress.close()
    write_reports(report_dir, info, in_order(), complete=True)
    return in_order()
