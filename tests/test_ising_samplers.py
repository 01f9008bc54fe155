"""The reference Ising samplers (`mfcheck.reference.ising`).

Exactness: each sampler's ``step`` must leave the Boltzmann distribution invariant. On a
lattice small enough to enumerate (4×4: 65,536 states; 3×3 for the random-site sampler),
replicas drawn exactly from the Boltzmann distribution (``torch.multinomial``) are moved
one step, and the histogram of (Σ_⟨ij⟩ s_i s_j, M) — the sufficient statistic of the
Boltzmann weight — is compared with the exact one by a chi-square test (bins with an
expected count below 5 pooled). The replicas are independent, so the chi-square
statistic is exact; each test fails with probability ≤ 1e-4 when the sampler is right
(Bonferroni over its statistics), and fixed seeds make it deterministic. A deliberately
wrong update (Metropolis at the wrong temperature) shows the test has power.
"""

from __future__ import annotations

import functools
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from scipy import stats

from mfcheck.boundary import check_samples
from mfcheck.errors import DeviceUnavailableError, InvalidGameError
from mfcheck.ising import energy, magnetization
from mfcheck.reference.ising import (SAMPLERS, CheckerboardHeatBath, CheckerboardMetropolis,
                                     RandomSiteMetropolis, Wolff, _native)
from mfcheck.reference.ising.checkerboard import merge, split

FALSE_FAILURE_RATE = 1e-4
CHECKERBOARD = [CheckerboardMetropolis, CheckerboardHeatBath]
NATIVE = _native.load() is not None


# -- exact enumeration -------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def all_states(L: int) -> torch.Tensor:
    """All 2^(L²) configurations, ``(2^(L²), L, L)`` int8."""
    n = L * L
    bits = (torch.arange(2 ** n)[:, None] >> torch.arange(n)) & 1
    return (2 * bits - 1).to(torch.int8).reshape(-1, L, L)


def statistic(spins: torch.Tensor) -> torch.Tensor:
    """Integer key of (Σ_⟨ij⟩ s_i s_j, M) for configurations ``(..., L, L)``."""
    n = spins.shape[-1] ** 2
    bonds = energy(spins, 1.0, 0.0).neg().round().long()
    m = magnetization(spins).round().long()
    return (bonds + 2 * n) * (2 * n + 1) + (m + n)


def boltzmann_replicas(L, betas, coupling, field, n, seed):
    """``n`` exact Boltzmann draws per β: ``(len(betas), n, L, L)``, and the exact
    distributions of `statistic` ``(len(betas), n_keys)``."""
    states = all_states(L)
    e = energy(states, coupling, field)
    keys = statistic(states)
    n_keys = int(keys.max()) + 1
    g = torch.Generator().manual_seed(seed)
    replicas, exact = [], []
    for beta in betas:
        p = torch.softmax(-beta * e, 0)
        replicas.append(states[torch.multinomial(p, n, replacement=True, generator=g)])
        exact.append(torch.bincount(keys, weights=p, minlength=n_keys))
    return torch.stack(replicas), torch.stack(exact)


def chi2_pvalue(observed: np.ndarray, expected_p: np.ndarray) -> float:
    """Pearson's chi-square p-value, bins with expected count < 5 pooled (into the
    smallest remaining bin when the pool itself is below 5)."""
    n = observed.sum()
    expected = expected_p * n
    keep = expected >= 5
    obs, exp = list(observed[keep]), list(expected[keep])
    rest_o, rest_e = observed[~keep].sum(), expected[~keep].sum()
    if rest_e >= 5:
        obs.append(rest_o)
        exp.append(rest_e)
    elif rest_e > 0 or rest_o > 0:
        j = int(np.argmin(exp))
        obs[j] += rest_o
        exp[j] += rest_e
    obs, exp = np.asarray(obs, dtype=float), np.asarray(exp)
    stat = ((obs - exp) ** 2 / exp).sum()
    return float(stats.chi2.sf(stat, len(obs) - 1))


def stationarity_pvalues(sampler, L, betas, coupling, field, n=100_000, seed=0,
                         step_beta=None):
    replicas, exact = boltzmann_replicas(L, betas, coupling, field, n, seed)
    beta = torch.tensor(step_beta or betas, dtype=torch.float64)[:, None]
    g = torch.Generator().manual_seed(seed + 1)
    out = sampler.step(replicas, beta, coupling, field, g)
    assert out.shape == replicas.shape and out.dtype == torch.int8
    assert ((out == 1) | (out == -1)).all()
    assert not torch.equal(out, replicas)
    pvalues = []
    for k in range(len(betas)):
        observed = torch.bincount(statistic(out[k]), minlength=exact.shape[1])
        pvalues.append(chi2_pvalue(observed.numpy(), exact[k].numpy()))
    return pvalues


