"""asv benchmarks of mfcheck's exact kernels (the hot paths), on both transition forms.

asv imports this file as ``perf.bench_kernels`` (``benchmark_dir`` is ``suites/perf``);
installed, it is ``mfcheck.suites.perf.bench_kernels``, and ``mfcheck bench`` runs the
same classes in-process. asv runs the benchmark files of the *current* checkout against
every commit it installs, so: absolute imports of ``mfcheck`` only (no imports of sibling
benchmark files, which would come from the installed commit), and what an older commit
lacks (the stencil form) makes its cases skip (asv's ``NotImplementedError``) instead of
breaking the import.

Sizes (``crowd_modelling``: S = size, A = 3, H = horizon):

- ``small``: size 10, horizon 10 (OpenSpiel's default game);
- ``large``: size 100, horizon 100.

Forms: ``dense`` (the game's own ``(S, A, S)`` transition) and ``stencil`` (the same
transition as a `mfcheck.transition.Stencil`, `mfcheck.games.stencil_form`: the K = 3
cells that move + noise reach from each (s, a)). Both are declared independent of time
and population, so one operator serves every epoch and every policy of a batch.

Every benchmark is parametrised over the devices this machine has (``cpu``, and
``cuda`` only when ``torch.cuda.is_available()``); every ``time_`` method waits for the
device (``synchronize``) before it returns, so asv's clock stops after the GPU's work.
Setup builds games, flows and policies once per process (cached), so it stays cheap, and
runs every kernel once on the small game first (`warm_up`), so that no benchmark times a
process's one-off first-call costs.
"""

from __future__ import annotations

import functools
import itertools

import torch

from mfcheck.devices import synchronize
from mfcheck.games import crowd_modelling
from mfcheck.kernels import best_response, distribution, exploitability, policy_value
from mfcheck.reference import FictitiousPlay

try:  # the stencil form (absent from commits before the transition operators)
    from mfcheck.games import stencil_form
except ImportError:  # pragma: no cover - only on old commits under asv
    stencil_form = None

#: name -> (size, horizon) of ``crowd_modelling``.
SIZES = {"small": (10, 10), "large": (100, 100)}
FORMS = ["dense", "stencil"]
#: Policies in the batched exploitability benchmark.
BATCH = 64
DEVICES = ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]

#: OpenSpiel 2.0.2's NashConv of the uniform policy on python_mfg_crowd_modelling
#: (size 10, horizon 10); see docs/references.md#openspiel-crowd-modelling.
OPENSPIEL_UNIFORM_NASHCONV = 2.8135365543870385
#: OpenSpiel's NashConv after 10 fictitious-play iterations on the same game.
OPENSPIEL_FP10_NASHCONV = 0.9908032626911343


@functools.lru_cache(maxsize=None)
def game(size: str, device: str, form: str = "dense"):
    """The cached ``crowd_modelling`` game of a named size and transition form on ``device``."""
    n, horizon = SIZES[size]
    dense = crowd_modelling(size=n, horizon=horizon, device=device)
    if form == "dense":
        return dense
    if form != "stencil":
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    if stencil_form is None:
        raise NotImplementedError("this commit has no stencil transitions")
    return stencil_form(dense)


@functools.lru_cache(maxsize=None)
def random_policies(size: str, device: str, batch: int = BATCH) -> torch.Tensor:
    """``batch`` fixed random policies (seed 0), shape ``(batch, H, S, A)``."""
    g = game(size, device)
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(batch, *g.policy_shape, generator=gen, dtype=g.dtype)
    return torch.softmax(logits, -1).to(g.device)


@functools.lru_cache(maxsize=None)
def warm_up(device: str) -> None:
    """Run every kernel and reference planner once, on the small game in both forms.

    The first kernel call in a process pays one-off costs (loading native code: ~1.2 s
    measured on the 2-core machine, against < 1 ms for the call itself afterwards), which
    asv's ``--quick`` mode, one call without a warm-up, would report as the kernel's
    time. Every benchmark's setup calls this (once per process)."""
    from mfcheck.reference import PLANNERS
    for form in FORMS if stencil_form is not None else ["dense"]:
        g = game("small", device, form)
        exploitability(g, g.uniform_policy())
        exploitability(g, random_policies("small", device)[:2])
        for planner in PLANNERS.values():
            next(iter(planner.solve(g, seed=0)))
    synchronize(device)


