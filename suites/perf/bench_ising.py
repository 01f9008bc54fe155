"""asv benchmarks of the reference checkerboard Ising samplers: one sweep of one L×L lattice.

asv imports this file as ``perf.bench_ising`` (``benchmark_dir`` is ``suites/perf``);
installed, it is ``mfcheck.suites.perf.bench_ising``, and ``mfcheck bench`` runs the same
classes in-process. Absolute imports of ``mfcheck`` only.

Samplers: ``metropolis`` and ``heat-bath`` (`mfcheck.reference.ising`, ``backend="auto"``:
the fused C kernel on CPU when it builds, torch elsewhere), ``metropolis-torch`` (the same
sweep in eager torch ops, the backend every device has), and ``naive-roll-where``: the
textbook torch sweep (float32 spins, neighbour sums by ``roll``, one ``torch.rand`` per
site, ``where`` under a checkerboard mask), the baseline that docs/references.md#ising-throughput quotes at about
0.07 flips/ns on the 2-core CPU.

Sizes: L = 256, 1024, 4096 on every device, and 16384 on CUDA only (skipped on CPU: asv's
``NotImplementedError`` in setup). One chain at T = 2.269 (T_c), hot start. Every
``time_`` method synchronises the GPU before it returns.

- ``time_sweep``: one sweep, no observables (what ``step`` does);
- ``time_sweep_recorded``: one sweep and the per-chain Σs, Σ s_i s_j (what ``sample``
  does per sweep);
- ``track_flips_per_ns``: L² attempted flips per sweep / seconds per sweep / 1e9, the
  median of 5 timed batches of sweeps (each ≥ 0.2 s) after a warm-up;
- ``peakmem_sweep``: peak resident memory over one sweep.
"""

from __future__ import annotations

import statistics
import time

import torch

from mfcheck.devices import synchronize
from mfcheck.reference.ising import CheckerboardHeatBath, CheckerboardMetropolis

DEVICES = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
SIZES = [256, 1024, 4096, 16384]
CPU_MAX_L = 4096
T_C = 2.269185314
SAMPLERS = ["metropolis", "heat-bath", "metropolis-torch", "naive-roll-where"]


class NaiveRollWhere:
    """The baseline: a full-lattice checkerboard Metropolis sweep in plain torch ops."""

    def __init__(self, L: int, temperature: float, device, seed: int = 0):
        self.generator = torch.Generator(device=device).manual_seed(seed)
        self.spins = (2 * torch.randint(0, 2, (L, L), generator=self.generator, device=device)
                      - 1).to(torch.float32)
        i, j = torch.meshgrid(torch.arange(L, device=device), torch.arange(L, device=device),
                              indexing="ij")
        black = (i + j) % 2 == 0
        self.masks = (black, ~black)
        self.beta = 1.0 / temperature

    def run(self, sweeps: int, record: bool = False):
        s = self.spins
        for _ in range(sweeps):
            for mask in self.masks:
                nb = s.roll(1, 0) + s.roll(-1, 0) + s.roll(1, 1) + s.roll(-1, 1)
                accept = (torch.rand(s.shape, generator=self.generator, device=s.device)
                          < torch.exp(-2.0 * self.beta * s * nb))
                s = torch.where(mask & accept, -s, s)
        self.spins = s
        if record:
            return s.sum(), (s * s.roll(1, 0)).sum() + (s * s.roll(1, 1)).sum()
        return None


def make_chains(sampler: str, L: int, device: str):
    if sampler == "naive-roll-where":
        return NaiveRollWhere(L, T_C, device)
    cls, backend = {"metropolis": (CheckerboardMetropolis, "auto"),
                    "heat-bath": (CheckerboardHeatBath, "auto"),
                    "metropolis-torch": (CheckerboardMetropolis, "torch")}[sampler]
    return cls(backend=backend).chains(L, [T_C], chains=1, seed=0, device=device)


def flips_per_ns(chains, L: int, device: str, record: bool = False, batches: int = 5,
                 min_time: float = 0.2) -> float:
    """Median over ``batches`` timed batches of sweeps (each ≥ ``min_time`` s)."""
    chains.run(1, record=record)  # warm-up
    synchronize(device)
    t0 = time.perf_counter()
    chains.run(1, record=record)
    synchronize(device)
    n = max(1, int(min_time / max(time.perf_counter() - t0, 1e-9)))
    rates = []
    for _ in range(batches):
        t0 = time.perf_counter()
        chains.run(n, record=record)
        synchronize(device)
        rates.append(L * L * n / (time.perf_counter() - t0) / 1e9)
    return statistics.median(rates)


class CheckerboardSweep:
    """One sweep of one L×L lattice (see the module docstring)."""

    params = [SAMPLERS, SIZES, DEVICES]
    param_names = ["sampler", "L", "device"]
    timeout = 600

    def setup(self, sampler, L, device):
        if torch.device(device).type == "cpu" and L > CPU_MAX_L:
            raise NotImplementedError(f"L = {L} runs on CUDA only")
        if sampler in ("metropolis-torch", "naive-roll-where") and L > CPU_MAX_L \
                and torch.device(device).type == "cpu":
            raise NotImplementedError("too slow")
        self.chains = make_chains(sampler, L, device)
        self.chains.run(1, record=False)
        synchronize(device)

    def time_sweep(self, sampler, L, device):
        self.chains.run(1, record=False)
        synchronize(device)

    def time_sweep_recorded(self, sampler, L, device):
        self.chains.run(1, record=True)
        synchronize(device)

    def peakmem_sweep(self, sampler, L, device):
        self.chains.run(1, record=False)

    def track_flips_per_ns(self, sampler, L, device):
        return flips_per_ns(self.chains, L, device)

    track_flips_per_ns.unit = "flips/ns"

    def track_flips_per_ns_recorded(self, sampler, L, device):
        return flips_per_ns(self.chains, L, device, record=True)

    track_flips_per_ns_recorded.unit = "flips/ns"
