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
                   "Exploitability.time_exploitability",
                   "BatchedExploitability.time_exploitability_batch64",
                   "Distribution.peakmem_distribution", "Accuracy.track_uniform_nashconv_error"):
        assert kernel in names


def test_devices_are_what_this_machine_has():
    assert bench_kernels.DEVICES[0] == "cpu"
    assert ("cuda" in bench_kernels.DEVICES) == torch.cuda.is_available()
    bench_kernels.synchronize("cpu")  # a no-op, must not touch CUDA


@pytest.mark.parametrize("cls, method", METHODS,
                         ids=[f"{c.__name__}.{m}" for c, m in METHODS])
def test_time_benchmark_runs_once_at_smallest_params(cls, method):
    params = _smallest(cls)
    obj = cls()
    obj.setup(*params)
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
    code = bench.main(["--filter", r"Distribution\.time_distribution\(small, cpu\)",
                       "--repeat", "2", "--no-peers"])
    out = capsys.readouterr().out
    assert code == 0
    assert "bench_kernels.Distribution.time_distribution(small, cpu)" in out
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
    code = bench.main(["--filter", r"nash_conv_uniform\(mfg_crowd", "--repeat", "1",
                       "--peers"])
    out = capsys.readouterr().out
    assert code == 0
    assert "skipped" in out and "pyspiel" in out


@pytest.mark.openspiel
def test_bench_openspiel_side_by_side(capsys):
    pytest.importorskip("pyspiel")
    importlib.import_module("open_spiel.python.mfg.games.crowd_modelling")
    code = bench.main(["--filter",
                       r"peers\.openspiel\.(nash_conv_uniform|fictitious_play_step)\(mfg_crowd",
                       "--repeat", "1", "--max-time", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "ratio" in out and "2.813536554" in out and "4.217152796" in out
    assert "error" not in out, out


@pytest.mark.mfglib
def test_bench_mfglib_side_by_side(capsys):
    pytest.importorskip("mfglib")
    code = bench.main(["--filter", r"peers\.mfglib", "--repeat", "1", "--max-time", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    row = next(line for line in out.splitlines() if line.startswith("peers.mfglib"))
    assert "x" in row and "1.4674" in row  # docs/references.md#mfglib-uniform-exploitability: 1.4674721
