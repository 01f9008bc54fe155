"""The reference mean-field learners (`mfcheck.reference.marl`): exact answers on the Ising
stage game, the soft Bellman fixed point, the protocol, reproducibility, independent
replicas, dead agents, and the pieces (interpolated table, sampling, relative temperature)."""

from __future__ import annotations

import math

import pytest
import torch

from mfcheck import stats
from mfcheck.envs import SEQUENTIAL, Observation, Schedule
from mfcheck.envs.gaussian_squeeze import GaussianSqueeze
from mfcheck.envs.ising import IsingGame
from mfcheck.errors import UsageError
from mfcheck.boundary import learner_policy
from mfcheck.reference.marl import LEARNERS, MFAC, MFQ, NEURAL_LEARNERS, IndependentQ
from mfcheck.reference.marl.approximators import TabularQ
from mfcheck.reference.marl.mf_ac import relative_advantages
from mfcheck.reference.marl.policies import boltzmann, cumulative, sample_from_cdf

ALPHA = 1e-4  # false-failure rate of the one stochastic assertion below
F64 = torch.float64


def _mean_actions(env, k: int) -> torch.Tensor:
    """ā of every agent when k of its four neighbours are up."""
    share = torch.tensor([1 - k / 4, k / 4], dtype=F64, device=env.device)
    return share.expand(*env.shape, 2).contiguous()


def _zeros(env) -> torch.Tensor:
    return torch.zeros(env.shape, dtype=torch.long, device=env.device)


# -- exact answers --------------------------------------------------------------------------------

