"""A tiny suite for testing mfcheck's runner, reports, CLI and pytest plugin.

`register(monkeypatch)` makes it the suite ``fake`` of the registry (and a spawned
worker gets it too: the runner hands the registry over); `cli_driver` writes a script
that runs the ``mfcheck`` command with it, for tests that drive the CLI in a process of
its own (to signal or watch it).
"""

from __future__ import annotations

import importlib
from pathlib import Path

import torch

from mfcheck import FiniteMFG, registry
from mfcheck.check import Outcome, Suite
from mfcheck.boundary import last_policies

NAME = "fake"
# The sibling module, whether tests/ is imported as a package or as a folder on sys.path.
fake_solvers = importlib.import_module(__name__.replace("fake_suite", "fake_solvers"))
suite = Suite(NAME, role="planner", description="a tiny suite for mfcheck's own tests",
              reference_solvers=[fake_solvers.spec("Good")])


def tiny_game(device) -> FiniteMFG:
    """Two states that never change, two actions, no reward, two epochs."""
    return FiniteMFG(torch.tensor([0.5, 0.5]),
                     lambda t, L: torch.zeros(2, 2, dtype=L.dtype, device=L.device),
                     lambda t, L: torch.eye(2, dtype=L.dtype, device=L.device)[:, None, :]
                     .expand(2, 2, 2),
                     n_actions=2, horizon=2, name="tiny", device=device)


@suite.check("uniform", games={"tiny": tiny_game})
def uniform(solver, game, ctx):
    """The solver's second policy is uniform."""
    policy = last_policies(solver, game, seed=ctx.seed, iterations=2)[-1]
    gap = (policy - game.uniform_policy()).abs().max().item()
    return Outcome(gap < 1e-9, gap, 0.0, 1e-9, f"max deviation from uniform {gap:.3g}")


@suite.check("skipped")
def skipped(solver, game, ctx):
    """Always skips."""
    return Outcome.skip("nothing to check here")


@suite.check("harness", needs_solver=False)
def harness(solver, game, ctx):
    """Checks mfcheck itself and draws a plot."""
    artifacts = ()
    if ctx.report_dir is not None:
        plot = Path(ctx.report_dir) / "harness plot.png"
        plot.write_bytes(b"\x89PNG fake")
        artifacts = (str(plot),)
    return Outcome(True, 1.0, 1.0, 0.0, "one is one", artifacts=artifacts)


def register(monkeypatch=None) -> None:
    if monkeypatch is None:
        registry.SUITE_MODULES[NAME] = __name__
    else:
        monkeypatch.setitem(registry.SUITE_MODULES, NAME, __name__)


_DRIVER = """\
import signal, sys
# Ctrl-C as a terminal delivers it, whatever this process inherited: a shell without job
# control starts background commands with SIGINT ignored, and children inherit that.
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, {tests!r})
import fake_suite
fake_suite.register()
from mfcheck.cli import main
if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
"""


def cli_driver(directory: Path) -> Path:
    """A script in ``directory``: ``python SCRIPT ARGS`` runs ``mfcheck ARGS`` with this
    suite registered (and the modules of tests/ importable, for solver specs)."""
    script = Path(directory) / "drive.py"
    script.write_text(_DRIVER.format(tests=str(Path(__file__).resolve().parent)))
    return script
