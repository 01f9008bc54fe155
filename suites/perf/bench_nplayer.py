"""asv benchmarks of the reference N-player simulator (`mfcheck.nplayer`).

asv imports this file as ``perf.bench_nplayer`` (``benchmark_dir`` is ``suites/perf``);
installed, it is ``mfcheck.suites.perf.bench_nplayer``, and ``mfcheck bench`` runs the
same classes in-process. Absolute imports of ``mfcheck`` only.

The game: a 10-state, 4-action garnet (`mfcheck.games.random_game`, seed 0, transitions
that depend on L, γ = 0.9), the uniform policy, one replica of N agents, synchronous
rounds (k = N: every agent draws an action and a next state per round). An
*agent-transition* is one agent's action and move. Backends: ``native`` (the C kernel of
`mfcheck.nplayer.native_kernel`, CPU only; skipped where it does not build) and ``torch``
(eager torch ops, every device); the CUDA parameters skip without a GPU.

- ``time_round``: one round (after a warm-up round in setup);
- ``track_agent_transitions_per_second``: N · rounds / seconds, the median of 5 timed
  batches of rounds (each ≥ 0.2 s) after a warm-up round;
- ``peakmem_round``: peak resident memory over one round (linear in N).
"""

from __future__ import annotations

import functools
import math
import statistics

import torch

from mfcheck.bench import measure
from mfcheck.devices import synchronize
from mfcheck.games import random_game
from mfcheck.nplayer import Simulation
from mfcheck.nplayer import native_kernel

DEVICES = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
SIZES = [1_000, 10_000, 100_000, 1_000_000]
BACKENDS = ["native", "torch"]


@functools.lru_cache(maxsize=None)
def game(device: str):
    return random_game(10, 4, horizon=None, discount=0.9, seed=0, device=device)


def simulation(n_agents: int, device: str, backend: str) -> Simulation:
    """A simulation of the benchmark game after one warm-up round."""
    if backend == "native" and (torch.device(device).type != "cpu"
                                or native_kernel.load() is None):
        raise NotImplementedError(
            f"native kernel: {native_kernel.unavailable_reason() or 'CPU only'}")
    g = game(device)
    sim = Simulation(g, g.uniform_policy(), n_agents=n_agents, backend=backend)
    sim.advance(1)
    synchronize(device)
    return sim


def agent_transitions_per_second(sim: Simulation, batches: int = 5,
                                 min_time: float = 0.2) -> float:
    """Median over ``batches`` timed batches of rounds (each ≥ ``min_time`` s)."""
    (once,) = measure(lambda: sim.advance(1), 1, math.inf, warmup=False)
    rounds = max(1, int(min_time / max(once, 1e-9)))
    times = measure(lambda: sim.advance(rounds), batches, math.inf, warmup=False)
    return sim.N * sim.B * rounds / statistics.median(times)


class SynchronousRound:
    """One synchronous round of N agents (see the module docstring)."""

    params = [SIZES, BACKENDS, DEVICES]
    param_names = ["n_agents", "backend", "device"]
    timeout = 600

    def setup(self, n_agents, backend, device):
        self.sim = simulation(n_agents, device, backend)

    def time_round(self, n_agents, backend, device):
        self.sim.advance(1)
        synchronize(device)

    def peakmem_round(self, n_agents, backend, device):
        self.sim.advance(1)

    def track_agent_transitions_per_second(self, n_agents, backend, device):
        return agent_transitions_per_second(self.sim)

    track_agent_transitions_per_second.unit = "agent-transitions/s"
