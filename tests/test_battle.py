"""The MAgent2 battle adapter (`mfcheck.adapters.magent`) and the ``battle`` suite.

Most tests use a 16×16 map (6 agents a side) so that the file runs in seconds; what they
check does not depend on the size.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("magent2")

from magent2.environments import battle_v4  # noqa: E402

from mfcheck.adapters import magent  # noqa: E402
from mfcheck.adapters.magent import (ATTACK_BASE, ATTACK_OFFSETS, FAR, FEATURES,  # noqa: E402
                                     LOCAL, LOCAL_SHAPE, MOVE_OFFSETS, SCALARS, STAY,
                                     VIEW_RADIUS, BattleEnv)
from mfcheck.check import Budget, Context  # noqa: E402
from mfcheck.envs import sample_actions  # noqa: E402
from mfcheck.errors import InvalidGameError  # noqa: E402
from mfcheck.suites import battle  # noqa: E402

SMALL = 16


def small_env(device="cpu", batch=2, max_cycles=400):
    return BattleEnv(map_size=SMALL, max_cycles=max_cycles, batch=batch, device=device)


def generator(env, seed=0):
    return torch.Generator(device=env.device).manual_seed(seed)


def random_actions(env, gen):
    probs = torch.full((env.batch, env.n_agents, env.n_actions), 1.0 / env.n_actions,
                       dtype=env.dtype, device=env.device)
    return sample_actions(probs, gen)


def lone_agents(positions):
    """A raw battle_v4 game with one red agent per position in ``positions`` and no blue."""
    game = battle_v4.parallel_env(map_size=40, **magent.REWARDS)
    game.env.reset()
    game.env.add_agents(game.handles[0], method="custom", pos=[[x, y, 0] for x, y in positions])
    return game


# -- the game as the paper has it --------------------------------------------------------

def test_paper_setting_is_64_vs_64_with_feature_observations():
    env = BattleEnv()
    ob = env.reset(generator(env))
    assert (env.army, env.n_agents, env.n_actions) == (64, 128, 21)
    assert env.n_observations is None and env.observation_shape == (FEATURES,)
    assert ob.obs.shape == (1, 128, FEATURES) and ob.obs.dtype == torch.float64
    assert FEATURES == LOCAL.stop + (FAR.stop - FAR.start) + (SCALARS.stop - SCALARS.start)
    assert env.team.tolist() == [0] * 64 + [1] * 64


def test_action_layout_is_magents():
    """Every move action displaces a lone agent by its MOVE_OFFSETS entry."""
    for action, (dx, dy) in enumerate(MOVE_OFFSETS):
        game = lone_agents([(20, 20)])
        game.env.set_action(game.handles[0], np.array([action], np.int32))
        game.env.step()
        assert tuple(game.env.get_pos(game.handles[0])[0] - [20, 20]) == (dx, dy), action
    assert MOVE_OFFSETS[STAY] == (0, 0)


def test_attack_offsets_hit_the_enemy_there():
    """Attack ATTACK_BASE + k pays the hit bonus only against an enemy at ATTACK_OFFSETS[k]."""
    for k, (dx, dy) in enumerate(ATTACK_OFFSETS):
        for target in ATTACK_OFFSETS:
            game = lone_agents([(20, 20)])
            game.env.add_agents(game.handles[1], method="custom",
                                pos=[[20 + target[0], 20 + target[1], 0]])
            game.env.set_action(game.handles[0], np.array([ATTACK_BASE + k], np.int32))
            game.env.set_action(game.handles[1], np.array([STAY], np.int32))
            game.env.step()
            reward = float(game.env.get_reward(game.handles[0])[0])
            expected = -0.005 - 0.1 + (0.2 if target == (dx, dy) else 0.0)
            assert reward == pytest.approx(expected, abs=1e-6), (k, target)


def test_kill_and_death_rewards():
    """Six hits kill (10 HP, 2 per hit, 0.1 recovered per step): the killer earns
    −0.005 − 0.1 + 5 on that step (no hit bonus), the killed −0.1, being hit costs 0."""
    game = lone_agents([(20, 20)])
    game.env.add_agents(game.handles[1], method="custom", pos=[[21, 20, 0]])
    attack_right = ATTACK_BASE + ATTACK_OFFSETS.index((1, 0))
    for hit in range(6):
        game.env.set_action(game.handles[0], np.array([attack_right], np.int32))
        game.env.set_action(game.handles[1], np.array([STAY], np.int32))
        game.env.step()
        red, blue = (float(game.env.get_reward(h)[0]) for h in game.handles)
        last = hit == 5
        assert red == pytest.approx(4.895 if last else 0.095, abs=1e-6), hit
        assert blue == pytest.approx(-0.1 if last else -0.005, abs=1e-6), hit
        game.env.clear_dead()
    assert game.env.get_num(game.handles[1]) == 0


def test_view_radius_is_magents_view():
    """A team-mate at distance² ≤ VIEW_RADIUS² is in MAgent's view, one further is not."""
    offsets = [(dx, dy) for dx in range(-6, 7) for dy in range(-6, 7) if (dx, dy) != (0, 0)]
    game = lone_agents([(20, 20)] + [(20 + dx, 20 + dy) for dx, dy in offsets])
    view = game.env.get_observation(game.handles[0])[0][0, :, :, 1]  # team presence
    for dx, dy in offsets:
        assert view[6 + dy, 6 + dx] == (dx * dx + dy * dy <= VIEW_RADIUS ** 2), (dx, dy)


