"""The N-player simulator and N-player exploitability (`mfcheck.nplayer`).

Every stochastic assertion states its false-failure rate: ``ALPHA`` per test, split over
its sub-tests by Bonferroni; standard errors come from independent replicas (Student t
on replicas − 1 degrees of freedom) or from exact multinomial laws (χ²). Expected values
come from `mfcheck.kernels` or from exact enumeration (`mfcheck.nplayer.exact`), never
from a previous run.
"""

from __future__ import annotations

import math
import re

import pytest
import torch

from mfcheck import stats
from mfcheck.check import FALSE_FAILURE_RATE as ALPHA
from mfcheck.envs import Schedule
from mfcheck.errors import InvalidPolicyError, UsageError
from mfcheck.game import FiniteMFG
from mfcheck.games import random_game
from mfcheck.kernels import Values, distribution, exploitability, policy_value
from mfcheck.nplayer import (ReferenceSimulator, deviator_mdp, exact_exploitability,
                             simulate, simulated_exploitability, state_law)
from mfcheck.nplayer import native_kernel, sampling
from mfcheck.nplayer.exact import count_vectors
from mfcheck.nplayer.simulator import acting_agents


@pytest.fixture(autouse=True)
def one_thread():
    """These tensors are small: with one thread, no op waits on a second OpenMP thread that
    a busy 2-core machine has descheduled (30x faster here under load)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def random_policy(game: FiniteMFG, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(game.policy_shape, generator=gen, dtype=game.dtype)
    return torch.softmax(logits, -1).to(game.device)


def static_game(device, discount: float = 0.5, horizon: int | None = None) -> FiniteMFG:
    """Rewards and transitions that do not depend on L: every agent's decisions form the
    same Markov decision process, whatever the others do and whatever the schedule."""
    gen = torch.Generator().manual_seed(11)
    S, A = 3, 2
    r = torch.rand(S, A, generator=gen, dtype=torch.float64).to(device)
    p = torch.softmax(3 * torch.randn(S, A, S, generator=gen, dtype=torch.float64), -1).to(device)
    mu0 = torch.tensor([0.6, 0.3, 0.1], dtype=torch.float64, device=device)
    return FiniteMFG(mu0, lambda t, L: r.expand(*L.shape[:-2], S, A),
                     lambda t, L: p.expand(*L.shape[:-2], S, A, S), n_actions=A,
                     horizon=horizon, discount=discount, batched=True, name="static")


def coupled_game(device, horizon: int | None = 4, discount: float = 1.0) -> FiniteMFG:
    """Rewards and transitions that depend on the whole state-action distribution L: a
    congestion cost on the action marginal, a crowd cost on μ, and moves that mix two laws
    by Σ_s c_s L(s, 0) (how many take action 0, weighted by where they are). So what every
    agent's state *and* action contribute to L̂_N matters."""
    gen = torch.Generator().manual_seed(21)
    S, A = 3, 2
    base = torch.rand(S, A, generator=gen, dtype=torch.float64).to(device)
    c = torch.rand(S, generator=gen, dtype=torch.float64).to(device)
    q = torch.softmax(2 * torch.randn(2, S, A, S, generator=gen, dtype=torch.float64), -1)
    q0, q1 = q.to(device)
    mu0 = torch.tensor([0.5, 0.3, 0.2], dtype=torch.float64, device=device)

    def reward(t, L):
        return base - 2 * L.sum(-2, keepdim=True) - L.sum(-1, keepdim=True)

    def transition(t, L):
        w = (L[..., 0] @ c)[..., None, None, None]
        return q0 + w * (q1 - q0)

    return FiniteMFG(mu0, reward, transition, n_actions=A, horizon=horizon, discount=discount,
                     batched=True, name="coupled")


