"""Where the cases of a run execute: ``local`` worker processes, or a Dask cluster.

An executor takes a list of `Task` (a case, its seed, the budget, the report directory:
all a case's result depends on) and yields ``(index of the task, result)`` as tasks
finish, in whatever order they finish; the runner (or the sweep, whose tasks span many
seeds) writes every result to the reports and the progress display as it comes, and
orders the reports by index, so the executor changes nothing but the time.

- ``local`` (the default): long-lived worker processes on this machine, so torch is
  imported once, not once per case. A worker that runs past the timeout is killed and
  replaced, and one that dies (segfault, ``os._exit``) is replaced; either way its case
  becomes an ``error`` result and the run goes on. ``workers=0`` runs the cases in this
  process instead (the pytest plugin, tests): no isolation, no timeout.
- ``dask``: every case is a Dask future (``distributed``, extra ``mfcheck[dask]``) on a
  ``LocalCluster`` of ``workers`` processes, or on the scheduler at ``scheduler``. Inside a
  Dask worker the case runs exactly as locally: in a worker process of the local executor
  (one per Dask worker thread, kept from case to case for the run), so the timeout and
  the handling of a crashing solver are the same. A Dask worker that dies mid-case (kill
  -9, out of memory) has its case retried once on another worker by the scheduler
  (``distributed.scheduler.allowed-failures = 1``), then reported as ``error``; a case on a
  CUDA device goes only to workers that declare the resource ``cuda``. Each case
  process gets its machine's cores divided by the Dask worker threads on that machine.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from multiprocessing.connection import wait
from pathlib import Path
from typing import NamedTuple

from . import registry, solvers
from .check import ERROR, HARNESS, Budget, Case, CheckResult, Context, Suite
from .errors import MFCheckError, UsageError

EXECUTORS = ("local", "dask")
#: How long a fresh worker may take to import torch and mfcheck before the run gives up.
WORKER_START_TIMEOUT_S = 300.0


class Task(NamedTuple):
    """A case and all its result depends on besides the code: what an executor runs."""

    case: Case
    seed: int
    budget: str
    report_dir: Path | None

    @property
    def id(self) -> str:
        return f"{self.case.id}@seed={self.seed}"


def execute(tasks: list[Task], on_start: Callable[[int], None], *,
            executor: str = "local", workers: int = 1, timeout_s: float,
            scheduler: str | None = None) -> Iterator[tuple[int, CheckResult]]:
    """Run ``tasks`` (each ``run_case(*task)``); yield ``(index, result)`` as each ends.

    ``on_start(index)`` is called as a task is handed to a worker (for Dask: as a worker
    frees, with the next task in list order, the order in which the scheduler starts them).
    """
    if executor == "local":
        if scheduler is not None:
            raise UsageError("--scheduler needs --executor dask")
        if workers == 0 or not tasks:
            return _run_in_process(tasks, on_start)
        return _run_in_workers(tasks, on_start, workers, timeout_s)
    if executor == "dask":
        if workers < 1 and scheduler is None:
            raise UsageError(f"--executor dask needs --jobs 1 or more (the LocalCluster's "
                             f"workers), got {workers}")
        return _run_on_dask(tasks, on_start, workers, timeout_s, scheduler)
    raise UsageError(f"unknown executor {executor!r}; known executors: {', '.join(EXECUTORS)}")


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


# -- the local executor: each yields (index of the case, result) as cases finish -------

def _run_in_process(tasks: list[Task], on_start: Callable[[int], None]
                    ) -> Iterator[tuple[int, CheckResult]]:
    for i, task in enumerate(tasks):
        on_start(i)
        yield i, run_case(*task)


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


def _run_in_workers(tasks: list[Task], on_start: Callable[[int], None],
                    n_workers: int, timeout_s: float, *, threads: int | None = None,
                    pool: list[_Worker] | None = None) -> Iterator[tuple[int, CheckResult]]:
    """``pool``, if given, is a list of live workers to use and to leave alive after a
    clean finish (the Dask executor keeps one per Dask worker thread from case to case)."""
    ctx = _mp_context()
    pending = deque(enumerate(tasks))
    n_workers = max(1, min(n_workers, len(tasks)))
    # One core's share of torch threads each: workers whose thread pools outnumber the
    # cores make every small tensor operation wait (milliseconds instead of microseconds).
    threads = threads or max(1, (os.cpu_count() or 1) // n_workers)
    workers = pool if pool is not None else []
    workers += [_Worker(ctx, threads) for _ in range(n_workers - len(workers))]
    clean_exit = False
    try:
        while pending or any(w.busy for w in workers):
            for w in workers:
                if w.ready and w.busy is None and pending:
                    i, task = pending.popleft()
                    w.conn.send(task)
                    w.busy = (i, task.case, time.monotonic())
                    on_start(i)
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
        if pool is None or not clean_exit:
            for w in workers:
                w.stop(kill=not clean_exit)
            workers.clear()


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
            conn.send(error_result(job.case, f"result could not be sent back: "
                                   f"{type(exc).__name__}: {exc}", result.duration_s))


# -- the Dask executor ------------------------------------------------------------------

#: Seconds to wait for a scheduler to answer, and for a first worker to join.
DASK_CONNECT_TIMEOUT_S = 30.0
#: Dask's settings for a run: workers may start the case processes (a daemonic process may
#: not have children), and a case whose worker dies is retried once, then an error.
DASK_CONFIG = {"distributed.worker.daemon": False, "distributed.scheduler.allowed-failures": 1}

_case_processes: dict[int, tuple[str, list]] = {}  # Dask worker thread → (run id, pool)
_case_processes_lock = threading.Lock()


def _dask_case(task: Task, timeout_s: float, suite_modules: dict[str, str],
               shares: dict[str, int], run_id: str) -> CheckResult:
    """One case, inside a Dask worker: in this thread's local worker process for the run,
    with ``shares[this worker's address]`` torch threads (`_thread_shares`)."""
    from distributed import get_worker

    registry.SUITE_MODULES.update(suite_modules)
    worker = get_worker()
    threads = shares.get(worker.address) or max(1, (os.cpu_count() or 1) // worker.state.nthreads)
    with _case_processes_lock:
        old_run, pool = _case_processes.get(threading.get_ident(), (run_id, []))
        if old_run != run_id:  # a new run: fresh processes import the solvers afresh
            _stop_pool(pool)
            pool = []
        _case_processes[threading.get_ident()] = (run_id, pool)
    ((_, result),) = list(_run_in_workers([task], lambda i: None, 1, timeout_s,
                                          threads=threads, pool=pool))
    return result


def _end_run(run_id: str) -> None:
    """On every Dask worker after a run: stop that run's case processes."""
    with _case_processes_lock:
        for thread, (old_run, pool) in list(_case_processes.items()):
            if old_run == run_id:
                _stop_pool(pool)
                del _case_processes[thread]


def _stop_pool(pool: list) -> None:
    for w in pool:
        w.stop(kill=False)
    pool.clear()


def _is_daemon() -> bool:
    return multiprocessing.current_process().daemon


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise UsageError("--executor dask needs Dask's distributed package: pip install "
                         "'mfcheck[dask]'") from None
    return distributed


def local_cluster(distributed, n_workers: int, cuda: bool):
    """A LocalCluster on loopback with one thread a worker and a ``cuda`` resource when
    cases need it. Start it, and keep it, under ``dask.config.set(DASK_CONFIG)``: its
    Nannies read ``distributed.worker.daemon`` again each time they restart a worker that
    died, and a daemonic worker cannot start case processes."""
    return distributed.LocalCluster(
        n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None,
        host="127.0.0.1", resources={"cuda": 1} if cuda else None)


def _connect(distributed, n_workers: int, scheduler: str | None, cuda: bool):
    """A client of a new LocalCluster on loopback, or of the scheduler at ``scheduler``."""
    if scheduler is None:
        cluster = local_cluster(distributed, n_workers, cuda)
        return cluster, distributed.Client(cluster, set_as_default=False)
    try:
        client = distributed.Client(scheduler, timeout=DASK_CONNECT_TIMEOUT_S,
                                    set_as_default=False)
        client.wait_for_workers(1, timeout=DASK_CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise MFCheckError(f"cannot use the Dask scheduler at {scheduler!r}: "
                           f"{type(exc).__name__}: {exc}") from None
    return None, client


def _check_workers(client, cases: list[Case]) -> None:
    """Workers that cannot run the cases are bad set-up: say so before anything runs."""
    daemonic = [addr for addr, yes in client.run(_is_daemon).items() if yes]
    if daemonic:
        raise UsageError(
            f"Dask worker {daemonic[0]} is a daemonic process, which may not start the "
            f"process each case runs in (for --timeout); start the workers with "
            f"DASK_DISTRIBUTED__WORKER__DAEMON=False (see docs/cli.md)")
    if any(c.device.startswith("cuda") for c in cases):
        workers = client.scheduler_info(n_workers=-1)["workers"].values()
        if not any(w.get("resources", {}).get("cuda") for w in workers):
            raise UsageError("the run has CUDA cases but no Dask worker declares the resource "
                             "'cuda' (start GPU workers with --resources cuda=1)")


class _LostSchedulerLog(logging.Filter):
    """Drops what Dask's client logs when its scheduler is gone for good (its reconnection
    cancelled as the client closes, a traceback with an empty message; or given up):
    mfcheck says what happened in one line (`_outcome`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        cancelled = record.exc_info and isinstance(record.exc_info[1], asyncio.CancelledError)
        return not (cancelled or str(record.msg).startswith("Failed to reconnect to scheduler"))


def _thread_shares(client) -> dict[str, int]:
    """Torch threads for each Dask worker's case processes: its machine's cores divided by
    the Dask worker threads on that machine (as the local executor divides this one's),
    so that several workers on one machine do not oversubscribe it."""
    workers = client.scheduler_info(n_workers=-1)["workers"]
    per_host = Counter()
    for w in workers.values():
        per_host[w["host"]] += w["nthreads"]
    cores = client.run(os.cpu_count)
    return {address: max(1, (cores.get(address) or 1) // per_host[w["host"]])
            for address, w in workers.items()}


def _run_on_dask(tasks: list[Task], on_start: Callable[[int], None],
                 n_workers: int, timeout_s: float, scheduler: str | None
                 ) -> Iterator[tuple[int, CheckResult]]:
    distributed = _import_distributed()
    if not tasks:
        return
    import dask
    # For the whole run, not only at the start: an in-process Nanny (LocalCluster) reads
    # the settings again when it restarts a worker that died.
    with dask.config.set(DASK_CONFIG):
        yield from _dask_results(distributed, tasks, on_start, n_workers, timeout_s, scheduler)


def _dask_results(distributed, tasks: list[Task], on_start: Callable[[int], None],
                  n_workers: int, timeout_s: float, scheduler: str | None
                  ) -> Iterator[tuple[int, CheckResult]]:
    cases = [t.case for t in tasks]
    cuda = any(c.device.startswith("cuda") for c in cases)
    cluster, client = _connect(distributed, max(1, min(n_workers, len(tasks))), scheduler, cuda)
    run_id = uuid.uuid4().hex
    quiet = _LostSchedulerLog()
    client_log = logging.getLogger("distributed.client")
    client_log.addFilter(quiet)
    try:
        _check_workers(client, cases)
        shares = _thread_shares(client)
        suite_modules = dict(registry.SUITE_MODULES)
        index = {}
        for i, task in enumerate(tasks):
            future = client.submit(
                _dask_case, task, timeout_s, suite_modules, shares, run_id,
                key=f"mfcheck-{run_id}-{i}", retries=1,
                resources={"cuda": 1} if task.case.device.startswith("cuda") else None)
            index[future] = i
        started = deque(range(len(tasks)))
        for _ in range(sum(n for n in client.nthreads().values()) or 1):
            if started:
                on_start(started.popleft())
        for future in distributed.as_completed(index, loop=client.loop):
            i = index[future]
            yield i, _outcome(future, cases[i], scheduler)
            if started:
                on_start(started.popleft())
    finally:
        # (A cancelled future: the scheduler is gone, and client.run would try to reach it
        # for DASK_CONNECT_TIMEOUT_S.)
        try:
            if client.status == "running" and not any(f.cancelled() for f in index):
                client.run(_end_run, run_id)
        except Exception:  # the cluster is going away anyway
            pass
        client.close()
        client_log.removeFilter(quiet)
        if cluster is not None:
            cluster.close()


def _outcome(future, case: Case, scheduler: str | None) -> CheckResult:
    """The result of a finished future; a lost scheduler ends the run (MFCheckError)."""
    if future.status == "finished":
        return future.result()
    if future.cancelled():
        raise MFCheckError(f"the Dask scheduler{'' if scheduler is None else ' at ' + scheduler} "
                           f"went away mid-run; the finished results are in the reports")
    exc = future.exception()
    from distributed import KilledWorker
    if isinstance(exc, KilledWorker):
        return error_result(case, "the Dask worker running this case died, and so did the one "
                            "that retried it (distributed.scheduler.allowed-failures = 1)", 0.0)
    return error_result(case, f"case could not run on a Dask worker: {type(exc).__name__}: "
                        f"{exc}", 0.0)
