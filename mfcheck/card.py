"""The report card of ``mfcheck validate``: what a solver was judged on, what it exempted
itself from, and one verdict line.

The solver's own checks are kept apart from mfcheck's checks of itself (solver
``HARNESS``), which say nothing about the solver. An *exemption* is anything the solver's
own declarations took out of its judgement: a case that became ``xfail`` (``baseline =
True``, ``convergent = False``) or ``skip`` (``max_size``, ``supports(game)``), and a check
that did not run at all because the solver opted out of it (a `Requires` with
``opted_out_by``, e.g. the convergence checks under ``convergent = False``). With
``strict``, every exemption is a failure.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from . import registry
from .check import ERROR, FAIL, HARNESS, PASS, SKIP, XFAIL, CheckResult
from .protocols import role_of, solver_name
from .report import counts_text, first_line, summary
from .runner import Plan

#: How much of a message one card line shows (report.md has it whole).
MESSAGE_WIDTH = 160
_TALLY = {"passed": "passed", "failed": "failed", "errors": "errored", "skipped": "skipped",
          "xfailed": "expected failures"}


@dataclass
class Exemption:
    """One declaration of the solver and every case or check it exempted."""

    declaration: str
    exempted: list[str] = field(default_factory=list)


@dataclass
class Card:
    spec: str
    text: str
    passed: bool      # no failure or error (solver's or mfcheck's), and, if strict, no exemption
    checked: int      # the solver's cases that were not skipped
    exemptions: int   # declarations that exempted something


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _short(message: str) -> str:
    line = first_line(message)
    return line if len(line) <= MESSAGE_WIDTH else line[:MESSAGE_WIDTH - 1] + "…"


def _where(rows: list[CheckResult]) -> str:
    cells = list(dict.fromkeys(f"{r.game}|{r.device}" if r.game != "-" else r.device
                               for r in rows))
    return ", ".join(cells)


def opted_out(plan: Plan, solver) -> dict[str, list[str]]:
    """Checks that did not run on ``solver`` because of its own declaration, by declaration."""
    out: dict[str, list[str]] = defaultdict(list)
    for name in plan.suites:
        suite = registry.get_suite(name)
        if not suite.accepts(solver):
            continue
        for check in suite.checks.values():
            declaration = getattr(check.applies, "opted_out_by", None)
            if check.needs_solver and declaration and not check.applies(solver):
                games = f"{len(check.games)} games" if check.games else "no game"
                out[declaration].append(f"not run: {name}::{check.name} ({games}); it applies "
                                        f"to {check.applies.who}")
    return out


def exemptions(plan: Plan, spec: str, results: list[CheckResult]) -> list[Exemption]:
    """Every declaration of the solver ``spec`` that exempted a case or a check."""
    found = {d: Exemption(d, lines) for d, lines in opted_out(plan, plan.loaded[spec]).items()}
    groups: dict[tuple[str, str, str, str], list[CheckResult]] = defaultdict(list)
    for r in results:
        if r.solver == spec and r.exemption and r.status in (SKIP, XFAIL):
            groups[r.exemption, r.status, r.suite, r.check].append(r)
    for (declaration, status, suite, check), rows in groups.items():
        found.setdefault(declaration, Exemption(declaration)).exempted.append(
            f"{status}: {suite}::{check} [{_where(rows)}] — {_short(rows[0].message)}")
    return list(found.values())


def _check_lines(rows: list[CheckResult]) -> list[str]:
    """One line per suite::check of the solver (the worst status of the cases that ran, SKIP
    if none ran, then the tally), and one per failed or errored case under it."""
    by_check: dict[tuple[str, str], list[CheckResult]] = defaultdict(list)
    for r in rows:
        by_check[r.suite, r.check].append(r)
    order = {FAIL: 0, ERROR: 1, XFAIL: 2, SKIP: 3, PASS: 4}
    lines = []
    width = max((len(f"{s}::{c}") for s, c in by_check), default=0)
    for (suite, check), group in by_check.items():
        ran = [r.status for r in group if r.status != SKIP]  # a skip is no verdict
        worst = min(ran, key=order.__getitem__) if ran else SKIP
        c = summary(group)
        tally = ", ".join(f"{n} {_TALLY[k]}" for k, n in c.items() if n)
        lines.append(f"  {worst.upper():5}  {f'{suite}::{check}'.ljust(width)}  {tally}")
        lines += [f"         {r.status.upper()} [{_where([r])}]: {_short(r.message)}"
                  for r in group if r.status in (FAIL, ERROR)]
    return lines


def card(plan: Plan, spec: str, results: list[CheckResult], *, strict: bool = False) -> Card:
    """The report card of the solver ``spec`` from a finished run's ``results``."""
    solver = plan.loaded[spec]
    own = [r for r in results if r.solver == spec]
    harness = [r for r in results if r.solver == HARNESS]
    c, h = summary(own), summary(harness)
    games = {(r.suite, r.game) for r in own if r.game != "-"}
    excused = exemptions(plan, spec, results)
    name = solver_name(solver)
    label = name if name == spec else f"{name} ({spec})"
    lines = [f"Report card: {label}, a {role_of(solver)}",
             f"Suites: {', '.join(plan.suites)}", "",
             f"The solver's checks: {len(own)} cases on {len(games)} games"]
    lines += _check_lines(own) or ["  (none ran)"]
    lines += ["", f"mfcheck's self-checks (they test mfcheck's own kernels and answers, not "
                  f"the solver): {counts_text(h)}" if harness else
              "mfcheck's self-checks: none in these suites"]
    lines += [f"  {r.status.upper()} {r.suite}::{r.check} [{_where([r])}]: {_short(r.message)}"
              for r in harness if r.status in (FAIL, ERROR)]
    lines += ["", "Declared exemptions (the solver's own declarations, and what each took out "
                  "of its judgement):" if excused else "Declared exemptions: none"]
    for e in excused:
        lines.append(f"  {e.declaration}")
        lines += [f"    {line}" for line in e.exempted]
    broken = c["failed"] + c["errors"]
    self_broken = h["failed"] + h["errors"]
    checked = len(own) - c["skipped"]
    passed = not broken and not self_broken and not (strict and excused)
    judged = {(r.suite, r.game) for r in own if r.game != "-" and r.status != SKIP}
    what = f"{_count(checked, 'check')} on {_count(len(judged), 'game')}" + (
        f" ({_count(c['skipped'], 'case')} skipped)" if c["skipped"] else "")
    declared = (f"{_count(len(excused), 'exemption')} declared"
                + (" (see above)" if excused else ""))
    reasons = ([f"{broken} of the solver's cases failed or errored"] if broken else []) + \
        ([f"{self_broken} of mfcheck's self-checks failed (a bug of mfcheck: please report "
          f"it)"] if self_broken else []) + \
        (["--strict counts every declared exemption as a failure"] if strict and excused
         else [])
    verdict = f"VERDICT: {'PASS' if passed else 'FAIL'} — {what}; {declared}"
    lines += ["", verdict + (f"; {'; '.join(reasons)}" if reasons else "")]
    return Card(spec, "\n".join(lines), passed, checked, len(excused))