def assert_means(samples: torch.Tensor, expected: torch.Tensor, alpha: float, what: str):
    """Each column of ``samples`` (replicas, m) has mean ``expected`` (m,): t-tests across
    replicas, Bonferroni over the m columns."""
    est = stats.across_seeds(samples)
    for j, (m, se, e) in enumerate(zip(est.mean, est.standard_error, expected.tolist())):
        test = stats.z_test(m, e, se, stats.bonferroni(alpha, samples.shape[1]), dof=est.dof)
        assert test.passed, f"{what}[{j}]: {m:.6g} vs {e:.6g} (SE {se:.3g}, z = {test.z:.2f})"


# -- sampling -----------------------------------------------------------------------------

def test_alias_tables_and_inverse_cdfs_draw_the_law(device):
    gen = torch.Generator().manual_seed(3)
    probs = torch.rand(4, 7, generator=gen, dtype=torch.float64)
    probs[:, 2] = 0.0
    probs[1] = torch.tensor([0, 0, 0, 1.0, 0, 0, 0])
    probs = (probs / probs.sum(-1, keepdim=True)).to(device)
    n = 50_000
    rows = torch.arange(4, device=device).repeat_interleave(n)
    u = sampling.low_half(sampling.words(torch.tensor([12345], device=device),
                                         torch.arange(4 * n, device=device)))
    alpha = stats.bonferroni(ALPHA, 2 * 3)  # χ² on rows 0, 2, 3; row 1 is deterministic
    for method, draws in (("alias", sampling.AliasTable(probs).draw(rows, u)),
                          ("inverse CDF", sampling.inverse_cdf(probs[rows], u))):
        assert (draws[rows == 1] == 3).all()
        for r in (0, 2, 3):
            counts = torch.bincount(draws[rows == r], minlength=7)
            assert counts[probs[r] == 0].sum() == 0, f"{method} drew an outcome of probability 0"
            test = stats.chi_square_test(counts.cpu(), probs[r].cpu(), alpha)
            assert test.passed, f"{method}, row {r}: p = {test.p_value:.3g}"


