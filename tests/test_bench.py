"""Smoke tests of the performance suites (suites/perf) and of ``mfcheck bench``.

Not timing tests: nothing here asserts how fast anything is. Each benchmark class is
set up at its smallest parameters and each ``time_`` method runs once; ``track_``
accuracy figures must be small; ``mfcheck bench`` must run, print and exit cleanly.
"""

from __future__ import annotations

import importlib
import io
import json
import math
import sys
from pathlib import Path

import pytest
import torch

from mfcheck import bench
from mfcheck.suites.perf import bench_kernels

REPO = Path(__file__).resolve().parents[1]


def _smallest(cls) -> tuple:
    params, _ = bench._param_lists(cls)
    return tuple(p[0] for p in params)


CLASSES = bench.benchmark_classes()
METHODS = [(cls, m) for _, cls in CLASSES for m in bench.benchmark_methods(cls)
           if m.startswith("time_")]
#: Accuracy figures (unit "absolute error"); throughput tracks (flips/ns) are not errors.
TRACKS = [(cls, m) for _, cls in CLASSES for m in bench.benchmark_methods(cls)
          if m.startswith("track_") and getattr(getattr(cls, m), "unit",
                                                 getattr(cls, "unit", None)) == "absolute error"]


def test_suite_has_the_kernel_benchmarks():
    names = {f"{cls.__name__}.{m}" for _, cls in CLASSES for m in bench.benchmark_methods(cls)}
    for kernel in ("Distribution.time_distribution", "BestResponse.time_best_response",
                   "PolicyValue.time_policy_value", "Exploitability.time_exploitability",
                   "BatchedExploitability.time_exploitability_batch64",
                   "Distribution.peakmem_distribution", "PolicyValue.peakmem_policy_value",
                   "Accuracy.track_uniform_nashconv_error",
                   "FormAgreement.track_exploitability_difference",
                   "PlannerIteration.time_first_iteration",
                   "GridCrowdModelling.time_fictitious_play_step",
                   "TabularMFQTraining.time_train_step", "SynchronousRound.time_round",
                   "CheckerboardSweep.time_sweep"):
        assert kernel in names


def test_every_kernel_is_benchmarked_on_both_transition_forms():
    kernels = [cls for _, cls in CLASSES if issubclass(cls, bench_kernels._Kernel)]
    assert len(kernels) == 5
    for cls in kernels:
        params, names = bench._param_lists(cls)
        assert params[names.index("form")] == ["dense", "stencil"], cls


def test_every_reference_planner_is_benchmarked():
    from mfcheck.reference import PLANNERS
    from mfcheck.suites.perf.bench_planners import PlannerIteration
    params, names = bench._param_lists(PlannerIteration)
    assert set(params[names.index("planner")]) == set(PLANNERS)


def test_devices_are_what_this_machine_has():
    assert bench_kernels.DEVICES[0] == "cpu"
    assert ("cuda" in bench_kernels.DEVICES) == torch.cuda.is_available()
    bench_kernels.synchronize("cpu")  # a no-op, must not touch CUDA


@pytest.mark.parametrize("cls, method", METHODS,
                         ids=[f"{c.__name__}.{m}" for c, m in METHODS])
def test_time_benchmark_runs_once_at_smallest_params(cls, method):
    params = _smallest(cls)
    obj = cls()
    try:
        obj.setup(*params)
    except NotImplementedError as exc:  # asv's skip: e.g. a game this commit does not have
        pytest.skip(str(exc))
    getattr(obj, method)(*params)


@pytest.mark.parametrize("cls, method", TRACKS,
                         ids=[f"{c.__name__}.{m}" for c, m in TRACKS])
def test_track_benchmark_is_an_accurate_figure(cls, method):
    params = _smallest(cls)
    obj = cls()
    obj.setup(*params)
    value = getattr(obj, method)(*params)
    assert math.isfinite(value)
    assert 0 <= value < 1e-10  # float64 kernels reproduce OpenSpiel's figures


def test_asv_discovers_every_benchmark(monkeypatch):
    """asv imports benchmark_dir as the package ``perf``: the suite must import that way."""
    discovery = pytest.importorskip("asv_runner.discovery")
    monkeypatch.setattr(sys, "meta_path", list(sys.meta_path))  # asv adds an importer
    out = io.StringIO()
    try:
        discovery.list_benchmarks(str(REPO / "suites" / "perf"), out)
    finally:
        for name in [n for n in sys.modules if n == "perf" or n.startswith("perf.")]:
            del sys.modules[name]  # leave no trace of asv's import name behind
    found = {b["name"] for b in json.loads(out.getvalue())}
    expected = {f"{module}.{cls.__name__}.{m}" for module, cls in CLASSES
                for m in bench.benchmark_methods(cls)}
    assert expected <= found


def test_bench_runs_a_filtered_benchmark(capsys):
    code = bench.main(["--filter", r"Distribution\.time_distribution\(small, stencil, cpu\)",
                       "--repeat", "2", "--no-peers"])
    out = capsys.readouterr().out
    assert code == 0
    assert "bench_kernels.Distribution.time_distribution(small, stencil, cpu)" in out
    assert "(small, dense, cpu)" not in out
    assert "torch" in out and "cores" in out  # the machine is named
    assert "peers" not in out.split("repeats:")[1]


