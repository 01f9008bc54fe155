"""``mfcheck sweep``: the grid of seeds × cases, and the aggregate against stated rates."""

from __future__ import annotations

import io
import json

import pytest

from mfcheck import registry, runner, sweep
from mfcheck.check import Suite
from mfcheck.cli import main
from mfcheck.errors import UsageError
from mfcheck.progress import Progress

try:
    from . import fake_solvers, fake_sweep
except ImportError:  # tests/ is a plain folder on sys.path, not a package
    import fake_solvers
    import fake_sweep

GOOD = fake_solvers.spec("Good")


@pytest.fixture(autouse=True)
def _only_the_coin_suite(monkeypatch):
    monkeypatch.setattr(registry, "SUITE_MODULES", {})
    fake_sweep.register(monkeypatch)


def run(tmp_path, seeds="0:50", checks=None, **kw):
    the_plan = runner.plan([fake_sweep.NAME], None, ["cpu"])
    return sweep.run_sweep([fake_sweep.NAME], None, ["cpu"], sweep.parse_seeds(seeds),
                           "quick", tmp_path, checks=checks, the_plan=the_plan,
                           workers=kw.pop("workers", 0), **kw)


def rows_by_check(result) -> dict[str, sweep.Row]:
    return {r.check: r for r in result.rows}


def test_seeds_are_half_open_and_bad_ones_are_usage_errors():
    assert sweep.parse_seeds("0:200") == range(0, 200)
    assert sweep.parse_seeds("7") == range(7, 8)
    for bad in ("5:5", "3:1", "-1:4", "a:b", "1:2:3", ""):
        with pytest.raises(UsageError, match="--seeds"):
            sweep.parse_seeds(bad)


def test_the_grid_is_every_case_at_every_seed_seed_by_seed(tmp_path):
    the_plan = runner.plan([fake_sweep.NAME], None, ["cpu"])
    grid = sweep.expand(the_plan, range(3, 6), "quick", tmp_path)
    assert len(grid) == 3 * len(the_plan.cases)
    assert [g.seed for g in grid] == [s for s in (3, 4, 5) for _ in the_plan.cases]
    assert [g.case for g in grid[:len(the_plan.cases)]] == the_plan.cases
    assert grid[0].id == f"{the_plan.cases[0].id}@seed=3"
    assert {g.report_dir for g in grid[:len(the_plan.cases)]} == {tmp_path / "seed-3"}


def test_select_checks_keeps_the_named_checks_and_refuses_unknown_ones():
    the_plan = runner.plan([fake_sweep.NAME], None, ["cpu"])
    cut = sweep.select_checks(the_plan, ["half", "never"])
    assert {c.check for c in cut.cases} == {"half", "never"}
    assert len(cut.cases) == 3  # half runs on two games
    assert sweep.select_checks(the_plan, None) is the_plan
    with pytest.raises(UsageError, match="unknown check 'nope'.*their checks: crashes"):
        sweep.select_checks(the_plan, ["nope"])


def test_counts_intervals_and_verdicts_on_known_failures(tmp_path):
    result = run(tmp_path)
    rows = rows_by_check(result)
    fifth = rows["fifth"]
    assert (fifth.runs, fifth.failures, fifth.errors, fifth.alpha) == (50, 10, 0, 0.2)
    # The exact 95% Clopper–Pearson interval of 10/50 (R's binom.test: [0.1003, 0.3372]).
    assert fifth.interval == pytest.approx((0.10030, 0.33718), abs=5e-5)
    assert (fifth.rate, fifth.verdict) == (0.2, sweep.CONSISTENT)
    assert fifth.failed[:2] == [(0, "-", "cpu"), (5, "-", "cpu")]
    # Two games per seed: 100 runs, 50 failures, far above a stated 5%.
    half = rows["half"]
    assert (half.runs, half.failures, half.verdict) == (100, 50, sweep.ABOVE)
    assert half.interval[0] > 0.05
    # No failure in 50 runs: the interval [0, 1 − 0.025^(1/50)] lies below a stated ½.
    never = rows["never"]
    assert (never.failures, never.verdict) == (0, sweep.BELOW)
    assert never.interval == pytest.approx((0.0, 1 - 0.025 ** (1 / 50)))
    # One failure in 50 of a deterministic check: any failure lies above a rate of 0.
    deterministic = rows["deterministic"]
    assert (deterministic.alpha, deterministic.failures, deterministic.failed,
            deterministic.verdict) == (0, 1, [(3, "-", "cpu")], sweep.ABOVE)
    # The same failure of a check that states no rate: counted, not judged.
    unstated = rows["unstated"]
    assert (unstated.alpha, unstated.failures, unstated.verdict) == (None, 1, sweep.UNSTATED)
    assert unstated.interval == deterministic.interval
    # Errors are counted apart, not as runs nor as failures.
    crashes = rows["crashes"]
    assert (crashes.runs, crashes.failures, crashes.errors) == (33, 0, 17)
    assert crashes.errored[0] == (0, "-", "cpu")
    skips = rows["skips"]
    assert (skips.runs, skips.skipped, skips.verdict, skips.interval) == (0, 50, sweep.NO_RUNS,
                                                                          None)
    assert not result.passed


