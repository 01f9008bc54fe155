"""Suite ``openspiel-parity``: mfcheck's kernels and reference planners against OpenSpiel.

On ``python_mfg_crowd_modelling`` (size 10, horizon 10), the figures of open_spiel 2.0.2
re-run for this project (docs/references.md#openspiel) are reproduced to 1e-9 with the ``"openspiel"``
convention of `mfcheck.games.crowd_modelling` (see its docstring for why that convention
exists). When open_spiel is installed, a further check compares NashConv live on random
policies.
"""

from __future__ import annotations

import itertools

import torch

from mfcheck.check import Context, Outcome, Suite
from mfcheck.games.crowd_modelling import crowd_modelling, openspiel_live_update_mask
from mfcheck.kernels import exploitability
from mfcheck.reference import FictitiousPlay, OnlineMirrorDescent

TOLERANCE = 1e-9
#: NashConv figures of open_spiel 2.0.2 on python_mfg_crowd_modelling (docs/references.md#openspiel-crowd-modelling,
#: #openspiel-mirror-descent, #openspiel-fictitious-play).
OPENSPIEL_UNIFORM = 2.8135365543870385
OPENSPIEL_MIRROR_DESCENT_10 = 2.273032491554595  # MirrorDescent(lr=0.01), 10 iterations
OPENSPIEL_FICTITIOUS_PLAY_10 = 0.9908032626911343
LIVE_POLICIES = 3

CROWD = {"crowd_modelling(10,10)": lambda device: crowd_modelling(10, 10, device=device)}

suite = Suite("openspiel-parity", role="planner",
              description="NashConv on OpenSpiel's crowd modelling game, to 1e-9",
              reference_solvers=[])


def _parity(measured: float, expected: float, what: str) -> Outcome:
    error = abs(measured - expected)
    return Outcome(error <= TOLERANCE, measured, expected, TOLERANCE,
                   f"{what}: NashConv {measured!r} vs OpenSpiel's {expected!r} "
                   f"(open_spiel 2.0.2 re-run, docs/references.md#openspiel), |difference| {error:.1e}")


def _after(planner, game, iterations: int) -> torch.Tensor:
    return next(itertools.islice(planner.solve(game, seed=0), iterations - 1, None))


@suite.check("uniform-nashconv", games=CROWD, needs_solver=False, false_failure_rate=0)
def uniform_nashconv(_, game, ctx: Context) -> Outcome:
    """mfcheck.exploitability of the uniform policy equals OpenSpiel's NashConv."""
    return _parity(float(exploitability(game, game.uniform_policy())), OPENSPIEL_UNIFORM,
                   "uniform policy")


@suite.check("fictitious-play", games=CROWD, needs_solver=False, false_failure_rate=0)
def fictitious_play(_, game, ctx: Context) -> Outcome:
    """Reference fictitious play after 10 iterations equals OpenSpiel's FictitiousPlay."""
    policy = _after(FictitiousPlay(), game, 10)
    return _parity(float(exploitability(game, policy)), OPENSPIEL_FICTITIOUS_PLAY_10,
                   "fictitious play, 10 iterations")


@suite.check("mirror-descent", games=CROWD, needs_solver=False, false_failure_rate=0)
def mirror_descent(_, game, ctx: Context) -> Outcome:
    """Reference mirror descent (lr 0.01, OpenSpiel's live updates) after 10 iterations."""
    planner = OnlineMirrorDescent(0.01, live_update_mask=openspiel_live_update_mask(10, 10))
    return _parity(float(exploitability(game, _after(planner, game, 10))),
                   OPENSPIEL_MIRROR_DESCENT_10, "mirror descent (lr 0.01), 10 iterations")


@suite.check("live-nashconv", games=CROWD, needs_solver=False, false_failure_rate=0)
def live_nashconv(_, game, ctx: Context) -> Outcome:
    """On random policies, mfcheck.exploitability equals OpenSpiel's NashConv computed now."""
    try:
        from mfcheck.adapters.openspiel import crowd_modelling_nash_conv, require_openspiel
        require_openspiel()  # a MissingPeerError is an ImportError
    except ImportError as exc:
        return Outcome.skip(f"open_spiel is not installed ({exc}); pip install 'mfcheck[openspiel]'")
    gen = ctx.generator()
    worst = 0.0
    for _ in range(LIVE_POLICIES):
        logits = torch.randn(game.policy_shape, generator=gen, dtype=torch.float64) * 2
        policy = torch.softmax(logits, -1).to(game.device)
        ours = float(exploitability(game, policy))
        theirs = crowd_modelling_nash_conv(policy.cpu().numpy(), size=10, horizon=10)
        worst = max(worst, abs(ours - theirs))
    return Outcome(worst <= TOLERANCE, worst, 0.0, TOLERANCE,
                   f"{LIVE_POLICIES} random policies (seed {ctx.seed}): largest |mfcheck − "
                   f"OpenSpiel NashConv| {worst:.1e}")
