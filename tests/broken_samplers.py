"""Deliberately broken Ising samplers: each must be caught by some check of the ``ising``
suite (tests/test_power_ising.py), while every reference sampler passes them all.

Rule bugs reuse the reference checkerboard kernel with a wrong acceptance rule; kernel
bugs (the periodic wrap, the random stream) live in `NaiveCheckerboard`, a plain
roll-and-where Metropolis sampler written for this file, correct unless told otherwise.
"""

from __future__ import annotations

import torch

from mfcheck.ising import IsingSamples, energy, magnetization
from mfcheck.reference.ising import SAMPLERS
from mfcheck.reference.ising._common import heat_bath, metropolis
from mfcheck.reference.ising.heat_bath import CheckerboardHeatBath
from mfcheck.reference.ising.metropolis import CheckerboardMetropolis


class HalfExponentMetropolis(CheckerboardMetropolis):
    """Acceptance min(1, e^(−βΔE/2)): samples at twice the temperature."""

    name = "broken: acceptance min(1, exp(-βΔE/2))"
    rule = staticmethod(lambda x: metropolis(x / 2))


class DoubledBetaHeatBath(CheckerboardHeatBath):
    """Heat-bath at 2β."""

    name = "broken: heat-bath with β doubled"
    rule = staticmethod(lambda x: heat_bath(2 * x))


class FlippedFieldMetropolis:
    """Updates with the field's sign flipped, reports energies with the right sign."""

    name = "broken: field with the wrong sign"

    def sample(self, L, temperatures, *, coupling=1.0, field=0.0, **kwargs) -> IsingSamples:
        s = SAMPLERS["checkerboard-metropolis"].sample(L, temperatures, coupling=coupling,
                                                        field=-field, **kwargs)
        # e reported with −h is −J b − (−h) m; the true energy of the same spins is that − 2 h m.
        return IsingSamples(s.energy - 2 * field * s.magnetization, s.magnetization)

    def step(self, spins, beta, coupling, field, generator):
        return SAMPLERS["checkerboard-metropolis"].step(spins, beta, coupling, -field, generator)


class NaiveCheckerboard:
    """Roll-and-where checkerboard Metropolis on full ``(..., L, L)`` int8 lattices.

    ``periodic=False`` drops the wrap-around bonds from the update (a lattice with open
    edges, while energies are still reported on the torus); ``reuse_stream=True`` gives
    each white site the uniform its left black neighbour used in the same sweep.
    """

    def __init__(self, *, periodic: bool = True, reuse_stream: bool = False, name: str):
        self.periodic, self.reuse_stream, self.name = periodic, reuse_stream, name

    def _neighbour_sum(self, s: torch.Tensor) -> torch.Tensor:
        total = sum(s.roll(shift, dim) for shift in (1, -1) for dim in (-1, -2))
        if not self.periodic:
            L = s.shape[-1]
            total[..., 0, :] -= s[..., L - 1, :]
            total[..., L - 1, :] -= s[..., 0, :]
            total[..., :, 0] -= s[..., :, L - 1]
            total[..., :, L - 1] -= s[..., :, 0]
        return total

    def step(self, spins, beta, coupling, field, generator):
        s = spins.to(torch.float64)
        L = s.shape[-1]
        i, j = torch.meshgrid(torch.arange(L), torch.arange(L), indexing="ij")
        black = ((i + j) % 2 == 0).to(s.device)
        beta = torch.as_tensor(beta, dtype=torch.float64, device=s.device)
        beta = beta.reshape(beta.shape + (1, 1))
        u = torch.rand(s.shape, generator=generator, dtype=torch.float64, device=s.device)
        for colour in (black, ~black):
            uniforms = u.roll(1, -1) if (self.reuse_stream and colour is not black) else u
            delta = 2 * s * (coupling * self._neighbour_sum(s) + field)
            flip = colour & (uniforms < torch.exp(-beta * delta))
            s = torch.where(flip, -s, s)
        return s.to(torch.int8)

    def sample(self, L, temperatures, *, coupling=1.0, field=0.0, sweeps, chains, seed,
               device="cpu", start="hot") -> IsingSamples:
        temps = torch.as_tensor(temperatures, dtype=torch.float64).reshape(-1)
        gen = torch.Generator(device=device).manual_seed(seed)
        shape = (temps.numel(), chains, L, L)
        if start == "hot":
            s = (2 * torch.randint(0, 2, shape, generator=gen, device=device) - 1).to(torch.int8)
        else:
            s = torch.ones(shape, dtype=torch.int8, device=device)
        beta = (1.0 / temps).to(device)[:, None].expand(-1, chains)
        e, m = [], []
        for _ in range(sweeps):
            s = self.step(s, beta, coupling, field, gen)
            e.append(energy(s, coupling, field) / L**2)
            m.append(magnetization(s) / L**2)
        return IsingSamples(torch.stack(e, -1), torch.stack(m, -1))


class NaNSampler:
    name = "broken: NaN energies"

    def sample(self, L, temperatures, *, sweeps, chains, **kwargs):
        shape = (len(temperatures), chains, sweeps)
        return IsingSamples(torch.full(shape, float("nan"), dtype=torch.float64),
                            torch.zeros(shape, dtype=torch.float64))


class RaisingSampler:
    name = "broken: raises"

    def sample(self, *args, **kwargs):
        raise RuntimeError("deliberate failure")


BROKEN = {
    "half-exponent": HalfExponentMetropolis(),
    "flipped-field": FlippedFieldMetropolis(),
    "no-periodic-wrap": NaiveCheckerboard(periodic=False, name="broken: no periodic wrap"),
    "reused-stream": NaiveCheckerboard(reuse_stream=True,
                                       name="broken: one random stream for both colours"),
    "doubled-beta-heat-bath": DoubledBetaHeatBath(),
    "nan": NaNSampler(),
    "raises": RaisingSampler(),
}
#: The naive sampler without bugs: it must pass, or the kernel bugs above prove nothing.
CONTROL = NaiveCheckerboard(name="naive roll-and-where Metropolis (correct)")
