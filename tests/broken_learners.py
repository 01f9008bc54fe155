"""Deliberately broken mean-field learners, written from the learner protocol alone
(README, "A mean-field learner"; `mfcheck.protocols`): each is the reference MF-Q with one
bug (or, for uniform bids, no learning at all), and a named check of the learner suites
(``ising-mfq``, ``gaussian-squeeze``) must give it status FAIL: `CATALOGUE`, run by
tests/test_power_catalogue.py.

None declares ``baseline``: each claims to be mean-field Q-learning. Bugs in what the
learner *sees* (its mean action, the mask it steps with) are planted through `EnvView`, the
environment as the buggy learner reads it, so that MF-Q's own code runs unchanged.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from mfcheck.envs import sample_actions
from mfcheck.envs.base import Observation, one_hot_mean
from mfcheck.reference.marl import AGENTS_PER_STEP, MFQ
from mfcheck.reference.marl.mf_q import check_steps
from mfcheck.reference.marl.policies import boltzmann, softmax

from .catalogue import Entry


class IgnoresMeanAction(MFQ):
    """Learns Q(s, a) and acts on it as if it were Q(s, a, ā): the mean action is dropped."""

    uses_mean_action = False


def _anti_boltzmann(values, temperature, relative=False):
    return boltzmann(-values, temperature, relative)


class FlippedBoltzmann(MFQ):
    """softmax(−Q/τ): prefers the worst action (a sign error in eq. 12)."""

    action_rule = staticmethod(_anti_boltzmann)


class BootstrapsFromCurrentStep(MFQ):
    """v^MF(s) of the observation before the step in place of v^MF(s') (eq. 11)."""

    @staticmethod
    def bootstrap_from(learned, following):
        return learned


def _temperature_as_beta(values, temperature, relative=False):
    tau = temperature.view(-1, *(1,) * (values.dim() - 1))
    if relative:
        tau = tau * values.abs().amax(-1, keepdim=True).clamp_min(torch.finfo(values.dtype).tiny)
    return softmax(values * tau)


class TemperatureAsBeta(MFQ):
    """softmax(τ·Q): the temperature it is given used as an inverse temperature β."""

    action_rule = staticmethod(_temperature_as_beta)


class EnvView:
    """The environment as a buggy learner reads it: ``see(observation)`` rewrites every
    observation it returns; everything else is the real environment's."""

    def __init__(self, env) -> None:
        self._env = env

    def see(self, ob: Observation) -> Observation:
        return ob

    def reset(self, generator):
        return self.see(self._env.reset(generator))

    def step(self, actions, acting=None):
        return self.see(self._env.step(actions, acting))

    def __getattr__(self, name):
        return getattr(self._env, name)


class ViewedMFQ(MFQ):
    """MF-Q trained on ``view(env)`` instead of ``env``."""

    view = EnvView

    def learn(self, env, *, steps, seed, temperature=None, monitor=None):
        return super().learn(self.view(env), steps=steps, seed=seed, temperature=temperature,
                             monitor=monitor)


def neighbourhood_size(env) -> int:
    """How many agents an agent's ā averages over, by the environments' definitions
    (`mfcheck.envs`): four lattice neighbours in the Ising game, the N − 1 others in the
    Gaussian squeeze."""
    return 4 if hasattr(env, "spins") else env.n_agents - 1


class WithSelfView(EnvView):
    """ā averaged over the neighbourhood *and the agent itself*:
    (m·ā + onehot(own action))/(m + 1)."""

    def see(self, ob):
        m = neighbourhood_size(self._env)
        own = one_hot_mean(self._env.actions, self._env.n_actions, ob.mean_action.dtype)
        return replace(ob, mean_action=(m * ob.mean_action + own) / (m + 1))


class IncludesSelfInMeanAction(ViewedMFQ):
    """Counts the agent in its own mean action (the environment's ā excludes it)."""

    view = WithSelfView


class StaleMeanActionView(EnvView):
    """The mean action one step late: after a step the learner sees the ā from before it."""

    def __init__(self, env) -> None:
        super().__init__(env)
        self._last = None

    def see(self, ob):
        last, self._last = self._last, ob.mean_action
        return ob if last is None or ob.reward is None else replace(ob, mean_action=last)


class StaleMeanAction(ViewedMFQ):
    """Pairs each reward with the mean action observed before the step instead of the one
    it was paid for (eq. 11 indexes Q at ā after the step)."""

    view = StaleMeanActionView


class AllActView(EnvView):
    def step(self, actions, acting=None):
        return self.see(self._env.step(actions, None))


class IgnoresActingMask(ViewedMFQ):
    """Draws the acting mask but steps every agent (``env.step(actions)`` without it)."""

    view = AllActView


class FirstReplicaView(EnvView):
    """The environment as a learner with one random stream for all replicas sees it: only
    replica 0 (batch 1); its actions and acting mask are broadcast to every replica."""

    batch = 1

    def see(self, ob):
        first = {k: (None if v is None else v[:1]) for k, v in vars(ob).items()}
        return replace(ob, **first)

    @property
    def shape(self):
        return (1, self._env.n_agents)

    @property
    def actions(self):
        return self._env.actions[:1]

    def acting_mask(self, generator):
        return self._env.acting_mask(generator)[:1]

    def step(self, actions, acting=None):
        every = self._env.shape
        return self.see(self._env.step(actions.expand(every),
                                       None if acting is None else acting.expand(every)))


class SharedRandomStream(ViewedMFQ):
    """One random stream for every replica (the plausible bug of broadcasting one replica's
    draws over the batch): every replica plays replica 0's actions and learns replica 0's
    Q; the returned policy is that one Q read at each replica's own observation. Replicas
    then differ only by their resets and their evaluation, so an SE across them is not an
    SE across seeds."""

    view = FirstReplicaView

    def learn(self, env, *, steps, seed, temperature=None, monitor=None):
        if temperature is not None and torch.is_tensor(temperature) and temperature.dim():
            temperature = temperature[:1]
        policy = super().learn(env, steps=steps, seed=seed, temperature=temperature,
                               monitor=monitor)
        return lambda obs, mean_action: torch.cat(
            [policy(obs[i:i + 1], mean_action[i:i + 1]) for i in range(obs.shape[0])])


class IgnoresObservation(MFQ):
    """Learns Q(s, a, ā) but its returned policy reads every agent as in observation 0."""

    def learn(self, env, *, steps, seed, temperature=None, monitor=None):
        policy = super().learn(env, steps=steps, seed=seed, temperature=temperature,
                               monitor=monitor)
        return lambda obs, mean_action: policy(torch.zeros_like(obs), mean_action)


class UniformBids:
    """No learning: spends its budget on uniform random actions and returns the uniform
    policy (the Gaussian squeeze's starting behaviour)."""

    name = "broken: uniform random actions"

    def learn(self, env, *, steps, seed, temperature=None):
        check_steps(steps)
        gen = torch.Generator(device=env.device).manual_seed(seed)
        env.reset(gen)
        uniform = torch.full((env.n_actions,), 1.0 / env.n_actions, dtype=torch.float64,
                             device=env.device)
        for _ in range(steps):
            env.step(sample_actions(uniform.expand(*env.shape, -1), gen), env.acting_mask(gen))
        return lambda obs, mean_action: uniform.expand(*obs.shape, -1)


BROKEN = {
    "ignores-mean-action": IgnoresMeanAction(agents_per_step=AGENTS_PER_STEP,
                                             name="mf-q-ignoring-ā"),
    "flipped-boltzmann": FlippedBoltzmann(agents_per_step=AGENTS_PER_STEP,
                                          name="mf-q-flipped-boltzmann"),
    "bootstraps-from-current-step": BootstrapsFromCurrentStep(
        agents_per_step=AGENTS_PER_STEP, name="mf-q-bootstrapping-from-s"),
    "temperature-as-beta": TemperatureAsBeta(agents_per_step=AGENTS_PER_STEP,
                                             name="mf-q-temperature-as-β"),
    "includes-self-in-mean-action": IncludesSelfInMeanAction(
        agents_per_step=AGENTS_PER_STEP, name="mf-q-ā-including-self"),
    "stale-mean-action": StaleMeanAction(agents_per_step=AGENTS_PER_STEP,
                                         name="mf-q-ā-one-step-late"),
    "ignores-acting-mask": IgnoresActingMask(agents_per_step=AGENTS_PER_STEP,
                                             name="mf-q-everyone-acting"),
    "ignores-observation": IgnoresObservation(agents_per_step=AGENTS_PER_STEP,
                                              name="mf-q-policy-ignoring-s"),
    "uniform-bids": UniformBids(),
    "shared-random-stream": SharedRandomStream(agents_per_step=AGENTS_PER_STEP,
                                               name="mf-q-one-stream-for-all-replicas"),
}

_SPEC = "tests.broken_learners:BROKEN[{}]"

CATALOGUE = [
    Entry(_SPEC.format("ignores-mean-action"), role="learner", bug_class="mean action",
          description="Q(s, a) without ā, acted on as if it were Q(s, a, ā)",
          caught_by=("ising-mfq::synchronous-acting",)),
    Entry(_SPEC.format("flipped-boltzmann"), role="learner", bug_class="sign",
          description="softmax(−Q/τ): prefers the worst action",
          caught_by=("ising-mfq::synchronous-acting",)),
    Entry(_SPEC.format("bootstraps-from-current-step"), role="learner",
          bug_class="time indexing",
          description="bootstraps from v^MF(s) of the observation before the step, not s'",
          caught_by=("ising-mfq::bellman-fixed-point",)),
    Entry(_SPEC.format("temperature-as-beta"), role="learner",
          bug_class="temperature convention",
          description="softmax(τ·Q): the temperature used as β",
          caught_by=("ising-mfq::synchronous-acting",)),
    Entry(_SPEC.format("includes-self-in-mean-action"), role="learner", bug_class="mean action",
          description="ā averaged over the neighbourhood and the agent itself",
          caught_by=("ising-mfq::synchronous-acting",)),
    Entry(_SPEC.format("stale-mean-action"), role="learner", bug_class="time indexing",
          description="each reward paired with the ā seen before the step",
          caught_by=("ising-mfq::synchronous-acting",)),
    Entry(_SPEC.format("ignores-acting-mask"), role="learner", bug_class="acting set",
          description="steps every agent, whatever mask the schedule draws",
          caught_by=("gaussian-squeeze::reaches-optimum",), games=("N=500",)),
    Entry(_SPEC.format("ignores-observation"), role="learner", bug_class="observation ignored",
          description="the returned policy reads every agent as in observation 0",
          caught_by=("ising-mfq::bellman-fixed-point",)),
    Entry(_SPEC.format("shared-random-stream"), role="learner", bug_class="random stream",
          description="one random stream for every replica: replica 0's draws broadcast",
          caught_by=("gaussian-squeeze::replica-independence",)),
    Entry(_SPEC.format("uniform-bids"), role="learner", bug_class="no learning",
          description="uniform random actions, before and after its budget",
          caught_by=("gaussian-squeeze::reaches-optimum",), games=("N=100",)),
]
