"""Adapter for OpenSpiel (``pip install 'mfcheck[openspiel]'``): games both ways, its MFG
algorithms as mfcheck planners, and its NashConv.

- `to_openspiel(game)`: any finite-horizon `FiniteMFG` as a pyspiel mean-field game;
- `from_openspiel(game)`: OpenSpiel's tabular single-population MFGs (crowd modelling in 1d
  and 2d, periodic aversion) as `FiniteMFG`s, read off their trees (`tree_game`);
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
difference shows in the report (docs/peers.md gives the measured gaps).

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
    """An mfcheck policy ``(horizon, S, A)`` as an OpenSpiel policy: π(a | x, t) read at a
    decision node's ``t`` and ``x`` on a game of `to_openspiel`, and on OpenSpiel's own games
    at the (t, i) that `tree_game`'s walk gives the node's key (`from_openspiel`'s order)."""
    table = policy.detach().cpu().double().numpy()
    if os_game.get_type().short_name == SHORT_NAME:
        return _ArrayPolicy(os_game, table, None)
    return _ArrayPolicy(os_game, table, _TreeWalk(os_game).index)


def openspiel_nash_conv(os_game, policy: torch.Tensor) -> float:
    """OpenSpiel's own NashConv of an mfcheck ``policy`` ``(horizon, S, A)`` on ``os_game``
    (a game of `to_openspiel`, or one of OpenSpiel's games with ``from_openspiel``'s state
    order)."""
    nash_conv = _algorithms_module("nash_conv")
    return float(nash_conv.NashConv(os_game, policy_to_openspiel(os_game, policy)).nash_conv())


class _ArrayPolicy:
    """An OpenSpiel policy that reads π(a | x, t) from an array (OpenSpiel's
    ``TabularPolicy`` would enumerate the game tree, which is slow for MFGs); ``index``:
    decision node key -> (t, i), for nodes without ``t`` and ``x``."""

    def __new__(cls, game, table: np.ndarray, index: dict | None):
        policy_lib = require_peer("open_spiel.python.policy", extra="openspiel", tested=TESTED)

        class ArrayPolicy(policy_lib.Policy):
            def action_probabilities(self, state, player_id=None):
                t, i = (state.t, state.x) if self.index is None else self.index[_key(state)]
                return {a: self.table[t, i, a] for a in state.legal_actions()}

        policy = ArrayPolicy(game, [0])
        policy.table, policy.index = table, index
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
    """The `FiniteMFG` of one of OpenSpiel's tabular single-population MFG games: the game
    OpenSpiel's tabular algorithms and NashConv evaluate.

    ``python_mfg_crowd_modelling`` becomes `mfcheck.games.crowd_modelling` with
    ``convention="openspiel"`` (see its docstring). Every other game is read off its tree
    (`tree_game`): ``python_mfg_periodic_aversion``, ``mfg_crowd_modelling_2d``, the C++
    ``mfg_crowd_modelling`` and any game with the same node structure; its exploitability
    equals OpenSpiel's NashConv to ~1e-15 (tests/test_adapters_openspiel.py). A game of
    several populations or of another structure raises `UsageError` saying why.
    """
    name = os_game.get_type().short_name
    params = os_game.get_parameters()
    if name == "python_mfg_crowd_modelling":
        from ..games import crowd_modelling
        return crowd_modelling(int(params["size"]), int(params["horizon"]),
                               convention="openspiel", device=device)
    return tree_game(os_game, device=device)


def _key(state) -> str:
    """OpenSpiel's value caches' key of a node."""
    return state.observation_string(0)


class _TreeWalk:
    """The depth-first walk of OpenSpiel's tabular value functions (best response, policy
    value: children in ``legal_actions`` and ``chance_outcomes`` order, one evaluation per
    cache key), keeping the first node seen of each key, which is the one whose rewards and
    children OpenSpiel's values use."""

    def __init__(self, os_game) -> None:
        pyspiel = require_openspiel()
        self.CHANCE, self.MEAN_FIELD = int(pyspiel.PlayerId.CHANCE), int(pyspiel.PlayerId.MEAN_FIELD)
        self.name = os_game.get_type().short_name
        root = os_game.new_initial_state()
        if int(root.current_player()) != self.CHANCE:
            self._refuse("its root is not a chance node drawing the initial state")
        self.roots = root.chance_outcomes()  # epoch-0 state i: the outcome whose id is i
        self.first_decision: dict[int, object] = {}  # epoch-0 decision nodes, by outcome
        self.first_mean_field: dict[tuple[int, int], object] = {}  # (t, index) -> node
        self.support: dict[int, list[str]] = {}
        self.edges: dict[tuple[int, int, int], dict[int, float]] = {}
        self.index: dict[str, tuple[int, int]] = {}  # decision node key -> (t, i)
        self._seen: set[str] = set()
        self._chance: dict[str, dict[int, float]] = {}
        self.horizon = 0
        for outcome, _ in self.roots:
            self._decision(root.child(outcome), 0, int(outcome))

    def _refuse(self, why: str):
        raise UsageError(f"from_openspiel: {self.name!r}: {why}; supported are single-population "
                         f"games whose epochs are decision -> chance -> mean-field node")

    def _decision(self, node, t: int, i: int) -> None:
        key = _key(node)
        if key in self._seen:
            return
        self._seen.add(key)
        if int(node.current_player()) < 0:
            self._refuse(f"node {key!r} at epoch {t} is not a decision node")
        self.index[key] = (t, i)
        if t == 0:
            self.first_decision[i] = node.clone()
        self.horizon = max(self.horizon, t + 1)
        for a in node.legal_actions():
            self.edges[t, i, a] = self._after_action(node.child(a), t)

    def _after_action(self, node, t: int) -> dict[int, float]:
        key = _key(node)
        if key in self._chance:
            return self._chance[key]
        if int(node.current_player()) != self.CHANCE:
            self._refuse(f"node {key!r} after an action is not a chance node")
        out: dict[int, float] = {}
        self._chance[key] = out
        for outcome, p in node.chance_outcomes():
            child = node.child(outcome)
            if child.is_terminal():
                if any(r != 0 for r in child.rewards()):
                    self._refuse(f"terminal node {_key(child)!r} pays {child.rewards()}")
                continue
            if int(child.current_player()) != self.MEAN_FIELD:
                self._refuse(f"node {_key(child)!r} after a chance node is not a mean-field node")
            support = child.distribution_support()
            if self.support.setdefault(t + 1, support) != support:
                self._refuse(f"the mean-field support changes within epoch {t + 1}")
            j = support.index(_key(child))
            out[j] = out.get(j, 0.0) + p
            self._mean_field(child, t + 1, j)
        return out

    def _mean_field(self, node, t: int, j: int) -> None:
        key = _key(node)
        if key in self._seen:
            return
        self._seen.add(key)
        if any(r != 0 for r in node.rewards()):
            self._refuse(f"mean-field node {key!r} pays {node.rewards()}")
        self.first_mean_field[t, j] = node.clone()
        decision = node.clone()
        n = len(self.support[t])
        decision.update_distribution([1.0 / n] * n)
        self._decision(decision, t, j)


def tree_game(os_game, *, device=None) -> FiniteMFG:
    """The `FiniteMFG` that OpenSpiel's tabular value functions evaluate on ``os_game``,
    read off its tree by `_TreeWalk` (the walk and cache keys of its best response and
    policy value):

    - state i at epoch t ≥ 1 is the i-th entry of the mean-field nodes' support at t, and
      at epoch 0 the outcome of id i of the root chance node (μ0 its probabilities, 0 for
      states it does not draw);
    - r_t(i, a, L) = ``rewards()`` of the decision node that the *first-visited*
      mean-field node (t, i) becomes after ``update_distribution(μ_t)`` (μ_t = L's state
      marginal, in support order), whatever a: OpenSpiel's caches key a decision node by
      its observation string, so a reward of the previous action (crowd modelling's and
      periodic aversion's displacement cost) is the one of the path first walked. At epoch
      0 there is no mean-field node: the decision node's own ``rewards()`` (the game's
      default distribution), as in OpenSpiel;
    - P_t(j | i, a): the outcomes of the first-visited chance node after action a, by the
      support index of the mean-field node each leads to (identity at the last epoch,
      whose chance nodes end the game: unused).

    Transitions must not depend on the population (the walk reads them once); terminal and
    mean-field nodes must pay nothing (checked).
    """
    from ..devices import DEFAULT_DTYPE, resolve_device

    if os_game.num_players() != 1:
        raise UsageError(f"from_openspiel: {os_game.get_type().short_name!r} has "
                         f"{os_game.num_players()} populations; an mfcheck game has one")
    walk = _TreeWalk(os_game)
    device = resolve_device(device)
    H, A = walk.horizon, os_game.num_distinct_actions()
    S = len(walk.support[1]) if H > 1 else 1 + max(int(o) for o, _ in walk.roots)
    for t in range(1, H):
        if len(walk.support[t]) != S:
            walk._refuse(f"{len(walk.support[t])} states at epoch {t}, {S} at epoch 1")
    if max(int(o) for o, _ in walk.roots) >= S:
        walk._refuse(f"its initial outcomes {[int(o) for o, _ in walk.roots]} are not states "
                     f"0..{S - 1}")
    P = np.zeros((H, S, A, S))
    P[:] = np.eye(S)[:, None, :]  # never-visited states and the last epoch: unused
    visited = {(t, i) for (t, i, _) in walk.edges}
    for t, i in visited:
        if t == H - 1:
            continue
        P[t, i] = 0.0
        for a in range(A):
            if (t, i, a) not in walk.edges:
                walk._refuse(f"action {a} is not legal at state {i} of epoch {t} (an mfcheck "
                             f"game has every action at every state; e.g. forbidden cells)")
            for j, p in walk.edges[t, i, a].items():
                P[t, i, a, j] += p
    P_torch = torch.tensor(P, dtype=DEFAULT_DTYPE, device=device)
    r0 = torch.zeros(S, A, dtype=DEFAULT_DTYPE, device=device)
    for i, node in walk.first_decision.items():
        r0[i] = float(node.rewards()[0])
    memo: dict = {}

    def reward(t, L):
        if t == 0:
            return r0
        mu = L.detach().sum(-1).cpu().double()
        key = (t, mu.numpy().tobytes())
        if key not in memo:
            values = torch.zeros(S, A, dtype=DEFAULT_DTYPE)
            listed = mu.tolist()
            for i in range(S):
                node = walk.first_mean_field.get((t, i))
                if node is not None:
                    decision = node.clone()
                    decision.update_distribution(listed)
                    values[i] = float(decision.rewards()[0])
            if len(memo) > 64 * H:
                memo.clear()
            memo[key] = values.to(device)
        return memo[key]

    def transition(t, L):
        return P_torch[t]

    mu0 = torch.zeros(S, dtype=DEFAULT_DTYPE)
    for outcome, p in walk.roots:
        mu0[int(outcome)] += p
    params = ", ".join(f"{k}={v}" for k, v in sorted(os_game.get_parameters().items()))
    return FiniteMFG(mu0 / mu0.sum(), reward, transition, n_actions=A, horizon=H,
                     name=f"openspiel.{walk.name}({params})", device=device)


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


__all__ = ["ALGORITHMS", "OpenSpielPlanner", "crowd_modelling_nash_conv", "from_openspiel", "tree_game",
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