def test_extreme_uniforms_never_draw_probability_zero(device):
    probs = torch.tensor([[0.0, 0.5, 0.0, 0.5, 0.0], [0.2, 0.0, 0.0, 0.0, 0.8]],
                         dtype=torch.float64, device=device)
    u = torch.tensor([0, 1, sampling.SCALE // 2 - 1, sampling.SCALE // 2, sampling.SCALE - 1],
                     device=device)
    for r in range(2):
        rows = torch.full_like(u, r)
        for draws in (sampling.AliasTable(probs).draw(rows, u),
                      sampling.inverse_cdf(probs[rows], u)):
            assert (probs[r][draws] > 0).all()


def test_replica_keys_do_not_depend_on_the_batch_size(device):
    assert torch.equal(sampling.replica_keys(5, 3, device), sampling.replica_keys(5, 8, device)[:3])


# -- the simulator against exact laws -----------------------------------------------------

def test_small_population_matches_the_exact_law_of_its_counts(device):
    """N = 3 in a game whose transitions depend on L: the law of the population's counts
    at every epoch is enumerated exactly; χ² per epoch, Bonferroni over epochs."""
    game = coupled_game(device)
    pi = random_policy(game)
    N, B = 3, 20_000
    law = state_law(deviator_mdp(game, pi, N), pi)          # (H, S, C) of (x0, others)
    others = count_vectors(N - 1, 3)
    totals = count_vectors(N, 3)
    index = {tuple(v): i for i, v in enumerate(totals.tolist())}
    to_total = torch.zeros(3, len(others), len(totals), dtype=torch.float64)
    for x in range(3):
        for c, v in enumerate(others.tolist()):
            v[x] += 1
            to_total[x, c, index[tuple(v)]] = 1.0
    expected = torch.einsum("txc,xcn->tn", law.cpu(), to_total)
    mu = simulate(game, pi, n_agents=N, batch=B, seed=7).mu            # (B, H, S)
    counts = torch.round(mu * N).long().cpu()
    for t in range(game.horizon):
        code = torch.tensor([index[tuple(v)] for v in counts[:, t].tolist()])
        test = stats.chi_square_test(torch.bincount(code, minlength=len(totals)), expected[t],
                                     stats.bonferroni(ALPHA, game.horizon))
        assert test.passed, f"epoch {t}: p = {test.p_value:.3g}"


def test_population_mean_is_the_mean_field_flow_without_interaction(device):
    """Transitions independent of L: every agent's state has law μ_t exactly, so
    E μ̂_N = μ_t for every N."""
    game = random_game(4, 2, horizon=5, seed=4, monotone=True, device=device)
    pi = random_policy(game, 1)
    mu = distribution(game, pi).mu
    tr = simulate(game, pi, n_agents=1000, batch=64, seed=3)
    assert_means(tr.mu.reshape(64, -1).cpu(), mu.reshape(-1).cpu(), ALPHA, "mu")


def test_empirical_distribution_converges_at_rate_one_over_root_n(device):
    """Transitions that depend on L: E‖μ̂_N − μ‖₁ ∝ N^(-1/2) (a least-squares slope of the
    log error over N = 1e2 … 1e4, 64 replicas each; its 1 − α interval must hold −1/2)."""
    game = random_game(4, 2, horizon=4, seed=7, coupling=2.0, device=device)
    pi = random_policy(game)
    mu = distribution(game, pi).mu[-1]
    Ns, logs, sigmas = [100, 1000, 10_000], [], []
    for N in Ns:
        err = (simulate(game, pi, n_agents=N, batch=64, seed=N).mu[:, -1] - mu).abs().sum(-1)
        est = stats.across_seeds(err)
        logs.append(math.log(est.mean))
        sigmas.append(est.standard_error / est.mean)
    fit = stats.fit_slope([math.log(n) for n in Ns], logs, sigma=sigmas, confidence=1 - ALPHA)
    assert fit.interval[0] <= -0.5 <= fit.interval[1], fit


@pytest.mark.parametrize("acting", ["all", "one", "0.25"])
def test_schedules_follow_their_exact_mean_recursions(device, acting):
    """Transitions independent of L: E μ̂ after a round is μ((1 − f)I + f P_π) with f = k/N
    the chance that a given agent acts (1, 1/N, 0.25): exact for every N. Run 4 epochs."""
    game = static_game(device)
    pi = random_policy(game, 2)
    N, B = 8, 400
    f = {"all": 1.0, "one": 1 / N, "0.25": 0.25}[acting]
    rounds = round(4 / f)
    tr = simulate(game, pi, n_agents=N, acting=acting, rounds=rounds, batch=B, seed=1)
    P = torch.einsum("sa,sap->sp", pi, game.transition(0, game.mu0[:, None] * pi))
    step = (1 - f) * torch.eye(3, dtype=torch.float64, device=device) + f * P
    expected = [game.mu0]
    for _ in range(rounds):
        expected.append(expected[-1] @ step)
    picks = torch.linspace(0, rounds, 5).round().long()   # one record per epoch
    assert_means(tr.mu[:, picks].reshape(B, -1).cpu(),
                 torch.stack(expected)[picks].reshape(-1).cpu(), ALPHA, f"mu ({acting})")


def test_sequential_and_synchronous_agree_in_distribution_at_stationarity(device):
    """Transitions independent of L: after 60 epochs (the mean recursions are within 1e-12
    of the stationary μ*), both k = 1 and k = N have the counts of independent agents at
    μ*: Multinomial(N, μ*). χ² on the count of agents in state 0, Bonferroni over both."""
    game = static_game(device)
    pi = random_policy(game, 2)
    N, B, epochs = 6, 2000, 60
    P = torch.einsum("sa,sap->sp", pi, game.transition(0, game.mu0[:, None] * pi)).cpu()
    mu_star = torch.linalg.matrix_power(P, 1000)[0]
    assert (game.mu0.cpu() @ torch.linalg.matrix_power(P, epochs) - mu_star).abs().max() < 1e-12
    binomial = torch.distributions.Binomial(N, mu_star[0]).log_prob(
        torch.arange(N + 1, dtype=torch.float64)).exp()
    for acting, rounds in (("all", epochs), ("one", epochs * N)):
        mu = simulate(game, pi, n_agents=N, acting=acting, rounds=rounds, batch=B, seed=4,
                      record_every=rounds).mu[:, -1]
        counts = torch.bincount(torch.round(mu[:, 0] * N).long().cpu(), minlength=N + 1)
        test = stats.chi_square_test(counts, binomial, stats.bonferroni(ALPHA, 2))
        assert test.passed, f"{acting}: p = {test.p_value:.3g}"


def test_returns_discount_each_agent_by_its_own_decisions(device):
    """Nothing depends on L: agent 0's return over its own decisions is the MDP value of π
    from μ0 for every schedule. Tolerance: the t threshold × SE, plus the exact bound on
    truncation after R rounds, E γ^d · max|r|/(1 − γ), d ~ Binomial(R, f)."""
    game = static_game(device)
    pi = random_policy(game, 3)
    flow = distribution(game, pi)
    value = (policy_value(game, pi, flow).v @ game.mu0).item()
    r_max = game.reward(0, flow.L).abs().max().item()
    N, B = 5, 3000
    alpha = stats.bonferroni(ALPHA, 3)
    for acting, f in (("all", 1.0), ("one", 1 / N), ("0.5", 0.5)):
        rounds = round(50 / f)
        tr = simulate(game, pi, n_agents=N, acting=acting, rounds=rounds, batch=B, seed=9)
        est = stats.across_seeds(tr.deviator_return)
        truncation = (1 - f * (1 - game.discount)) ** rounds * r_max / (1 - game.discount)
        tolerance = est.critical_value(alpha) * est.standard_error + truncation
        assert abs(est.mean - value) <= tolerance, (acting, est.mean, value, tolerance)


# -- schedules, reproducibility -----------------------------------------------------------

@pytest.mark.parametrize("acting", ["one", "0.3"])
def test_idle_agents_keep_their_state(device, acting):
    """One more round changes only the agents that act in it (the first rounds of a run
    do not depend on how many follow)."""
    game = random_game(4, 3, horizon=None, discount=0.9, seed=5, device=device)
    pi = random_policy(game)
    n, N, B = 7, 50, 6
    before = simulate(game, pi, n_agents=N, acting=acting, rounds=n, batch=B, seed=2).states
    after = simulate(game, pi, n_agents=N, acting=acting, rounds=n + 1, batch=B, seed=2).states
    acting_now = torch.zeros(B * N, dtype=torch.bool, device=device)
    acting_now[acting_agents(sampling.replica_keys(2, B, device), n, Schedule.parse(acting),
                             N)] = True
    changed = (before != after).reshape(-1)
    assert changed.any() and not (changed & ~acting_now).any()


def test_runs_are_reproducible_and_replicas_independent_of_batch_size(device):
    game = random_game(3, 2, horizon=None, discount=0.8, seed=6, device=device)
    pi = random_policy(game)
    kw = dict(n_agents=40, acting="0.5", rounds=6)
    a = simulate(game, pi, batch=4, seed=3, **kw)
    b = simulate(game, pi, batch=4, seed=3, **kw)
    c = simulate(game, pi, batch=9, seed=3, **kw)
    d = simulate(game, pi, batch=4, seed=4, **kw)
    assert torch.equal(a.mu, b.mu) and torch.equal(a.states, b.states)
    assert torch.equal(a.mean_return, b.mean_return)
    assert torch.equal(a.states, c.states[:4]) and torch.equal(a.mu, c.mu[:4])
    assert not torch.equal(a.states, d.states)


@pytest.mark.parametrize("horizon, acting, n_agents, threads",
                         [(None, "all", 600, 1), (3, "all", 600, 1), (None, "all", 70_000, 2),
                          (None, "0.5", 600, 1), (None, "0.3", 600, 1),
                          (None, "0.6", 120_000, 2)])
def test_native_kernel_draws_what_torch_draws_bit_for_bit(horizon, acting, n_agents, threads):
    """The C kernel against the torch reference, with a deviating agent 0 (and its control
    variate), on one thread and (above `PARALLEL_MIN_DRAWS` draws) on two; synchronous
    rounds (`draw_codes`) and asynchronous ones (`draw_at`: f·N = 180 to 300 draws per
    replica take the alias tables of both the policy, 15 entries, and the transition, 75)."""
    if native_kernel.load() is None:
        pytest.skip(f"native kernel unavailable: {native_kernel.unavailable_reason()}")
    torch.set_num_threads(threads)
    game = random_game(5, 3, horizon=horizon, discount=0.9, seed=8, coupling=2.0)
    pi = random_policy(game, 4)
    deviation = game.uniform_policy()
    values = policy_value(game, deviation, distribution(game, pi))
    rounds = None if horizon else 3 if acting == "all" else 10
    kw = dict(n_agents=n_agents, acting=acting, rounds=rounds, batch=2, seed=5, deviation=deviation, agent_returns=True, deviator_values=values)
    a, b = (simulate(game, pi, backend=backend, **kw) for backend in ("torch", "native"))
    assert (a.deviator_decisions > 0).all()  # agent 0 acted, so its draws were compared too
    for field in ("mu", "states", "mean_return", "deviator_return", "deviator_decisions",
                  "agent_returns", "deviator_control"):
        assert torch.equal(getattr(a, field), getattr(b, field)), field


def test_reference_simulator_follows_the_protocol(device):
    game = random_game(3, 2, horizon=3, seed=1, device=device)
    tr = ReferenceSimulator().simulate(game, game.uniform_policy(), n_agents=10, acting="all",
                                       rounds=None, batch=2, seed=0)
    assert tr.mu.shape == (2, 3, 3) and tr.mean_return.shape == (2,)
    assert tr.mu.device.type == device.type
    assert torch.allclose(tr.mu.sum(-1), torch.ones(2, 3, dtype=torch.float64, device=device))


class _Returns:
    """A simulator whose trajectory.mu is whatever it is given (or that raises it)."""

    def __init__(self, mu):
        self.mu = mu

    def simulate(self, game, policy, **kwargs):
        if isinstance(self.mu, Exception):
            raise self.mu
        return self


@pytest.mark.parametrize("mu, words", [
    (RuntimeError("out of memory"), "raised RuntimeError: out of memory"),
    (torch.full((2, 4, 3), 1 / 3, dtype=torch.float64), "expected shape (2, 5, 3)"),
    ([[0.5, 0.5]], "gave trajectory.mu list"),
    (torch.full((2, 5, 3), 0.5, dtype=torch.float64), "not a distribution"),
    (torch.full((2, 5, 3), float("nan"), dtype=torch.float64), "replica 0 at record 0"),
])
def test_a_simulators_broken_output_becomes_a_solver_error(mu, words):
    from mfcheck.errors import SolverError
    from mfcheck.boundary import simulator_populations

    game = random_game(3, 2, horizon=None, discount=0.9, seed=1)
    with pytest.raises(SolverError, match=re.escape(words)):
        simulator_populations(_Returns(mu), game, game.uniform_policy(), n_agents=10,
                              acting="one", rounds=4, batch=2, seed=0)


def test_simulator_populations_passes_only_the_options_it_is_given():
    from mfcheck.boundary import simulator_populations

    game = random_game(3, 2, horizon=None, discount=0.9, seed=1)
    mu = simulator_populations(ReferenceSimulator(), game, game.uniform_policy(), n_agents=10,
                               acting="one", rounds=4, batch=2, seed=0, record_every=2,
                               initial=game.mu0)
    assert mu.shape == (2, 3, 3)
    seen = {}

    class Minimal:  # no record_every, no initial: still usable when they are not needed
        def simulate(self, game, policy, *, n_agents, acting, rounds, batch, seed):
            seen.update(n_agents=n_agents, rounds=rounds)
            return simulate(game, policy, n_agents=n_agents, acting=acting, rounds=rounds,
                            batch=batch, seed=seed)

    simulator_populations(Minimal(), game, game.uniform_policy(), n_agents=10, acting="one",
                          rounds=4, batch=2, seed=0)
    assert seen == {"n_agents": 10, "rounds": 4}


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(n_agents=0), UsageError, "n_agents"),
    (dict(n_agents=2.5), UsageError, "n_agents"),
    (dict(acting="0"), UsageError, "fraction"),
    (dict(acting="1.5"), UsageError, "fraction"),
    (dict(acting="some"), UsageError, "schedule"),
    (dict(rounds=None), UsageError, "rounds"),
    (dict(rounds=10, record_every=3), UsageError, "record_every"),
    (dict(batch=0), UsageError, "batch"),
    (dict(initial=[0.5, 0.5]), UsageError, "initial"),
    (dict(policy=torch.ones(3, 3)), InvalidPolicyError, "shape"),
    (dict(policy=torch.full((2, 3, 2), 0.5, dtype=torch.float64)), InvalidPolicyError,
     "one policy"),
    (dict(policy=torch.full((3, 2), 0.7, dtype=torch.float64)), InvalidPolicyError, "sums"),
])
def test_bad_arguments_raise_one_line_errors(kwargs, error, words):
    game = random_game(3, 2, horizon=None, discount=0.9, seed=1)
    args = dict(policy=game.uniform_policy(), n_agents=5, rounds=10) | kwargs
    with pytest.raises(error) as info:
        simulate(game, args.pop("policy"), **args)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_finite_horizon_games_need_synchronous_rounds():
    game = random_game(3, 2, horizon=3, seed=1)
    for kwargs in (dict(acting="one"), dict(rounds=5)):
        with pytest.raises(UsageError, match="horizon"):
            simulate(game, game.uniform_policy(), n_agents=5, **kwargs)


