"""Transition operators: the three products the kernels take with P_t, whatever its form.

A game's ``transition(t, L)`` callable returns one of two forms:

- a dense tensor of shape ``(..., S, A, S)``: ``P[s, a, s']``, the default for small games;
- a `Stencil`: for each (s, a) the ``K`` states reachable at t + 1 (``next_states``, an
  integer tensor ``(S, A, K)`` shared by every policy of a batch) and their probabilities
  (``probs``, ``(..., S, A, K)``). Memory ``S·A·K`` instead of ``S·A·S``: a 512×512 grid
  with five actions and a five-cell noise stencil is 6.6·10⁶ values per epoch, where the
  dense form would be 3.4·10¹¹. A state may appear several times in one row of
  ``next_states``; its probabilities add.

The kernels see either through one interface (`Operator`):

- ``expect(v)``: (P v)(s, a) = Σ_{s'} P(s' | s, a) v(s'), the backward sweeps;
- ``push(L)``: (L P)(s') = Σ_{s, a} L(s, a) P(s' | s, a), the forward flow;
- ``chain(policy)``: K(s, s') = Σ_a π(a | s) P(s' | s, a), dense ``(..., S, S)``, for the
  exact solves of stationary games.

An unbatched operator (a transition that does not depend on the population) serves every
policy of a batch: ``expect`` and ``push`` are then one matrix product (dense) or one
gather / scatter (stencil) over the whole batch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import torch

from .errors import MFCheckError

Tensor = torch.Tensor

#: The most values a dense ``(..., S, A, S)`` or ``(..., S, S)`` tensor built from a stencil
#: may hold (2 GiB of float64): past it, densifying raises instead of exhausting memory.
DENSE_LIMIT = 2 ** 28


@dataclass(frozen=True)
class Stencil:
    """A sparse transition: ``P(s' | s, a) = Σ_k probs[..., s, a, k]·[next_states[s, a, k] = s']``."""

    next_states: Tensor
    probs: Tensor

    @classmethod
    def from_dense(cls, P: Tensor) -> Stencil:
        """The stencil of a dense ``(..., S, A, S)`` transition: each (s, a) keeps the states
        that any member of the batch reaches with positive probability, K = the most of them
        in one row, padded with zero-probability repeats of the row's first state."""
        reached = (P != 0).reshape(-1, *P.shape[-3:]).any(0)
        K = max(int(reached.sum(-1).max()), 1)
        # A stable sort puts each row's reached states first, in increasing order.
        order = torch.sort((~reached).to(torch.uint8), dim=-1, stable=True).indices[..., :K]
        kept = reached.gather(-1, order)
        next_states = torch.where(kept, order, order[..., :1])
        probs = torch.where(kept, P.gather(-1, next_states.expand(*P.shape[:-1], K)), 0.0)
        return cls(next_states, probs)

    def dense(self, n_states: int) -> Tensor:
        """The dense ``(..., S, A, S)`` form (raises past `DENSE_LIMIT` values)."""
        batch = self.probs.shape[:-3]
        S, A, K = self.next_states.shape
        require_dense(batch.numel() * S * A * n_states, f"the dense form of a {S}×{A}×{K} stencil")
        out = self.probs.new_zeros(*batch, S, A, n_states)
        return out.scatter_add_(-1, self.next_states.expand(*batch, S, A, K), self.probs)


def require_dense(values: int, what: str) -> None:
    """Raise a clear error when a dense tensor of ``values`` entries is too large to build."""
    if values > DENSE_LIMIT:
        raise MFCheckError(f"{what} would hold {values:.3g} values ({values * 8 / 2**30:.3g} GiB "
                           f"in float64), more than mfcheck builds ({DENSE_LIMIT:.3g}): this "
                           f"computation needs a dense transition, so it cannot run on a game "
                           f"this large")


class Operator(ABC):
    """P_t at one epoch and population, in either form (see the module docstring)."""

    n_states: int
    #: The operator's own batch dimensions: empty when it serves every policy of a batch.
    batch_shape: torch.Size

    @abstractmethod
    def expect(self, v: Tensor) -> Tensor:
        """(P v)(s, a), shape ``(..., S, A)`` for ``v`` of shape ``(..., S)``."""

    @abstractmethod
    def push(self, L: Tensor) -> Tensor:
        """(L P)(s'), shape ``(..., S)`` for ``L`` of shape ``(..., S, A)``."""

    @abstractmethod
    def chain(self, policy: Tensor) -> Tensor:
        """Σ_a π(a | s) P(s' | s, a), dense ``(..., S, S)``."""

    @abstractmethod
    def dense(self) -> Tensor:
        """P itself, dense ``(*batch_shape, S, A, S)``."""


class DenseOperator(Operator):
    def __init__(self, P: Tensor) -> None:
        self.P = P
        S, A = P.shape[-3:-1]
        self.n_states, self.n_actions = S, A
        self.batch_shape = P.shape[:-3]
        # (..., S·A, S): both products are then single (batched) matrix products, which
        # cost a fraction of einsum's per-call planning on small games.
        self._flat = P.reshape(*self.batch_shape, S * A, S)

    def expect(self, v: Tensor) -> Tensor:
        if not self.batch_shape:  # one GEMM for every policy of the batch (GEMV for one)
            out = self._flat @ v if v.ndim == 1 else v @ self._flat.transpose(-1, -2)
        else:
            out = (self._flat @ v.unsqueeze(-1)).squeeze(-1)
        return out.reshape(*out.shape[:-1], self.n_states, self.n_actions)

    def push(self, L: Tensor) -> Tensor:
        flat = L.reshape(*L.shape[:-2], -1)
        if not self.batch_shape:
            return flat @ self._flat
        return (flat.unsqueeze(-2) @ self._flat).squeeze(-2)

    def chain(self, policy: Tensor) -> Tensor:
        return torch.einsum("...sa,...sap->...sp", policy, self.P)

    def dense(self) -> Tensor:
        return self.P


class StencilOperator(Operator):
    def __init__(self, stencil: Stencil, n_states: int) -> None:
        self.next_states = stencil.next_states
        self.probs = stencil.probs
        self.n_states = n_states
        self.batch_shape = stencil.probs.shape[:-3]
        self._flat_next = stencil.next_states.reshape(-1)

    def expect(self, v: Tensor) -> Tensor:
        # v[..., next_states]: one gather of S·A·K values per policy of the batch.
        reached = v.index_select(-1, self._flat_next).reshape(*v.shape[:-1], *self.next_states.shape)
        return (self.probs * reached).sum(-1)

    def push(self, L: Tensor) -> Tensor:
        mass = (L.unsqueeze(-1) * self.probs).flatten(-3)
        batch = mass.shape[:-1]
        out = mass.new_zeros(*batch, self.n_states)
        return out.scatter_add_(-1, self._flat_next.expand(*batch, -1), mass)

    def chain(self, policy: Tensor) -> Tensor:
        S, A, K = self.next_states.shape
        batch = torch.broadcast_shapes(policy.shape[:-2], self.probs.shape[:-3])
        require_dense(batch.numel() * S * S, f"the {S}×{S} state chain of a stencil transition")
        mass = (policy.unsqueeze(-1) * self.probs).expand(*batch, S, A, K).reshape(*batch, S, A * K)
        out = mass.new_zeros(*batch, S, S)
        return out.scatter_add_(-1, self.next_states.reshape(S, A * K).expand(*batch, S, -1), mass)

    def dense(self) -> Tensor:
        return Stencil(self.next_states, self.probs).dense(self.n_states)

