"""N-agent environments for mean-field learners (see `base` for the interface).

- `IsingGame` (`ising`): the Ising stage game of Yang et al. (2018) on an L×L torus;
- `GaussianSqueeze` (`gaussian_squeeze`): N agents bidding 0..9 for a shared G(Σ bids);
- `FiniteGameEnv` (`finite_game`): N agents playing a discounted stationary `FiniteMFG`
  (the Temporal Mean Field setting, `mfcheck.tmf`);
- `mfcheck.adapters.magent.BattleEnv`: MAgent2's battle (optional extra ``battle``).
"""

from .base import (SEQUENTIAL, SYNCHRONOUS, AgentEnv, Observation, Schedule, one_hot_mean,
                   inverse_cdf, sample_actions)
from .finite_game import FiniteGameEnv
from .gaussian_squeeze import GaussianSqueeze
from .ising import IsingGame

__all__ = ["AgentEnv", "FiniteGameEnv", "GaussianSqueeze", "IsingGame", "Observation",
           "SEQUENTIAL", "SYNCHRONOUS", "Schedule", "inverse_cdf", "one_hot_mean",
           "sample_actions"]
