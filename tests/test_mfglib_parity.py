"""Parity with MFGLib 0.3.0: `from_mfglib` and mfcheck's kernels against MFGLib's own scores.

Tolerance. MFGLib computes in float32 and mfcheck in float64, so they can agree only to
float32 precision. Exploitability is a difference of two values J_BR − J_π, each a sum
over epochs and states of float32 terms; its rounding error scales with the values, not
with their difference (crowd_motion: values ~55, exploitability ~1.5). So the tolerance
is relative to the value scale: |mfcheck − MFGLib| ≤ 2e-6·(1 + |J_BR| + |J_π|), i.e. about
16 float32 ulps (eps = 1.2e-7) of the values. The largest gap seen on these environments
was ~2e-7 of the scale (crowd_motion, building_evacuation), so the margin is ~10x;
a convention error (an epoch off, a transposed transition) moves results by O(1).
"""

from __future__ import annotations

import pytest
import torch

mfglib = pytest.importorskip("mfglib")
import mfglib.alg  # noqa: E402,F401  (mfglib.scoring alone hits a circular import in 0.3.0)
from mfglib.env import Environment  # noqa: E402
from mfglib.scoring import exploitability_score  # noqa: E402

import mfcheck  # noqa: E402
from mfcheck.adapters.mfglib import from_mfglib, to_mfglib_policy  # noqa: E402
from mfcheck.games import left_right, rock_paper_scissors  # noqa: E402
from mfcheck.kernels import initial_values  # noqa: E402

pytestmark = pytest.mark.mfglib

FLOAT32_SCALE_RTOL = 2e-6

#: Every example environment of MFGLib 0.3.0 (each builds with its defaults).
KNOWN_ENVS = ["beach_bar", "building_evacuation", "conservative_treasure_hunting",
              "crowd_motion", "equilibrium_price", "left_right", "linear_quadratic",
              "random_linear", "rock_paper_scissors", "susceptible_infected"]
ENVS = sorted(name for name, attr in vars(Environment).items() if isinstance(attr, classmethod))

#: docs/references.md#mfglib-uniform-exploitability: MFGLib's exploitability of the uniform policy
#: (float32, as printed).
FACTS_UNIFORM = {"beach_bar": 1.2212623, "rock_paper_scissors": 0.3333333,
                 "susceptible_infected": 5.4668713, "crowd_motion": 1.4674721,
                 "linear_quadratic": 2.1381230}


def test_every_known_environment_is_covered():
    assert set(KNOWN_ENVS) <= set(ENVS)


def test_left_right_and_rock_paper_scissors_facts_hold_in_mfglib():
    """The left_right figures of docs/references.md#mfglib-left-right, straight from MFGLib (the peer,
    not mfcheck)."""
    env = Environment.left_right()
    for left, expected in [(1.0, 1.0), (0.0, 2.0), (0.5, 0.25)]:
        pi = torch.tensor([[left, 1 - left]] * 3 + [[0.5, 0.5]] * 3).reshape(2, 3, 2)
        assert exploitability_score(env, pi) == pytest.approx(expected, abs=1e-6)


def assert_same_game(game: mfcheck.FiniteMFG, other: mfcheck.FiniteMFG, *, mu0_atol: float,
                     reward_atol: float, transition_atol: float) -> None:
    """μ0, and every epoch's reward and transition at a random population L, agree."""
    torch.testing.assert_close(other.mu0, game.mu0, rtol=0, atol=mu0_atol)
    gen = torch.Generator().manual_seed(0)
    for t in range(game.horizon):
        L = torch.rand(game.n_states, game.n_actions, generator=gen, dtype=torch.float64)
        L /= L.sum()
        torch.testing.assert_close(other.reward(t, L), game.reward(t, L), rtol=0,
                                   atol=reward_atol)
        torch.testing.assert_close(other.transition(t, L), game.transition(t, L), rtol=0,
                                   atol=transition_atol)


