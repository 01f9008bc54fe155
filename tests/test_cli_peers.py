"""The adapted peer solvers as registered names (entry points ``mfcheck.solvers``):
``mfcheck list --solvers`` lists them without importing any peer, and marks one whose
peer is not installed as unavailable, with the extra to install."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mfcheck import solvers
from mfcheck.cli import main

#: Registered names of the adapted peers' solvers, and the spec each stands for.
PEER_SOLVERS = {
    **{f"mfglib-{key}": f"mfcheck.adapters.mfglib:PLANNERS[{key}]" for key in (
        "fictitious-play", "online-mirror-descent", "online-mirror-descent-float64",
        "prior-descent", "mfomo", "occupation-measure-inclusion")},
    **{f"openspiel-{key}": f"mfcheck.adapters.openspiel:PLANNERS[{key}]" for key in (
        "fictitious-play", "mirror-descent", "fixed-point", "fixed-point-tau1",
        "boltzmann-policy-iteration-tau1")},
}
PEER_MODULES = ("mfglib", "pyspiel", "open_spiel", "benchmfg", "jax")


def test_every_adapted_peer_solver_is_registered_under_its_name():
    registered = solvers.registered()
    assert {name: registered.get(name) for name in PEER_SOLVERS} == PEER_SOLVERS
    from mfcheck.adapters import mfglib, openspiel  # imports no peer
    assert {f"mfglib-{k}" for k in mfglib.PLANNERS} | \
        {f"openspiel-{k}" for k in openspiel.PLANNERS} == set(PEER_SOLVERS)


def test_listing_the_solvers_imports_no_peer():
    code = ("import contextlib, io, sys\n"
            "from mfcheck.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    main(['list', '--solvers'])\n"
            f"print(sorted(m for m in {PEER_MODULES!r} if m in sys.modules))\n"
            "print(out.getvalue())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    imported, *rows = done.stdout.splitlines()
    assert imported == "[]"
    listed = {row.split()[0]: row.split()[1:3] for row in rows if row.strip()}
    for name, spec in PEER_SOLVERS.items():
        assert listed[name][0] == spec
        assert listed[name][1] in ("planner", "unavailable")


def test_a_solver_whose_peer_is_missing_is_listed_unavailable_and_refused(
        monkeypatch, capsys):
    monkeypatch.setitem(solvers.PEERS, "mfcheck.adapters.mfglib",
                        ("no_such_peer_for_mfcheck_tests", "mfglib"))
    assert main(["list", "--solvers"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert rows["mfglib-fictitious-play"] == (
        "mfglib-fictitious-play  mfcheck.adapters.mfglib:PLANNERS[fictitious-play]  "
        "unavailable  its peer 'no_such_peer_for_mfcheck_tests' is not installed: "
        "pip install 'mfcheck[mfglib]'")
    assert rows["openspiel-fixed-point"].split()[2] in ("planner", "unavailable")
    assert main(["validate", "mfglib-fictitious-play", "--jobs", "0"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("mfcheck: error: solver 'mfcheck.adapters.mfglib:PLANNERS"
                           "[fictitious-play]': its peer 'no_such_peer_for_mfcheck_tests' is "
                           "not installed: pip install 'mfcheck[mfglib]'")


@pytest.mark.parametrize("name", ["mfglib-fictitious-play", "openspiel-fixed-point"])
def test_an_installed_peer_solver_loads_by_name(name):
    peer = solvers.PEERS[PEER_SOLVERS[name].split(":")[0]][0]
    pytest.importorskip(peer)
    assert solvers.expand(name) == [PEER_SOLVERS[name]]
    assert callable(solvers.load(PEER_SOLVERS[name]).solve)
