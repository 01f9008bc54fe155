"""``mfcheck bench``: run the performance suites now, side by side with the peers.

    mfcheck bench [--filter REGEX] [--repeat N] [--max-time S] [--device cpu|cuda|all]
                  [--peers | --no-peers]

1. The asv benchmark classes of ``suites/perf`` (installed as ``mfcheck.suites.perf``),
   run in this process the way asv runs them: ``setup(*params)``, one warm-up call,
   then up to ``--repeat`` timed calls (``time.perf_counter``; CUDA synchronised before
   the clock starts and before it stops), of which the median is reported. ``track_``
   benchmarks print their value. ``peakmem_`` benchmarks need a fresh process per
   measurement and are left to asv.
2. The peers (OpenSpiel, MFGLib), when installed, timed in the same run on the same
   games against the same mfcheck kernels and reference planners, in a side-by-side
   table: both times, the ratio peer time / mfcheck time (> 1: mfcheck is faster) beside
   the issue's target for it, the figure both sides computed, their difference, the
   tolerance it must lie within, and whether it does (``agree``): OpenSpiel computes in
   float64 on the same game (1e-9); MFGLib in float32, for which `float32_tolerance`
   derives the tolerance. A missing peer is skipped with a one-line note. ``--peers``
   prints this table alone; ``--no-peers`` leaves it out.

``--filter`` is a regular expression searched in each benchmark's full name, e.g.
``bench_kernels.Distribution.time_distribution(small, dense, cpu)`` or
``peers.openspiel.nash_conv_uniform(python_mfg_crowd_modelling, small, cpu)``.

Exit codes: 0 everything ran (and every peer comparison agreed); 1 a benchmark or peer
raised, or a peer and mfcheck disagree on a figure; 2 bad usage.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import importlib.util
import inspect
import itertools
import math
import os
import platform
import pkgutil
import re
import statistics
import sys
import time
from collections.abc import Callable

import torch

from .devices import available_devices

SUITE_PACKAGE = "mfcheck.suites.perf"
KINDS = ("time_", "track_", "peakmem_")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


# -- machine ----------------------------------------------------------------------------

def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_lines() -> list[str]:
    lines = [f"machine: {platform.node()} ({platform.system()} {platform.machine()}), "
             f"CPU {cpu_model()}, {os.cpu_count()} logical cores",
             f"python {platform.python_version()}, torch {torch.__version__} "
             f"({torch.get_num_threads()} threads), CUDA build: {torch.version.cuda or 'no'}"]
    if hasattr(os, "getloadavg"):  # other work on the machine makes timings noisy: say so
        lines[0] += ", load average %.2f %.2f %.2f" % os.getloadavg()
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            lines.append(f"cuda:{i}: {torch.cuda.get_device_name(i)}")
    else:
        lines.append("cuda: none (cuda benchmarks are not run)")
    return lines


class OtherLoad:
    """How much of the machine's CPU time other processes took while we measured.

    Timings on a shared machine are only as good as the machine is quiet: with two
    cores, one busy neighbour makes torch's two OpenMP threads wait on each other and
    small kernels run tens of times slower. Linux only (``/proc/stat``); None elsewhere.
    """

    def __init__(self) -> None:
        self.start = self._snapshot()

    @staticmethod
    def _snapshot():
        try:
            with open("/proc/stat") as f:
                fields = [int(x) for x in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        t = os.times()
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields) / ticks, idle / ticks, t.user + t.system + t.children_user \
            + t.children_system

    def fraction(self) -> float | None:
        end = self._snapshot()
        if self.start is None or end is None:
            return None
        total = end[0] - self.start[0]
        if total <= 0:
            return None
        busy = total - (end[1] - self.start[1])
        mine = end[2] - self.start[2]
        return min(max((busy - mine) / total, 0.0), 1.0)


# -- timing -----------------------------------------------------------------------------

def synchronize() -> None:
    """Wait for all queued CUDA work (a no-op without CUDA)."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def measure(fn: Callable[[], object], repeat: int, max_time: float,
            warmup: bool = True) -> list[float]:
    """Seconds per call of ``fn``: one untimed warm-up, then up to ``repeat`` timed calls,
    stopping early (after at least one) once ``max_time`` seconds have been spent."""
    if warmup:
        synchronize()
        start = time.perf_counter()
        fn()
        synchronize()
        if time.perf_counter() - start > max_time:  # too slow to warm up and repeat
            repeat = 1
    times: list[float] = []
    spent = 0.0
    while len(times) < repeat and (not times or spent < max_time):
        synchronize()
        start = time.perf_counter()
        fn()
        synchronize()
        times.append(time.perf_counter() - start)
        spent += times[-1]
    return times


