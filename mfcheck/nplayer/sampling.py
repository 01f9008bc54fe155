"""Drawing from many small categorical laws at once, with counter-based random numbers.

**Random numbers.** Replica ``b`` owns a 64-bit key; the word at stream position ``c``
is SplitMix64's ``mix64(key_b + c·γ)`` (`mfcheck.counter_rng`, the counter-based
generator the Ising samplers use too). A word is a pure function of (key, position):
any agent's number in any round is computed on its own, in any order and on any device,
which is what lets a sequential round touch one agent (not N), a paired run repeat the
others' numbers exactly, and replica ``b`` of a batch not depend on the batch size.
A word gives two 32-bit uniforms: its low and its high half.

**Categorical draws.** A *table* holds ``R`` laws (rows) over ``K`` outcomes; a draw
takes a row index and one 32-bit uniform ``u`` and returns an outcome in ``range(K)``.
Two methods, each exact up to the 32-bit resolution of ``u``:

- `AliasTable` (Walker 1977; Vose 1991): column j = ⌊u·K / 2³²⌋, then the rest of u·K
  (its low 32 bits) against the column's threshold picks j or its alias: O(1) per draw,
  one gather; built in K − 1 vectorised steps, so worth it when a table serves many draws.
  Each outcome's probability is realised within 2K·2⁻³² (< 5e-9 for K = 10).
- `inverse_cdf`: the outcome is the number of cumulative thresholds ≤ u on the draw's
  row: O(K) per draw, no set-up; for a few draws per table. Within 2⁻³² per outcome.

Outcomes of probability 0 are never drawn by either (their thresholds are 0, no alias
points at them, and cumulative sums are normalised by the row total so that the last
positive outcome ends at exactly 2³²).
"""

from __future__ import annotations

import math

import torch

from ..counter_rng import GAMMA, draw_keys, mix64

Tensor = torch.Tensor

#: Uniforms are 32-bit integers; thresholds are probabilities times this.
SCALE = 1 << 32
LOW32 = SCALE - 1


def replica_keys(seed: int, batch: int, device: torch.device) -> Tensor:
    """One 64-bit key per replica, ``(batch,)`` int64: ``mix64(root + b·γ)`` with ``root``
    drawn from ``torch.Generator(device).manual_seed(seed)``, so that replica ``b``'s
    numbers depend on (seed, b) only, not on ``batch``."""
    root = draw_keys(torch.Generator(device=device).manual_seed(seed), 1)
    return mix64(root + torch.arange(batch, device=device) * GAMMA)


def words(keys: Tensor, position: Tensor) -> Tensor:
    """The 64-bit words (int64 bit patterns) of the replicas' streams: ``keys`` and
    ``position`` broadcast (e.g. keys ``(B, 1)`` and positions ``(B, N)`` or ``(N,)``)."""
    position = torch.as_tensor(position, dtype=torch.int64, device=keys.device)
    return mix64(keys + position * GAMMA)


def low_half(word: Tensor) -> Tensor:
    """The low 32 bits of a word, as an int64 in [0, 2³²)."""
    return word & LOW32


def high_half(word: Tensor) -> Tensor:
    """The high 32 bits of a word, as an int64 in [0, 2³²) (a logical shift)."""
    return (word >> 32) & LOW32


def unit_interval(word: Tensor) -> Tensor:
    """A float64 uniform in [0, 1) from the top 53 bits of a word."""
    return ((word >> 11) & ((1 << 53) - 1)).to(torch.float64) * 2.0 ** -53


def uniform_index(word: Tensor, n: int) -> Tensor:
    """A uniform integer in ``range(n)`` from a word (53-bit resolution: each value's
    probability is within n·2⁻⁵² of 1/n)."""
    return (unit_interval(word) * n).long().clamp_(max=n - 1)