def test_bench_prints_track_values(capsys):
    code = bench.main(["--filter", "track_uniform", "--repeat", "1", "--no-peers"])
    assert code == 0
    assert "absolute error" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--filter", "("], ["--repeat", "0"], ["--threads", "0"], ["--bogus"]])
def test_bench_bad_usage_is_exit_2(argv, capsys):
    assert bench.main(argv) == 2


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_bench_cuda_without_a_gpu_is_exit_2(capsys):
    assert bench.main(["--device", "cuda"]) == 2
    assert "CUDA" in capsys.readouterr().err


def test_bench_missing_peer_is_a_one_line_skip(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyspiel", None)  # import pyspiel -> ImportError
    code = bench.main(["--filter", r"nash_conv_uniform\(mfg_crowd_modelling, small", "--repeat",
                       "1", "--peers"])
    out = capsys.readouterr().out
    assert code == 0
    assert "skipped" in out and "pyspiel" in out


def _fake(name: str, peer: float, mine: float, target=None, peer_once=False):
    sides = bench.Sides(lambda: peer, lambda: mine,
                        bench._same_number("value", 1e-9, "test tolerance"))
    return bench.Comparison(f"peers.fake.{name}", ("game",), f"fake {name}", lambda device: sides,
                            target, peer_once)


def _peer_rows(out: str) -> dict[str, list[str]]:
    """The table's rows by their first word (the notes under the table come later)."""
    rows: dict[str, list[str]] = {}
    for line in out.splitlines():
        if line.startswith("peers.fake."):
            rows.setdefault(line.split()[0], line.split())
    return rows


def test_peers_prints_the_side_by_side_table_only_and_marks_disagreement(monkeypatch, capsys):
    monkeypatch.setattr(bench, "COMPARISONS", [
        _fake("same", 1.0, 1.0 + 1e-12, target=1e-9),
        _fake("off", 1.0, 1.0 + 1e-6, peer_once=True)])
    code = bench.main(["--peers", "--repeat", "2"])
    out = capsys.readouterr().out
    assert code == 1  # a disagreement is a failed comparison
    assert "mfcheck kernels" not in out and "bench_kernels." not in out
    header = next(line for line in out.splitlines() if line.startswith("comparison"))
    assert header.split() == ["comparison", "peer", "mfcheck", "ratio", "target", "met",
                              "figure", "peer", "value", "mfcheck", "value", "|diff|",
                              "tolerance", "agree"]
    rows = _peer_rows(out)
    assert rows["peers.fake.same(game,"][-1] == "yes" and rows["peers.fake.same(game,"][-7] == "yes"
    assert rows["peers.fake.off(game,"][-1] == "NO"
    assert "*" in rows["peers.fake.off(game,"]  # timed once
    assert "the two sides disagree: value differs by 1e-06, more than the tolerance 1e-09" in out


def test_peers_agreeing_comparisons_exit_0(monkeypatch, capsys):
    monkeypatch.setattr(bench, "COMPARISONS", [_fake("same", 2.0, 2.0)])
    assert bench.main(["--peers", "--repeat", "1"]) == 0
    assert _peer_rows(capsys.readouterr().out)["peers.fake.same(game,"][-1] == "yes"


def test_float32_tolerance_covers_float32_rounding_of_the_same_computation():
    """The MFGLib tolerance, derived for float32 arithmetic, holds when mfcheck's own kernels
    run the same exploitability in float32 instead of float64 (measured: 1 to 2% of it)."""
    from mfcheck.games import crowd_modelling
    from mfcheck.kernels import exploitability
    game = crowd_modelling(10, 10)
    policy = game.uniform_policy()
    single = game.replace(dtype=torch.float32)
    diff = abs(exploitability(game, policy).item()
               - exploitability(single, policy.float()).item())
    n, magnitude = bench._mfglib_terms(game, policy)
    tolerance = bench.float32_tolerance(n, magnitude)
    assert 0 < diff <= tolerance
    assert tolerance < 1e-3 * exploitability(game, policy).item()  # still a sharp figure


@pytest.mark.openspiel
def test_bench_openspiel_side_by_side(capsys):
    pytest.importorskip("pyspiel")
    importlib.import_module("open_spiel.python.mfg.games.crowd_modelling")
    code = bench.main(["--peers", "--filter", r"peers\.openspiel\..*small", "--repeat", "1",
                       "--max-time", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = [line for line in out.splitlines() if line.startswith("peers.openspiel")]
    assert len(rows) == 4
    assert all(row.split()[-1] == "yes" for row in rows), out  # agree to 1e-9
    assert "2.813536554" in out and "4.217152796" in out
    assert "error" not in out, out


@pytest.mark.mfglib
def test_bench_mfglib_side_by_side(capsys):
    pytest.importorskip("mfglib")
    code = bench.main(["--peers", "--filter", r"peers\.mfglib", "--repeat", "1",
                       "--max-time", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    rows = [line for line in out.splitlines() if line.startswith("peers.mfglib")]
    assert len(rows) == 4
    assert all(row.split()[-1] == "yes" for row in rows), out  # within float32's tolerance
    crowd = next(row for row in rows if row.startswith("peers.mfglib.exploitability_uniform(crowd"))
    assert "1.4674" in crowd  # docs/references.md#mfglib-uniform-exploitability: 1.4674721