def format_seconds(t: float) -> str:
    if not math.isfinite(t):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t / 1e-9:.3g} ns"


def _table(rows: list[list[str]], header: list[str]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths))).rstrip()
    return [line(header), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


# -- the asv benchmark classes ----------------------------------------------------------

@dataclasses.dataclass
class Case:
    """One benchmark method at one combination of parameters."""

    module: str  # short name, e.g. "bench_kernels"
    cls: type
    method: str
    params: tuple
    param_names: tuple

    @property
    def name(self) -> str:
        return f"{self.module}.{self.cls.__name__}.{self.method}"

    @property
    def full_name(self) -> str:
        return f"{self.name}({', '.join(map(str, self.params))})"

    @property
    def kind(self) -> str:
        return self.method.split("_", 1)[0] + "_"

    def device(self) -> str | None:
        return (str(self.params[self.param_names.index("device")])
                if "device" in self.param_names else None)


def _param_lists(cls) -> tuple[list[list], tuple]:
    params = getattr(cls, "params", [])
    if params and not isinstance(params[0], (list, tuple)):
        params = [params]
    names = tuple(getattr(cls, "param_names", ())) or tuple(f"param{i + 1}"
                                                            for i in range(len(params)))
    return [list(p) for p in params], names


def benchmark_modules(package: str = SUITE_PACKAGE) -> list:
    pkg = importlib.import_module(package)
    return [importlib.import_module(f"{package}.{info.name}")
            for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name)
            if not info.name.startswith("_")]


def benchmark_classes(package: str = SUITE_PACKAGE) -> list[tuple[str, type]]:
    """(short module name, class) of every benchmark class in the suite package."""
    found = []
    for module in benchmark_modules(package):
        short = module.__name__.rsplit(".", 1)[-1]
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and not cls.__name__.startswith("_") \
                    and benchmark_methods(cls):
                found.append((short, cls))
    return found


def benchmark_methods(cls) -> list[str]:
    return sorted(m for m in dir(cls)
                  if m.startswith(KINDS) and callable(getattr(cls, m)))


def cases(package: str = SUITE_PACKAGE) -> list[Case]:
    out = []
    for short, cls in benchmark_classes(package):
        params, names = _param_lists(cls)
        for method in benchmark_methods(cls):
            for combo in itertools.product(*params):
                out.append(Case(short, cls, method, tuple(combo), names))
    return out


@dataclasses.dataclass
class Outcome:
    case_name: str
    status: str  # "ok", "skipped", "error"
    times: list[float] = dataclasses.field(default_factory=list)
    value: float | None = None
    unit: str = ""
    note: str = ""


def run_case(case: Case, repeat: int, max_time: float) -> Outcome:
    """Set the case up and run it as asv would (see the module docstring)."""
    obj = case.cls()
    try:
        if hasattr(obj, "setup"):
            obj.setup(*case.params)
    except NotImplementedError as exc:  # asv's way of skipping a parameter combination
        return Outcome(case.full_name, "skipped", note=str(exc) or "setup skipped it")
    method = getattr(obj, case.method)
    try:
        if case.kind == "track_":
            value = method(*case.params)
            return Outcome(case.full_name, "ok", value=float(value),
                           unit=getattr(method, "unit", getattr(obj, "unit", "")))
        times = measure(lambda: method(*case.params), repeat, max_time)
        return Outcome(case.full_name, "ok", times=times)
    finally:
        if hasattr(obj, "teardown"):
            obj.teardown(*case.params)


# -- peers ------------------------------------------------------------------------------

class PeerMissing(Exception):
    """A peer is not installed: the comparison is skipped with this note."""


#: float32's unit roundoff: MFGLib computes in float32.
FLOAT32_UNIT_ROUNDOFF = 2.0 ** -24
#: λ of the probabilistic rounding-error bound of `float32_tolerance`.
ROUNDING_LAMBDA = 6.0
#: OpenSpiel computes the same figures in float64 on the same game: they must agree to this.
OPENSPIEL_TOLERANCE = 1e-9


