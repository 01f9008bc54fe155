"""Deliberately broken Ising samplers, written from the public sampler protocol alone
(`mfcheck.protocols.Sampler`): each must be caught (status FAIL, ERROR for a protocol violation) by the
named checks of the ``ising`` suite in its `CATALOGUE` entry, while every reference sampler
passes them all (tests/test_power_ising.py).

Most bugs are planted in `Naive`, a plain roll-and-where checkerboard sampler written for
this file: correct with its defaults (`CONTROL`, which must pass), wrong in one place per
instance — the bug classes real authors make: a temperature convention, the periodic
wrap, the random stream, the update order, the acceptance rule, what is measured.
"""

from __future__ import annotations

import torch

from mfcheck.ising import IsingSamples, energy, magnetization
from mfcheck.reference.ising import SAMPLERS

from .catalogue import Entry


def metropolis(x: torch.Tensor) -> torch.Tensor:
    """Flip probability min(1, e^(−x)), x = βΔE."""
    return torch.exp(-x).clamp(max=1.0)


def heat_bath(x: torch.Tensor) -> torch.Tensor:
    """Flip probability 1/(1 + e^x): the new spin is drawn from its conditional law."""
    return torch.sigmoid(-x)


def open_energy(s: torch.Tensor, coupling: float, field: float) -> torch.Tensor:
    """Energy of ``(..., L, L)`` with open edges: the 2L(L − 1) bonds inside the square."""
    s = s.to(torch.float64)
    bonds = (s[..., 1:, :] * s[..., :-1, :]).sum((-2, -1)) + (s[..., :, 1:] * s[..., :, :-1]).sum((-2, -1))
    return -coupling * bonds - field * s.sum((-2, -1))


class Naive:
    """Checkerboard single-spin updates on full ``(..., L, L)`` int8 lattices, one sweep =
    every black site, then every white site; correct with the defaults.

    The knobs (each a bug when changed): ``rule`` (flip probability of x = βΔE);
    ``beta_of`` (β from the temperature T); ``delta_coupling``, ``delta_field`` (ΔE =
    s·(delta_coupling·J·Σ_nbr s_j + delta_field·h), 2 and 2 when right); ``field_sign``
    (of h in the update); ``periodic`` (wrap-around bonds in the update); ``open_measure``
    (energies reported with open edges); ``stream``: ``"fresh"`` (new uniforms for every
    site, chain and sweep), ``"neighbour"`` (a white site reuses the uniform of its left
    black neighbour), ``"one-lattice"`` (one (L, L) field of uniforms for all chains and
    temperatures), ``"reseeded"`` (the generator re-seeded every sweep); ``update``:
    ``"checkerboard"``, ``"simultaneous"`` (both colours from the same old configuration),
    ``"black-twice"`` (the black sites twice, the white never); ``energy_scale``,
    ``energy_sign``, ``magnetization_scale`` (of what is reported per spin; ``"total"``: M
    itself, not M/N).
    """

    #: Written plainly, the update is ~18× slower than the reference checkerboard sampler
    #: (both colours on the whole lattice, in float64): it declares the lattices it is
    #: meant for, so the catch matrix (docs/power.md) runs it where it finishes, and the
    #: checks on 20×20 to 64×64 lattices skip it (max_size is the protocol's declaration).
    max_size = 16

    def __init__(self, name: str, *, rule=metropolis, beta_of=lambda T: 1.0 / T,
                 delta_coupling: float = 2.0, delta_field: float = 2.0, field_sign: float = 1.0,
                 periodic: bool = True, open_measure: bool = False, stream: str = "fresh",
                 update: str = "checkerboard", energy_scale: float = 1.0,
                 energy_sign: float = 1.0, magnetization_scale: float = 1.0):
        self.name, self.rule, self.beta_of = name, rule, beta_of
        self.delta_coupling, self.delta_field, self.field_sign = delta_coupling, delta_field, field_sign
        self.periodic, self.open_measure, self.stream, self.update = periodic, open_measure, stream, update
        self.energy_scale, self.energy_sign = energy_scale, energy_sign
        self.magnetization_scale = magnetization_scale

    def __repr__(self) -> str:
        return f"Naive({self.name!r})"

    def _neighbour_sum(self, s: torch.Tensor) -> torch.Tensor:
        total = sum(s.roll(shift, dim) for shift in (1, -1) for dim in (-1, -2))
        if not self.periodic:
            L = s.shape[-1]
            total[..., 0, :] -= s[..., L - 1, :]
            total[..., L - 1, :] -= s[..., 0, :]
            total[..., :, 0] -= s[..., :, L - 1]
            total[..., :, L - 1] -= s[..., :, 0]
        return total

    def _uniforms(self, shape, generator, device) -> torch.Tensor:
        if self.stream == "one-lattice":
            return torch.rand(shape[-2:], generator=generator, dtype=torch.float64,
                              device=device).expand(shape)
        return torch.rand(shape, generator=generator, dtype=torch.float64, device=device)

    def step(self, spins, beta, coupling, field, generator):
        s = spins.to(torch.float64)
        L = s.shape[-1]
        i, j = torch.meshgrid(torch.arange(L), torch.arange(L), indexing="ij")
        black = ((i + j) % 2 == 0).to(s.device)
        beta = torch.as_tensor(beta, dtype=torch.float64, device=s.device)
        beta = beta.reshape(beta.shape + (1, 1))
        u = self._uniforms(s.shape, generator, s.device)
        old = s
        colours = {"checkerboard": (black, ~black), "simultaneous": (black, ~black),
                   "black-twice": (black, black)}[self.update]
        for k, colour in enumerate(colours):
            uniforms = u.roll(1, -1) if (self.stream == "neighbour" and k == 1) else u
            base = old if self.update == "simultaneous" else s
            delta = s * (self.delta_coupling * coupling * self._neighbour_sum(base)
                         + self.delta_field * self.field_sign * field)
            flip = colour & (uniforms < self.rule(beta * delta))
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
        beta = self.beta_of(temps).to(device)[:, None].expand(-1, chains)
        measure = open_energy if self.open_measure else energy
        e, m = [], []
        for _ in range(sweeps):
            if self.stream == "reseeded":
                gen.manual_seed(seed)
            s = self.step(s, beta, coupling, field, gen)
            e.append(self.energy_sign * self.energy_scale * measure(s, coupling, field) / L**2)
            scale = L**2 if self.magnetization_scale == "total" else self.magnetization_scale
            m.append(scale * magnetization(s) / L**2)
        return IsingSamples(torch.stack(e, -1), torch.stack(m, -1))


