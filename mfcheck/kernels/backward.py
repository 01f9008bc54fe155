"""Backward induction: the value of a policy and the (softmax) best response to a flow.

With ``temperature`` τ > 0 every value includes the entropy bonus τ·H(π(·|s)) at each
epoch: the best response is then the entropy-regularised optimum π = softmax(Q/τ),
whose value is V = τ·logsumexp(Q/τ). τ = 0 is the ordinary problem; ties in the greedy
best response go to the lowest action index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..errors import MFCheckError
from ..game import FiniteMFG
from ..transition import Operator
from . import _native
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
    return _optimal_policy(q, temperature), _optimal_value(q, temperature)


def _optimal_value(q: Tensor, temperature: float) -> Tensor:
    return temperature * torch.logsumexp(q / temperature, -1) if temperature else q.amax(-1)


def _optimal_policy(q: Tensor, temperature: float) -> Tensor:
    if temperature:
        return torch.softmax(q / temperature, -1)
    return _one_hot(q.argmax(-1), q.shape[-1], q.dtype)


def _one_hot(action: Tensor, n_actions: int, dtype: torch.dtype) -> Tensor:
    out = torch.zeros(*action.shape, n_actions, dtype=dtype, device=action.device)
    return out.scatter_(-1, action.unsqueeze(-1), 1.0)


def backward_induction(game: FiniteMFG, flow: Flow, act, *, sweeps: int | None = None,
                       keep_q: bool = True) -> tuple[Tensor, Tensor | None]:
    """Finite-horizon backward induction against a fixed population ``flow``.

    ``act(t, q_t) -> v_t`` turns epoch t's action values into its state values; it is how
    `policy_value`, `best_response`, `exploitability` and planners that build their policy
    during the sweep share one loop. The rewards of every epoch are evaluated first (they
    depend on the flow only), so the loop itself is one product with P_t per epoch.

    ``sweeps=n`` runs n value functions side by side (a leading axis of length n on v and
    q): one read of P_t serves all of them. Returns (v, q) stacked over epochs (q None
    unless ``keep_q``).
    """
    L = flow.L
    rewards = game.rewards(L)
    v_next = None
    vs, qs = [], []
    for t in reversed(range(game.horizon)):
        q = rewards[..., t, :, :]
        if v_next is None:
            q = q if sweeps is None else q.expand(sweeps, *q.shape)
        else:
            q = q + game.discount * game.transition_operator(t, L[..., t, :, :]).expect(v_next)
        v_next = act(t, q)
        vs.append(v_next)
        if keep_q:
            qs.append(q)
    return torch.stack(vs[::-1], dim=-2), torch.stack(qs[::-1], dim=-3) if keep_q else None


def _native_sweeps(game: FiniteMFG, flow: Flow, modes: tuple[int, ...], temperature: float, *,
                   policy: Tensor | None = None, keep_q: bool) -> tuple[Tensor, Tensor] | None:
    """The sweeps in one C call when the game's transition is static (`_native`), else None."""
    op = _native.static_operator(game, flow.L, *(() if policy is None else (policy,)))
    if op is None:
        return None
    return _native.backward(op, game.rewards(flow.L), game.discount, modes, policy=policy,
                            temperature=temperature, keep_q=keep_q)


def _optimal_mode(temperature: float) -> int:
    return _native.SOFT_MAX if temperature else _native.MAX


def policy_value(game: FiniteMFG, policy: Tensor, flow: Flow, temperature: float = 0.0) -> Values:
    """V^π and Q^π of ``policy`` when the population follows ``flow``."""
    policy = game.check_policy(policy)
    if game.stationary:
        return _stationary_policy_value(game, policy, flow, temperature)
    swept = _native_sweeps(game, flow, (_native.POLICY,), temperature, policy=policy, keep_q=True)
    if swept is not None:
        return Values(swept[0][0], swept[1][0])
    return Values(*backward_induction(
        game, flow, lambda t, q: _policy_state_value(policy[..., t, :, :], q, temperature)))


def best_response(game: FiniteMFG, flow: Flow, temperature: float = 0.0) -> BestResponse:
    """The exact (τ = 0) or softmax (τ > 0) best response to the population ``flow``."""
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if game.stationary:
        return _stationary_best_response(game, flow, temperature)
    swept = _native_sweeps(game, flow, (_optimal_mode(temperature),), temperature, keep_q=True)
    if swept is not None:
        v, q = swept[0][0], swept[1][0]
    else:
        v, q = backward_induction(game, flow, lambda t, q: _optimal_value(q, temperature))
    return BestResponse(_optimal_policy(q, temperature), v, q)


