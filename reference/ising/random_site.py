"""`RandomSiteMetropolis`: the textbook sampler, one random site at a time (slow; L ≤ 16)."""

from __future__ import annotations

import torch

from mfcheck.devices import resolve_device
from mfcheck.ising import IsingSamples, check_parameters, energy, magnetization, neighbours

from ._common import SimulatedSampler, check_batch, check_coupling, check_run_args
from .rules import flip_probabilities, metropolis


class RandomSiteMetropolis(SimulatedSampler):
    """Random-site single-spin Metropolis: N = L² updates per sweep, each at a uniformly
    random site (with replacement), flipping it with probability min(1, exp(−βΔE)),
    ΔE = 2 s_i (J Σ_nbr s_j + h).

    The slow reference: a Python loop over the N updates of a sweep, each a few torch ops
    on the whole batch (all chains and temperatures at once), so a sweep costs ~N × 50 µs
    whatever the batch; meant for L ≤ 16. Any L ≥ 2 (odd too), any torch device, random
    numbers from a ``torch.Generator`` on that device (float64 uniforms compared with
    float64 probabilities: no quantisation beyond 2^-53).
    """

    name = "random-site-metropolis"
    max_size = 8  # a Python loop over sites: the suite runs it on small lattices only

    def __repr__(self) -> str:
        return "RandomSiteMetropolis()"

    @staticmethod
    def _sweep(spins: torch.Tensor, table: torch.Tensor, nbr: torch.Tensor,
               generator: torch.Generator) -> None:
        """One sweep of ``spins`` ``(B, N)`` int8 in place; ``table`` ``(B, 10)`` float64
        flip probabilities indexed like `rules.flip_probabilities`."""
        B, N = spins.shape
        dev = spins.device
        sites = torch.randint(0, N, (N, B, 1), generator=generator, device=dev)
        u = torch.rand((N, B), generator=generator, device=dev, dtype=torch.float64)
        five = torch.tensor(5, dtype=torch.int64, device=dev)
        for n in range(N):
            x = sites[n]                                          # (B, 1)
            s = spins.gather(1, x)                                # (B, 1) int8
            nb = spins.gather(1, nbr[x[:, 0]]).sum(1, keepdim=True, dtype=torch.int64)
            code = ((nb + 4) >> 1) + torch.where(s > 0, five, 0)
            flip = u[n, :, None] < table.gather(1, code)
            spins.scatter_(1, x, torch.where(flip, -s, s))

    def simulate(self, L: int, temperatures, *, coupling: float = 1.0, field: float = 0.0,
                 sweeps: int, chains: int, seed: int, device="cpu",
                 start: str = "hot") -> tuple[IsingSamples, torch.Tensor]:
        """`sample`, and the final configurations ``(T, chains, L, L)`` int8."""
        temps = check_parameters(L, temperatures, coupling, field, checkerboard=False)
        check_run_args(sweeps, chains, seed, start)
        dev = resolve_device(device)
        coupling, field = float(coupling), float(field)
        T, N = temps.numel(), L * L
        B = T * chains
        g = torch.Generator(device=dev).manual_seed(int(seed))
        table = flip_probabilities(metropolis, 1.0 / temps, coupling, field)
        table = table.repeat_interleave(chains, 0).to(dev)
        nbr = neighbours(L).to(dev)
        if start == "cold":
            spins = torch.ones(B, N, dtype=torch.int8, device=dev)
        else:
            spins = (2 * torch.randint(0, 2, (B, N), generator=g, device=dev) - 1).to(torch.int8)
        e = torch.empty(sweeps, B, dtype=torch.float64, device=dev)
        m = torch.empty(sweeps, B, dtype=torch.float64, device=dev)
        for t in range(sweeps):
            self._sweep(spins, table, nbr, g)
            lattice = spins.view(B, L, L)
            e[t] = energy(lattice, coupling, field) / N
            m[t] = magnetization(lattice) / N
        shape = (T, chains, sweeps)
        samples = IsingSamples(energy=e.T.reshape(shape).contiguous(),
                               magnetization=m.T.reshape(shape).contiguous())
        return samples, spins.view(T, chains, L, L)

    def step(self, spins: torch.Tensor, beta, coupling: float, field: float,
             generator: torch.Generator) -> torch.Tensor:
        """One sweep (N random-site updates) of each configuration of ``spins``
        ``(..., L, L)`` int8 at inverse temperature ``beta`` (broadcastable to
        ``spins.shape[:-2]``); returns new spins. ``generator`` must be on spins' device."""
        L, beta = check_batch(spins, beta, checkerboard=False)
        coupling, field = check_coupling(coupling, field)
        dev = spins.device
        flat = spins.reshape(-1, L * L).clone()
        table = flip_probabilities(metropolis, beta.reshape(-1), coupling, field).to(dev)
        self._sweep(flat, table, neighbours(L).to(dev), generator)
        return flat.reshape(spins.shape)


__all__ = ["RandomSiteMetropolis"]