def float32_tolerance(terms: int, magnitude: float) -> float:
    """How far a figure computed in float32 may lie from the float64 one: λ·√n·u·M.

    A float32 sum of n terms, each of magnitude at most M, errs by at most n·u·M
    (u = 2⁻²⁴, float32's unit roundoff), a bound reached only when every rounding error
    is maximal and of one sign. Modelling the rounding errors as independent and of mean
    zero, Higham and Mary (2019, "A new approach to probabilistic rounding error
    analysis", SIAM J. Sci. Comput. 41(5)) replace n·u by λ·√n·u, a bound that fails with
    probability at most about 2n·exp(−λ²/2): with λ = 6 and n ≤ 10⁴, below 3·10⁻⁴.
    ``terms`` is the length of the longest chain of accumulations that leads to the
    figure, ``magnitude`` the largest absolute value along it (see `_mfglib_terms`).
    """
    return ROUNDING_LAMBDA * math.sqrt(terms) * FLOAT32_UNIT_ROUNDOFF * magnitude


@dataclasses.dataclass
class Figure:
    """What both sides computed, how far apart, and how far apart they may be."""

    what: str
    peer: float | None  # None: the figure is not a number (an iterate)
    mine: float | None
    diff: float
    tolerance: float
    basis: str  # where the tolerance comes from

    @property
    def agree(self) -> bool:
        return math.isfinite(self.diff) and self.diff <= self.tolerance


@dataclasses.dataclass
class Sides:
    """The two timed computations of one comparison and, untimed, the figure that shows
    they computed the same thing (from the last result of each side)."""

    peer: Callable[[], object]
    mine: Callable[[], object]
    figure: Callable[[object, object], Figure]


@dataclasses.dataclass
class Comparison:
    """A peer computation and mfcheck's computation of the same figure.

    ``prepare(device)`` does the untimed set-up (imports, game conversion) and returns
    the `Sides`. ``target``: the ratio peer time / mfcheck time the project aims at (None:
    no target). ``peer_once``: the peer takes seconds, so it is timed once, without a
    warm-up, in each bench run.
    """

    name: str
    args: tuple[str, ...]
    what: str
    prepare: Callable[[str], Sides]
    target: float | None = None
    peer_once: bool = False

    def full_name(self, device: str) -> str:
        return f"{self.name}({', '.join((*self.args, device))})"


def _require(module: str, extra: str):
    top = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        try:
            installed = importlib.util.find_spec(top) is not None
        except (ValueError, AttributeError):  # e.g. sys.modules[top] is None
            installed = False
        if not installed:
            raise PeerMissing(f"{top} is not installed (pip install 'mfcheck[{extra}]')") from None
        raise PeerMissing(f"{top} is installed but {module} does not import: "
                          f"{type(exc).__name__}: {exc}") from None


def _same_number(what: str, tolerance: float, basis: str):
    def figure(peer, mine) -> Figure:
        peer, mine = float(peer), float(mine)
        return Figure(what, peer, mine, abs(peer - mine), tolerance, basis)
    return figure


_OPENSPIEL_BASIS = "both float64, same game"


def _openspiel(game_name: str, size: str, device: str):
    """(OpenSpiel game, mfcheck game) of crowd modelling at a size of `bench_kernels.SIZES`."""
    pyspiel = _require("pyspiel", "openspiel")
    if game_name.startswith("python_"):
        _require("open_spiel.python.mfg.games.crowd_modelling", "openspiel")  # registers it
    from .suites.perf import bench_kernels
    n, horizon = bench_kernels.SIZES[size]
    return (pyspiel.load_game(game_name, {"size": n, "horizon": horizon}),
            bench_kernels.game(size, device))


def _nash_conv_uniform(game_name: str, size: str):
    def prepare(device) -> Sides:
        nash_conv = _require("open_spiel.python.mfg.algorithms.nash_conv", "openspiel")
        policy_std = _require("open_spiel.python.policy", "openspiel")
        from .kernels import exploitability
        os_game, game = _openspiel(game_name, size, device)
        policy = game.uniform_policy()
        return Sides(
            peer=lambda: nash_conv.NashConv(os_game,
                                            policy_std.UniformRandomPolicy(os_game)).nash_conv(),
            mine=lambda: exploitability(game, policy).item(),
            figure=_same_number("NashConv", OPENSPIEL_TOLERANCE, _OPENSPIEL_BASIS))
    return prepare


