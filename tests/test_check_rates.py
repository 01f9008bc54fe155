"""Every check states its false-failure rate (`Suite.check(..., false_failure_rate=...)`), the
number `mfcheck sweep` counts failures against, and docs/statistics.md lists exactly those
rates ("Stated false-failure rate of every check"). Imports the suites only: fast."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

from mfcheck.check import FALSE_FAILURE_RATE, Suite
from mfcheck.registry import get_suite, suite_names

DOC = Path(__file__).resolve().parents[1] / "docs" / "statistics.md"
SECTION = "## Stated false-failure rate of every check"

#: The checks that leave their rate unstated (None), and why: pass/fail is random, but no
#: false-failure rate is computed for them. A claim check's α bounds a false *pass*; a
#: correct solver fails it with 1 − power, which depends on that solver's spread.
UNSTATED = {
    ("ising-mfq", "bellman-fixed-point"):
        "fixed tolerance 0.02 on a policy learned from seeded, sampled play; no α, no spread "
        "over seeds measured",
    ("sync-async", "same-equilibrium"): "TOST claim: α is a false-pass rate",
    ("sync-async", "same-performance"): "TOST claim: α is a false-pass rate",
    ("sync-async", "population-feedback"): "TOST claim: α is a false-pass rate",
    ("sync-async", "ising-exception"): "the gap must be shown: α is a false-pass rate",
    ("battle", "beats-random"): "sign test claiming a win: α is a false-pass rate",
    ("battle", "round-robin"): "sign tests claiming wins: α is a false-pass rate",
}


def registered() -> dict[tuple[str, str], float | None]:
    return {(name, check.name): check.false_failure_rate
            for name in suite_names() for check in get_suite(name).checks.values()}


def test_every_check_states_a_rate_in_range():
    rates = registered()
    missing = sorted(key for key, rate in rates.items() if rate is None and key not in UNSTATED)
    assert not missing, (f"checks with no false_failure_rate (state one, or allow-list it "
                         f"with why): {missing}")
    for key, rate in rates.items():
        if rate is not None:
            assert 0 <= rate < 1, f"{key}: false_failure_rate {rate!r} outside [0, 1)"


def test_the_allow_list_is_not_stale():
    """Every allow-listed check exists and still leaves its rate unstated."""
    rates = registered()
    for key in UNSTATED:
        assert key in rates, f"{key} is allow-listed but not registered"
        assert rates[key] is None, f"{key} now states {rates[key]!r}: drop it from UNSTATED"


def test_statistical_rates_are_the_project_alpha_or_a_multiple():
    """A statistical check spends the project's α, or (union bound, a wart) a whole multiple."""
    for key, rate in registered().items():
        if rate:
            k = rate / FALSE_FAILURE_RATE
            assert math.isclose(k, round(k)) and round(k) >= 1, (
                f"{key}: rate {rate!r} is not a multiple of FALSE_FAILURE_RATE "
                f"{FALSE_FAILURE_RATE}")


@pytest.mark.parametrize("rate", [1.5, 1.0, -0.1])
def test_a_rate_outside_the_unit_interval_is_refused(rate):
    suite = Suite("made-up", role="planner", description="", reference_solvers=[])
    with pytest.raises(ValueError, match=r"made-up::bad-rate.*false_failure_rate"):
        suite.check("bad-rate", false_failure_rate=rate)
    assert "bad-rate" not in suite.checks


def documented() -> dict[tuple[str, str], tuple[str, str]]:
    """(suite, check) → (rate text, kind) from the table of docs/statistics.md."""
    text = DOC.read_text(encoding="utf-8")
    assert SECTION in text, f"{DOC} has no section {SECTION!r}"
    body = text.split(SECTION, 1)[1]
    body = re.split(r"^## ", body, maxsplit=1, flags=re.M)[0]
    rows = [line for line in body.splitlines() if line.startswith("|")]
    header = [c.strip() for c in rows[0].strip("|").split("|")]
    assert header[:4] == ["suite", "check", "rate", "kind"], header
    out = {}
    for line in rows[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        key = (cells[0], cells[1])
        assert key not in out, f"{key} listed twice in {DOC.name}"
        out[key] = (cells[2], cells[3])
    return out


def parse_rate(text: str) -> float | None:
    return None if text == "unstated" else float(text)


def test_the_documented_table_matches_the_registered_rates():
    rates, table = registered(), documented()
    assert set(table) == set(rates), (
        f"docs/statistics.md lists {sorted(set(table) - set(rates))} that are not registered "
        f"and misses {sorted(set(rates) - set(table))}")
    for key, (text, kind) in table.items():
        rate = parse_rate(text)
        assert rate == rates[key], f"{key}: documented {text!r}, declared {rates[key]!r}"
        expected = ("unstated" if rate is None else "deterministic" if rate == 0
                    else "statistical")
        assert kind == expected, f"{key}: kind {kind!r} for rate {text!r}, expected {expected!r}"
