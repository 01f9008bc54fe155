"""The mean-field operators of Yang et al. 2018 and the bounds that say when they contract.

Two maps, both built on the Boltzmann (softmax) policy at temperature τ (β = 1/τ):

- the **mean-field Q operator** H_MF (Yang et al. 2018, eq. 13) of a tabular model with
  states ``S``, mean actions ā given as ``K`` points (or bins) and actions ``A``::

      π(a | s, ā)   = softmax(Q(s, ā, ·) / τ)_a
      v(s', ā')     = Σ_a' π(a' | s', ā') Q(s', ā', a')              (eq. 10's v^MF at ā')
      (H Q)(s, ā, a) = r(s, ā, a) + γ Σ_s' p(s' | s, ā, a) Σ_ā' q(ā' | s') v(s', ā')

  where q(· | s') is the mean field the agent faces at s' (eq. 10's E over ā');
- the **Boltzmann mean-action map** B (Proposition 1) of a population game whose agents
  all play softmax(Q(·, ā)/τ) against the mean action ā ∈ Δ(A) of the others:
  B(ā) = E_{a ~ π(·|ā)}[one-hot a]. Its fixed points are the mean-field (logit)
  equilibria.

Tables are indexed ``[s, k, a]`` (actions last, like every policy in mfcheck), with any
leading batch dimensions; tensors are float64 on the model's device. docs/operators.md
states the paper's results and derives the bounds used here:

- `boltzmann_lipschitz`: m_τ(x) = Σ_a softmax(x/τ)_a x_a is Lipschitz in ‖·‖∞ with
  constant L(u) = 1 for u ≤ 1 and 1 + (u − 1)²/(2u) for u > 1 on rows whose range
  max − min is at most u·τ; so ‖H Q1 − H Q2‖∞ ≤ γ L(u) ‖Q1 − Q2‖∞ (`q_operator_modulus`);
- `PopulationGame.interaction_strength` K: ‖B(ā) − B(ā')‖₁ ≤ (K/τ) ‖ā − ā'‖₁.

Issue 5 adds the maps around congestion games and the Temporal Mean Field:
`congestion_population_game` (B is then the logit response Γ_τ(m) = softmax(−c(m)/τ),
K = (b_(1) + b_(2))/4), `best_response_mean_action` (τ → 0), `stationary_best_response_map`
Ψ_τ of a discounted `FiniteMFG`, and for the TMF recursion of a stationary table
`policy_kernel` P_π, `dobrushin_coefficient` δ(P_π) (the modulus of μ ↦ μP_π),
`lazy_step_modulus` 1 − κ(1 − ℓ) and `epoch_modulus` (1 − κ(1 − ℓ))^(1/κ).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .devices import DEFAULT_DTYPE
from .errors import InvalidGameError, UsageError
from .game import FiniteMFG, check_distribution, probability_atol

Tensor = torch.Tensor


# -- the Boltzmann expectation m_τ(x) = Σ_a softmax(x/τ)_a x_a -------------------------------

def _temperature(temperature: float | Tensor, like: Tensor, trailing: int) -> Tensor:
    """τ as a tensor that broadcasts over ``like`` with ``trailing`` axes after the batch."""
    tau = torch.as_tensor(temperature, dtype=like.dtype, device=like.device)
    if not torch.isfinite(tau).all() or (tau <= 0).any():
        raise UsageError(f"temperature must be positive and finite, got {tau.min().item()!r}")
    return tau.reshape(tau.shape + (1,) * trailing)


def boltzmann_policy(q: Tensor, temperature: float | Tensor) -> Tensor:
    """softmax(q/τ) along the last axis; ``temperature`` broadcasts over ``q.shape[:-1]``.

    Written out: on a busy CPU ``torch.softmax`` of a (2, 1, 2) table took 28 ms a call with
    two threads (2 µs with one), which made a 263-step fixed point take 7.6 s instead of 0.14 s.
    """
    logits = q / _temperature(temperature, q, 1)
    weights = (logits - logits.amax(-1, keepdim=True)).exp()
    return weights / weights.sum(-1, keepdim=True)


def boltzmann_value(q: Tensor, temperature: float | Tensor) -> Tensor:
    """m_τ(q) = Σ_a softmax(q/τ)_a q_a, the Boltzmann policy's value (shape ``q.shape[:-1]``)."""
    return (boltzmann_policy(q, temperature) * q).sum(-1)