# -- N-player exploitability ------------------------------------------------------------

@pytest.mark.parametrize("horizon", [4, None])
def test_simulated_and_exact_exploitability_agree(device, horizon):
    """N = 2, 3, 4: the paired simulation estimate of the mean-field best response's gain
    agrees with its exact value (t-test across replicas, Bonferroni over N); the true
    N-player best response gains at least as much. Stationary: γ = 0.3, 30 rounds, so
    truncation moves each return by at most 0.3^30·max|r|/0.7 < 1e-15."""
    game = coupled_game(device, horizon, discount=0.3 if horizon is None else 1.0)
    pi = random_policy(game, 5)
    for N in (2, 3, 4):
        exact = exact_exploitability(game, pi, n_agents=N)
        assert exact.best_gain >= exact.deviation_gain - 1e-12
        sim = simulated_exploitability(game, pi, n_agents=N, rounds=30 if horizon is None else None,
                                       batch=3000, seed=N)
        test = stats.z_test(sim.gain, exact.deviation_gain, sim.standard_error,
                            stats.bonferroni(ALPHA, 3), dof=sim.dof)
        assert test.passed, f"N = {N}: {sim.gain:.5f} ± {sim.standard_error:.2g} vs exact " \
                            f"{exact.deviation_gain:.5f}"


