"""What a wrong planner most likely got wrong: its policy against common convention mismatches.

When a planner's policy is not an equilibrium, a solver author wants to know *why*. Most
planner bugs are a convention read differently — the continuation value left out, the
reward or population of the neighbouring epoch, the transition tensor read the wrong way
round, the entropy bonus left out of a soft value, another temperature or discount
convention — and each of these has an equilibrium of its own: the fixed point that a
planner carrying that mistake converges to. `closest_mismatch` computes each of them
(`MISMATCHES`) by fictitious play with the mistaken best response, and says which one the
planner's population is closest to.

Every distance is between state-action flows in the *true* game,
d(π, π') = max_t ‖L^π_t − L^{π'}_t‖₁ ∈ [0, 2], so only what the population does counts
(not the policy in states nobody reaches). A mismatch is named only when the planner is
clearly closer to it than to the true equilibrium (`CLEARLY_CLOSER`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from .game import FiniteMFG
from .kernels import Flow, best_response, distribution, mix_policies

Tensor = torch.Tensor

#: Fictitious-play iterations per candidate equilibrium: on the games of the planner suites
#: fictitious play's exploitability falls like ≈ C/k with C ≤ 7, so the candidates are
#: within about 0.01 (ℓ1 over L) of their fixed points, far closer than the mismatches are to
#: each other (docs/planners.md).
CANDIDATE_ITERATIONS = 100
#: A mismatch is named when the planner's distance to it is below this fraction of its
#: distance to the true equilibrium.
CLEARLY_CLOSER = 0.5
#: "γ → 0": the discount of the myopic variant (no continuation value). A finite-horizon
#: game's flow does not use the discount, its values do.
MYOPIC_DISCOUNT = 1e-300


@dataclass(frozen=True)
class Setting:
    """How a (possibly mistaken) planner sees the game: the game its best responses are
    computed in, the game its population is propagated in, how the population it responds
    to is read (from its policy and that policy's flow), and the best-response rule."""

    response_game: FiniteMFG
    flow_game: FiniteMFG
    shift_flow: Callable[[Tensor, Flow], Flow]
    respond: Callable[[FiniteMFG, Flow], Tensor]


@dataclass(frozen=True)
class Mismatch:
    name: str
    #: (game, τ) → the mistaken Setting, or None where the mistake changes nothing.
    setting: Callable[[FiniteMFG, float], Setting | None]


def variant(game: FiniteMFG, *, reward=None, transition=None, discount=None, mu0=None,
            label: str) -> FiniteMFG:
    """``game`` with some of its parts replaced (same states, actions and horizon)."""
    return FiniteMFG(game.mu0 if mu0 is None else mu0, reward or game.reward,
                     transition or game.transition, n_actions=game.n_actions,
                     horizon=game.horizon,
                     discount=game.discount if discount is None else discount,
                     name=f"{game.name} [{label}]", batched=True, device=game.device)


def _same(policy: Tensor, flow: Flow) -> Flow:
    return flow


def _respond_at(temperature: float):
    return lambda game, flow: best_response(game, flow, temperature).policy


def _setting(game: FiniteMFG, temperature: float, *, response_game=None, flow_game=None,
             shift_flow=_same, respond=None) -> Setting:
    return Setting(response_game or game, flow_game or game, shift_flow,
                   respond or _respond_at(temperature))


def _finite_horizon(game: FiniteMFG) -> bool:
    return not game.stationary and game.horizon > 1


def _myopic(game, tau):
    if not _finite_horizon(game):
        return None
    return _setting(game, tau, response_game=variant(game, discount=MYOPIC_DISCOUNT,
                                                     label="no continuation value"))


def _reward_of_epoch(offset: int):
    def setting(game, tau):
        if not _finite_horizon(game):
            return None
        last = game.horizon - 1
        shifted = variant(game, reward=lambda t, L: game.reward(min(max(t + offset, 0), last), L),
                          label=f"reward of epoch t{offset:+d}")
        return _setting(game, tau, response_game=shifted)
    return setting


def _population_of_next_epoch(game, tau):
    if not _finite_horizon(game):
        return None

    def shift(policy: Tensor, flow: Flow) -> Flow:
        L = torch.cat([flow.L[..., 1:, :, :], flow.L[..., -1:, :, :]], dim=-3)
        return Flow(L.sum(-1), L)
    return _setting(game, tau, shift_flow=shift)


def _population_frozen_at_start(game, tau):
    """The population never moves: it is μ0 (with the policy's actions) at every epoch."""
    def frozen(policy: Tensor, flow: Flow) -> Flow:
        mu = game.mu0.expand_as(flow.mu)
        return Flow(mu, mu.unsqueeze(-1) * policy)
    return _setting(game, tau, shift_flow=frozen)


def _transposed(game, tau):
    """P(s' | s, a) read as P(s | s', a); rows renormalised, and an agent whose row is empty
    stays put (what a planner propagating the transposed tensor most nearly does)."""
    def transition(t, L):
        p = game.transition(t, L).transpose(-1, -3)
        total = p.sum(-1, keepdim=True)
        stay = torch.eye(game.n_states, dtype=p.dtype, device=p.device).unsqueeze(-2)
        return torch.where(total > 0, p / torch.where(total > 0, total, 1.0), stay)

    uniform_L = game.mu0[:, None].expand(-1, game.n_actions) / game.n_actions
    original = game.transition(0, uniform_L)
    if torch.allclose(transition(0, uniform_L), original):
        return None
    transposed = variant(game, transition=transition, label="transition transposed")
    return _setting(game, tau, response_game=transposed, flow_game=transposed)


def _unregularised_values(game, tau):
    """softmax(Q*/τ) with Q* the unregularised optimal values (no entropy bonus inside)."""
    if not tau:
        return None
    return _setting(game, tau, respond=lambda g, flow: torch.softmax(
        best_response(g, flow, 0.0).q / tau, -1))


def _temperature(convert: Callable[[float], float]):
    def setting(game, tau):
        if not tau or convert(tau) == tau:
            return None
        return _setting(game, tau, respond=_respond_at(convert(tau)))
    return setting


def _discount_ignored(game, tau):
    if game.discount == 1.0 or game.stationary:
        return None
    return _setting(game, tau, response_game=variant(game, discount=1.0, label="undiscounted"))


def _uniform_start(game, tau):
    uniform = torch.full_like(game.mu0, 1.0 / game.n_states)
    if torch.allclose(uniform, game.mu0):
        return None
    started = variant(game, mu0=uniform, label="uniform μ0")
    return _setting(game, tau, response_game=started, flow_game=started)


MISMATCHES = (
    Mismatch("myopic best response (the continuation value left out)", _myopic),
    Mismatch("the reward of epoch t + 1 used at epoch t", _reward_of_epoch(+1)),
    Mismatch("the reward of epoch t − 1 used at epoch t", _reward_of_epoch(-1)),
    Mismatch("the population of epoch t + 1 used at epoch t", _population_of_next_epoch),
    Mismatch("the population never propagated (μ0 at every epoch, or for the stationary law)",
             _population_frozen_at_start),
    Mismatch("the transition tensor read the wrong way round, P[s', a, s]", _transposed),
    Mismatch("a softmax of unregularised values (the entropy bonus left out of the value)",
             _unregularised_values),
    Mismatch("the Nash (τ = 0) equilibrium where τ > 0 was declared", _temperature(lambda t: 0.0)),
    Mismatch("the temperature read as an inverse temperature (τ ↦ 1/τ)",
             _temperature(lambda t: 1.0 / t)),
    Mismatch("twice the declared temperature", _temperature(lambda t: 2.0 * t)),
    Mismatch("half the declared temperature", _temperature(lambda t: 0.5 * t)),
    Mismatch("the discount ignored (γ = 1)", _discount_ignored),
    Mismatch("the population started uniform instead of at μ0", _uniform_start),
)


def fictitious_play(setting: Setting, iterations: int = CANDIDATE_ITERATIONS) -> Tensor:
    """The policy after ``iterations`` steps of fictitious play in ``setting``: the average
    (through the populations, `mix_policies`) of the setting's best responses."""
    game = setting.flow_game
    policy = game.uniform_policy()
    flow = distribution(game, policy)
    for k in range(1, iterations + 1):
        response = setting.respond(setting.response_game, setting.shift_flow(policy, flow))
        response_flow = distribution(game, response)
        policy = mix_policies([policy, response], [flow.mu, response_flow.mu],
                              [k / (k + 1), 1 / (k + 1)])
        flow = distribution(game, policy)
    return policy


def flow_distance(game: FiniteMFG, policy: Tensor, other: Tensor) -> float:
    """max over epochs of ‖L^π_t − L^{π'}_t‖₁ in ``game``."""
    a, b = distribution(game, policy).L, distribution(game, other).L
    return float((a - b).abs().sum((-2, -1)).max())


@dataclass(frozen=True)
class Diagnosis:
    """The planner's flow distance to the true equilibrium and to each mismatch's."""

    to_equilibrium: float
    distances: dict[str, float]

    @property
    def closest(self) -> tuple[str, float] | None:
        if not self.distances:
            return None
        return min(self.distances.items(), key=lambda item: item[1])

    def sentence(self) -> str:
        closest = self.closest
        if closest is None:
            return "no convention mismatch applies to this game"
        name, d = closest
        if d < CLEARLY_CLOSER * self.to_equilibrium:
            return (f"likely mismatch: {name} (its population is {d:.3g} from that mistake's "
                    f"equilibrium, {self.to_equilibrium:.3g} from the true one; ℓ1 over L)")
        return (f"no common convention mismatch explains it (closest: {name}, {d:.3g} away, "
                f"vs {self.to_equilibrium:.3g} from the true equilibrium; ℓ1 over L)")


def closest_mismatch(game: FiniteMFG, policy: Tensor, temperature: float = 0.0,
                     iterations: int = CANDIDATE_ITERATIONS) -> Diagnosis:
    """Compare ``policy`` with the equilibrium of ``game`` at ``temperature`` and with the
    equilibrium each mismatch of `MISMATCHES` leads to (all by fictitious play)."""
    truth = fictitious_play(_setting(game, temperature), iterations)
    distances = {}
    for mismatch in MISMATCHES:
        setting = mismatch.setting(game, temperature)
        if setting is not None:
            candidate = fictitious_play(setting, iterations)
            distances[mismatch.name] = flow_distance(game, policy, candidate)
    return Diagnosis(flow_distance(game, policy, truth), distances)