def bernoulli_positions(keys: Tensor, start: int, fraction: float, n: int,
                        native: bool = False) -> Tensor:
    """Flat indices (into ``len(keys)``·n, increasing) of the positions i < n that are
    selected, each independently with probability ``fraction``, in O(k) words per replica
    (k ≈ fn) instead of one per position: the gaps between successive selected positions
    are iid Geometric(f) on {1, 2, …}, gap_j = 1 + ⌊ln U_j / ln(1 − f)⌋ with U_j ∈ (0, 1]
    from word ``start + j`` of the replica's stream (j < n: n gaps always pass position
    n − 1, so the words stay in ``[start, start + n)``). Words are drawn in chunks of
    fn + 6σ + 16; a replica that has not passed n − 1 after a chunk takes the next one.
    ``native``: the passes around the logarithm by the C kernel (`_native`: CPU keys, the
    library loaded), bit for bit; the logarithm is torch's either way."""
    B, device = len(keys), keys.device
    if fraction >= 1.0:
        return torch.arange(B * n, device=device)
    if native:
        from . import _native
    mean = n * fraction
    chunk = min(n, math.ceil(mean + 6 * math.sqrt(mean * (1 - fraction)) + 16))
    log_q = math.log1p(-fraction)
    last = torch.full((B, 1), -1, dtype=torch.int64, device=device)
    found, used = [], 0
    while used < n:
        count = min(n - used, chunk)
        if native:
            positions = _native.gap_positions(
                _native.gap_uniforms(keys, start, used, count).log_(), log_q, n, last[:, 0])
        else:
            j = torch.arange(used, used + count, device=device)
            u = 1.0 - unit_interval(words(keys[:, None], start + j))
            gaps = 1 + torch.floor(torch.log(u) / log_q).clamp_(max=n).to(torch.int64)
            positions = last + gaps.cumsum(1)
            last = positions[:, -1:]
        found.append(positions)
        used += count
        if bool((last >= n - 1).all()):
            break
    positions = torch.cat(found, 1)
    if native:
        return _native.compact(positions, n)
    flat = positions + n * torch.arange(B, device=device)[:, None]
    return flat[positions < n]


def _normalised(probs: Tensor) -> Tensor:
    return probs / probs.sum(-1, keepdim=True)


def inverse_cdf(probs: Tensor, u: Tensor) -> Tensor:
    """Outcomes of draws with 32-bit uniforms ``u`` ``(...)`` from the laws ``probs``
    ``(..., K)`` (one law per draw): the number of integer cumulative thresholds
    round(2³² · P(outcome ≤ j)), j < K − 1, that are ≤ u."""
    cdf = _normalised(probs.clamp(min=0)).cumsum(-1)[..., :-1]
    thresholds = torch.round(cdf * SCALE).to(torch.int64)
    return (u.unsqueeze(-1) >= thresholds).sum(-1)


class AliasTable:
    """Walker's alias tables of ``R`` laws over ``K`` outcomes (``probs`` ``(R, K)``).

    ``packed[r, j] = threshold·2¹⁶ + alias``: a draw in column j keeps j when the rest of
    u·K is below the threshold (an integer in [0, 2³²]) and takes the alias otherwise.
    """

    def __init__(self, probs: Tensor) -> None:
        if probs.ndim != 2 or probs.shape[-1] >= 1 << 16:
            raise ValueError(f"an alias table needs (rows, K < 65536) laws, got "
                             f"{tuple(probs.shape)}")
        self.n_outcomes = K = probs.shape[-1]
        q = _normalised(probs.clamp(min=0)) * K
        R = q.shape[0]
        rows = torch.arange(R, device=q.device)
        done = torch.zeros_like(q, dtype=torch.bool)
        threshold = torch.ones_like(q)
        alias = torch.arange(K, device=q.device).expand(R, K).clone()
        inf = torch.tensor(float("inf"), dtype=q.dtype, device=q.device)
        # Vose's pairing, one column per row per step: the smallest remaining column
        # (q ≤ 1, as the remaining q average 1) is topped up from the largest (q ≥ 1).
        # Columns of probability 0 are the smallest, so they are settled first and never
        # become an alias; the last column keeps threshold 1.
        for _ in range(K - 1):
            small = torch.where(done, inf, q).argmin(-1)
            done[rows, small] = True
            large = torch.where(done, -inf, q).argmax(-1)
            q_small = q[rows, small]
            threshold[rows, small] = q_small.clamp(0.0, 1.0)
            alias[rows, small] = large
            q[rows, large] -= 1.0 - q_small
        self.packed = (torch.round(threshold * SCALE).to(torch.int64) << 16) | alias

    def draw(self, rows: Tensor, u: Tensor) -> Tensor:
        """Outcomes of draws with 32-bit uniforms ``u`` from rows ``rows`` (one shape)."""
        K = self.n_outcomes
        spread = u * K
        column = spread >> 32
        entry = self.packed.view(-1).take(rows * K + column)
        keep = (spread & LOW32) < (entry >> 16)
        return torch.where(keep, column, entry & 0xFFFF)


