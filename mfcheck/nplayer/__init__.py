"""N-player games from a `FiniteMFG`: the reference simulator, and N-player exploitability.

A simulator implements `mfcheck.protocols.Simulator`; `ReferenceSimulator` is `simulate`
behind it. The reference simulator's conventions (what L̂_N holds for idle agents, random
numbers) are described in `mfcheck.nplayer.simulator`.

N-player exploitability (`simulated_exploitability`, `exact_exploitability`): the gain of
one agent that deviates while N − 1 follow π; see `mfcheck.nplayer.exploitability`.
"""

from .exact import DeviatorMDP, best_value, deviator_mdp, policy_value, state_law
from .exploitability import (ExactExploitability, SimulatedExploitability, exact_exploitability,
                             mean_field_best_response, simulated_exploitability)
from .simulator import Simulation, Trajectory, simulate
from . import _native as native_kernel  # the C kernel of the draws (load, unavailable_reason)


class ReferenceSimulator:
    """`simulate` behind the simulator protocol."""

    name = "reference-simulator"

    def simulate(self, game, policy, **kwargs) -> Trajectory:
        return simulate(game, policy, **kwargs)


__all__ = ["DeviatorMDP", "ExactExploitability", "ReferenceSimulator", "SimulatedExploitability",
           "Simulation", "Trajectory", "best_value", "deviator_mdp", "exact_exploitability",
           "mean_field_best_response", "native_kernel", "policy_value", "simulate",
           "simulated_exploitability", "state_law"]
