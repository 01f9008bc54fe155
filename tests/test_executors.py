"""The Dask executor: a run on a real LocalCluster (loopback, two worker processes) gives
the local run's report; a worker killed mid-case loses nothing; a scheduler that goes
away ends the run with the finished results on disk."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")

from mfcheck import executors, runner  # noqa: E402
from mfcheck.check import ERROR, PASS  # noqa: E402
from mfcheck.solvers import with_args  # noqa: E402

try:
    from . import fake_solvers, fake_suite
except ImportError:  # tests/ is a plain folder on sys.path, not a package
    import fake_solvers
    import fake_suite

S = fake_solvers.spec


class Slow(fake_solvers.Good):
    """The uniform policy after ``seconds``; first it leaves a file in ``marker_dir`` named
    after the process that runs the case's worker process (the Dask worker)."""

    def __init__(self, marker_dir: str, seconds: float = 3.0) -> None:
        self.marker_dir, self.seconds = Path(marker_dir), seconds

    def solve(self, game, *, seed):
        parent = multiprocessing.parent_process()
        (self.marker_dir / f"{parent.pid}.{os.getpid()}").touch()
        time.sleep(self.seconds)
        yield from super().solve(game, seed=seed)


@pytest.fixture(autouse=True)
def _fake_suite(monkeypatch):
    fake_suite.register(monkeypatch)


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster for the module (its startup costs seconds), set up as the runner
    sets up its own; Dask's settings hold while it starts, and then only while a run
    sets them (as for the runner's own cluster)."""
    import dask
    with dask.config.set(executors.DASK_CONFIG):
        c = executors.local_cluster(distributed, 2, cuda=False)
    with c:
        yield c


def report(report_dir: Path) -> dict:
    """report.json less what may differ between two runs of the same cases: times."""
    data = json.loads((report_dir / "report.json").read_text())
    for r in data["results"]:
        r.pop("duration_s")
        r["artifacts"] = [Path(a).relative_to(report_dir).as_posix() for a in r["artifacts"]]
    data.pop("started")
    return data


def two_route_cases(n: int = 2):
    """A few of two-route's cases on its reference planners (seconds each, not minutes)."""
    plan = runner.plan(["two-route"], None, ["cpu"])
    plan.cases = plan.cases[-n:]
    return plan


def run_both(tmp_path, suites, specs, scheduler, plan=None):
    """The same run with the local executor (one worker) and on the cluster."""
    local = runner.run(suites, specs, ["cpu"], 3, "quick", tmp_path / "local", workers=1,
                       the_plan=plan)
    dask = runner.run(suites, specs, ["cpu"], 3, "quick", tmp_path / "dask", the_plan=plan,
                      executor="dask", scheduler=scheduler)
    return local, dask


def test_a_dask_run_reports_what_a_local_run_reports(tmp_path, cluster):
    specs = [S("Good"), S("Biased"), S("Raises"), S("NaN")]
    local, dask = run_both(tmp_path, ["fake"], specs, cluster.scheduler_address)
    assert [r.status for r in dask] == [r.status for r in local]
    assert {r.status for r in local} >= {PASS, "fail", ERROR}
    assert report(tmp_path / "dask") == report(tmp_path / "local")


def test_a_real_suite_gives_equal_measured_values(tmp_path, cluster):
    plan = two_route_cases()
    local, dask = run_both(tmp_path, plan.suites, None, cluster.scheduler_address, plan)
    assert [(r.status, r.measured, r.expected) for r in dask] == \
           [(r.status, r.measured, r.expected) for r in local]
    assert report(tmp_path / "dask") == report(tmp_path / "local")


def test_the_timeout_holds_on_a_dask_worker(tmp_path, cluster):
    results = runner.run(["fake"], [S("Hangs"), S("Exits")], ["cpu"], 0, "quick", tmp_path,
                         timeout_s=2, executor="dask", scheduler=cluster.scheduler_address)
    by = {r.solver.rsplit(":", 1)[1]: r for r in results if r.check == "uniform"}
    assert by["Hangs"].message == "solver did not finish within 2 s"
    assert by["Exits"].status == ERROR and "exited with code 3" in by["Exits"].message


def test_a_worker_killed_mid_case_changes_nothing_but_the_time(tmp_path, cluster):
    markers = tmp_path / "markers"
    markers.mkdir()
    slow = with_args(f"{__name__}:Slow", {"marker_dir": str(markers)})
    pids = set(distributed.Client(cluster, set_as_default=False).run(os.getpid).values())
    killed = []

    def kill_the_first_worker_to_start_a_case():
        deadline = time.monotonic() + 120
        while not list(markers.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
        worker = int(next(markers.iterdir()).name.split(".")[0])
        assert worker in pids  # the case runs under a Dask worker of this cluster
        os.kill(worker, signal.SIGKILL)
        killed.append(worker)

    killer = threading.Thread(target=kill_the_first_worker_to_start_a_case)
    killer.start()
    dask = runner.run(["fake"], [slow, S("Good")], ["cpu"], 0, "quick", tmp_path / "dask",
                      executor="dask", scheduler=cluster.scheduler_address)
    killer.join()
    assert killed and len(list(markers.iterdir())) >= 2  # killed, then run again
    client = distributed.Client(cluster, set_as_default=False)
    try:  # the worker restarted in the dead one's place can run cases too
        client.wait_for_workers(2, timeout=60)
        assert not any(client.run(executors._is_daemon).values())
    finally:
        client.close()
    local = runner.run(["fake"], [slow, S("Good")], ["cpu"], 0, "quick", tmp_path / "local",
                       workers=1)
    assert [r.status for r in dask] == [r.status for r in local]
    assert report(tmp_path / "dask") == report(tmp_path / "local")


def test_case_processes_share_each_machine_s_cores_among_its_dask_threads(cluster):
    client = distributed.Client(cluster, set_as_default=False)
    try:
        shares = executors._thread_shares(client)
    finally:
        client.close()
    # Two single-threaded workers on this machine: each case process gets half the cores,
    # as the local executor's two workers would (not each Dask worker's whole machine).
    assert set(shares) == set(cluster.scheduler_info["workers"])
    assert set(shares.values()) == {max(1, (os.cpu_count() or 1) // 2)}


def wait_for(predicate, what: str, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"no {what} after {seconds:g} s"
        time.sleep(0.05)


def spawn(module: str, *args: str, log: Path) -> subprocess.Popen:
    """``python -m module args`` in a session of its own (to kill it with its children)."""
    # A worker elsewhere imports the suites and solvers as installed there: here, tests/.
    path = os.pathsep.join(filter(None, [str(Path(__file__).resolve().parent),
                                         os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False", "PYTHONPATH": path}
    with open(log, "w") as out:
        return subprocess.Popen([sys.executable, "-m", module, *args], stdout=out,
                                stderr=subprocess.STDOUT, env=env, start_new_session=True)


def test_a_lost_scheduler_ends_the_run_with_exit_1_and_the_results_on_disk(tmp_path):
    """A scheduler of its own (it is killed), with one worker, as `dask scheduler` and
    `dask worker` start them on other machines."""
    address_file, reports, markers = tmp_path / "scheduler.json", tmp_path / "r", tmp_path / "m"
    markers.mkdir()
    processes = [spawn("distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", "0",
                       "--no-dashboard", "--scheduler-file", str(address_file),
                       log=tmp_path / "scheduler.log")]
    try:
        wait_for(address_file.exists, "scheduler")
        address = json.loads(address_file.read_text())["address"]
        processes.append(spawn("distributed.cli.dask_worker", address, "--nthreads", "1",
                               "--no-nanny", "--no-dashboard", log=tmp_path / "worker.log"))
        slow = with_args(f"{__name__.rpartition('.')[2]}:Slow",
                         {"marker_dir": str(markers), "seconds": 5.0})
        run = subprocess.Popen(
            [sys.executable, str(fake_suite.cli_driver(tmp_path)), "run", "fake", "--solver",
             "fake_solvers:Good", "--solver", slow, "--device", "cpu", "--executor", "dask",
             "--scheduler", address, "--report-dir", str(reports)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        processes.append(run)

        def a_result_on_disk_and_slow_running() -> bool:
            assert run.poll() is None, run.communicate()
            path = reports / "report.json"
            return (path.exists() and bool(json.loads(path.read_text())["results"])
                    and any(markers.iterdir()))

        wait_for(a_result_on_disk_and_slow_running, "finished case while Slow runs")
        os.kill(processes[0].pid, signal.SIGKILL)
        out, err = run.communicate(timeout=120)
    finally:
        for process in processes:
            if process.poll() is None and process is run:
                run.kill()
            elif process.poll() is None:  # the scheduler or the worker, with its children
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert run.returncode == 1, err
    assert err.strip().splitlines() == [
        f"mfcheck: error: the Dask scheduler at {address} went away mid-run; the finished "
        f"results are in the reports"]  # one line: no traceback from Dask
    data = json.loads((reports / "report.json").read_text())
    assert data["complete"] is False and 0 < len(data["results"]) < data["planned"]
    assert all(r["status"] == PASS for r in data["results"])
