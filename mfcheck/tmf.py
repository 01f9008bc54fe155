"""The Temporal Mean Field (TMF): policies that condition on the population, and the
population recursion when k of the N agents act per step.

These are mfcheck's definitions (docs/tmf.md; the TMF paper's own were not available to
us, and no figure of it is claimed). The game is a discounted stationary `FiniteMFG`; an
agent's *observation* o is its state.

- **Population** μ ∈ Δ(S): the distribution of the agents' observations; in the N-player
  game the empirical one, μ̂_N.
- **TMF policy** π(a | o, μ): a callable ``policy(obs, population) -> probabilities`` with
  ``obs`` ``(batch, n)`` int64, ``population`` ``(batch, S)`` and the result
  ``(batch, n, A)``. A stationary table ``(S, A)`` is the TMF policy that ignores μ
  (`table_policy`). `policy_table` evaluates a TMF policy at every observation: π_μ,
  ``(batch, S, A)``.
- **Acting fraction** κ = k/N: in a step, k of the N agents act (or each agent with
  probability κ). Acting agents draw a ~ π_μ(·|x) and move by p(·|x, a, L); idle agents
  keep their state and enter L with the law π_μ(·|x) of the action they would draw (the
  convention of `mfcheck.nplayer`), so L = μ ⊗ π_μ whatever κ is. The mean-field limit of
  a step is the **TMF population recursion**

      T_κ(μ) = (1 − κ)·μ + κ·Φ(μ),    Φ(μ) = Σ_{x,a} μ(x) π_μ(a|x) p(·|x, a, μ ⊗ π_μ),

  Φ being the synchronous (k = N) step.
- **Time scale**: an *epoch* is N agent decisions, 1/κ steps. Per epoch, T_κ moves μ about
  as far as one synchronous step: T_κ^(1/κ)(μ) = μ + (Φ(μ) − μ) + O(κ‖Φ(μ) − μ‖) near a
  fixed point. Every κ has the same fixed points (Φ(μ) = μ), so the stationary population
  does not depend on k in the mean-field limit; if Φ has Lipschitz modulus ℓ, T_κ has at
  most 1 − κ(1 − ℓ), and an epoch of steps at most (1 − κ(1 − ℓ))^(1/κ) ≤ e^(−(1 − ℓ)).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .errors import UsageError
from .game import FiniteMFG, check_distribution

Tensor = torch.Tensor
#: ``policy(obs, population) -> probabilities``; see the module docstring.
TMFPolicy = Callable[[Tensor, Tensor], Tensor]


def table_policy(table: Tensor) -> TMFPolicy:
    """The TMF policy that plays the stationary ``table`` ``(S, A)`` whatever μ is."""
    def policy(obs: Tensor, population: Tensor) -> Tensor:
        del population
        return table[obs]
    return policy


def policy_table(policy: TMFPolicy | Tensor, population: Tensor) -> Tensor:
    """π_μ ``(batch, S, A)`` for populations ``(batch, S)``: the policy asked at every
    observation (a stationary table is broadcast)."""
    if isinstance(policy, Tensor):
        return policy.expand(population.shape[0], *policy.shape)
    batch, S = population.shape
    obs = torch.arange(S, device=population.device).expand(batch, S)
    return policy(obs, population)


def _population(game: FiniteMFG, population: Tensor) -> Tensor:
    if not game.stationary:
        raise UsageError(f"game {game.name!r} has a finite horizon; the TMF recursion needs a "
                         f"discounted stationary game")
    mu = torch.as_tensor(population, dtype=game.dtype, device=game.device)
    if mu.ndim != 2 or mu.shape[1] != game.n_states:
        raise UsageError(f"population must have shape (batch, {game.n_states}), got "
                         f"{tuple(mu.shape)}")
    check_distribution(mu, owner=f"game {game.name!r}", what="population", atol=game.atol,
                       error=UsageError)
    return mu


def population_map(game: FiniteMFG, policy: TMFPolicy | Tensor, population: Tensor) -> Tensor:
    """Φ(μ) ``(batch, S)``: the synchronous step of populations ``(batch, S)``."""
    mu = _population(game, population)
    L = mu[..., None] * policy_table(policy, mu)
    P = game.transition(0, L)  # (batch, S, A, S)
    return torch.einsum("bsa,bsan->bn", L, P)


def population_step(game: FiniteMFG, policy: TMFPolicy | Tensor, population: Tensor, *,
                    fraction: float = 1.0) -> Tensor:
    """T_κ(μ) = (1 − κ)μ + κΦ(μ) with κ = ``fraction`` ∈ (0, 1]."""
    if not 0.0 < fraction <= 1.0:
        raise UsageError(f"fraction must be in (0, 1], got {fraction!r}")
    mu = _population(game, population)
    return (1.0 - fraction) * mu + fraction * population_map(game, policy, mu)


def population_path(game: FiniteMFG, policy: TMFPolicy | Tensor, population: Tensor, *,
                    fraction: float = 1.0, steps: int) -> Tensor:
    """μ_0 … μ_steps under T_κ: ``(steps + 1, batch, S)``."""
    path = [_population(game, population)]
    for _ in range(steps):
        path.append(population_step(game, policy, path[-1], fraction=fraction))
    return torch.stack(path)
