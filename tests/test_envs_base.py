"""The N-agent environment interface: schedules, action sampling, step validation."""

from __future__ import annotations

import math

import pytest
import torch
from scipy import stats as sps

from mfcheck.envs import SEQUENTIAL, SYNCHRONOUS, AgentEnv, Observation, Schedule, sample_actions
from mfcheck.errors import InvalidPolicyError, UsageError

ALPHA = 1e-4  # false-failure rate of each stochastic assertion below


class Counter(AgentEnv):
    """Every agent's reward is its own action; no observations to speak of."""

    name, n_agents, n_actions, n_observations = "counter", 6, 3, 1

    def _reset(self, generator):
        self.actions = torch.zeros(self.shape, dtype=torch.long, device=self.device)
        return self._observe()

    def _step(self, actions, acting):
        self.actions = torch.where(acting, actions, self.actions)
        obs = self._observe()
        return Observation(obs.obs, obs.mean_action, self.actions.to(self.dtype), acting)

    def _observe(self):
        return Observation(torch.zeros(self.shape, dtype=torch.long, device=self.device),
                           torch.full(self.shape + (3,), 1 / 3, dtype=self.dtype,
                                      device=self.device))


def test_idle_agents_keep_their_actions():
    env = Counter(batch=2)
    env.reset(torch.Generator())
    acting = torch.tensor([[True, False] * 3, [False] * 6])
    out = env.step(torch.full((2, 6), 2), acting)
    assert out.reward.tolist() == [[2.0, 0.0] * 3, [0.0] * 6]
    assert out.acting is acting


@pytest.mark.parametrize("actions, acting, message", [
    (torch.zeros(2, 5, dtype=torch.long), None, "shape (2, 5)"),
    (torch.zeros(2, 6), None, "must be integers"),
    (torch.full((2, 6), 3), None, "takes action 3, not in range(3)"),
    (torch.zeros(2, 6, dtype=torch.long), torch.ones(2, 6), "dtype torch.float32"),
    ([[0] * 6] * 2, None, "must be a torch.Tensor"),
])
def test_bad_steps_are_refused_with_a_clear_message(actions, acting, message):
    env = Counter(batch=2)
    env.reset(torch.Generator())
    with pytest.raises(InvalidPolicyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        env.step(actions, acting)


def test_an_out_of_range_action_of_an_idle_agent_is_ignored():
    env = Counter(batch=1)
    env.reset(torch.Generator())
    acting = torch.tensor([[True] * 5 + [False]])
    assert env.step(torch.tensor([[1] * 5 + [99]]), acting).reward[0, -1] == 0


def test_step_before_reset():
    with pytest.raises(UsageError, match="before reset"):
        Counter().step(torch.zeros(1, 6, dtype=torch.long))


def test_schedules():
    g = torch.Generator().manual_seed(1)
    assert SYNCHRONOUS.mask(3, 5, g, torch.device("cpu")).all()
    one = SEQUENTIAL.mask(1000, 5, g, torch.device("cpu"))
    assert (one.sum(1) == 1).all()
    # Which agent acts is uniform: χ² over 1000 draws at false-failure rate ALPHA.
    assert sps.chisquare(one.sum(0).numpy()).pvalue > ALPHA
    frac = Schedule("fraction", 0.2).mask(200, 50, g, torch.device("cpu"))
    n, p = frac.numel(), 0.2
    z = (frac.sum().item() - n * p) / math.sqrt(n * p * (1 - p))
    assert abs(z) < sps.norm.isf(ALPHA / 2)
    assert Schedule.parse("0.25") == Schedule("fraction", 0.25)
    assert str(Schedule.parse("one")) == "one" and str(Schedule("fraction", 0.5)) == "fraction=0.5"
    assert Schedule("fraction", 0.5).agents_per_round(10) == 5


@pytest.mark.parametrize("text", ["some", "0", "1.5", "-0.1"])
def test_bad_schedules(text):
    with pytest.raises(UsageError, match="schedule"):
        Schedule.parse(text)


def test_sample_actions_follows_the_probabilities():
    g = torch.Generator().manual_seed(0)
    probs = torch.tensor([0.1, 0.0, 0.6, 0.3], dtype=torch.float64)
    n = 100_000
    draws = sample_actions(probs.expand(n, 4), g)
    counts = torch.bincount(draws, minlength=4)
    assert counts[1] == 0
    keep = probs > 0
    assert sps.chisquare(counts[keep].numpy(), n * probs[keep].numpy()).pvalue > ALPHA


def test_sample_actions_never_picks_a_zero_probability_action_at_the_end():
    probs = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64).expand(10_000, 3)
    assert (sample_actions(probs, torch.Generator().manual_seed(3)) == 0).all()


def test_an_epoch_is_n_agent_decisions_whatever_the_schedule():
    schedules = [Schedule("one"), Schedule("fraction", 0.1), Schedule("all")]
    assert [s.steps(1000) for s in schedules] == [1000, 10, 1]
    assert [s.steps(1000, epochs=3) for s in schedules] == [3000, 30, 3]
    assert Schedule("one").acting_fraction(1000) == 1e-3
    assert Schedule("fraction", 0.3).steps(1000) == 3  # 3.33 steps, rounded