@pytest.mark.parametrize("bins", [5, 1001])
def test_mf_q_learns_the_ising_reward_table_and_plays_heat_bath(device, bins):
    """One agent at a time, Q(a, ā) becomes the reward r(a, ā) = a(h + λn/2) exactly, so
    the Boltzmann policy is the heat bath at β = λ/(2τ): P(up) = σ((2h + λn)/τ)."""
    coupling, field = 1.5, 0.3
    env = IsingGame(8, coupling=coupling, field=field, batch=3, schedule=SEQUENTIAL,
                    device=device)
    tau = torch.tensor([0.7, 1.5, 3.0], dtype=F64, device=device)
    policy = learner_policy(MFQ(bins=bins), env, steps=50, seed=3, temperature=tau)
    table = policy.policy.q.table[:, 0, ::(bins - 1) // 4]  # (B, k = 0..4, a)
    n = torch.arange(5, dtype=F64, device=device) * 2 - 4  # neighbour spin sum
    reward = torch.stack([-(field + coupling * n / 2), field + coupling * n / 2], -1)
    assert torch.allclose(table, reward.expand_as(table), rtol=0, atol=1e-12)
    for k in range(5):
        p_up = policy(_zeros(env), _mean_actions(env, k))[..., 1]
        heat_bath = torch.sigmoid((2 * field + coupling * n[k]) / tau)[:, None]
        assert torch.allclose(p_up, heat_bath.expand_as(p_up), rtol=0, atol=1e-12)


def _soft_bellman_fixed_point(field, flip_cost, discount, tau):
    """Q*(s, a) = r(s, a) + γ Σ_a' softmax(Q*(a, ·)/τ)(a') Q*(a, a') for the Ising game at
    λ = 0 (state = own previous spin, next state = own action), by iteration."""
    spin = torch.tensor([-1.0, 1.0], dtype=F64)
    reward = field * spin[None, :] - flip_cost * (spin[None, :] != spin[:, None])
    q = torch.zeros(2, 2, dtype=F64)
    for _ in range(2000):
        v = (torch.softmax(q / tau, -1) * q).sum(-1)  # v(s') for s' = 0, 1
        q = reward + discount * v[None, :]  # next state = the action taken
    return q


@pytest.mark.parametrize("learner", [MFQ(bins=5, learning_rate=0.5),
                                     IndependentQ(learning_rate=0.5)], ids=["mf-q", "il"])
def test_the_discounted_update_reaches_the_soft_bellman_fixed_point(learner):
    """With a flip cost the observation is the own previous spin and v^MF bootstraps from
    the next observation; Q must be the exact fixed point, not the myopic reward (a
    bootstrap from the wrong step has another fixed point). λ = 0: every mean-action bin
    holds the same MDP; the one with two of four neighbours up is visited at every step."""
    field, flip_cost, discount, tau = 0.2, 1.0, 0.5, 1.0
    env = IsingGame(6, coupling=0.0, field=field, flip_cost=flip_cost, discount=discount,
                    batch=2)
    policy = learner_policy(learner, env, steps=200, seed=0, temperature=torch.ones(2))
    table = policy.policy.q.table  # (B, s, bins, a)
    learned = table[:, :, table.shape[2] // 2]
    expected = _soft_bellman_fixed_point(field, flip_cost, discount, tau)
    assert torch.allclose(learned, expected.expand_as(learned), rtol=0, atol=1e-10)


@pytest.mark.parametrize("name", list(LEARNERS))
def test_every_learner_learns_a_field(name):
    """λ = 0, h = 1: r = h·s, so every learner (at τ = 0.1 if Boltzmann) plays up."""
    env = IsingGame(4, coupling=0.0, field=1.0, batch=2)
    policy = learner_policy(LEARNERS[name], env, steps=200, seed=1,
                            temperature=torch.full((2,), 0.1, dtype=F64))
    p_up = policy(_zeros(env), _mean_actions(env, 2))[..., 1]
    assert p_up.min() > 0.99


# -- the protocol ---------------------------------------------------------------------------------

class Recorder:
    """An environment that counts what the learner does with it."""

    def __init__(self, env) -> None:
        self._env, self.resets, self.drawn, self.passed = env, 0, [], []

    def reset(self, generator):
        self.resets += 1
        return self._env.reset(generator)

    def acting_mask(self, generator):
        self.drawn.append(self._env.acting_mask(generator))
        return self.drawn[-1]

    def step(self, actions, acting=None):
        self.passed.append(acting)
        return self._env.step(actions, acting)

    def __getattr__(self, name):
        return getattr(self._env, name)


GAMES = {"ising": lambda device: IsingGame(4, batch=2, schedule=Schedule("fraction", 0.5),
                                           device=device),
         "squeeze": lambda device: GaussianSqueeze(12, batch=2, mu=40.0, sigma=20.0,
                                                   schedule=SEQUENTIAL, device=device)}


@pytest.mark.parametrize("game", list(GAMES))
@pytest.mark.parametrize("name", list(LEARNERS))
def test_learn_follows_the_protocol(device, name, game):
    env = Recorder(GAMES[game](device))
    seen = []
    policy = LEARNERS[name].learn(env, steps=7, seed=0, monitor=lambda k, ob: seen.append(k))
    assert env.resets == 1 and len(env.passed) == 7 and seen == list(range(7))
    assert all(torch.equal(d, p) for d, p in zip(env.drawn, env.passed))
    probs = policy(_zeros(env), torch.full(
        (*env.shape, env.n_actions), 1 / env.n_actions, dtype=F64, device=device))
    assert probs.shape == (*env.shape, env.n_actions) and probs.device == env.device
    assert torch.allclose(probs.sum(-1), torch.ones((), dtype=F64, device=device))


@pytest.mark.parametrize("name", list(LEARNERS))
def test_zero_steps_give_a_valid_policy(name):
    env = IsingGame(4, batch=2)
    policy = learner_policy(LEARNERS[name], env, steps=0, seed=0)
    policy(_zeros(env), _mean_actions(env, 1))  # a ValidatedPolicy raises if it is not


def _final_policy(learner, env, seed, **kw):
    policy = learner.learn(env, steps=25, seed=seed, **kw)
    return torch.cat([policy(_zeros(env), _mean_actions(env, k)) for k in range(5)], -1)


@pytest.mark.parametrize("name", list(LEARNERS))
def test_a_seed_gives_bit_identical_runs(name):
    def run(seed):
        env = IsingGame(4, batch=2, schedule=Schedule("fraction", 0.5))
        seen = []
        policy = LEARNERS[name].learn(env, steps=25, seed=seed,
                                      monitor=lambda k, ob: seen.append(ob.mean_action))
        return torch.stack(seen), policy(_zeros(env), _mean_actions(env, 1))

    (path, policy), (again, same) = run(7), run(7)
    assert torch.equal(path, again) and torch.equal(policy, same)
    assert not torch.equal(path, run(8)[0])


@pytest.mark.parametrize("learner", [MFQ(), MFQ(approximator="mlp"), IndependentQ()],
                         ids=["mf-q", "mf-q-mlp", "il"])
def test_replicas_share_nothing(learner):
    """Changing replica 1's temperature leaves replica 0's run bit for bit unchanged."""
    def run(tau1):
        return _final_policy(learner, IsingGame(4, batch=2),
                             seed=0, temperature=torch.tensor([0.8, tau1], dtype=F64))

    a, b = run(2.0), run(5.0)
    assert torch.equal(a[0], b[0])
    assert not torch.equal(a[1], b[1])


# -- dead agents ----------------------------------------------------------------------------------

class Casualties(IsingGame):
    """The Ising game with a flip cost and discount where a fixed set of agents is dead:
    ``alive`` says who, and the dead are paid NaN (learning from them poisons Q). With
    ``features`` the observation is a feature vector (own spin one-hot, a constant)."""

    def __init__(self, *, features: bool, **kw) -> None:
        super().__init__(4, flip_cost=0.5, discount=0.5, batch=2,
                         schedule=Schedule("fraction", 0.5), **kw)
        self.alive = torch.arange(self.n_agents) % 3 != 0
        self.alive = self.alive.expand(self.shape).clone()
        if features:
            self.n_observations, self.observation_shape = None, (3,)

    def _features(self, ob: Observation) -> Observation:
        if self.n_observations is None:
            obs = torch.cat([torch.nn.functional.one_hot(self.actions, 2).to(F64),
                             torch.ones(*self.shape, 1, dtype=F64)], -1)
            ob = Observation(obs, ob.mean_action, ob.reward, ob.acting)
        return ob

    def _reset(self, generator):
        return self._features(super()._reset(generator))

    def _step(self, actions, acting):
        assert not (acting & ~self.alive).any(), "a dead agent was made to act"
        ob = super()._step(actions, acting)
        return self._features(Observation(ob.obs, ob.mean_action,
                                          ob.reward.masked_fill(~self.alive, math.nan),
                                          ob.acting))


@pytest.mark.parametrize("name, features", [(n, False) for n in LEARNERS]
                         + [(n, True) for n in NEURAL_LEARNERS])
def test_dead_agents_neither_act_nor_teach(name, features):
    env = Casualties(features=features)
    learner = {**LEARNERS, **NEURAL_LEARNERS}[name]
    policy = learner_policy(learner, env, steps=30, seed=0)
    ob = env.reset(torch.Generator().manual_seed(1))
    assert torch.isfinite(policy(ob.obs, ob.mean_action)).all()


def test_a_table_cannot_read_feature_observations():
    with pytest.raises(UsageError, match="feature observations"):
        MFQ().learn(Casualties(features=True), steps=1, seed=0)


# -- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("make, call, message", [
    (MFQ, dict(temperature=torch.tensor([1.0, -1.0])), "temperature must be positive"),
    (MFQ, dict(temperature=torch.ones(3)), r"one per replica \(batch = 2\)"),
    (MFQ, dict(steps=-1), "steps must be an int"),
    (MFAC, dict(steps=2.5), "steps must be an int"),
])
def test_bad_arguments_are_refused_with_a_clear_message(make, call, message):
    kw = dict(steps=1, seed=0) | call
    with pytest.raises(UsageError, match=message):
        make().learn(IsingGame(4, batch=2), **kw)


