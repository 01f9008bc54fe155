"""Running cases: plan them, hand them to an executor, report as they finish.

Where the cases execute (worker processes on this machine, or a Dask cluster) is
`mfcheck.executors`; whatever the order in which they finish, the reports list them in
plan order, and a case's seed depends only on the case.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import registry, solvers
from .check import Budget, Case, CheckResult
from .errors import UsageError
from .executors import Task, execute, run_case  # noqa: F401  (run_case: used from here)
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
    report_dir = Path(report_dir)
    the_plan = the_plan or plan(suites, solver_specs, devices)
    cases = the_plan.cases
    reports = Reports(report_dir, run_info(the_plan, devices, seed, budget))
    tasks = [Task(case, seed, budget.value, report_dir) for case in cases]
    with closing(finished_tasks(tasks, cases, progress, budget, timeout_s, workers=workers,
                                executor=executor, scheduler=scheduler)) as finished:
        for i, result in finished:
            reports.add(i, result)
    reports.finish()
    return reports.in_order()


def finished_tasks(tasks: list[Task], shown: list, progress: Any, budget: Budget,
                   timeout_s: float | None, **where: Any) -> Iterator[tuple[int, CheckResult]]:
    """`execute` ``tasks`` (``where``: workers, executor, scheduler; ``timeout_s`` defaults
    to the budget's) and yield ``(index, result)`` as each finishes, keeping ``progress``
    told: it shows ``shown[i]`` for the i-th task (a run's case, a sweep's task). Close
    it (``contextlib.closing``) to stop the workers at once, also on Ctrl-C."""
    def on_start(i: int) -> None:
        if progress:
            progress.case_started(shown[i])

    finished = execute(tasks, on_start, timeout_s=timeout_s or DEFAULT_TIMEOUT_S[budget],
                       **where)
    if progress:
        progress.start(shown)
    try:
        for i, result in finished:
            yield i, result
            if progress:
                progress.case_finished(shown[i], result)
    finally:
        finished.close()
        if progress:
            progress.close()


def run_info(the_plan: Plan, devices: list[str], seed: int, budget: Budget) -> RunInfo:
    """The header of the reports of a run of ``the_plan`` at ``seed``."""
    return RunInfo(seed, budget.value, devices, the_plan.suites, the_plan.solvers,
                   planned=len(the_plan.cases), solver_names=the_plan.solver_names())


class Reports:
    """The report files of one run, current after every result: the results so far, in
    plan order whatever the order they came in. The header is on disk from the start, so
    a run whose first case crashes still says what it was."""

    def __init__(self, report_dir: Path, info: RunInfo) -> None:
        self.report_dir, self.info = report_dir, info
        self.results: dict[int, CheckResult] = {}
        try:
            write_reports(report_dir, info, [])
        except OSError as exc:
            raise UsageError(f"cannot write reports to {str(report_dir)!r}: {exc}") from None

    def in_order(self) -> list[CheckResult]:
        return [self.results[i] for i in sorted(self.results)]

    @property
    def complete(self) -> bool:
        return len(self.results) == self.info.planned

    def add(self, i: int, result: CheckResult) -> None:
        """Record the result of the plan's ``i``-th case."""
        self.results[i] = result
        write_reports(self.report_dir, self.info, self.in_order())

    def finish(self) -> None:
        write_reports(self.report_dir, self.info, self.in_order(), complete=True)
