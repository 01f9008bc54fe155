"""The finite mean-field game: the one object every kernel, solver and check sees.

A game has ``S`` states, ``A`` actions, an initial distribution ``mu0``, and two
plain callables of the decision epoch ``t`` and the population's state-action
distribution ``L`` (shape ``(S, A)``; its state marginal is μ, its action
marginal the mean action):

- ``reward(t, L) -> (S, A)``: the reward earned at epoch ``t``;
- ``transition(t, L) -> (S, A, S)``: the law of the state at ``t + 1``, dense, or a
  `mfcheck.transition.Stencil` (the K states reachable from each (s, a) and their
  probabilities) for large grid games.

``epoch_batched=True`` (with ``batched=True``) promises that ``reward(t, L)`` also takes
``t`` as a tensor of epochs ``arange(horizon)`` with ``L`` of shape ``(..., horizon, S, A)``:
the kernels then evaluate every epoch's reward of a flow in one call.

A game may declare its transition independent of time and/or of the population
(``transition_depends_on_time=False``, ``transition_depends_on_population=False``): the
kernels then build one operator per epoch (or one for all epochs) and apply it to every
policy of a batch at once. The declaration is checked at construction.

Finite horizon: ``horizon`` decision epochs, a policy has shape ``(horizon, S, A)``.
Discounted stationary: ``horizon=None`` and ``discount < 1``, a policy has shape
``(S, A)`` and the callables are called with ``t = 0``.

Every output of the callables is validated on every call (a transition once per distinct
tensor): that is where a bad game is caught, with a message naming the game, the tensor,
the index and the value.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import torch

from .devices import DEFAULT_DTYPE, resolve_device
from .errors import InvalidGameError, InvalidPolicyError
from .transition import DenseOperator, Operator, Stencil, StencilOperator

Tensor = torch.Tensor
GameFunction = Callable[[int, Tensor], Tensor]
TransitionFunction = Callable[[int, Tensor], "Tensor | Stencil"]

#: How many validated transition tensors a game remembers. Static tables (most games
#: return the same tensor, or a view of it, at every call) are then validated once.
VALIDATED_MEMORY = 8

#: How far from 1 a probability vector may sum, and how far below 0 an entry may be.
PROBABILITY_ATOL = {torch.float64: 1e-9, torch.float32: 1e-5}


def probability_atol(dtype: torch.dtype) -> float:
    return PROBABILITY_ATOL.get(dtype, 1e-3)


_INDEX_DTYPES = (torch.int64, torch.int32, torch.int16, torch.uint8)


def _stack(outs: list, batch: torch.Size, shape: tuple[int, ...], owner: str):
    """One batched output from per-population outputs (tensors, or stencils that share
    their next states)."""
    if isinstance(outs[0], Stencil):
        nxt = outs[0].next_states
        if not all(isinstance(o, Stencil) and torch.equal(o.next_states, nxt) for o in outs):
            raise InvalidGameError(f"{owner}: the stencils of one batch must share next_states")
        probs = torch.stack([o.probs for o in outs])
        return Stencil(nxt, probs.reshape(*batch, *probs.shape[1:]))
    for o in outs:
        if not isinstance(o, Tensor):
            raise InvalidGameError(f"{owner}: returned a mix of tensors and stencils")
        if tuple(o.shape) != shape:
            raise InvalidGameError(f"{owner} returned shape {tuple(o.shape)}, expected {shape}")
    return torch.stack(outs).reshape(*batch, *shape)


def _all_finite(x: Tensor) -> bool:
    """Whether every entry is finite. The sum screens in one reduction (a NaN or an infinity
    makes it non-finite); only a sum that overflowed needs the entrywise test."""
    return bool(torch.isfinite(x.sum())) or bool(torch.isfinite(x).all())


def _first_index(mask: Tensor) -> tuple[int, ...]:
    return tuple(int(i) for i in torch.nonzero(mask)[0]) if mask.ndim else ()


def _where(what: str, idx: tuple[int, ...]) -> str:
    return f"{what}{list(idx)}" if idx else what


def check_distribution(x: Tensor, *, owner: str, what: str, atol: float,
                       error: type[Exception]) -> None:
    """Raise ``error`` unless every vector along the last axis of ``x`` is a distribution."""
    # The valid path in two reductions and no tensor of x's size: a NaN makes the minimum
    # NaN (which fails ≥), −inf fails it, +inf fails the row sum. Values only: a tensor
    # that carries a graph (a Jacobian being taken) is read without it.
    x = x.detach()
    if x.numel() == 0 or (float(x.amin()) >= -atol
                          and float((x.sum(-1) - 1).abs().amax()) <= atol):
        return
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

    def __init__(self, mu0, reward: GameFunction, transition: TransitionFunction, *,
                 n_actions: int, horizon: int | None = None, discount: float = 1.0,
                 name: str = "game", batched: bool = False, device=None,
                 dtype: torch.dtype = DEFAULT_DTYPE, transition_depends_on_time: bool = True,
                 transition_depends_on_population: bool = True,
                 epoch_batched: bool = False) -> None:
        self._arguments = dict(mu0=mu0, reward=reward, transition=transition,
                               n_actions=n_actions, horizon=horizon, discount=discount,
                               name=name, batched=batched, device=device, dtype=dtype,
                               transition_depends_on_time=transition_depends_on_time,
                               transition_depends_on_population=transition_depends_on_population,
                               epoch_batched=epoch_batched)
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
        if epoch_batched and (not batched or horizon is None):
            raise InvalidGameError(f"game {name!r}: epoch_batched=True needs batched=True and a "
                                   f"finite horizon")
        self.epoch_batched = epoch_batched
        self._reward = reward
        self._transition = transition
        self.atol = probability_atol(dtype)
        self._validated: deque[tuple[tuple, tuple]] = deque(maxlen=VALIDATED_MEMORY)
        self.transition_depends_on_time = bool(transition_depends_on_time)
        self.transition_depends_on_population = bool(transition_depends_on_population)
        self._static_operators: dict[int, Operator] = {}
        check_distribution(mu0, owner=f"game {name!r}", what="mu0", atol=self.atol,
                           error=InvalidGameError)
        # Validate the callables once at construction, against the uniform policy's L.
        uniform_L = mu0[:, None].expand(-1, n_actions) / n_actions
        self.reward(0, uniform_L)
        self.transition_operator(0, uniform_L)
        self._check_declarations(uniform_L)
        if epoch_batched:
            self._check_epoch_batched(uniform_L)

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

    def replace(self, **changes) -> FiniteMFG:
        """The game built from this one's constructor arguments with ``changes`` applied."""
        return FiniteMFG(**{**self._arguments, **changes})

    def uniform_policy(self) -> Tensor:
        return torch.full(self.policy_shape, 1.0 / self.n_actions, dtype=self.dtype,
                          device=self.device)

    # -- validated evaluation -----------------------------------------------------------
    def reward(self, t: int, L: Tensor) -> Tensor:
        """``r_t(s, a, L)``, shape ``(..., S, A)`` for ``L`` of shape ``(..., S, A)``."""
        r = self._evaluate(self._reward, "reward", t, L, (self.n_states, self.n_actions))
        if not _all_finite(r):
            idx = _first_index(~torch.isfinite(r))
            raise InvalidGameError(f"game {self.name!r}: reward(t={t}){list(idx)} = "
                                   f"{r[idx].item()!r} is not finite")
        return r

    def rewards(self, L: Tensor) -> Tensor:
        """The reward of every epoch of a finite-horizon flow's ``L`` (``(..., horizon, S, A)``),
        stacked the same way; validated once for all epochs."""
        r = self._epoch_rewards(L, self.epoch_batched)
        if not _all_finite(r):
            idx = _first_index(~torch.isfinite(r))
            t, where = idx[-3], list(idx[:-3] + idx[-2:])
            raise InvalidGameError(f"game {self.name!r}: reward(t={t}){where} = "
                                   f"{r[idx].item()!r} is not finite")
        return r

    def transition(self, t: int, L: Tensor) -> Tensor:
        """``P_t(s' | s, a, L)``, dense, shape ``(..., S, A, S)`` (a stencil is densified;
        the kernels use `transition_operator` instead, which never does)."""
        P = self.transition_operator(t, L).dense()
        return P.expand(*L.shape[:-2], *P.shape[-3:])

    def transition_operator(self, t: int, L: Tensor) -> Operator:
        """P_t at ``L`` as an `Operator` (dense or stencil, validated).

        Without the population in it, one operator (per epoch, or for all epochs without
        time either) is built on first use and serves every later call and every policy of
        a batch: its batch shape is then empty.
        """
        if self.transition_depends_on_population:
            return self._operator(t, L)
        key = t if self.transition_depends_on_time else 0
        op = self._static_operators.get(key)
        if op is None:
            op = self._static_operators[key] = self._operator(key, L[(0,) * (L.ndim - 2)])
        return op

    def _operator(self, t: int, L: Tensor) -> Operator:
        out = self._evaluate(self._transition, "transition", t, L,
                             (self.n_states, self.n_actions, self.n_states))
        what = f"transition(t={t})"
        if isinstance(out, Stencil):
            self._validate_once((out.next_states, out.probs),
                                lambda: self._check_stencil(out, what))
            return StencilOperator(out, self.n_states)
        self._validate_once((out,), lambda: check_distribution(
            out, owner=f"game {self.name!r}", what=what, atol=self.atol, error=InvalidGameError))
        return DenseOperator(out)

    def _validate_once(self, tensors: tuple[Tensor, ...], validate: Callable[[], None]) -> None:
        # The same storage, layout and version counter means the same, unmodified values:
        # keeping a reference to each remembered tensor stops its memory being reused.
        key = tuple((x.data_ptr(), tuple(x.shape), x.stride(), x._version) for x in tensors)
        if not any(key == seen for seen, _ in self._validated):
            validate()
            self._validated.append((key, tensors))

    def _check_stencil(self, stencil: Stencil, what: str) -> None:
        owner = f"game {self.name!r}"
        nxt = stencil.next_states
        if (nxt < 0).any() or (nxt >= self.n_states).any():
            idx = _first_index((nxt < 0) | (nxt >= self.n_states))
            raise InvalidGameError(f"{owner}: {what}.next_states{list(idx)} = {nxt[idx].item()} "
                                   f"is not a state (0 to {self.n_states - 1})")
        check_distribution(stencil.probs, owner=owner, what=f"{what}.probs", atol=self.atol,
                           error=InvalidGameError)

    def _epoch_rewards(self, L: Tensor, at_once: bool) -> Tensor:
        sa = (self.n_states, self.n_actions)
        if at_once:
            epochs = torch.arange(self.horizon, device=self.device)
            return self._evaluate(self._reward, "reward", epochs, L, sa)
        return torch.stack([self._evaluate(self._reward, "reward", t, L[..., t, :, :], sa)
                            for t in range(self.horizon)], dim=-3)

    def _check_epoch_batched(self, uniform_L: Tensor) -> None:
        """The reward of all epochs in one call must be the rewards epoch by epoch."""
        L = uniform_L.expand(self.horizon, *uniform_L.shape)
        at_once, one_by_one = self._epoch_rewards(L, True), self._epoch_rewards(L, False)
        # Mostly the same operations on the same values: torch.equal, one cheap pass, settles
        # it; a different order of operations may still round differently.
        if not torch.equal(at_once, one_by_one) and not torch.allclose(
                at_once, one_by_one, rtol=1e-12, atol=1e-12, equal_nan=True):
            gap = float((at_once - one_by_one).abs().max())
            raise InvalidGameError(f"game {self.name!r}: declared epoch_batched=True, but "
                                   f"reward(arange(horizon), L) differs from the rewards epoch by "
                                   f"epoch (by up to {gap:.3g})")

    def _check_declarations(self, uniform_L: Tensor) -> None:
        """Catch a false independence declaration where it shows: at the first and last
        transition, and between the uniform population and a point mass on (0, 0)."""
        if not self.transition_depends_on_time and not self.stationary and self.horizon > 2:
            self._same_transition(0, uniform_L, self.horizon - 2, uniform_L, "time",
                                  f"t = 0 and t = {self.horizon - 2}")
        if not self.transition_depends_on_population:
            corner = torch.zeros_like(uniform_L)
            corner[0, 0] = 1.0
            self._same_transition(0, uniform_L, 0, corner, "population",
                                  "the uniform population and everyone at (state 0, action 0)")

    def _same_transition(self, t1: int, L1: Tensor, t2: int, L2: Tensor, on: str,
                         where: str) -> None:
        # Two transitions that differ give different expectations of a random vector
        # (with probability 1); two equal ones give the same, bit for bit.
        probe = torch.rand(self.n_states, generator=torch.Generator().manual_seed(0),
                           dtype=self.dtype).to(self.device)
        a, b = (self._operator(t, L).expect(probe) for t, L in ((t1, L1), (t2, L2)))
        if not torch.equal(a, b):
            gap = float((a - b).abs().max())
            raise InvalidGameError(f"game {self.name!r}: declared "
                                   f"transition_depends_on_{on}=False, but its transition "
                                   f"differs between {where} (by up to {gap:.3g})")

    def _evaluate(self, fn, what: str, t: int, L: Tensor, shape: tuple[int, ...]):
        batch = L.shape[:-2]
        if self.batched or not batch:
            out = self._call(fn, what, t, L)
        else:
            flat = L.reshape(-1, *L.shape[-2:])
            if not flat.shape[0]:
                return L.new_zeros(*batch, *shape)
            outs = [self._call(fn, what, t, x) for x in flat]
            out = _stack(outs, batch, shape, owner=f"game {self.name!r}: {what}(t={t})")
        if isinstance(out, Stencil):
            self._check_stencil_shape(out, batch, f"{what}(t={t})")
            out = Stencil(out.next_states.to(torch.int64), out.probs)
        elif tuple(out.shape[len(batch):]) != shape or tuple(out.shape[:len(batch)]) != tuple(batch):
            raise InvalidGameError(f"game {self.name!r}: {what}(t={t}) returned shape "
                                   f"{tuple(out.shape)}, expected {tuple(batch) + shape}")
        return out

    def _check_stencil_shape(self, stencil: Stencil, batch: torch.Size, what: str) -> None:
        owner = f"game {self.name!r}: {what}"
        nxt, probs = stencil.next_states, stencil.probs
        sa = (self.n_states, self.n_actions)
        if nxt.ndim != 3 or tuple(nxt.shape[:2]) != sa or nxt.dtype not in _INDEX_DTYPES:
            raise InvalidGameError(f"{owner}: Stencil.next_states must be an integer tensor "
                                   f"of shape (S, A, K) = {sa + ('K',)}, got {nxt.dtype} "
                                   f"{tuple(nxt.shape)}")
        if tuple(probs.shape) != (*batch, *nxt.shape):
            raise InvalidGameError(f"{owner}: Stencil.probs has shape {tuple(probs.shape)}, "
                                   f"expected {tuple(batch) + tuple(nxt.shape)}")

    def _call(self, fn, what: str, t: int, L: Tensor):
        try:
            out = fn(t, L)
        except Exception as exc:  # a user's callable: report it as a game error
            raise InvalidGameError(f"game {self.name!r}: {what}(t={t}, L) raised "
                                   f"{type(exc).__name__}: {exc}") from exc
        if isinstance(out, Stencil) and what == "transition":
            for part in (out.next_states, out.probs):
                self._check_device(part, what, t)
            return Stencil(out.next_states, out.probs.to(self.dtype))
        if not isinstance(out, Tensor):
            expected = "a torch.Tensor or a Stencil" if what == "transition" else "a torch.Tensor"
            raise InvalidGameError(f"game {self.name!r}: {what}(t={t}) returned "
                                   f"{type(out).__name__}, expected {expected}")
        self._check_device(out, what, t)
        return out.to(self.dtype)

    def _check_device(self, out, what: str, t: int) -> None:
        if not isinstance(out, Tensor):
            raise InvalidGameError(f"game {self.name!r}: {what}(t={t}) returned a Stencil "
                                   f"holding {type(out).__name__}, expected torch tensors")
        if out.device != self.device:
            raise InvalidGameError(f"game {self.name!r}: {what}(t={t}) returned a tensor on "
                                   f"{out.device}, but the game lives on {self.device}")

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
