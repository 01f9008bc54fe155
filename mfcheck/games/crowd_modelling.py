"""OpenSpiel's ``python_mfg_crowd_modelling`` (Perrin et al. 2020, section 4.2).

A ring of ``size`` positions, ``horizon`` decision epochs, actions {left, stay, right}.
At each epoch an agent at x collects

    r = 1 − |x − size//2| / (size//2)  −  log(μ_t(x) + 1e−25)  −  |move of the previous action| / size,

then moves by its action and by a uniform noise in {−1, 0, +1}, modulo ``size``. μ0 is
uniform. OpenSpiel charges the displacement cost at the *next* decision, so the last
action's cost is never paid; mfcheck charges each action's cost at the epoch it is
taken, which gives the same return.

``convention`` says which game is built:

- ``"exact"``: the game as defined above.
- ``"openspiel"`` (default): the game OpenSpiel's tabular algorithms actually evaluate.
  Their value caches key a decision state by (x, t) alone, so the displacement cost is
  the one of the *first* path their depth-first traversal took into (x, t), whatever
  action the agent took. That makes the cost a function of (x, t), with no effect on
  decisions. With it, mfcheck's exact kernels reproduce OpenSpiel's NashConv to
  ~1e-15; without it the uniform policy's NashConv is 2.7866824 instead of 2.8135366.
"""

from __future__ import annotations

import torch

from ..game import FiniteMFG

MOVES = (-1, 0, 1)
NEUTRAL_ACTION = 1
_EPSILON = 1e-25


def _openspiel_traversal(size: int, horizon: int):
    """Replay the depth-first traversal of OpenSpiel's tabular value functions.

    Returns ``first_action[t][x]``: the previous action on the first visit of decision
    state (x, t); and ``seen_before[t][x][a]``: whether the chance node reached by action
    a from (x, t) had been entered before (x, t) itself was (OpenSpiel's MirrorDescent
    evaluates its policy while it updates it; see ``OnlineMirrorDescent``).
    """
    first_action = [[None] * size for _ in range(horizon)]
    seen_before = [[[False] * len(MOVES) for _ in range(size)] for _ in range(horizon)]
    entered = set()
    stack = [(x, 0, NEUTRAL_ACTION) for x in reversed(range(size))]
    while stack:  # iterative DFS in OpenSpiel's visiting order (actions and noise 0, 1, 2)
        x, t, last = stack.pop()
        if first_action[t][x] is not None:
            continue
        first_action[t][x] = last
        children = []
        for a, move in enumerate(MOVES):
            z = (x + move) % size
            seen_before[t][x][a] = (z, t) in entered
        for a, move in enumerate(MOVES):
            z = (x + move) % size
            if (z, t) in entered:
                continue
            entered.add((z, t))
            if t + 1 < horizon:
                children.extend((((z + n) % size), t + 1, a) for n in MOVES)
        # Marking all three chance nodes at once is the recursive order too: a chance
        # node's subtree holds epochs after t only, so it cannot reach its siblings.
        stack.extend(reversed(children))
    return first_action, seen_before


def openspiel_live_update_mask(size: int = 10, horizon: int = 10) -> torch.Tensor:
    """Where OpenSpiel's MirrorDescent reads values it has already updated this iteration.

    A boolean ``(horizon, size, 3)`` tensor for `mfcheck.reference.OnlineMirrorDescent`.
    """
    return torch.tensor(_openspiel_traversal(size, horizon)[1])


def crowd_modelling(size: int = 10, horizon: int = 10, *, convention: str = "openspiel",
                    device=None) -> FiniteMFG:
    """OpenSpiel's crowd modelling game as a `FiniteMFG` (see the module docstring)."""
    if convention not in ("openspiel", "exact"):
        raise ValueError(f"convention must be 'openspiel' or 'exact', got {convention!r}")
    half = size // 2
    x = torch.arange(size, dtype=torch.float64)
    position_reward = 1 - (x - half).abs() / half
    moves = torch.tensor(MOVES, dtype=torch.float64)
    transition = torch.zeros(size, len(MOVES), size, dtype=torch.float64)
    for s in range(size):
        for a, move in enumerate(MOVES):
            for noise in MOVES:
                transition[s, a, (s + move + noise) % size] += 1 / 3
    displacement = torch.zeros(horizon, size, len(MOVES), dtype=torch.float64)
    if convention == "exact":
        displacement[:-1] = -(moves.abs() / size)  # the last action's cost is never paid
    else:
        first_action, _ = _openspiel_traversal(size, horizon)
        cost = torch.tensor([[abs(MOVES[a]) / size for a in row] for row in first_action],
                            dtype=torch.float64)
        displacement[:] = -cost.unsqueeze(-1)
    game_device = torch.device(device) if device is not None else torch.device("cpu")
    position_reward, transition, displacement = (
        t.to(game_device) for t in (position_reward, transition, displacement))

    def reward(t, L):
        mu = L.sum(-1)
        return (position_reward - torch.log(mu + _EPSILON)).unsqueeze(-1) + displacement[t]

    def step(t, L):
        return transition

    return FiniteMFG(torch.full((size,), 1.0 / size, dtype=torch.float64), reward, step, n_actions=len(MOVES),
                     horizon=horizon, name=f"crowd_modelling(size={size}, horizon={horizon}, "
                     f"{convention})", batched=True, device=game_device,
                     transition_depends_on_time=False, transition_depends_on_population=False,
                     epoch_batched=True)