def test_invalid_settings_are_one_line_errors():
    with pytest.raises(InvalidGameError, match="map_size"):
        BattleEnv(map_size=8)
    with pytest.raises(InvalidGameError, match="max_cycles"):
        BattleEnv(map_size=SMALL, max_cycles=0)


# -- observations and mean actions against brute force -----------------------------------------

def brute_force_mean_action(env):
    pos, alive, actions = env.positions.cpu(), env.alive.cpu(), env.actions.cpu()
    team = env.team.cpu()
    out = torch.zeros(env.batch, env.n_agents, env.n_actions, dtype=torch.float64)
    for b in range(env.batch):
        for j in range(env.n_agents):
            mates = [k for k in range(env.n_agents) if k != j and alive[b, k] and alive[b, j]
                     and team[k] == team[j] and int(((pos[b, k] - pos[b, j]) ** 2).sum()) <= 36]
            for k in mates:
                out[b, j, actions[b, k]] += 1.0 / len(mates)
    return out


def brute_force_local(env, b, j):
    """(team, enemy) presence on the 5×5 cells around agent j, (dy, dx)-indexed."""
    pos, alive, team = env.positions[b].cpu(), env.alive[b].cpu(), env.team.cpu()
    grid = torch.zeros(2, 5, 5, dtype=torch.float64)
    for k in range(env.n_agents):
        dx, dy = (pos[k] - pos[j]).tolist()
        if alive[k] and abs(dx) <= 2 and abs(dy) <= 2:
            grid[int(team[k] != team[j]), dy + 2, dx + 2] = 1.0
    return grid


def test_observations_and_mean_actions_match_brute_force(device):
    env = small_env(device)
    gen = generator(env)
    ob = env.reset(gen)
    for _ in range(30):
        ob = env.step(random_actions(env, gen))
    assert torch.allclose(ob.mean_action.cpu(), brute_force_mean_action(env), atol=1e-12)
    local = ob.obs[..., LOCAL].reshape(env.shape + LOCAL_SHAPE).cpu()
    for b in range(env.batch):
        for j in torch.nonzero(env.alive[b]).flatten().tolist():
            presence = local[b, j][..., [1, 3]].permute(2, 0, 1)  # team, enemy channels
            assert torch.equal(presence, brute_force_local(env, b, j)), (b, j)
            assert local[b, j, 2, 2, 2] > 0  # its own HP at the centre
    scalars = ob.obs[..., SCALARS].cpu()
    assert torch.equal(scalars[..., 0], env.team.cpu().double().expand(env.shape))
    alive = env.alive.cpu()
    assert torch.allclose(scalars[..., 1:3][alive],
                          env.positions.cpu().double()[alive] / (SMALL - 1))


