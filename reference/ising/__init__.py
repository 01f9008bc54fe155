"""Reference Ising samplers behind the sampler protocol (`mfcheck.protocols.Sampler`).

``SAMPLERS`` is what the Ising suites run when no ``--solver`` is given
(spec ``mfcheck.reference.ising:SAMPLERS``):

- ``checkerboard-metropolis``, ``checkerboard-heat-bath``: checkerboard single-spin
  updates (even L), any device; a fused C kernel on CPU when a compiler is available,
  bit-identical to the torch code (see `checkerboard`);
- ``wolff``: single-cluster updates, h = 0 only, numpy on the CPU (see `wolff`);
- ``random-site-metropolis``: the slow textbook reference, L ≤ 16 (see `random_site`).

Each has ``name``, ``sample(L, temperatures, *, coupling, field, sweeps, chains, seed,
device, start) -> IsingSamples``, ``simulate(...)`` (the same, and the final spins) and
``step(spins, beta, coupling, field, generator) -> spins`` (one sweep of a batch).
"""

from .checkerboard import CheckerboardChains, CheckerboardSampler
from .heat_bath import CheckerboardHeatBath
from .metropolis import CheckerboardMetropolis
from .random_site import RandomSiteMetropolis
from .wolff import Wolff

SAMPLERS = {
    "checkerboard-metropolis": CheckerboardMetropolis(),
    "checkerboard-heat-bath": CheckerboardHeatBath(),
    "wolff": Wolff(),
    "random-site-metropolis": RandomSiteMetropolis(),
}

__all__ = ["CheckerboardChains", "CheckerboardHeatBath", "CheckerboardMetropolis",
           "CheckerboardSampler", "RandomSiteMetropolis", "SAMPLERS", "Wolff"]
