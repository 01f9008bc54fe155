"""The ``mfcheck`` command: ``list``, ``run``, ``bench``.

Exit codes: 0 every case passed (skips are fine), 1 a case failed or errored (or the
run itself broke, e.g. no worker process could start), 2 bad usage (one line on
stderr, no traceback), 130 interrupted (Ctrl-C).
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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mfcheck", description="Verification and benchmark harness for mean-field game "
                                    "solvers.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("list", help="list the suites and their checks")

    run = sub.add_parser("run", help="run suites against solvers and write reports")
    run.add_argument("suites", nargs="*", metavar="SUITE",
                     help="suites to run (default: every suite; with --solver, the suites "
                          "that fit the solvers)")
    run.add_argument("--solver", action="append", metavar="MODULE:ATTR",
                     help="solver to check (repeatable; default: each suite's reference solvers)")
    run.add_argument("--device", default="all", choices=["cpu", "cuda", "all"],
                     help="device(s) to run on (default: all, i.e. cpu plus cuda when present)")
    run.add_argument("--seed", type=int, default=0, metavar="N", help="seed (default: 0)")
    budget = run.add_mutually_exclusive_group()
    budget.add_argument("--quick", dest="budget", action="store_const", const="quick",
                        help="CI budget (default)")
    budget.add_argument("--full", dest="budget", action="store_const", const="full",
                        help="paper-scale budget")
    run.add_argument("--report-dir", type=Path, default=Path("mfcheck-report"), metavar="DIR",
                     help="where report.json, junit.xml, report.md go (default: %(default)s)")
    run.add_argument("--timeout", type=float, metavar="S",
                     help="seconds a case may run (default: 300 quick, 3600 full)")
    run.add_argument("--jobs", type=int, default=DEFAULT_JOBS, metavar="N",
                     help="worker processes (default: one per CPU core, at most "
                          f"{MAX_DEFAULT_JOBS}: each gets one core's torch threads; "
                          "0 runs in this process, no timeout)")

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
    try:
        if args.command == "list":
            return _list()
        return _run(args)
    except UsageError as exc:
        print(f"mfcheck: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except MFCheckError as exc:  # e.g. a worker process that cannot start
        print(f"mfcheck: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        where = f"; finished results are in {args.report_dir}" if args.command == "run" else ""
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


def _run(args: argparse.Namespace) -> int:
    from . import runner
    from .check import ERROR, FAIL
    from .devices import parse_device_option
    from .progress import Progress, summary_line, summary_table

    if args.jobs < 0:
        raise UsageError(f"--jobs must be 0 or more, got {args.jobs}")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(f"--timeout must be positive, got {args.timeout:g}")
    devices = parse_device_option(args.device)
    results = runner.run(args.suites, args.solver, devices, args.seed, args.budget or "quick",
                         args.report_dir, args.timeout, Progress(), workers=args.jobs)
    if results:
        print(summary_table(results))
    print(f"{summary_line(results)}; reports in {args.report_dir}")
    if not results:
        print("mfcheck: no check applies to the selected solvers and suites", file=sys.stderr)
    return EXIT_FAILED if any(r.status in (FAIL, ERROR) for r in results) else EXIT_OK
