"""Seed sweeps: seeds × suites × solvers, and per check the failures over seeds against the
check's stated false-failure rate (docs/cli.md, "mfcheck sweep").

A sweep case is one case of a run (`mfcheck.check.Case`) at one seed, an
`mfcheck.executors.Task`; its result depends on the case and the seed only, never on where
or in which order it ran. The whole grid is one stream of tasks through one executor (its
worker processes, or one Dask cluster, serve every seed), seed by seed in order; each
seed's usual reports land in ``<report dir>/seed-<n>/``, and the aggregate, ``sweep.json``
and ``sweep.md``, beside them, rewritten as each seed completes, so an interrupted sweep
leaves the seeds it finished counted.

The aggregate has one row per (suite, check, solver): ``runs`` = the cases that gave a
verdict (pass or fail; one per seed, game and device), ``failures`` = those that failed,
errors, skips and expected failures counted apart. Each case of a check is one test at the
check's stated false-failure rate α (`stated_rate`, as ``Suite.check`` declares it), so a
correct solver fails Binomial(runs, α) of them. The row gives the observed rate with its
exact (Clopper–Pearson) interval at ``confidence`` and a verdict: ``above`` when the
interval lies above α (more false alarms than stated: a calibration problem, or a bug),
``below`` when it lies below (the check is conservative), ``consistent`` when α lies in
it, `UNSTATED` for a check that states no rate. A correct check is called ``above`` with
probability at most (1 − confidence)/2.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import executors, registry, runner
from .check import ERROR, FAIL, PASS, SKIP, XFAIL, Budget, CheckResult
from .errors import UsageError
from .report import atomic_write, markdown_cell, solver_label
from .stats import clopper_pearson

JSON_NAME, MARKDOWN_NAME = "sweep.json", "sweep.md"
CONSISTENT, ABOVE, BELOW, NO_RUNS = "consistent", "above", "below", "no runs"
#: The verdict of a check that states no false-failure rate: its failures are counted,
#: but there is nothing to compare them with.
UNSTATED = "no stated rate"


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


def expand(the_plan: runner.Plan, seeds: Iterable[int], budget: Budget | str,
           report_dir: Path) -> list[executors.Task]:
    """The grid, seed by seed: every case of the plan at every seed (reports of seed n in
    ``report_dir/seed-n``)."""
    budget = Budget(budget).value
    return [executors.Task(case, seed, budget, Path(report_dir) / f"seed-{seed}")
            for seed in seeds for case in the_plan.cases]


def stated_rate(suite: str, check: str) -> float | None:
    """The false-failure rate a check states per case (``Suite.check(...,
    false_failure_rate=)``: 0 for a deterministic check), or None where it states none."""
    return registry.get_suite(suite).checks[check].false_failure_rate


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
    #: The check's stated false-failure rate per case; None where it states none.
    alpha: float | None
    rate: float | None
    interval: tuple[float, float] | None
    confidence: float
    verdict: str
    #: (seed, game, device) of every failed case, to rerun it: ``mfcheck run --seed``.
    failed: list[tuple[int, str, str]]
    errored: list[tuple[int, str, str]]

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def verdict(failures: int, runs: int, alpha: float | None, confidence: float = 0.95
            ) -> tuple[float | None, tuple[float, float] | None, str]:
    """(observed rate, its Clopper–Pearson interval, verdict) for ``failures`` of ``runs``
    against the stated rate ``alpha`` (None: `UNSTATED`, nothing to compare with)."""
    if runs == 0:
        return None, None, NO_RUNS
    lo, hi = clopper_pearson(failures, runs, confidence)
    v = (UNSTATED if alpha is None else ABOVE if alpha < lo else BELOW if alpha > hi
         else CONSISTENT)
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
        alpha = stated_rate(suite, check)
        runs = counts[PASS] + counts[FAIL]
        rate, interval, v = verdict(counts[FAIL], runs, alpha, confidence)
        where = {status: [(seed, r.game, r.device) for seed, r in group if r.status == status]
                 for status in (FAIL, ERROR)}
        rows.append(Row(suite, check, solver, runs, counts[FAIL], counts[ERROR], counts[SKIP],
                        counts[XFAIL], alpha, rate, interval, confidence, v,
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


def run_sweep(suites: list[str], solver_specs: list[str] | None, devices: list[str],
              seeds: range, budget: Budget | str, report_dir: Path,
              timeout_s: float | None = None, progress: Any = None, *,
              checks: Iterable[str] | None = None, confidence: float = 0.95,
              the_plan: runner.Plan | None = None, workers: int = 1, executor: str = "local",
              scheduler: str | None = None) -> Sweep:
    """Run every case of the plan at every seed as one stream of tasks, through one
    executor (`mfcheck.executors.execute`: its worker processes or Dask cluster serve the
    whole grid), and aggregate.

    Each seed's reports (``seed-<n>/``) are current after each of its cases; the aggregate
    is rewritten as each seed completes. ``progress`` (a `mfcheck.progress.Progress`)
    sees the whole grid as one run.
    """
    if not 0 < confidence < 1:
        raise UsageError(f"--confidence must lie in (0, 1), got {confidence:g}")
    budget = Budget(budget)
    report_dir = Path(report_dir)
    the_plan = select_checks(the_plan or runner.plan(suites, solver_specs, devices), checks)
    grid = expand(the_plan, seeds, budget, report_dir)
    info = {"command": "sweep", "seeds": f"{seeds.start}:{seeds.stop}", "seeds_asked": len(seeds),
            "budget": budget.value, "devices": devices, "suites": the_plan.suites,
            "solvers": the_plan.solvers, "solver_names": the_plan.solver_names(),
            "checks": list(dict.fromkeys(c.check for c in the_plan.cases)),
            "cases_per_seed": len(the_plan.cases), "confidence": confidence,
            "executor": executor, "workers": workers,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    sweep = Sweep(seeds, [], [], [], info)
    try:
        write_sweep(report_dir, sweep)
    except OSError as exc:
        raise UsageError(f"cannot write the sweep's reports to {str(report_dir)!r}: "
                         f"{exc}") from None
    per_seed = len(the_plan.cases)
    reports: dict[int, runner.Reports] = {}
    start = time.monotonic()
    with closing(runner.finished_tasks(grid, grid, progress, budget, timeout_s,
                                       workers=workers, executor=executor,
                                       scheduler=scheduler)) as finished:
        for i, result in finished:
            seed = grid[i].seed
            if seed not in reports:
                reports[seed] = runner.Reports(report_dir / f"seed-{seed}",
                                               runner.run_info(the_plan, devices, seed, budget))
            seed_reports = reports[seed]
            seed_reports.add(i % per_seed, result)
            if seed_reports.complete:
                seed_reports.finish()
                # Seed order, whatever the order seeds complete in: the aggregate's rows
                # and lists are the same wherever the cases ran.
                sweep.finished = sorted([*sweep.finished, seed])
                sweep.results = sorted([*sweep.results, *((seed, r) for r in
                                                          seed_reports.in_order())],
                                       key=lambda pair: pair[0])
                sweep.rows = aggregate(sweep.results, confidence)
                info["wall_s"] = round(time.monotonic() - start, 1)
                write_sweep(report_dir, sweep)
    return sweep


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
            str(row.failures), str(row.errors), "-" if row.alpha is None else f"{row.alpha:g}",
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
    lines += ["| " + " | ".join(markdown_cell(c) for c in _cells(r, names)) + " |"
              for r in sweep.rows]
    lines += ["", "α: the false-failure rate per case the check states "
              "(`Suite.check(..., false_failure_rate=)`); 0: the check is deterministic, any "
              "failure is a bug; `-`: the check states none, its failures are counted, not "
              "judged."]
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
