"""The ``mfcheck`` command: list, run, bench; exit codes and their one-line messages."""

from __future__ import annotations

import io
import json
import runpy
import signal
import subprocess
import sys
import time
import types
from dataclasses import astuple
from pathlib import Path

import pytest
import torch

import mfcheck
from mfcheck import progress as progress_module
from mfcheck import registry
from mfcheck.check import FAIL, PASS, Case, CheckResult
from mfcheck.cli import main
from mfcheck.progress import Progress

try:
    from . import fake_solvers, fake_suite
except ImportError:  # tests/ is a plain folder on sys.path, not a package
    import fake_solvers
    import fake_suite

S = fake_solvers.spec


@pytest.fixture(autouse=True)
def _only_the_fake_suite(monkeypatch):
    monkeypatch.setattr(registry, "SUITE_MODULES", {fake_suite.NAME: fake_suite.__name__})


def run_main(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(capsys, *argv) -> str:
    code, _, err = run_main(capsys, *argv)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("mfcheck: error: "), err
    return lines[0]


def test_list_shows_suites_checks_and_games(capsys):
    code, out, _ = run_main(capsys, "list")
    assert code == 0
    assert "fake  (role: planner)  a tiny suite for mfcheck's own tests" in out
    assert "uniform: The solver's second policy is uniform.  (games: tiny)" in out
    assert "harness: Checks mfcheck itself and draws a plot.  (games: -)  [checks mfcheck" in out


def test_run_all_passed_exits_0(capsys, tmp_path):
    code, out, _ = run_main(capsys, "run", "--solver", S("Good"), "--device", "cpu",
                            "--report-dir", str(tmp_path), "--jobs", "0")
    assert code == 0
    assert "PASS fake::uniform[tiny|" in out  # a plain line per case when not on a terminal
    assert ("solver checks: 1 passed, 0 failed, 0 errors, 1 skipped; "
            "mfcheck self-checks: 1 passed, 0 failed, 0 errors, 0 skipped") in out
    assert {p.name for p in tmp_path.iterdir()} >= {"report.json", "junit.xml", "report.md"}


def test_run_with_reference_solvers(capsys, tmp_path):
    code, out, _ = run_main(capsys, "run", "fake", "--device", "cpu", "--seed", "5", "--full",
                            "--report-dir", str(tmp_path), "--jobs", "0")
    assert code == 0
    data = json.loads((tmp_path / "report.json").read_text())
    assert (data["seed"], data["budget"], data["solvers"]) == (5, "full", [S("Good")])


@pytest.mark.parametrize("solver", ["Biased", "Raises"])
def test_a_failure_or_an_error_exits_1(capsys, tmp_path, solver):
    code, out, _ = run_main(capsys, "run", "fake", "--solver", S(solver), "--device", "cpu",
                            "--report-dir", str(tmp_path), "--jobs", "0")
    assert code == 1
    assert ("FAIL " if solver == "Biased" else "ERROR ") + "fake::uniform" in out


def test_unknown_suite_exits_2(capsys):
    assert "unknown suite 'nosuch'; known suites: fake" in usage_error(capsys, "run", "nosuch")


def test_unimportable_solver_exits_2(capsys):
    line = usage_error(capsys, "run", "--solver", "nosuch.mod:X")
    assert "solver 'nosuch.mod:X': cannot import 'nosuch.mod'" in line


def test_solver_that_fits_no_suite_exits_2(capsys):
    line = usage_error(capsys, "run", "fake", "--solver", S("NotASolver"))
    assert "implements no known solver protocol (solve, sample, learn or simulate" in line


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_cuda_exits_2(capsys):
    assert "torch sees no CUDA device" in usage_error(capsys, "run", "--device", "cuda")


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:  # argparse's own errors: exit 2 as well
        main(["run", "--quick", "--full"])
    assert exc.value.code == 2
    capsys.readouterr()
    assert usage_error(capsys, "run", "--jobs", "-1") == "mfcheck: error: --jobs must be 0 or " \
                                                          "more, got -1"


def test_bench_delegates_to_mfcheck_bench(monkeypatch):
    seen = []
    bench = types.ModuleType("mfcheck.bench")
    bench.main = lambda argv: seen.append(argv) or 7
    monkeypatch.setitem(sys.modules, "mfcheck.bench", bench)
    monkeypatch.setattr(mfcheck, "bench", bench, raising=False)
    assert main(["bench", "--help", "x"]) == 7
    assert seen == [["--help", "x"]]


def test_python_dash_m_runs_the_cli(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["mfcheck", "run", "nosuch"])
    with pytest.raises(SystemExit) as exc:
        runpy.run_path(str(Path(mfcheck.__file__).with_name("__main__.py")), run_name="__main__")
    assert exc.value.code == 2
    assert capsys.readouterr().err.startswith("mfcheck: error: unknown suite 'nosuch'")


def test_ctrl_c_keeps_finished_results_and_exits_130(tmp_path):
    driver = fake_suite.cli_driver(tmp_path)
    reports = tmp_path / "reports"
    proc = subprocess.Popen(
        [sys.executable, str(driver), "run", "fake", "--solver", "fake_solvers:Good",
         "--solver", "fake_solvers:Hangs", "--device", "cpu", "--report-dir", str(reports),
         "--jobs", "1"],  # one worker: Good's case finishes before Hangs' starts
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # until Good's case is on disk; Hangs now runs
            path = reports / "report.json"
            if path.exists() and json.loads(path.read_text())["results"]:  # never half-written
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == f"mfcheck: interrupted; finished results are in " \
                                           f"{reports}"
    data = json.loads((reports / "report.json").read_text())
    assert data["complete"] is False and data["planned"] == 5
    assert [(r["solver"], r["status"]) for r in data["results"]] == [("fake_solvers:Good",
                                                                       "pass")]
    assert not list(reports.glob(".*.tmp"))


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_on_a_terminal_redraws_one_line_and_keeps_failures():
    good = Case("fake", "uniform", "tiny", "m:Good", "cpu")
    bad = Case("fake", "uniform", "tiny", "m:Biased", "cpu")
    screen = FakeTerminal()
    progress = Progress(screen)
    progress.start([good, bad])
    for case, status in ((good, PASS), (bad, FAIL)):
        progress.case_started(case)
        progress.case_finished(case, CheckResult(*astuple(case), status, 0.4, 0.0, 1e-9, 0.1,
                                                 "off by 0.4"))
    progress.close()
    text = screen.getvalue()
    assert "\r\x1b[K[1/2] 1 passed, 0 failed, 0 errors, 0 skipped · " + good.id in text
    assert "FAIL " + bad.id + " 0.10s — off by 0.4\n" in text  # a failure stays on screen
    assert "PASS " + good.id not in text  # a pass only updates the status line
    assert text.endswith("\r\x1b[K")


def test_summary_table_fits_the_width():
    long = CheckResult("suite", "check", "game", "pkg.very.long.module.path:Solver" * 3, "cpu",
                       FAIL, 0.123456789, [1.0] * 10, 1e-9, 0.1, "message")
    table = progress_module.summary_table([long], width=80)
    assert all(len(line) <= 80 for line in table.splitlines())
    assert "…" in table and "FAIL" in table