def _fictitious_play_step(game_name: str, size: str):
    def prepare(device) -> Sides:
        fictitious_play = _require("open_spiel.python.mfg.algorithms.fictitious_play",
                                   "openspiel")
        nash_conv = _require("open_spiel.python.mfg.algorithms.nash_conv", "openspiel")
        from .kernels import exploitability
        from .suites.perf import bench_kernels
        os_game, game = _openspiel(game_name, size, device)

        def peer():  # timed: one iteration from the uniform policy
            fp = fictitious_play.FictitiousPlay(os_game)
            fp.iteration()
            return fp

        def figure(fp, policy) -> Figure:  # untimed: each side's NashConv of its iterate
            peer_value = nash_conv.NashConv(os_game, fp.get_policy()).nash_conv()
            return _same_number("NashConv(π_1)", OPENSPIEL_TOLERANCE, _OPENSPIEL_BASIS)(
                peer_value, exploitability(game, policy).item())
        return Sides(peer, lambda: bench_kernels.fictitious_play(game, 1), figure)
    return prepare


def _mfglib(env_name: str, device: str):
    """(MFGLib environment, uniform policy in MFGLib's layout, converted game, its
    uniform policy)."""
    # mfglib 0.3.0 has an import cycle: mfglib.scoring imports only after mfglib.alg.
    _require("mfglib.alg", "mfglib")
    mfglib_env = _require("mfglib.env", "mfglib")
    try:
        from .adapters.mfglib import from_mfglib, to_mfglib_policy
    except ImportError as exc:  # pragma: no cover - the adapter ships with mfcheck
        raise PeerMissing(f"mfcheck.adapters.mfglib is not importable: {exc}") from None
    env = getattr(mfglib_env.Environment, env_name)()
    # crowd_motion's and beach_bar's transitions depend on neither t nor L: declared (and
    # checked at construction), and handed to the kernels as a stencil. Same values
    # (tests/test_adapters_mfglib.py), the kernels' cost instead of the dense law's.
    game = from_mfglib(env, device=device, stencil=True, transition_depends_on_time=False,
                       transition_depends_on_population=False)
    policy = game.uniform_policy()
    return env, to_mfglib_policy(policy, env), game, policy


def _mfglib_terms(game, policy) -> tuple[int, float]:
    """(n, M) of `float32_tolerance` for a value MFGLib computes on ``game`` at ``policy``.

    n = H·(S·A + S): each epoch of the forward flow sums S·A terms into μ_{t+1}(s'), each
    epoch of the backward sweep S terms into Q_t(s, a), and the errors of the epochs add
    (a probability-weighted average does not enlarge them). M: the largest |Q| of the
    policy and of the best response at the policy's flow (float64, mfcheck), at least 1
    (the flows are probabilities; an error δ relative in μ moves a reward −log μ by δ).
    """
    from .kernels import best_response, distribution, policy_value
    flow = distribution(game, policy)
    q = torch.cat([policy_value(game, policy, flow).q.flatten(),
                   best_response(game, flow).q.flatten()])
    n = game.horizon * (game.n_states * game.n_actions + game.n_states)
    return n, max(float(q.abs().max()), 1.0)


def _mfglib_exploitability_uniform(env_name: str):
    def prepare(device) -> Sides:
        env, env_policy, game, policy = _mfglib(env_name, device)
        scoring = _require("mfglib.scoring", "mfglib")
        from .kernels import exploitability
        n, magnitude = _mfglib_terms(game, policy)
        return Sides(
            peer=lambda: scoring.exploitability_score(env, env_policy),
            mine=lambda: exploitability(game, policy).item(),
            figure=_same_number("exploitability", float32_tolerance(n, magnitude),
                                f"float32: 6·√n·u·M, n = {n}, M = {magnitude:.3g}"))
    return prepare


