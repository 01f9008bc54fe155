"""Deliberately broken MFG planners: each must be caught by some check of the planner
suites (tests/test_power.py), while every reference planner passes them all."""

from __future__ import annotations

import torch

from mfcheck import FiniteMFG
from mfcheck.reference import FictitiousPlay, FixedPoint, OnlineMirrorDescent

from .catalogue import Entry


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


# -- multi-epoch bug classes ------------------------------------------------------------------
#
# `TextbookFictitiousPlay` is fictitious play written from the planner protocol alone (its own
# forward and backward passes over the game's public `reward` and `transition`, no mfcheck
# kernel): correct as it stands, and a control in tests/test_power.py. Each subclass below
# changes one line of it, the way real planners go wrong in time and state; on one-shot
# games (two-route, n-route) every one of them is still right.

class TextbookFictitiousPlay:
    """Fictitious play: average (through the populations) of exact or softmax best responses."""

    name = "textbook fictitious play (control)"
    temperature = 0.0

    def supports(self, game):
        return True if game.horizon is not None else "finite-horizon games only"

    # the pieces a bug may change ------------------------------------------------------
    def reward_at(self, game, t, L):
        """The reward the agent earns at epoch t; ``L`` holds every epoch's L_t."""
        return game.reward(t, L[t])

    def transition_at(self, game, t, L_t):
        return game.transition(t, L_t)

    def continuation(self, game, t, L_t, v_next):
        return game.discount * torch.einsum("sap,p->sa", self.transition_at(game, t, L_t), v_next)

    def soft_value(self, q, policy):
        """The state value of acting by ``policy`` on ``q``: with τ > 0 the entropy bonus counts."""
        tau = self.temperature
        if tau:
            return tau * torch.logsumexp(q / tau, -1)
        return q.amax(-1)

    def respond(self, q):
        tau = self.temperature
        if tau:
            return torch.softmax(q / tau, -1)
        return torch.nn.functional.one_hot(q.argmax(-1), q.shape[-1]).to(q.dtype)

    def start(self, game):
        return game.mu0

    # the planner ------------------------------------------------------------------------
    def flow(self, game, policy):
        """μ_t and L_t for every epoch."""
        mu, mus, Ls = self.start(game), [], []
        for t in range(game.horizon):
            L_t = mu[:, None] * policy[t]
            mus.append(mu)
            Ls.append(L_t)
            mu = torch.einsum("sa,sap->p", L_t, self.transition_at(game, t, L_t))
        return torch.stack(mus), torch.stack(Ls)

    def best_response(self, game, L):
        v_next = torch.zeros(game.n_states, dtype=game.dtype, device=game.device)
        response = []
        for t in reversed(range(game.horizon)):
            q = self.reward_at(game, t, L)
            if t + 1 < game.horizon:
                q = q + self.continuation(game, t, L[t], v_next)
            pi = self.respond(q)
            v_next = self.soft_value(q, pi)
            response.append(pi)
        return torch.stack(response[::-1])

    def solve(self, game, *, seed):
        policy = torch.full(game.policy_shape, 1.0 / game.n_actions, dtype=game.dtype,
                            device=game.device)
        mu, L = self.flow(game, policy)
        k = 0
        while True:
            k += 1
            response = self.best_response(game, L)
            mu_response, _ = self.flow(game, response)
            weight = 1.0 / (k + 1)
            mass = (1 - weight) * mu + weight * mu_response
            mixed = ((1 - weight) * mu[..., None] * policy
                     + weight * mu_response[..., None] * response)
            policy = torch.where(mass[..., None] > 0, mixed / mass.clamp_min(1e-300)[..., None],
                                 1.0 / game.n_actions)
            mu, L = self.flow(game, policy)
            yield policy


class SoftTextbookFictitiousPlay(TextbookFictitiousPlay):
    name = "textbook softmax fictitious play at τ=1 (control)"
    temperature = 1.0


