"""The ``ising-mfq`` suite: its machinery against the environment and exact answers, and
its checks on small, exact learners (a correct one passes, broken ones fail)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from mfcheck import stats
from mfcheck.analytic import ising as exact
from mfcheck.check import Budget, Context
from mfcheck.envs import SYNCHRONOUS, Schedule, sample_actions
from mfcheck.envs.ising import IsingGame
from mfcheck.suites import ising_mfq
from mfcheck.suites.ising_mfq import (FlipGame, Lattice, Plan, play, play_sequential,
                                      policy_table)

ALPHA = 1e-4


class StageOracle:
    """Boltzmann policy of the exact stage-game Q(a, ā) = a·(h + λ·n/2), n = 4·(2ā₊ − 1);
    ``sign = -1`` flips the Boltzmann sign, ``sees_mean_action = False`` replaces n by 0."""

    boltzmann = True

    def __init__(self, sign: float = 1.0, sees_mean_action: bool = True):
        self.sign, self.sees_mean_action = sign, sees_mean_action

    def learn(self, env, *, steps, seed, temperature):
        tau = temperature[:, None]

        def policy(obs, mean_action):
            n = 4 * (2 * mean_action[..., 1] - 1) if self.sees_mean_action else 0 * obs
            q = env.field + env.coupling / 2 * n
            return torch.stack([torch.sigmoid(-2 * self.sign * q / tau),
                                torch.sigmoid(2 * self.sign * q / tau)], -1)
        return policy


class SoftQ:
    """Tabular soft (Boltzmann) Q-learning on Q(s, a), shared by a replica's agents, from
    every agent's transition; ``bootstrap_from_next=False`` uses v(s) instead of v(s')."""

    boltzmann = True

    def __init__(self, bootstrap_from_next: bool = True):
        self.bootstrap_from_next = bootstrap_from_next

    def learn(self, env, *, steps, seed, temperature):
        gen = torch.Generator(device=env.device).manual_seed(seed)
        tau = temperature[:, None, None]
        q = torch.zeros(env.batch, env.n_observations, 2, dtype=torch.float64)
        rows = torch.arange(env.batch)[:, None]

        def policy(obs, mean_action):
            return torch.softmax(q[rows, obs] / tau, -1)

        ob = env.reset(gen)
        for _ in range(steps):
            actions = sample_actions(policy(ob.obs, ob.mean_action), gen)
            nxt = env.step(actions, env.acting_mask(gen))
            v_from = nxt.obs if self.bootstrap_from_next else ob.obs
            pi = policy(v_from, nxt.mean_action)
            v = (pi * q[rows, v_from]).sum(-1)
            target = nxt.reward + env.discount * v
            q[rows, ob.obs, env.actions] += 0.1 * (target - q[rows, ob.obs, env.actions])
            ob = nxt
        return policy


def _ctx(tmp_path=None):
    return Context(seed=0, budget=Budget.QUICK, device=torch.device("cpu"), report_dir=tmp_path)


# -- the machinery -----------------------------------------------------------------------------

def _agent_dependent_policy(env):
    """P(up) depends on the agent, its observation and ā, so that a table is not trivial."""
    bias = torch.linspace(-1, 1, env.n_agents, dtype=torch.float64, device=env.device)

    def policy(obs, mean_action):
        logit = 3 * mean_action[..., 1] - 1.2 + bias + 0.5 * obs
        return torch.stack([torch.sigmoid(-logit), torch.sigmoid(logit)], -1)
    return policy


@pytest.mark.parametrize("schedule", [SYNCHRONOUS, Schedule("fraction", 0.3)])
def test_play_is_a_rollout_through_the_environment_bit_for_bit(device, schedule):
    env = IsingGame(4, batch=3, schedule=schedule, device=device)
    policy = _agent_dependent_policy(env)
    table = policy_table(policy, env)
    ob = env.reset(torch.Generator(device=device).manual_seed(5))
    start = env.actions.clone()
    gen = torch.Generator(device=device).manual_seed(9)
    sums = []
    for _ in range(6):
        for _ in range(round(16 / schedule.agents_per_round(16))):
            acting = env.acting_mask(gen)
            ob = env.step(sample_actions(policy(ob.obs, ob.mean_action), gen), acting)
        spins = env.spins.double().view(3, 16)
        even = torch.tensor([(i // 4 + i % 4) % 2 == 0 for i in range(16)], device=device)
        sums.append(torch.stack([spins[:, even].sum(1), spins[:, ~even].sum(1)], -1))
    played = play(table, start, schedule, 6, 4, torch.Generator(device=device).manual_seed(9))
    assert torch.equal(played, torch.stack(sums, 1))


def test_policy_table_reads_the_policy_at_every_mean_action():
    env = IsingGame(3, batch=2, flip_cost=0.5)
    policy = _agent_dependent_policy(env)
    for obs in (0, 1):
        table = policy_table(policy, env, obs=obs)
        assert table.shape == (2, 9, 5, 2)
        for k in range(5):
            ma = torch.tensor([1 - k / 4, k / 4], dtype=torch.float64).expand(2, 9, 2)
            assert torch.equal(table[:, :, k], policy(torch.full((2, 9), obs), ma))


def _heat_bath_table(T: float, batch: int, N: int) -> torch.Tensor:
    """P(up | k up-neighbours) of the heat bath at temperature T (J = 1), every agent."""
    n = 2 * torch.arange(5, dtype=torch.float64) - 4
    up = torch.sigmoid(2 * n / T)
    return torch.stack([1 - up, up], -1).expand(batch, N, 5, 2)


@pytest.mark.parametrize("how", ["one at a time", "synchronous composite"])
def test_heat_bath_tables_sample_the_exact_boltzmann_law_on_4x4(how):
    """Random-site heat bath, and the composite (even at t, odd at t+1) of synchronous heat
    bath, have the Boltzmann law: ⟨|m|⟩ on 4x4 at T = 2.5 equals exact enumeration."""
    T, chains, sweeps = 2.5, 64, 600
    gen = torch.Generator().manual_seed(3)
    up = torch.randint(2, (chains, 16), generator=gen)
    table = _heat_bath_table(T, chains, 16)
    if how == "one at a time":
        sums = play_sequential(table, up, sweeps, 4, gen)
    else:
        sums = play(table, up, SYNCHRONOUS, sweeps, 4, gen)
        sums = torch.stack([sums[:, :-1, 0], sums[:, 1:, 1]], -1)
    xi = (sums.sum(-1).abs() / 16)[:, 50:].numpy()
    table_exact = exact.exact_enumeration(4, T)
    expected = float((np.abs(table_exact.magnetizations) / 16
                      * table_exact.joint_probabilities.sum(0)).sum())
    mean, se, dof = stats.conservative_mean(xi)
    assert stats.z_test(mean, expected, se, ALPHA, dof=dof).passed, (mean, se, expected)


# -- the checks on exact and broken learners -----------------------------------------------------

SMALL = Plan(taus=(0.6, 1.135, 2.0), replicas=4, chains=2, train_sweeps=1, min_train_steps=0,
             settle=10, sweeps=60, mcmc_sweeps=1500, mcmc_burn_in=500)


@pytest.fixture
def small_plan(monkeypatch):
    monkeypatch.setitem(ising_mfq.PLANS, Budget.QUICK, SMALL)


@pytest.mark.parametrize("check", ["order-parameter", "synchronous-acting"])
def test_the_exact_boltzmann_policy_passes(small_plan, tmp_path, check):
    out = ising_mfq.suite.checks[check].fn(StageOracle(), Lattice(L=8), _ctx(tmp_path))
    assert out.passed, out.message
    csv = next(p for p in out.artifacts if p.endswith(".csv"))
    rows = [line.split(",") for line in open(csv).read().splitlines()]
    curves = {"order-parameter": 1 + 3, "synchronous-acting": 1 + 2}[check]  # MCMC + learner's
    assert len(rows) == 1 + len(SMALL.taus) and {len(r) for r in rows} == {1 + 2 * curves}
    assert [float(r[0]) for r in rows[1:]] == [2 * t for t in SMALL.taus]  # T = 2τ/λ
    assert any(p.endswith(".png") for p in out.artifacts)


@pytest.mark.parametrize("broken", [StageOracle(sign=-1.0), StageOracle(sees_mean_action=False)],
                         ids=["boltzmann-sign-flipped", "ignores-mean-action"])
@pytest.mark.parametrize("check", ["order-parameter", "synchronous-acting"])
def test_broken_policies_fail(small_plan, check, broken):
    out = ising_mfq.suite.checks[check].fn(broken, Lattice(L=8), _ctx())
    assert not out.passed, out.message


def test_bellman_fixed_point_catches_bootstrapping_from_the_wrong_time_step():
    game = dataclasses.replace(FlipGame(), L=6)
    check = ising_mfq.suite.checks["bellman-fixed-point"].fn
    good = check(SoftQ(), game, _ctx())
    assert good.passed and good.measured < 1e-3, good.message
    bad = check(SoftQ(bootstrap_from_next=False), game, _ctx())
    assert not bad.passed and bad.measured > 0.05, bad.message
