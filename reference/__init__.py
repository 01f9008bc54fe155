"""Reference solvers: mfcheck's own implementations, behind the same protocols as anyone's.

``PLANNERS`` is what the planner suites run when no ``--solver`` is given
(spec ``mfcheck.reference:PLANNERS``).
"""

from .fictitious_play import FictitiousPlay
from .fixed_point import FixedPoint
from .mirror_descent import OnlineMirrorDescent

PLANNERS = {
    "fictitious-play": FictitiousPlay(),
    "mirror-descent": OnlineMirrorDescent(learning_rate=0.1),
    "damped-fixed-point": FixedPoint(damping=0.5, decay=0.8, name="damped-fixed-point"),
    "boltzmann-iteration": FixedPoint(temperature=1.0, name="boltzmann-iteration(τ=1)"),
    "best-response-iteration": FixedPoint(name="best-response-iteration"),
}

__all__ = ["FictitiousPlay", "FixedPoint", "OnlineMirrorDescent", "PLANNERS"]
