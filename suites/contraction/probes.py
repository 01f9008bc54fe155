"""The ``contraction`` suite itself and what its checks share: the drawn families, findings,
the Lipschitz search over drawn pairs (`lipschitz_search`), and figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import hypothesis
import hypothesis.strategies as st
import torch

from mfcheck.check import Budget, Context, Outcome, Suite
from mfcheck.report import file_stem, new_figure, save_figure


#: Rounding allowance relative to the largest |entry| involved: about 4500 ulps, far above
#: the rounding of the ≤ 50-term sums in these operators, far below any modelling error.
ROUNDING = 1e-12

#: A drawn pair's ratio is reported only when ‖x − y‖ ≥ RESOLVED·scale, so that rounding
#: moves it by at most ROUNDING/RESOLVED = 1e-6 (every pair is still held to its bound).
RESOLVED = 1e-6

#: Drawn pairs per Lipschitz search, and drawn games per rate measurement. Hypothesis
#: draws every entry separately (so that `target` can steer them), at ~0.3 ms each:
#: the tables stay small (S, K ≤ 2, A ≤ 3) and the quick budget runs in seconds.
PAIRS = {Budget.QUICK: 100, Budget.FULL: 3000}

RATE_GAMES = {Budget.QUICK: 15, Budget.FULL: 300}


suite = Suite("contraction", role="learner",
              description="mean-field operators (H_MF, Boltzmann mean-action map, logit route "
                          "map, best response, stationary best-response map, TMF recursion) "
                          "against their proven Lipschitz bounds, counter-examples, fixed "
                          "points and rates",
              reference_solvers=[])


@dataclass(frozen=True)
class Draws:
    """The family Hypothesis draws from: the 'game' column of these checks."""

    max_states: int
    max_bins: int
    max_actions: int


def family(label: str, draws: Draws):
    return {label: lambda device: draws}


@dataclass(frozen=True)
class Finding:
    """One sub-check of a check."""

    passed: bool
    measured: Any
    expected: Any
    tolerance: Any
    message: str


def outcome_of(findings: list[Finding]) -> Outcome:
    failed = [f for f in findings if not f.passed]
    shown = failed[0] if failed else findings[0]
    return Outcome(not failed, shown.measured, shown.expected, shown.tolerance,
                   "; ".join(("FAILED: " if not f.passed else "") + f.message for f in findings))


def run_search(strategy: st.SearchStrategy, body: Callable[[Any], None], ctx: Context,
            examples: int) -> bool:
    """Run ``body`` on ``examples`` draws of ``strategy`` (seeded by ``ctx``); False when an
    assertion in ``body`` failed, on the first failing draw (no shrinking: a broken operator
    is reported in seconds, with the draw that exposed it)."""
    @hypothesis.seed(ctx.seed)
    @hypothesis.settings(max_examples=examples, database=None, deadline=None,
                         derandomize=False, report_multiple_bugs=False,
                         phases=(hypothesis.Phase.generate, hypothesis.Phase.target),
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(strategy)
    def run(example):
        body(example)

    try:
        run()
    except AssertionError:
        return False
    return True


@dataclass(frozen=True)
class Probe:
    """One drawn pair x, y of an operator F."""

    before: float    # ‖x − y‖
    after: float     # ‖F x − F y‖
    bound: float     # the proven Lipschitz constant for this pair
    plain: float     # the plain contraction modulus (γ for H_MF, 1 for B)
    promised: bool   # the theory promises ratio ≤ plain here
    scale: float     # the largest |entry| involved, for the rounding allowance
    where: str       # what was drawn, for the message


def lipschitz_search(pairs: st.SearchStrategy, probe: Callable[[Any], Probe], ctx: Context,
                     what: str, examples: dict[Budget, int] = PAIRS) -> Finding:
    """Every drawn pair's ratio within its proven bound (+ rounding); report the largest
    ratio/plain inside and beyond the promised region (``examples`` pairs per budget)."""
    seen = {"n": 0, "sharp": 0.0, "inside": 0.0, "beyond": 0.0, "beyond_at": "", "bad": None}

    def body(pair):
        p = probe(pair)
        if p.after > p.bound * p.before + ROUNDING * p.scale:
            seen["bad"] = (p.after / p.before, p.bound, p.where)
            raise AssertionError
        if p.before < RESOLVED * p.scale:
            return
        ratio = p.after / p.before
        seen["n"] += 1
        if p.bound > 0:
            seen["sharp"] = max(seen["sharp"], ratio / p.bound)
        if p.promised:
            seen["inside"] = max(seen["inside"], ratio / p.plain)
        else:
            hypothesis.target(ratio / p.plain)
            if ratio / p.plain > seen["beyond"]:
                seen["beyond"], seen["beyond_at"] = ratio / p.plain, p.where

    ok = run_search(pairs, body, ctx, examples[ctx.budget])
    if not ok:
        ratio, bound, where = seen["bad"]
        return Finding(False, ratio, f"<= {bound:.6g}", ROUNDING,
                       f"{what}: a drawn pair has ratio {ratio:.9g} above the proven bound "
                       f"{bound:.9g} ({where})")
    beyond = (f"largest ratio/plain {seen['beyond']:.6f} at {seen['beyond_at']}: "
              + ("a counter-example to the plain contraction" if seen["beyond"] > 1
                 else "no counter-example found")) if seen["beyond"] else "no pair drawn there"
    return Finding(True, seen["sharp"], "<= 1", ROUNDING,
                   f"{what}: {seen['n']} resolved drawn pairs, largest ratio/proven bound "
                   f"{seen['sharp']:.6f} (<= 1 + rounding); where the plain contraction is "
                   f"promised, largest ratio/plain {seen['inside']:.6f}; beyond it, {beyond}")


COUNTER_STEP = 1e-3


def l1_norm(x: torch.Tensor) -> float:
    return float(x.abs().sum())


def as_tensor64(values, device) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64, device=device)


def figure():
    return new_figure(figsize=(5.2, 3.8))


def save_check_figure(fig, ctx: Context, check: str) -> str:
    """``contraction-<check>.png`` in the report dir."""
    return save_figure(fig, ctx.report_dir / f"contraction-{file_stem(check)}.png")

