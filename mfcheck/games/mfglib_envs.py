"""MFGLib 0.3.0's ``left_right`` and ``rock_paper_scissors`` as native mfcheck games.

Both are Cui & Koeppl (2021)'s one-shot games written the way MFGLib writes them: a
start state 0, one decision that moves the agent to state 1 + a, and a reward that
depends only on the state reached and on how crowded the other states are. They are
rewritten here (batched, float64, any device) rather than converted, so that mfcheck's
own tests can use them without MFGLib installed; `tests/test_mfglib_parity.py` checks
them against MFGLib's originals.

MFGLib's conventions, kept: an environment with ``T`` has T + 1 decision epochs
(horizon ``T + 1``); the reward function is the same at every epoch (state 0 earns 0);
the initial distribution defaults to all mass on state 0.
"""

from __future__ import annotations

import torch

from ..devices import DEFAULT_DTYPE, resolve_device
from ..game import FiniteMFG


def _one_shot(mu0, payoff: torch.Tensor, *, T: int, name: str, device) -> FiniteMFG:
    """Action a moves any state to 1 + a; in state s ≥ 1 every action earns (payoff @ μ)(s − 1).

    ``payoff`` is ``(A, S)``: row i gives the reward in state 1 + i as a linear function
    of the state distribution μ.
    """
    device = resolve_device(device)
    payoff = payoff.to(device)
    n_actions, n_states = payoff.shape
    move = torch.zeros(n_states, n_actions, n_states, dtype=DEFAULT_DTYPE, device=device)
    move[:, torch.arange(n_actions), 1 + torch.arange(n_actions)] = 1.0

    def reward(t, L):
        mu = L.sum(-1)
        start = torch.zeros_like(mu[..., :1])
        per_state = torch.cat([start, mu @ payoff.T], dim=-1)
        return per_state.unsqueeze(-1).expand(*per_state.shape, n_actions)

    def transition(t, L):
        return move.expand(*L.shape[:-2], -1, -1, -1)

    return FiniteMFG(torch.as_tensor(mu0, dtype=DEFAULT_DTYPE), reward, transition,
                     n_actions=n_actions, horizon=T + 1, name=name, batched=True, device=device)


def left_right(mu0=(1.0, 0.0, 0.0), *, device=None) -> FiniteMFG:
    """MFGLib's ``Environment.left_right()``: go left (a=0) or right (a=1), T = 1.

    States: 0 start, 1 left, 2 right. Reward −μ(1) in state 1 and −2·μ(2) in state 2:
    crowding costs twice as much on the right, so the equilibrium puts 2/3 on the left.
    """
    payoff = torch.tensor([[0.0, -1.0, 0.0],
                           [0.0, 0.0, -2.0]], dtype=DEFAULT_DTYPE)
    return _one_shot(mu0, payoff, T=1, name="left_right", device=device)


def rock_paper_scissors(T: int = 1, mu0=(1.0, 0.0, 0.0, 0.0), *, device=None) -> FiniteMFG:
    """MFGLib's ``Environment.rock_paper_scissors(T)``: Shapley's non-zero-sum variant.

    States: 0 start, 1 rock, 2 paper, 3 scissors (reached by actions 0, 1, 2). Rewards:
    rock 2μ(3) − μ(2), paper 4μ(1) − 2μ(3), scissors 6μ(2) − 3μ(1).
    """
    payoff = torch.tensor([[0.0, 0.0, -1.0, 2.0],
                           [0.0, 4.0, 0.0, -2.0],
                           [0.0, -3.0, 6.0, 0.0]], dtype=DEFAULT_DTYPE)
    return _one_shot(mu0, payoff, T=T, name=f"rock_paper_scissors(T={T})", device=device)
