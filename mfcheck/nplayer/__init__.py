"""N-player games from a `FiniteMFG`: the simulator protocol, the reference simulator, and
N-player exploitability.

N-player simulator (role ``"simulator"``)::

    class MySimulator:
        name = "my-simulator"        # optional: the report's solver column

        def simulate(self, game: mfcheck.FiniteMFG, policy: torch.Tensor, *, n_agents: int,
                     acting: mfcheck.envs.Schedule | str, rounds: int | None, batch: int,
                     seed: int) -> Trajectory-like:
            ...                      # N agents per replica, each in a state; per round the
                                     # acting agents draw a ~ π(·|x) and move by
                                     # p(·|x, a, L̂_N), L̂_N the population's state-action
                                     # distribution; idle agents keep their state

    # what it returns (on game.device):
    trajectory.mu           # (batch, records, S): the empirical state distributions μ̂_N
                            # (rounds + 1 records for a stationary game, H for a
                            # finite-horizon one: `mfcheck.kernels.Flow.mu`'s shape)
    trajectory.mean_return  # (batch,): the population's mean discounted return

``acting`` is an `mfcheck.envs.Schedule` (``"all"``: k = N, synchronous; ``"one"``: k = 1,
sequential; a fraction f: each agent acts with probability f, k = fN on average). An
*epoch* is N agent decisions (N/k rounds); a finite-horizon game has one synchronous
round per decision epoch, a discounted stationary game runs any schedule, and each
agent's j-th decision is discounted by γ^j. The reference simulator, `simulate`, and
its conventions (what L̂_N holds for idle agents, random numbers) are described in
`mfcheck.nplayer.simulator`.

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
