"""The finite mean-field game: the one object every kernel, solver and check sees.

A game has ``S`` states, ``A`` actions, an initial distribution ``mu0``, and two
plain callables of the decision epoch ``t`` and the population's state-action
distribution ``L`` (shape ``(S, A)``; its state marginal is μ, its action
marginal the mean action):

- ``reward(t, L) -> (S, A)``: the reward earned at epoch ``t``;
- ``transition(t, L) -> (S, A, S)``: the law of the state at ``t + 1``.

Finite horizon: ``horizon`` decision epochs, a policy has shape ``(horizon, S, A)``.
Discounted stationary: ``horizon=None`` and ``discount < 1``, a policy has shape
``(S, A)`` and the callables are called with ``t = 0``.

Every output of the callables is validated on every call: that is where a bad game
is caught, with a message naming the game, the tensor, the index and the value.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import torch

from .devices import DEFAULT_DTYPE, resolve_device
from .errors import InvalidGameError, InvalidPolicyError

Tensor = torch.Tensor
GameFunction = Callable[[int, Tensor], Tensor]

#: How many validated transition tensors a game remembers. Static tables (most games
#: return the same tensor, or a view of it, at every call) are then validated once.
VALIDATED_MEMORY = 8

#: How far from 1 a probability vector may sum, and how far below 0 an entry may be.
PROBABILITY_ATOL = {torch.float64: 1e-9, torch.float32: 1e-5}


def probability_atol(dtype: torch.dtype) -> float:
    return PROBABILITY_ATOL.get(dtype, 1e-3)


def _first_index(mask: Tensor) -> tuple[int, ...]:
    return tuple(int(i) for i in torch.nonzero(mask)[0]) if mask.ndim else ()


def _where(what: str, idx: tuple[int, ...]) -> str:
    return f"{what}{list(idx)}" if idx else what


def check_distribution(x: Tensor, *, owner: str, what: str, atol: float,
                       error: type[Exception]) -> None:
    """Raise ``error`` unless every vector along the last axis of ``x`` is a distribution."""
    if not torch.isfinite(x).all():
        idx = _first_index(~torch.isfinite(x))
        raise error(f"{owner}: {_where(what, idx)} = {x[idx].item()!r} is not finite")
    if (x < -atol).any():
        idx = _first_index(x < -atol)
        raise error(f"{owner}: {_where(what, idx)} = {x[idx].item():.6g} is negative "
                    f"(tolerance {atol:g})")
    gap = (x.sum(-1) - 1).abs()
    if (gap > atol).any():
        idx = _first_index(gap > atol)
        raise error(f"{owner}: {_where(what, idx)} sums to {x[idx].sum().item():.12g}, not 1 "
                    f"(tolerance {atol:g})")


class FiniteMFG:
    """A finite mean-field game with torch tensors on one device (float64 by default).

    ``batched=True`` promises that ``reward`` and ``transition`` broadcast over
    leading batch dimensions of ``L``; otherwise batched evaluations loop.
    """

    def __init__(self, mu0, reward: GameFunction, transition: GameFunction, *,
                 n_actions: int, horizon: int | None = None, discount: float = 1.0,
                 name: str = "game", batched: bool = False, device=None,
                 dtype: torch.dtype = DEFAULT_DTYPE) -> None:
        self.name = name
        if device is None and isinstance(mu0, Tensor):
            device = mu0.device
        self.device = resolve_device(device)
        self.dtype = dtype
        try:
            mu0 = torch.as_tensor(mu0, dtype=dtype, device=self.device)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise InvalidGameError(f"game {name!r}: mu0 is not a numeric array: {exc}") from None
        if mu0.ndim != 1 or mu0.numel() == 0:
            raise InvalidGameError(f"game {name!r}: mu0 must be a non-empty vector, "
                                   f"got shape {tuple(mu0.shape)}")
        if not isinstance(n_actions, int) or n_actions < 1:
            raise InvalidGameError(f"game {name!r}: n_actions must be a positive int, "
                                   f"got {n_actions!r}")
        if horizon is None:
            if not 0.0 <= discount < 1.0:
                raise InvalidGameError(f"game {name!r}: a stationary game (horizon=None) needs "
                                       f"0 <= discount < 1, got {discount!r}")
        elif not isinstance(horizon, int) or horizon < 1:
            raise InvalidGameError(f"game {name!r}: horizon must be a positive int or None, "
                                   f"got {horizon!r}")
        elif not 0.0 < discount <= 1.0:
            raise InvalidGameError(f"game {name!r}: discount must be in (0, 1], got {discount!r}")
        self.mu0 = mu0
        self.n_states = mu0.shape[0]
        self.n_actions = n_actions
        self.horizon = horizon
        self.discount = float(discount)
        self.batched = batched
        self._reward = reward
        self._transition = transition
        self.atol = probability_atol(dtype)
        self._validated: deque[tuple[tuple, Tensor]] = deque(maxlen=VALIDATED_MEMORY)
        check_distribution(mu0, owner=f"game {name!r}", what="mu0", atol=self.atol,
                           error=InvalidGameError)
        # Validate the callables once at construction, against the uniform policy's L.
        uniform_L = mu0[:, None].expand(-1, n_actions) / n_actions
        self.reward(0, uniform_L)
        self.transition(0, uniform_L)

    # -- shapes -------------------------------------------------------------------------
    @property
    def stationary(self) -> bool:
        return self.horizon is None

    @property
    def epochs(self) -> int:
        """Decision epochs a policy covers (1 for a stationary game)."""
        return 1 if self.horizon is None else self.horizon

    @property
    def policy_shape(self) -> tuple[int, ...]:
        sa = (self.n_states, self.n_actions)
        return sa if self.stationary else (self.horizon, *sa)

    def __repr__(self) -> str:
        kind = f"horizon={self.horizon}" if not self.stationary else f"discount={self.discount}"
        return (f"FiniteMFG({self.name!r}, S={self.n_states}, A={self.n_actions}, {kind}, "
                f"device={self.device.type})")

    def uniform_policy(self) -> Tensor:
        return torch.full(self.policy_shape, 1.0 / self.n_actions, dtype=self.dtype,
                          device=self.device)

    # -- validated evaluation -----------------------------------------------------------
    def reward(self, t: int, L: Tensor) -> Tensor:
        """``r_t(s, a, L)``, shape ``(..., S, A)`` for ``L`` of shape ``(..., S, A)``."""
        r = self._evaluate(self._reward, "reward", t, L, (self.n_states, self.n_actions))
        if not torch.isfinite(r).all():
            idx = _first_index(~torch.isfinite(r))
            raise InvalidGameError(f"game {self.name!r}: reward(t={t}){list(idx)} = "
                                   f"{r[idx].item()!r} is not finite")
        return r

    def transition(self, t: int, L: Tensor) -> Tensor:
        """``P_t(s' | s, a, L)``, shape ``(..., S, A, S)``."""
        p = self._evaluate(self._transition, "transition", t, L,
                           (self.n_states, self.n_actions, self.n_states))
        # The same storage, layout and version counter means the same, unmodified values:
        # keeping a reference to each remembered tensor stops its memory being reused.
        key = (p.data_ptr(), tuple(p.shape), p.stride(), p._version)
        if not any(key == seen for seen, _ in self._validated):
            check_distribution(p, owner=f"game {self.name!r}", what=f"transition(t={t})",
                               atol=self.atol, error=InvalidGameError)
            self._validated.append((key, p))
        return p

    def _evaluate(self, fn: GameFunction, what: str, t: int, L: Tensor,
                  shape: tuple[int, ...]) -> Tensor:
        batch = L.shape[:-2]
        if self.batched or not batch:
            out = self._call(fn, what, t, L)
        else:
            flat = L.reshape(-1, *L.shape[-2:])
            out = torch.stack([self._call(fn, what, t, x) for x in flat]).reshape(
                *batch, *shape) if flat.shape[0] else L.new_zeros(*batch, *shape)
        if tuple(out.shape[len(batch):]) != shape or tuple(out.shape[:len(batch)]) != tuple(batch):
            raise InvalidGameError(f"game {self.name!r}: {what}(t={t}) returned shape "
                                   f"{tuple(out.shape)}, expected {tuple(batch) + shape}")
        return out

    def _call(self, fn: GameFunction, what: str, t: int, L: Tensor) -> Tensor:
        try:
            out = fn(t, L)
        except Exception as exc:  # a user's callable: report it as a game error
            raise InvalidGameError(f"game {self.name!r}: {what}(t={t}, L) raised "
                                   f"{type(exc).__name__}: {exc}") from exc
        if not isinstance(out, Tensor):
            raise InvalidGameError(f"game {self.name!r}: {what}(t={t}) returned "
                                   f"{type(out).__name__}, expected a torch.Tensor")
        if out.device != self.device:
            raise InvalidGameError(f"game {self.name!r}: {what}(t={t}) returned a tensor on "
                                   f"{out.device}, but the game lives on {self.device}")
        return out.to(self.dtype)

    def check_policy(self, policy, *, what: str = "policy", atol: float | None = None) -> Tensor:
        """Return ``policy`` as a tensor of the game's dtype, or raise `InvalidPolicyError`.

        Accepts a leading batch: shape ``(..., *policy_shape)``. Rows are distributions to
        ``atol`` (default: the game's, `probability_atol` of its dtype).
        """
        owner = f"{what} for game {self.name!r}"
        if not isinstance(policy, Tensor):
            raise InvalidPolicyError(f"{owner}: expected a torch.Tensor, got "
                                     f"{type(policy).__name__}")
        if policy.device != self.device:
            raise InvalidPolicyError(f"{owner}: on device {policy.device}, but the game lives "
                                     f"on {self.device}")
        shape = self.policy_shape
        if tuple(policy.shape[policy.ndim - len(shape):]) != shape or policy.ndim < len(shape):
            raise InvalidPolicyError(f"{owner}: shape {tuple(policy.shape)}, expected "
                                     f"{shape} (optionally with leading batch dimensions)")
        if not (policy.is_floating_point()):
            raise InvalidPolicyError(f"{owner}: dtype {policy.dtype} is not floating point")
        policy = policy.to(self.dtype)
        check_distribution(policy, owner=owner, what="", atol=self.atol if atol is None else atol,
                           error=InvalidPolicyError)
        return policy
