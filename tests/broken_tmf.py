"""A deliberately broken Temporal Mean Field learner: `population-feedback` of the
``sync-async`` suite must catch it (tests/test_power_sync_async.py)."""

from __future__ import annotations

import torch

from mfcheck.reference.marl.tmf_pg import TMFPG


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
