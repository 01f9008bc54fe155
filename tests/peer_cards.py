"""The peers' report cards: every adapted peer solver (MFGLib's and OpenSpiel's algorithms,
`mfcheck.adapters`) through every suite that applies to it, written to docs/peers.md.

    python -m tests.peer_cards [--jobs J] [--executor local|dask] [--scheduler ADDRESS]
                               [--timeout S] [--full] [--out PATH]
                               [--solvers SPEC,...] [--suites SUITE,...] [--no-precision]
                               [--report-dir DIR] [--merge DIR ...] [--render DIR ...]

Runs through mfcheck's own runner (`mfcheck.runner.run`: worker processes, or a Dask
cluster with ``--executor dask`` as for ``mfcheck run``; a per-case timeout, CPU, seed 0),
so a card's rows are what ``mfcheck run --solver SPEC --seed 0 --device cpu`` reports;
mfcheck's checks of itself are left out. Then measures MFGLib's online mirror descent in
float32 (MFGLib's precision) and float64 at 100, 1000 and 4000 iterations
(`precision_table`). ``--report-dir`` keeps the runner's report.json;
``--render DIR ...`` rewrites the page from kept runs (each DIR a ``--report-dir``: its
report.json and the peer_cards.json beside it) without running anything, e.g. after adding
readings; ``--merge DIR ...`` adds kept runs to the page of a new run, so the cards of a
page may come from several runs (each listed with its command). The reading of each
failure is `READINGS` (written by whoever reads the run; a failure without a reading is
printed as such). Cases too slow for a run are left out by `NOT_RUN`, with the measured
reason, and listed in the card.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import itertools
import json
import os
import platform
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import torch

from mfcheck import runner, solvers
from mfcheck.check import ERROR, FAIL, HARNESS, PASS, SKIP, XFAIL, Budget, CheckResult

PAGE = Path(__file__).resolve().parents[1] / "docs" / "peers.md"
SEED = 0
SPECS = ["mfcheck.adapters.mfglib:PLANNERS", "mfcheck.adapters.openspiel:PLANNERS",
         "mfcheck.adapters.benchmfg:PLANNERS"]
PEERS = {"mfglib": "mfglib", "openspiel": "open_spiel", "benchmfg": "bench-mfg-suite"}
MARK = {FAIL: "FAIL", ERROR: "ERROR", PASS: "pass", SKIP: "skip", XFAIL: "xfail"}
PRECISION_ITERATIONS = (100, 1000, 4000)
FIELDS = {f.name for f in dataclasses.fields(CheckResult)}

OS = "mfcheck.adapters.openspiel:PLANNERS"
MF = "mfcheck.adapters.mfglib:PLANNERS"
BM = "mfcheck.adapters.benchmfg:PLANNERS"

#: What each failure means, by (solver spec, suite::check): the honest reading of the run.
READINGS: dict[tuple[str, str], str] = {
    ("mfcheck.adapters.mfglib:PLANNERS[fictitious-play]", "multi-epoch::reaches-equilibrium"):
        "slow, not judged: 400 iterations did not finish within the run's 60 s per case on "
        "the drawn garnets and crowd modelling (left_right took 20 s); rerun with a longer "
        "--timeout before reading anything into it",
    **{(f"{MF}[occupation-measure-inclusion]", check):
       "step size, not a wrong update: MFGLib's default alpha = 1e-3 is small. Measured on "
       "staged routes (H=4): 0.981 at 40 iterations, 0.596 at 400 at alpha = 1e-3 (the same "
       "with the projection tolerance 1e-8 instead of MFGLib's default 1e-3), but 7.3e-3 at "
       "40 and 5.9e-7 at 400 at alpha = 0.1; on two routes (interior) 8.5e-2 at 400, 4.2e-3 "
       "at 4000 at the default"
       for check in ("two-route::reaches-equilibrium", "n-route::reaches-equilibrium",
                     "multi-epoch::reaches-equilibrium")},
    **{(f"{MF}[occupation-measure-inclusion]", check):
       "not converged at MFGLib's default alpha = 1e-3 (see reaches-equilibrium): after 1000 "
       "iterations the limits still depend on the start (spread 1.1 on two symmetric routes; "
       "largest exploitability 0.17 and 0.25 vs ε = 3.5e-3)"
       for check in ("uniqueness::unique-equilibrium", "uniqueness::finds-every-equilibrium")},
    (f"{MF}[prior-descent]", "multi-epoch::reaches-equilibrium"):
        "a softmax fixed-point iteration, not a Nash planner, at MFGLib's defaults: with "
        "n_inner = None the prior never moves, so π_{k+1} ∝ prior·exp(Q*_{μ^{π_k}}/η), η = 1, "
        "Q* the unregularised optimal values (MFGLib's prior_descent.py): OpenSpiel's "
        "FixedPoint at τ = 1. Its hub split on staged routes (H=4) after 400 iterations, "
        "[0.474210, 0.059750, 0.466040], is OpenSpiel FixedPoint τ=1's [0.474211, 0.059749, "
        "0.466039]; the iterates cycle (period 2 on left_right, 4 on crowd modelling); "
        "exploitability 2.11, 0.678, 3.27, 43 and 0.123 against τ = 0, which the adapter "
        "declares for it",
    (f"{MF}[mfomo]", "multi-epoch::reaches-equilibrium"):
        "not converged at MFGLib's defaults after 400 iterations (the adapter re-runs MFOMO's "
        "solve with max_iter doubled and checks that it repeats its iterates): 2.0 on staged "
        "routes (H=4), 0.153 (H=5, γ=0.6), 0.0785 on left_right against ε = 0.075, the "
        "iterates alternating with period 2 there; not diagnosed further",
    (f"{OS}[mirror-descent]", "multi-epoch::reaches-equilibrium"):
        "step size: OpenSpiel's default lr = 0.01, where mfcheck's reference mirror descent "
        "(whose iterates OpenSpiel's reproduce at equal lr to 2e-16) is judged at lr 0.1: 0.437 "
        "on staged routes (H=5, γ=0.6) and 0.37 on a drawn garnet after 400 iterations; crowd "
        "modelling: ~1.0 s per OpenSpiel iteration, 400 do not fit 150 s",
    (f"{OS}[mirror-descent]", "uniqueness::unique-equilibrium"):
        "lr = 0.01 after 1000 iterations: every start reaches the same split (spread ≤ 3.4e-4: "
        "OpenSpiel's mirror descent sums its values from 0 whatever its start, which it "
        "evaluates once), but not yet the equilibrium: exploitability 8.4e-3 (drawn routes) "
        "and 1.03e-2 (five routes) against ε = 3.5e-3",
    (f"{OS}[mirror-descent]", "uniqueness::finds-every-equilibrium"):
        "its start is forgotten (the score sum starts at 0; only the first iteration "
        "evaluates the start): on the asymmetric crowd game every start, all-on-2 included, "
        "ends at [1, 0]; on the symmetric one the limits from pure starts are still 0.12 "
        "from an equilibrium after 1000 iterations at lr = 0.01",
    **{(f"{OS}[{key}]", "multi-epoch::reaches-equilibrium"):
       f"another equilibrium concept, as documented (docs/adapters.md): OpenSpiel's {alg} is "
       f"softmax({q}/τ) of *unregularised* values, while mfcheck's τ-equilibrium carries the "
       f"entropy in the continuation. On one-epoch games they coincide (two-route: pass, "
       f"≤ 2.2e-16). Here the update's own fixed point (found by damping the same update, "
       f"residual 4e-16) has τ=1 exploitability {h4} on staged routes (H=4) and {h5} "
       f"(H=5, γ=0.6), where mfcheck's τ-equilibrium has 0; the undamped iterates {cycle}. "
       f"Drawn garnets: 3 × 400 OpenSpiel iterations did not fit 150 s"
       for key, alg, q, h4, h5, cycle in (
           ("fixed-point-tau1", "FixedPoint(τ = 1)", "Q*_{μ^π}", "0.776", "0.150",
            "cycle with period 2 on H=4 (0.305 at 400) and stay 0.455 away on H=5"),
           ("boltzmann-policy-iteration-tau1", "BoltzmannPolicyIteration(lr = 1)", "Q^π_{μ^π}",
            "0.734", "0.142",
            "cycle with period 2 on both (4.09 and 0.485 at 400). mfcheck's hint on H=4 "
            "('the reward of epoch t + 1 used at epoch t') is wrong here: the update is "
            "tested exact (tests/test_adapters_openspiel.py), and the cycling iterate only "
            "lies near that mistake's equilibrium"))},
    (f"{OS}[fictitious-play]", "multi-epoch::reaches-equilibrium"):
        "slow, not judged: 3 × 400 OpenSpiel iterations on the drawn garnets did not fit "
        "150 s (its iterates are mfcheck's reference fictitious play's, which passes there)",
    (f"{BM}[damped-fixed-point]", "multi-epoch::stationary-equilibrium"):
        "another equilibrium concept: Bench-MFG's averaged policy is, at a state its "
        "population never visits, the uniform policy (the μ-weighted average has weight 0 "
        "there, clipped to 1e-12 and renormalised), and Bench-MFG's exploitability ⟨μ^π, V* − "
        "V^π⟩ gives such states weight 0, where mfcheck's ⟨μ0, V* − V^π⟩ weights them by μ0. "
        "On the failing garnet (S=3, seed 0) state 1 has μ^π = 0 but μ0 = 0.23: it gives "
        "0.1898 of the measured 0.1908, and the μ^π-weighted gap is 1.1e-3. The value "
        "plateaus (0.221 at 10 iterations, 0.193 at 100, 0.190 at 1000) where mfcheck's "
        "reference fictitious play reaches 3.6e-4 at 1000",
    (f"{BM}[omd]", "multi-epoch::stationary-equilibrium"):
        "slow, just over ε: 0.169 against 0.167 after 300 iterations; Bench-MFG's default "
        "step learning_rate/temperature = 0.005/0.2 = 0.025 is small (on another stationary "
        "garnet: 1.27 at 1 iteration, 0.437 at 100, 0.117 at 300)",
    (f"{BM}[boltzmann-policy-iteration]", "multi-epoch::stationary-equilibrium"):
        "did not finish 3 × 300 iterations in 150 s (156 ms per iteration on the 6-state "
        "garnet on this loaded machine); there its τ = 0.2 exploitability stays at 4.95 from "
        "iteration 100 to 210: softmax(Q^π/τ) of unregularised values has a fixed point that "
        "is not mfcheck's τ-equilibrium (as OpenSpiel's Boltzmann policy iteration)",
}
#: A note under a card's verdict line, by solver spec.
CARD_NOTES: dict[str, str] = {
    **{f"{BM}[{key}]":
       "No check of mfcheck applies: the solver yields pure (greedy) policies and declares "
       "convergent = False, mfcheck's best-response-iterate checks are finite-horizon games, "
       "and Bench-MFG solves stationary games only. It is adapted and tested "
       "(tests/test_adapters_benchmfg.py: its k-th policy is Bench-MFG's own after k "
       "iterations) but not judged here."
       for key in ("damped-fixed-point-damped", "policy-iteration", "smooth-policy-iteration")},
}

#: Cases a run leaves out, by (solver spec, a substring of the case id), with the measured
#: reason; each is listed in its solver's card.
_OS_CROWD = ("400 iterations of OpenSpiel's tree algorithms on crowd modelling (10 positions, 10 "
             "epochs) take 7–11 min: 1.0–1.7 s per iteration measured on this machine (fictitious "
             "play 1.26 s, mirror descent 1.00 s, FixedPoint τ = 1 1.68 s, Boltzmann PI 1.02 s), "
             "over a quick case's time")
_OS_SAME = ("OpenSpiel's {alg} gives mfcheck's reference {ref} iterates to 2e-16 on the converted "
            "game (tests/test_adapters_openspiel.py), which pass this suite; its 4000 (1000 per "
            "start) iterations cost 26 ms each here on two routes")
_OS_SLOW = ("not run for time: {n} iterations per start, ~30 starts, at ~10 ms per OpenSpiel "
            "iteration on one-epoch games, is 5+ min per case")
NOT_RUN: dict[tuple[str, str], str] = {
    **{(f"{OS}[{key}]", "crowd-modelling(exact"): _OS_CROWD
       for key in ("fictitious-play", "mirror-descent", "fixed-point", "fixed-point-tau1",
                   "boltzmann-policy-iteration-tau1")},
    **{(f"{OS}[fictitious-play]", suite): _OS_SAME.format(alg="FictitiousPlay",
                                                          ref="FictitiousPlay")
       for suite in ("two-route::", "n-route::", "uniqueness::")},
    **{(f"{OS}[fixed-point]", f"{suite}::reaches-equilibrium"):
       "declared convergent = False (greedy best-response iteration), so an expected failure "
       "by declaration; 4000 iterations at ~10 ms not spent on it"
       for suite in ("two-route", "n-route")},
    **{(f"{OS}[{key}]", suite): _OS_SLOW.format(n=n)
       for key in ("fixed-point-tau1", "boltzmann-policy-iteration-tau1")
       for suite, n in (("n-route::", 4000), ("uniqueness::", 1000))},
    (f"{OS}[fixed-point]", "uniqueness::"): _OS_SLOW.format(n=1000),
    **{(f"{MF}[prior-descent]", suite):
       "not run for time: 4000 iterations (1000 per start in uniqueness) at 22 ms per "
       "iteration measured on two routes, 88 s per case"
       for suite in ("two-route::", "n-route::", "uniqueness::")},
    **{(f"{MF}[mfomo]", pattern):
       "not run for time: MFOMO has no step, so the adapter re-runs its solve with max_iter "
       "doubled; measured 233 ms per yielded iteration on two routes and 411 ms on crowd "
       "modelling (4000 iterations: 15 min per case)"
       for pattern in ("two-route::", "n-route::", "uniqueness::", "crowd-modelling(exact",
                       "drawn-monotone-garnets")},
    **{(f"{MF}[{key}]", "uniqueness::"):
       "not run for time: MFGLib's fictitious play costs O(k) per iteration (400 iterations "
       "of multi-epoch did not finish in 60 s); 1000 per start × ~30 starts"
       if key == "fictitious-play" else
       "not run in these runs (its float32 twin's uniqueness card is above)"
       for key in ("fictitious-play", "online-mirror-descent-float64")},
}

#: The reading of the precision table (MFGLib's mirror descent in float32 and float64).
PRECISION_READING = (
    "MFGLib computes in float32: its mirror descent's policy stalls at an exploitability of "
    "~7e-6 on left_right (3.2e-7 at 100 iterations, 7.1e-6 at 1000 and at 4000), while the "
    "same algorithm run in float64 keeps converging (7.8e-16 at 100; ≤ 8e-14 after). This is "
    "float32 rounding, not a wrong update: in float64 the adapter reproduces MFGLib's own "
    "iterates to 1e-12 (tests/test_adapters_mfglib.py) and passes every check above.")


def precision_table(iterations=PRECISION_ITERATIONS) -> list[tuple[int, float, float]]:
    """(k, exploitability of MFGLib's OnlineMirrorDescent (alpha = 1) after k iterations in
    float32, the same in float64) on mfcheck's copy of MFGLib's left_right."""
    from mfcheck.adapters.mfglib import MFGLibPlanner
    from mfcheck.boundary import checked_policy
    from mfcheck.games import left_right
    from mfcheck.kernels import exploitability

    game, rows = left_right(), []
    planners = {dtype: MFGLibPlanner("OnlineMirrorDescent", dtype=dtype)
                for dtype in (torch.float32, torch.float64)}
    runs = {dtype: p.solve(game, seed=0) for dtype, p in planners.items()}
    done = 0
    last = {}
    for k in iterations:
        for dtype, stream in runs.items():
            last[dtype] = checked_policy(game, next(itertools.islice(stream, k - done - 1, None)),
                                         what=f"policy {k}", precision=planners[dtype].precision)
        done = k
        rows.append((k, float(exploitability(game, last[torch.float32])),
                     float(exploitability(game, last[torch.float64]))))
    return rows


def versions() -> str:
    found = []
    for label, dist in PEERS.items():
        try:
            found.append(f"{label} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            found.append(f"{label} not installed")
    return ", ".join([f"mfcheck {importlib.metadata.version('mfcheck')}",
                      f"torch {torch.__version__}", *found])


def render(runs: list[dict], results, precision, *, names: dict[str, str]) -> str:
    """The page: ``runs`` (each run's peer_cards.json), their ``results`` together."""
    by_solver = defaultdict(list)
    for r in results:
        by_solver[r.solver].append(r)
    budgets = sorted({run["budget"] for run in runs})
    lines = [
        "# The peers' report cards",
        "",
        "Generated by `python -m tests.peer_cards` (do not edit by hand; the readings are",
        "`READINGS` in tests/peer_cards.py): every adapted peer solver of `mfcheck.adapters`",
        "(docs/adapters.md) through every suite that applies to it, through mfcheck's runner",
        f"on the CPU, {' and '.join(budgets)} budget, seed {SEED}. A check of a card lists the",
        "status of each of its games. mfcheck's checks of itself are left out.",
        "",
        f"Machine: {platform.machine()} with {os.cpu_count()} cores (shared with other work "
        f"while these ran); {versions()}. Runs:",
        "",
    ]
    for run in runs:
        lines.append(f"- {run['date']}: `{run['command']}`, {run['cases']} cases in "
                     f"{run['wall_s'] / 60:.1f} min wall time.")
    lines.append("")
    for spec in dict.fromkeys(r.solver for r in results):
        rs = by_solver[spec]
        name = names.get(spec, spec)
        counts = Counter(r.status for r in rs)
        verdict = ", ".join(f"{counts[s]} {MARK[s]}" for s in (PASS, FAIL, ERROR, SKIP, XFAIL)
                            if counts[s])
        note = [CARD_NOTES[spec], ""] if spec in CARD_NOTES else []
        lines += [f"## `{spec}`", "", f"{name}: {verdict}.", "", *note,
                  "| check | statuses | measured / expected (a failure's, else the largest) | reading |",
                  "| --- | --- | --- | --- |"]
        checks = defaultdict(list)
        for r in rs:
            checks[f"{r.suite}::{r.check}"].append(r)
        for check, group in checks.items():
            c = Counter(MARK[r.status] for r in group)
            statuses = ", ".join(s if n == 1 else f"{s} ×{n}" for s, n in c.items())
            bad = [r for r in group if r.status in (FAIL, ERROR)]
            worst = bad[0] if bad else max(group, key=_measured)
            numbers = _numbers(worst)
            reading = READINGS.get((spec, check), "")
            if bad and not reading:
                reading = "(no reading yet) " + _short(bad[0].message)
            lines.append(f"| {check} | {statuses} | {numbers} | {reading} |")
        left_out = [(pattern, why) for (s, pattern), why in NOT_RUN.items() if s == spec]
        for pattern, why in left_out:
            lines.append(f"| {pattern} | not run | — | {why} |")
        lines.append("")
    if precision:
        lines += ["## MFGLib's mirror descent: float32 against float64", "",
                  "`MFGLibPlanner(\"OnlineMirrorDescent\")` (alpha = 1, MFGLib's default) on "
                  "MFGLib's left_right (`mfcheck.games.left_right`), exploitability "
                  "(`mfcheck.exploitability`) of the k-th policy:", "",
                  "| k | float32 (MFGLib's precision) | float64 (`dtype=torch.float64`) |",
                  "| --- | --- | --- |"]
        lines += [f"| {k} | {a:.2e} | {b:.2e} |" for k, a, b in precision]
        lines += ["", PRECISION_READING, ""]
    run = set(by_solver)
    missing = [s for spec in SPECS for s in solvers.expand(spec) if s not in run]
    if missing:
        lines += ["## Not run in this generation", "",
                  "These adapted solvers have no card from these runs (rerun with "
                  "`--solvers`):", ""]
        lines += [f"- `{s}`" for s in missing]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_kept(report_dirs: list[Path], out: Path) -> int:
    """Write the page from the report.json and peer_cards.json of kept runs' report dirs."""
    runs, results, precision, names = [], [], [], {}
    for report_dir in report_dirs:
        run = json.loads((report_dir / "peer_cards.json").read_text())
        report = json.loads((report_dir / "report.json").read_text())
        kept = [CheckResult(**{k: v for k, v in r.items() if k in FIELDS})
                for r in report["results"]]
        kept = [r for r in kept if r.solver != HARNESS]
        runs.append({**run, "cases": len(kept)})
        results += kept
        precision = precision or [tuple(row) for row in run.get("precision", [])]
        names.update(report.get("solver_names", {}))
    out.write_text(render(runs, results, precision, names=names), encoding="utf-8")
    return 0


def _measured(r) -> float:
    try:
        return float(r.measured)
    except (TypeError, ValueError):
        return float("-inf")


def _numbers(r) -> str:
    if r.measured is None:
        return "—"
    return f"{_number(r.measured)} / {'—' if r.expected is None else _number(r.expected)}"


def _number(value) -> str:
    """A measured or expected value as the card prints it: a number to 3 digits, else as
    given (a period ">= 2", a route split)."""
    try:
        return f"{float(value):.3g}"
    except (TypeError, ValueError):
        return _short(str(value), 60)


def _short(message: str, limit: int = 160) -> str:
    message = " ".join(str(message).split()).replace("|", "/")
    return message if len(message) <= limit else message[:limit - 1] + "…"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.peer_cards",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--executor", choices=["local", "dask"], default="local",
                        help="where the cases run, as for mfcheck run (docs/cli.md)")
    parser.add_argument("--scheduler", default=None,
                        help="the Dask scheduler's address (default with --executor dask: "
                             "a LocalCluster of --jobs workers)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per case")
    parser.add_argument("--full", action="store_true", help="full budget (default quick)")
    parser.add_argument("--out", type=Path, default=PAGE)
    parser.add_argument("--solvers", default=None,
                        help="comma-separated specs (default: every adapted peer solver)")
    parser.add_argument("--suites", default=None, help="comma-separated suites (default: all)")
    parser.add_argument("--no-precision", action="store_true",
                        help="skip the float32/float64 mirror-descent table")
    parser.add_argument("--report-dir", type=Path, default=None,
                        help="keep the runner's reports (and precision.json) here")
    parser.add_argument("--render", type=Path, nargs="+", default=None,
                        help="only rewrite the page from the --report-dir of earlier runs")
    parser.add_argument("--merge", type=Path, nargs="+", default=[],
                        help="add the cards of earlier runs (their --report-dir) to the page")
    args = parser.parse_args(argv)
    if args.render:
        return render_kept(args.render, args.out)
    specs = args.solvers.split(",") if args.solvers else SPECS
    specs = [s for spec in specs for s in solvers.expand(spec)]
    suites = args.suites.split(",") if args.suites else []
    budget = Budget.FULL if args.full else Budget.QUICK
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        report_dir = args.report_dir or Path(tmp)
        the_plan = runner.plan(suites, specs, ["cpu"])
        the_plan.cases = [c for c in the_plan.cases
                          if not any(s == c.solver and pattern in c.id
                                     for s, pattern in NOT_RUN)]
        results = runner.run(suites, specs, ["cpu"], SEED, budget, report_dir, args.timeout,
                             workers=args.jobs, the_plan=the_plan, executor=args.executor,
                             scheduler=args.scheduler)
        results = [r for r in results if r.solver != HARNESS]
        precision = [] if args.no_precision else precision_table()
        wall = time.monotonic() - start
        command = "python -m tests.peer_cards " + " ".join(
            argv if argv is not None else sys.argv[1:])
        (report_dir / "peer_cards.json").write_text(json.dumps(
            {"precision": precision, "wall_s": wall, "command": command.strip(),
             "budget": budget.value, "date": datetime.date.today().isoformat()}))
        render_kept([*args.merge, report_dir], args.out)
    print(f"{len(results)} cases in {wall / 60:.1f} min: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
