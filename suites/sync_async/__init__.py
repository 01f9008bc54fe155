"""Suite ``sync-async``: k agents acting per step, for k = 1, N/10 and N, reach the same
place (docs/sync_async.md; the Temporal Mean Field of `mfcheck.tmf`).

The TMF claim: letting k of the N agents act per step changes the time scale (an *epoch*
is N agent decisions, N/k steps) and the transients, not the mean-field limit. The
population recursion T_κ(μ) = (1 − κ)μ + κΦ(μ), κ = k/N, has the fixed points of Φ for
every κ, so the stationary population, the equilibrium and the performance do not depend
on k. One module per concept:

- `simulators` (role ``simulator``): idle agents keep their state
  (`idle-agents-keep-state`, deterministic), and the mean over replicas of μ̂_N after 1
  and 2 epochs follows T_κ for κ = 1/N, 0.1 and 1 (`population-recursion`, z-tests).
- `training`: the learner games (resource selection against its analytic logit
  equilibrium, queueing against a checked planner's, `logit_equilibrium`), the margins of
  N agents (`snapshot_error`), and the training of a TMF learner under every schedule.
- `equivalence` (TMF learners): `same-equilibrium` and `same-performance`, equivalence
  shown by two one-sided tests (`mfcheck.stats.equivalence_test`): a comparison passes
  only when the (1 − 2α) interval of the difference lies inside ±δ, δ fixed before the run
  from what the comparison means (the resolution of N agents), never from a measured gap.
  An interval too wide for its margin fails, and the message says so.
- `feedback`: the learned policy responds to μ as the TMF equilibrium does
  (`population-feedback`).
- `ising_exception`: the documented exception, shown: on the Ising stage game the
  interaction is local, agents are not exchangeable, and the Boltzmann policy played one
  agent at a time and all at once orders differently (`ising-exception`, a check of
  mfcheck itself that passes only when the gap is significant).
"""

from __future__ import annotations

from mfcheck.reference.fixed_point import FixedPoint

# the modules in the order their checks are listed (registration order)
from . import simulators, training, equivalence, feedback, ising_exception  # noqa: I001
from .common import ALPHA, SCHEDULES, is_simulator, is_tmf_learner, suite
from .equivalence import (SNAPSHOTS, same_equilibrium, same_performance,
                          snapshot_exploitability, snapshot_policies)
from .feedback import FEEDBACK_GAMES, MyopicGame, myopic_equilibrium, table_distance
from .simulators import DYNAMICS, SIMULATOR_PLANS, Dynamics
from .training import (EQUILIBRIUM_GAMES, LEARNER_PLANS, QueueGame, ResourceGame,
                       logit_equilibrium, snapshot_error, stationary_population,
                       train_schedules)

__all__ = ["ALPHA", "DYNAMICS", "EQUILIBRIUM_GAMES", "FEEDBACK_GAMES", "FixedPoint",
           "LEARNER_PLANS", "SCHEDULES", "SIMULATOR_PLANS", "SNAPSHOTS", "Dynamics",
           "MyopicGame", "QueueGame", "ResourceGame", "equivalence", "feedback",
           "is_simulator", "is_tmf_learner", "ising_exception", "logit_equilibrium",
           "myopic_equilibrium", "same_equilibrium", "same_performance", "simulators",
           "snapshot_error", "snapshot_exploitability", "snapshot_policies",
           "stationary_population", "suite", "table_distance", "train_schedules", "training"]
