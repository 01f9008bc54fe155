"""The runner: planning, in-process and worker execution, broken solvers, reports per case."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from mfcheck import runner
from mfcheck.check import ERROR, FAIL, HARNESS, PASS, SKIP, Case
from mfcheck.errors import UsageError

try:
    from . import fake_solvers, fake_suite
except ImportError:  # tests/ is a plain folder on sys.path, not a package
    import fake_solvers
    import fake_suite

S = fake_solvers.spec


@pytest.fixture(autouse=True)
def _fake_suite(monkeypatch):
    fake_suite.register(monkeypatch)


def by_solver(results, check="uniform"):
    return {r.solver.rsplit(":", 1)[1]: r for r in results if r.check == check}


def test_plan_covers_every_check_solver_and_device():
    plan = runner.plan(["fake"], [S("Good"), S("Biased")], ["cpu"])
    assert plan.suites == ["fake"]
    assert plan.solvers == [S("Good"), S("Biased")]
    assert Case("fake", "uniform", "tiny", S("Good"), "cpu") in plan.cases
    assert Case("fake", "harness", "-", HARNESS, "cpu") in plan.cases
    assert len(plan.cases) == 2 * 2 + 1


def test_plan_without_solvers_uses_reference_solvers():
    plan = runner.plan(["fake"], None, ["cpu"])
    assert plan.solvers == [S("Good")]


@pytest.mark.parametrize("suites, solvers, message", [
    (["nosuch"], None, "unknown suite 'nosuch'"),
    (["fake"], ["nosuch.mod:X"], "cannot import 'nosuch.mod'"),
    (["fake"], [S("NotASolver")], "implements no known solver protocol"),
])
def test_plan_usage_errors(suites, solvers, message):
    with pytest.raises(UsageError, match=message):
        runner.plan(suites, solvers, ["cpu"])


def test_in_process_turns_every_broken_solver_into_an_error(tmp_path):
    names = ["Good", "Biased", "Raises", "NaN", "WrongShape", "SysExit"]
    results = runner.run(["fake"], [S(n) for n in names], ["cpu"], 0, "quick", tmp_path,
                         workers=0)
    got = by_solver(results)
    assert got["Good"].status == PASS
    assert got["Biased"].status == FAIL and got["Biased"].measured == pytest.approx(0.4)
    assert got["Raises"].status == ERROR and "RuntimeError: boom" in got["Raises"].message
    assert got["NaN"].status == ERROR and "not finite" in got["NaN"].message
    assert got["WrongShape"].status == ERROR and "shape (3, 3)" in got["WrongShape"].message
    assert got["SysExit"].status == ERROR and "sys.exit(4)" in got["SysExit"].message
    assert {r.status for r in results if r.check == "skipped"} == {SKIP}


def test_workers_survive_a_hang_and_an_exit(tmp_path):
    """One worker: the hung case times out, the exiting one errors, later cases still run."""
    solvers = [S("Hangs"), S("Exits"), S("Good")]
    results = runner.run(["fake"], solvers, ["cpu"], 0, "quick", tmp_path, timeout_s=3,
                         workers=1)
    got = by_solver(results)
    assert got["Hangs"].status == ERROR
    assert got["Hangs"].message == "solver did not finish within 3 s"
    assert got["Exits"].status == ERROR and "exited with code 3" in got["Exits"].message
    assert got["Good"].status == PASS
    assert len(results) == 3 * 2 + 1  # every case has a result, in plan order
    assert [r.check for r in results] == ["uniform"] * 3 + ["skipped"] * 3 + ["harness"]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["complete"] and len(report["results"]) == len(results)


def test_a_pool_of_two_workers_returns_results_in_plan_order(tmp_path):
    results = runner.run(["fake"], [S("Good"), S("Biased")], ["cpu"], 0, "quick", tmp_path,
                         workers=2)
    plan = runner.plan(["fake"], [S("Good"), S("Biased")], ["cpu"])
    assert [(r.check, r.solver) for r in results] == [(c.check, c.solver) for c in plan.cases]
    assert by_solver(results)["Biased"].status == FAIL


class ReadsReportsOnDisk:
    """A progress listener that checks, after each case, that the reports already hold it."""

    def __init__(self, report_dir):
        self.report_dir = report_dir
        self.seen = []

    def start(self, cases):
        self.total = len(cases)

    def case_started(self, case):
        pass

    def case_finished(self, case, result):
        self.seen.append(result)
        data = json.loads((self.report_dir / "report.json").read_text())
        assert len(data["results"]) == len(self.seen)
        assert data["results"][-1]["status"] == result.status
        assert data["complete"] is False and data["planned"] == self.total
        junit = ET.parse(self.report_dir / "junit.xml").getroot()
        assert int(junit.get("tests")) == len(self.seen)
        rows = [line for line in (self.report_dir / "report.md").read_text().splitlines()
                if line.startswith(("| PASS |", "| FAIL |", "| ERROR |", "| SKIP |"))]
        assert len(rows) == len(self.seen)

    def close(self):
        pass


def test_reports_are_on_disk_after_each_case(tmp_path):
    listener = ReadsReportsOnDisk(tmp_path)
    results = runner.run(["fake"], [S("Good"), S("Raises")], ["cpu"], 7, "quick", tmp_path,
                         progress=listener, workers=0)
    assert listener.seen == results
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left behind


def test_run_case_never_raises():
    case = Case("fake", "uniform", "tiny", "no.such:Solver", "cpu")
    result = runner.run_case(case, 0, "quick", None)
    assert result.status == ERROR and "cannot import 'no.such'" in result.message


@pytest.mark.parametrize("passed, status, prefix", [
    (False, "xfail", "expected to fail (a baseline)"),
    (True, PASS, "passed, though expected to fail (a baseline)")])
def test_an_outcome_marked_expected_failure(passed, status, prefix):
    from mfcheck.check import Outcome, Suite

    from .power import CTX

    suite = Suite("x", role="planner", description="", reference_solvers=[])
    suite.check("c")(lambda solver, game, ctx: Outcome(passed, 0.9, 0.95, None, "G/G* = 0.9",
                                                       expected_failure="a baseline"))
    result = suite.run(Case("x", "c", "-", "s", "cpu"), object(), CTX)
    assert result.status == status and result.message.startswith(prefix)


def test_a_suite_of_two_roles_plans_each_check_for_the_solvers_it_applies_to():
    from mfcheck.check import Outcome, Suite
    from mfcheck.protocols import role_of

    class Planner:
        def solve(self, game, *, seed):
            yield from ()

    class Simulator:
        def simulate(self, game, policy, **kwargs):
            return None

    suite = Suite("two", role=("planner", "simulator"), description="", reference_solvers=[])
    for role in ("planner", "simulator"):
        suite.check(f"for-{role}", applies=lambda s, role=role: role_of(s) == role)(
            lambda solver, game, ctx: Outcome(True, None, None, None, ""))
    cases = suite.cases([("p", Planner()), ("s", Simulator()), ("x", object())], ["cpu"])
    assert suite.role == "planner/simulator"
    assert sorted((c.check, c.solver) for c in cases) == [("for-planner", "p"),
                                                          ("for-simulator", "s")]