def boltzmann_value_gradient(q: Tensor, temperature: float | Tensor) -> Tensor:
    """∂m_τ/∂q_a = π_a (1 + (q_a − m_τ(q))/τ): the entries sum to 1 (m_τ(q + c) = m_τ(q) + c),
    and a negative one, where q_a < m_τ − τ, is what lets m_τ expand distances."""
    pi = boltzmann_policy(q, temperature)
    m = (pi * q).sum(-1, keepdim=True)
    return pi * (1 + (q - m) / _temperature(temperature, q, 1))


def boltzmann_lipschitz(u: float | Tensor) -> float | Tensor:
    """L(u): the ‖·‖∞-Lipschitz constant of m_τ on rows of range ≤ u·τ, for any number of actions.

    L(u) = 1 for u ≤ 1 (m_τ is then a non-expansion) and 1 + (u − 1)²/(2u) above;
    sharp as the number of actions grows (docs/operators.md).
    """
    if isinstance(u, Tensor):
        return torch.where(u <= 1, torch.ones_like(u), 1 + (u - 1) ** 2 / (2 * u.clamp(min=1)))
    return 1.0 if u <= 1 else 1.0 + (u - 1) ** 2 / (2 * u)


def action_range(q: Tensor) -> float:
    """The largest max_a q − min_a q over every row of ``q`` (rows along the last axis)."""
    return float((q.amax(-1) - q.amin(-1)).max())


# -- the mean-field Q operator ----------------------------------------------------------------

@dataclass(frozen=True)
class MeanFieldModel:
    """A tabular mean-field model, indexed ``[s, k, a]`` with k the mean action ā_k.

    ``reward`` (S, K, A): r(s, ā_k, a); ``transition`` (S, K, A, S): p(s' | s, ā_k, a);
    ``mean_field`` (S, K): q(ā_k | s'), the law of the mean action an agent faces at s';
    ``discount`` γ ∈ [0, 1). Validated at construction (`InvalidGameError`).
    """

    reward: Tensor
    transition: Tensor
    mean_field: Tensor
    discount: float
    name: str = "mean-field model"

    def __post_init__(self) -> None:
        owner = f"mean-field model {self.name!r}"
        if self.reward.ndim != 3:
            raise InvalidGameError(f"{owner}: reward must have shape (S, K, A), "
                                   f"got {tuple(self.reward.shape)}")
        S, K, A = self.reward.shape
        for what, tensor, shape in (("transition", self.transition, (S, K, A, S)),
                                    ("mean_field", self.mean_field, (S, K))):
            if tuple(tensor.shape) != shape:
                raise InvalidGameError(f"{owner}: {what} must have shape {shape} to match "
                                       f"reward (S, K, A) = {(S, K, A)}, got {tuple(tensor.shape)}")
            if tensor.device != self.reward.device or tensor.dtype != self.reward.dtype:
                raise InvalidGameError(f"{owner}: {what} is {tensor.dtype} on {tensor.device}, "
                                       f"reward is {self.reward.dtype} on {self.reward.device}")
        if not torch.isfinite(self.reward).all():
            idx = tuple(int(i) for i in torch.nonzero(~torch.isfinite(self.reward))[0])
            raise InvalidGameError(f"{owner}: reward{list(idx)} = {self.reward[idx].item()!r} "
                                   "is not finite")
        atol = probability_atol(self.reward.dtype)
        check_distribution(self.transition, owner=owner, what="transition", atol=atol,
                           error=InvalidGameError)
        check_distribution(self.mean_field, owner=owner, what="mean_field", atol=atol,
                           error=InvalidGameError)
        if not 0.0 <= self.discount < 1.0:
            raise InvalidGameError(f"{owner}: discount must be in [0, 1), got {self.discount!r}")

    @property
    def shape(self) -> tuple[int, int, int]:
        """(S, K, A): the shape of a Q-table (after any batch dimensions)."""
        return tuple(self.reward.shape)

    @property
    def device(self) -> torch.device:
        return self.reward.device

    @classmethod
    def from_arrays(cls, reward, transition, mean_field, discount: float, *,
                    name: str = "mean-field model", device=None) -> MeanFieldModel:
        """A model from anything ``torch.as_tensor`` takes, as float64 on ``device``."""
        def tensor(x):
            return torch.as_tensor(x, dtype=DEFAULT_DTYPE, device=device)
        return cls(tensor(reward), tensor(transition), tensor(mean_field), float(discount), name)

    def action_range_bound(self) -> float:
        """R = max range_a r + γ·δ·span(r)/(1 − γ): a bound on the range over actions of every
        row of Q* and of every iterate H^n 0; δ = max_{s,ā,a,a'} TV(p(·|s,ā,a), p(·|s,ā,a')).

        From Q = 0 every iterate has span max Q − min Q ≤ span(r)/(1 − γ) (V averages Q, so
        span(H Q) ≤ span(r) + γ span(Q)), and two rows of p differ on V by at most δ·span(V).
        """
        r = self.reward
        p = self.transition
        tv = 0.5 * (p[:, :, :, None, :] - p[:, :, None, :, :]).abs().sum(-1).amax()
        span = float(r.max() - r.min()) / (1.0 - self.discount)
        return action_range(r) + self.discount * float(tv) * span


