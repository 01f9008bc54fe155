"""Seed sweeps: seeds × suites × solvers, and per check the failures over seeds against the
check's stated false-failure rate (docs/cli.md, "mfcheck sweep").

A sweep case is one case of a run (`mfcheck.check.Case`) at one seed; its result depends on
the case and the seed only, never on where or in which order it ran. The sweep hands the
runner one seed at a time (`mfcheck.runner.run`, with whatever executor options the caller
passes through), so each seed's usual reports land in ``<report dir>/seed-<n>/``; the
aggregate, ``sweep.json`` and ``sweep.md``, lands beside them and is rewritten after every
seed, so an interrupted sweep leaves the seeds it finished counted.

The aggregate has one row per (suite, check, solver): ``runs`` = the cases that gave a
verdict (pass or fail; one per seed, game and device), ``failures`` = those that failed,
errors, skips and expected failures counted apart. Each case of a check is one test at the
check's stated false-failure rate α (`stated_rate`), so a correct solver fails
Binomial(runs, α) of them. The row gives the observed rate with its exact (Clopper–Pearson)
interval at ``confidence`` and a verdict: ``above`` when the interval lies above α (more
false alarms than stated: a calibration problem, or a bug), ``below`` when it lies below
(the check is conservative), ``consistent`` when α lies in it. A correct check is called
``above`` with probability at most (1 − confidence)/2.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import executors, registry, runner
from .check import ERROR, FAIL, FALSE_FAILURE_RATE, PASS, SKIP, XFAIL, Budget, Case, CheckResult
from .errors import UsageError
from .report import _cell, atomic_write, solver_label
from .stats import clopper_pearson

JSON_NAME, MARKDOWN_NAME = "sweep.json", "sweep.md"
CONSISTENT, ABOVE, BELOW, NO_RUNS = "consistent", "above", "below", "no runs"
#: Where a check's rate comes from when its function declares none.
DEFAULT_SOURCE = "project default (mfcheck.check.FALSE_FAILURE_RATE)"
#: The attribute by which a check function states its own false-failure rate.
RATE_ATTRIBUTE = "false_failure_rate"


def parse_seeds(text: str) -> range:
    """``A:B`` → the seeds A, A+1, …, B−1 (half-open, as Python's slices); ``N`` → seed N."""
    start, colon, stop = text.partition(":")
    try:
        a = int(start)
        b = int(stop) if colon else a + 1
    except ValueError:
        raise UsageError(f"--seeds takes A:B (the seeds A to B-1) or one seed N, got "
                         f"{text!r}") from None
    if a < 0 or b <= a:
        raise UsageError(f"--seeds {text}: need 0 <= A < B (A:B is the seeds A to B-1)")
    return range(a, b)


@dataclass(frozen=True)
class SweepCase:
    """One case at one seed: the unit of a sweep."""

    seed: int
    case: Case

    @property
    def id(self) -> str:
        return f"{self.case.id}@seed={self.seed}"


def select_checks(the_plan: runner.Plan, checks: Iterable[str] | None) -> runner.Plan:
    """The plan cut down to the named checks (`UsageError` for a name no suite of it has)."""
    checks = list(checks or [])
    if not checks:
        return the_plan
    known = {name for s in the_plan.suites for name in registry.get_suite(s).checks}
    unknown = [c for c in checks if c not in known]
    if unknown:
        raise UsageError(f"unknown check {unknown[0]!r} in suites {', '.join(the_plan.suites)}; "
                         f"their checks: {', '.join(sorted(known))}")
    cases = [c for c in the_plan.cases if c.check in checks]
    if not cases:
        raise UsageError(f"no case of check(s) {', '.join(checks)} applies to the solvers")
    return dataclasses.replace(the_plan, cases=cases)


def expand(the_plan: runner.Plan, seeds: Iterable[int]) -> list[SweepCase]:
    """The grid, seed by seed: every case of the plan at every seed."""
    return [SweepCase(seed, case) for seed in seeds for case in the_plan.cases]


def stated_rate(suite: str, check: str) -> tuple[float, str]:
    """The false-failure rate a check states per case, and where it comes from: the check
    function's ``false_failure_rate`` attribute, else the project default (1e-4; for a
    deterministic check, whose correct rate is 0, an upper bound)."""
    fn = registry.get_suite(suite).checks[check].fn
    declared = getattr(fn, RATE_ATTRIBUTE, None)
    if declared is None:
        return FALSE_FAILURE_RATE, DEFAULT_SOURCE
    alpha = float(declared)
    if not 0 <= alpha < 1:
        raise UsageError(f"check {suite}::{check} states false_failure_rate = {declared!r}; "
                         f"a rate must lie in [0, 1)")
    return alpha, f"declared by {suite}::{check}"


@dataclass
class Row:
    """One (suite, check, solver) of the aggregate."""

    suite: str
    check: str
    solver: str
    runs: int
    failures: int
    errors: int
    skipped: int
    expected_failures: int
    alpha: float
    alpha_source: str
    rate: float | None
    interval: tuple[float, float] | None
    confidence: float
    verdict: str
    #: (seed, game, device) of every failed case, to rerun it: ``mfcheck run --seed``.
    failed: list[tuple[int, str, str]]
    errored: list[tuple[int, str, str]]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def verdict(failures: int, runs: int, alpha: float, confidence: float = 0.95
            ) -> tuple[float | None, tuple[float, float] | None, str]:
    """(observed rate, its Clopper–Pearson interval, verdict) for ``failures`` of ``runs``
    against the stated rate ``alpha``."""
    if runs == 0:
        return None, None, NO_RUNS
    lo, hi = clopper_pearson(failures, runs, confidence)
    v = ABOVE if alpha < lo else BELOW if alpha > hi else CONSISTENT
    return failures / runs, (lo, hi), v


def aggregate(results: Iterable[tuple[int, CheckResult]], confidence: float = 0.95
              ) -> list[Row]:
    """Rows per (suite, check, solver), in the order first seen, from (seed, result) pairs."""
    groups: dict[tuple[str, str, str], list[tuple[int, CheckResult]]] = defaultdict(list)
    for seed, r in results:
        groups[r.suite, r.check, r.solver].append((seed, r))
    rows = []
    for (suite, check, solver), group in groups.items():
        counts = Counter(r.status for _, r in group)
        alpha, source = stated_rate(suite, check)
        runs = counts[PASS] + counts[FAIL]
        rate, interval, v = verdict(counts[FAIL], runs, alpha, confidence)
        where = {status: [(seed, r.game, r.device) for seed, r in group if r.status == status]
                 for status in (FAIL, ERROR)}
        rows.append(Row(suite, check, solver, runs, counts[FAIL], counts[ERROR], counts[SKIP],
                        counts[XFAIL], alpha, source, rate, interval, confidence, v,
                        where[FAIL], where[ERROR]))
    return rows


@dataclass
class Sweep:
    """What a sweep did: the seeds asked for and finished, the rows, the results by seed."""

    seeds: range
    finished: list[int]
    rows: list[Row]
    results: list[tuple[int, CheckResult]]
    info: dict[str, Any]

    @property
    def passed(self) -> bool:
        """No row above its stated rate, and no case errored."""
        return all(r.verdict != ABOVE and not r.errors for r in self.rows)

    def to_json(self) -> dict:
        return {**self.info, "seeds_finished": len(self.finished),
                "complete": len(self.finished) == len(self.seeds),
                "rows": [r.to_dict() for r in self.rows]}


class _GridProgress:
    """One progress bar over the whole grid, fed by one runner run per seed."""

    def __init__(self, progress: Any, grid: list[SweepCase]) -> None:
        self.progress, self.grid, self.seed = progress, grid, None

    def begin(self) -> None:
        if self.progress:
            self.progress.start(self.grid)

    def start(self, cases: list[Case]) -> None:  # a seed's run starting: the bar goes on
        pass

    def case_started(self, case: Case) -> None:
        if self.progress:
            self.progress.case_started(SweepCase(self.seed, case))

    def case_finished(self, case: Case, result: CheckResult) -> None:
        if self.progress:
            self.progress.case_finished(SweepCase(self.seed, case), result)

    def close(self) -> None:  # a seed's run ended: the bar stays until the sweep ends
        pass

    def end(self) -> None:
        if self.progress:
            self.progress.close()


def run_sweep(suites: list[str], solver_specs: list[str] | None, devices: list[str],
              seeds: range, budget: Budget | str, report_dir: Path,
              timeout_s: float | None = None, progress: Any = None, *,
              checks: Iterable[str] | None = None, confidence: float = 0.95,
              the_plan: runner.Plan | None = None, **runner_options: Any) -> Sweep:
    """Run every case of the plan at every seed through `mfcheck.runner.run` (one run per
    seed, ``runner_options`` passed on: ``workers``, an executor, ...) and aggregate.

    ``progress`` (a `mfcheck.progress.Progress`) sees the whole grid as one run.
    """
    if not 0 < confidence < 1:
        raise UsageError(f"--confidence must lie in (0, 1), got {confidence:g}")
    budget = Budget(budget)
    report_dir = Path(report_dir)
    the_plan = select_checks(the_plan or runner.plan(suites, solver_specs, devices), checks)
    grid = expand(the_plan, seeds)
    for suite, check in dict.fromkeys((c.suite, c.check) for c in the_plan.cases):
        stated_rate(suite, check)  # a bad declaration is bad usage before anything runs
    names = the_plan.solver_names()
    info = {"command": "sweep", "seeds": f"{seeds.start}:{seeds.stop}", "seeds_asked": len(seeds),
            "budget": budget.value, "devices": devices, "suites": the_plan.suites,
            "solvers": the_plan.solvers, "solver_names": names,
            "checks": list(dict.fromkeys(c.check for c in the_plan.cases)),
            "cases_per_seed": len(the_plan.cases), "confidence": confidence,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    sweep = Sweep(seeds, [], [], [], info)
    bar = _GridProgress(progress, grid)
    bar.begin()
    start = time.monotonic()
    try:
        with _one_cluster(runner_options, the_plan.cases) as options:
            for seed in seeds:
                bar.seed = seed
                results = runner.run(the_plan.suites, solver_specs, devices, seed, budget,
                                     report_dir / f"seed-{seed}", timeout_s, bar,
                                     the_plan=the_plan, **options)
                sweep.results += [(seed, r) for r in results]
                sweep.finished.append(seed)
                sweep.rows = aggregate(sweep.results, confidence)
                info["wall_s"] = round(time.monotonic() - start, 1)
                write_sweep(report_dir, sweep)
    finally:
        bar.end()
    return sweep


@contextmanager
def _one_cluster(options: dict[str, Any], cases: list[Case]) -> Iterator[dict[str, Any]]:
    """The runner options for every seed's run: on Dask with no scheduler given, the
    address of one LocalCluster for the whole sweep, as the runner would start for one run
    (a cluster per seed cost ≈ 15 s a seed on this 2-core machine)."""
    workers = options.get("workers", 1)
    if options.get("executor") != "dask" or options.get("scheduler") or workers < 1:
        yield options  # (bad options: the runner says what is wrong)
        return
    try:
        import distributed
    except ImportError:
        yield options  # the runner says what to install
        return
    cuda = any(c.device.startswith("cuda") for c in cases)
    with executors.local_cluster(distributed, max(1, min(workers, len(cases))), cuda) as cluster:
        yield {**options, "scheduler": cluster.scheduler_address}


def write_sweep(report_dir: Path, sweep: Sweep) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(report_dir / JSON_NAME, json.dumps(sweep.to_json(), indent=2) + "\n")
    atomic_write(report_dir / MARKDOWN_NAME, to_markdown(sweep))


_HEADER = ("suite", "check", "solver", "runs", "failures", "errors", "α", "observed rate",
           "interval", "verdict")


def _cells(row: Row, names: dict[str, str]) -> tuple[str, ...]:
    interval = ("-" if row.interval is None else
                f"[{row.interval[0]:.3g}, {row.interval[1]:.3g}]")
    return (row.suite, row.check, solver_label(row.solver, names), str(row.runs),
            str(row.failures), str(row.errors), f"{row.alpha:g}",
            "-" if row.rate is None else f"{row.rate:.3g}", interval, row.verdict)


def to_markdown(sweep: Sweep) -> str:
    info = sweep.info
    names = info["solver_names"]
    done = len(sweep.finished)
    lines = [f"# mfcheck sweep: seeds {info['seeds']} ({done} of {info['seeds_asked']} "
             f"finished{'' if done == info['seeds_asked'] else ', incomplete'})", "",
             f"Suites {', '.join(info['suites'])}; checks {', '.join(info['checks'])}; "
             f"budget {info['budget']}; devices {', '.join(info['devices'])}; "
             f"{info['cases_per_seed']} cases a seed; {info.get('wall_s', 0):g} s.", "",
             f"A run is one case (check, game, device) at one seed that passed or failed. "
             f"Interval: exact (Clopper–Pearson) {info['confidence']:.0%} binomial interval "
             f"of the observed rate; verdict `above` when it lies above the stated rate α "
             f"(a correct check lands there with probability ≤ "
             f"{(1 - info['confidence']) / 2:.3g}), `below` when below, else `consistent`.",
             "", "| " + " | ".join(_HEADER) + " |", "|" + " --- |" * len(_HEADER)]
    lines += ["| " + " | ".join(_cell(c) for c in _cells(r, names)) + " |" for r in sweep.rows]
    sources = dict.fromkeys(r.alpha_source for r in sweep.rows)
    lines += ["", "α: " + "; ".join(sources) + "."]
    for r in sweep.rows:
        for label, where in (("failed", r.failed), ("errored", r.errored)):
            if where:
                shown = ", ".join(f"seed {s} {g}|{d}" for s, g, d in where[:20])
                more = f", … ({len(where)} in all)" if len(where) > 20 else ""
                lines.append(f"- {r.suite}::{r.check} ({solver_label(r.solver, names)}) "
                             f"{label}: {shown}{more}")
    return "\n".join(lines) + "\n"


def summary_table(sweep: Sweep) -> str:
    """The aggregate as a plain-text table, for the terminal."""
    names = sweep.info["solver_names"]
    rows = [_HEADER] + [_cells(r, names) for r in sweep.rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
    out = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)