def _mfglib_mirror_descent_step(env_name: str):
    """MFGLib's OnlineMirrorDescent (α = 1, its default) computes π_1 = softmax(α·Q^{π_0})
    from π_0 = uniform: mfcheck's reference mirror descent at learning rate α, whose first
    iterate is the same (docs/adapters.md)."""
    def prepare(device) -> Sides:
        env, env_policy, game, policy = _mfglib(env_name, device)
        alg_module = _require("mfglib.alg", "mfglib")
        from .adapters.mfglib import MFGLIB_ATOL, MFGLIB_RTOL
        from .reference import OnlineMirrorDescent
        algorithm = alg_module.OnlineMirrorDescent()
        alpha = float(algorithm.alpha)
        start = algorithm.init_state(env, env_policy)
        planner = OnlineMirrorDescent(learning_rate=alpha)
        n, magnitude = _mfglib_terms(game, policy)
        # Q off by δ moves y = α·Q by α·δ and softmax(y) by at most α·δ/2 (the softmax's
        # Jacobian diag(π) − ππᵀ has rows of absolute sum 2π(1 − π) ≤ 1/2); plus the
        # rounding of π itself.
        tolerance = alpha * float32_tolerance(n, magnitude) / 2 + FLOAT32_UNIT_ROUNDOFF

        def figure(peer_pi, mine_pi) -> Figure:
            peer_pi = peer_pi.reshape(mine_pi.shape).to(mine_pi.device, mine_pi.dtype)
            return Figure("π_1, max |Δ|", None, None, float((peer_pi - mine_pi).abs().max()),
                          tolerance, f"float32: α/2·6·√n·u·M + u, n = {n}, M = {magnitude:.3g}")
        return Sides(
            peer=lambda: algorithm.step_next_state(start, MFGLIB_ATOL, MFGLIB_RTOL).pi,
            mine=lambda: next(iter(planner.solve(game, seed=0))),
            figure=figure)
    return prepare


#: The issue's targets, peer time / mfcheck time.
TARGET_MFGLIB, TARGET_OPENSPIEL_SMALL, TARGET_OPENSPIEL_LARGE = 30.0, 100.0, 1000.0

COMPARISONS = [
    Comparison("peers.openspiel.nash_conv_uniform", ("python_mfg_crowd_modelling", "small"),
               "NashConv of the uniform policy, crowd modelling 10x10 (OpenSpiel Python game)",
               _nash_conv_uniform("python_mfg_crowd_modelling", "small")),
    Comparison("peers.openspiel.fictitious_play_step", ("python_mfg_crowd_modelling", "small"),
               "one fictitious-play iteration, crowd modelling 10x10 (OpenSpiel Python game)",
               _fictitious_play_step("python_mfg_crowd_modelling", "small")),
    Comparison("peers.openspiel.nash_conv_uniform", ("mfg_crowd_modelling", "small"),
               "NashConv of the uniform policy, crowd modelling 10x10 (OpenSpiel C++ game)",
               _nash_conv_uniform("mfg_crowd_modelling", "small"), TARGET_OPENSPIEL_SMALL),
    Comparison("peers.openspiel.fictitious_play_step", ("mfg_crowd_modelling", "small"),
               "one fictitious-play iteration, crowd modelling 10x10 (OpenSpiel C++ game)",
               _fictitious_play_step("mfg_crowd_modelling", "small"), TARGET_OPENSPIEL_SMALL),
    Comparison("peers.openspiel.nash_conv_uniform", ("mfg_crowd_modelling", "large"),
               "NashConv of the uniform policy, crowd modelling size 100, horizon 100 "
               "(OpenSpiel C++ game; OpenSpiel timed once)",
               _nash_conv_uniform("mfg_crowd_modelling", "large"), TARGET_OPENSPIEL_LARGE,
               peer_once=True),
    Comparison("peers.openspiel.fictitious_play_step", ("mfg_crowd_modelling", "large"),
               "one fictitious-play iteration, crowd modelling size 100, horizon 100 "
               "(OpenSpiel C++ game; OpenSpiel timed once)",
               _fictitious_play_step("mfg_crowd_modelling", "large"), TARGET_OPENSPIEL_LARGE,
               peer_once=True),
    Comparison("peers.mfglib.exploitability_uniform", ("crowd_motion",),
               "exploitability of the uniform policy, MFGLib crowd_motion (20x20, 5 actions, T=3)",
               _mfglib_exploitability_uniform("crowd_motion"), TARGET_MFGLIB),
    Comparison("peers.mfglib.mirror_descent_step", ("crowd_motion",),
               "one OnlineMirrorDescent iteration (alpha = 1) from the uniform policy, MFGLib "
               "crowd_motion", _mfglib_mirror_descent_step("crowd_motion"), TARGET_MFGLIB),
    Comparison("peers.mfglib.exploitability_uniform", ("beach_bar",),
               "exploitability of the uniform policy, MFGLib beach_bar (4 states, 3 actions, T=2)",
               _mfglib_exploitability_uniform("beach_bar"), TARGET_MFGLIB),
    Comparison("peers.mfglib.mirror_descent_step", ("beach_bar",),
               "one OnlineMirrorDescent iteration (alpha = 1) from the uniform policy, MFGLib "
               "beach_bar", _mfglib_mirror_descent_step("beach_bar"), TARGET_MFGLIB),
]


