"""The ``mfcheck`` command: ``list``, ``validate``, ``run``, ``sweep``, ``bench`` (docs/cli.md).

Exit codes: 0 every case passed (skips are fine), 1 a case failed or errored (or, with
``--strict``, a solver declared an exemption; or the run itself broke, e.g. no worker
process could start), 2 bad usage (one line on stderr, no traceback), including a solver
that no check applies to or whose every case skipped, 130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .errors import MFCheckError, UsageError

#: Workers by default: one per core, so that each has one core's torch threads. One worker
#: with every core's threads made small tensor operations wait on a busy core (TMF-PG's
#: training 6× slower on 2 cores); memory caps the default (each worker imports torch).
MAX_DEFAULT_JOBS = 8
DEFAULT_JOBS = max(1, min(os.cpu_count() or 1, MAX_DEFAULT_JOBS))

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _run_options(command: argparse.ArgumentParser, *, one_seed: bool = True) -> None:
    """The options ``run`` and ``validate`` share (``sweep`` too, less ``--seed`` and
    ``--strict``: ``one_seed=False``)."""
    command.add_argument("--solver-arg", action="append", default=[], metavar="KEY=VALUE",
                         help="constructor argument for the solver class (repeatable; the "
                              "value is read as a Python literal, else taken as a string)")
    command.add_argument("--device", default="all", choices=["cpu", "cuda", "all"],
                         help="device(s) to run on (default: all, i.e. cpu plus cuda when "
                              "present)")
    if one_seed:
        command.add_argument("--seed", type=int, default=0, metavar="N",
                             help="seed (default: 0)")
    budget = command.add_mutually_exclusive_group()
    budget.add_argument("--quick", dest="budget", action="store_const", const="quick",
                        help="CI budget (default)")
    budget.add_argument("--full", dest="budget", action="store_const", const="full",
                        help="paper-scale budget")
    command.add_argument("--report-dir", type=Path, default=Path("mfcheck-report"),
                         metavar="DIR", help="where report.json, junit.xml, report.md go "
                                             "(default: %(default)s)")
    command.add_argument("--timeout", type=float, metavar="S",
                         help="seconds a case may run (default: 300 quick, 3600 full)")
    command.add_argument("--jobs", type=int, default=DEFAULT_JOBS, metavar="N",
                         help="worker processes (default: one per CPU core, at most "
                              f"{MAX_DEFAULT_JOBS}: each gets one core's torch threads; "
                              "0 runs in this process, no timeout)")
    command.add_argument("--executor", default="local", choices=["local", "dask"],
                         help="where the cases run: local worker processes (default), or a "
                              "Dask cluster (extra mfcheck[dask]): the scheduler at "
                              "--scheduler, else a LocalCluster of --jobs workers")
    command.add_argument("--scheduler", metavar="ADDRESS",
                         help="the Dask scheduler to use with --executor dask, e.g. "
                              "tcp://10.0.0.5:8786")
    if not one_seed:
        return
    command.add_argument("--strict", action="store_true",
                         help="count every declared exemption (baseline = True, convergent = "
                              "False, max_size, supports(game), ...) as a failure (exit 1)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mfcheck", description="Verification and benchmark harness for mean-field game "
                                    "solvers.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    listing = sub.add_parser("list", help="list the suites and their checks, or the solvers")
    listing.add_argument("--solvers", action="store_true",
                         help="list the registered solvers instead: name, spec, role, "
                              "description, one a line")

    validate = sub.add_parser(
        "validate", help="check one solver with every suite that applies to it, and print "
                         "its report card")
    validate.add_argument("spec", metavar="SPEC",
                          help="the solver: MODULE:ATTR or a registered name "
                               "(mfcheck list --solvers)")
    _run_options(validate)

    run = sub.add_parser("run", help="run suites against solvers and write reports")
    run.add_argument("suites", nargs="*", metavar="SUITE",
                     help="suites to run (default: every suite; with --solver, the suites "
                          "that fit the solvers)")
    run.add_argument("--solver", action="append", metavar="SPEC",
                     help="solver to check, MODULE:ATTR or a registered name (repeatable; "
                          "default: each suite's reference solvers)")
    _run_options(run)

    sweep = sub.add_parser(
        "sweep", help="run suites at many seeds and count each check's failures against its "
                      "stated false-failure rate")
    sweep.add_argument("suites", nargs="*", metavar="SUITE",
                       help="suites to sweep (default: as for run)")
    sweep.add_argument("--solver", action="append", metavar="SPEC",
                       help="solver to check (repeatable; default: each suite's reference "
                            "solvers)")
    sweep.add_argument("--seeds", required=True, metavar="A:B",
                       help="the seeds A, A+1, ..., B-1 (e.g. 0:200), or one seed N")
    sweep.add_argument("--check", action="append", metavar="NAME",
                       help="only this check of the suites (repeatable; default: all)")
    sweep.add_argument("--confidence", type=float, default=0.95, metavar="C",
                       help="confidence of the binomial intervals (default: 0.95)")
    _run_options(sweep, one_seed=False)
    sweep.set_defaults(report_dir=Path("mfcheck-sweep"))

    # Only for --help: `bench` arguments go untouched to mfcheck.bench.main.
    sub.add_parser("bench", help="run the performance suites now, side by side with peers",
                   add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:
        from . import bench  # lazily: it may pull in peers and asv
        return bench.main(argv[1:])
    args = _parser().parse_args(argv)
    from .solvers import search_cwd_first
    search_cwd_first()  # --solver my_planner:X finds ./my_planner.py, as with python -m
    try:
        if args.command == "list":
            return _list_solvers() if args.solvers else _list()
        if args.command == "sweep":
            return _sweep(args)
        return _run(args)
    except UsageError as exc:
        print(f"mfcheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MFCheckError as exc:  # e.g. a worker process that cannot start
        print(f"mfcheck: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # `mfcheck list | head`: the reader has gone, nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        where = (f"; finished results are in {args.report_dir}"
                 if args.command in ("run", "validate", "sweep") else "")
        print(f"\nmfcheck: interrupted{where}", file=sys.stderr)
        return EXIT_INTERRUPTED


def _list() -> int:
    from . import registry
    for name in registry.suite_names():
        suite = registry.get_suite(name)
        print(f"{name}  (role: {suite.role})  {suite.description}")
        for check in suite.checks.values():
            games = ", ".join(check.games) if check.games else "-"
            who = "" if check.needs_solver else "  [checks mfcheck itself]"
            print(f"    {check.name}: {check.description}  (games: {games}){who}")
        print(f"    reference solvers: {', '.join(suite.reference_solvers) or '-'}")
    return EXIT_OK


def _list_solvers() -> int:
    """One registered solver a line: name, spec, role, description."""
    from . import solvers
    from .protocols import role_of
    for name, spec in solvers.registered().items():
        missing = solvers.missing_peer(spec)  # checked without importing the peer
        try:
            if missing:
                raise UsageError(missing)
            solver = solvers.load(spec)
            role, about = role_of(solver) or "no known role", solvers.describe(solver)
        except UsageError as exc:  # a peer's extra not installed, or a broken registration
            role, about = "unavailable", str(exc)
        print(f"{name}  {spec}  {role}  {about}".rstrip())
    return EXIT_OK


def _specs(given: list[str], arguments: list[str]) -> list[str]:
    from .solvers import parse_arg, with_args
    args = dict(parse_arg(a) for a in arguments)
    if args and not given:
        raise UsageError("--solver-arg needs a solver (--solver, or validate's SPEC)")
    return [with_args(spec, args) for spec in given]


def _check_run_options(args: argparse.Namespace) -> None:
    if args.jobs < 0:
        raise UsageError(f"--jobs must be 0 or more, got {args.jobs}")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout:g}")


def _run(args: argparse.Namespace) -> int:
    from . import runner
    from .card import card, exemptions
    from .check import ERROR, FAIL, HARNESS, SKIP
    from .devices import parse_device_option
    from .progress import Progress, summary_table
    from .report import summary_text

    _check_run_options(args)
    devices = parse_device_option(args.device)
    validating = args.command == "validate"
    given = _specs([args.spec] if validating else args.solver or [], args.solver_arg)
    suites = [] if validating else args.suites
    the_plan = runner.plan(suites, given or None, devices)
    results = runner.run(suites, given or None, devices, args.seed, args.budget or "quick",
                         args.report_dir, args.timeout, Progress(), workers=args.jobs,
                         the_plan=the_plan, executor=args.executor, scheduler=args.scheduler)
    names = the_plan.solver_names()
    solver_specs = [s for s in the_plan.solvers if s != HARNESS] if given else []
    if validating:
        cards = [card(the_plan, spec, results, strict=args.strict) for spec in solver_specs]
        print("\n\n".join(c.text for c in cards))
        print(f"reports in {args.report_dir}")
        failed = not all(c.passed for c in cards)
    else:
        if results:
            print(summary_table(results, names=names))
        print(f"{summary_text(results)}; reports in {args.report_dir}")
        excused = [e for spec in solver_specs for e in exemptions(the_plan, spec, results)]
        if args.strict and excused:
            print("--strict: declared exemptions count as failures: "
                  + ", ".join(dict.fromkeys(e.declaration for e in excused)))
        failed = any(r.status in (FAIL, ERROR) for r in results) or bool(args.strict and excused)
    for spec in solver_specs:  # a green run that checked nothing is not a pass
        own = [r for r in results if r.solver == spec]
        if own and all(r.status == SKIP for r in own):
            print(f"mfcheck: error: nothing was checked: every case of {spec!r} was skipped "
                  f"(e.g. {own[0].message.strip().splitlines()[0]})", file=sys.stderr)
            return EXIT_USAGE
    return EXIT_FAILED if failed else EXIT_OK


def _sweep(args: argparse.Namespace) -> int:
    """``mfcheck sweep``: the grid of seeds × cases, then the aggregate (mfcheck.sweep)."""
    from . import runner, sweep
    from .devices import parse_device_option
    from .progress import Progress

    _check_run_options(args)
    seeds = sweep.parse_seeds(args.seeds)
    devices = parse_device_option(args.device)
    given = _specs(args.solver or [], args.solver_arg)
    the_plan = runner.plan(args.suites, given or None, devices)
    result = sweep.run_sweep(args.suites, given or None, devices, seeds,
                             args.budget or "quick", args.report_dir, args.timeout, Progress(),
                             checks=args.check, confidence=args.confidence,
                             the_plan=the_plan, workers=args.jobs, executor=args.executor,
                             scheduler=args.scheduler)
    print(sweep.summary_table(result))
    print(f"{len(result.finished)} seeds × {len(result.info['checks'])} checks; aggregate in "
          f"{args.report_dir / sweep.JSON_NAME} and {sweep.MARKDOWN_NAME}, each seed's "
          f"reports in {args.report_dir}/seed-N")
    return EXIT_OK if result.passed else EXIT_FAILED