def test_reset_state_and_reproducibility(device):
    a, b = small_env(device), small_env(device)
    ga, gb = generator(a, 7), generator(b, 7)
    oa, ob = a.reset(ga), b.reset(gb)
    assert bool(a.alive.all()) and bool((a.actions == STAY).all())
    assert torch.equal(oa.obs, ob.obs)
    for _ in range(40):
        oa, ob = a.step(random_actions(a, ga)), b.step(random_actions(b, gb))
    for field in ("obs", "mean_action", "reward", "alive", "acting", "survivors"):
        assert torch.equal(getattr(oa, field), getattr(ob, field)), field
    assert oa.obs.device.type == torch.device(device).type


def test_dead_agents_keep_their_slot_and_are_ignored():
    env = small_env(batch=1)
    gen = generator(env, 3)
    ob = env.reset(gen)
    for _ in range(60):  # both armies scripted to fight: someone dies within a few steps
        alive_before = env.alive.clone()
        ob = env.step(sample_actions(advance_and_attack(ob.obs, ob.mean_action), gen))
        if bool((alive_before & ~ob.alive).any()) and not bool(ob.game_over.any()):
            break
    died = alive_before & ~ob.alive
    assert died.any(), "no agent died in 60 steps of scripted fighting"
    assert (ob.reward[died] <= -0.1 + 1e-9).all()  # the death penalty is paid on that step
    assert (ob.obs[died] == 0).all() and (ob.mean_action[died] == 0).all()
    dead = ~ob.alive
    ob = env.step(random_actions(env, gen))
    assert not ob.acting[dead].any() and (ob.reward[dead] == 0).all()
    assert not ob.alive[dead].any()


def test_a_finished_game_leaves_everyone_out_then_restarts():
    env = small_env(batch=2, max_cycles=5)
    gen = generator(env)
    env.reset(gen)
    for step in range(5):
        ob = env.step(random_actions(env, gen))
        assert bool(ob.game_over.all()) == (step == 4)
    assert not ob.alive.any() and not env.alive.any()  # nobody bootstraps past the end
    assert (ob.survivors <= env.army).all() and (ob.survivors > 0).all()
    assert (ob.obs[..., SCALARS.start + 5] == 1).all()  # the final state: step 5 of 5
    ob = env.step(random_actions(env, gen))  # starts the next game, nobody plays
    assert not ob.acting.any() and (ob.reward == 0).all() and not ob.game_over.any()
    assert ob.alive.all() and (ob.survivors == env.army).all()
    assert (ob.obs[..., SCALARS.start + 5] == 0).all()  # step 0 of the next game
    assert bool((env.actions == STAY).all())


def test_bad_actions_are_refused():
    env = small_env(batch=1)
    env.reset(generator(env))
    bad = torch.full(env.shape, 21)
    with pytest.raises(Exception, match="not in range"):
        env.step(bad)


# -- the suite -----------------------------------------------------------------------------

def advance_and_attack(obs: torch.Tensor, mean_action: torch.Tensor) -> torch.Tensor:
    """A scripted player: attack an adjacent enemy if there is one, else move one cell
    towards the enemy's side of the map (red right, blue left)."""
    local = obs[..., LOCAL].reshape(obs.shape[:-1] + LOCAL_SHAPE)
    enemy = torch.stack([local[..., 2 + dy, 2 + dx, 3] for dx, dy in ATTACK_OFFSETS], -1) > 0
    blue = obs[..., SCALARS.start] > 0.5
    move = torch.where(blue, MOVE_OFFSETS.index((-1, 0)), MOVE_OFFSETS.index((1, 0)))
    action = torch.where(enemy.any(-1), ATTACK_BASE + enemy.long().argmax(-1), move)
    return torch.nn.functional.one_hot(action, 21).to(obs.dtype)


def stay(obs: torch.Tensor, mean_action: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.full(obs.shape[:-1], STAY), 21).to(obs.dtype)


class Scripted:
    """A 'learner' that returns a fixed policy without training (budget 0 is allowed)."""

    def __init__(self, policy, name):
        self.policy, self.name = policy, name

    def learn(self, env, *, steps, seed, temperature=None):
        return self.policy


#: 16 replicas: the sign test at 1e-4 needs at least 14 deciding ones.
TINY = battle.Level(map_size=SMALL, max_cycles=60, replicas=16, train_steps=0, games=2)


def run_beats_random(learner, monkeypatch):
    monkeypatch.setitem(battle.LEVELS, Budget.QUICK, TINY)
    return battle.beats_random(learner, None, Context(0, Budget.QUICK, torch.device("cpu")))


