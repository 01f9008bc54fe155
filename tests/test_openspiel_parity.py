"""The openspiel-parity suite passes: mfcheck reproduces OpenSpiel's NashConv figures."""

from __future__ import annotations

import pytest
import torch

from mfcheck.check import PASS, SKIP, Budget, Context
from mfcheck.registry import get_suite

SUITE = get_suite("openspiel-parity")
CTX = Context(seed=0, budget=Budget.QUICK, device=torch.device("cpu"))


@pytest.mark.parametrize("case", SUITE.cases([], ["cpu"]), ids=lambda c: c.check)
def test_openspiel_figures_are_reproduced(case):
    if case.check == "live-nashconv":
        pytest.importorskip("pyspiel")
    result = SUITE.run(case, None, CTX)
    assert result.status == PASS, result.message


def test_live_check_skips_without_open_spiel(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "mfcheck.adapters.openspiel", None)  # import fails
    (case,) = [c for c in SUITE.cases([], ["cpu"]) if c.check == "live-nashconv"]
    result = SUITE.run(case, None, CTX)
    assert result.status == SKIP and "open_spiel" in result.message
