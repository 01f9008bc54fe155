"""The reports: report.json's schema, valid JUnit, report.md, atomic writes."""

from __future__ import annotations

import json
import os
import signal
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mfcheck import report
from mfcheck.check import ERROR, FAIL, PASS, SKIP, XFAIL, CheckResult
from mfcheck.report import RunInfo, write_reports


def result(status, *, suite="s1", check="c", solver="pkg.mod:Solver", message="msg",
           measured=0.5, artifacts=()):
    return CheckResult(suite, check, "g", solver, "cpu", status, measured, 0.0, 1e-6, 0.25,
                       message, list(artifacts))


@pytest.fixture
def info():
    return RunInfo(seed=3, budget="quick", devices=["cpu"], suites=["s1", "s2"],
                   solvers=["pkg.mod:Solver"], planned=5)


@pytest.fixture
def results():
    return [result(PASS), result(FAIL, message="off by 0.5"),
            result(ERROR, suite="s2", message="Solver.solve raised RuntimeError: boom\nline 2"),
            result(SKIP, suite="s2", message="not on cpu")]


def test_json_schema(tmp_path, info, results):
    write_reports(tmp_path, info, results)
    data = json.loads((tmp_path / "report.json").read_text())
    assert {"mfcheck_version", "seed", "budget", "devices", "suites", "solvers", "started",
            "results", "summary"} <= set(data)
    assert data["seed"] == 3 and data["budget"] == "quick" and data["devices"] == ["cpu"]
    assert data["summary"] == {"passed": 1, "failed": 1, "errors": 1, "skipped": 1,
                               "xfailed": 0}
    assert data["results"][1] == results[1].to_dict()
    assert data["complete"] is False


def test_json_is_strict_even_with_nan(tmp_path, info):
    write_reports(tmp_path, info, [result(FAIL, measured=[float("nan"), float("inf")])])

    def reject(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    data = json.loads((tmp_path / "report.json").read_text(), parse_constant=reject)
    assert data["results"][0]["measured"] == ["nan", "inf"]


def test_junit_is_valid_and_counts(tmp_path, info, results):
    results.append(result(FAIL, message="control \x00\x1b characters & <tags>"))
    write_reports(tmp_path, info, results)
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"),
            root.get("skipped")) == ("5", "2", "1", "1")
    suites = {ts.get("name"): ts for ts in root.iter("testsuite")}
    assert list(suites) == ["s1", "s2"]
    names = [tc.get("name") for tc in suites["s1"].iter("testcase")]
    assert names[0] == "c[g|pkg.mod:Solver|cpu]"
    failure = suites["s1"].find("testcase/failure")
    assert failure.get("message") == "off by 0.5" and "measured: 0.5" in failure.text
    error = suites["s2"].find("testcase/error")
    assert error.get("message") == "Solver.solve raised RuntimeError: boom"
    assert suites["s2"].find("testcase/skipped").get("message") == "not on cpu"


def test_an_expected_failure_is_reported_as_such_and_is_not_a_failure(tmp_path, info):
    write_reports(tmp_path, info, [result(PASS), result(XFAIL, message="baseline fails")])
    assert json.loads((tmp_path / "report.json").read_text())["summary"]["xfailed"] == 1
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert (root.get("failures"), root.get("skipped")) == ("0", "1")
    assert root.find(".//testcase/skipped").get("type") == "xfail"
    md = (tmp_path / "report.md").read_text()
    assert "1 expected failures" in md and "| XFAIL |" in md
    assert "## Failures and errors" not in md


def test_markdown_header_failures_first_and_artifact_links(tmp_path, info, results):
    plot = tmp_path / "plots" / "conv ergence.png"
    results.insert(0, result(PASS, artifacts=[str(plot)]))
    write_reports(tmp_path, info, results, complete=True)
    md = (tmp_path / "report.md").read_text()
    for needle in ("mfcheck | ", "torch | ", "devices | cpu", "seed | 3", "budget | quick",
                   "suites | s1, s2", "`pkg.mod:Solver`", "run | complete"):
        assert needle in md
    assert md.index("## Failures and errors") < md.index("## s1") < md.index("## s2")
    assert "boom<br>line 2" in md  # a multi-line message stays in its table cell
    s1 = md[md.index("## s1"):md.index("## s2")]
    assert s1.index("| FAIL |") < s1.index("| PASS |")
    assert "[conv ergence.png](plots/conv%20ergence.png)" in md


def test_atomic_write_keeps_the_old_file_when_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "report.json"
    report.atomic_write(path, "old")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        report.atomic_write(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="signals reach only the main thread")
def test_ctrl_c_while_writing_waits_until_all_three_reports_agree(tmp_path, monkeypatch,
                                                                  info, results, request):
    real_to_junit = report.to_junit

    def interrupted_to_junit(*args):
        os.kill(os.getpid(), signal.SIGINT)
        return real_to_junit(*args)

    monkeypatch.setattr(report, "to_junit", interrupted_to_junit)
    # Ctrl-C raises KeyboardInterrupt, as in a terminal, even where this process inherited
    # SIGINT ignored (a shell without job control starts background commands so).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, previous))
    with pytest.raises(KeyboardInterrupt):
        write_reports(tmp_path, info, results)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml", "report.json",
                                                           "report.md"]
    assert ET.parse(tmp_path / "junit.xml").getroot().get("tests") == "4"


def test_atomic_write_replaces_in_one_step(tmp_path, monkeypatch):
    """The new content goes to a temporary file in the same folder, then one os.replace."""
    calls = []
    real_replace = os.replace

    def spy(src, dst):
        assert Path(src).parent == tmp_path and Path(src).read_text() == "new"
        calls.append(Path(dst).name)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    report.atomic_write(tmp_path / "junit.xml", "new")
    assert calls == ["junit.xml"] and (tmp_path / "junit.xml").read_text() == "new"


def test_format_value():
    assert report.format_value(None) == "-"
    assert report.format_value(0.123456789) == "0.123457"
    assert report.format_value(list(range(10))) == "[0, 1, 2, 3, …]"
