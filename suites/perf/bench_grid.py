"""asv benchmarks of a large grid game: OpenSpiel's 2-D crowd modelling, stencil transitions.

asv imports this file as ``perf.bench_grid``; installed, it is
``mfcheck.suites.perf.bench_grid``, and ``mfcheck bench`` runs the same classes
in-process. The game is `mfcheck.games.crowd_modelling_2d` (a side × side grid, 5 actions,
its transition a `mfcheck.transition.Stencil`, independent of time and population); at a
commit without it every case skips (asv's ``NotImplementedError``). Setup runs
`bench_kernels.warm_up` first (a relative import, as in ``bench_planners``).

Sizes: side 16 with horizon 16 (S = 256), and side 128 with horizon 100 (S = 16 384: a
dense transition would hold S²·A = 1.3·10⁹ values per epoch; the stencil holds S·A·K).

- ``time_fictitious_play_step``: one iteration of the reference `FictitiousPlay` from the
  uniform policy (flow, best response, the best response's flow, the mix, the new flow);
- ``time_exploitability``: the uniform policy's exploitability (flow, best response,
  policy value);
- ``peakmem_fictitious_play_step``: peak resident memory over one iteration.
"""

from __future__ import annotations

import functools

import torch

from mfcheck.devices import synchronize
from mfcheck.kernels import exploitability
from mfcheck.reference import FictitiousPlay

from .bench_kernels import warm_up

try:
    from mfcheck.games.crowd_modelling_2d import crowd_modelling_2d
except ImportError:  # a commit before the 2-D game
    crowd_modelling_2d = None

DEVICES = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
#: side -> horizon.
GRIDS = {16: 16, 128: 100}


@functools.lru_cache(maxsize=None)
def grid_game(side: int, device: str):
    if crowd_modelling_2d is None:
        raise NotImplementedError("mfcheck.games has no crowd_modelling_2d at this commit")
    return crowd_modelling_2d(size=side, horizon=GRIDS[side], device=device)


class GridCrowdModelling:
    """The 2-D crowd modelling game (see the module docstring)."""

    params = [list(GRIDS), DEVICES]
    param_names = ["side", "device"]
    timeout = 300

    def setup(self, side, device):
        warm_up(device)
        self.game = grid_game(side, device)
        self.policy = self.game.uniform_policy()
        synchronize(device)

    def time_fictitious_play_step(self, side, device):
        next(iter(FictitiousPlay().solve(self.game, seed=0)))
        synchronize(device)

    def peakmem_fictitious_play_step(self, side, device):
        next(iter(FictitiousPlay().solve(self.game, seed=0)))

    def time_exploitability(self, side, device):
        exploitability(self.game, self.policy)
        synchronize(device)
