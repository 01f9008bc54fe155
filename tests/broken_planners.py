"""Deliberately broken MFG planners: each must be caught by some check of the planner
suites (tests/test_power.py), while every reference planner passes them all."""

from __future__ import annotations

import torch

from mfcheck import FiniteMFG
from mfcheck.reference import FictitiousPlay, FixedPoint, OnlineMirrorDescent


def _negated(game: FiniteMFG) -> FiniteMFG:
    return FiniteMFG(game.mu0, lambda t, L: -game.reward(t, L), game.transition,
                     n_actions=game.n_actions, horizon=game.horizon, discount=game.discount,
                     name=f"negated {game.name}", device=game.device)


class SignFlippedCost:
    """Fictitious play on the game with the congestion cost's sign flipped."""

    name = "broken: cost sign flipped"

    def solve(self, game, *, seed):
        return FictitiousPlay().solve(_negated(game), seed=seed)


class ConstantWeightFictitiousPlay(FixedPoint):
    """'Fictitious play' that forgets to shrink its step: averages with weight 1/2 forever."""

    def __init__(self):
        super().__init__(damping=0.5, decay=0.0, name="broken: FP with constant weight 1/2")


class AscendingMirrorDescent(OnlineMirrorDescent):
    """Mirror descent that accumulates −Q (minimises the reward)."""

    def __init__(self):
        super().__init__(learning_rate=0.1, name="broken: mirror descent on -Q")

    def solve(self, game, *, seed):
        return super().solve(_negated(game), seed=seed)


class WrongTemperatureBoltzmann:
    """Boltzmann iteration that claims τ = 1 but softens with τ = 2."""

    name = "broken: Boltzmann claiming τ=1, using τ=2"
    temperature = 1.0

    def solve(self, game, *, seed):
        return FixedPoint(temperature=2.0).solve(game, seed=seed)


class ClaimsConvergenceBestResponse(FixedPoint):
    """Pure best-response iteration that claims to converge."""

    def __init__(self):
        super().__init__(name="broken: pure best response claiming convergence")
        self.convergent = True


class NaNPlanner:
    name = "broken: NaN policy"

    def solve(self, game, *, seed):
        while True:
            yield torch.full(game.policy_shape, float("nan"), dtype=game.dtype, device=game.device)


class WrongShapePlanner:
    name = "broken: wrong shape"

    def solve(self, game, *, seed):
        while True:
            yield torch.full((game.n_actions,), 1.0 / game.n_actions, dtype=game.dtype,
                             device=game.device)


class RaisingPlanner:
    name = "broken: raises"

    def solve(self, game, *, seed):
        raise RuntimeError("deliberate failure")


BROKEN = {
    "sign-flipped-cost": SignFlippedCost(),
    "constant-weight-fp": ConstantWeightFictitiousPlay(),
    "ascending-mirror-descent": AscendingMirrorDescent(),
    "wrong-temperature": WrongTemperatureBoltzmann(),
    "claims-convergence": ClaimsConvergenceBestResponse(),
    "nan": NaNPlanner(),
    "wrong-shape": WrongShapePlanner(),
    "raises": RaisingPlanner(),
}