def test_enumeration_reproduces_the_known_density_of_states():
    e = energy(all_states(4)).round().long()
    values, counts = torch.unique(e, return_counts=True)
    g = dict(zip(values.tolist(), counts.tolist()))
    assert [g.get(E, 0) for E in (-32, -28, -24, -20, -16, -12, -8, -4, 0)] == \
        [2, 0, 32, 64, 424, 1728, 6688, 13568, 20524]
    beta = 0.3
    z2 = torch.exp(-beta * energy(all_states(2))).sum().item()
    assert z2 == pytest.approx(4 * math.cosh(8 * beta) + 12, rel=1e-12)


# -- stationarity (exact) ----------------------------------------------------------------

@pytest.mark.parametrize("cls", CHECKERBOARD)
@pytest.mark.parametrize("coupling,field", [(1.0, 0.3), (-0.7, -0.5)])
def test_checkerboard_step_preserves_boltzmann(cls, coupling, field):
    """With the native kernel when it builds; it is bit-identical to the torch backend
    (`test_native_kernel_is_bit_identical_to_torch`), so this covers both."""
    backend = "auto"
    pvalues = stationarity_pvalues(cls(backend=backend), 4, [0.25, 0.6], coupling, field)
    assert min(pvalues) > FALSE_FAILURE_RATE / len(pvalues), pvalues


def test_random_site_step_preserves_boltzmann():
    pvalues = stationarity_pvalues(RandomSiteMetropolis(), 3, [0.3, 0.7], 1.0, 0.4)
    assert min(pvalues) > FALSE_FAILURE_RATE / len(pvalues), pvalues


@pytest.mark.parametrize("coupling", [1.0, -1.0])
def test_wolff_step_preserves_boltzmann(coupling):
    pvalues = stationarity_pvalues(Wolff(), 4, [0.25, 0.5], coupling, 0.0)
    assert min(pvalues) > FALSE_FAILURE_RATE / len(pvalues), pvalues


def test_the_stationarity_test_has_power():
    """Metropolis at β' = 1.3 β applied to Boltzmann(β) replicas must be rejected."""
    pvalues = stationarity_pvalues(CheckerboardMetropolis(), 4, [0.25, 0.6], 1.0, 0.3,
                                   step_beta=[0.325, 0.78])
    assert max(pvalues) < FALSE_FAILURE_RATE, pvalues


# -- protocol: shapes, dtypes, devices, errors --------------------------------------------

@pytest.mark.parametrize("name", list(SAMPLERS))
def test_sample_shapes_and_dtypes(name, device):
    sampler = SAMPLERS[name]
    assert sampler.name == name
    out = sampler.sample(4, [1.5, 2.5, 3.5], sweeps=5, chains=3, seed=0, device=device)
    check_samples(out, temperatures=3, chains=3, sweeps=5, sampler=name)
    for x in (out.energy, out.magnetization):
        assert x.dtype == torch.float64 and x.device.type == device.type
    cold = sampler.sample(4, 1e-3, sweeps=2, chains=2, seed=0, start="cold", device=device)
    assert cold.energy.shape == (1, 2, 2)
    assert torch.all(cold.magnetization.abs() == 1)  # frozen at T ≈ 0 from all-up
    assert torch.all(cold.energy == -2.0)


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_reproducible_with_a_seed(name):
    sampler = SAMPLERS[name]
    a = sampler.sample(4, [2.0, 3.0], sweeps=6, chains=2, seed=11)
    b = sampler.sample(4, [2.0, 3.0], sweeps=6, chains=2, seed=11)
    c = sampler.sample(4, [2.0, 3.0], sweeps=6, chains=2, seed=12)
    assert torch.equal(a.energy, b.energy) and torch.equal(a.magnetization, b.magnetization)
    assert not torch.equal(a.magnetization, c.magnetization)
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    spins = torch.ones(3, 4, 4, dtype=torch.int8)
    assert torch.equal(sampler.step(spins, 0.2, 1.0, 0.0, g1),
                       sampler.step(spins, 0.2, 1.0, 0.0, g2))


