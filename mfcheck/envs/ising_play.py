"""Playing a policy table on the Ising stage game (`mfcheck.envs.ising`), fast: what the
``ising-mfq`` and ``sync-async`` suites share.

On the torus an agent's mean action ā takes five values (k = 0..4 neighbours up), so a
policy of (observation, ā) is a table ``P[b, i, k, a]`` (replica b, agent i). `play` lets
it act under any `Schedule` as a rollout through the environment would (each step draws
the acting mask, then every agent's action with `sample_actions`); `play_sequential` is
the one-agent-at-a-time schedule touching only the acting site of each replica. Both
return the sublattice sums Σ s over the even and the odd sites after every sweep
(N agent decisions), ``(B, sweeps, 2)`` float64.
"""

from __future__ import annotations

import torch

from mfcheck.ising import neighbours

from .base import Schedule, sample_actions
from .ising import neighbour_sum

__all__ = ["NEIGHBOURS", "play", "play_sequential", "sublattice_sums", "up_neighbours"]

NEIGHBOURS = 4  # on the torus ā = (1 − k/4, k/4): k = 0..4 neighbours up, five values


def up_neighbours(up: torch.Tensor, L: int) -> torch.Tensor:
    """k: how many of each agent's four neighbours are up, from the 0/1 actions ``(B, N)``."""
    return neighbour_sum(up.view(-1, L, L)).view(up.shape)


def sublattice_sums(up: torch.Tensor, L: int) -> torch.Tensor:
    """Σ s over the even (i + j even) and the odd sites, ``(B, 2)`` float64."""
    idx = torch.arange(L, device=up.device)
    odd = ((idx[:, None] + idx[None, :]) % 2).view(-1)
    sums = torch.zeros(up.shape[0], 2, dtype=torch.float64, device=up.device)
    return sums.index_add_(1, odd, (2 * up - 1).double())


def play(table: torch.Tensor, up: torch.Tensor, schedule: Schedule, sweeps: int, L: int,
         generator: torch.Generator) -> torch.Tensor:
    """Play ``table`` from the actions ``up`` (B, N) for ``sweeps`` sweeps of N/(agents per
    step) steps; each step draws the acting mask, then every agent's action from its row
    k. Returns the sublattice sums after every sweep, ``(B, sweeps, 2)``."""
    B, N = up.shape
    per_sweep = round(N / schedule.agents_per_round(N))
    out = torch.empty(B, sweeps, 2, dtype=torch.float64, device=up.device)
    for sweep in range(sweeps):
        for _ in range(per_sweep):
            acting = schedule.mask(B, N, generator, up.device)
            k = up_neighbours(up, L)
            probs = table.gather(2, k[:, :, None, None].expand(B, N, 1, 2)).squeeze(2)
            up = torch.where(acting, sample_actions(probs, generator), up)
        out[:, sweep] = sublattice_sums(up, L)
    return out


def play_sequential(table: torch.Tensor, up: torch.Tensor, sweeps: int, L: int,
                    generator: torch.Generator) -> torch.Tensor:
    """`play` under one agent at a time (`SEQUENTIAL`): each step one uniformly drawn agent
    per replica takes action 1 with probability ``table[b, i, k, 1]``. Per sweep the N
    sites, their uniforms and each site's outcome for every k are drawn at once; the loop
    over steps then only counts the site's up neighbours. ``(B, sweeps, 2)``."""
    B, N = up.shape
    up = up.clone()
    around_of = neighbours(L).to(up.device)
    p_up = table[..., 1]
    out = torch.empty(B, sweeps, 2, dtype=torch.float64, device=up.device)
    for sweep in range(sweeps):
        sites = torch.randint(N, (B, N), generator=generator, device=up.device)
        u = torch.rand(B, N, 1, generator=generator, device=up.device, dtype=p_up.dtype)
        outcome = (u < p_up.gather(1, sites[..., None].expand(B, N, NEIGHBOURS + 1))).long()
        # step-major copies: each step below reads contiguous (B, ·) slices
        outcome, around = outcome.transpose(0, 1).contiguous(), around_of[sites.T]
        sites = sites.T[..., None].contiguous()
        for t in range(N):
            k = up.gather(1, around[t]).sum(1, keepdim=True)
            up.scatter_(1, sites[t], outcome[t].gather(1, k))
        out[:, sweep] = sublattice_sums(up, L)
    return out
