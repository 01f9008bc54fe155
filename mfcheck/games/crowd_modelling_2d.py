"""OpenSpiel's ``mfg_crowd_modelling_2d`` (C++; the 2-D "beach bar" of Perrin et al. 2020,
section 4.2) as a `FiniteMFG` with a stencil transition.

``crowd_modelling_2d(**params)`` takes OpenSpiel's parameter names and value formats, so it
builds the game of ``pyspiel.load_game("mfg_crowd_modelling_2d", params)``:

- ``size`` (10): a torus of size × size cells (x, y); state s = x·size + y, the order of
  OpenSpiel's ``DistributionSupport``; ``horizon`` (10) decision epochs;
- five actions {down, left, stay, right, up} = moves (0, −1), (−1, 0), (0, 0), (1, 0), (0, 1);
- ``forbidden_states`` ("[x|y;x|y;...]"): cells no one may enter;
- ``noise_intensity`` (1.0): after the move, a noise step drawn among the *legal* moves
  from the new cell (those not into a forbidden cell): noise/n each, plus 1 − noise on
  staying (n = number of legal moves there);
- ``initial_distribution`` ("[x|y;...]") and ``initial_distribution_value`` ("[p;...]"):
  μ0 (uniform over all cells when empty);
- the reward at a decision, with μ_t the population's distribution:
  −c·log(μ_t(x, y) + ε) (``crowd_aversion_coef`` c = 1.0, ε = float32(1e−25)), and unless
  ``only_distribution_reward``: the positional reward r_x + r_y, r_x = 1 − Σ_i (2 v_i /
  size)·|x − px_i| (not a torus distance; ``positional_reward`` "[px|py;...]" with values
  ``positional_reward_value``, default one point (size//2, size//2) of value 1), and the
  displacement cost −(|Δx| + |Δy|)/size of the *previous* action, times μ_t(x, y) when
  ``with_congestion``.

What the C++ does, carried over (docs/games.md#crowd_modelling_2d has the measurements):

- the list strings are parsed as the C++ parses them (`parse_parameters`): brackets, ";"
  between entries, "|" inside a pair, absl's integer and float syntax (hex floats too); the
  values are C++ ``float``s, so they are rounded to float32 here as well;
- an initial-distribution entry "a|b" places its agents at cell (x, y) = (b, a): OpenSpiel
  turns the pair into the chance outcome b + a·size and reads that outcome back as
  (outcome mod size, outcome div size). The forbidden and positional lists are not swapped;
- at epoch 0 OpenSpiel's state has received no distribution yet: its crowd term uses the
  uniform 1/size² instead of μ0 (a constant: no effect on any exploitability);
- a move into a forbidden cell is not a legal action in OpenSpiel. An mfcheck game has
  every action at every state: here that move is *blocked* (the agent stays, and pays the
  move's cost, which is what the C++ step does if such an action is applied). A blocked
  move is never better than staying, so best responses and exploitability are OpenSpiel's
  for every policy that gives illegal actions no mass (`legal_actions`). A forbidden cell
  is a state that keeps whoever is in it and that no one enters;
- agents may not start in a forbidden cell: OpenSpiel refuses an initial-distribution entry
  that names one, and an agent it places on one (the uniform default, or the swap above)
  is left at (−1, −1) and fails at its first reward. Both raise `InvalidGameError` here.

``convention`` says which cost the decision at (x, y, t) carries (as for the 1-D game,
`mfcheck.games.crowd_modelling`):

- ``"openspiel"`` (default): the game OpenSpiel's tabular algorithms evaluate. Their value
  caches key a decision state by its string "(x, y, t)", without the previous action, so a
  state keeps the cost of the first path their depth-first walk took into it (`first_moves`
  computes which, vectorised). The cost is then a function of (x, y, t): it moves no one.
- ``"exact"``: the game as defined. Each action's cost is charged at the epoch it is taken
  (OpenSpiel pays it at the next decision, so the last action's cost is never paid): with
  congestion its expected value −|move|/size·E[μ_{t+1}(s_{t+1}) | s, a] (μ_{t+1} is the
  population's next distribution, a function of L_t); the crowd term at epoch 0 uses μ0.

The transition is a `Stencil` of K = 5 next states per (s, a) (the noise outcomes), the
same at every epoch and for every population; reward and transition broadcast over a batch
of populations.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..devices import DEFAULT_DTYPE, resolve_device
from ..errors import InvalidGameError
from ..game import FiniteMFG
from ..transition import Stencil, StencilOperator

Tensor = torch.Tensor

#: OpenSpiel's parameters of ``mfg_crowd_modelling_2d`` and their defaults.
DEFAULTS = {"size": 10, "horizon": 10, "only_distribution_reward": False,
            "forbidden_states": "[]", "initial_distribution": "[]",
            "initial_distribution_value": "[]", "positional_reward": "[]",
            "positional_reward_value": "[]", "with_congestion": False,
            "noise_intensity": 1.0, "crowd_aversion_coef": 1.0}
#: Moves of actions 0..4 (down, left, stay, right, up), as in OpenSpiel.
MOVE_X = (0, -1, 0, 1, 0)
MOVE_Y = (-1, 0, 0, 0, 1)
NEUTRAL_ACTION = 2
#: OpenSpiel's ``kEpsilon`` is a C++ ``float``.
EPSILON = float(np.float32(1e-25))
#: How far from 1 the (float32) initial distribution values may sum; mfcheck then
#: normalises them (OpenSpiel uses them as they are).
INITIAL_SUM_ATOL = 1e-6

_INT = re.compile(r"[ \t\n\v\f\r]*[+-]?[0-9]+[ \t\n\v\f\r]*\Z", re.ASCII)
_WHITESPACE = " \t\n\v\f\r"


def grid_to_forbidden_states(rows: Sequence[str]) -> str:
    """OpenSpiel's forbidden-states string of a picture: '#' marks a forbidden cell, the
    column is x and the row is y."""
    widths = {len(row) for row in rows}
    if len(widths) != 1:
        raise ValueError(f"every row of the grid must have the same length, got {sorted(widths)}")
    cells = [f"{x}|{y}" for y, row in enumerate(rows) for x, c in enumerate(row) if c == "#"]
    return "[" + ";".join(cells) + "]"


#: OpenSpiel's FOUR_ROOMS preset (open_spiel/python/mfg/games/crowd_modelling_2d.py).
FOUR_ROOMS = {
    "forbidden_states": grid_to_forbidden_states([
        "#############",
        "#     #     #",
        "#     #     #",
        "#           #",
        "#     #     #",
        "#     #     #",
        "### ##### ###",
        "#     #     #",
        "#     #     #",
        "#           #",
        "#     #     #",
        "#     #     #",
        "#############"]),
    "horizon": 40, "initial_distribution": "[1|1]", "initial_distribution_value": "[1.0]",
    "size": 13}

#: OpenSpiel's MAZE preset (same module).
MAZE = {
    "forbidden_states": grid_to_forbidden_states([
        "######################",
        "#      #     #     # #",
        "#      #     #     # #",
        "######    #  # ##  # #",
        "#         #  # #   # #",
        "#         #  # ### # #",
        "#  ########  #   #   #",
        "#    # # #  ##   #   #",
        "#    # # #     # # ###",
        "#    # # #     # # # #",
        "###### # ####### # # #",
        "#  #         #   # # #",
        "#  # ## ###  #   # # #",
        "## # #    #  ##### # #",
        "## # # #  #      # # #",
        "#    # ####        # #",
        "# ####  # ########   #",
        "#       #  #   # ### #",
        "#  #  # #  # # #   # #",
        "# ##### #    # #     #",
        "#            #       #",
        "######################"]),
    "horizon": 100, "initial_distribution": "[1|1]", "initial_distribution_value": "[1.0]",
    "size": 22}


@dataclass(frozen=True)
class Parameters:
    """OpenSpiel's parameters, parsed and checked (`parse_parameters`). Cells are state
    indices s = x·size + y; values are float64 of the C++ float32s."""

    size: int
    horizon: int
    only_distribution_reward: bool
    with_congestion: bool
    noise_intensity: float
    crowd_aversion_coef: float
    forbidden: tuple[int, ...]
    #: The initial chance outcomes in OpenSpiel's order: their cells and probabilities
    #: (int64 and float64 arrays; the probabilities as OpenSpiel has them, unnormalised).
    initial_cells: np.ndarray
    initial_values: np.ndarray
    #: Positional reward points: (x, y, value).
    positional: tuple[tuple[int, int, float], ...]

    @property
    def n_states(self) -> int:
        return self.size * self.size


def _error(name: str, text, why: str) -> InvalidGameError:
    return InvalidGameError(f"crowd_modelling_2d: {name}={text!r}: {why} (OpenSpiel's format, "
                            f"open_spiel/games/mfg/crowd_modelling_2d.cc: '[x|y;x|y]' for cells, "
                            f"'[0.5;0.5]' for values, '[]' for none)")


def _entries(name: str, text, size: int) -> list[str]:
    """The entries of a list parameter, split as the C++'s ``ProcessStringParam`` does."""
    if not isinstance(text, str):
        raise _error(name, text, f"expected a string, got {type(text).__name__}")
    body = text.strip(_WHITESPACE)
    if len(body) < 2 or body[0] != "[" or body[-1] != "]":
        raise _error(name, text, "expected brackets around the list")
    items = body[1:-1].split(";") if body[1:-1] else []
    if len(items) > size * size:
        raise _error(name, text, f"{len(items)} entries, more than the {size * size} cells")
    return items