def best_response_and_policy_values(game: FiniteMFG, policy: Tensor, flow: Flow,
                                    temperature: float = 0.0) -> tuple[Tensor, Tensor]:
    """(V^BR, V^π) against ``flow`` in one backward sweep of a finite-horizon game: each
    epoch reads its rewards and P_t once for both (what `exploitability` needs)."""
    swept = _native_sweeps(game, flow, (_optimal_mode(temperature), _native.POLICY), temperature,
                           policy=policy, keep_q=False)
    if swept is not None:
        return swept[0][0], swept[0][1]

    def act(t, q):
        return torch.stack((_optimal_value(q[0], temperature),
                            _policy_state_value(policy[..., t, :, :], q[1], temperature)))

    v, _ = backward_induction(game, flow, act, sweeps=2, keep_q=False)
    return v[0], v[1]


# -- discounted stationary games ----------------------------------------------------------
#
# The best response is computed by policy iteration: each step evaluates a policy exactly
# (one linear solve, O(S³)) and improves it greedily; it needs a handful of steps where
# value iteration needs ~log(VALUE_TOL·(1−γ))/log(γ) sweeps (~300 at γ = 0.9, ~3000 at
# γ = 0.99) of O(S²A) each.

#: Policy iteration is used while S ≤ this × A × (value iteration's sweeps,
#: log(VALUE_TOL)/log γ): a step costs one O(S³/3) solve and it takes ~5 steps, a sweep
#: costs O(S²A). On one CPU thread at A = 4, γ = 0.9 (262 sweeps) the two break even near
#: S = 3000 (docs/methods.md), i.e. at ~2.9 × A × sweeps; 2 keeps a margin. Higher γ moves
#: the switch up (S ≈ 22000 at γ = 0.99, A = 4), γ = 0 (one sweep) always sweeps.
POLICY_ITERATION_STATES_PER_SWEEP = 2
#: Greedy policy iteration steps before value iteration takes over. It stops in a handful
#: on every game measured; the cap only bounds the cost of a game where it would not.
POLICY_ITERATION_MAX_STEPS = 100
#: Action values closer than this times ε·cond∞(I − γP_π)·‖q‖∞ are ties: the exact solve
#: is exact only to about ε·cond·‖v‖, with cond∞(I − γP_π) ≤ (1 + γ)/(1 − γ).
TIE_FACTOR = 64
#: Bellman sweeps whose sup change is below this many ε·‖V‖∞ are at float64's rounding
#: floor (see `values_settled`).
SWEEP_ULPS = 8


@dataclass(frozen=True)
class _Discounted:
    """The one-step problem of a stationary game at a fixed population: r and γP."""

    r: Tensor
    op: Operator
    discount: float

    def backup(self, v: Tensor) -> Tensor:
        """Q = r + γPV."""
        return self.r + self.discount * self.op.expect(v)


def _stationary_parts(game: FiniteMFG, flow: Flow) -> _Discounted:
    return _Discounted(game.reward(0, flow.L), game.transition_operator(0, flow.L), game.discount)


def _evaluate(parts: _Discounted, policy: Tensor, temperature: float) -> Values:
    """V^π = (I − γP_π)⁻¹ (r_π + τH(π)) exactly, and Q^π = r + γPV^π."""
    r = parts.r
    r_pi = (policy * r).sum(-1) + (temperature * _entropy(policy) if temperature else 0.0)
    P_pi = parts.discount * parts.op.chain(policy)
    eye = torch.eye(r.shape[-2], dtype=r.dtype, device=r.device)
    v = torch.linalg.solve(eye - P_pi, r_pi.unsqueeze(-1)).squeeze(-1)
    return Values(v, parts.backup(v))


def _stationary_policy_value(game, policy, flow, temperature) -> Values:
    return _evaluate(_stationary_parts(game, flow), policy, temperature)


def _stationary_best_response(game, flow, temperature) -> BestResponse:
    """τ = 0: policy iteration (`_policy_iteration`); τ > 0: soft policy iteration
    (`_value_iteration` with ``newton``). Plain value iteration on games too large for the
    solves (``POLICY_ITERATION_STATES_PER_SWEEP``), and where policy iteration does not
    stop (τ = 0: then the greedy policy is evaluated exactly)."""
    parts = _stationary_parts(game, flow)
    sweeps = math.log(VALUE_TOL) / math.log(game.discount) if game.discount else 1.0
    small = game.n_states <= POLICY_ITERATION_STATES_PER_SWEEP * game.n_actions * sweeps
    if temperature:
        return BestResponse(*_value_iteration(game, parts, temperature, newton=small))
    found = _policy_iteration(parts) if small else None
    if found is not None:
        return found
    pi, _, _ = _value_iteration(game, parts, 0.0, newton=False)
    values = _evaluate(parts, pi, 0.0)
    return BestResponse(pi, values.v, values.q)