def _check_table(model: MeanFieldModel, q: Tensor) -> None:
    if tuple(q.shape[-3:]) != model.shape or q.device != model.device:
        raise UsageError(f"Q-table of shape {tuple(q.shape)} on {q.device} does not fit "
                         f"{model.name!r}: expected (..., S, K, A) = (..., "
                         f"{', '.join(map(str, model.shape))}) on {model.device}")


def mean_field_value(model: MeanFieldModel, q: Tensor, temperature: float | Tensor) -> Tensor:
    """V(s') = Σ_ā' q(ā'|s') Σ_a' π(a'|s', ā') Q(s', ā', a'), shape (..., S); ``temperature``
    is a number or one per batch entry of ``q``."""
    _check_table(model, q)
    tau = _temperature(temperature, q, 2)
    return (model.mean_field * boltzmann_value(q, tau)).sum(-1)


def mean_field_q_operator(model: MeanFieldModel, q: Tensor, temperature: float | Tensor) -> Tensor:
    """(H_MF Q)(s, ā, a) = r(s, ā, a) + γ Σ_s' p(s'|s, ā, a) V(s'), batched over leading axes."""
    v = mean_field_value(model, q, temperature)
    return model.reward + model.discount * torch.einsum("skat,...t->...ska", model.transition, v)


def q_operator_modulus(model: MeanFieldModel, temperature: float, value_range: float) -> float:
    """γ·L(R/τ): a ‖·‖∞-Lipschitz constant of H_MF on Q-tables whose rows have range ≤ R."""
    return model.discount * boltzmann_lipschitz(value_range / temperature)


# -- the Boltzmann mean-action map -------------------------------------------------------------

