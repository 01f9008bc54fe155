"""Random "garnet" mean-field games: many small, unstructured games for property tests.

A garnet (Archibald et al. 1995) gives each (state, action) pair ``branching`` random
successor states with random probabilities. mfcheck's version adds a mean-field reward:

    r(s, a, μ) = r̃(s, a) + r̄(s, μ),    r̃ ~ U(0, 1),

with μ the state marginal of L, and one of two couplings:

- ``monotone=True``: r̄(s, μ) = −coupling·(Cμ)(s) with C = I + GGᵀ/S symmetric positive
  definite (G standard normal), and transitions independent of μ. Then
  Σ_s (r̄(s, μ) − r̄(s, μ'))(μ(s) − μ'(s)) = −coupling·(μ − μ')ᵀC(μ − μ') < 0 for μ ≠ μ':
  the Lasry–Lions monotonicity condition, so the game has a unique equilibrium.
- ``monotone=False``: r̄(s, μ) = coupling·(Cμ)(s) with C standard normal (no sign
  structure: crowds may attract), and the successor probabilities mix two random laws
  q⁰, q¹ over the same successors with weight ⟨w, μ⟩, w ~ U(0, 1)^S: transitions depend
  on μ, as in MFGLib's susceptible-infected. Equilibria exist but need not be unique.

μ0 is drawn from a flat Dirichlet. Everything is drawn from ``torch.Generator(seed)`` on
the CPU, then moved to ``device``, so a seed names the same game on every device.
The game is time-homogeneous, unless ``time_varying=True``: then every epoch has its own
r̃_t and its own successor laws (drawn after everything above, so a seed names the same
epoch-0 game either way), the crowd term staying the same. ``horizon=None`` with
``discount < 1`` gives the discounted stationary version.
"""

from __future__ import annotations

import torch

from ..devices import DEFAULT_DTYPE, resolve_device
from ..errors import InvalidGameError
from ..game import FiniteMFG


def _dirichlet(shape, generator: torch.Generator) -> torch.Tensor:
    """Flat Dirichlet draws along the last axis (normalised exponentials)."""
    e = -torch.log1p(-torch.rand(shape, generator=generator, dtype=DEFAULT_DTYPE))
    return e / e.sum(-1, keepdim=True)


def _successor_laws(n_states: int, n_actions: int, branching: int, count: int,
                    generator: torch.Generator) -> torch.Tensor:
    """``count`` transition tensors ``(S, A, S)`` sharing each (s, a)'s random successor set."""
    successors = torch.rand(n_states, n_actions, n_states, generator=generator).argsort(-1)
    successors = successors[..., :branching]
    laws = torch.zeros(count, n_states, n_actions, n_states, dtype=DEFAULT_DTYPE)
    weights = _dirichlet((count, n_states, n_actions, branching), generator)
    laws.scatter_(-1, successors.expand(count, -1, -1, -1), weights)
    return laws


def random_game(n_states: int, n_actions: int, horizon: int | None = 3, *, branching: int = 2,
                monotone: bool = False, coupling: float = 1.0, discount: float = 1.0,
                time_varying: bool = False, seed: int = 0, device=None) -> FiniteMFG:
    """A random garnet mean-field game (see the module docstring)."""
    name = (f"random_game(S={n_states}, A={n_actions}, horizon={horizon}, branching={branching}, "
            f"{'monotone' if monotone else 'general'}{', time-varying' if time_varying else ''}, "
            f"seed={seed})")
    if not (isinstance(n_states, int) and isinstance(n_actions, int)
            and n_states >= 1 and n_actions >= 1):
        raise InvalidGameError(f"game {name!r}: n_states and n_actions must be positive ints")
    if not (isinstance(branching, int) and 1 <= branching <= n_states):
        raise InvalidGameError(f"game {name!r}: branching must be an int in [1, n_states = "
                               f"{n_states}], got {branching!r}")
    if time_varying and horizon is None:
        raise InvalidGameError(f"game {name!r}: a stationary game cannot vary in time")
    device = resolve_device(device)
    gen = torch.Generator().manual_seed(seed)
    mu0 = _dirichlet((n_states,), gen)
    base = torch.rand(n_states, n_actions, generator=gen, dtype=DEFAULT_DTYPE)
    if monotone:
        g = torch.randn(n_states, n_states, generator=gen, dtype=DEFAULT_DTYPE)
        crowd = -coupling * (torch.eye(n_states, dtype=DEFAULT_DTYPE) + g @ g.T / n_states)
        laws = _successor_laws(n_states, n_actions, branching, 1, gen)
        mix = torch.zeros(n_states, dtype=DEFAULT_DTYPE)
    else:
        crowd = coupling * torch.randn(n_states, n_states, generator=gen, dtype=DEFAULT_DTYPE)
        laws = _successor_laws(n_states, n_actions, branching, 2, gen)
        mix = torch.rand(n_states, generator=gen, dtype=DEFAULT_DTYPE)
    base, laws = base[None], laws[None]
    if time_varying:
        later = horizon - 1
        base = torch.cat([base, torch.rand(later, n_states, n_actions, generator=gen,
                                           dtype=DEFAULT_DTYPE)])
        laws = torch.cat([laws, _successor_laws(n_states, n_actions, branching,
                                                later * laws.shape[1], gen)
                          .reshape(later, *laws.shape[1:])])
    base, crowd, laws, mix = (x.to(device) for x in (base, crowd, laws, mix))
    p0, dp = laws[:, 0], laws[:, -1] - laws[:, 0]  # dp = 0 when monotone

    def epoch(t):
        return t if time_varying else 0

    def reward(t, L):
        mu = L.sum(-1)
        return base[epoch(t)] + (mu @ crowd.T).unsqueeze(-1)

    def transition(t, L):
        weight = (L.sum(-1) @ mix)[..., None, None, None]
        return p0[epoch(t)] + weight * dp[epoch(t)]

    return FiniteMFG(mu0, reward, transition, n_actions=n_actions, horizon=horizon,
                     discount=discount, name=name, batched=True, device=device)