class NoContinuationValue(TextbookFictitiousPlay):
    """Backward induction without the continuation value: each epoch's best response is myopic."""

    name = "broken: best response without the continuation value"

    def continuation(self, game, t, L_t, v_next):
        return torch.zeros(game.n_states, game.n_actions, dtype=game.dtype, device=game.device)


class NextEpochPopulation(TextbookFictitiousPlay):
    """The reward of epoch t evaluated at the population of epoch t + 1."""

    name = "broken: reward at the population of epoch t+1"

    def reward_at(self, game, t, L):
        return game.reward(t, L[min(t + 1, game.horizon - 1)])


class NextEpochReward(TextbookFictitiousPlay):
    """The reward function of epoch t + 1 used at epoch t (an off-by-one in the time index)."""

    name = "broken: reward of epoch t+1 used at epoch t"

    def reward_at(self, game, t, L):
        return game.reward(min(t + 1, game.horizon - 1), L[t])


class TransposedTransition(TextbookFictitiousPlay):
    """P[s, a, s'] read as P[s', a, s] (the tensor's first and last axes swapped)."""

    name = "broken: transition tensor read the wrong way round"

    def transition_at(self, game, t, L_t):
        return game.transition(t, L_t).transpose(0, 2)


class EntropyLeftOut(SoftTextbookFictitiousPlay):
    """A soft best response whose value omits the entropy term: softmax of values that
    are E_π[q] (OpenSpiel's FixedPoint at τ takes a softmax of unregularised values)."""

    name = "broken: soft best response whose value omits the entropy (τ=1)"

    def soft_value(self, q, policy):
        return (policy * q).sum(-1)


class TemperatureAsInverse(TextbookFictitiousPlay):
    """Declares τ = 0.5 and uses it as an inverse temperature: softmax(τ·q)."""

    name = "broken: softmax(τ·q) for declared τ=0.5"
    temperature = 0.5

    def respond(self, q):
        return torch.softmax(q * self.temperature, -1)

    def soft_value(self, q, policy):
        beta = self.temperature
        return torch.logsumexp(q * beta, -1) / beta


class DiscountIgnored(TextbookFictitiousPlay):
    """Treats every finite-horizon game as undiscounted."""

    name = "broken: discount ignored"

    def continuation(self, game, t, L_t, v_next):
        return torch.einsum("sap,p->sa", self.transition_at(game, t, L_t), v_next)


class UniformStart(TextbookFictitiousPlay):
    """Propagates the population from the uniform distribution instead of μ0."""

    name = "broken: population started uniform instead of at μ0"

    def start(self, game):
        return torch.full_like(game.mu0, 1.0 / game.n_states)


class PolicyOfNextEpoch(TextbookFictitiousPlay):
    """Propagates the population at epoch t with the policy of epoch t + 1."""

    name = "broken: population moved by the policy of epoch t+1"

    def flow(self, game, policy):
        shifted = torch.cat([policy[1:], policy[-1:]])
        return super().flow(game, shifted)


class PopulationFrozenAtStart:
    """Stationary fictitious play that responds to the population μ0 ⊗ π, never to π's
    stationary law (the population is not propagated)."""

    name = "broken: stationary best response to μ0 instead of the stationary law"

    def supports(self, game):
        return True if game.horizon is None else "discounted stationary games only"

    def solve(self, game, *, seed):
        from mfcheck import Flow, best_response

        policy = game.uniform_policy()
        k = 0
        while True:
            k += 1
            response = best_response(game, Flow(game.mu0, game.mu0[:, None] * policy)).policy
            policy = (k * policy + response) / (k + 1)
            yield policy


