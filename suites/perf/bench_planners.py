"""asv benchmarks of the reference planners: one iteration of each.

asv imports this file as ``perf.bench_planners``; installed, it is
``mfcheck.suites.perf.bench_planners``, and ``mfcheck bench`` runs the same classes
in-process. The games come from the sibling ``bench_kernels`` by a *relative* import,
which resolves inside whichever package holds this file (asv's ``perf``, or
``mfcheck.suites.perf``), so asv still runs the current checkout's files.

``PlannerIteration``: the first policy of every reference planner that mfcheck registers
(`mfcheck.reference.PLANNERS`: fictitious play, mirror descent, damped fixed point,
softmax fictitious play, best-response iteration), from the uniform policy, on
``crowd_modelling`` small (10, H 10) and large (100, H 100), dense transitions. An
iteration is what the planner computes before it yields: flows, a best response or
policy values, the mix. A planner an older commit does not have skips there.
"""

from __future__ import annotations

from mfcheck.devices import synchronize
from mfcheck.reference import PLANNERS

from .bench_kernels import DEVICES, SIZES, game, warm_up


class PlannerIteration:
    """One iteration of a reference planner from the uniform policy (``next(solve(...))``)."""

    params = [sorted(PLANNERS), list(SIZES), DEVICES]
    param_names = ["planner", "size", "device"]
    timeout = 300

    def setup(self, planner, size, device):
        if planner not in PLANNERS:  # asv: a planner this commit does not have
            raise NotImplementedError(f"no reference planner {planner!r} at this commit")
        warm_up(device)
        self.planner = PLANNERS[planner]
        self.game = game(size, device)
        synchronize(device)

    def time_first_iteration(self, planner, size, device):
        next(iter(self.planner.solve(self.game, seed=0)))
        synchronize(device)

    def peakmem_first_iteration(self, planner, size, device):
        next(iter(self.planner.solve(self.game, seed=0)))
