"""OpenSpiel bridge: evaluate an mfcheck policy with OpenSpiel's own NashConv.

Imports open_spiel lazily; without it, importing this module raises ImportError with
the install hint.
"""

from __future__ import annotations

import numpy as np

try:
    import pyspiel
    from open_spiel.python import policy as policy_lib
    from open_spiel.python.mfg.algorithms import nash_conv
    from open_spiel.python.mfg.games import crowd_modelling  # noqa: F401  (registers the game)
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(f"{exc}; install the peer with: pip install 'mfcheck[openspiel]'") from exc


def crowd_modelling_nash_conv(policy: np.ndarray, size: int = 10, horizon: int = 10) -> float:
    """OpenSpiel's NashConv of ``policy`` (shape ``(horizon, size, 3)``, indexed [t, x, a])
    on ``python_mfg_crowd_modelling``."""
    game = pyspiel.load_game("python_mfg_crowd_modelling", {"size": size, "horizon": horizon})
    return float(nash_conv.NashConv(game, _ArrayPolicy(game, policy)).nash_conv())


class _ArrayPolicy(policy_lib.Policy):
    """An OpenSpiel policy that reads π(a | x, t) from an array (OpenSpiel's
    ``TabularPolicy`` would enumerate the game tree, which is slow for MFGs)."""

    def __init__(self, game, table: np.ndarray) -> None:
        super().__init__(game, [0])
        self._table = table

    def action_probabilities(self, state, player_id=None):
        return dict(zip(state.legal_actions(), self._table[state.t, state.x]))
