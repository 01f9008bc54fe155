"""What the planner suites share about convergence: whom their convergence checks apply to
(`CONVERGENT`, `NOT_CONVERGENT`), and what a failed one can say of its cause
(`cycling_hint`): iterates that cycle come from a method not meant to converge.
"""

from __future__ import annotations

import torch

from .check import Requires
from .kernels.policies import detect_period
from .boundary import planner_convergent

#: Whom the convergence checks and the best-response checks of the planner suites apply to.
CONVERGENT = Requires(planner_convergent, "planners meant to converge (no convergent = False)",
                      opted_out_by="convergent = False")
NOT_CONVERGENT = Requires(lambda planner: not planner_convergent(planner),
                          "planners that declare convergent = False")
#: What a planner whose iterates cycle is told.
CYCLING_ADVICE = "declare convergent = False if the method is not meant to converge"
#: Iterates a convergence check keeps at the end of a run, to tell a cycle from a slow
#: approach (`cycling_hint`).
TAIL = 6


def cycling_hint(tail: list[torch.Tensor], where: str = "") -> str:
    """'; the iterates cycle with period p[ where]: declare convergent = False ...' when the
    last iterates ``tail`` cycle (`detect_period` ≥ 2), else ''. For a failed convergence
    check's message."""
    period = detect_period(tail)
    if not period or period < 2:
        return ""
    return f"; the iterates cycle with period {period}{f' {where}' if where else ''}: " \
        + CYCLING_ADVICE
