"""The README's planner example, run verbatim: it must pass the checks the README runs it on
(here, to stay quick, the multi-epoch cases of one closed-form game and the stationary
garnets, and one two-route game)."""

from __future__ import annotations

import pytest

from mfcheck.check import PASS

from .doc_examples import ROOT, forget_example, install_example
from .power import suite_results


@pytest.fixture
def readme_planner(tmp_path, monkeypatch):
    install_example(ROOT / "README.md", "my_planner", tmp_path, monkeypatch)
    yield "my_planner:SoftmaxFictitiousPlay"
    forget_example("my_planner")


@pytest.mark.parametrize("suite, check, game", [
    ("multi-epoch", "reaches-equilibrium", "staged-routes(H=4)"),
    ("multi-epoch", "stationary-equilibrium", None),
    ("two-route", "reaches-equilibrium", "interior(1,1,1.5,0.5)"),
])
def test_the_readme_planner_passes(readme_planner, suite, check, game):
    results = list(suite_results([suite], readme_planner, checks=[check],
                                 games=[game] if game else None))
    assert results and all(r.status == PASS for r in results), [r.message for r in results]
