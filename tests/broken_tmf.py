"""Deliberately broken Temporal Mean Field learners, written from the TMF learner protocol
(README, "A Temporal Mean Field learner"; `mfcheck.tmf`): each is the reference TMF-PG with
one bug, and a named check of the ``sync-async`` suite must give it status FAIL
(`CATALOGUE`, run by tests/test_power_catalogue.py)."""

from __future__ import annotations

import torch

from mfcheck.reference.marl.tmf_pg import TMFPG, population_features

from .catalogue import Entry


class IgnoresPopulation(TMFPG):
    """TMF-PG whose policy and critic are fed the uniform law instead of μ (the plausible
    bug of a policy network whose population input is left unconnected): it learns one
    stationary table, right at the populations it trained near and wrong elsewhere."""

    name = "broken: tmf-pg ignores the population"

    def population_input(self, population: torch.Tensor) -> torch.Tensor:
        return torch.full_like(population, 1.0 / population.shape[-1])


class LearnsFromIdleAgents(TMFPG):
    """TMF-PG that treats every agent as acting (the plausible bug of an update that
    forgets the acting mask): the environment still moves only the agents the schedule
    picks, but the learner sees an all-true mask and learns from the idle agents too, whose
    reward is 0 and whose state did not change. Exact at k = N, biased at k < N: the
    sync-async learner checks must tell."""

    name = "broken: tmf-pg learns from idle agents"

    def learn(self, env, *, steps, seed, temperature=None, monitor=None):
        real_mask, real_step = env.acting_mask, env.step
        schedule_rng = torch.Generator(device=env.device).manual_seed(seed + 1)
        env.acting_mask = lambda generator: torch.ones(env.batch, env.n_agents,
                                                       dtype=torch.bool, device=env.device)
        env.step = lambda actions, acting=None: real_step(actions, real_mask(schedule_rng))
        try:
            return super().learn(env, steps=steps, seed=seed, temperature=temperature,
                                 monitor=monitor)
        finally:
            del env.acting_mask, env.step


class StalePopulation(TMFPG):
    """TMF-PG that conditions its steps on the population of the last reset (the plausible
    bug of a population input cached once per episode): during training every step's
    features are φ(μ₀) while μ moves on; the returned policy reads the μ it is given."""

    name = "broken: tmf-pg conditions on a stale population"

    def learn(self, env, *, steps, seed, temperature=None, monitor=None):
        real_reset = env.reset

        def reset(generator):
            ob = real_reset(generator)
            self._stale = population_features(ob.population)
            return ob

        env.reset = reset
        try:
            return super().learn(env, steps=steps, seed=seed, temperature=temperature,
                                 monitor=monitor)
        finally:
            del env.reset, self._stale

    def features(self, population: torch.Tensor) -> torch.Tensor:
        return self._stale


CATALOGUE = [
    Entry("tests.broken_tmf:IgnoresPopulation", role="tmf-learner",
          bug_class="stale population",
          description="policy and critic fed the uniform law instead of μ",
          caught_by=("sync-async::population-feedback",)),
    Entry("tests.broken_tmf:LearnsFromIdleAgents", role="tmf-learner", bug_class="acting set",
          description="learns from every agent, idle ones included (all-true mask)",
          caught_by=("sync-async::same-equilibrium", "sync-async::same-performance")),
    Entry("tests.broken_tmf:StalePopulation", role="tmf-learner", bug_class="stale population",
          description="each training step conditioned on μ of the last reset",
          caught_by=("sync-async::population-feedback",)),
]