def test_play_scores_both_sides():
    env = small_env(batch=2, max_cycles=60)
    margin = battle.play(env, advance_and_attack, battle.uniform_policy, 2, generator(env))
    assert margin.shape == (2, 2)
    assert (margin > 0).all(), margin  # the scripted army wins on both sides of the map


def test_beats_random_passes_a_competent_player(monkeypatch):
    outcome = run_beats_random(Scripted(advance_and_attack, "advance-and-attack"), monkeypatch)
    assert outcome.passed, outcome.message
    assert outcome.measured == 1.0


def test_a_wide_upper_bound_is_not_a_win():
    """13 wins, 42 draws, 9 losses over 16 replicas × 4 games (what MF-Q scored at the quick
    budget) passed the old upper-bound rule; it shows nothing, and fails."""
    outcomes = torch.tensor([1] * 13 + [0] * 42 + [-1] * 9)
    margin = outcomes[torch.randperm(64, generator=torch.Generator().manual_seed(0))].view(16, 4)
    test, score = battle.beats_test(margin)
    assert score.mean == pytest.approx((13 + 42 / 2) / 64)
    assert not test.passed and test.above + test.below + test.ties == 16
    # every replica winning more than it loses is shown (p = 2⁻¹⁶)
    shown, _ = battle.beats_test(torch.tensor([[1, 0, 0, 0]] * 16))
    assert shown.passed and shown.p_value == pytest.approx(2.0 ** -16)
    # one replica losing spoils it at 1e-4 (p = 17/2¹⁶ = 2.6e-4)
    spoiled, _ = battle.beats_test(torch.tensor([[1, 0, 0, 0]] * 15 + [[-1, 0, 0, 0]]))
    assert not spoiled.passed


def test_beats_random_fails_a_passive_army(monkeypatch):
    """Power: an army that never attacks wins no game (draws or losses)."""
    outcome = run_beats_random(Scripted(stay, "stay"), monkeypatch)
    assert not outcome.passed and outcome.measured == 0.0, outcome.message


def test_checks_skip_without_magent2(monkeypatch):
    monkeypatch.setattr(battle, "missing_reason", lambda: "magent2 is not installed")
    outcome = battle.beats_random(Scripted(stay, "stay"), None,
                                  Context(0, Budget.QUICK, torch.device("cpu")))
    assert outcome.skipped and "magent2" in outcome.message


class Reference(Scripted):
    def __init__(self, policy, name, *, mean_field):
        super().__init__(policy, name)
        self.uses_mean_action, self.baseline = mean_field, not mean_field


def run_round_robin(learner, monkeypatch, tmp_path):
    import mfcheck.reference.marl as marl
    references = {"il": Reference(battle.uniform_policy, "random-il", mean_field=False),
                  "ac": Reference(stay, "stay-ac", mean_field=False)}
    monkeypatch.setattr(marl, "NEURAL_LEARNERS", references)
    monkeypatch.setitem(battle.LEVELS, Budget.FULL, TINY)
    ctx = Context(0, Budget.FULL, torch.device("cpu"), report_dir=tmp_path)
    return battle.round_robin(learner, None, ctx)


def test_round_robin_passes_a_player_that_beats_the_baselines(monkeypatch, tmp_path):
    learner = Reference(advance_and_attack, "advance", mean_field=True)
    outcome = run_round_robin(learner, monkeypatch, tmp_path)
    assert outcome.passed, outcome.message
    csv = (tmp_path / "battle-round-robin-advance.csv").read_text().splitlines()
    assert len(csv) == 1 + 3 * 2  # header, every ordered pair of 3 players
    assert any(p.endswith(".png") for p in outcome.artifacts)


def test_round_robin_fails_a_player_that_loses_to_a_baseline(monkeypatch, tmp_path):
    outcome = run_round_robin(Reference(stay, "stay-mf", mean_field=True), monkeypatch, tmp_path)
    assert not outcome.passed, outcome.message


def test_round_robin_is_paper_scale_only():
    outcome = battle.round_robin(Reference(stay, "x", mean_field=True), None,
                                 Context(0, Budget.QUICK, torch.device("cpu")))
    assert outcome.skipped and "--full" in outcome.message
