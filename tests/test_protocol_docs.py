"""Each protocol page's example (docs/protocols/), run verbatim: imported from a temporary
folder, it is an instance of its protocol and passes one cheap check of its suite."""

from __future__ import annotations

import importlib

import pytest

import mfcheck
from mfcheck.check import PASS
from mfcheck.protocols import role_of

from .doc_examples import ROOT, forget_example, install_example
from .power import suite_results

PAGES = ROOT / "docs" / "protocols"

#: page, module, class, protocol, (suite, check, game)
EXAMPLES = [
    ("planner.md", "my_planner", "FictitiousPlay", mfcheck.Planner,
     ("multi-epoch", "reaches-equilibrium", "staged-routes(H=4)")),
    ("sampler.md", "my_sampler", "CheckerboardMetropolis", mfcheck.Sampler,
     ("ising", "energy-histogram-4x4", "L4,T=2.5,h=0.3")),
    ("simulator.md", "my_simulator", "MySimulator", mfcheck.Simulator,
     ("sync-async", "idle-agents-keep-state", "resource_selection(κ=0.5)")),
    ("learner.md", "my_learner", "MyMFQ", mfcheck.Learner,
     ("ising-mfq", "bellman-fixed-point", None)),
    ("tmf-learner.md", "my_tmf_learner", "MyTMFLearner", mfcheck.TMFLearner,
     ("sync-async", "population-feedback", None)),
]


def test_every_page_has_an_example_here():
    assert {page for page, *_ in EXAMPLES} == {p.name for p in PAGES.glob("*.md")}


@pytest.mark.parametrize("page, module, cls, protocol, case", EXAMPLES,
                         ids=[e[0] for e in EXAMPLES])
def test_the_page_example_passes_its_check(page, module, cls, protocol, case, tmp_path,
                                           monkeypatch):
    install_example(PAGES / page, module, tmp_path, monkeypatch)
    try:
        solver = getattr(importlib.import_module(module), cls)()
        assert isinstance(solver, protocol) and role_of(solver) is not None
        suite, check, game = case
        results = list(suite_results([suite], f"{module}:{cls}", checks=[check],
                                     games=[game] if game else None))
        assert results and all(r.status == PASS for r in results), \
            [r.message for r in results]
    finally:
        forget_example(module)