@pytest.mark.parametrize("make, message", [
    (lambda: MFQ(approximator="cnn"), "approximator must be 'tabular' or 'mlp'"),
    (lambda: MFQ(learning_rate=2.0), r"learning_rate must be in \(0, 1\]"),
    (lambda: MFQ(relative_temperature=0.0), "relative_temperature must be > 0"),
    (lambda: MFAC(actor_learning_rate=-1.0), "actor_learning_rate must be > 0"),
    (lambda: MFQ(bins=0).learn(IsingGame(4), steps=1, seed=0), "bins must be a positive int"),
])
def test_bad_settings_are_refused_with_a_clear_message(make, message):
    with pytest.raises(UsageError, match=message):
        make()


# -- the pieces ------------------------------------------------------------------------------------

def test_the_table_interpolates_between_grid_points():
    """A mean action between two grid points reads their linear interpolation; its first
    target sets both entries (first visit: step 1), so it reads back the target."""
    env = GaussianSqueeze(10, batch=1)
    q = TabularQ(env, bins=10)  # grid points m = 0, 1, ..., 9
    mean = torch.zeros(1, 10, 10, dtype=F64)
    mean[..., 2], mean[..., 3] = 0.75, 0.25  # m = 2.25
    (key,) = q.keys(mean, _zeros(env))
    actions = torch.full((1, 10), 4)
    q.regress(key, actions, torch.full((1, 10), 8.0, dtype=F64), None)
    assert q.table[0, 0, 2:4, 4].tolist() == [8.0, 8.0]
    assert torch.equal(q.evaluate(key, lambda v: v)[..., 4], torch.full((1, 10), 8.0, dtype=F64))
    q.table[0, 0, 3, 4] = 0.0
    assert torch.allclose(q.evaluate(key, lambda v: v)[..., 4],
                          torch.full((1, 10), 6.0, dtype=F64))