BROKEN_MULTI_EPOCH = {
    "no-continuation-value": NoContinuationValue(),
    "next-epoch-population": NextEpochPopulation(),
    "next-epoch-reward": NextEpochReward(),
    "transposed-transition": TransposedTransition(),
    "entropy-left-out": EntropyLeftOut(),
    "temperature-as-inverse": TemperatureAsInverse(),
    "discount-ignored": DiscountIgnored(),
    "uniform-start": UniformStart(),
    "policy-of-next-epoch": PolicyOfNextEpoch(),
    "population-frozen-at-start": PopulationFrozenAtStart(),
}
#: Correct planners written from the protocol alone: they must pass every planner check.
CONTROLS = {"textbook-fp": TextbookFictitiousPlay(), "textbook-softmax-fp": SoftTextbookFictitiousPlay()}


def _entry(key: str, bug_class: str, check: str, *, group: str = "BROKEN",
           games: tuple[str, ...] = ()) -> Entry:
    solver = globals()[group][key]
    doc = (type(solver).__doc__ or solver.name).strip().splitlines()[0]
    return Entry(f"tests.broken_planners:{group}[{key}]", role="planner", bug_class=bug_class,
                 description=doc, caught_by=(check,), games=games)


#: Where a congestion-suite bug shows: a game is named only where it fails (a sign error is
#: harmless on a symmetric game, a constant step on a corner, τ = 2 for τ = 1 costs 1.4e-3
#: on the interior game against the tolerance 1e-3 but 0.018–0.062 at the corners).
#: The staged-routes games of `multi-epoch`, where each multi-epoch bug moves the closed-form
#: equilibrium by a known amount (the discount bug needs the discounted one).
STAGED, STAGED_DISCOUNTED = ("staged-routes(H=4)",), ("staged-routes(H=5,γ=0.6)",)

CATALOGUE = [
    _entry("sign-flipped-cost", "sign", "two-route::reaches-equilibrium"),
    _entry("constant-weight-fp", "update rule", "two-route::reaches-equilibrium",
           games=("symmetric(0,1,0,1)", "interior(0.5,2,1,0.5)")),
    _entry("ascending-mirror-descent", "sign", "two-route::reaches-equilibrium",
           games=("interior(1,1,1.5,0.5)", "corner-0(3,1,1,1)")),
    _entry("wrong-temperature", "temperature convention", "two-route::reaches-equilibrium",
           games=("corner-1(0,0.5,1,0.2)", "corner-0(3,1,1,1)")),
    _entry("claims-convergence", "update rule", "two-route::reaches-equilibrium",
           games=("interior(1,1,1.5,0.5)", "symmetric(0,1,0,1)")),
    _entry("nan", "protocol output", "two-route::reaches-equilibrium"),
    _entry("wrong-shape", "protocol output", "two-route::reaches-equilibrium"),
    _entry("raises", "protocol output", "two-route::reaches-equilibrium"),
    _entry("resumed-fictitious-play", "initial state", "uniqueness::unique-equilibrium",
           group="BROKEN_STARTS", games=("drawn-monotone-routes",)),
    _entry("ignores-initial-policy", "initial state", "uniqueness::finds-every-equilibrium",
           group="BROKEN_STARTS"),
    _entry("population-frozen-at-start", "stale population", "multi-epoch::stationary-equilibrium",
           group="BROKEN_MULTI_EPOCH"),
    *(_entry(key, bug_class, "multi-epoch::reaches-equilibrium", group="BROKEN_MULTI_EPOCH",
             games=STAGED_DISCOUNTED if key == "discount-ignored" else STAGED)
      for key, bug_class in [("no-continuation-value", "continuation value"),
                             ("next-epoch-population", "time indexing"),
                             ("next-epoch-reward", "time indexing"),
                             ("transposed-transition", "tensor orientation"),
                             ("entropy-left-out", "temperature convention"),
                             ("temperature-as-inverse", "temperature convention"),
                             ("discount-ignored", "discount convention"),
                             ("uniform-start", "initial state"),
                             ("policy-of-next-epoch", "time indexing")]),
]