@dataclasses.dataclass
class PeerOutcome:
    name: str
    status: str  # "ok", "skipped", "error"
    peer_times: list[float] = dataclasses.field(default_factory=list)
    mine_times: list[float] = dataclasses.field(default_factory=list)
    figure: Figure | None = None
    target: float | None = None
    peer_once: bool = False
    note: str = ""

    @property
    def ratio(self) -> float:
        return statistics.median(self.peer_times) / statistics.median(self.mine_times)

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.ratio >= self.target


def run_comparison(comp: Comparison, device: str, repeat: int, max_time: float) -> PeerOutcome:
    name = comp.full_name(device)
    try:
        sides = comp.prepare(device)
    except PeerMissing as exc:
        return PeerOutcome(name, "skipped", note=str(exc))
    last = {}

    def keep(side, fn):
        return lambda: last.__setitem__(side, fn())

    # Each side gets its own warm-up and repeats, back to back, in this process; a slow
    # peer is timed once, cold.
    if comp.peer_once:
        peer_times = measure(keep("peer", sides.peer), 1, math.inf, warmup=False)
    else:
        peer_times = measure(keep("peer", sides.peer), repeat, max_time)
    mine_times = measure(keep("mine", sides.mine), repeat, max_time)
    return PeerOutcome(name, "ok", peer_times, mine_times, sides.figure(last["peer"], last["mine"]),
                       comp.target, comp.peer_once)