@dataclass(frozen=True)
class PopulationGame:
    """A stage game against the population: Q(a, ā) = bias[a] + Σ_b interaction[a, b] ā_b.

    The payoff of action a when the others' actions are distributed as ā ∈ Δ(A): the mean
    field of a symmetric matrix game (``interaction``) plus a field (``bias``).
    """

    bias: Tensor
    interaction: Tensor
    name: str = "population game"

    def __post_init__(self) -> None:
        owner = f"population game {self.name!r}"
        A = self.bias.shape[0] if self.bias.ndim == 1 else -1
        if A < 1 or tuple(self.interaction.shape) != (A, A):
            raise InvalidGameError(f"{owner}: bias must be (A,) and interaction (A, A), got "
                                   f"{tuple(self.bias.shape)} and {tuple(self.interaction.shape)}")
        if (self.interaction.device, self.interaction.dtype) != (self.bias.device, self.bias.dtype):
            raise InvalidGameError(f"{owner}: bias is {self.bias.dtype} on {self.bias.device}, "
                                   f"interaction {self.interaction.dtype} on "
                                   f"{self.interaction.device}")
        for what, tensor in (("bias", self.bias), ("interaction", self.interaction)):
            if not torch.isfinite(tensor).all():
                raise InvalidGameError(f"{owner}: {what} has a non-finite entry")

    @property
    def n_actions(self) -> int:
        return self.bias.shape[0]

    @property
    def device(self) -> torch.device:
        return self.bias.device

    def payoff(self, mean_action: Tensor) -> Tensor:
        """Q(·, ā) for a batch of mean actions (..., A)."""
        if mean_action.shape[-1:] != self.bias.shape or mean_action.device != self.device:
            raise UsageError(f"mean action of shape {tuple(mean_action.shape)} on "
                             f"{mean_action.device} does not fit {self.name!r}: expected "
                             f"(..., {self.n_actions}) on {self.device}")
        return self.bias + mean_action @ self.interaction.T

    def interaction_strength(self) -> float:
        """K = max_{i,j} osc_a(interaction[a, i] − interaction[a, j]) / 4, so that B is
        (K/τ)-Lipschitz in ‖·‖₁ (the Lipschitz constant of Q in ā of Proposition 1 is ≥ K)."""
        columns = self.interaction.T  # columns[i] = interaction[:, i]
        diff = columns[:, None, :] - columns[None, :, :]
        return float((diff.amax(-1) - diff.amin(-1)).max()) / 4


def ising_population_game(coupling: float, field: float = 0.0, *, device=None) -> PopulationGame:
    """Spins (−1, +1): Q(a, ā) = field·a + coupling·a·m̄ with m̄ = ā₊ − ā₋ the mean spin.

    B then maps m̄ to tanh((field + coupling·m̄)/τ) (the Weiss mean-field equation) and
    K = |coupling|. The Ising stage game of Yang et al. (r = h a + (λ/2) Σ_4 neighbours a a_k)
    has coupling 2λ against its neighbours' mean.
    """
    def tensor(x):
        return torch.as_tensor(x, dtype=DEFAULT_DTYPE, device=device)
    return PopulationGame(tensor([-field, field]),
                          tensor([[coupling, -coupling], [-coupling, coupling]]),
                          name=f"ising(J={coupling:g}, h={field:g})")


def boltzmann_mean_action(game: PopulationGame, mean_action: Tensor,
                          temperature: float | Tensor) -> Tensor:
    """B(ā) = softmax(Q(·, ā)/τ): the mean action of a population that answers ā by Boltzmann."""
    return boltzmann_policy(game.payoff(mean_action), temperature)


def mean_action_modulus(game: PopulationGame, temperature: float) -> float:
    """K/τ: a ‖·‖₁-Lipschitz constant of B; B contracts when τ > K."""
    return game.interaction_strength() / temperature


# -- fixed points ------------------------------------------------------------------------------

def sup_norm(x: Tensor) -> float:
    return float(x.abs().max())


@dataclass(frozen=True)
class FixedPoint:
    """The result of `fixed_point`.

    ``steps[n]`` = ‖x_{n+1} − x_n‖; ``error_bound`` = κ/(1 − κ)·‖x_N − x_{N−1}‖ bounds
    ‖x_N − x*‖ when ``proven`` (κ a proven contraction modulus, Banach's a-posteriori
    bound); otherwise κ is the largest step ratio of the last iterations and the bound
    is an estimate.
    """

    value: Tensor
    iterations: int
    steps: list[float]
    modulus: float
    error_bound: float
    proven: bool


#: Step ratios over which `fixed_point` estimates the rate when no modulus is given.
RATE_WINDOW = 10


