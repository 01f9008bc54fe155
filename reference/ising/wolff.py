"""`Wolff`: single-cluster updates (Wolff 1989), numpy on the CPU, vectorised over chains."""

from __future__ import annotations

import numpy as np
import torch

from mfcheck.devices import resolve_device
from mfcheck.errors import InvalidGameError
from mfcheck.ising import IsingSamples, check_parameters, neighbours

from ._common import (SimulatedSampler, check_batch, check_coupling, check_run_args,
                      samples_from_sums)


def _require_zero_field(field) -> None:
    if float(field) != 0.0:
        raise InvalidGameError(f"wolff: cluster updates need zero field (h = 0), got h = "
                               f"{field!r}; use a single-spin sampler for h != 0")


class Wolff(SimulatedSampler):
    """Wolff single-cluster updates of the zero-field Ising model (h must be 0).

    One update: pick a uniformly random seed site; grow its cluster by adding each
    neighbour y of a cluster site x with J·s_x·s_y > 0 through its bond with probability
    1 − exp(−2β|J|) (each bond tried once; on the 2×2 torus the two bonds between a pair are
    tried separately); flip the cluster. This leaves the Boltzmann distribution invariant
    (and is ergodic for J ≠ 0; at J = 0 it flips one random spin).

    **One sweep = ``clusters_per_sweep`` cluster flips (default 1)**, a fixed number: the
    observables after each sweep are those of the chain after every ``clusters_per_sweep``-th
    cluster flip. (A rule such as "flip clusters until N spins have flipped" would make the
    observation time depend on the state and bias the recorded averages.) A Wolff sweep
    flips ⟨|C|⟩ spins on average, the mean cluster size: Σ_j ⟨s_0 s_j⟩ above T_c (from 1 at
    T = ∞ to O(L^{7/4}) at T_c), about N·m² below. So a sweep does less work than a
    single-spin sweep above T_c and about as much below; compare samplers by
    autocorrelation times per unit of work, not per sweep.

    CPU only: the clusters grow breadth-first in numpy, one level for all chains at a time
    (each level a few array operations on the current frontier), so a sweep costs O(chains
    × cluster size) plus O(chains × N) for the observables; meant for L ≤ 64. ``device``
    only says where the returned tensors go. Random numbers: numpy's PCG64, seeded with
    ``seed`` (``sample``) or with 64 bits drawn from the given torch generator (``step``).
    """

    name = "wolff"
    supports_field = False  # single-cluster Wolff moves are for h = 0 (protocol attribute)
    max_size = 32  # clusters grow in numpy: the 64x64 checks take minutes, so they skip

    def __init__(self, clusters_per_sweep: int = 1):
        if isinstance(clusters_per_sweep, bool) or not isinstance(clusters_per_sweep, int) \
                or clusters_per_sweep < 1:
            raise ValueError(f"clusters_per_sweep must be an int >= 1, got {clusters_per_sweep!r}")
        self.clusters_per_sweep = clusters_per_sweep

    def __repr__(self) -> str:
        return f"Wolff(clusters_per_sweep={self.clusters_per_sweep})"

    # -- the update ---------------------------------------------------------------------

    def _flip_clusters(self, spins: np.ndarray, p_add: np.ndarray, coupling: float,
                       nbr: np.ndarray, rng: np.random.Generator) -> None:
        """``clusters_per_sweep`` cluster flips of every row of ``spins`` ``(B, N)`` int8,
        in place; ``p_add`` ``(B,)`` bond probabilities."""
        B, N = spins.shape
        rows = np.arange(B)
        sign = 1 if coupling > 0 else -1
        assert spins.flags.c_contiguous
        flat_spins = spins.reshape(-1)  # a view: the flips below land in spins
        last = np.empty(B * N, dtype=np.int64)  # scratch: dedupes the candidates of a level
        for _ in range(self.clusters_per_sweep):
            in_cluster = np.zeros(B * N, dtype=bool)
            front = rows * N + rng.integers(0, N, size=B)  # flat (chain, site) indices
            in_cluster[front] = True
            while front.size:
                chain_base = np.repeat(front - front % N, 4)
                x = np.repeat(front, 4)
                y = chain_base + nbr[front % N].reshape(-1)
                ok = ~in_cluster[y]
                if coupling != 0.0:
                    ok &= sign * flat_spins[x] * flat_spins[y] > 0
                    ok &= rng.random(y.size) < p_add[chain_base // N]
                else:
                    ok[:] = False
                y = y[ok]
                last[y] = np.arange(y.size)
                front = y[last[y] == np.arange(y.size)]  # each new site once
                in_cluster[front] = True
            flat_spins[in_cluster] *= -1

    @staticmethod
    def _sums(spins: np.ndarray, nbr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = spins.astype(np.int64)
        # up and left neighbours: each bond once, as in `mfcheck.ising.energy`
        return s.sum(1), (s * s[:, nbr[:, 0]]).sum(1) + (s * s[:, nbr[:, 2]]).sum(1)

    # -- the protocol -------------------------------------------------------------------

    def simulate(self, L: int, temperatures, *, coupling: float = 1.0, field: float = 0.0,
                 sweeps: int, chains: int, seed: int, device="cpu",
                 start: str = "hot") -> tuple[IsingSamples, torch.Tensor]:
        """`sample`, and the final configurations ``(T, chains, L, L)`` int8."""
        temps = check_parameters(L, temperatures, coupling, field, checkerboard=False)
        _require_zero_field(field)
        check_run_args(sweeps, chains, seed, start)
        dev = resolve_device(device)
        coupling = float(coupling)
        T, N = temps.numel(), L * L
        B = T * chains
        rng = np.random.default_rng(int(seed))
        beta = np.repeat((1.0 / temps).numpy(), chains)
        p_add = -np.expm1(-2.0 * beta * abs(coupling))
        nbr = neighbours(L).numpy()
        if start == "cold":
            spins = np.ones((B, N), dtype=np.int8)
        else:
            spins = (2 * rng.integers(0, 2, size=(B, N)) - 1).astype(np.int8)
        m = np.empty((sweeps, B), dtype=np.int64)
        bonds = np.empty((sweeps, B), dtype=np.int64)
        for t in range(sweeps):
            self._flip_clusters(spins, p_add, coupling, nbr, rng)
            m[t], bonds[t] = self._sums(spins, nbr)
        samples = samples_from_sums(torch.from_numpy(m), torch.from_numpy(bonds), T, chains,
                                    L, coupling, 0.0)
        final = torch.from_numpy(spins).reshape(T, chains, L, L)
        return (IsingSamples(samples.energy.to(dev), samples.magnetization.to(dev)),
                final.to(dev))

    def step(self, spins: torch.Tensor, beta, coupling: float, field: float,
             generator: torch.Generator) -> torch.Tensor:
        """One sweep (``clusters_per_sweep`` cluster flips) of each configuration of
        ``spins`` ``(..., L, L)`` int8 at inverse temperature ``beta`` (broadcastable to
        ``spins.shape[:-2]``); returns new spins on the same device."""
        L, beta = check_batch(spins, beta, checkerboard=False)
        coupling, field = check_coupling(coupling, field)
        _require_zero_field(field)
        seed = int(torch.randint(0, 2**63 - 1, (1,), generator=generator,
                                 device=generator.device).item())
        rng = np.random.default_rng(seed)
        s = spins.detach().cpu().reshape(-1, L * L).numpy().copy()
        p_add = -np.expm1(-2.0 * beta.reshape(-1).numpy() * abs(coupling))
        self._flip_clusters(s, p_add, coupling, neighbours(L).numpy(), rng)
        return torch.from_numpy(s).reshape(spins.shape).to(spins.device)