# -- command line -----------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mfcheck bench",
        description="Run mfcheck's performance suites (the asv benchmark classes of "
                    "suites/perf) now, and the same figures with OpenSpiel and MFGLib side "
                    "by side, in this process.")
    p.add_argument("--filter", metavar="REGEX",
                   help="run only benchmarks whose full name matches, e.g. "
                        "'Distribution.*small' or 'peers'")
    p.add_argument("--repeat", type=int, default=5, metavar="N",
                   help="timed calls per benchmark after one warm-up; the median is "
                        "reported (default: %(default)s)")
    p.add_argument("--max-time", type=float, default=10.0, metavar="S",
                   help="stop repeating a benchmark once it has used this many seconds "
                        "(at least one timed call; default: %(default)s)")
    p.add_argument("--device", default="all", choices=["cpu", "cuda", "all"],
                   help="devices for mfcheck's side (default: all available)")
    p.add_argument("--threads", type=int, metavar="N",
                   help="torch CPU threads (torch.set_num_threads; default: torch's own)")
    peers = p.add_mutually_exclusive_group()
    peers.add_argument("--peers", dest="peers", action="store_true", default=None,
                       help="print only the side-by-side table: OpenSpiel and MFGLib against "
                            "mfcheck, same process, same run, with the ratio, the issue's "
                            "target and whether both computed the same figure (without "
                            "either flag, mfcheck's benchmarks run first; a missing peer is "
                            "skipped with a note)")
    peers.add_argument("--no-peers", dest="peers", action="store_false",
                       help="run mfcheck's own benchmarks only")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or bad usage (2), already printed
        return int(exc.code or 0)
    if args.repeat < 1:
        print("mfcheck bench: error: --repeat must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    try:
        pattern = re.compile(args.filter) if args.filter else None
    except re.error as exc:
        print(f"mfcheck bench: error: --filter {args.filter!r} is not a regular expression: "
              f"{exc}", file=sys.stderr)
        return EXIT_USAGE
    have = available_devices()
    if args.device == "all":
        devices = have
    elif args.device in have:
        devices = [args.device]
    else:
        print(f"mfcheck bench: error: device {args.device!r} was asked for, but torch sees "
              f"no CUDA device on this machine", file=sys.stderr)
        return EXIT_USAGE
    if args.threads is not None:
        if args.threads < 1:
            print("mfcheck bench: error: --threads must be at least 1", file=sys.stderr)
            return EXIT_USAGE
        torch.set_num_threads(args.threads)
    selected = lambda name: pattern is None or pattern.search(name)  # noqa: E731

    load = OtherLoad()
    for line in machine_lines():
        print(line)
    print(f"repeats: up to {args.repeat} timed calls after one warm-up, at most "
          f"{args.max_time:g} s each; median reported")
    failed = False

    todo = [] if args.peers else [c for c in cases() if selected(c.full_name)
                                  and (c.device() is None or c.device() in devices)]
    skipped_mem = [c for c in todo if c.kind == "peakmem_"]
    todo = [c for c in todo if c.kind != "peakmem_"]
    if todo:
        print()
        print("mfcheck kernels (suites/perf)")
        rows = []
        for case in todo:
            try:
                out = run_case(case, args.repeat, args.max_time)
            except Exception as exc:  # report and go on
                out = Outcome(case.full_name, "error", note=f"{type(exc).__name__}: {exc}")
                failed = True
            rows.append(_case_row(out))
            print(f"  {out.case_name}: {rows[-1][1]}", flush=True)
        print()
        for line in _table(rows, ["benchmark", "median", "min", "runs"]):
            print(line)
    if skipped_mem:
        print(f"({len(skipped_mem)} peakmem_ benchmarks left to asv: peak memory needs a "
              f"fresh process per measurement)")

    if args.peers is not False:
        failed |= _run_peers(selected, devices, args.repeat, args.max_time)
    others = load.fraction()
    if others is not None:
        print()
        print(f"other processes used {others:.0%} of this machine's CPU time during the run"
              + ("; the timings above are not reliable" if others > 0.1 else ""))
    return EXIT_FAILED if failed else EXIT_OK


def _case_row(out: Outcome) -> list[str]:
    if out.status != "ok":
        return [out.case_name, out.status, out.note, ""]
    if out.value is not None:
        return [out.case_name, f"{out.value:.6g} {out.unit}".strip(), "(track)", "1"]
    return [out.case_name, format_seconds(statistics.median(out.times)),
            format_seconds(min(out.times)), str(len(out.times))]


PEER_HEADER = ["comparison", "peer", "mfcheck", "ratio", "target", "met", "figure",
               "peer value", "mfcheck value", "|diff|", "tolerance", "agree"]


def _run_peers(selected, devices: list[str], repeat: int, max_time: float) -> bool:
    """Time and compare every selected comparison; print the side-by-side table. True when
    a comparison raised or its two sides disagree."""
    todo = [(c, d) for c in COMPARISONS for d in devices if selected(c.full_name(d))]
    if not todo:
        return False
    print()
    print("peers against mfcheck, same process, same run (ratio = peer time / mfcheck time; "
          "> 1: mfcheck is faster)")
    failed = False
    rows, notes = [], []
    for comp, device in todo:
        print(f"  {comp.full_name(device)} ...", file=sys.stderr, flush=True)
        try:
            out = run_comparison(comp, device, repeat, max_time)
        except Exception as exc:
            out = PeerOutcome(comp.full_name(device), "error",
                              note=f"{type(exc).__name__}: {exc}")
        if out.status != "ok":
            failed |= out.status == "error"
            notes.append(f"{out.name}: {out.status}: {out.note}")
            continue
        rows.append(_peer_row(out))
        if not out.figure.agree:
            failed = True
            notes.append(f"{out.name}: the two sides disagree: {out.figure.what} differs by "
                         f"{out.figure.diff:.3g}, more than the tolerance "
                         f"{out.figure.tolerance:.3g} ({out.figure.basis})")
    print()
    for line in _table(rows, PEER_HEADER):
        print(line)
    print("peer: median (* timed once, cold: the peer takes seconds); target: the issue's "
          "ratio; agree: |diff| <= tolerance")
    for note in notes:
        print(note)
    for comp, device in todo:
        print(f"  {comp.full_name(device)}: {comp.what}")
    return failed


def _number(x: float | None) -> str:
    return "-" if x is None else f"{x:.10g}"


def _peer_row(out: PeerOutcome) -> list[str]:
    fig = out.figure
    return [out.name,
            format_seconds(statistics.median(out.peer_times)) + (" *" if out.peer_once else ""),
            format_seconds(statistics.median(out.mine_times)), f"{out.ratio:.3g}x",
            "-" if out.target is None else f">= {out.target:g}x",
            {None: "-", True: "yes", False: "no"}[out.met],
            fig.what, _number(fig.peer), _number(fig.mine), f"{fig.diff:.2g}",
            f"{fig.tolerance:.2g}", "yes" if fig.agree else "NO"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