def test_the_advantage_ignores_actions_the_critic_has_not_seen():
    env = IsingGame(4, batch=1)
    critic = TabularQ(env)
    (key,) = critic.keys(None, _zeros(env))
    critic.regress(key, torch.ones(env.shape, dtype=torch.long),
                   torch.full(env.shape, 2.0, dtype=F64), None)  # only action 1 is known
    uniform = torch.full((*env.shape, 2), 0.5, dtype=F64)
    assert torch.equal(relative_advantages(critic, key, uniform), torch.zeros_like(uniform))
    critic.regress(key, _zeros(env), torch.full(env.shape, 1.0, dtype=F64), None)
    advantage = relative_advantages(critic, key, uniform)  # (Q − Σ π Q)/max |Q| = ∓1/4
    assert torch.allclose(advantage, torch.tensor([-0.25, 0.25], dtype=F64).expand_as(uniform))


def test_the_relative_temperature_ignores_the_unit_of_the_reward():
    """Every reward × 1024 (exact in binary): the same run, bit for bit."""
    def run(scale):
        env = IsingGame(4, coupling=scale, field=0.5 * scale, batch=2,
                        schedule=Schedule("fraction", 0.5))
        return _final_policy(MFQ(), env, seed=4)

    assert torch.equal(run(1.0), run(1024.0))
    values = torch.randn(3, 5, 4, dtype=F64)
    tau = torch.tensor([0.1, 1.0, 10.0], dtype=F64)
    assert torch.equal(boltzmann(values, tau, relative=True),
                       boltzmann(values * 2.0 ** -40, tau, relative=True))


def test_sampling_by_inverse_cdf_has_the_right_distribution():
    probs = torch.tensor([0.05, 0.0, 0.3, 0.15, 0.5], dtype=F64)
    n = 200_000
    draws = sample_from_cdf(cumulative(probs.expand(1, n, 5)), torch.Generator().manual_seed(0))
    counts = torch.bincount(draws.view(-1), minlength=5)
    assert counts[1] == 0
    keep = probs > 0
    test = stats.chi_square_test(counts[keep].numpy(), probs[keep].numpy(), ALPHA)
    assert test.passed, test.message