def _policy_iteration(parts: _Discounted) -> BestResponse | None:
    """Howard's policy iteration from the greedy policy of the one-step reward; None if it
    has not stopped after ``POLICY_ITERATION_MAX_STEPS`` steps.

    An action replaces the current one only when its Q-value is higher by more than the
    solve's rounding (``TIE_FACTOR``), so rounding cannot make it cycle: every switch is a
    true improvement, and there are finitely many policies. At the end, each state takes the
    lowest-index action whose Q-value ties with the maximum, as ``_optimal(q, 0)`` does, and
    that policy is evaluated exactly.
    """
    r, discount = parts.r, parts.discount
    n_actions = r.shape[-1]
    action = r.argmax(-1)
    for _ in range(POLICY_ITERATION_MAX_STEPS):
        q = _evaluate(parts, _one_hot(action, n_actions, r.dtype), 0.0).q
        tie = (TIE_FACTOR * torch.finfo(q.dtype).eps * (1 + discount) / (1 - discount)
               * q.abs().amax((-2, -1), keepdim=True))
        best = q.argmax(-1)
        gain = q.gather(-1, best.unsqueeze(-1)) - q.gather(-1, action.unsqueeze(-1))
        improves = gain.squeeze(-1) > tie.squeeze(-1)
        if not improves.any():
            # argmax returns the first maximal index: the lowest action that ties.
            action = (q >= q.amax(-1, keepdim=True) - tie).to(torch.uint8).argmax(-1)
            policy = _one_hot(action, n_actions, r.dtype)
            values = _evaluate(parts, policy, 0.0)
            return BestResponse(policy, values.v, values.q)
        action = torch.where(improves, best, action)
    return None


def values_settled(change: float, v: Tensor, discount: float) -> bool:
    """Whether values ``v`` = T(previous), which moved by ``change`` in sup norm, are final.

    At ‖TV − V‖∞ ≤ VALUE_TOL·(1 − γ), ‖TV − V*‖∞ ≤ γ·VALUE_TOL. Large values cannot get
    there in float64: a sweep rounds each value by a few units in the last place, and near
    V* the iterates then cycle with changes of 1–4 ulps of ‖V‖∞ (a 50-state garnet at
    γ = 0.95, τ = 10, ‖V‖∞ = 288: 1 ulp = 5.7e-14 > VALUE_TOL·(1 − γ) = 5e-14). So a change
    below ``SWEEP_ULPS``·ε·‖V‖∞ settles too, with ‖TV − V*‖∞ ≤ γ·change/(1 − γ).
    """
    floor = SWEEP_ULPS * torch.finfo(v.dtype).eps * float(v.abs().max()) if v.numel() else 0.0
    return change <= max(VALUE_TOL * (1 - discount), floor)


def _value_iteration(game: FiniteMFG, parts: _Discounted, temperature: float, *,
                     newton: bool) -> tuple[Tensor, Tensor, Tensor]:
    """(policy, v, q): V ← T(V) = max_τ(r + γPV) from V = 0 until `values_settled`; the
    policy is the (soft) maximiser of the last sweep's Q.

    With ``newton``, V is replaced after each sweep by V^π, π the sweep's maximiser,
    evaluated exactly: that is (soft) policy iteration, which at τ > 0 is Newton's method on
    the soft Bellman equation. V^π rises monotonically to V* (at least at rate γ) and
    converges quadratically near it. Should ‖TV − V‖∞ ever fail to decrease, plain sweeps
    take over.
    """
    v = torch.zeros_like(parts.r[..., 0])
    change = math.inf
    # Plain sweeps: ‖v_k − v*‖ ≤ γ^k ‖v_0 − v*‖, enough for VALUE_TOL, plus slack.
    for _ in range(1_000_000):
        pi, new = _optimal(parts.backup(v), temperature)
        new_change = float((new - v).abs().max())
        if values_settled(new_change, new, game.discount):
            return pi, new, parts.backup(new)
        newton = newton and new_change < change
        change = new_change
        v = _evaluate(parts, pi, temperature).v if newton else new
    raise MFCheckError(  # pragma: no cover - γ < 1 guarantees convergence
        f"game {game.name!r}: value iteration did not converge")