def fictitious_play(g, iterations: int) -> torch.Tensor:
    """π after ``iterations`` iterations of the reference `FictitiousPlay` from the uniform
    policy: what mfcheck's planner costs, including the flow of each new policy it keeps
    for the next iteration (OpenSpiel's ``FictitiousPlay.iteration`` recomputes it instead)."""
    return next(itertools.islice(FictitiousPlay().solve(g, seed=0), iterations - 1, None))


class _Kernel:
    params = [list(SIZES), FORMS, DEVICES]
    param_names = ["size", "form", "device"]
    timeout = 300

    def setup(self, size, form, device):
        warm_up(device)
        self.game = game(size, device, form)
        self.policy = self.game.uniform_policy()
        synchronize(device)


class Distribution(_Kernel):
    """Forward flow μ^π of the uniform policy."""

    def time_distribution(self, size, form, device):
        distribution(self.game, self.policy)
        synchronize(device)

    def peakmem_distribution(self, size, form, device):
        distribution(self.game, self.policy)


class _AtFlow(_Kernel):
    """A kernel against the uniform policy's flow (computed in setup)."""

    def setup(self, size, form, device):
        super().setup(size, form, device)
        self.flow = distribution(self.game, self.policy)
        synchronize(device)


class BestResponse(_AtFlow):
    """Exact best response to the uniform policy's flow."""

    def time_best_response(self, size, form, device):
        best_response(self.game, self.flow)
        synchronize(device)

    def peakmem_best_response(self, size, form, device):
        best_response(self.game, self.flow)


class PolicyValue(_AtFlow):
    """V^π and Q^π of the uniform policy against its own flow."""

    def time_policy_value(self, size, form, device):
        policy_value(self.game, self.policy, self.flow)
        synchronize(device)

    def peakmem_policy_value(self, size, form, device):
        policy_value(self.game, self.policy, self.flow)


class Exploitability(_Kernel):
    """Exploitability (NashConv) of the uniform policy: flow + best response + value."""

    def time_exploitability(self, size, form, device):
        exploitability(self.game, self.policy)
        synchronize(device)

    def peakmem_exploitability(self, size, form, device):
        exploitability(self.game, self.policy)


class BatchedExploitability(_Kernel):
    """Exploitability of 64 random policies in one batched call."""

    def setup(self, size, form, device):
        super().setup(size, form, device)
        self.policies = random_policies(size, device)
        synchronize(device)

    def time_exploitability_batch64(self, size, form, device):
        exploitability(self.game, self.policies)
        synchronize(device)

    def peakmem_exploitability_batch64(self, size, form, device):
        exploitability(self.game, self.policies)


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


class FormAgreement:
    """The same kernels on the two forms of one game: the largest absolute difference.

    Over the uniform policy and 4 of the benchmark's random policies: the flows μ
    (``track_flow_difference``) and the exploitabilities (``track_exploitability_difference``),
    dense against stencil. Both forms compute the same sums in another order, so the
    differences are rounding (≲ 1e-13 here); anything larger is a kernel that treats the
    forms differently.
    """

    params = [list(SIZES), DEVICES]
    param_names = ["size", "device"]
    unit = "absolute error"

    def setup(self, size, device):
        dense = game(size, device, "dense")
        self.games = dense, game(size, device, "stencil")
        self.policies = torch.cat([dense.uniform_policy()[None], random_policies(size, device)[:4]])

    def track_flow_difference(self, size, device):
        a, b = (distribution(g, self.policies).mu for g in self.games)
        return float((a - b).abs().max())

    def track_exploitability_difference(self, size, device):
        a, b = (exploitability(g, self.policies) for g in self.games)
        return float((a - b).abs().max())