def _cells(name: str, text, size: int) -> list[tuple[int, int]]:
    pairs = []
    for item in _entries(name, text, size):
        parts = item.split("|")
        if len(parts) != 2 or not all(_INT.match(p) for p in parts):
            why = ("OpenSpiel would silently ignore the fields after the second"
                   if len(parts) > 2 and all(_INT.match(p) for p in parts[:2]) else
                   "not two integers")
            raise _error(name, text, f"entry {item!r} is not a cell 'x|y': {why}")
        x, y = (int(p) for p in parts)
        if not (0 <= x < size and 0 <= y < size):
            raise _error(name, text, f"cell ({x}, {y}) is outside the {size}×{size} grid "
                         f"(coordinates 0 to {size - 1})")
        pairs.append((x, y))
    return pairs


def _floats(name: str, text, size: int) -> list[float]:
    values = []
    for item in _entries(name, text, size):
        body = item.strip(_WHITESPACE)
        try:
            if "_" in body:
                raise ValueError
            value = float(body)
        except ValueError:
            try:
                value = float.fromhex(body)  # absl's SimpleAtof reads hex floats
            except (ValueError, OverflowError):
                raise _error(name, text, f"entry {item!r} is not a number") from None
        with np.errstate(over="ignore"):
            value = float(np.float32(value))  # the C++ stores a float
        if not math.isfinite(value):
            raise _error(name, text, f"entry {item!r} is not finite as a C++ float")
        values.append(value)
    return values


