"""The N-player game solved exactly, by enumeration, for small N (synchronous rounds).

Agent 0 faces N − 1 others who all follow π. The others are exchangeable, so all that
matters to agent 0 is its own state x and the *counts* n of the others' states (a
composition of N − 1 into S parts): its decision problem is an MDP on (x, n). In one
round, the others draw their actions (every ordered tuple of actions, with its
probability under π), agent 0's action a completes the empirical state-action
distribution L̂_N = (others' counts + δ_(x, a)) / N, agent 0 earns r(x, a, L̂_N), and
everyone moves under p(·|·, ·, L̂_N): agent 0 to x', the others to new counts n' (the
law of n' is the convolution of their independent moves).

On this MDP, `policy_value` gives the exact expected return J_N(σ; π) of agent 0 playing
a mean-field policy σ(a | x) (one that looks at its own state only, like the mean-field
best response), and `best_value` the exact optimum J*_N(π) over all policies of (x, n),
the true N-player best response. Work grows like C(N+S−2, S−1)·A^(N−1)·S^(N−1): a few
agents, a few states; `MAX_ENTRIES` bounds it.

Finite horizon: backward induction over the H epochs (no move after the last).
Discounted stationary: the same one-round MDP at every round, discounted by γ per round.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import torch

from ..errors import UsageError
from ..game import FiniteMFG
from ..kernels.backward import values_settled

Tensor = torch.Tensor

#: The largest enumeration (count vectors × others' action tuples × agent 0's state-action
#: pairs × others' next-state tuples) `deviator_mdp` builds.
MAX_ENTRIES = 20_000_000


def count_vectors(total: int, parts: int) -> Tensor:
    """Every vector of ``parts`` non-negative integers summing to ``total``, ``(C, parts)``
    (stars and bars, lexicographic in the bar positions)."""
    rows = []
    for bars in itertools.combinations(range(total + parts - 1), parts - 1):
        edges = (-1, *bars, total + parts - 1)
        rows.append([edges[i + 1] - edges[i] - 1 for i in range(parts)])
    return torch.tensor(rows, dtype=torch.int64)


def _tuples(values: int, length: int, device) -> Tensor:
    """Every ordered tuple in ``range(values)^length``, ``(values^length, length)``."""
    if length == 0:
        return torch.zeros(1, 0, dtype=torch.int64, device=device)
    grids = torch.meshgrid(*[torch.arange(values, device=device)] * length, indexing="ij")
    return torch.stack([g.reshape(-1) for g in grids], -1)


def _count_index(counts: Tensor) -> dict[tuple[int, ...], int]:
    return {tuple(row): i for i, row in enumerate(counts.tolist())}


def multinomial_law(counts: Tensor, p: Tensor) -> Tensor:
    """P(counts) for ``counts.sum(-1)`` independent draws from ``p``, one per row."""
    n = counts.sum(-1).to(p.dtype)
    log_coef = torch.lgamma(n + 1) - torch.lgamma(counts.to(p.dtype) + 1).sum(-1)
    log_p = torch.where(counts > 0, counts * torch.log(p), torch.zeros_like(log_coef)[..., None])
    return torch.exp(log_coef + log_p.sum(-1))


@dataclass(frozen=True)
class DeviatorMDP:
    """Agent 0's MDP on (x, n): ``reward`` ``(epochs, S, C, A)``, ``kernel``
    ``(epochs, S, C, A, S, C)`` (P(x', n' | x, n, a); the last epoch of a finite-horizon
    game has none, its row is 0), ``initial`` ``(S, C)``, ``counts`` ``(C, S)``."""

    game: FiniteMFG
    n_agents: int
    counts: Tensor
    reward: Tensor
    kernel: Tensor
    initial: Tensor


def _epoch(game: FiniteMFG, t: int, pi: Tensor, counts: Tensor, n_agents: int,
           with_kernel: bool) -> tuple[Tensor, Tensor | None]:
    """Agent 0's reward ``(S, C, A)`` and kernel ``(S, C, A, S, C)`` at epoch t."""
    S, A, dev = game.n_states, game.n_actions, game.device
    SA, M, C = S * A, n_agents - 1, counts.shape[0]
    states = torch.repeat_interleave(torch.arange(S, device=dev).expand(C, S),
                                     counts.reshape(-1).to(dev)).reshape(C, M)  # canonical tuples
    actions = _tuples(A, M, dev)                                   # (A^M, M)
    p_actions = pi[states[:, None, :], actions[None]].prod(-1)     # (C, A^M)
    others = states[:, None, :] * A + actions[None]                # (C, A^M, M) codes x·A + a
    others_counts = torch.nn.functional.one_hot(others, SA).sum(-2).to(game.dtype)
    own = torch.eye(SA, dtype=game.dtype, device=dev)              # agent 0 at each (x, a)
    L = ((others_counts[:, :, None, :] + own) / n_agents).reshape(C, len(actions), SA, S, A)
    diagonal = torch.arange(SA, device=dev)
    r = game.reward(t, L).reshape(C, -1, SA, SA)[:, :, diagonal, diagonal]
    reward = torch.einsum("cy,cyd->cd", p_actions, r).reshape(C, S, A).permute(1, 0, 2)
    if not with_kernel:
        return reward, None
    P = game.transition(t, L).reshape(C, -1, SA, SA, S)
    own_next = P[:, :, diagonal, diagonal]                          # (C, A^M, SA, S)
    idx = others[:, :, None, :].expand(-1, -1, SA, -1)
    others_next = torch.gather(P, 3, idx[..., None].expand(*idx.shape, S))  # (C, A^M, SA, M, S)
    tuple_law = torch.ones(*others_next.shape[:3], 1, dtype=game.dtype, device=dev)
    for j in range(M):  # the joint law of the others' next states, as ordered tuples
        tuple_law = (tuple_law[..., :, None] * others_next[..., j, None, :]).flatten(-2)
    index = _count_index(counts)
    to_counts = torch.zeros(S ** M, C, dtype=game.dtype, device=dev)
    for k, tup in enumerate(_tuples(S, M, "cpu").tolist()):
        to_counts[k, index[tuple(torch.bincount(torch.tensor(tup, dtype=torch.int64),
                                                minlength=S).tolist())]] = 1.0
    count_law = tuple_law @ to_counts                              # (C, A^M, SA, C)
    kernel = torch.einsum("cy,cydx,cydn->cdxn", p_actions, own_next, count_law)
    return reward, kernel.reshape(C, S, A, S, C).permute(1, 0, 2, 3, 4)