def fixed_point(operator: Callable[[Tensor], Tensor], initial: Tensor, *,
                modulus: float | None = None, tol: float = 1e-12, max_iterations: int = 100_000,
                norm: Callable[[Tensor], float] = sup_norm) -> FixedPoint:
    """Iterate x ← operator(x) from ``initial`` until ‖x_N − x*‖ ≤ tol·max(1, ‖x_N‖).

    The criterion is Banach's a-posteriori bound κ/(1 − κ)·‖x_N − x_{N−1}‖ with κ =
    ``modulus`` (a proven Lipschitz constant < 1 of ``operator`` in ``norm`` on a set that
    holds the iterates), or, without one, the largest ratio ‖x_{n+1} − x_n‖/‖x_n − x_{n−1}‖
    of the last `RATE_WINDOW` steps (an estimate: ``proven`` is then False). Raises
    `UsageError` if ``modulus`` is not in [0, 1), and `InvalidGameError` if the iteration
    has not converged after ``max_iterations``.
    """
    if modulus is not None and not 0.0 <= modulus < 1.0:
        raise UsageError(f"fixed_point: modulus must be a contraction modulus in [0, 1), "
                         f"got {modulus!r}")
    x, steps = initial, []
    for n in range(1, max_iterations + 1):
        nxt = operator(x)
        steps.append(norm(nxt - x))
        x = nxt
        if modulus is not None:
            kappa = modulus
        elif n > RATE_WINDOW:
            ratios = [b / a for a, b in zip(steps[-RATE_WINDOW - 1:-1], steps[-RATE_WINDOW:])
                      if a > 0]
            kappa = max(ratios, default=0.0)
        else:
            continue
        if steps[-1] == 0.0 or (kappa < 1.0 and kappa / (1.0 - kappa) * steps[-1]
                                <= tol * max(1.0, norm(x))):
            bound = kappa / (1.0 - kappa) * steps[-1] if kappa < 1.0 else 0.0
            return FixedPoint(x, n, steps, kappa, bound, modulus is not None)
    ratio = steps[-1] / steps[-2] if len(steps) > 1 and steps[-2] > 0 else math.nan
    raise InvalidGameError(f"fixed-point iteration did not converge in {max_iterations} "
                           f"iterations: last step {steps[-1]:.3g}, last step ratio {ratio:.4g} "
                           "(the operator may not contract here)")


def mean_field_q_fixed_point(model: MeanFieldModel, temperature: float, *, tol: float = 1e-12,
                             max_iterations: int = 100_000,
                             operator: Callable[[MeanFieldModel, Tensor, float], Tensor]
                             = mean_field_q_operator) -> FixedPoint:
    """Q* = H_MF Q* by iteration from Q = 0 (`fixed_point`'s criterion).

    Every iterate's rows have range ≤ R = `MeanFieldModel.action_range_bound`, so
    κ = γ·L(R/τ) is a proven modulus when it is < 1; otherwise the stop uses the observed
    rate and ``proven`` is False. ``operator`` replaces H_MF by a variant under test
    (the ``contraction`` suite's checks).
    """
    kappa = q_operator_modulus(model, temperature, model.action_range_bound())
    return fixed_point(lambda q: operator(model, q, temperature),
                       torch.zeros_like(model.reward), modulus=kappa if kappa < 1 else None,
                       tol=tol, max_iterations=max_iterations)


# -- congestion: the logit response Γ_τ and the pure best response -------------------------------

def congestion_population_game(a, b, *, device=None) -> PopulationGame:
    """Routes costing c_i = a_i + b_i·m_i as a `PopulationGame`: Q(i, m) = −a_i − b_i m_i.

    Its Boltzmann map is the logit (softmax) response Γ_τ(m) = softmax(−c(m)/τ) of a
    congestion game (`boltzmann_mean_action`), and its interaction strength is
    (b_(1) + b_(2))/4 with b_(1) ≥ b_(2) the two largest slopes, so Γ_τ is
    (b_(1) + b_(2))/(4τ)-Lipschitz in ‖·‖₁: (b1 + b2)/(4τ) on two routes
    (docs/references.md#congestion-boltzmann-lipschitz).
    """
    a = torch.as_tensor(a, dtype=DEFAULT_DTYPE, device=device)
    b = torch.as_tensor(b, dtype=DEFAULT_DTYPE, device=device)
    return PopulationGame(-a, -torch.diag(b),
                          name=f"routes(a={[round(float(x), 6) for x in a]}, "
                               f"b={[round(float(x), 6) for x in b]})")


