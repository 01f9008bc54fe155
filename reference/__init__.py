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
    # Softmax best responses averaged as fictitious play does: it converges to the logit
    # equilibrium on every monotone game. Undamped Boltzmann iteration (FixedPoint with
    # temperature=1.0 alone) contracts only where the softmax map does, and cycles on crowd
    # modelling and staged routes at τ = 1 (docs/planners.md).
    "softmax-fictitious-play": FictitiousPlay(temperature=1.0, name="softmax-fictitious-play(τ=1)"),
    "best-response-iteration": FixedPoint(name="best-response-iteration"),
}

__all__ = ["FictitiousPlay", "FixedPoint", "OnlineMirrorDescent", "PLANNERS"]
