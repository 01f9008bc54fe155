"""MAgent2's ``battle_v4`` as an mfcheck N-agent environment (Yang et al. 2018, §5.3).

Install the peer with ``pip install 'mfcheck[battle]'`` (magent2 0.3.4); it is imported
only when a `BattleEnv` is built, so mfcheck works without it (`missing_reason`).

The game (docs/references.md#yang2018-battle): two armies of ``n`` agents (64 vs 64 on the
paper's 40×40 map) fight on a grid; an agent has 10 HP, loses 2 per hit, recovers 0.1 per
step. The rewards are battle_v4's defaults, which are MAgent's built-in battle config
that the paper's public code ran (passed explicitly here so a change of defaults cannot
move them). Measured net rewards per step: −0.005 for any step, −0.105 for attacking an
empty cell, +0.095 for hitting an enemy, +4.895 for the killing blow (+5 kill, the +0.2
hit bonus is not paid on the kill), −0.1 for being killed; being hit costs nothing (the
paper's "−0.1 attacked or killed" is a paraphrase of the dead penalty). A game ends when
an army is wiped out or after ``max_cycles`` steps (400, the public code's ``max_steps``).

Self-play with parameter sharing: both armies are one population of ``N = 2n`` agents,
agents ``0..n−1`` red (team 0), ``n..2n−1`` blue (team 1), each with its team id in its
observation, so one learner controls both sides with one set of parameters.

Actions (21, MAgent's order): 0–12 move to the cell (dx, dy) of `MOVE_OFFSETS` (6 is
"stay"), 13–20 attack the adjacent cell of `ATTACK_OFFSETS`. x grows to the right (red
starts on the left), y downwards.

Observations are feature vectors of ``FEATURES`` = 158 numbers, a compact summary of
MAgent's 13×13×5 view (obstacle, team presence, team HP, enemy presence, enemy HP): a
64-unit MLP on the full 845-number view (and ā) does 3.6× the multiply-adds per agent,
128 agents per replica, on two CPU cores; and what an action can change lies within two
cells. In order:

- ``LOCAL``: the 5×5 cells around the agent (every cell a move or an attack can reach),
  all five channels at full resolution, as ``(dy, dx, channel)`` row-major (125);
- ``FAR``: the whole view pooled into 3×3 blocks (rows and columns 0–3, 4–8, 9–12) of
  obstacle, team and enemy presence, each the fraction of the block's visible cells
  that is occupied, as ``(channel, block row, block column)`` (27): where the rest of
  the fight is;
- ``SCALARS``: team id (0 red, 1 blue), x/(map − 1), y/(map − 1), the fractions of the
  agent's and of the enemy's army alive, and the step of the game / ``max_cycles`` (6).

Mean action ā_j: the distribution of the current actions of the alive team-mates that
agent j sees (distance² ≤ 36, exactly MAgent's circular view of radius 6), itself
excluded, as in Yang et al.'s neighbourhood N(j). An agent with no team-mate in view
gets the zero vector (ā sums to 1 otherwise; its ``LOCAL``/``FAR`` team channels say
so too). After a reset every agent's current action is "stay".

Dead agents keep their slot: the shape stays ``(batch, N)``. After every step a
`BattleObservation` also carries

- ``alive`` (also ``env.alive``): who takes part in the next step — alive, in a game
  that goes on. Dead agents' features and mean actions are zero;
- ``acting``: the step's mask, less the agents that were not ``alive`` before it (their
  actions are ignored);
- ``reward``: the step's reward of every agent alive before it (in the mask or repeating
  its action), with the death penalty on the step that kills it; 0 for everyone else;
- ``game_over`` ``(batch,)`` and ``survivors`` ``(batch, 2)``: red and blue agents alive
  after the step (the result, when the replica's game ended in it).

When a replica's game ends (an army wiped out, or ``max_cycles`` steps), the observation
still describes its final state (features, ā), but nobody in it is ``alive``: the game
is over for every agent. The replica's next step starts the next game instead of playing:
no agent acts or is paid in it, and it returns the new game's first state. So a learner
that learns from the agents alive before a step and bootstraps only the agents alive
after it handles deaths, wins and the time limit without knowing about games (the step
counter in the features keeps the time limit Markov); one step per game is spent on the
reset.

Agents that are alive but not in the step's mask keep their current action, as the
interface says: in MAgent that means doing it again.

A step is one C++ step per replica (MAgent is C code per game, so the batch is a handful
of replicas and a Python loop over them); features and mean actions are numpy over
``(batch, N)`` (MAgent's side of the boundary, no loop over agents), and only the results
become torch tensors on the env's device.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np
import torch

from ..envs.base import SYNCHRONOUS, AgentEnv, Observation, Schedule, check_game_parameter

Tensor = torch.Tensor

#: battle_v4's reward parameters at the values of the paper's runs (its defaults).
REWARDS = dict(step_reward=-0.005, dead_penalty=-0.1, attack_penalty=-0.1,
               attack_opponent_reward=0.2)
MAP_SIZE, MAX_CYCLES = 40, 400  # the paper's map; the public code's game length
DISCOUNT = 0.95  # the public code's γ

N_ACTIONS = 21
#: (dx, dy) of move actions 0..12: the cells within distance 2, row-major.
MOVE_OFFSETS = ((0, -2), (-1, -1), (0, -1), (1, -1), (-2, 0), (-1, 0), (0, 0), (1, 0),
                (2, 0), (-1, 1), (0, 1), (1, 1), (0, 2))
STAY = MOVE_OFFSETS.index((0, 0))
#: (dx, dy) of attack actions 13..20: the eight adjacent cells, row-major.
ATTACK_OFFSETS = ((-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1))
ATTACK_BASE = len(MOVE_OFFSETS)

VIEW, VIEW_RADIUS = 13, 6
CHANNELS = ("obstacle", "team", "team_hp", "enemy", "enemy_hp")
LOCAL_RADIUS = 2
LOCAL_SHAPE = (2 * LOCAL_RADIUS + 1, 2 * LOCAL_RADIUS + 1, len(CHANNELS))
FAR_CHANNELS = [0, 1, 3]  # obstacle, team, enemy presence
FAR_BLOCKS = (range(0, 4), range(4, 9), range(9, 13))
_OFFSET = np.arange(VIEW) - VIEW // 2
_VISIBLE = (_OFFSET[:, None] ** 2 + _OFFSET[None, :] ** 2) <= VIEW_RADIUS ** 2
_MEMBER = np.array([[i in rows for rows in FAR_BLOCKS] for i in range(VIEW)], np.float32)
#: How many cells of each far-field block the circular view covers.
FAR_VISIBLE_CELLS = _MEMBER.T @ _VISIBLE @ _MEMBER
N_SCALARS = 6
LOCAL = slice(0, int(np.prod(LOCAL_SHAPE)))
FAR = slice(LOCAL.stop, LOCAL.stop + len(FAR_BLOCKS) ** 2 * len(FAR_CHANNELS))
SCALARS = slice(FAR.stop, FAR.stop + N_SCALARS)
FEATURES = SCALARS.stop


def missing_reason() -> str | None:
    """Why a `BattleEnv` cannot be built here (magent2 not installed), or None."""
    if importlib.util.find_spec("magent2") is None:
        return "magent2 is not installed: pip install 'mfcheck[battle]'"
    return None


def _battle_v4():
    try:
        from magent2.environments import battle_v4
    except ImportError as exc:
        raise ImportError(f"{exc}; install the peer with: pip install 'mfcheck[battle]'") from exc
    return battle_v4


@dataclass(frozen=True)
class BattleObservation(Observation):
    """`Observation` plus who is alive and the games that ended (see the module docstring
    for how learners use them)."""

    alive: Tensor | None = None
    game_over: Tensor | None = None
    survivors: Tensor | None = None


class BattleEnv(AgentEnv):
    """``batch`` independent replicas of MAgent2's battle_v4, both armies one population
    (see the module docstring). ``n_agents`` = 2 × ``army`` (128 on the 40×40 map).

    Also public, for checks and scripted players: ``team`` ``(N,)`` (0 red, 1 blue),
    ``alive`` ``(batch, N)`` and ``positions`` ``(batch, N, 2)`` (x, y; a dead agent's is
    where it died), all of the current state."""

    name = "battle"
    n_actions = N_ACTIONS
    n_observations = None
    observation_shape = (FEATURES,)
    discount = DISCOUNT

    def __init__(self, *, map_size: int = MAP_SIZE, max_cycles: int = MAX_CYCLES,
                 batch: int = 1, schedule: Schedule = SYNCHRONOUS, device=None,
                 dtype: torch.dtype = torch.float64) -> None:
        check_game_parameter(self.name, "map_size", map_size,
                             type(map_size) is int and map_size >= 12, "an int ≥ 12 (battle_v4)")
        check_game_parameter(self.name, "max_cycles", max_cycles,
                             type(max_cycles) is int and max_cycles >= 1, "an int ≥ 1")
        super().__init__(batch=batch, schedule=schedule, device=device, dtype=dtype)
        battle_v4 = _battle_v4()
        self.map_size, self.max_cycles = map_size, max_cycles
        self._games = [battle_v4.parallel_env(map_size=map_size, max_cycles=max_cycles,
                                              **REWARDS) for _ in range(batch)]
        self.army = self._games[0].team_sizes[0]
        self.n_agents = 2 * self.army
        self._team = (np.arange(self.n_agents) >= self.army).astype(np.int64)
        self.team = torch.from_numpy(self._team).to(self.device)
        self.action_values = torch.arange(N_ACTIONS, dtype=dtype, device=self.device)
        # The state lives in numpy (MAgent's side): single-threaded and BLAS-free, so a step
        # does not stall on torch's thread pool when the cores are oversubscribed.
        self._not_self = ~np.eye(self.army, dtype=bool)
        self._numpy_dtype = torch.empty((), dtype=dtype).numpy().dtype
        self._alive = np.zeros(self.shape, bool)
        self._actions = np.full(self.shape, STAY, np.int64)
        self._cycle = np.zeros(batch, np.int64)
        self._over = np.zeros(batch, bool)  # the game ended at the last step
        self._seeds = np.zeros(batch, np.int64)
        self._views = np.zeros((batch, self.n_agents, len(CHANNELS), VIEW, VIEW), np.float32)
        self._pos = np.zeros((batch, self.n_agents, 2), np.int64)
        self._publish()

    # -- the interface ----------------------------------------------------------------------

    def _reset(self, generator: torch.Generator) -> BattleObservation:
        # One base seed per replica; the k-th game of a replica is seeded base + k, so the
        # resets inside step() need no generator and a run is reproducible from its seed.
        self._seeds[:] = torch.randint(2 ** 30, (self.batch,), generator=generator,
                                       device=self.device).cpu().numpy()
        for b in range(self.batch):
            self._new_game(b)
        return self._observe()

    def _step(self, actions: Tensor, acting: Tensor) -> BattleObservation:
        acted = acting.cpu().numpy() & self._in_game()
        self._actions = np.where(acted, actions.cpu().numpy(), self._actions)
        send = self._actions.astype(np.int32)
        reward = np.zeros(self.shape)
        over = np.zeros(self.batch, bool)
        for b, game in enumerate(self._games):
            if self._over[b]:  # its game ended at the last step: this step starts the next
                self._seeds[b] += 1
                self._new_game(b)
                continue
            for handle in game.handles:
                ids = game.env.get_agent_id(handle)
                game.env.set_action(handle, np.ascontiguousarray(send[b, ids]))
            wiped_out = game.env.step()
            self._alive[b] = False
            for handle in game.handles:
                ids = game.env.get_agent_id(handle)
                reward[b, ids] = game.env.get_reward(handle)
                self._alive[b, ids] = game.env.get_alive(handle)
            game.env.clear_dead()
            self._cycle[b] += 1
            over[b] = wiped_out or self._cycle[b] >= self.max_cycles
        self._over = over
        survivors = self._alive.reshape(self.batch, 2, self.army).sum(-1)
        device = self.device
        return self._observe(reward=self._tensor(reward),
                             acting=torch.from_numpy(acted).to(device),
                             game_over=torch.from_numpy(over).to(device),
                             survivors=torch.from_numpy(survivors).to(device))

    def _in_game(self) -> np.ndarray:
        """Alive, in a game that goes on: who acts in the next step, ``(B, N)``."""
        return self._alive & ~self._over[:, None]

    # -- MAgent ---------------------------------------------------------------------------

    def _new_game(self, b: int) -> None:
        game = self._games[b]
        game.env.set_seed(int(self._seeds[b]))
        game.env.reset()
        game.generate_map()
        self._cycle[b] = 0
        self._alive[b] = True
        self._over[b] = False
        self._actions[b] = STAY
        ids = np.concatenate([game.env.get_agent_id(h) for h in game.handles])
        if not np.array_equal(ids, np.arange(self.n_agents)):
            raise RuntimeError(f"{self.name}: magent2 numbered the agents of a new game "
                               f"{ids[:4].tolist()}..., not 0..{self.n_agents - 1} (red then "
                               f"blue): this adapter supports magent2 0.3.4")

    def _observe(self, **step) -> BattleObservation:
        self._views.fill(0.0)
        for b, game in enumerate(self._games):
            for handle in game.handles:
                ids = game.env.get_agent_id(handle)
                self._views[b, ids] = game.env.get_observation(handle)[0].transpose(0, 3, 1, 2)
                self._pos[b, ids] = game.env.get_pos(handle)
        self._publish()
        # Summed in float32 (MAgent's own dtype: presence is 0/1, HP a float32) before they
        # travel: 158 numbers per agent rather than the 845 of the view.
        obs = self._tensor(self._features() * self._alive[..., None])
        return BattleObservation(obs, self._tensor(self._mean_action()),
                                 alive=self.alive.clone(), **step)

    def _tensor(self, array: np.ndarray) -> Tensor:
        """``array`` in the env's dtype on its device, cast by numpy (one thread): torch
        would cast 10⁵ numbers on its thread pool, which stalls on oversubscribed cores."""
        return torch.from_numpy(array.astype(self._numpy_dtype)).to(self.device)

    def _publish(self) -> None:
        """The current state as torch tensors on the env's device."""
        self.actions = torch.from_numpy(self._actions.copy()).to(self.device)
        self.alive = torch.from_numpy(self._in_game()).to(self.device)
        self.positions = torch.from_numpy(self._pos.copy()).to(self.device)

    # -- features and mean actions ---------------------------------------------------------------

    def _features(self) -> np.ndarray:
        """``(B, N, FEATURES)`` float32 (see the module docstring)."""
        views, c, r = self._views, VIEW // 2, LOCAL_RADIUS  # views: (B, N, channel, y, x)
        local = views[:, :, :, c - r:c + r + 1, c - r:c + r + 1].transpose(0, 1, 3, 4, 2)
        starts = [blocks[0] for blocks in FAR_BLOCKS]
        far = np.add.reduceat(np.add.reduceat(views[:, :, FAR_CHANNELS], starts, axis=-1),
                              starts, axis=-2) / FAR_VISIBLE_CELLS
        alive = self._alive.reshape(self.batch, 2, self.army).mean(-1)  # (B, 2)
        team = self._team
        scalars = np.stack(np.broadcast_arrays(
            team[None, :], *np.moveaxis(self._pos / (self.map_size - 1), -1, 0),
            alive[:, team], alive[:, 1 - team], (self._cycle / self.max_cycles)[:, None]), -1)
        return np.concatenate([local.reshape(self.shape + (-1,)), far.reshape(self.shape + (-1,)),
                               scalars.astype(np.float32)], -1)

    def _mean_action(self) -> np.ndarray:
        """Distribution of the actions of the alive team-mates in view, ``(B, N, A)``:
        pairs within each army (the only ones that count), counted into (agent, action)
        bins, no matrix product."""
        shape = (self.batch, 2, self.army)
        x, y = (self._pos[..., k].astype(np.int32).reshape(shape) for k in (0, 1))
        alive = self._alive.reshape(shape)
        dx, dy = x[..., :, None] - x[..., None, :], y[..., :, None] - y[..., None, :]
        seen = (dx * dx + dy * dy <= VIEW_RADIUS ** 2) & self._not_self \
            & alive[..., None, :] & alive[..., :, None]  # (B, team, j, k)
        b, team, j, k = np.nonzero(seen)
        agent, mate = team * self.army + j, team * self.army + k
        n, a = self.n_agents, N_ACTIONS
        counts = np.bincount((b * n + agent) * a + self._actions[b, mate],
                             minlength=self.batch * n * a).reshape(self.shape + (a,))
        return counts / np.maximum(seen.sum(-1).reshape(self.shape + (1,)), 1)
