"""Adapter for OpenSpiel (``pip install 'mfcheck[openspiel]'``): games both ways, its MFG
algorithms as mfcheck planners, and its NashConv.

- `to_openspiel(game)`: any finite-horizon `FiniteMFG` as a pyspiel mean-field game;
- `from_openspiel(game)`: OpenSpiel's ``python_mfg_crowd_modelling`` as a `FiniteMFG`;
- `openspiel_nash_conv(os_game, policy)`: OpenSpiel's own NashConv of an mfcheck policy;
- `OpenSpielPlanner(algorithm, **kwargs)`: FictitiousPlay, MirrorDescent, FixedPoint or
  BoltzmannPolicyIteration as an mfcheck planner (docs/adapters.md).

**The game tree of `to_openspiel`.** mfcheck's population is the state-action
distribution L_t, which OpenSpiel's mean-field nodes can deliver only *after* the
decision, and OpenSpiel ignores rewards at chance nodes (its value functions add
``rewards()`` at decision, mean-field and terminal nodes only). So every epoch t is

    decision (s, t) ──a──► mean field (s, a, t): receives L_t ──► reward (s, a, t): a
    second mean-field node whose rewards() is r_t(s, a, L_t) ──► chance (s, a, t):
    s' ~ P_t(· | s, a, L_t) ──► decision (s', t + 1), or terminal after the last epoch

with an initial chance node drawing s ~ μ0. The first mean-field node's support is the
S·A post-decision nodes of epoch t, so OpenSpiel's forward pass hands it exactly L_t.
Every node's string is unique to (kind, s, a, t), so OpenSpiel's value caches (keyed by
the observation string) hold exact values. A finite-horizon discount is folded into the
rewards (γ^t r_t; every value from μ0, hence NashConv, unchanged); stationary games are
refused. OpenSpiel's NashConv on this game equals `mfcheck.exploitability` to ~1e-15
(tests/test_adapters_openspiel.py, a garnet with population-dependent transitions).

**Temperature conventions** (each algorithm's docstring in `OpenSpielPlanner`):
mfcheck's τ is the entropy-regularised game (a best response is softmax(Q_τ/τ) with the
entropy bonuses inside Q_τ). OpenSpiel's softmax algorithms use *unregularised* values:

- ``FixedPoint(temperature=τ)``: π ← softmax(Q*_{μ^π}/τ), Q* the best response's
  (unregularised) values; its fixed point is a "softmax of unregularised optimal values";
- ``BoltzmannPolicyIteration(lr)``: π ← softmax(lr·Q^π_{μ^π}), Q^π the current policy's
  unregularised values: temperature 1/lr;
- ``MirrorDescent(lr)``: π ← softmax(lr·Σ_k Q^{π_k}): the learning rate, no temperature
  (it targets the Nash equilibrium, τ = 0);
- ``FictitiousPlay(temperature=None)``: greedy best responses, τ = 0.

On a one-epoch game the first two targets coincide with mfcheck's at τ (FixedPoint) and
τ = 1/lr (Boltzmann policy iteration); on several epochs they do not (the continuation
carries no entropy), and `OpenSpielPlanner` declares the nearest mfcheck τ so the
difference shows in the report (docs/adapters.md gives the measured gap).

OpenSpiel is imported only when it is needed; a missing OpenSpiel is a
`MissingPeerError` (a `UsageError` and an ``ImportError``) naming the extra.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ..errors import InvalidGameError, UsageError
from ..game import FiniteMFG
from ._peer import require_peer

TESTED = "open_spiel 2.0.2"
#: The pyspiel short name under which `to_openspiel`'s games are registered.
SHORT_NAME = "python_mfcheck_finite_mfg"
#: OpenSpielPlanner's algorithms: name -> (module, class) in open_spiel.python.mfg.algorithms.
ALGORITHMS = {"fictitious_play": ("fictitious_play", "FictitiousPlay"),
              "mirror_descent": ("mirror_descent", "MirrorDescent"),
              "fixed_point": ("fixed_point", "FixedPoint"),
              "boltzmann_policy_iteration": ("boltzmann_policy_iteration",
                                             "BoltzmannPolicyIteration")}

_DECISION, _MEAN_FIELD, _REWARD, _CHANCE, _INITIAL, _TERMINAL = range(6)


def require_openspiel():
    """pyspiel, or `MissingPeerError` naming the extra."""
    return require_peer("pyspiel", extra="openspiel", tested=TESTED)


def _algorithms_module(name: str):
    require_openspiel()
    return require_peer(f"open_spiel.python.mfg.algorithms.{name}", extra="openspiel",
                        tested=TESTED)


# -- mfcheck → OpenSpiel -------------------------------------------------------------------

_CLASSES: dict = {}


def _classes():
    """The pyspiel game and state classes (built once, when pyspiel is first needed)."""
    if _CLASSES:
        return _CLASSES["game"]
    pyspiel = require_openspiel()
    game_type = pyspiel.GameType(
        short_name=SHORT_NAME, long_name="mfcheck FiniteMFG as an OpenSpiel mean-field game",
        dynamics=pyspiel.GameType.Dynamics.MEAN_FIELD,
        chance_mode=pyspiel.GameType.ChanceMode.EXPLICIT_STOCHASTIC,
        information=pyspiel.GameType.Information.PERFECT_INFORMATION,
        utility=pyspiel.GameType.Utility.GENERAL_SUM,
        reward_model=pyspiel.GameType.RewardModel.REWARDS,
        max_num_players=1, min_num_players=1,
        provides_information_state_string=False, provides_information_state_tensor=False,
        provides_observation_string=True, provides_observation_tensor=False,
        parameter_specification={"key": 0})
    CHANCE, MEAN_FIELD, PLAYER = (pyspiel.PlayerId.CHANCE, pyspiel.PlayerId.MEAN_FIELD,
                                  pyspiel.PlayerId.DEFAULT_PLAYER_ID)

    class FiniteMFGGame(pyspiel.Game):
        """An mfcheck `FiniteMFG` as a pyspiel mean-field game (`to_openspiel`). OpenSpiel
        rebuilds the game from its parameters when it copies a state: ``key`` names the
        `_Tables` of the game in this process."""

        def __init__(self, params=None):
            key = int((params or {}).get("key", -1))
            if key not in _TABLES:
                raise InvalidGameError(f"{SHORT_NAME} is built by mfcheck.adapters.openspiel."
                                       f"to_openspiel(game), not by pyspiel.load_game")
            tables = _TABLES[key]
            game = tables.game
            info = pyspiel.GameInfo(
                num_distinct_actions=game.n_actions,
                max_chance_outcomes=game.n_states, num_players=1,
                min_utility=-np.inf, max_utility=np.inf, utility_sum=None,
                max_game_length=2 * game.horizon)
            super().__init__(game_type, info, {"key": key})
            self.key, self.game = key, game
            self.size, self.n_actions, self.horizon = game.n_states, game.n_actions, game.horizon

        def new_initial_state(self):
            return FiniteMFGState(self)

        def make_py_observer(self, iig_obs_type=None, params=None):
            return _Observer()

    class FiniteMFGState(pyspiel.State):
        def __init__(self, game):
            super().__init__(game)
            self.key, self.horizon = game.key, game.horizon
            self.kind, self.x, self.a, self.t = _INITIAL, None, None, 0
            self.L: tuple | None = None  # L_t, once the mean-field node has received it

        def current_player(self):
            return {_DECISION: PLAYER, _MEAN_FIELD: MEAN_FIELD, _REWARD: MEAN_FIELD,
                    _CHANCE: CHANCE, _INITIAL: CHANCE,
                    _TERMINAL: pyspiel.PlayerId.TERMINAL}[self.kind]

        def is_terminal(self):
            return self.kind == _TERMINAL

        def _legal_actions(self, player):
            if player == PLAYER and self.kind == _DECISION:
                return list(range(_TABLES[self.key].game.n_actions))
            return []

        def chance_outcomes(self):
            if self.kind == _INITIAL:
                return list(enumerate(_TABLES[self.key].mu0))
            _, transition = _TABLES[self.key].at(self.t, self.L)
            return list(enumerate(transition[self.x, self.a].tolist()))

        def _apply_action(self, action):
            if self.kind == _INITIAL:
                self.kind, self.x, self.t = _DECISION, action, 0
            elif self.kind == _DECISION:
                self.kind, self.a = _MEAN_FIELD, action
            elif self.kind == _CHANCE:
                self.x, self.a, self.L = action, None, None
                self.t += 1
                self.kind = _TERMINAL if self.t == self.horizon else _DECISION
            else:
                raise ValueError(f"no action at {self}")

        def distribution_support(self):
            return _TABLES[self.key].support[self.t]

        def update_distribution(self, distribution):
            if self.kind == _MEAN_FIELD:
                self.L = tuple(float(p) for p in distribution)
                self.kind = _REWARD
            elif self.kind == _REWARD:  # L_t is already known: its support is the same
                self.kind = _CHANCE
            else:
                raise ValueError(f"update_distribution at {self}, not a mean-field node")

        def rewards(self):
            if self.kind != _REWARD:
                return [0.0]
            reward, _ = _TABLES[self.key].at(self.t, self.L)
            return [float(reward[self.x, self.a])]

        def returns(self):
            return [0.0]  # the algorithms and NashConv sum rewards() along the tree

        def _action_to_string(self, player, action):
            return f"x0={action}" if self.kind == _INITIAL else f"a={action}"

        def __str__(self):
            if self.kind == _INITIAL:
                return "initial"
            return _string(self.kind, self.x, self.a, self.t)

    class _Observer:
        def __init__(self):
            self.tensor = np.zeros(0, np.float32)
            self.dict = {}

        def set_from(self, state, player):
            pass

        def string_from(self, state, player):
            return str(state)

    pyspiel.register_game(game_type, FiniteMFGGame)
    _CLASSES.update(game=FiniteMFGGame, state=FiniteMFGState)
    return FiniteMFGGame


class _Tables:
    """What the nodes of one converted game read: μ0, the mean-field supports, and the
    game's reward and transition at each (t, L_t), memoised (OpenSpiel asks for them at
    every node)."""

    def __init__(self, game: FiniteMFG) -> None:
        self.game = game
        self.mu0 = game.mu0.detach().cpu().double().tolist()
        self.support = [[_string(_MEAN_FIELD, s, a, t) for s in range(game.n_states)
                         for a in range(game.n_actions)] for t in range(game.horizon)]
        self._memo: dict = {}

    def at(self, t: int, L: tuple) -> tuple[np.ndarray, np.ndarray]:
        """(γ^t r_t(·, ·, L), P_t(· | ·, ·, L)) as float64 numpy."""
        hit = self._memo.get((t, L))
        if hit is None:
            game = self.game
            Lt = torch.tensor(L, dtype=game.dtype).reshape(game.n_states, game.n_actions)
            Lt = Lt.to(game.device)
            hit = ((game.reward(t, Lt) * game.discount ** t).detach().cpu().double().numpy(),
                   game.transition(t, Lt).detach().cpu().double().numpy())
            if len(self._memo) > 64 * game.horizon:
                self._memo.clear()
            self._memo[t, L] = hit
        return hit


#: The converted games of this process, by the key in their pyspiel parameters.
_TABLES: dict[int, _Tables] = {}


def _string(kind: int, s, a, t) -> str:
    if kind == _DECISION:
        return f"({s}, {t})"
    if kind == _TERMINAL:
        return f"({s}, {t})_end"
    return f"({s}, {a}, {t})_" + {_MEAN_FIELD: "mu", _REWARD: "r", _CHANCE: "p"}[kind]


def to_openspiel(game: FiniteMFG):
    """A pyspiel mean-field game that plays ``game`` (see the module docstring)."""
    if game.stationary:
        raise InvalidGameError(f"game {game.name!r} is stationary (discount {game.discount}); "
                               f"OpenSpiel's mean-field games are finite-horizon")
    cls = _classes()
    key = len(_TABLES)
    _TABLES[key] = _Tables(game)
    return cls({"key": key})


def _decision_state(os_game, s: int, t: int):
    """The decision node (s, t) of a game of `to_openspiel`."""
    state = os_game.new_initial_state()
    state.kind, state.x, state.t = _DECISION, s, t
    return state


def policy_from_openspiel(os_game, policy, game: FiniteMFG) -> torch.Tensor:
    """An OpenSpiel policy on ``to_openspiel(game)`` as an mfcheck policy tensor."""
    table = np.zeros(game.policy_shape)
    for t in range(game.horizon):
        for s in range(game.n_states):
            for a, p in policy.action_probabilities(_decision_state(os_game, s, t)).items():
                table[t, s, a] = p
    out = torch.tensor(table, dtype=game.dtype, device=game.device)
    return out / out.sum(-1, keepdim=True)


def policy_to_openspiel(os_game, policy: torch.Tensor):
    """An mfcheck policy ``(horizon, S, A)`` as an OpenSpiel policy (reads π(a | x, t))."""
    return _ArrayPolicy(os_game, policy.detach().cpu().double().numpy())


def openspiel_nash_conv(os_game, policy: torch.Tensor) -> float:
    """OpenSpiel's own NashConv of an mfcheck ``policy`` ``(horizon, S, A)`` on ``os_game``
    (a game of `to_openspiel` or `python_mfg_crowd_modelling`)."""
    nash_conv = _algorithms_module("nash_conv")
    return float(nash_conv.NashConv(os_game, policy_to_openspiel(os_game, policy)).nash_conv())


class _ArrayPolicy:
    """An OpenSpiel policy that reads π(a | x, t) from an array (OpenSpiel's
    ``TabularPolicy`` would enumerate the game tree, which is slow for MFGs)."""

    def __new__(cls, game, table: np.ndarray):
        policy_lib = require_peer("open_spiel.python.policy", extra="openspiel", tested=TESTED)

        class ArrayPolicy(policy_lib.Policy):
            def action_probabilities(self, state, player_id=None):
                return dict(zip(state.legal_actions(), self.table[state.t, state.x]))

        policy = ArrayPolicy(game, [0])
        policy.table = table
        return policy


# -- OpenSpiel → mfcheck -------------------------------------------------------------------

def crowd_modelling_nash_conv(policy: np.ndarray, size: int = 10, horizon: int = 10) -> float:
    """OpenSpiel's NashConv of ``policy`` (shape ``(horizon, size, 3)``, indexed [t, x, a])
    on ``python_mfg_crowd_modelling``."""
    pyspiel = require_openspiel()
    require_peer("open_spiel.python.mfg.games.crowd_modelling", extra="openspiel", tested=TESTED)
    game = pyspiel.load_game("python_mfg_crowd_modelling", {"size": size, "horizon": horizon})
    return openspiel_nash_conv(game, torch.as_tensor(policy))


def from_openspiel(os_game, *, device=None) -> FiniteMFG:
    """The `FiniteMFG` of one of OpenSpiel's tabular MFG games.

    Supported: ``python_mfg_crowd_modelling`` (any size and horizon), as
    `mfcheck.games.crowd_modelling` with ``convention="openspiel"`` (the game OpenSpiel's
    tabular algorithms evaluate; see its docstring), whose exploitability equals
    OpenSpiel's NashConv on random policies to ~1e-15 (tests/test_adapters_openspiel.py).
    Other games raise `UsageError`: their conversion is not written yet.
    """
    name = os_game.get_type().short_name
    params = os_game.get_parameters()
    if name == "python_mfg_crowd_modelling":
        from ..games import crowd_modelling
        return crowd_modelling(int(params["size"]), int(params["horizon"]),
                               convention="openspiel", device=device)
    raise UsageError(f"from_openspiel: {name!r} is not supported yet (supported: "
                     f"python_mfg_crowd_modelling); to_openspiel converts the other way")


# -- OpenSpiel's algorithms as planners --------------------------------------------------------

class OpenSpielPlanner:
    """One of OpenSpiel's MFG algorithms as an mfcheck planner.

    ``algorithm`` (``**kwargs`` go to its constructor, after the game):

    - ``"fictitious_play"``: FictitiousPlay(lr=None, temperature=None): greedy best
      responses averaged through their distributions, weight 1/(k + 1); τ = 0.
      With ``temperature=τ`` the best responses are softmax(Q*/τ) of unregularised values.
    - ``"mirror_descent"``: MirrorDescent(lr=0.01): π_k = softmax(lr·Σ_{j≤k} Q^{π_{j−1}});
      lr is a step size, not a temperature: it targets the Nash equilibrium, τ = 0.
    - ``"fixed_point"``: FixedPoint(temperature=None): π_k = greedy or softmax(Q*_{μ^{π_{k−1}}}/τ)
      with Q* the unregularised best-response values. Declared ``temperature = τ``;
      on several epochs its fixed point is not mfcheck's τ-equilibrium.
    - ``"boltzmann_policy_iteration"``: BoltzmannPolicyIteration(lr=0.01):
      π_k = softmax(lr·Q^{π_{k−1}}_{μ^{π_{k−1}}}), the current policy's unregularised
      values: declared ``temperature = 1/lr``; same caveat as FixedPoint.

    ``solve`` plays the game through `to_openspiel`, calls ``iteration()`` once per
    yielded policy (the k-th after k iterations) and reads the policy at every decision
    node (`policy_from_openspiel`). ``initial_policy`` replaces OpenSpiel's uniform start
    (the algorithm's ``_policy`` and ``_distribution``; for mirror descent it is the policy
    the first iteration evaluates, the cumulative values still start at 0, as in OpenSpiel).
    Finite-horizon games only (``supports``).
    """

    convergent = True

    def __init__(self, algorithm: str = "fictitious_play", *, name: str | None = None,
                 **kwargs) -> None:
        if algorithm not in ALGORITHMS:
            raise UsageError(f"OpenSpielPlanner: unknown algorithm {algorithm!r}; OpenSpiel's "
                             f"MFG algorithms here: {', '.join(ALGORITHMS)}")
        self.algorithm, self.kwargs = algorithm, kwargs
        if algorithm == "boltzmann_policy_iteration":
            self.temperature = 1.0 / kwargs.get("lr", 0.01)
        elif algorithm == "mirror_descent":
            self.temperature = 0.0
        else:
            self.temperature = float(kwargs.get("temperature") or 0.0)
        if algorithm == "fixed_point" and not self.temperature:
            self.convergent = False  # greedy best-response iteration cycles in general
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        self.name = name or f"openspiel-{algorithm}({args})"

    def supports(self, game: FiniteMFG) -> bool | str:
        if game.stationary:
            return "OpenSpiel's MFG algorithms solve finite-horizon games only"
        return True

    def solve(self, game: FiniteMFG, *, seed: int,
              initial_policy: torch.Tensor | None = None) -> Iterator[torch.Tensor]:
        del seed  # deterministic
        module, cls = ALGORITHMS[self.algorithm]
        os_game = to_openspiel(game)
        algorithm = getattr(_algorithms_module(module), cls)(os_game, **self.kwargs)
        if initial_policy is not None:
            start = policy_to_openspiel(
                os_game, game.check_policy(initial_policy, what="initial policy"))
            distribution = _algorithms_module("distribution")
            algorithm._policy = start
            algorithm._distribution = distribution.DistributionPolicy(os_game, start)
            if hasattr(algorithm, "_correlating_policy"):
                algorithm._correlating_policy = start
        while True:
            algorithm.iteration()
            yield policy_from_openspiel(os_game, algorithm.get_policy(), game)


def nash_conv_matches(game: FiniteMFG, policy: torch.Tensor) -> tuple[float, float]:
    """(mfcheck.exploitability, OpenSpiel's NashConv on `to_openspiel`) of ``policy``."""
    from ..kernels import exploitability
    return (float(exploitability(game, policy)),
            openspiel_nash_conv(to_openspiel(game), policy))


__all__ = ["ALGORITHMS", "OpenSpielPlanner", "crowd_modelling_nash_conv", "from_openspiel",
           "nash_conv_matches", "openspiel_nash_conv", "policy_from_openspiel",
           "policy_to_openspiel", "require_openspiel", "to_openspiel"]



#: OpenSpiel's MFG algorithms at OpenSpiel's default parameters, and the two softmax ones at
#: τ = 1: the adapted solvers of docs/peers.md (spec ``mfcheck.adapters.openspiel:PLANNERS``).
#: Building them imports nothing of OpenSpiel.
PLANNERS = {
    "fictitious-play": OpenSpielPlanner("fictitious_play"),
    "mirror-descent": OpenSpielPlanner("mirror_descent"),
    "fixed-point": OpenSpielPlanner("fixed_point"),
    "fixed-point-tau1": OpenSpielPlanner("fixed_point", temperature=1.0),
    "boltzmann-policy-iteration-tau1": OpenSpielPlanner("boltzmann_policy_iteration", lr=1.0),
}
