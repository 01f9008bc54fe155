"""The checkerboard sweep, shared by `CheckerboardMetropolis` and `CheckerboardHeatBath`:
the acceptance rule (flip probability as a function of βΔE) is their only difference.

Layout. A batch of B lattices ``(B, L, L)`` (L even) is stored as two compact sublattices
of shape ``(B, L, L/2)``: black sites (i + j even) ``black[b, i, k] = s[b, i, 2k + i%2]``
and white sites ``white[b, i, k] = s[b, i, 2k + 1 − i%2]``. The four neighbours of a
site at (i, k) of one colour are the other colour's (i−1, k), (i+1, k), (i, k) and one
of (i, k∓1): k−1 on the black sublattice's even rows and the white sublattice's odd rows,
k+1 otherwise. One sweep updates every black site, then every white site, each site
once (N attempted single-spin updates).

Update. A site with spin s and neighbour sum n ∈ {−4, −2, 0, 2, 4} is one of 10 cases,
``code = (n + 4)/2 + 5·[s = +1]``; each chain's ``(10,)`` table of integer thresholds
``round(p·2^31)`` (p = the rule's flip probability, ΔE = 2s(J n + h)) is computed once
per call. The site flips iff ⌊u/2⌋ < threshold for a uniform 32-bit integer u: P(flip) is
within 2^-32 of p (absolute; rounding is the only quantisation; p = 0, 1 exact).

Random numbers. The site (b, i, k) of a half-sweep has the counter c = r·(L/2) + k
(r = b·L + i, the flat row); its u is the low (c even) or high (c odd) 32-bit half of
SplitMix64's output mix64(key + (c >> 1)·γ), with one fresh uniform 64-bit key per
half-sweep (two per sweep) drawn from a ``torch.Generator``. SplitMix64 (Java's
SplittableRandom) passes BigCrush; distinct keys start at independent uniform offsets of
its 2^64 period, so two streams overlap with probability ~ (keys)²·(sites)/2^65. A hot
start takes spin i = +1 where the top bit of mix64(key + i·γ) is set (one more key). The
generator that draws the keys is a CPU one seeded with ``seed`` (``step`` uses the one it
is given), and everything else is integer arithmetic, so a run gives the same spins and
observables on every device and with either backend.

Backends. ``torch`` (any device): `torch_run`, eager torch ops, in chunks of rows
(`CHUNK_SITES`); on this project's 2-core CPU 0.04–0.08 flips/ns. ``native`` (CPU): the
C kernel of `_native`, bit-identical; on the same CPU (quiet) one chain reaches 1.7, 4.4–4.9
and 7.6 flips/ns at L = 256, 1024, 4096 (1.6, 3.1, 3.8 on one core). ``auto`` uses native
on CPU when it builds, else torch.
"""

from __future__ import annotations

import torch

from mfcheck.counter_rng import draw_keys, uniform32
from mfcheck.devices import resolve_device
from mfcheck.errors import InvalidGameError
from mfcheck.ising import IsingSamples, check_parameters

from . import _native
from ._common import (SimulatedSampler, check_batch, check_coupling, check_run_args,
                      hot_spins_torch, samples_from_sums)
from .rules import thresholds, thresholds_u32

BACKENDS = ("auto", "native", "torch")
#: Sites per chunk of rows in the torch backend, by device type: its int64 temporaries
#: stay in cache on a CPU (2^17: 1 MB each; measured best of 2^14..2^22) and bounded on a
#: GPU (2^24: 128 MB each).
CHUNK_SITES = {"cpu": 1 << 17, "cuda": 1 << 24}


# -- layout ------------------------------------------------------------------------------