class Sampler:
    """Draws from the laws ``probs`` ``(R, K)`` by the cheaper method: an `AliasTable` when
    the table serves more draws than it has entries (``draws`` and ``entries`` per replica,
    so that the choice, and every draw, does not depend on the batch size), else
    `inverse_cdf` on the rows drawn from."""

    def __init__(self, probs: Tensor, draws: float, entries: int) -> None:
        self.probs = probs
        self.table = AliasTable(probs) if draws > entries else None

    def draw(self, rows: Tensor, u: Tensor) -> Tensor:
        if self.table is not None:
            return self.table.draw(rows, u)
        return inverse_cdf(self.probs[rows], u)


def draw_codes(keys: Tensor, start: int, high: bool, values: Tensor, sampler: Sampler,
               replica_rows: int, row_offset: int, out_mult: int, n_codes: int
               ) -> tuple[Tensor, Tensor]:
    """One draw for every agent of every replica, and their per-replica counts.

    Agent i of replica b, with value v = ``values[b, i]``, takes the uniform in the
    ``high`` (else low) half of the word at stream position ``start + i``, draws an
    outcome o from row ``b·replica_rows + row_offset + v`` of the sampler's laws and gets
    the code ``v·out_mult + o``. Returns the codes ``(B, N)`` and the counts of each code
    in each replica ``(B, n_codes)``. (`mfcheck.nplayer._native.draw_codes` computes the
    same, bit for bit, in one pass.)
    """
    B, N = values.shape
    w = words(keys[:, None], start + torch.arange(N, device=values.device))
    u = high_half(w) if high else low_half(w)
    replica = torch.arange(B, device=values.device)[:, None]
    outcome = sampler.draw(replica * replica_rows + row_offset + values, u)
    codes = values * out_mult + outcome if out_mult else outcome
    flat = (replica * n_codes + codes).reshape(-1)
    return codes, torch.bincount(flat, minlength=B * n_codes).reshape(B, n_codes)


def draw_at(keys: Tensor, flat: Tensor, n_agents: int, start: int, high: bool, values: Tensor,
            sampler: Sampler, replica_rows: int, out_mult: int, n_codes: int
            ) -> tuple[Tensor, Tensor, Tensor]:
    """One draw for each of the k agents at the increasing flat indices ``flat`` (into
    batch·n_agents, e.g. an asynchronous round's acting set), and their per-replica counts.

    Agent i of replica b (f = b·n_agents + i), with value v = ``values[q]`` (``(k,)``), takes
    the uniform in the ``high`` (else low) half of the word at stream position ``start + i``,
    draws from row ``b·replica_rows + v`` of the sampler's laws and gets the code
    ``v·out_mult + o``: what `draw_codes` gives the same agent. Returns the codes ``(k,)``,
    the replicas ``(k,)`` and the counts of each code in each replica ``(B, n_codes)``.
    (`mfcheck.nplayer._native.draw_at` computes the same, bit for bit, in one pass.)
    """
    B = len(keys)
    replica = flat // n_agents
    w = words(keys[replica], start + flat - replica * n_agents)
    u = high_half(w) if high else low_half(w)
    outcome = sampler.draw(replica * replica_rows + values, u)
    codes = values * out_mult + outcome if out_mult else outcome
    counts = torch.bincount(replica * n_codes + codes, minlength=B * n_codes)
    return codes, replica, counts.reshape(B, n_codes)
