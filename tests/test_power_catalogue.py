"""Every check has power: each entry of the catalogue of broken solvers (tests/catalogue.py)
gets status FAIL from every check it names — ERROR with its reason for the bug class
"protocol output" — on every game of that check (or the entry's ``games``), CPU, quick
budget, seed 0. Only the named checks run here; docs/power.md (``python -m
tests.power_matrix``) runs every entry against every check of its role.

The tests that every reference solver passes every check stay with each role's suites
(tests/test_power*.py)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from mfcheck import solvers
from mfcheck.check import ERROR, FAIL
from mfcheck.protocols import role_of
from mfcheck.registry import get_suite

from .catalogue import MODULES, entries
from .power import suite_results

ENTRIES = entries()
POWER_PAGE = Path(__file__).resolve().parents[1] / "docs" / "power.md"


def _id(entry) -> str:
    return entry.spec.split(":", 1)[1]


def catalogue_role(solver) -> str | None:
    """The catalogue's role of a solver: `role_of`, with TMF learners apart."""
    role = role_of(solver)
    return "tmf-learner" if role == "learner" and getattr(solver, "tmf", False) else role


def _summary(results) -> str:
    return "; ".join(f"{r.suite}::{r.check}[{r.game}]: {r.status}: {r.message}"
                     for r in results)


@pytest.mark.parametrize("entry", ENTRIES, ids=_id)
def test_entry_is_well_formed(entry):
    """The spec loads, has the declared role, and each named check exists and applies."""
    solver = solvers.load(entry.spec)
    assert catalogue_role(solver) == entry.role, entry.spec
    games = set()
    for name in entry.caught_by:
        suite_name, check = name.split("::")
        suite = get_suite(suite_name)
        assert check in suite.checks, f"{name}: no such check"
        cases = [c for c in suite.cases([(entry.spec, solver)], ["cpu"])
                 if c.check == check and c.solver == entry.spec]
        assert cases, f"{name} does not apply to {entry.spec}"
        games |= {c.game for c in cases}
        if entry.games:
            assert any(c.game in entry.games for c in cases), \
                f"{name} has none of the games {entry.games}"
    assert not set(entry.games) - games, f"no named check has games " \
                                         f"{sorted(set(entry.games) - games)}"


@pytest.mark.parametrize("module", MODULES)
def test_every_broken_solver_of_a_catalogued_module_is_in_the_catalogue(module):
    """Where a module declares a ``CATALOGUE``, each of its ``BROKEN*`` dict entries, and
    each class it defines with a ``name`` starting "broken" that no such dict holds an
    instance of, has an entry."""
    import importlib

    mod = importlib.import_module(module)
    if not hasattr(mod, "CATALOGUE"):
        pytest.skip(f"{module} declares no CATALOGUE yet")
    declared = {e.spec for e in mod.CATALOGUE}
    expected = {f"{module}:{var}[{key}]" for var, value in vars(mod).items()
                if var.startswith("BROKEN") and isinstance(value, dict) for key in value}
    in_dicts = {type(v) for var, value in vars(mod).items()
                if var.startswith("BROKEN") and isinstance(value, dict) for v in value.values()}
    expected |= {f"{module}:{var}" for var, value in vars(mod).items()
                 if inspect.isclass(value) and value.__module__ == module
                 and value not in in_dicts
                 and str(getattr(value, "name", "")).startswith("broken")}
    assert not expected - declared, f"broken solvers without a catalogue entry: " \
                                    f"{sorted(expected - declared)}"


@pytest.mark.parametrize("entry", ENTRIES, ids=_id)
def test_entry_is_caught_by_its_named_checks(entry):
    want = ERROR if entry.expected_status == "error" else FAIL
    for name in entry.caught_by:
        suite_name, check = name.split("::")
        results = list(suite_results([suite_name], entry.spec, checks=[check],
                                     games=list(entry.games) or None))
        assert results, f"{name} ran no case of {entry.spec}"
        # FAIL, not ERROR: the broken solver runs as designed and the check sees the bug
        # in what it returns (ERROR only where broken protocol output is the bug)
        assert all(r.status == want for r in results), _summary(results)
        assert all(r.message for r in results)


def test_the_catch_matrix_names_every_entry():
    """docs/power.md is regenerated (``python -m tests.power_matrix``) when the catalogue
    grows: every entry's spec is a row of it."""
    if not POWER_PAGE.exists():
        pytest.skip("docs/power.md is not generated yet: python -m tests.power_matrix")
    text = POWER_PAGE.read_text(encoding="utf-8")
    missing = [e.spec for e in ENTRIES if f"`{e.spec}`" not in text]
    assert not missing, (f"docs/power.md lacks {missing}: regenerate it with "
                         f"python -m tests.power_matrix")