def split(spins: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(B, L, L)`` → contiguous black and white sublattices ``(B, L, L/2)``."""
    B, L, _ = spins.shape
    rows = spins.reshape(B, L // 2, 2, L)
    even, odd = rows[:, :, 0], rows[:, :, 1]
    black = torch.stack([even[..., 0::2], odd[..., 1::2]], 2).reshape(B, L, L // 2)
    white = torch.stack([even[..., 1::2], odd[..., 0::2]], 2).reshape(B, L, L // 2)
    return black.contiguous(), white.contiguous()


def merge(black: torch.Tensor, white: torch.Tensor) -> torch.Tensor:
    """The inverse of `split`: ``(B, L, L)``."""
    B, L, W = black.shape
    out = torch.empty(B, L // 2, 2, L, dtype=black.dtype, device=black.device)
    b, w = black.reshape(B, L // 2, 2, W), white.reshape(B, L // 2, 2, W)
    out[:, :, 0, 0::2], out[:, :, 0, 1::2] = b[:, :, 0], w[:, :, 0]
    out[:, :, 1, 1::2], out[:, :, 1, 0::2] = b[:, :, 1], w[:, :, 1]
    return out.reshape(B, L, L)


# -- the torch backend (the reference the C kernel must match bit for bit) --------------

def _half_sweep(own: torch.Tensor, other: torch.Tensor, thr: torch.Tensor, key: torch.Tensor,
                color: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Update ``own`` (B, L, W) in place; return per-chain Σ s and Σ s·(neighbour sum)
    of the updated sites (int64, shape (B,))."""
    B, L, W = own.shape
    dev = own.device
    own_rows, other_rows = own.view(B * L, W), other.view(B * L, W)
    m = torch.zeros(B, dtype=torch.int64, device=dev)
    sb = torch.zeros(B, dtype=torch.int64, device=dev)
    step = max(1, CHUNK_SITES.get(dev.type, 1 << 24) // W)
    for r0 in range(0, B * L, step):
        r = torch.arange(r0, min(B * L, r0 + step), device=dev)
        b, i = r // L, r % L
        mid = other_rows[r]
        nb = (other_rows[b * L + (i - 1) % L] + other_rows[b * L + (i + 1) % L] + mid
              + torch.where(((i % 2 == 0) == (color == 0))[:, None],
                            mid.roll(1, -1), mid.roll(-1, -1)))
        s = own_rows[r]
        code = ((nb.to(torch.int64) + 4) >> 1) + 5 * (s > 0).to(torch.int64)
        t = thr[b].gather(1, code)
        counter = torch.arange(r0 * W, (r0 + len(r)) * W, device=dev).view(len(r), W)
        new = torch.where((uniform32(key, counter) >> 1) < t, -s, s)
        own_rows[r] = new
        m.index_add_(0, b, new.sum(1))
        sb.index_add_(0, b, (new * nb).to(torch.int64).sum(1))
    return m, sb


def torch_run(black: torch.Tensor, white: torch.Tensor, thr: torch.Tensor, keys: torch.Tensor,
              out_m: torch.Tensor | None = None, out_bonds: torch.Tensor | None = None) -> None:
    """In place: ``keys.shape[0]`` sweeps (keys ``(sweeps, 2)`` int64); after sweep t,
    ``out_m[t]`` = Σ s_i and ``out_bonds[t]`` = Σ_⟨ij⟩ s_i s_j per chain (every bond joins a
    white site to a black one, so the white sites' s·(neighbour sum) counts each once)."""
    for t in range(keys.shape[0]):
        m_black, _ = _half_sweep(black, white, thr, keys[t, 0], 0)
        m_white, bonds = _half_sweep(white, black, thr, keys[t, 1], 1)
        if out_m is not None:
            out_m[t] = m_black + m_white
            out_bonds[t] = bonds


# -- chains ------------------------------------------------------------------------------

class CheckerboardChains:
    """B = T·chains lattices under one rule, kept as sublattices between calls.

    ``run(sweeps)`` advances them; ``spins()`` returns the configurations
    ``(T, chains, L, L)``. Used by `CheckerboardSampler.sample` and by the benchmarks.
    """

    def __init__(self, rule, L: int, betas: torch.Tensor, chains: int, coupling: float,
                 field: float, seed: int, device: torch.device, start: str, backend: str):
        self.L, self.chains, self.coupling, self.field = L, chains, coupling, field
        self.n_temps = betas.numel()
        self.device = device
        self.backend = backend
        self.generator = torch.Generator(device="cpu").manual_seed(int(seed))
        B = self.n_temps * chains
        thr = thresholds(rule, betas, coupling, field).repeat_interleave(chains, 0)
        if backend == "native":
            self.thresholds = thresholds_u32(thr)
        else:
            self.thresholds = thr.to(device).contiguous()
        if start == "cold":
            spins = torch.ones(B, L, L, dtype=torch.int8, device=device)
        else:
            key = draw_keys(self.generator, 1)
            if backend == "native":
                spins = torch.empty(B, L, L, dtype=torch.int8)
                _native.hot(spins, int(key))
            else:
                spins = hot_spins_torch(key[0], (B, L, L), device)
        self.black, self.white = split(spins)

    def run(self, sweeps: int, record: bool = True):
        """Advance ``sweeps`` sweeps; with ``record``, return per-sweep sums
        ``(M, bonds)``, each int64 ``(sweeps, B)`` on the device."""
        keys = draw_keys(self.generator, 2 * sweeps).view(sweeps, 2)
        B = self.black.shape[0]
        out_m = out_bonds = None
        if record:
            out_m = torch.empty(sweeps, B, dtype=torch.int64, device=self.device)
            out_bonds = torch.empty(sweeps, B, dtype=torch.int64, device=self.device)
        if self.backend == "native":
            _native.run(self.black, self.white, self.thresholds, keys, out_m, out_bonds)
        else:
            torch_run(self.black, self.white, self.thresholds, keys.to(self.device),
                      out_m, out_bonds)
        return (out_m, out_bonds) if record else None

    def spins(self) -> torch.Tensor:
        return merge(self.black, self.white).reshape(self.n_temps, self.chains,
                                                     self.L, self.L)


class CheckerboardSampler(SimulatedSampler):
    """A checkerboard single-spin-flip sampler; subclasses set ``name`` and ``rule``
    (flip probability as a function of βΔE, a torch function). See the module docstring.

    One sweep = every black site once, then every white site once (N attempted updates).
    Needs an even L. Runs on any torch device (``backend``: ``"auto"``, ``"native"`` or
    ``"torch"``, see the module docstring); results do not depend on device or backend.
    """

    name = "checkerboard"
    rule = None

    def __init__(self, backend: str = "auto"):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.backend = backend

    def __repr__(self) -> str:
        return f"{type(self).__name__}(backend={self.backend!r})"

    def _backend(self, device: torch.device) -> str:
        if self.backend == "torch":
            return "torch"
        native_ok = device.type == "cpu" and _native.load() is not None
        if self.backend == "native" and not native_ok:
            why = ("it runs on CPU only" if device.type != "cpu"
                   else _native.unavailable_reason())
            raise InvalidGameError(f"{self.name}: the native backend is unavailable on "
                                   f"{device}: {why}")
        return "native" if native_ok else "torch"

    def chains(self, L: int, temperatures, *, coupling: float = 1.0, field: float = 0.0,
               chains: int, seed: int, device="cpu", start: str = "hot") -> CheckerboardChains:
        """Validated, initialised chains (no sweep done yet)."""
        temps = check_parameters(L, temperatures, coupling, field, checkerboard=True)
        check_run_args(1, chains, seed, start)
        dev = resolve_device(device)
        return CheckerboardChains(type(self).rule, L, 1.0 / temps, chains, float(coupling),
                                  float(field), seed, dev, start, self._backend(dev))

    def simulate(self, L: int, temperatures, *, coupling: float = 1.0, field: float = 0.0,
                 sweeps: int, chains: int, seed: int, device="cpu",
                 start: str = "hot") -> tuple[IsingSamples, torch.Tensor]:
        """`sample`, and the final configurations ``(T, chains, L, L)`` int8."""
        check_run_args(sweeps, chains, seed, start)
        state = self.chains(L, temperatures, coupling=coupling, field=field, chains=chains,
                            seed=seed, device=device, start=start)
        m, bonds = state.run(sweeps)
        samples = samples_from_sums(m, bonds, state.n_temps, chains, L, state.coupling,
                                    state.field)
        return samples, state.spins()

    def step(self, spins: torch.Tensor, beta, coupling: float, field: float,
             generator: torch.Generator) -> torch.Tensor:
        """One sweep of each configuration of ``spins`` ``(..., L, L)`` int8 at inverse
        temperature ``beta`` (broadcastable to ``spins.shape[:-2]``); returns new spins.
        Draws two 64-bit keys from ``generator``."""
        L, beta = check_batch(spins, beta, checkerboard=True)
        coupling, field = check_coupling(coupling, field)
        batch = spins.shape[:-2]
        flat = spins.reshape(-1, L, L)
        black, white = split(flat)
        thr = thresholds(type(self).rule, beta.reshape(-1), coupling, field)
        keys = draw_keys(generator, 2).view(1, 2)
        if self._backend(spins.device) == "native":
            _native.run(black, white, thresholds_u32(thr), keys.cpu().contiguous())
        else:
            torch_run(black, white, thr.to(spins.device), keys.to(spins.device))
        return merge(black, white).reshape(*batch, L, L)


__all__ = ["BACKENDS", "CheckerboardChains", "CheckerboardSampler", "merge", "split", "torch_run"]