@pytest.mark.parametrize("horizon, acting", [(4, "all"), (None, "all"), (None, "one")])
def test_control_variates_have_mean_zero_whatever_the_values(device, horizon, acting):
    """Agent 0's control variate has mean 0 for *any* value functions (here random ones,
    not the mean-field values): t-test across replicas."""
    game = coupled_game(device, horizon, discount=0.6 if horizon is None else 0.9)
    pi = random_policy(game, 6)
    gen = torch.Generator().manual_seed(1)
    values = Values(torch.randn(game.policy_shape[:-1], generator=gen, dtype=torch.float64),
                    torch.randn(game.policy_shape, generator=gen, dtype=torch.float64))
    tr = simulate(game, pi, n_agents=4, acting=acting, rounds=None if horizon else 40,
                  batch=4000, seed=2, deviation=random_policy(game, 7), deviator_values=values)
    est = stats.across_seeds(tr.deviator_control)
    test = stats.z_test(est.mean, 0.0, est.standard_error, ALPHA, dof=est.dof)
    assert test.passed, f"mean control {est.mean:.4g} ± {est.standard_error:.2g}"


def test_sequential_exploitability_without_interaction_is_the_mean_field_one(device):
    """Nothing depends on L: agent 0 faces the mean-field MDP whatever N and k, so its
    gain is `mfcheck.kernels.exploitability` exactly, up to truncation: each run's mean
    return is off by at most E γ^d · max|r|/(1 − γ), d ~ Binomial(R, 1/N)."""
    game = static_game(device)
    pi = random_policy(game, 3)
    N, rounds = 5, 300
    sim = simulated_exploitability(game, pi, n_agents=N, acting="one", rounds=rounds,
                                   batch=2000, seed=4)
    expected = exploitability(game, pi).item()
    r_max = game.reward(0, distribution(game, pi).L).abs().max().item()
    truncation = 2 * (1 - (1 - game.discount) / N) ** rounds * r_max / (1 - game.discount)
    est = stats.ReplicateEstimate(sim.gain, sim.standard_error, sim.dof + 1, sim.dof)
    tolerance = est.critical_value(ALPHA) * sim.standard_error + truncation
    assert abs(sim.gain - expected) <= tolerance, (sim.gain, expected, tolerance)