def deviator_mdp(game: FiniteMFG, policy: Tensor, n_agents: int, *, others_initial=None,
                 deviator_initial=None) -> DeviatorMDP:
    """Agent 0's MDP when the N − 1 others follow ``policy`` (see the module docstring).

    The others' initial states are iid from ``others_initial`` and agent 0's from
    ``deviator_initial`` (both default to ``game.mu0``).
    """
    if isinstance(n_agents, bool) or not isinstance(n_agents, int) or n_agents < 1:
        raise UsageError(f"n_agents must be a positive int, got {n_agents!r}")
    policy = game.check_policy(policy)
    if policy.shape != game.policy_shape:
        raise UsageError(f"one policy of shape {game.policy_shape} is needed, got "
                         f"{tuple(policy.shape)}")
    S, A, M = game.n_states, game.n_actions, n_agents - 1
    counts = count_vectors(M, S)
    size = counts.shape[0] * A ** M * S * A * max(S ** M, S * A * S)
    if size > MAX_ENTRIES:
        raise UsageError(f"game {game.name!r}: enumerating N = {n_agents} agents needs "
                         f"{size:.3g} entries, more than MAX_ENTRIES = {MAX_ENTRIES:g}")
    policies = policy.reshape(game.epochs, S, A)
    parts = [_epoch(game, t, policies[t], counts, n_agents, with_kernel=game.stationary
                    or t + 1 < game.horizon) for t in range(game.epochs)]
    C = counts.shape[0]
    zero = torch.zeros(S, C, A, S, C, dtype=game.dtype, device=game.device)
    kernel = torch.stack([k if k is not None else zero for _, k in parts])
    others = game.mu0 if others_initial is None else torch.as_tensor(
        others_initial, dtype=game.dtype, device=game.device)
    own = game.mu0 if deviator_initial is None else torch.as_tensor(
        deviator_initial, dtype=game.dtype, device=game.device)
    initial = own[:, None] * multinomial_law(counts.to(game.device), others)[None, :]
    return DeviatorMDP(game, n_agents, counts, torch.stack([r for r, _ in parts]), kernel,
                       initial)


