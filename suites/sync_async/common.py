"""The suite object of ``sync-async`` and what all its checks share: the schedules
compared, the rate, and which solvers the checks apply to."""

from __future__ import annotations

from mfcheck.check import FALSE_FAILURE_RATE, Requires, Suite
from mfcheck.envs import SEQUENTIAL, SYNCHRONOUS, Schedule
from mfcheck.protocols import role_of

ALPHA = FALSE_FAILURE_RATE


suite = Suite("sync-async", role=("learner", "simulator"),
              description="k = 1, N/10 and N agents acting per step reach the same population "
                          "path on the epoch scale, the same equilibrium and the same "
                          "performance (Temporal Mean Field); Ising as the documented exception",
              reference_solvers=["mfcheck.reference.marl:TMF_LEARNERS",
                                 "mfcheck.nplayer:ReferenceSimulator"])

#: The three acting schedules compared: one agent per step, a tenth, everyone.
SCHEDULES = (("k = 1", SEQUENTIAL), ("k = N/10", Schedule("fraction", 0.1)),
             ("k = N", SYNCHRONOUS))


is_simulator = Requires(lambda solver: role_of(solver) == "simulator", "simulators")
is_tmf_learner = Requires(lambda solver: role_of(solver) == "learner"
                          and bool(getattr(solver, "tmf", False)),
                          "Temporal Mean Field learners (tmf = True)")
