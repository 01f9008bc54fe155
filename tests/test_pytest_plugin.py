"""The pytest plugin: one pytest item per mfcheck case, and nothing without --mfcheck-solver."""

from __future__ import annotations

import pytest

from mfcheck import registry

try:
    from . import fake_solvers, fake_suite
except ImportError:  # tests/ is a plain folder on sys.path, not a package
    import fake_solvers
    import fake_suite

pytest_plugins = ["pytester"]
S = fake_solvers.spec


@pytest.fixture(autouse=True)
def _only_the_fake_suite(monkeypatch):
    monkeypatch.setattr(registry, "SUITE_MODULES", {fake_suite.NAME: fake_suite.__name__})


def run(pytester, *args):
    # In this process, so that the registry patched above is the one the plugin sees;
    # without plugins that only cost time here (hypothesis imports ~70 modules per run).
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "no:hypothesispytest",
                                        "-p", "no:benchmark", "--mfcheck-device", "cpu", *args)


def test_one_item_per_case_with_pass_fail_error_skip(pytester):
    result = run(pytester, "-v", "--mfcheck-suite", "fake", "--mfcheck-solver", S("Good"),
                 "--mfcheck-solver", S("Biased"), "--mfcheck-solver", S("NaN"))
    # uniform: Good passes, Biased fails, NaN errors; skipped: 3 skips; harness: 1 pass.
    result.assert_outcomes(passed=2, failed=1, errors=1, skipped=3)
    result.stdout.fnmatch_lines(["*collected 7 items", "",
                                 f"mfcheck::fake::uniform[[]tiny|{S('Good')}|cpu[]] PASSED*"])
    result.stdout.fnmatch_lines(["*ERROR at setup of fake::uniform*NaN*",
                                 "invalid output: policy #0 from NaN*not finite*"])
    result.stdout.fnmatch_lines(["*fake::uniform[[]tiny|*Biased|cpu[]]*",
                                 "max deviation from uniform 0.4",
                                 "measured: 0.4, expected: 0, tolerance: 1e-09"])
    assert "Traceback" not in result.stdout.str()


def test_k_selects_cases(pytester):
    result = run(pytester, "--mfcheck-solver", S("Good"), "--mfcheck-solver", S("Biased"),
                 "-k", "uniform and Good")
    result.assert_outcomes(passed=1)


def test_without_a_solver_it_adds_nothing(pytester):
    pytester.makepyfile("def test_plain(): pass")
    result = run(pytester, "--mfcheck-suite", "fake")
    result.assert_outcomes(passed=1)
    assert "mfcheck::" not in result.stdout.str()


def test_bad_solver_is_a_usage_error(pytester):
    result = run(pytester, "--mfcheck-solver", "nosuch.mod:X")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*mfcheck: solver 'nosuch.mod:X': cannot import*"])
