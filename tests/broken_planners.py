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


# -- caught only by the uniqueness suite (tests/test_power_uniqueness.py): each is right
# when started from its own uniform start, which is all that two-route and n-route try.

class ResumedFictitiousPlay(FixedPoint):
    """Fictitious play that takes a given start for the average of 1000 earlier iterations
    (a resumed run with the wrong iteration counter): the start keeps weight
    1000/(1000 + k), so the limit depends on where it started."""

    resumed = 1000

    def __init__(self):
        super().__init__(damping=1.0, decay=1.0, name="broken: FP resumed with a stale counter")
        self.resumed_from = 0

    def step_size(self, k: int) -> float:
        return 1.0 / (k + 1 + self.resumed_from)

    def solve(self, game, *, seed, initial_policy=None):
        self.resumed_from = 0 if initial_policy is None else self.resumed
        return super().solve(game, seed=seed, initial_policy=initial_policy)


class IgnoresInitialPolicy(FixedPoint):
    """Fictitious play that accepts ``initial_policy`` and starts uniform anyway."""

    def __init__(self):
        super().__init__(damping=1.0, decay=1.0, name="broken: FP ignoring initial_policy")

    def solve(self, game, *, seed, initial_policy=None):
        return super().solve(game, seed=seed)


#: Planners whose bug only shows from other starts (not part of BROKEN: the congestion
#: suites, which start every planner uniform, cannot see it).
BROKEN_STARTS = {
    "resumed-fictitious-play": ResumedFictitiousPlay(),
    "ignores-initial-policy": IgnoresInitialPolicy(),
}
