"""The README's planner example, run verbatim: it must pass the checks the README runs it on
(here, to stay quick, the multi-epoch cases of one closed-form game and the stationary
garnets, and one two-route game)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from mfcheck.check import PASS

from .power import suite_results

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def readme_planner(tmp_path, monkeypatch):
    text = README.read_text(encoding="utf-8")
    (code,) = re.findall(r"```python\n(# my_planner\.py\n.*?)```", text, flags=re.S)
    (tmp_path / "my_planner.py").write_text(code, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "my_planner:SoftmaxFictitiousPlay"
    sys.modules.pop("my_planner", None)


@pytest.mark.parametrize("suite, check, game", [
    ("multi-epoch", "reaches-equilibrium", "staged-routes(H=4)"),
    ("multi-epoch", "stationary-equilibrium", None),
    ("two-route", "reaches-equilibrium", "interior(1,1,1.5,0.5)"),
])
def test_the_readme_planner_passes(readme_planner, suite, check, game):
    results = list(suite_results([suite], readme_planner, checks=[check],
                                 games=[game] if game else None))
    assert results and all(r.status == PASS for r in results), [r.message for r in results]