class Named:
    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class IgnoresStart(Named):
    """An adapter around a correct sampler that drops ``start``: always a hot start."""

    def sample(self, L, temperatures, *, start="hot", **kwargs) -> IsingSamples:
        return SAMPLERS["checkerboard-heat-bath"].sample(L, temperatures, start="hot", **kwargs)


class SwappedStart(Named):
    """An adapter around a correct sampler that reads "hot" as ordered and "cold" as random."""

    def sample(self, L, temperatures, *, start="hot", **kwargs) -> IsingSamples:
        swapped = {"hot": "cold", "cold": "hot"}[start]
        return SAMPLERS["checkerboard-metropolis"].sample(L, temperatures, start=swapped,
                                                          **kwargs)


class NaNSampler(Named):
    def sample(self, L, temperatures, *, sweeps, chains, **kwargs):
        shape = (len(temperatures), chains, sweeps)
        return IsingSamples(torch.full(shape, float("nan"), dtype=torch.float64),
                            torch.zeros(shape, dtype=torch.float64))


class RaisingSampler(Named):
    def sample(self, *args, **kwargs):
        raise RuntimeError("deliberate failure")


BROKEN = {
    # update rule and temperature convention
    "half-exponent": Naive("broken: acceptance min(1, exp(-βΔE/2))",
                           rule=lambda x: metropolis(x / 2)),
    "abs-acceptance": Naive("broken: acceptance exp(-β|ΔE|)", rule=lambda x: torch.exp(-x.abs())),
    "doubled-beta-heat-bath": Naive("broken: heat-bath with β doubled",
                                    rule=lambda x: heat_bath(2 * x)),
    "delta-e-without-2": Naive("broken: heat bath with ΔE = s(JΣs_j + h), the 2 forgotten",
                               rule=heat_bath, delta_coupling=1.0, delta_field=1.0),
    "beta-for-temperature": Naive("broken: β passed where T is expected", beta_of=lambda T: T),
    "temperature-in-half-j": Naive("broken: T read in units of J/2 (β = 2/T)",
                                   beta_of=lambda T: 2.0 / T),
    "flipped-field": Naive("broken: field with the wrong sign in the update", field_sign=-1.0),
    "half-field": Naive("broken: ΔE = 2sJΣs_j + s·h (the field's 2 forgotten)", delta_field=1.0),
    # boundary condition
    "no-periodic-wrap": Naive("broken: no periodic wrap in the update", periodic=False),
    "open-lattice": Naive("broken: open boundaries (update and measured energy)", periodic=False,
                          open_measure=True),
    # random stream
    "reused-stream": Naive("broken: one random stream for both colours", stream="neighbour"),
    "one-stream-for-all-chains": Naive("broken: one (L, L) field of uniforms for every chain",
                                       stream="one-lattice"),
    "reseeded-every-sweep": Naive("broken: the generator re-seeded every sweep",
                                  stream="reseeded"),
    # update order
    "simultaneous-update": Naive("broken: both colours updated from the same old configuration",
                                 update="simultaneous"),
    "one-colour": Naive("broken: a sweep updates the black sites twice, the white never",
                        update="black-twice"),
    # measurement
    "energy-per-bond": Naive("broken: E reported per bond (2N bonds)", energy_scale=0.5),
    "energy-sign": Naive("broken: E reported with the wrong sign", energy_sign=-1.0),
    "magnetization-per-bond": Naive("broken: M reported per bond (2N bonds)",
                                    magnetization_scale=0.5),
    # initial state
    "ignores-start": IgnoresStart("broken: ignores start='cold'"),
    "swapped-start": SwappedStart("broken: start='hot' ordered, start='cold' random"),
    # protocol output
    "magnetization-total": Naive("broken: M not normalised by N", magnetization_scale="total"),
    "nan": NaNSampler("broken: NaN energies"),
    "raises": RaisingSampler("broken: raises"),
}
#: The naive sampler without bugs: it must pass, or the bugs planted in it prove nothing.
CONTROL = Naive("naive roll-and-where Metropolis (correct)")
CONTROL_HEAT_BATH = Naive("naive roll-and-where heat bath (correct)", rule=heat_bath)