def _integer(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise InvalidGameError(f"crowd_modelling_2d: {name} must be an int >= {low} "
                               f"(OpenSpiel's kInt parameter), got {value!r}")
    return int(value)


def _boolean(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidGameError(f"crowd_modelling_2d: {name} must be a bool (OpenSpiel's kBool "
                               f"parameter), got {value!r}")
    return bool(value)


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value):
        raise InvalidGameError(f"crowd_modelling_2d: {name} must be a finite number (OpenSpiel's "
                               f"kDouble parameter), got {value!r}")
    return float(value)


def parse_parameters(**params) -> Parameters:
    """OpenSpiel's parameters of ``mfg_crowd_modelling_2d`` (names, types and string formats
    as ``pyspiel.load_game`` takes them), checked: a bad one raises `InvalidGameError`
    saying what was given and what OpenSpiel expects."""
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise InvalidGameError(f"crowd_modelling_2d: unknown parameter(s) {', '.join(unknown)}; "
                               f"OpenSpiel's are {', '.join(sorted(DEFAULTS))}")
    p = {**DEFAULTS, **params}
    size = _integer("size", p["size"], 1)
    horizon = _integer("horizon", p["horizon"], 1)
    forbidden = _cells("forbidden_states", p["forbidden_states"], size)
    cells = _cells("initial_distribution", p["initial_distribution"], size)
    values = _floats("initial_distribution_value", p["initial_distribution_value"], size)
    if len(cells) != len(values):
        raise InvalidGameError(f"crowd_modelling_2d: initial_distribution has {len(cells)} "
                               f"cell(s) but initial_distribution_value {len(values)} value(s)")
    points = _cells("positional_reward", p["positional_reward"], size)
    rewards = _floats("positional_reward_value", p["positional_reward_value"], size)
    if len(points) != len(rewards):
        raise InvalidGameError(f"crowd_modelling_2d: positional_reward has {len(points)} "
                               f"cell(s) but positional_reward_value {len(rewards)} value(s)")
    if not points:
        points, rewards = [(size // 2, size // 2)], [1.0]
    overlap = sorted(set(forbidden) & set(cells))
    if overlap:
        raise InvalidGameError(f"crowd_modelling_2d: initial_distribution names forbidden "
                               f"cell(s) {overlap} (OpenSpiel refuses the overlap)")
    S = size * size
    if cells:
        # Pair "a|b" is chance outcome b + a·size, read back as the cell (b, a).
        pairs = np.array(cells, dtype=np.int64).reshape(-1, 2)
        outcomes = pairs[:, 1] + pairs[:, 0] * size
        order = np.argsort(outcomes, kind="stable")
        outcomes, initial_values = outcomes[order], np.array(values, dtype=np.float64)[order]
    else:
        outcomes, initial_values = np.arange(S), np.full(S, 1.0 / S)
    initial_cells = (outcomes % size) * size + outcomes // size
    forbidden_cells = sorted({x * size + y for x, y in forbidden})
    blocked = np.zeros(S, dtype=bool)
    blocked[forbidden_cells] = True
    for what, bad in (("forbidden", blocked[initial_cells]), ("negative", initial_values < 0)):
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            x, y = divmod(int(initial_cells[i]), size)
            source = (f"the entry '{y}|{x}' of initial_distribution" if cells else
                      "the default uniform initial distribution (give initial_distribution)")
            if what == "negative":
                raise InvalidGameError(f"crowd_modelling_2d: initial_distribution_value has the "
                                       f"negative value {initial_values[i]!r} (cell ({x}, {y}))")
            raise InvalidGameError(f"crowd_modelling_2d: {source} places agents on the forbidden "
                                   f"cell ({x}, {y}); OpenSpiel leaves them at (-1, -1) and fails "
                                   f"at their first reward")
    total = math.fsum(initial_values)
    if abs(total - 1) > INITIAL_SUM_ATOL:
        raise InvalidGameError(f"crowd_modelling_2d: initial_distribution_value sums to "
                               f"{total!r} (as C++ floats), not 1 (tolerance {INITIAL_SUM_ATOL:g})")
    noise = _real("noise_intensity", p["noise_intensity"])
    return Parameters(
        size=size, horizon=horizon,
        only_distribution_reward=_boolean("only_distribution_reward",
                                          p["only_distribution_reward"]),
        with_congestion=_boolean("with_congestion", p["with_congestion"]),
        noise_intensity=noise,
        crowd_aversion_coef=_real("crowd_aversion_coef", p["crowd_aversion_coef"]),
        forbidden=tuple(forbidden_cells), initial_cells=initial_cells,
        initial_values=initial_values,
        positional=tuple((x, y, v) for (x, y), v in zip(points, rewards)))


# -- the grid ------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Grid:
    """Moves on the torus, as index tensors ``(S, 5)`` over cells s = x·size + y."""

    target: Tensor      # the cell each action moves to (forbidden or not)
    legal: Tensor       # OpenSpiel's legal actions: the target is not forbidden
    forbidden: Tensor   # (S,) bool


def _grid(par: Parameters, device: torch.device) -> _Grid:
    size, S = par.size, par.n_states
    s = torch.arange(S, device=device)
    x, y = s // size, s % size
    mx = torch.tensor(MOVE_X, device=device)
    my = torch.tensor(MOVE_Y, device=device)
    target = ((x[:, None] + mx) % size) * size + (y[:, None] + my) % size
    forbidden = torch.zeros(S, dtype=torch.bool, device=device)
    forbidden[list(par.forbidden)] = True
    return _Grid(target, ~forbidden[target], forbidden)


def _stencil(par: Parameters, grid: _Grid) -> Stencil:
    """Move (blocked into a forbidden cell), then OpenSpiel's noise among the legal moves."""
    S = par.n_states
    cells = torch.arange(S, device=grid.target.device)
    noise = par.noise_intensity
    n_legal = grid.legal.sum(-1, keepdim=True).to(DEFAULT_DTYPE)
    probs = torch.where(grid.legal, noise / n_legal, 0.0)
    probs[:, NEUTRAL_ACTION] += 1.0 - noise
    # The cell each move (of an action, or of the noise) leads to: blocked ones stay; a
    # forbidden cell (never entered) keeps whoever is in it.
    step = torch.where(grid.legal, grid.target, cells[:, None])
    step[grid.forbidden] = cells[grid.forbidden, None]
    probs[grid.forbidden] = 0.0
    probs[grid.forbidden, NEUTRAL_ACTION] = 1.0
    bad = probs < 0
    if bad.any():
        c, k = (int(i) for i in torch.nonzero(bad)[0])
        n = int(n_legal[c])
        raise InvalidGameError(
            f"crowd_modelling_2d: noise_intensity={noise!r} gives noise outcome {k} at cell "
            f"({c // par.size}, {c % par.size}) probability {float(probs[c, k]):.6g} < 0 "
            f"(OpenSpiel's chance node: noise/n on each of the n = {n} legal moves, "
            f"1 − noise + noise/n on staying)")
    return Stencil(step[step], probs[step])  # (S, A, K): action a's cell, then noise k


def legal_actions(*, device=None, **params) -> Tensor:
    """OpenSpiel's legal actions, ``(S, 5)`` bool: the moves that do not enter a forbidden
    cell (at a forbidden cell, the moves out of it). The policies OpenSpiel can express put
    no mass elsewhere; its uniform policy is uniform over these."""
    return _grid(parse_parameters(**params), resolve_device(device)).legal


def uniform_policy(*, device=None, **params) -> Tensor:
    """OpenSpiel's ``UniformRandomPolicy``: uniform over the legal actions (`legal_actions`),
    ``(horizon, S, 5)``; uniform over all five at a forbidden cell with none."""
    par = parse_parameters(**params)
    legal = _grid(par, resolve_device(device)).legal
    legal = legal | ~legal.any(-1, keepdim=True)
    policy = legal.to(DEFAULT_DTYPE) / legal.sum(-1, keepdim=True)
    return policy.expand(par.horizon, -1, -1).clone()


def first_moves(*, device=None, **params) -> Tensor:
    """Whether OpenSpiel's depth-first walk first enters decision state (x, y, t) by a move
    (any action but stay): bool ``(horizon, S)``.

    The walk (best response and policy value: roots in chance-outcome order, then legal
    actions and chance outcomes in increasing order, each cache key expanded once) first
    reaches a state by its lexicographically least path, so epoch by epoch: rank the states
    of epoch t in the order they are first reached, key each edge (s, a, noise k) → s' by
    (rank_t(s), a, k), and the least key into s' gives its rank at t + 1 and its action.
    Epoch 0: the previous action is "stay" (OpenSpiel's initial ``last_action``).
    """
    par = parse_parameters(**params)
    return _first_moves(par, _grid(par, resolve_device(device)))


def _first_moves(par: Parameters, grid: _Grid) -> Tensor:
    S, A, size = par.n_states, len(MOVE_X), par.size
    device = grid.target.device
    # Keys (rank·A² + a·A + k) stay below A²·(S + 1); rank S marks an unreached state.
    itype = torch.int32 if A * A * (S + 1) < 2 ** 31 else torch.int64
    unreached = A * A * S
    # Epoch 0: the root's outcome for cell (x, y) has id x + y·size, outcomes in id order.
    rank = torch.full((S,), S, dtype=itype, device=device)
    cells = torch.as_tensor(par.initial_cells, device=device)
    rank[cells] = ((cells // size) + (cells % size) * size).to(itype)
    z = grid.target                                             # (S, A): after the move
    edge = grid.legal[:, :, None] & grid.legal[z]               # legal action, legal noise
    # Where each edge (s, a, k) leads; illegal edges lead to a spare slot S.
    into = torch.where(edge, grid.target[z], S).reshape(-1)
    ak = torch.arange(A * A, dtype=itype, device=device)       # a·A + k
    moved = torch.zeros(par.horizon, S, dtype=torch.bool, device=device)
    for t in range(1, par.horizon):
        key = (rank * (A * A)).unsqueeze(-1) + ak                # (S, A·A)
        best = torch.full((S + 1,), unreached, dtype=itype, device=device)
        best = best.scatter_reduce_(0, into, key.reshape(-1), reduce="amin")[:S]
        reached = best < unreached
        moved[t] = reached & ((best // A) % A != NEUTRAL_ACTION)
        order = torch.argsort(best)                             # unreached sort last
        n = int(reached.sum())
        rank = torch.full((S,), S, dtype=itype, device=device)
        rank[order[:n]] = torch.arange(n, dtype=itype, device=device)
    return moved


# -- the game ------------------------------------------------------------------------------

def crowd_modelling_2d(*, convention: str = "openspiel", device=None, **params) -> FiniteMFG:
    """OpenSpiel's ``mfg_crowd_modelling_2d`` with parameters ``params`` (OpenSpiel's names
    and formats) as a `FiniteMFG` (see the module docstring)."""
    if convention not in ("openspiel", "exact"):
        raise ValueError(f"convention must be 'openspiel' or 'exact', got {convention!r}")
    par = parse_parameters(**params)
    device = resolve_device(device)
    grid = _grid(par, device)
    stencil = _stencil(par, grid)
    S, A, H, size = par.n_states, len(MOVE_X), par.horizon, par.size
    dtype = DEFAULT_DTYPE

    s = torch.arange(S, device=device)
    x, y = (s // size).to(dtype), (s % size).to(dtype)
    r_x = torch.ones(S, dtype=dtype, device=device)
    r_y = torch.ones(S, dtype=dtype, device=device)
    for px, py, value in par.positional:
        weight = 2.0 * value / size
        r_x = r_x - weight * (x - px).abs()
        r_y = r_y - weight * (y - py).abs()
    position = r_x + r_y
    move_cost = torch.tensor([abs(a) + abs(b) for a, b in zip(MOVE_X, MOVE_Y)],
                             dtype=dtype, device=device) / size        # (A,)
    aversion, congestion = par.crowd_aversion_coef, par.with_congestion
    uniform_crowd = -aversion * math.log(1.0 / S + EPSILON)
    if convention == "openspiel" and not par.only_distribution_reward:
        first_cost = _first_moves(par, grid).to(dtype) / size          # (H, S)
    operator = StencilOperator(stencil, S)

    def reward(t, L):
        # t is an epoch or, epoch-batched, the tensor of every epoch (one per row of L's
        # epoch axis): `epoch` broadcasts against μ either way.
        epoch = torch.as_tensor(t, device=device).unsqueeze(-1)
        mu = L.sum(-1)
        crowd = -aversion * torch.log(mu + EPSILON)
        if convention == "openspiel":
            crowd = torch.where(epoch == 0, uniform_crowd, crowd)
        if par.only_distribution_reward:
            return crowd.unsqueeze(-1).expand(*L.shape)
        base = (position + crowd).unsqueeze(-1)                          # (..., S, 1)
        if convention == "openspiel":
            cost = first_cost[t] * mu if congestion else first_cost[t]   # paid on arrival
            return (base - cost.unsqueeze(-1)).expand(*L.shape)
        if congestion:  # E[μ_{t+1}(s_{t+1}) | s, a], μ_{t+1} the population's next flow
            paid = move_cost * operator.expect(operator.push(L))
        else:
            paid = move_cost.expand(*L.shape)
        last = (epoch == H - 1).unsqueeze(-1)  # the last move's cost is never paid
        return torch.where(last, base.expand(*L.shape), base - paid)

    def transition(t, L):
        return stencil

    mu0 = torch.zeros(S, dtype=dtype, device=device).index_add_(
        0, torch.as_tensor(par.initial_cells, device=device),
        torch.as_tensor(par.initial_values, dtype=dtype, device=device))
    mu0 = mu0 / mu0.sum()
    described = ", ".join(f"{k}={v!r}" for k, v in sorted(params.items())
                          if k != "forbidden_states")
    if par.forbidden:
        described += f", {len(par.forbidden)} forbidden cells"
    return FiniteMFG(mu0, reward, transition, n_actions=A, horizon=H,
                     name=f"crowd_modelling_2d({described}; {convention})", batched=True,
                     device=device, transition_depends_on_time=False,
                     transition_depends_on_population=False, epoch_batched=True)


__all__ = ["DEFAULTS", "FOUR_ROOMS", "MAZE", "Parameters", "crowd_modelling_2d", "first_moves",
           "grid_to_forbidden_states", "legal_actions", "parse_parameters", "uniform_policy"]
