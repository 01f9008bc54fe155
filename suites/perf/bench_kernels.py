"""asv benchmarks of mfcheck's exact kernels (the hot paths).

asv imports this file as ``perf.bench_kernels`` (``benchmark_dir`` is ``suites/perf``);
installed, it is ``mfcheck.suites.perf.bench_kernels``, and ``mfcheck bench`` runs the
same classes in-process. So: absolute imports of ``mfcheck`` only, no imports of
sibling benchmark modules.

Sizes (``crowd_modelling``: S = size, A = 3, H = horizon, dense ``(S, A, S)`` transitions):

- ``small``: size 10, horizon 10 (OpenSpiel's default game);
- ``large``: size 100, horizon 100.

Every benchmark is parametrised over the devices this machine has (``cpu``, and
``cuda`` only when ``torch.cuda.is_available()``); every ``time_`` method waits for the
device (``synchronize``) before it returns, so asv's clock stops after the GPU's work.
Setup builds games and policies once per process (cached), so it stays cheap.
"""

from __future__ import annotations

import functools
import itertools

import torch

from mfcheck.devices import synchronize
from mfcheck.games import crowd_modelling
from mfcheck.kernels import best_response, distribution, exploitability
from mfcheck.reference import FictitiousPlay

#: name -> (size, horizon) of ``crowd_modelling``.
SIZES = {"small": (10, 10), "large": (100, 100)}
#: Policies in the batched exploitability benchmark.
BATCH = 64
DEVICES = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]

#: OpenSpiel 2.0.2's NashConv of the uniform policy on python_mfg_crowd_modelling
#: (size 10, horizon 10); see docs/references.md#openspiel-crowd-modelling.
OPENSPIEL_UNIFORM_NASHCONV = 2.8135365543870385
#: OpenSpiel's NashConv after 10 fictitious-play iterations on the same game.
OPENSPIEL_FP10_NASHCONV = 0.9908032626911343


@functools.lru_cache(maxsize=None)
def game(size: str, device: str):
    """The cached ``crowd_modelling`` game of a named size on ``device``."""
    n, horizon = SIZES[size]
    return crowd_modelling(size=n, horizon=horizon, device=device)


@functools.lru_cache(maxsize=None)
def random_policies(size: str, device: str, batch: int = BATCH) -> torch.Tensor:
    """``batch`` fixed random policies (seed 0), shape ``(batch, H, S, A)``."""
    g = game(size, device)
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(batch, *g.policy_shape, generator=gen, dtype=g.dtype)
    return torch.softmax(logits, -1).to(g.device)


def fictitious_play(g, iterations: int) -> torch.Tensor:
    """π after ``iterations`` iterations of the reference `FictitiousPlay` from the uniform
    policy: what mfcheck's planner costs, including the flow of each new policy it keeps
    for the next iteration (OpenSpiel's ``FictitiousPlay.iteration`` recomputes it instead)."""
    return next(itertools.islice(FictitiousPlay().solve(g, seed=0), iterations - 1, None))


class _Kernel:
    params = [list(SIZES), DEVICES]
    param_names = ["size", "device"]
    timeout = 300

    def setup(self, size, device):
        self.game = game(size, device)
        self.policy = self.game.uniform_policy()
        synchronize(device)


class Distribution(_Kernel):
    """Forward flow μ^π of the uniform policy."""

    def time_distribution(self, size, device):
        distribution(self.game, self.policy)
        synchronize(device)

    def peakmem_distribution(self, size, device):
        distribution(self.game, self.policy)


class BestResponse(_Kernel):
    """Exact best response to the uniform policy's flow (flow computed in setup)."""

    def setup(self, size, device):
        super().setup(size, device)
        self.flow = distribution(self.game, self.policy)
        synchronize(device)

    def time_best_response(self, size, device):
        best_response(self.game, self.flow)
        synchronize(device)

    def peakmem_best_response(self, size, device):
        best_response(self.game, self.flow)


class Exploitability(_Kernel):
    """Exploitability (NashConv) of the uniform policy: flow + best response + value."""

    def time_exploitability(self, size, device):
        exploitability(self.game, self.policy)
        synchronize(device)

    def peakmem_exploitability(self, size, device):
        exploitability(self.game, self.policy)


class BatchedExploitability(_Kernel):
    """Exploitability of 64 random policies in one batched call."""

    def setup(self, size, device):
        super().setup(size, device)
        self.policies = random_policies(size, device)
        synchronize(device)

    def time_exploitability_batch64(self, size, device):
        exploitability(self.game, self.policies)
        synchronize(device)

    def peakmem_exploitability_batch64(self, size, device):
        exploitability(self.game, self.policies)


class FictitiousPlayStep(_Kernel):
    """One fictitious-play iteration from the uniform policy (what OpenSpiel times)."""

    def time_fictitious_play_step(self, size, device):
        fictitious_play(self.game, 1)
        synchronize(device)


class Accuracy:
    """Accuracy figures against OpenSpiel's published values (absolute errors)."""

    params = [DEVICES]
    param_names = ["device"]
    unit = "absolute error"

    def setup(self, device):
        self.game = game("small", device)
        self.policy = self.game.uniform_policy()

    def track_uniform_nashconv_error(self, device):
        value = exploitability(self.game, self.policy).item()
        return abs(value - OPENSPIEL_UNIFORM_NASHCONV)

    def track_fictitious_play_10_nashconv_error(self, device):
        policy = fictitious_play(self.game, 10)
        return abs(exploitability(self.game, policy).item() - OPENSPIEL_FP10_NASHCONV)