def _entry(key: str, bug_class: str, description: str, *caught_by: str, games=()) -> Entry:
    return Entry(f"tests.broken_samplers:BROKEN[{key}]", role="sampler", bug_class=bug_class,
                 description=description, caught_by=tuple(f"ising::{c}" for c in caught_by),
                 games=tuple(games))


HIST = "energy-histogram-4x4"
STEP = "stationarity-one-step"

CATALOGUE = [
    _entry("half-exponent", "update rule", "Metropolis acceptance min(1, e^(−βΔE/2)): samples "
           "at 2T", HIST, STEP),
    _entry("abs-acceptance", "update rule", "acceptance e^(−β|ΔE|): symmetric, samples T = ∞",
           HIST, STEP),
    _entry("doubled-beta-heat-bath", "temperature convention", "heat bath at 2β", HIST, STEP),
    _entry("delta-e-without-2", "temperature convention", "ΔE = s(JΣs_j + h) without the 2 "
           "(energy per bond pair counted once per site): samples at 2T", HIST, STEP),
    _entry("beta-for-temperature", "temperature convention", "sample() uses β = T", HIST,
           games=("L4,T=2.269", "L4,T=3.5", "L4,T=2.5,h=0.3")),
    _entry("temperature-in-half-j", "temperature convention", "sample() reads T in units of "
           "J/2 (β = 2/T)", HIST, games=("L4,T=2.269", "L4,T=3.5", "L4,T=2.5,h=0.3")),
    _entry("flipped-field", "sign", "h enters the update with the wrong sign", HIST, STEP,
           games=("L4,T=2.5,h=0.3",)),
    _entry("half-field", "update rule", "ΔE = 2sJΣs_j + s·h: the field's factor 2 forgotten",
           HIST, STEP, games=("L4,T=2.5,h=0.3",)),
    _entry("no-periodic-wrap", "boundary condition", "the update drops the wrap-around bonds, "
           "energies measured on the torus", HIST, STEP),
    _entry("open-lattice", "boundary condition", "open boundaries in the update and in the "
           "measured energy", HIST),
    _entry("reused-stream", "random stream", "a white site reuses the uniform of its left "
           "black neighbour", HIST, STEP, games=("L4,T=3.5", "L4,T=2.5,h=0.3")),
    _entry("one-stream-for-all-chains", "random stream", "one (L, L) field of uniforms shared "
           "by every chain and temperature: the chains coalesce", HIST),
    _entry("reseeded-every-sweep", "random stream", "the generator re-seeded every sweep: the "
           "same uniforms every sweep", HIST),
    _entry("simultaneous-update", "update rule", "both colours updated from the same old "
           "configuration (a synchronous update)", HIST, STEP),
    _entry("one-colour", "update rule", "a sweep updates the black sites twice and never the "
           "white ones", HIST, STEP),
    _entry("energy-per-bond", "measurement", "E/N reported per bond (2N bonds)", HIST),
    _entry("energy-sign", "measurement", "E reported with the wrong sign", HIST),
    _entry("magnetization-per-bond", "measurement", "m reported per bond (M/2N)", HIST),
    _entry("ignores-start", "initial state", "start='cold' ignored: every chain starts random, "
           "so below T_c the 64×64 runs stay striped", "start-honoured"),
    _entry("swapped-start", "initial state", "'hot' read as the ordered start and 'cold' as "
           "the random one", "start-honoured"),
    _entry("magnetization-total", "protocol output", "M not normalised by N (|m| > 1)", HIST),
    _entry("nan", "protocol output", "NaN energies", HIST),
    _entry("raises", "protocol output", "sample() raises", HIST),
]
