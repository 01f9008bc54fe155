"""What a person watching a run sees: live progress, then a summary table.

On a terminal, one status line redrawn in place (plus a permanent line for each
failure, so none scrolls away unseen); in a log (CI), one plain line per finished case.
"""

from __future__ import annotations

import shutil
import sys
from typing import TextIO

from .check import ERROR, FAIL, PASS, SKIP, XFAIL, Case, CheckResult
from .report import first_line, format_value, solver_label

_LABEL = {PASS: "PASS", FAIL: "FAIL", ERROR: "ERROR", SKIP: "SKIP", XFAIL: "XFAIL"}


def _width(stream: TextIO) -> int:
    return shutil.get_terminal_size((100, 24)).columns if stream.isatty() else 100


def truncate(s: str, width: int) -> str:
    return s if len(s) <= width else s[:max(width - 1, 0)] + "…"


class Progress:
    """Receives the runner's events: ``start``, ``case_started``, ``case_finished``, ``close``."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.total = self.done = 0
        self.counts = dict.fromkeys(_LABEL, 0)
        self.current = ""

    def start(self, cases: list[Case]) -> None:
        self.total = len(cases)
        self._redraw()

    def case_started(self, case: Case) -> None:
        self.current = case.id
        self._redraw()

    def case_finished(self, case: Case, result: CheckResult) -> None:
        self.done += 1
        self.counts[result.status] += 1
        if not self.tty or result.status in (FAIL, ERROR):
            self._clear()
            self.stream.write(self.line(case, result) + "\n")
        self._redraw()

    def close(self) -> None:
        self._clear()

    @staticmethod
    def line(case: Case, result: CheckResult) -> str:
        message = first_line(result.message)
        return (f"{_LABEL[result.status]} {case.id} {result.duration_s:.2f}s"
                + (f" — {message}" if message else ""))

    def _status(self) -> str:
        c = self.counts
        return (f"[{self.done}/{self.total}] {c[PASS]} passed, {c[FAIL]} failed, "
                f"{c[ERROR]} errors, {c[SKIP]} skipped"
                + (f", {c[XFAIL]} expected failures" if c[XFAIL] else "") + f" · {self.current}")

    def _redraw(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + truncate(self._status(), _width(self.stream) - 1))
            self.stream.flush()

    def _clear(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
        self.stream.flush()


_COLUMNS = ("suite", "check", "game", "solver", "device", "status", "measured vs expected")
_MIN_WIDTH = 6


def summary_table(results: list[CheckResult], width: int | None = None,
                  names: dict[str, str] | None = None) -> str:
    """The final table, its widest columns truncated until it fits ``width``; the solver
    column shows ``names[spec]`` (the solver's ``name``) where given."""
    width = width or shutil.get_terminal_size((100, 24)).columns
    rows = [(r.suite, r.check, r.game,
             solver_label(r.solver, names) if r.solver in (names or {}) else short_solver(r.solver),
             r.device, _LABEL[r.status], _versus(r)) for r in results]
    widths = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(_COLUMNS)]
    gap = 2
    while sum(widths) + gap * (len(widths) - 1) > width and max(widths) > _MIN_WIDTH:
        widths[widths.index(max(widths))] -= 1

    def fmt(cells) -> str:
        return "  ".join(truncate(c, w).ljust(w) for c, w in zip(cells, widths)).rstrip()

    out = [fmt(_COLUMNS), fmt(["-" * w for w in widths])]
    out += [fmt(row) for row in rows]
    return "\n".join(out)


def short_solver(spec: str) -> str:
    """``pkg.mod:ATTR[key]`` → ``key``; ``pkg.mod:ATTR`` → ``ATTR`` (the report keeps the spec)."""
    if spec.endswith("]") and "[" in spec:
        return spec[spec.rindex("[") + 1:-1]
    return spec.rpartition(":")[2]


def _versus(r: CheckResult) -> str:
    if r.measured is None and r.expected is None:
        return first_line(r.message)
    tol = f" ± {format_value(r.tolerance)}" if r.tolerance is not None else ""
    return f"{format_value(r.measured)} vs {format_value(r.expected)}{tol}"