@pytest.mark.parametrize("name", list(SAMPLERS))
@pytest.mark.parametrize("L", [2, 4, 6])
def test_per_sweep_observables_are_those_of_the_configuration(name, L):
    sampler = SAMPLERS[name]
    field = 0.0 if name == "wolff" else 0.35
    out, spins = sampler.simulate(L, [1.2, 2.4, 5.0], coupling=0.8, field=field, sweeps=7,
                                  chains=4, seed=3)
    assert spins.shape == (3, 4, L, L) and spins.dtype == torch.int8
    n = L * L
    assert torch.equal(out.energy[..., -1], energy(spins, 0.8, field) / n)
    assert torch.equal(out.magnetization[..., -1], magnetization(spins) / n)
    # the first sweeps agree with a shorter run from the same seed
    short, _ = sampler.simulate(L, [1.2, 2.4, 5.0], coupling=0.8, field=field, sweeps=3,
                                chains=4, seed=3)
    assert torch.equal(short.energy, out.energy[..., :3])


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_invalid_arguments_are_clear_errors(name):
    sampler = SAMPLERS[name]
    ok = dict(sweeps=2, chains=2, seed=0)
    bad = [((4, [0.0]), {}, "temperatures"), ((4, [-1.0]), {}, "temperatures"),
           ((4, [float("nan")]), {}, "temperatures"), ((4, [float("inf")]), {}, "temperatures"),
           ((4, []), {}, "temperatures"), ((1, [2.0]), {}, "L must"),
           ((4, [2.0]), {"coupling": float("inf")}, "coupling"),
           ((4, [2.0]), {"field": float("nan")}, "field"),
           ((4, [2.0]), {"sweeps": 0}, "sweeps"), ((4, [2.0]), {"chains": 0}, "chains"),
           ((4, [2.0]), {"start": "warm"}, "start")]
    if isinstance(sampler, (CheckerboardMetropolis, CheckerboardHeatBath)):
        bad.append(((5, [2.0]), {}, "even L"))
    if isinstance(sampler, Wolff):
        bad.append(((4, [2.0]), {"field": 0.1}, "zero field"))
    for args, kwargs, match in bad:
        with pytest.raises(InvalidGameError, match=match):
            sampler.sample(*args, **{**ok, **kwargs})
    if not torch.cuda.is_available():
        with pytest.raises(DeviceUnavailableError, match="CUDA"):
            sampler.sample(4, [2.0], device="cuda", **ok)
    g = torch.Generator().manual_seed(0)
    with pytest.raises(InvalidGameError, match="int8"):
        sampler.step(torch.ones(2, 4, 4), 0.5, 1.0, 0.0, g)
    with pytest.raises(InvalidGameError, match="beta"):
        sampler.step(torch.ones(2, 4, 4, dtype=torch.int8), 0.0, 1.0, 0.0, g)
    with pytest.raises(InvalidGameError, match="broadcast"):
        sampler.step(torch.ones(2, 4, 4, dtype=torch.int8), torch.ones(3), 1.0, 0.0, g)
    if isinstance(sampler, (CheckerboardMetropolis, CheckerboardHeatBath)):
        with pytest.raises(InvalidGameError, match="even L"):
            sampler.step(torch.ones(2, 5, 5, dtype=torch.int8), 0.5, 1.0, 0.0, g)


def test_wolff_sample_odd_lattice_and_zero_coupling():
    out, spins = Wolff().simulate(3, [2.0], coupling=0.0, sweeps=4, chains=3, seed=0)
    # J = 0: each sweep flips exactly one spin, so |ΔM| = 2 per sweep
    steps = torch.diff(out.magnetization * 9, dim=-1).abs()
    assert torch.all(steps == 2)


# -- the checkerboard machinery ----------------------------------------------------------

