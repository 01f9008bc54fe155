"""Backward induction: the value of a policy and the (softmax) best response to a flow.

With ``temperature`` τ > 0 every value includes the entropy bonus τ·H(π(·|s)) at each
epoch: the best response is then the entropy-regularised optimum π = softmax(Q/τ),
whose value is V = τ·logsumexp(Q/τ). τ = 0 is the ordinary problem; ties in the greedy
best response go to the lowest action index.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..errors import MFCheckError
from ..game import FiniteMFG
from .flow import Flow

Tensor = torch.Tensor

#: Stationary values are iterated until the sup-norm change is below this.
VALUE_TOL = 1e-12


@dataclass(frozen=True)
class Values:
    """``v`` has shape ``(..., horizon, S)`` (``(..., S)`` stationary); ``q`` adds ``A``."""

    v: Tensor
    q: Tensor


@dataclass(frozen=True)
class BestResponse:
    policy: Tensor
    v: Tensor
    q: Tensor


def _entropy(policy: Tensor) -> Tensor:
    return -torch.special.xlogy(policy, policy).sum(-1)


def _policy_state_value(policy: Tensor, q: Tensor, temperature: float) -> Tensor:
    v = (policy * q).sum(-1)
    return v + temperature * _entropy(policy) if temperature else v


def _optimal(q: Tensor, temperature: float) -> tuple[Tensor, Tensor]:
    """(policy, value) of the (soft) maximum of ``q`` over the last axis."""
    if temperature:
        return torch.softmax(q / temperature, -1), temperature * torch.logsumexp(q / temperature, -1)
    greedy = torch.nn.functional.one_hot(q.argmax(-1), q.shape[-1]).to(q.dtype)
    return greedy, q.amax(-1)


def _continuation(game: FiniteMFG, t: int, L: Tensor, v_next: Tensor) -> Tensor:
    """γ Σ_{s'} P_t(s' | s, a, L_t) v_{t+1}(s')."""
    return game.discount * torch.einsum("...sap,...p->...sa", game.transition(t, L), v_next)


def backward_induction(game: FiniteMFG, flow: Flow, act):
    """Finite-horizon backward induction against a fixed population ``flow``.

    ``act(t, q_t) -> (policy_t or None, v_t)`` turns epoch t's action values into the
    state values; it is how `policy_value`, `best_response` and planners that build
    their policy during the sweep share one loop. Returns (policy, v, q), stacked over
    epochs (policy is None when ``act`` returns none).
    """
    L = flow.L
    v_next = torch.zeros_like(flow.mu[..., 0, :])
    vs, qs, pis = [], [], []
    for t in reversed(range(game.horizon)):
        q = game.reward(t, L[..., t, :, :])
        if t + 1 < game.horizon:
            q = q + _continuation(game, t, L[..., t, :, :], v_next)
        pi, v_next = act(t, q)
        vs.append(v_next)
        qs.append(q)
        pis.append(pi)
    policy = torch.stack(pis[::-1], dim=-3) if pis[0] is not None else None
    return policy, torch.stack(vs[::-1], dim=-2), torch.stack(qs[::-1], dim=-3)


def policy_value(game: FiniteMFG, policy: Tensor, flow: Flow, temperature: float = 0.0) -> Values:
    """V^π and Q^π of ``policy`` when the population follows ``flow``."""
    policy = game.check_policy(policy)
    if game.stationary:
        return _stationary_policy_value(game, policy, flow, temperature)
    _, v, q = backward_induction(game, flow,
                        lambda t, q: (None, _policy_state_value(policy[..., t, :, :], q, temperature)))
    return Values(v, q)


def best_response(game: FiniteMFG, flow: Flow, temperature: float = 0.0) -> BestResponse:
    """The exact (τ = 0) or softmax (τ > 0) best response to the population ``flow``."""
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if game.stationary:
        return _stationary_best_response(game, flow, temperature)
    pi, v, q = backward_induction(game, flow, lambda t, q: _optimal(q, temperature))
    return BestResponse(pi, v, q)


# -- discounted stationary games ----------------------------------------------------------

def _stationary_parts(game: FiniteMFG, flow: Flow) -> tuple[Tensor, Tensor]:
    return game.reward(0, flow.L), game.discount * game.transition(0, flow.L)


def _stationary_policy_value(game, policy, flow, temperature) -> Values:
    r, gP = _stationary_parts(game, flow)
    r_pi = (policy * r).sum(-1) + (temperature * _entropy(policy) if temperature else 0.0)
    P_pi = torch.einsum("...sa,...sap->...sp", policy, gP)
    eye = torch.eye(game.n_states, dtype=r.dtype, device=r.device)
    v = torch.linalg.solve(eye - P_pi, r_pi.unsqueeze(-1)).squeeze(-1)
    return Values(v, r + torch.einsum("...sap,...p->...sa", gP, v))


def _stationary_best_response(game, flow, temperature) -> BestResponse:
    """Value iteration to ``VALUE_TOL``, then (τ = 0) exact evaluation of the greedy policy."""
    r, gP = _stationary_parts(game, flow)
    v = torch.zeros_like(flow.mu)
    # ‖v_k − v*‖ ≤ γ^k ‖r‖/(1−γ): enough sweeps for VALUE_TOL, plus slack.
    for _ in range(1_000_000):
        q = r + torch.einsum("...sap,...p->...sa", gP, v)
        pi, new = _optimal(q, temperature)
        if (new - v).abs().max() <= VALUE_TOL * (1 - game.discount):
            v = new
            break
        v = new
    else:  # pragma: no cover - γ < 1 guarantees convergence
        raise MFCheckError(f"game {game.name!r}: value iteration did not converge")
    if not temperature:
        values = _stationary_policy_value(game, pi, flow, 0.0)
        return BestResponse(pi, values.v, values.q)
    return BestResponse(pi, v, r + torch.einsum("...sap,...p->...sa", gP, v))
