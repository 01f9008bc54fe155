"""``mfcheck validate``: the report card, declared exemptions, ``--strict``, the headline
that keeps mfcheck's self-checks apart, and exit 2 when nothing is checked."""

from __future__ import annotations

import json

import pytest

from mfcheck.cli import main

try:
    from . import cli_suite
except ImportError:  # tests/ is a plain folder on sys.path, not a package
    import cli_suite

S = cli_suite.spec


@pytest.fixture(autouse=True)
def _only_the_declarations_suite(monkeypatch):
    cli_suite.register(monkeypatch)


def run_main(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def validate(capsys, tmp_path, spec, *more):
    return run_main(capsys, "validate", spec, "--device", "cpu", "--jobs", "0",
                    "--report-dir", str(tmp_path), *more)


def card_of(out: str) -> str:
    return out[out.index("Report card:"):]


def test_card_lists_each_exemption_and_what_it_exempted(capsys, tmp_path):
    code, out, _ = validate(capsys, tmp_path, S("Exempt"))
    card = card_of(out)
    assert code == 0, card
    assert card.startswith(f"Report card: exempt ({S('Exempt')}), a planner")
    assert "The solver's checks: 4 cases on 3 games" in card  # cycles, beats-baseline, sized ×2
    assert "mfcheck's self-checks (they test mfcheck's own kernels and answers, not the " \
           "solver): 1 passed" in card
    lines = card.splitlines()
    exempted = lines[lines.index(next(l for l in lines if l.startswith("Declared exemptions"))):]
    text = "\n".join(exempted)
    assert "  convergent = False\n    not run: declarations::converges (2 games); it applies " \
           "to planners meant to converge" in text
    assert "  baseline = True\n    xfail: declarations::beats-baseline [g1|cpu] — expected to " \
           "fail (a baseline): reached 0.5 of 1" in text
    assert "  max_size = 8\n    skip: declarations::sized [L=64|cpu] — declares max_size 8 < " \
           "L = 64" in text
    assert lines[-2] == ("VERDICT: PASS — 3 checks on 2 games (1 case skipped); 3 exemptions "
                         "declared (see above)")


def test_strict_turns_the_exemptions_into_a_failure(capsys, tmp_path):
    code, out, _ = validate(capsys, tmp_path, S("Exempt"), "--strict")
    assert code == 1
    assert "VERDICT: FAIL — 3 checks on 2 games (1 case skipped); 3 exemptions declared " \
           "(see above); --strict counts every declared exemption as a failure" in out


def test_a_solver_that_declares_nothing_is_judged_on_everything(capsys, tmp_path):
    code, out, _ = validate(capsys, tmp_path, S("Planner"), "--strict")
    card = card_of(out)
    assert code == 1  # beats-baseline fails, and nothing excuses it
    assert "Declared exemptions: none" in card
    assert "  FAIL   declarations::beats-baseline  1 failed\n" \
           "         FAIL [g1|cpu]: reached 0.5 of 1" in card
    assert card.splitlines()[-2] == ("VERDICT: FAIL — 5 checks on 4 games; 0 exemptions "
                                     "declared; 1 of the solver's cases failed or errored")


def test_run_headline_keeps_self_checks_apart_and_strict_fails(capsys, tmp_path):
    argv = ("run", "--solver", S("Exempt"), "--device", "cpu", "--jobs", "0",
            "--report-dir", str(tmp_path))
    code, out, _ = run_main(capsys, *argv)
    assert code == 0
    assert ("solver checks: 2 passed, 0 failed, 0 errors, 1 skipped, 1 expected failures; "
            "mfcheck self-checks: 1 passed, 0 failed, 0 errors, 0 skipped") in out
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary_split"]["mfcheck"]["passed"] == 1
    assert report["solver_names"] == {S("Exempt"): "exempt"}
    assert {r["exemption"] for r in report["results"]} == {None, "baseline = True",
                                                           "max_size = 8"}
    code, out, _ = run_main(capsys, *argv, "--strict")
    assert code == 1
    assert "--strict: declared exemptions count as failures: convergent = False, " \
           "baseline = True, max_size = 8" in out


def test_the_solver_column_shows_its_name(capsys, tmp_path):
    run_main(capsys, "run", "--solver", S("Exempt"), "--device", "cpu", "--jobs", "0",
             "--report-dir", str(tmp_path))
    markdown = (tmp_path / "report.md").read_text()
    assert f"| solvers | exempt (`{S('Exempt')}`) |" in markdown
    assert "| PASS | cycles | g1 | exempt | cpu |" in markdown


def test_solver_args_reach_the_constructor(capsys, tmp_path):
    code, out, _ = validate(capsys, tmp_path, S("Configurable"), "--solver-arg", "rate=0.5",
                            "--solver-arg", "label=two words")
    assert "Report card: configurable(rate=0.5, label=two words) " \
           f"({S('Configurable')}(rate=0.5, label='two words'))" in out


@pytest.mark.parametrize("argv, message", [
    (["validate", S("INSTANCE"), "--solver-arg", "rate=0.5"],
     "names an instance of Configurable, not a class: constructor arguments (--solver-arg) "
     "need a class"),
    (["validate", S("Configurable"), "--solver-arg", "speed=1"],
     "Configurable(speed=1) failed: TypeError"),
    (["validate", S("Configurable"), "--solver-arg", "rate"], "expected KEY=VALUE"),
    (["run", "--solver-arg", "rate=1"], "--solver-arg needs a solver"),
    (["validate", "mfcheck.reference.ising:SAMPLERS[wolff]"],
     "no check applies to 'mfcheck.reference.ising:SAMPLERS[wolff]' (a sampler): "
     "declarations applies to planners"),
])
def test_usage_errors_exit_2_on_one_line(capsys, argv, message):
    code, _, err = run_main(capsys, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err, err


def test_every_case_skipped_is_nothing_checked(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(cli_suite.suite, "checks", {"sized": cli_suite.suite.checks["sized"]})
    monkeypatch.setattr(cli_suite.Exempt, "max_size", 2)
    code, _, err = validate(capsys, tmp_path, S("Exempt"))
    assert code == 2
    assert f"nothing was checked: every case of {S('Exempt')!r} was skipped (e.g. declares " \
           "max_size 2 < L = 4)" in err