def sample_policies(game: mfcheck.FiniteMFG, seed: int) -> torch.Tensor:
    """The uniform policy, two random policies (one spiky) and a random deterministic one."""
    gen = torch.Generator().manual_seed(seed)
    shape = game.policy_shape
    e = -torch.log1p(-torch.rand((2, *shape), generator=gen, dtype=torch.float64))
    e[1] = e[1] ** 4
    random = e / e.sum(-1, keepdim=True)
    pure = torch.nn.functional.one_hot(torch.randint(game.n_actions, shape[:-1], generator=gen),
                                       game.n_actions).to(torch.float64)
    return torch.cat([game.uniform_policy()[None], random, pure[None]])


def assert_matches_mfglib(game, env, policies) -> torch.Tensor:
    """mfcheck's exploitability of each policy equals MFGLib's, to float32 precision."""
    flow = mfcheck.distribution(game, policies)  # shared by the kernel and the scale
    ours = mfcheck.exploitability(game, policies, flow=flow)
    theirs = torch.tensor([exploitability_score(env, to_mfglib_policy(p, env)) for p in policies],
                          dtype=torch.float64)
    tol = FLOAT32_SCALE_RTOL * value_scale(game, policies, flow)
    assert ((ours - theirs).abs() <= tol).all(), (ours, theirs, tol)
    return ours


def value_scale(game, policies, flow) -> torch.Tensor:
    """1 + |J_BR| + |J_π| per policy, from mfcheck's exact kernels."""
    j_br = initial_values(game, mfcheck.best_response(game, flow).v)
    j_pi = initial_values(game, mfcheck.policy_value(game, policies, flow).v)
    return 1 + j_br.abs() + j_pi.abs()


@pytest.mark.parametrize("name", ENVS)
def test_exploitability_matches_mfglib(name):
    env = getattr(Environment, name)()
    game = from_mfglib(env)
    assert game.horizon == env.T + 1
    assert (game.n_states, game.n_actions) == (env.n_states, env.n_actions)
    policies = sample_policies(game, seed=len(name))
    ours = assert_matches_mfglib(game, env, policies)
    assert (ours >= -1e-12).all()
    if name in FACTS_UNIFORM:
        uniform = policies[:1]
        tol = FLOAT32_SCALE_RTOL * value_scale(game, uniform, mfcheck.distribution(game, uniform))
        assert abs(float(ours[0]) - FACTS_UNIFORM[name]) <= float(tol)
        # MFGLib itself reproduces the printed figure to its 7 decimals, give or take a
        # float32 ulp (rock_paper_scissors gives 0.33333337: 1/3 in float32 arithmetic).
        assert exploitability_score(env, to_mfglib_policy(policies[0], env)) == pytest.approx(
            FACTS_UNIFORM[name], abs=1e-7, rel=2e-7)


@pytest.mark.parametrize("native,env", [
    (left_right, Environment.left_right),
    (rock_paper_scissors, Environment.rock_paper_scissors),
    (lambda: rock_paper_scissors(T=3), lambda: Environment.rock_paper_scissors(T=3)),
    (lambda: left_right(mu0=(0.2, 0.5, 0.3)), lambda: Environment.left_right(mu0=(0.2, 0.5, 0.3))),
])
def test_native_one_shot_games_match_mfglib(native, env):
    """mfcheck's own left_right / rock_paper_scissors are MFGLib's, tensor for tensor."""
    game, env = native(), env()
    converted = from_mfglib(env)
    assert game.policy_shape == converted.policy_shape
    assert_same_game(game, converted, mu0_atol=1e-7, reward_atol=1e-6, transition_atol=0)
    assert_matches_mfglib(game, env, sample_policies(game, seed=1))


def test_to_mfglib_policy_restores_mfglib_shapes():
    env = Environment.equilibrium_price()  # multi-dimensional actions (Q + 1, H + 1)
    game = from_mfglib(env)
    policy = to_mfglib_policy(game.uniform_policy(), env)
    assert policy.shape == (env.T + 1, *env.S, *env.A) and policy.dtype == env.mu0.dtype
