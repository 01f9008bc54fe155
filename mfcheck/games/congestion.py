"""Congestion (routing) games: one state, one decision, one action per route.

Every agent picks a route i and pays c_i = a_i + b_i·m_i, where m is the action marginal
of the population's state-action distribution L (the route split). As a `FiniteMFG`:
one state, ``len(a)`` actions, horizon 1, reward −c_i, a trivial transition. Their
equilibria are known exactly (`mfcheck.analytic.congestion`), which makes them the
first games every planner is checked on.

Any finite ``a`` and ``b`` build a valid game (a negative slope is a "follow the crowd"
route); the analytic answers additionally need ``b ≥ 0``. A non-finite parameter shows
up as a non-finite reward, which `FiniteMFG` rejects at construction, naming the index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..devices import DEFAULT_DTYPE, resolve_device
from ..errors import InvalidGameError
from ..analytic import congestion as analytic
from ..game import FiniteMFG


def _fmt(x: float) -> str:
    return f"{x:g}"


def _routes_game(a, b, name: str, device) -> FiniteMFG:
    device = resolve_device(device)
    a = torch.as_tensor(a, dtype=DEFAULT_DTYPE, device=device)
    b = torch.as_tensor(b, dtype=DEFAULT_DTYPE, device=device)
    if a.ndim != 1 or a.numel() == 0 or a.shape != b.shape:
        raise InvalidGameError(f"game {name!r}: a and b must be non-empty vectors of the same "
                               f"length, got shapes {tuple(a.shape)} and {tuple(b.shape)}")
    n = a.numel()

    def reward(t, L):
        m = L.sum(-2, keepdim=True)  # (..., 1, n): the route split
        return -(a + b * m)

    def transition(t, L):
        return L.new_ones(*L.shape[:-2], 1, n, 1)

    return FiniteMFG(torch.ones(1, dtype=DEFAULT_DTYPE, device=device), reward, transition,
                     n_actions=n, horizon=1, name=name, batched=True, device=device)


def two_route(a1: float, b1: float, a2: float, b2: float, *, device=None) -> FiniteMFG:
    """Two routes costing a1 + b1·m and a2 + b2·(1 − m); action 0 is route 1.

    A policy ``[[[m, 1 − m]]]`` plays split m; the two-route closed forms apply
    (docs/references.md#congestion-two-route).
    """
    return _routes_game([a1, a2], [b1, b2], f"two_route({', '.join(map(_fmt, (a1, b1, a2, b2)))})",
                        device)


def n_route(a, b, *, device=None) -> FiniteMFG:
    """``len(a)`` routes, route i costing a_i + b_i·m_i; action i is route i."""
    a_list = [float(x) for x in torch.as_tensor(a).flatten()]
    b_list = [float(x) for x in torch.as_tensor(b).flatten()]
    name = (f"n_route(a=[{', '.join(map(_fmt, a_list))}], "
            f"b=[{', '.join(map(_fmt, b_list))}])")
    return _routes_game(a, b, name, device)


@dataclass(frozen=True)
class Routes:
    """Affine route costs a_i + b_i·m_i with their closed-form equilibria: the game
    (`two_route` for two routes, `n_route` otherwise), the Wardrop or logit split, the
    exploitability of a split, and the name of the target a check compares with."""

    a: tuple[float, ...]
    b: tuple[float, ...]

    def game(self, device):
        if len(self.a) == 2:
            return two_route(self.a[0], self.b[0], self.a[1], self.b[1], device=device)
        return n_route(self.a, self.b, device=device)

    def equilibrium(self, temperature: float = 0.0) -> np.ndarray:
        """Wardrop split (τ = 0) or logit split at τ, from the closed forms."""
        if len(self.a) == 2:
            args = (self.a[0], self.b[0], self.a[1], self.b[1])
            m1 = (analytic.logit_two_route(*args, temperature) if temperature
                  else analytic.wardrop_two_route(*args))
            return np.array([m1, 1.0 - m1])
        return (analytic.logit_n_route(self.a, self.b, temperature) if temperature
                else analytic.wardrop_n_route(self.a, self.b))

    def exploitability(self, m) -> float:
        return float(analytic.exploitability_n_route(np.asarray(m), self.a, self.b))

    def target_name(self, temperature: float) -> str:
        closed = "closed form" if len(self.a) == 2 else "water-filling"
        return (f"logit equilibrium at τ={temperature:g} (root of the logit equation)"
                if temperature else f"Wardrop equilibrium ({closed})")


def route_split(policy: torch.Tensor) -> np.ndarray:
    """The route fractions played by a one-state, one-epoch policy."""
    return policy[0, 0].double().cpu().numpy()
