"""A check's `Outcome` from its statistical sub-tests."""

from __future__ import annotations

from collections.abc import Sequence

from .check import Outcome
from .stats import ZTestResult, most_significant


def from_z_tests(tests: Sequence[ZTestResult], what: str) -> Outcome:
    """Passes when every z-test passes; reports the most significant one's measured and
    expected values and tolerance (`stats.most_significant`), and every test's message
    after ``what`` (what was compared)."""
    worst = most_significant(tests)
    return Outcome(all(t.passed for t in tests), worst.measured, worst.expected, worst.tolerance,
                   f"{what}; " + "; ".join(t.message for t in tests))
