"""Every command of the README, run verbatim by the console script (``mfcheck``, or
``python -m pytest`` for the plugin) in a fresh folder that holds the README's solver files.

To stay quick, every suite is cut down to one case per command (`CASES`, by a
``sitecustomize`` in that folder, so that the worker processes see the same cut); the
whole commands were run by hand on a fresh virtual environment with mfcheck installed
non-editable (durations in docs/cli.md). tests/test_readme_planner.py runs the README's
planner on more of its cases in-process.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
#: The cases each command keeps: suite → check → the games (None: the check's first game).
CASES = {
    "two-route": {"reaches-equilibrium": ["interior(1,1,1.5,0.5)"]},
    "multi-epoch": {"reaches-equilibrium": ["staged-routes(H=4)"]},
    "ising-mfq": {"bellman-fixed-point": None},
    "sync-async": {"idle-agents-keep-state": None},
}
SITECUSTOMIZE = '''
import dataclasses, json, os

from mfcheck import registry

_CASES = json.loads(os.environ["MFCHECK_README_CASES"])
_get_suite = registry.get_suite


def _cut(name):
    suite = _get_suite(name)
    keep = _CASES.get(name, {})
    suite.checks = {c: dataclasses.replace(d, games={g: d.games[g] for g in keep[c]}
                                          if d.games else None)
                    for c, d in suite.checks.items() if c in keep}
    return suite


registry.get_suite = _cut
'''


def _blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def _commands() -> list[str]:
    """The README's commands that check a solver (not the set-up and test commands, which
    install mfcheck and run everything: those were run by hand)."""
    return [line.strip() for block in _blocks("bash") for line in block.splitlines()
            if re.match(r"(mfcheck (validate|run) |python -m pytest --mfcheck-solver)",
                        line.strip())]


def test_the_readme_has_the_commands_this_test_runs():
    assert _commands() == [
        "mfcheck validate my_planner:SoftmaxFictitiousPlay",
        "mfcheck run two-route n-route multi-epoch --solver my_planner:SoftmaxFictitiousPlay",
        "python -m pytest --mfcheck-solver my_planner:SoftmaxFictitiousPlay "
        "--mfcheck-suite multi-epoch",
        "mfcheck run ising-mfq gaussian-squeeze --solver mf-q --timeout 1200",
        "mfcheck run approximation-rate sync-async --solver nplayer-simulator",
    ]


@pytest.fixture(scope="module")
def fresh_folder(tmp_path_factory) -> tuple[Path, dict]:
    from mfcheck import registry

    folder = tmp_path_factory.mktemp("readme")
    for block in _blocks("python"):
        first = block.splitlines()[0]
        match = re.match(r"# (\w+\.py)$", first)
        if match and "..." not in block:  # the outlines (learner, simulator) are not solvers
            (folder / match[1]).write_text(block, encoding="utf-8")
    assert (folder / "my_planner.py").exists()
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    cases = {suite: {check: games or [next(iter(registry.get_suite(suite).checks[check].games))]
                     for check, games in checks.items()} for suite, checks in CASES.items()}
    env = {**os.environ, "PYTHONPATH": str(folder), "MFCHECK_README_CASES": json.dumps(cases)}
    return folder, env


@pytest.mark.parametrize("command", _commands())
def test_each_readme_command_passes_verbatim(fresh_folder, command):
    folder, env = fresh_folder
    argv = shlex.split(command)
    if argv[0] == "mfcheck":
        argv[0] = shutil.which("mfcheck")
        assert argv[0], "the mfcheck console script is not installed"
    else:
        argv[0] = sys.executable
    argv += ["-p", "no:cacheprovider"] if "pytest" in command else []
    done = subprocess.run(argv, cwd=folder, env=env, capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    if "pytest" in command:
        assert re.search(r"\b1 passed\b", done.stdout), done.stdout
    else:
        assert re.search(r"solver checks: [1-9]\d* passed, 0 failed, 0 errors", done.stdout) \
            or "VERDICT: PASS" in done.stdout, done.stdout[-3000:]
