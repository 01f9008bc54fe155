"""Reference mean-field learners (Yang et al. 2018) behind the learner protocol of
`mfcheck.protocols`.

``LEARNERS`` is what the learner suites run when no ``--solver`` is given
(spec ``mfcheck.reference.marl:LEARNERS``), tabular Q-functions and actors:

- ``mf-q``: mean-field Q-learning, tabular Q(s, a, ā) (ā interpolated on a grid of 1001
  points of the scalar mean action), Boltzmann policy (`mf_q`); where a suite leaves
  who acts to the learner (Gaussian squeeze), about 5 agents act per step;
- ``mf-ac``: mean-field actor-critic, softmax actor π(a|s) by natural policy gradient,
  critic Q(s, a, ā) as MF-Q's (`mf_ac`);
- ``il``, ``ac``: the paper's baselines without ā (``baseline = True``):
  independent Q-learning (`independent_q`, acting as ``mf-q`` does) and actor-critic
  (`actor_critic`).

``NEURAL_LEARNERS`` (spec ``mfcheck.reference.marl:NEURAL_LEARNERS``) are the same four
with an MLP in place of every table, the ones that take feature observations (battle).
On the Ising and Gaussian-squeeze suites ``mf-q-mlp`` misses the quick budgets (see
docs/learners.md), so they are not in ``LEARNERS``.

Every learner has ``learn(env, *, steps, seed, temperature=None, monitor=None)``:
it resets ``env`` with a generator seeded by ``seed`` on the env's device, steps it at
most ``steps`` times with ``env.acting_mask``, calls ``monitor(step, observation)`` after
each step if given, and returns ``policy(obs, mean_action) -> (batch, N, A)``. Replicas
are independent (one table or network each); on the CPU a seed gives bit-identical runs.
See docs/learners.md.
"""

from .actor_critic import ActorCritic
from .independent_q import IndependentQ
from .mf_ac import MFAC
from .mf_q import MFQ
from .tmf_pg import TMFPG

#: About this many agents act per step where a suite lets the learner choose (docs/learners.md).
AGENTS_PER_STEP = 5

LEARNERS = {
    "mf-q": MFQ(agents_per_step=AGENTS_PER_STEP),
    "mf-ac": MFAC(),
    "il": IndependentQ(agents_per_step=AGENTS_PER_STEP),
    "ac": ActorCritic(),
}

NEURAL_LEARNERS = {
    "mf-q-mlp": MFQ(approximator="mlp"),
    "mf-ac-mlp": MFAC(approximator="mlp"),
    "il-mlp": IndependentQ(approximator="mlp"),
    "ac-mlp": ActorCritic(approximator="mlp"),
}

#: Temporal Mean Field learners (``tmf = True``): they learn on a `mfcheck.envs.FiniteGameEnv`
#: and return policy(obs, population) (`tmf_pg`, docs/tmf.md).
TMF_LEARNERS = {"tmf-pg": TMFPG()}

__all__ = ["ActorCritic", "IndependentQ", "LEARNERS", "MFAC", "MFQ", "NEURAL_LEARNERS",
           "TMFPG", "TMF_LEARNERS"]
