"""mfcheck.analytic.ising against docs/references.md#ising-model, closed forms and independent
computations.

Expected values come from docs/references.md, from closed forms (2×2 partition function, Curie–Weiss
limits), or from independent computations written here (brute force with
`mfcheck.ising.energy`, a 1-D transfer matrix, a 40-digit mpmath evaluation of Kaufman's
partition function, numerical derivatives), never from an earlier run of the code under test.

The earlier printed finite-lattice specific heats (docs/references.md#ising-finite-kc; and the last
digit of E/N at L = 16) are not the
exact values: they are what a central difference with step 1e-4 in K gives (bias ∝ h²).
`test_facts_finite_lattice_figures_are_step_1e4_differences` pins that down; the exact
values are checked against the mpmath computation.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mfcheck import ising as lattice
from mfcheck.analytic.ising import (BETA_C, T_C, binder_cumulant, chain_energy,
                                    chain_magnetization, curie_weiss_magnetization,
                                    density_of_states, exact_enumeration, exact_finite,
                                    log_partition_finite, onsager_energy, onsager_magnetization,
                                    onsager_specific_heat)


def half_last_digit(text: str) -> float:
    return 0.5 * 10.0 ** -len(text.partition(".")[2])


def assert_digits(value: float, text: str) -> None:
    """``value`` equals the figure ``text`` printed in docs/references.md, to the digits printed."""
    assert abs(value - float(text)) <= half_last_digit(text) * (1 + 1e-9), (value, text)


# -- constants and Onsager–Yang ------------------------------------------------------------

def test_critical_point():
    assert_digits(T_C, "2.269185314")
    assert_digits(BETA_C, "0.440686794")
    assert math.sinh(2 * BETA_C) == pytest.approx(1.0, abs=1e-15)
    assert T_C * BETA_C == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize("T, text", [(2.0, "0.911319"), (2.2, "0.784755")])
def test_onsager_magnetization_facts(T, text):
    assert_digits(onsager_magnetization(T), text)


def test_onsager_magnetization_phases():
    T = np.array([0.01, 1.0, T_C, 2.3, 5.0])
    M = onsager_magnetization(T)
    assert M[0] == 1.0 and M[2] == 0.0 and M[3] == 0.0 and M[4] == 0.0
    # β = 1/8 just below T_c: M ≈ (8√2 K_c t)^(1/8), t = 1 − T/T_c (sinh 2K ≈ 1 + 2√2 K_c t)
    t = 1e-8
    expected = (8 * math.sqrt(2) * BETA_C * t) ** 0.125
    assert onsager_magnetization(T_C * (1 - t)) == pytest.approx(expected, rel=1e-6)
    assert onsager_magnetization(2 * 1.7, coupling=2.0) == pytest.approx(onsager_magnetization(1.7))


@pytest.mark.parametrize("T, text", [(2.0, "-1.745565"), (2.5, "-1.106079")])
def test_onsager_energy_facts(T, text):
    assert_digits(onsager_energy(T), text)


def test_onsager_energy_at_and_near_tc():
    assert onsager_energy(T_C) == pytest.approx(-math.sqrt(2), abs=1e-14)
    # continuous through T_c (the energy has no jump; only c diverges)
    for eps in (1e-6, 1e-9):
        assert onsager_energy(T_C * (1 - eps)) == pytest.approx(-math.sqrt(2), abs=1e-4)
        assert onsager_energy(T_C * (1 + eps)) == pytest.approx(-math.sqrt(2), abs=1e-4)
    # limits: ground state −2J, high-temperature series u ≈ −2 tanh K
    assert onsager_energy(0.05) == pytest.approx(-2.0, abs=1e-15)
    assert onsager_energy(1e3) == pytest.approx(-2 * math.tanh(1e-3), rel=1e-5)
    assert onsager_energy(3.0, coupling=1.5) == pytest.approx(1.5 * onsager_energy(2.0), rel=1e-14)


@pytest.mark.parametrize("T, text", [(2.0, "0.724871"), (2.5, "0.861698")])
def test_onsager_specific_heat_facts(T, text):
    assert_digits(onsager_specific_heat(T), text)


@pytest.mark.parametrize("T", [0.8, 1.5, 2.0, 2.2, 2.25, 2.3, 2.5, 4.0, 10.0])
def test_onsager_specific_heat_is_the_derivative_of_the_energy(T):
    h = 1e-5 * T
    numeric = (onsager_energy(T + h) - onsager_energy(T - h)) / (2 * h)
    assert onsager_specific_heat(T) == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_onsager_specific_heat_singularity():
    assert onsager_specific_heat(T_C) == math.inf
    assert onsager_specific_heat(2 * T_C, coupling=2.0) == math.inf
    # log divergence: c ≈ (8/π) K_c² ln|1/t| + const on both sides, same amplitude
    for side in (-1, 1):
        c1 = onsager_specific_heat(T_C * (1 + side * 1e-4))
        c2 = onsager_specific_heat(T_C * (1 + side * 1e-8))
        assert (c2 - c1) / math.log(1e4) == pytest.approx(8 / math.pi * BETA_C ** 2, rel=1e-3)
    c = onsager_specific_heat(np.array([0.05, 1.0, 3.0, 100.0]))
    assert np.all(np.isfinite(c)) and np.all(c >= 0)


def test_vectorised_shapes_and_scalars():
    T = np.linspace(1.0, 4.0, 12).reshape(3, 4)
    for f in (onsager_energy, onsager_magnetization, onsager_specific_heat, chain_energy,
              curie_weiss_magnetization):
        out = f(T)
        assert out.shape == T.shape
        assert isinstance(f(2.0), float)
        np.testing.assert_allclose(out[1, 2], f(float(T[1, 2])), rtol=1e-15)
    e = exact_finite(8, T)
    assert e.energy.shape == T.shape and e.specific_heat.shape == T.shape
    assert isinstance(exact_finite(8, 2.0).energy, float)
    assert log_partition_finite(8, T).shape == T.shape


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
def test_bad_temperatures_raise(bad):
    for f in (onsager_energy, onsager_specific_heat, onsager_magnetization):
        with pytest.raises(ValueError, match="T"):
            f(bad)
    with pytest.raises(ValueError, match="T"):
        exact_finite(4, [2.0, bad])
    with pytest.raises(ValueError, match="T"):
        exact_enumeration(2, bad)


def test_bad_lattice_and_coupling_raise():
    for L in (1, 0, 2.0, True):
        with pytest.raises(ValueError, match="L"):
            exact_finite(L, 2.0)
    with pytest.raises(ValueError, match="L <= 4"):
        exact_enumeration(5, 2.0)
    with pytest.raises(ValueError, match="coupling"):
        exact_finite(4, 2.0, coupling=-1.0)
    with pytest.raises(ValueError, match="coupling"):
        onsager_energy(2.0, coupling=0.0)


# -- finite torus: Kaufman / Ferdinand–Fisher ------------------------------------------------

# docs/references.md#ising-finite-kc, the earlier printed figures at K_c: (E/N, C/N).
FACTS_FINITE = {16: ("-1.4530647", "1.4987043"), 32: ("-1.433658", "1.846765"),
                64: ("-1.423938", "2.192199")}


def mp_energy_specific_heat(L: int) -> tuple[float, float]:
    """E/N and C/N at K_c from Kaufman's Z evaluated directly (no log-space tricks, no
    analytic derivatives) at 40 digits, differentiated by mpmath."""
    mp = pytest.importorskip("mpmath")
    with mp.workdps(40):
        def ln_z(K):
            c = mp.cosh(2 * K) / mp.tanh(2 * K)

            def gamma(l):
                return 2 * K + mp.log(mp.tanh(K)) if l == 0 else mp.acosh(c - mp.cos(mp.pi * l / L))
            odd = [gamma(2 * r + 1) for r in range(L)]
            even = [gamma(2 * r) for r in range(L)]
            total = (mp.fprod(2 * mp.cosh(L * g / 2) for g in odd)
                     + mp.fprod(2 * mp.sinh(L * g / 2) for g in odd)
                     + mp.fprod(2 * mp.cosh(L * g / 2) for g in even)
                     + mp.fprod(2 * mp.sinh(L * g / 2) for g in even))
            return mp.log(total / 2) + mp.mpf(L * L) / 2 * mp.log(2 * mp.sinh(2 * K))
        Kc = mp.log(1 + mp.sqrt(2)) / 2
        N = L * L
        return float(-mp.diff(ln_z, Kc, 1) / N), float(Kc ** 2 * mp.diff(ln_z, Kc, 2) / N)


@pytest.mark.parametrize("L", [16, 32, 64])
def test_exact_finite_at_kc_against_mpmath(L):
    e_mp, c_mp = mp_energy_specific_heat(L)
    got = exact_finite(L, T_C)
    assert got.energy == pytest.approx(e_mp, abs=1e-12)
    assert got.specific_heat == pytest.approx(c_mp, abs=1e-11)


@pytest.mark.parametrize("L", [32, 64])
def test_facts_finite_lattice_energies(L):
    assert_digits(exact_finite(L, T_C).energy, FACTS_FINITE[L][0])


@pytest.mark.parametrize("L", [16, 32, 64])
def test_facts_finite_lattice_figures_are_step_1e4_differences(L):
    """The earlier printed C/N (and E/N at L = 16) of docs/references.md#ising-finite-kc are
    reproduced, to the digits printed, by central
    differences of ln Z with step 1e-4 in K; the exact values lie within the h² bias."""
    K, h = BETA_C, 1e-4

    def ln_z(k):
        return log_partition_finite(L, 1 / k)
    N = L * L
    e_fd = -(ln_z(K + h) - ln_z(K - h)) / (2 * h) / N
    c_fd = K * K * (ln_z(K + h) - 2 * ln_z(K) + ln_z(K - h)) / h ** 2 / N
    assert_digits(e_fd, FACTS_FINITE[L][0])
    assert_digits(c_fd, FACTS_FINITE[L][1])
    exact = exact_finite(L, T_C)
    e_text = FACTS_FINITE[L][0]
    assert abs(exact.energy - float(e_text)) < half_last_digit(e_text) + 2e-7
    assert abs(exact.specific_heat - float(FACTS_FINITE[L][1])) < 2e-5


@pytest.mark.parametrize("L", [2, 3, 4])
@pytest.mark.parametrize("T", [0.4, 1.0, 2.0, T_C, 2.5, 4.0, 20.0])
def test_exact_finite_equals_enumeration(L, T):
    brute = exact_enumeration(L, T)
    finite = exact_finite(L, T)
    assert finite.energy == pytest.approx(brute.energy, abs=1e-10)
    assert finite.specific_heat == pytest.approx(brute.specific_heat, abs=1e-10)
    assert log_partition_finite(L, T) == pytest.approx(brute.log_partition, abs=1e-10)


@settings(max_examples=40)
@given(L=st.sampled_from([2, 3, 4]), T=st.floats(0.2, 50.0), J=st.floats(0.25, 4.0))
def test_exact_finite_equals_enumeration_hypothesis(L, T, J):
    brute = exact_enumeration(L, T, coupling=J)
    finite = exact_finite(L, T, coupling=J)
    assert finite.energy == pytest.approx(brute.energy, abs=1e-10 * J)
    assert finite.specific_heat == pytest.approx(brute.specific_heat, abs=1e-10)


@pytest.mark.parametrize("T", [1e-4, 0.0199, 0.0201, 0.05, 0.1])
def test_exact_finite_deep_in_the_ordered_phase(T):
    """Below T = J/50 the module returns the ground-state answer; it must join smoothly."""
    N = 16
    brute = exact_enumeration(4, T)
    finite = exact_finite(4, T)
    assert finite.energy == pytest.approx(brute.energy, abs=1e-12)
    assert finite.specific_heat == pytest.approx(brute.specific_heat, abs=1e-12)
    assert log_partition_finite(4, T) == pytest.approx(math.log(2) + 2 * N / T, rel=1e-15)
    assert log_partition_finite(4, T) == pytest.approx(brute.log_partition, rel=1e-15)


def test_two_by_two_partition_function():
    for T in (0.5, 1.0, T_C, 3.0, 10.0):
        beta = 1 / T
        expected = math.log(4 * math.cosh(8 * beta) + 12)
        assert exact_enumeration(2, T).log_partition == pytest.approx(expected, abs=1e-13)
        assert log_partition_finite(2, T) == pytest.approx(expected, abs=1e-13)
        # E = −d ln Z/dβ = −32 sinh 8β / (4 cosh 8β + 12), per spin /4
        e = -32 * math.sinh(8 * beta) / (4 * math.cosh(8 * beta) + 12) / 4
        assert exact_finite(2, T).energy == pytest.approx(e, abs=1e-13)


@pytest.mark.parametrize("T", [2.0, 2.5])
def test_exact_finite_tends_to_onsager(T):
    assert exact_finite(512, T).energy == pytest.approx(onsager_energy(T), abs=1e-6)
    assert exact_finite(512, T).specific_heat == pytest.approx(onsager_specific_heat(T), abs=1e-6)


def test_specific_heat_peak_grows_like_log_l():
    # c_L(T_c) ≈ (8/π) K_c² ln L + const (Ferdinand & Fisher 1969)
    c = exact_finite(np.int64(256), T_C).specific_heat, exact_finite(1024, T_C).specific_heat
    assert (c[1] - c[0]) / math.log(4) == pytest.approx(8 / math.pi * BETA_C ** 2, rel=1e-3)


@pytest.mark.parametrize("L, K", [(24, 0.3), (24, 0.6), (33, 0.42)])
def test_exact_finite_derivatives_match_its_own_log_partition(L, K):
    """The analytic derivatives against 5-point differences (error O(h⁴)) of ln Z."""
    h = 2e-4
    f = [log_partition_finite(L, 1 / (K + j * h)) for j in (-2, -1, 0, 1, 2)]
    d1 = (f[0] - 8 * f[1] + 8 * f[3] - f[4]) / (12 * h)
    d2 = (-f[0] + 16 * f[1] - 30 * f[2] + 16 * f[3] - f[4]) / (12 * h * h)
    got = exact_finite(L, 1 / K)
    assert got.energy == pytest.approx(-d1 / L ** 2, rel=1e-9)
    assert got.specific_heat == pytest.approx(K * K * d2 / L ** 2, rel=1e-6)


def test_exact_finite_large_lattice_is_fast_and_finite():
    T = np.linspace(0.5, 5.0, 50)
    start = time.perf_counter()
    out = exact_finite(1024, T)
    elapsed = time.perf_counter() - start
    assert np.all(np.isfinite(out.energy)) and np.all(np.isfinite(out.specific_heat))
    assert np.all(out.specific_heat >= 0)
    assert np.all(np.diff(out.energy) > 0)          # energy increases with T
    assert elapsed < 2.0


# -- enumeration -----------------------------------------------------------------------------

def test_density_of_states_facts():
    E, g = density_of_states(4)
    facts = dict(zip((-32, -24, -20, -16, -12, -8, -4, 0),
                     (2, 32, 64, 424, 1728, 6688, 13568, 20524)))
    got = dict(zip(E.tolist(), g.tolist()))
    for e, n in facts.items():
        assert got[e] == n and got[-e] == n
    assert 28 not in got and -28 not in got
    assert set(got) == set(facts) | {-e for e in facts}
    assert g.sum() == 2 ** 16


def all_states(L: int) -> torch.Tensor:
    """Every ±1 configuration of an L×L lattice, built with itertools (not bit tricks)."""
    return torch.tensor(list(itertools.product((1, -1), repeat=L * L)),
                        dtype=torch.float64).reshape(-1, L, L)


@pytest.mark.parametrize("L", [2, 3, 4])
def test_density_of_states_matches_mfcheck_energy(L):
    energies = lattice.energy(all_states(L)).numpy()
    values, counts = np.unique(energies, return_counts=True)
    E, g = density_of_states(L)
    np.testing.assert_array_equal(E, values.astype(np.int64))
    np.testing.assert_array_equal(g, counts)


@pytest.mark.parametrize("L, T, J, h", [(2, 1.0, 1.0, 0.0), (3, 2.0, 1.0, 0.3),
                                        (3, 1.5, -1.0, 0.0), (4, 2.5, 1.0, -0.2),
                                        (4, T_C, 0.7, 0.05)])
def test_enumeration_matches_brute_force_with_mfcheck_energy(L, T, J, h):
    s = all_states(L)
    E = lattice.energy(s, coupling=J, field=h).numpy()
    m = lattice.magnetization(s).numpy() / (L * L)
    w = np.exp(-(E - E.min()) / T)
    p = w / w.sum()
    got = exact_enumeration(L, T, coupling=J, field=h)
    N = L * L
    assert got.energy == pytest.approx(p @ E / N, abs=1e-12)
    assert got.specific_heat == pytest.approx((p @ E ** 2 - (p @ E) ** 2) / (N * T * T), abs=1e-10)
    assert got.magnetization == pytest.approx(p @ m, abs=1e-12)
    assert got.abs_magnetization == pytest.approx(p @ np.abs(m), abs=1e-12)
    assert got.m2 == pytest.approx(p @ m ** 2, abs=1e-12)
    assert got.m4 == pytest.approx(p @ m ** 4, abs=1e-12)
    assert got.log_partition == pytest.approx(math.log(w.sum()) - E.min() / T, abs=1e-12)
    # distributions: marginals of the joint, normalised, on the right support
    assert got.energy_probabilities.sum() == pytest.approx(1.0, abs=1e-14)
    np.testing.assert_allclose(got.joint_probabilities.sum(1), got.energy_probabilities, atol=1e-15)
    np.testing.assert_allclose(got.joint_probabilities.sum(0), got.magnetization_probabilities,
                               atol=1e-15)
    for value, prob in zip(got.magnetizations, got.magnetization_probabilities):
        assert prob == pytest.approx(p[np.isclose(m * N, value)].sum(), abs=1e-14)
    for value, prob in zip(got.energies, got.energy_probabilities):
        assert prob == pytest.approx(p[np.isclose(E, value, atol=1e-9)].sum(), abs=1e-14)
    assert got.binder == pytest.approx(1 - got.m4 / (3 * got.m2 ** 2))


def test_enumeration_limits():
    cold = exact_enumeration(4, 0.05)
    assert cold.energy == pytest.approx(-2.0) and cold.abs_magnetization == pytest.approx(1.0)
    assert cold.binder == pytest.approx(2 / 3)
    hot = exact_enumeration(4, 1e6)
    # independent spins: ⟨m²⟩ = 1/N, ⟨m⁴⟩ = (3N² − 2N)/N⁴
    N = 16
    assert hot.m2 == pytest.approx(1 / N, rel=1e-5)
    assert hot.m4 == pytest.approx((3 * N * N - 2 * N) / N ** 4, rel=1e-5)


# -- Curie–Weiss -----------------------------------------------------------------------------

def test_curie_weiss_limits():
    assert curie_weiss_magnetization(4.0) == 0.0            # T_c^MF = zJ = 4
    assert curie_weiss_magnetization(5.0) == 0.0
    assert curie_weiss_magnetization(1e-3) == pytest.approx(1.0, abs=1e-15)
    for t in (1e-4, 1e-8):  # m ≈ √(3t) just below T_c^MF, t = 1 − T/T_c
        m = curie_weiss_magnetization(4 * (1 - t))
        assert m == pytest.approx(math.sqrt(3 * t), rel=2 * t + 1e-9)
    # Curie–Weiss susceptibility above T_c: m ≈ h/(T − zJ) for small h
    assert curie_weiss_magnetization(6.0, field=1e-6) == pytest.approx(1e-6 / 2, rel=1e-6)
    assert curie_weiss_magnetization(6.0, z=6, coupling=0.5) == 0.0   # T_c^MF = 3
    assert curie_weiss_magnetization(2.0, field=-0.1) == -curie_weiss_magnetization(2.0, field=0.1)
    # J = 0: free spins
    assert curie_weiss_magnetization(2.0, coupling=0.0, field=0.5) == pytest.approx(math.tanh(0.25))
    # a field below float64 resolution still selects the stable branch, not m = 0
    assert curie_weiss_magnetization(2.0, field=5e-324) == curie_weiss_magnetization(2.0)


@settings(max_examples=60)
@given(T=st.floats(0.05, 20.0), z=st.sampled_from([2, 4, 6]), J=st.floats(-2.0, 2.0),
       h=st.floats(-2.0, 2.0).filter(lambda x: x == 0 or abs(x) > 1e-200))
def test_curie_weiss_root_is_a_stable_solution(T, z, J, h):
    m = curie_weiss_magnetization(T, z=z, coupling=J, field=h)
    beta = 1 / T
    assert m == pytest.approx(math.tanh(beta * (z * J * m + h)), abs=1e-12)
    # stable: the self-consistency map is a contraction at the root (or m = 0 at/above T_c^MF)
    slope = beta * z * J * (1 - m * m)
    assert slope <= 1 + 1e-9
    if h != 0:
        assert np.sign(m) == np.sign(h) or J < 0
    elif beta * z * J > 1:
        assert m > 0


# -- 1-D chain -------------------------------------------------------------------------------

def ring(n_power: int, T: float, J: float, h: float) -> tuple[float, float]:
    """⟨s⟩ and energy per spin on a ring of 2^n_power spins, from its 2×2 transfer matrix
    raised to that power by repeated (normalised) squaring."""
    b = 1 / T
    s = np.array([1.0, -1.0])
    Tm = np.exp(b * J * np.outer(s, s) + b * h * (s[:, None] + s[None, :]) / 2)
    Q, power = np.eye(2), Tm.copy()           # Q ∝ T^(n−1) = Π_{k<n_power} T^(2^k)
    for _ in range(n_power):
        Q = Q @ power
        Q /= np.abs(Q).max()
        power = power @ power
        power /= np.abs(power).max()
    S = np.diag(s)
    Z = np.trace(Tm @ Q)
    mean_s = np.trace(S @ Tm @ Q) / Z
    bond = np.trace(S @ Tm @ S @ Q) / Z        # ⟨s_0 s_1⟩
    return mean_s, -J * bond - h * mean_s


@pytest.mark.parametrize("T, J, h", [(1.0, 1.0, 0.0), (0.5, 1.0, 0.1), (2.0, 1.0, 0.5),
                                     (1.0, -1.0, 0.3), (3.0, 2.0, -1.0), (0.7, 0.5, 0.05)])
def test_chain_against_transfer_matrix(T, J, h):
    m_ring, e_ring = ring(40, T, J, h)
    assert chain_magnetization(T, h, coupling=J) == pytest.approx(m_ring, abs=1e-10)
    if h == 0:
        assert chain_energy(T, coupling=J) == pytest.approx(e_ring, abs=1e-10)


@settings(max_examples=40)
@given(T=st.floats(0.3, 10.0), J=st.floats(-2.0, 2.0), h=st.floats(-3.0, 3.0))
def test_chain_magnetization_hypothesis(T, J, h):
    m = chain_magnetization(T, h, coupling=J)
    assert -1 <= m <= 1
    assert chain_magnetization(T, -h, coupling=J) == -m
    # 2^40 spins: far longer than the (staggered) correlation length e^(2β|J|)/2 ≤ 3e5 here
    m_ring, _ = ring(40, T, J, h)
    assert m == pytest.approx(m_ring, abs=1e-9)


def test_chain_extremes_do_not_overflow():
    assert chain_magnetization(1e-3, 5.0) == 1.0
    assert chain_magnetization(1e-3, -5.0) == -1.0
    assert chain_magnetization(1.0, 0.0) == 0.0
    np.testing.assert_allclose(chain_magnetization(np.array([1.0, 2.0]), 0.3),
                               [chain_magnetization(1.0, 0.3), chain_magnetization(2.0, 0.3)])
    assert chain_energy(1e-3) == -1.0


# -- Binder cumulant -------------------------------------------------------------------------

def test_binder_cumulant():
    assert binder_cumulant(1.0, 1.0) == pytest.approx(2 / 3)
    assert binder_cumulant(2.0, 12.0) == pytest.approx(0.0)          # Gaussian: ⟨m⁴⟩ = 3⟨m²⟩²
    np.testing.assert_allclose(binder_cumulant([1.0, 2.0], [1.0, 12.0]), [2 / 3, 0.0])
    with pytest.raises(ValueError):
        binder_cumulant(0.0, 1.0)


def test_binder_cumulant_from_enumeration_orders_correctly():
    # ordered (low T) near 2/3, disordered (high T) toward 0, and monotone in between on 4×4
    U = [exact_enumeration(4, T).binder for T in (1.0, 2.0, T_C, 3.0, 10.0)]
    assert U[0] == pytest.approx(2 / 3, abs=1e-3)
    assert all(a > b for a, b in zip(U, U[1:]))