def test_exact_enumeration_refuses_what_it_cannot_hold():
    game = random_game(6, 4, horizon=2, seed=1)
    with pytest.raises(UsageError, match="MAX_ENTRIES"):
        exact_exploitability(game, game.uniform_policy(), n_agents=9)


@pytest.mark.parametrize("fraction, n", [(0.01, 5000), (0.3, 40), (0.9, 25)])
def test_bernoulli_positions_select_each_position_independently_with_probability_f(fraction, n):
    """The O(k) acting set of a fraction schedule (geometric gaps): positions increasing,
    distinct and in range; over 4000 replicas each position's frequency and the count's
    variance are those of independent Bernoulli(f) draws (z-tests, 1e-4 Bonferroni)."""
    from scipy import stats as st
    B = 4000
    keys = sampling.replica_keys(7, B, torch.device("cpu"))
    flat = sampling.bernoulli_positions(keys, 12345, fraction, n)
    assert (flat.diff() > 0).all() and int(flat.min()) >= 0 and int(flat.max()) < B * n
    chosen = torch.zeros(B * n, dtype=torch.float64)
    chosen[flat] = 1.0
    chosen = chosen.reshape(B, n)
    alpha = stats.bonferroni(ALPHA, 3)
    per_position = chosen.mean(0)  # each ~ Binomial(B, f)/B
    worst = float((per_position - fraction).abs().max())
    bound = float(st.norm.isf(alpha / (2 * n))) * math.sqrt(fraction * (1 - fraction) / B)
    assert worst <= bound, (worst, bound)
    counts = stats.across_seeds(chosen.sum(1))
    assert stats.z_test(counts.mean, n * fraction, counts.standard_error, alpha,
                        dof=counts.dof).passed
    variance = stats.across_seeds((chosen.sum(1) - n * fraction) ** 2)
    assert stats.z_test(variance.mean, n * fraction * (1 - fraction), variance.standard_error,
                        alpha, dof=variance.dof).passed