def _continuation(mdp: DeviatorMDP, t: int, v_next: Tensor) -> Tensor:
    return mdp.game.discount * torch.einsum("xcayn,yn->xca", mdp.kernel[t], v_next)


def policy_value(mdp: DeviatorMDP, sigma: Tensor) -> Tensor:
    """J_N(σ; π): agent 0's exact expected return playing ``sigma`` (the game's policy
    shape: it sees its own state only) from the MDP's initial law."""
    game = mdp.game
    sigma = game.check_policy(sigma, what="deviation").reshape(game.epochs, game.n_states, 1,
                                                               game.n_actions)
    if game.stationary:
        S, C = mdp.initial.shape
        r = (sigma[0] * mdp.reward[0]).sum(-1).reshape(-1)
        P = torch.einsum("xca,xcayn->xcyn", sigma[0].expand(-1, C, -1), mdp.kernel[0])
        eye = torch.eye(S * C, dtype=game.dtype, device=game.device)
        v = torch.linalg.solve(eye - game.discount * P.reshape(S * C, S * C), r)
        return (mdp.initial.reshape(-1) * v).sum()
    v = torch.zeros_like(mdp.initial)
    for t in reversed(range(game.horizon)):
        v = (sigma[t] * (mdp.reward[t] + _continuation(mdp, t, v))).sum(-1)
    return (mdp.initial * v).sum()


def best_value(mdp: DeviatorMDP) -> Tensor:
    """J*_N(π): agent 0's exact optimal expected return over policies of (x, n)."""
    game = mdp.game
    v = torch.zeros_like(mdp.initial)
    if game.stationary:
        # ‖v_k − v*‖ ≤ γ^k ‖r‖/(1−γ): iterate until the change is below VALUE_TOL·(1−γ)
        # (or a few ulps of ‖v‖: `values_settled`).
        for _ in range(1_000_000):
            new = (mdp.reward[0] + _continuation(mdp, 0, v)).amax(-1)
            if values_settled(float((new - v).abs().max()), new, game.discount):
                return (mdp.initial * new).sum()
            v = new
        raise UsageError(  # pragma: no cover - γ < 1 guarantees convergence
            f"game {game.name!r}: value iteration did not converge")
    for t in reversed(range(game.horizon)):
        v = (mdp.reward[t] + _continuation(mdp, t, v)).amax(-1)
    return (mdp.initial * v).sum()


def state_law(mdp: DeviatorMDP, sigma: Tensor) -> Tensor:
    """The exact law of (agent 0's state, the others' counts) at the start of every epoch
    when agent 0 plays ``sigma``, ``(H, S, C)`` (finite-horizon games)."""
    game = mdp.game
    if game.stationary:
        raise UsageError("state_law covers finite-horizon games")
    sigma = game.check_policy(sigma).reshape(game.epochs, game.n_states, 1, game.n_actions)
    law, laws = mdp.initial, [mdp.initial]
    for t in range(game.horizon - 1):
        law = torch.einsum("xc,xca,xcayn->yn", law, sigma[t].expand(-1, law.shape[1], -1),
                           mdp.kernel[t])
        laws.append(law)
    return torch.stack(laws)

