"""Running cases: plan them, execute each one in a worker process, report as they finish.

Each case runs in a long-lived worker process, so torch is imported once, not once
per case. A worker that runs past the timeout is killed and replaced, and one that
dies (segfault, ``os._exit``) is replaced; either way its case becomes an ``error``
result and the run goes on. ``workers=0`` runs the cases in this process instead
(the pytest plugin, tests): no isolation, no timeout.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from . import registry, solvers
from .check import ERROR, HARNESS, Budget, Case, CheckResult, Context, Suite
from .errors import MFCheckError, UsageError
from .protocols import role_of, solver_name
from .report import RunInfo, write_reports

DEFAULT_TIMEOUT_S = {Budget.QUICK: 300.0, Budget.FULL: 3600.0}
#: How long a fresh worker may take to import torch and mfcheck before the run gives up.
WORKER_START_TIMEOUT_S = 300.0


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
        progress: Any = None, *, workers: int = 1, the_plan: Plan | None = None
        ) -> list[CheckResult]:
    """Run every case of the plan; the reports in ``report_dir`` are current after each case.

    ``the_plan``, if given, is ``plan(suites, solver_specs, devices)`` made beforehand.

    ``progress`` receives ``start(cases)``, ``case_started(case)``,
    ``case_finished(case, result)`` and ``close()`` (see `mfcheck.progress.Progress`).
    ``workers`` is the number of worker processes; 0 runs in this process.
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
    finished = (_run_in_process(cases, job, on_start) if workers == 0 or not cases
                else _run_in_workers(cases, job, on_start, workers, timeout_s))
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


def run_case(case: Case, seed: int, budget: Budget | str, report_dir: Path | None
             ) -> CheckResult:
    """Run one case here and now; whatever goes wrong becomes an ``error`` result."""
    import torch

    start = time.perf_counter()
    try:
        suite: Suite = registry.get_suite(case.suite)
        solver = None if case.solver == HARNESS else solvers.load(case.solver)
        ctx = Context(seed, Budget(budget), torch.device(case.device), report_dir)
        return suite.run(case, solver, ctx)
    except SystemExit as exc:  # a solver calling sys.exit() must not end the run
        return error_result(case, f"sys.exit({exc.code!r}) was called while running the case",
                            time.perf_counter() - start)
    except Exception as exc:
        return error_result(case, f"case could not run: {type(exc).__name__}: {exc}",
                            time.perf_counter() - start)


def error_result(case: Case, message: str, duration_s: float) -> CheckResult:
    return CheckResult(case.suite, case.check, case.game, case.solver, case.device, ERROR,
                       None, None, None, duration_s, message)


# -- executors: each yields (index of the case, result) as cases finish ------------------

def _run_in_process(cases: list[Case], job: tuple, on_start: Callable[[Case], None]
                    ) -> Iterator[tuple[int, CheckResult]]:
    for i, case in enumerate(cases):
        on_start(case)
        yield i, run_case(case, *job)


class _Worker:
    """One worker process and the pipe to it; ``busy`` = (index, case, sent_at) or None."""

    def __init__(self, ctx, threads: int) -> None:
        self.conn, child_conn = ctx.Pipe()
        # The fork server started earlier: hand over what may have changed since (suites
        # registered at run time, sys.path, the working directory, the environment).
        self.process = ctx.Process(target=_worker_main, name="mfcheck-worker",
                                   args=(child_conn, dict(registry.SUITE_MODULES),
                                         list(sys.path), os.getcwd(), dict(os.environ),
                                         threads))
        self.process.start()
        child_conn.close()
        self.started_at = time.monotonic()
        self.ready = False
        self.busy: tuple[int, Case, float] | None = None

    def stop(self, *, kill: bool) -> None:
        if not kill:
            try:
                self.conn.send(None)
                self.process.join(timeout=5)
            except OSError:
                pass
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.conn.close()


