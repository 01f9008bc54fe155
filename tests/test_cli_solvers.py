"""Finding solvers: the current directory first (console script and pytest plugin),
registered names (entry points ``mfcheck.solvers``), ``mfcheck list --solvers``,
constructor arguments; the plugin's report header and its ids across xdist workers;
the hints of a failed congestion check."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from mfcheck import solvers
from mfcheck.cli import main
from mfcheck.errors import UsageError
from mfcheck.games.congestion import Routes
from mfcheck.suites.congestion import likely_cause

REPO = Path(__file__).resolve().parents[1]
LEARNER = '''
import torch


class LearnerWithoutBoltzmann:
    """A learner that declares nothing."""

    def learn(self, env, *, steps, seed, temperature=None):
        return lambda obs, mean_action: torch.full((*obs.shape, env.n_actions), 0.5)
'''
PLANNER = '''
class Uniform:
    """Always the uniform policy."""

    name = "uniform-planner"

    def solve(self, game, *, seed):
        while True:
            yield game.uniform_policy()
'''
#: A suite of two cheap checks, registered by the conftest of the xdist test's folder.
TINY_SUITE = '''
from mfcheck import FiniteMFG, registry
from mfcheck.check import Outcome, Suite
from mfcheck.boundary import last_policies
import torch

suite = Suite("tiny", role="planner", description="two cheap checks", reference_solvers=[])
GAMES = {f"game-{i}": (lambda device, i=i: i) for i in range(3)}


@suite.check("first-policy", games=GAMES)
def first_policy(solver, i, ctx):
    """The solver yields a policy."""
    game = FiniteMFG(torch.tensor([0.5, 0.5]),
                     lambda t, L: torch.zeros(2, 2, dtype=L.dtype),
                     lambda t, L: torch.eye(2, dtype=L.dtype)[:, None, :].expand(2, 2, 2),
                     n_actions=2, horizon=2, name=f"g{i}")
    last_policies(solver, game, seed=ctx.seed, iterations=1)
    return Outcome(True, 1, 1, 0, "a policy")


@suite.check("self", needs_solver=False)
def self_check(solver, game, ctx):
    """Checks mfcheck itself."""
    return Outcome(True, 1, 1, 0, "one is one")
'''


def console(*args, cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    script = shutil.which("mfcheck")
    assert script, "the mfcheck console script is not installed"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([script, *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_console_script_finds_the_solver_in_the_current_directory(tmp_path):
    (tmp_path / "x.py").write_text(LEARNER)
    done = console("run", "ising-mfq", "--solver", "x:LearnerWithoutBoltzmann", cwd=tmp_path)
    # Found (not "cannot import 'x'"), and since no check applies to it: usage, exit 2.
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        "mfcheck: error: no check applies to 'x:LearnerWithoutBoltzmann' (a learner): "
        "ising-mfq applies to learners that declare boltzmann = True")


def test_console_script_lists_the_registered_solvers(tmp_path):
    done = console("list", "--solvers", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0]: line.split()[1:3] for line in done.stdout.splitlines()}
    assert rows["fictitious-play"] == ["mfcheck.reference:PLANNERS[fictitious-play]", "planner"]
    assert rows["checkerboard-metropolis"][1] == "sampler"
    assert rows["mf-q"][1] == "learner" and rows["nplayer-simulator"][1] == "simulator"
    assert list(rows) == sorted(rows)


def test_a_registered_name_stands_for_its_spec():
    assert solvers.expand("fictitious-play") == ["mfcheck.reference:PLANNERS[fictitious-play]"]
    assert solvers.load("wolff").name == "wolff"
    with pytest.raises(UsageError, match="or a registered name"):
        solvers.expand("no-such-solver")


@pytest.mark.parametrize("text, pair", [
    ("lr=0.1", ("lr", 0.1)), ("n= 3", ("n", 3)), ("sizes=(1, 2)", ("sizes", (1, 2))),
    ("name=my planner", ("name", "my planner")), ("flag=True", ("flag", True)),
    ("name='quoted'", ("name", "quoted")),
])
def test_solver_arg_values_are_literals_else_strings(text, pair):
    assert solvers.parse_arg(text) == pair


def test_constructor_arguments_round_trip_through_the_spec():
    spec = solvers.with_args("mfcheck.reference:FixedPoint",
                             {"damping": 0.5, "name": "half (τ=0)"})
    assert spec == "mfcheck.reference:FixedPoint(damping=0.5, name='half (τ=0)')"
    planner = solvers.load(solvers.expand(spec)[0])
    assert planner.damping == 0.5 and planner.name == "half (τ=0)"
    with pytest.raises(UsageError, match="names a collection of solvers, not a class"):
        solvers.expand(solvers.with_args("mfcheck.reference:PLANNERS", {"damping": 0.5}))


def _pytest(*args, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                           "-p", "no:hypothesispytest", "--mfcheck-solver", "planner:Uniform",
                           "--mfcheck-suite", "tiny", "--mfcheck-device", "cpu", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def test_plugin_ids_are_the_same_on_every_xdist_worker_and_run(tmp_path):
    pytest.importorskip("xdist")
    (tmp_path / "planner.py").write_text(PLANNER)
    (tmp_path / "tiny_suite.py").write_text(TINY_SUITE)
    (tmp_path / "conftest.py").write_text(
        "from mfcheck import registry\nregistry.SUITE_MODULES['tiny'] = 'tiny_suite'\n")
    ran = _pytest("-p", "xdist", "-n", "2", "-v", cwd=tmp_path)
    # xdist stops with "Different tests were collected between gw0 and gw1" otherwise.
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "mfcheck: 4 cases; suites tiny; solvers uniform-planner (planner:Uniform); " \
           "devices cpu; budget quick, seed 0" in ran.stdout
    # Each worker collected on its own (under -n, --collect-only would not reach them);
    # the ids are made of names only, so they are these, whatever the run.
    ids = [f"mfcheck::tiny::first-policy[game-{i}|planner:Uniform|cpu]" for i in range(3)]
    ids.append("mfcheck::tiny::self[-|mfcheck|cpu]")
    passed = [line.split()[-1] for line in ran.stdout.splitlines() if "PASSED" in line]
    assert sorted(passed) == sorted(ids), ran.stdout


ROUTES = Routes((1.0, 1.5), (1.0, 0.5))  # Wardrop split (2/3, 1/3); logit at τ = 1 ≈ (0.545, 0.455)


def _policy(split) -> torch.Tensor:
    return torch.tensor(split, dtype=torch.float64).reshape(1, 1, 2)


def test_hint_cycling_iterates_suggest_convergent_false():
    tail = [_policy((1.0, 0.0)), _policy((0.0, 1.0))] * 3
    assert "the iterates cycle with period 2: declare convergent = False if the method is " \
           "not meant to converge" in likely_cause(tail, ROUTES, 0.0, 0.67)


def test_hint_a_tau_planner_at_the_wardrop_split_is_told_so():
    wardrop = ROUTES.equilibrium(0.0)
    tail = [_policy(wardrop)] * 6
    error = float(np.abs(wardrop - ROUTES.equilibrium(1.0)).max())
    hint = likely_cause(tail, ROUTES, 1.0, error)
    assert hint.startswith("; the split is the Wardrop (τ = 0) split [0.666667, 0.333333] to ")
    assert "declared τ = 1: is τ used?" in hint
    # No hint for a planner without τ, or one merely short of the logit split.
    assert likely_cause(tail, ROUTES, 0.0, error) == ""
    halfway = [_policy((wardrop + ROUTES.equilibrium(1.0)) / 2)] * 6
    assert likely_cause(halfway, ROUTES, 1.0, error / 2) == ""
