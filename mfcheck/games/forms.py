"""The same game with its transition in the other form: dense ↔ stencil.

The kernels must give the same results, to rounding, on both forms of one game
(tests/test_transition.py); the benchmarks time both (suites/perf).
"""

from __future__ import annotations

from ..game import FiniteMFG
from ..transition import Stencil


def stencil_form(game: FiniteMFG) -> FiniteMFG:
    """``game`` with its transition given as a `Stencil` (`Stencil.from_dense` of the dense one)."""
    return game.replace(transition=lambda t, L: Stencil.from_dense(game.transition(t, L)),
                        name=f"{game.name} [stencil]")


def dense_form(game: FiniteMFG) -> FiniteMFG:
    """``game`` with its transition given as a dense ``(S, A, S)`` tensor."""
    return game.replace(transition=game.transition, name=f"{game.name} [dense]")