def _mp_context():
    """``forkserver`` where there is one, else ``spawn``.

    Both are safe with CUDA: no worker is forked from a process that touched it. The
    fork server imports torch and mfcheck once, and forks workers from there, so a
    worker killed after a timeout or a crash is replaced in milliseconds, where a spawned
    one takes seconds to import torch again. (Windows has only spawn.)
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    return ctx


def _run_in_workers(cases: list[Case], job: tuple, on_start: Callable[[Case], None],
                    n_workers: int, timeout_s: float) -> Iterator[tuple[int, CheckResult]]:
    ctx = _mp_context()
    pending = deque(enumerate(cases))
    n_workers = max(1, min(n_workers, len(cases)))
    # One core's share of torch threads each: workers whose thread pools outnumber the
    # cores make every small tensor operation wait (milliseconds instead of microseconds).
    threads = max(1, (os.cpu_count() or 1) // n_workers)
    workers = [_Worker(ctx, threads) for _ in range(n_workers)]
    clean_exit = False
    try:
        while pending or any(w.busy for w in workers):
            for w in workers:
                if w.ready and w.busy is None and pending:
                    i, case = pending.popleft()
                    w.conn.send((case, *job))
                    w.busy = (i, case, time.monotonic())
                    on_start(case)
            wait(_handles(workers), timeout=_seconds_to_next_deadline(workers, timeout_s))
            for w in list(workers):
                outcome = _poll(w, timeout_s)
                if outcome is None:
                    continue
                if isinstance(outcome, tuple):  # (index, result) of a finished case
                    yield outcome
                else:  # the worker hung or died: its case is an error, the worker is replaced
                    if w.busy:
                        i, case, sent = w.busy
                        yield i, error_result(case, outcome, time.monotonic() - sent)
                    w.stop(kill=True)
                    workers.remove(w)
                    if pending:
                        workers.append(_Worker(ctx, threads))
        clean_exit = True
    finally:
        for w in workers:
            w.stop(kill=not clean_exit)


def _handles(workers: list[_Worker]) -> list:
    return [w.conn for w in workers] + [w.process.sentinel for w in workers]


def _seconds_to_next_deadline(workers: list[_Worker], timeout_s: float) -> float:
    now = time.monotonic()
    deadlines = [w.busy[2] + timeout_s if w.busy else w.started_at + WORKER_START_TIMEOUT_S
                 for w in workers if w.busy or not w.ready]
    return max(0.0, min(deadlines) - now) if deadlines else WORKER_START_TIMEOUT_S


def _poll(w: _Worker, timeout_s: float) -> tuple[int, CheckResult] | str | None:
    """What happened to ``w``: a finished case, a reason it must be replaced, or nothing."""
    if w.conn.poll():
        try:
            message = w.conn.recv()
        except (EOFError, OSError):
            return _death(w)
        if message == "ready":
            w.ready = True
            return None
        i, _, _ = w.busy
        w.busy = None
        return i, message
    if not w.process.is_alive():
        return _death(w)
    if w.busy and time.monotonic() - w.busy[2] > timeout_s:
        return f"solver did not finish within {timeout_s:g} s"
    if not w.ready and time.monotonic() - w.started_at > WORKER_START_TIMEOUT_S:
        raise MFCheckError(f"a worker process did not start within "
                           f"{WORKER_START_TIMEOUT_S:g} s")
    return None


def _death(w: _Worker) -> str:
    w.process.join(timeout=5)
    code = w.process.exitcode
    if not w.ready:  # nothing of the user's ran yet: the environment itself is broken
        raise MFCheckError(f"a worker process could not start (exit code {code})")
    if code is not None and code < 0:
        try:
            how = f"was killed by signal {signal.Signals(-code).name}"
        except ValueError:
            how = f"was killed by signal {-code}"
    else:
        how = f"exited with code {code}"
    return f"worker process {how} while running this case"


def _worker_main(conn, suite_modules: dict[str, str], path: list[str], cwd: str,
                 environ: dict[str, str], threads: int) -> None:
    """A worker's life: announce itself, then run the cases it is sent until told to stop."""
    import torch

    torch.set_num_threads(threads)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent to handle
    sys.path[:] = path
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(environ)
    # If the parent dies without killing us (SIGKILL, OOM), a hung solver must not linger.
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=lambda: (wait([parent.sentinel]), os._exit(1)),
                         daemon=True).start()
    registry.SUITE_MODULES.clear()
    registry.SUITE_MODULES.update(suite_modules)
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except EOFError:  # the parent is gone
            return
        if job is None:
            return
        result = run_case(*job)
        try:
            conn.send(result)
        except Exception as exc:  # e.g. a measured value that does not pickle
            conn.send(error_result(job[0], f"result could not be sent back: "
                                   f"{type(exc).__name__}: {exc}", result.duration_s))