def test_a_sweep_of_consistent_checks_passes_and_writes_its_reports(tmp_path):
    result = run(tmp_path, "0:10", checks=["fifth", "never"])
    assert result.passed and result.finished == list(range(10))
    data = json.loads((tmp_path / sweep.JSON_NAME).read_text())
    assert data["complete"] and data["seeds"] == "0:10" and data["seeds_finished"] == 10
    assert [r["check"] for r in data["rows"]] == ["fifth", "never"]
    assert data["rows"][0]["failures"] == 2 and data["rows"][0]["verdict"] == "consistent"
    md = (tmp_path / sweep.MARKDOWN_NAME).read_text()
    assert "| coin | fifth | Good | 10 | 2 | 0 | 0.2 | 0.2 | [0.0252, 0.556] | consistent |" \
        in md.replace(fake_solvers.spec("Good"), "Good")
    assert "- coin::fifth" in md and "failed: seed 0 -|cpu, seed 5 -|cpu" in md
    for seed in range(10):  # each seed's usual reports
        report = json.loads((tmp_path / f"seed-{seed}" / "report.json").read_text())
        assert report["seed"] == seed and report["complete"]


def test_a_case_result_depends_on_the_case_and_its_seed_only(tmp_path):
    a = run(tmp_path / "a", "0:6")
    b = run(tmp_path / "b", "3:9", workers=1)  # other seeds around it, in a worker process
    key = lambda res: {(s, r.check, r.game): (r.status, r.measured) for s, r in res.results
                       if 3 <= s < 6}
    assert key(a) == key(b) and len(key(a)) == 3 * 8


def test_one_progress_bar_over_the_whole_grid(tmp_path):
    out = io.StringIO()
    run(tmp_path, "0:3", checks=["fifth"], progress=Progress(out, tty=False))
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("FAIL coin::fifth[-|") and "@seed=0" in lines[0]
    assert lines[2].startswith("PASS") and "@seed=2" in lines[2]
    tty = io.StringIO()
    run(tmp_path, "0:3", checks=["fifth"], progress=Progress(tty, tty=True))
    assert "[3/3] 2 passed, 1 failed" in tty.getvalue()


def test_a_rate_outside_0_1_is_refused_where_the_check_is_declared():
    suite = Suite("s", role="planner", description="", reference_solvers=[])
    for bad in (1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match=r"check s::c: false_failure_rate must lie in "
                                             r"\[0, 1\)"):
            suite.check("c", false_failure_rate=bad)
    assert not suite.checks


def test_cli_sweep_exit_codes_and_table(tmp_path, capsys):
    code = main(["sweep", fake_sweep.NAME, "--seeds", "0:10", "--check", "fifth",
                 "--jobs", "0", "--report-dir", str(tmp_path), "--device", "cpu"])
    out = capsys.readouterr().out
    assert code == 0
    assert "fifth" in out and "consistent" in out and "[0.0252, 0.556]" in out
    assert (tmp_path / "sweep.md").exists()
    code = main(["sweep", fake_sweep.NAME, "--seeds", "0:10", "--check", "half",
                 "--jobs", "0", "--report-dir", str(tmp_path / "h"), "--device", "cpu"])
    assert code == 1 and "above" in capsys.readouterr().out
    for argv, message in ((["--seeds", "3:3"], "--seeds 3:3"),
                          (["--seeds", "0:2", "--check", "nope"], "unknown check 'nope'"),
                          (["--seeds", "0:2", "--confidence", "1"], "--confidence"),
                          # the executor options reach the runner
                          (["--seeds", "0:2", "--executor", "dask"], "needs --jobs 1")):
        code = main(["sweep", fake_sweep.NAME, "--jobs", "0", "--device", "cpu",
                     "--report-dir", str(tmp_path / "u"), *argv])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("mfcheck: error: ") and message in err, err


def test_a_sweep_on_dask_counts_what_a_local_sweep_counts(tmp_path):
    pytest.importorskip("distributed")
    checks = ["fifth", "half", "crashes"]
    local = run(tmp_path / "local", "0:2", checks=checks)
    dask = run(tmp_path / "dask", "0:2", checks=checks, workers=2, executor="dask")
    key = lambda res: [(s, r.check, r.game, r.status, r.measured) for s, r in res.results]
    assert key(dask) == key(local) and len(key(local)) == 2 * 4
    assert [r.to_dict() for r in dask.rows] == [r.to_dict() for r in local.rows]