def test_split_and_merge_are_inverse_and_colour_the_lattice():
    L = 6
    s = torch.arange(2 * L * L).reshape(2, L, L)
    black, white = split(s)
    assert torch.equal(merge(black, white), s)
    i, j = torch.meshgrid(torch.arange(L), torch.arange(L), indexing="ij")
    parity = (i + j) % 2
    assert torch.all((black[0] // L + black[0] % L) % 2 == 0)
    assert torch.all((white[0] // L + white[0] % L) % 2 == 1)
    assert torch.equal(black[0].sort().values.reshape(-1),
                       s[0][parity == 0].sort().values)
    assert torch.equal(white[0].sort().values.reshape(-1),
                       s[0][parity == 1].sort().values)


@pytest.mark.skipif(not NATIVE, reason="native kernel unavailable")
@pytest.mark.parametrize("cls", CHECKERBOARD)
@pytest.mark.parametrize("L", [2, 6, 8, 66, 1030])
@pytest.mark.parametrize("split_by", ["chains", "rows"])
def test_native_kernel_is_bit_identical_to_torch(cls, L, split_by, monkeypatch):
    """The C kernel against the torch reference: same spins and observables, bit for bit
    (L = 6: odd sublattice rows; 66: SIMD steps and a scalar tail; 1030: rows longer than
    one block of random numbers), with threads splitting the chains (9 of them) or the
    rows of each half-sweep (3 chains, or 1 at L = 1030)."""
    if L == 1030 and (cls is CheckerboardHeatBath or split_by == "chains"):
        pytest.skip("the kernel is the same for both rules; the large lattice runs once")
    monkeypatch.setattr(_native, "PARALLEL_MIN_SITES", 0)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)
    temps, chains, sweeps = {"chains": ([0.8, 2.3, 9.0], 3, 6), "rows": ([0.8, 2.3, 9.0], 1, 6)
                             }[split_by] if L < 1000 else ([2.3], 1, 1)
    runs = [cls(backend=b).simulate(L, temps, coupling=1.1, field=-0.2, sweeps=sweeps,
                                    chains=chains, seed=4) for b in ("native", "torch")]
    (a, sa), (b, sb) = runs
    assert torch.equal(sa, sb)
    assert torch.equal(a.energy, b.energy) and torch.equal(a.magnetization, b.magnetization)
    spins = sa.reshape(-1, L, L)
    beta = torch.linspace(0.1, 1.0, spins.shape[0])
    steps = [cls(backend=b).step(spins, beta, 0.9, 0.1, torch.Generator().manual_seed(1))
             for b in ("native", "torch")]
    assert torch.equal(*steps)


PORTABLE_CHECK = """
import torch
from mfcheck.reference.ising import CheckerboardHeatBath, CheckerboardMetropolis, _native
assert _native.load() is not None, _native.unavailable_reason()
assert not _native.simd()
for cls in (CheckerboardMetropolis, CheckerboardHeatBath):
    for L in (2, 6, 66):
        runs = [cls(backend=b).simulate(L, [0.8, 2.3], coupling=1.1, field=-0.2, sweeps=4,
                                        chains=2, seed=4) for b in ("native", "torch")]
        assert torch.equal(runs[0][1], runs[1][1])
        assert torch.equal(runs[0][0].energy, runs[1][0].energy)
print("ok")
"""


@pytest.mark.skipif(not NATIVE, reason="native kernel unavailable")
def test_portable_kernel_is_bit_identical_to_torch(tmp_path):
    """The plain-C loop (built here with -mno-avx512f) computes the same bits too."""
    if not _native.simd():
        pytest.skip("this machine's build already uses the portable loop (tested above)")
    env = {**os.environ, "MFCHECK_NATIVE_CFLAGS": "-mno-avx512f",
           "MFCHECK_CACHE_DIR": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", PORTABLE_CHECK], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr[-2000:]


def test_flip_thresholds_are_quantised_to_2_pow_minus_31():
    from mfcheck.reference.ising.rules import flip_probabilities, metropolis, thresholds
    beta = torch.tensor([0.1, 0.44, 3.0])
    p = flip_probabilities(metropolis, beta, 1.0, 0.2)
    t = thresholds(metropolis, beta, 1.0, 0.2)
    assert t.dtype == torch.int64 and t.min() >= 0 and t.max() <= 2 ** 31
    assert (t.double() / 2 ** 31 - p).abs().max() <= 2.0 ** -32
    assert t.max() == 2 ** 31  # p = 1 (ΔE ≤ 0) flips always


# -- equilibrium (a sanity check; the suites do the real validation) -----------------------

#: Ferdinand & Fisher (1969), docs/references.md#ising-finite-kc: E/N of the 16×16 torus at K_c.
EXACT_E_16_TC = -1.4530647
T_C = 2.0 / math.log(1.0 + math.sqrt(2.0))


@pytest.mark.parametrize("sampler,sweeps,burn", [
    (CheckerboardMetropolis(), 3000, 1000), (CheckerboardHeatBath(), 3000, 1000),
    (Wolff(clusters_per_sweep=2), 600, 100)])
def test_energy_at_the_critical_point_of_the_16x16_torus(sampler, sweeps, burn):
    chains = 32
    out = sampler.sample(16, [T_C], sweeps=sweeps, chains=chains, seed=2024)
    means = out.energy[0, :, burn:].mean(-1).numpy()  # independent chains
    se = means.std(ddof=1) / math.sqrt(chains)
    limit = stats.t.ppf(1 - FALSE_FAILURE_RATE / 2, chains - 1)
    assert abs(means.mean() - EXACT_E_16_TC) < limit * se, (means.mean(), se)
    assert se < 0.01