def best_response_mean_action(game: PopulationGame, mean_action: Tensor) -> Tensor:
    """The pure best response (τ → 0): the indicator of the best action against ā, ties to
    the lowest index (like `mfcheck.kernels.best_response`). Not continuous, so no modulus."""
    payoff = game.payoff(mean_action)
    return torch.nn.functional.one_hot(payoff.argmax(-1), game.n_actions).to(payoff.dtype)


# -- the TMF population recursion of a stationary policy ------------------------------------------

def dobrushin_coefficient(kernel: Tensor) -> float:
    """δ(P) = ½ max_{x,y} ‖P(x, ·) − P(y, ·)‖₁ of a stochastic matrix ``(S, S)``: the
    ‖·‖₁-modulus of μ ↦ μP on the signed measures of total mass zero (docs/operators.md)."""
    return 0.5 * float((kernel[:, None, :] - kernel[None, :, :]).abs().sum(-1).max())


def lazy_step_modulus(modulus: float, fraction: float) -> float:
    """1 − κ(1 − ℓ): a Lipschitz constant of T_κ = (1 − κ)·id + κΦ when Φ is ℓ-Lipschitz."""
    return 1.0 - fraction * (1.0 - modulus)


def epoch_modulus(modulus: float, fraction: float) -> float:
    """(1 − κ(1 − ℓ))^(1/κ) ≤ e^−(1 − ℓ): one epoch (N agent decisions, 1/κ steps) of T_κ."""
    return lazy_step_modulus(modulus, fraction) ** (1.0 / fraction)


def policy_kernel(game: FiniteMFG, table: Tensor) -> Tensor:
    """P_π(x, y) = Σ_a π(a|x) p(y | x, a) ``(S, S)`` for a stationary ``table`` ``(S, A)`` of a
    stationary game whose transitions do not depend on L (`UsageError` otherwise): then the
    synchronous TMF step Φ is the linear map μ ↦ μP_π."""
    if not game.stationary:
        raise UsageError(f"game {game.name!r} has a finite horizon; P_π needs a stationary game")
    table = game.check_policy(table, what="policy table")
    S, A = game.n_states, game.n_actions
    corners = torch.eye(S * A, dtype=game.dtype, device=game.device).reshape(S * A, S, A)
    laws = game.transition(0, corners)  # (S·A, S, A, S): one point mass L per (s, a)
    if (laws - laws[:1]).abs().max() > game.atol:
        raise UsageError(f"game {game.name!r}: its transitions depend on L, so the TMF step is "
                         f"not linear and has no single kernel P_π")
    return torch.einsum("sa,san->sn", table, laws[0])


# -- the stationary best-response map -------------------------------------------------------------

def stationary_best_response_map(game: FiniteMFG, mean_field: Tensor, temperature: float) -> Tensor:
    """Ψ_τ(L): the stationary state-action flow of the softmax best response at τ > 0 to the
    mean field L ``(..., S, A)`` of a discounted stationary game (`mfcheck.kernels`). Its
    fixed points are the game's stationary logit equilibria."""
    from .kernels import Flow, best_response, stationary_distribution

    if not game.stationary:
        raise UsageError(f"game {game.name!r} has a finite horizon; Ψ_τ needs a stationary game")
    if tuple(mean_field.shape[-2:]) != (game.n_states, game.n_actions):
        raise UsageError(f"mean field of shape {tuple(mean_field.shape)} does not fit game "
                         f"{game.name!r}: expected (..., {game.n_states}, {game.n_actions})")
    response = best_response(game, Flow(mean_field.sum(-1), mean_field), _positive(temperature))
    return stationary_distribution(game, response.policy).L


def _positive(temperature: float) -> float:
    if not (math.isfinite(temperature) and temperature > 0):
        raise UsageError(f"temperature must be positive and finite, got {temperature!r}")
    return float(temperature)
