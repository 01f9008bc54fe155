"""The MFGLib adapter (`mfcheck.adapters.mfglib`): games both ways, MFGLib's own
exploitability on converted games, and MFGLib's algorithms as planners.

Tolerances. In float64 (`mfglib_dtype`), MFGLib's exploitability and mfcheck's kernel
are the same sums in another order: they agree to ~1e-14 on values of ~60 (measured
7e-15 on crowd modelling); 1e-12 leaves a 100× margin, while a convention error (an
epoch off, a transposed transition, the discount dropped) moves them by O(0.1).
"""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
import torch

pytest.importorskip("mfglib")
import mfglib.alg  # noqa: E402,F401
from mfglib.env import Environment  # noqa: E402
from mfglib.scoring import exploitability_score  # noqa: E402

import mfcheck  # noqa: E402
from mfcheck.boundary import checked_policy  # noqa: E402
from mfcheck.adapters._peer import MissingPeerError  # noqa: E402
from mfcheck.adapters.mfglib import (ALGORITHMS, MFGLibPlanner, from_mfglib,  # noqa: E402
                                     mfglib_dtype, mfglib_exploitability, reward_bound,
                                     to_mfglib, to_mfglib_policy)
from mfcheck.errors import InvalidGameError  # noqa: E402
from mfcheck.games import crowd_modelling, random_game  # noqa: E402

try:
    from .test_mfglib_parity import assert_same_game
except ImportError:  # tests/ is a plain folder on sys.path, not a package
    from test_mfglib_parity import assert_same_game

pytestmark = pytest.mark.mfglib
FLOAT64_ATOL = 1e-12

GAMES = {
    "garnet": lambda: random_game(5, 3, 4, seed=1),  # population-dependent transitions
    "garnet-discounted": lambda: random_game(6, 3, 5, discount=0.7, seed=3),
    "crowd-modelling": lambda: crowd_modelling(8, 6, convention="exact"),
}


def random_policies(game, n=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    logits = 2 * torch.randn((n, *game.policy_shape), generator=gen, dtype=torch.float64)
    return torch.softmax(logits, -1)


@pytest.mark.parametrize("name", GAMES)
def test_mfglib_exploitability_equals_mfcheck_on_converted_games(name):
    game = GAMES[name]()
    for policy in random_policies(game):
        ours = float(mfcheck.exploitability(game, policy))
        theirs = mfglib_exploitability(game, policy)
        assert abs(ours - theirs) <= FLOAT64_ATOL, (ours, theirs)


@pytest.mark.parametrize("name", ["garnet", "crowd-modelling"])
def test_round_trip_game_to_mfglib_and_back(name):
    game = GAMES[name]()
    back = from_mfglib(to_mfglib(game))
    assert (back.horizon, back.n_states, back.n_actions) == (game.horizon, game.n_states,
                                                             game.n_actions)
    assert_same_game(game, back, mu0_atol=1e-15, reward_atol=1e-15, transition_atol=1e-15)


def test_round_trip_mfglib_env_to_game_and_back():
    """MFGLib's susceptible-infected (population-dependent transitions): env → game → env
    scores every policy as MFGLib scores it on the original (float32: to 1e-6)."""
    env = Environment.susceptible_infected()
    game = from_mfglib(env)
    env2 = to_mfglib(game, torch.float32)
    for policy in random_policies(game):
        a = exploitability_score(env, to_mfglib_policy(policy, env))
        b = exploitability_score(env2, to_mfglib_policy(policy, env2))
        assert abs(a - b) <= 1e-6 * (1 + abs(a)), (a, b)


def test_reward_bound_bounds_every_reward_it_is_exact_for():
    """r_max: no reward at 200 random populations exceeds it, and it is attained (the
    garnet's rewards are affine in L, so the supremum sits at a vertex)."""
    game = GAMES["garnet"]()
    bound = reward_bound(game)
    gen = torch.Generator().manual_seed(1)
    L = torch.distributions.Dirichlet(torch.ones(game.n_states * game.n_actions,
                                                 dtype=torch.float64)).sample((200,))
    L = L.reshape(200, game.n_states, game.n_actions)
    seen = max(float(game.reward(t, L).abs().max()) for t in range(game.horizon))
    assert seen <= bound
    del gen
    assert to_mfglib(game).r_max == bound


def test_stationary_games_are_refused_and_declined():
    game = random_game(4, 2, None, discount=0.8, seed=0)
    with pytest.raises(InvalidGameError, match="finite-horizon"):
        to_mfglib(game)
    assert "finite-horizon" in MFGLibPlanner("FictitiousPlay").supports(game)


def mfglib_iterates(algorithm, env, k, pi_0="uniform"):
    with mfglib_dtype(torch.float64):
        pis, _, _ = algorithm.solve(env, pi_0=pi_0, max_iter=k, atol=None, rtol=None)
    return pis


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_planner_yields_mfglibs_own_iterates(algorithm):
    """The k-th policy is MFGLib's solve(max_iter=k)[k] (float64, tolerances off), for
    k = 1..K, from uniform and from a given start; every policy passes validation."""
    game = random_game(4, 2, 3, seed=2)
    K = 20 if algorithm == "MFOMO" else 6  # MFOMO: past its first run (max_iter 16)
    planner = MFGLibPlanner(algorithm, dtype=torch.float64, atol=None, rtol=None)
    env = to_mfglib(game)
    start = random_policies(game, 1, seed=5)[0]
    for initial, pi_0 in [(None, "uniform"), (start, to_mfglib_policy(start, env))]:
        extra = {} if initial is None else {"initial_policy": initial}
        ours = list(itertools.islice(planner.solve(game, seed=0, **extra), K))
        theirs = mfglib_iterates(getattr(mfglib.alg, algorithm)(), env, K, pi_0)
        for k, policy in enumerate(ours, start=1):
            # OccupationMeasureInclusion rounds its projection to float32 whatever the
            # dtype (osqp_proj's .float()) and declares float32: compare as the harness
            # sees it, validated at the declared precision, cast and renormalised.
            seen = checked_policy(game, policy, what="policy", precision=planner.precision)
            expected = theirs[k].reshape(game.policy_shape).to(torch.float64)
            expected = expected / expected.sum(-1, keepdim=True)
            torch.testing.assert_close(seen, expected, rtol=0, atol=1e-12)


def test_float32_planner_declares_its_precision_and_yields_valid_policies():
    game = GAMES["garnet"]()
    planner = MFGLibPlanner("OnlineMirrorDescent", alpha=0.1)
    assert planner.precision == torch.float32 and "OnlineMirrorDescent" in planner.name
    for policy in itertools.islice(planner.solve(game, seed=0), 3):
        assert policy.dtype == torch.float32 and policy.device == game.device  # MFGLib's own
        seen = checked_policy(game, policy, what="policy", precision=planner.precision)
        assert seen.dtype == torch.float64
        game.check_policy(seen)  # what the checks see is a float64 distribution


def test_missing_mfglib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mfglib", None)
    monkeypatch.setitem(sys.modules, "mfglib.alg", None)
    with pytest.raises(MissingPeerError, match=r"mfcheck\[mfglib\]"):
        to_mfglib(GAMES["garnet"]())
    with pytest.raises(ImportError):  # code that guards with `except ImportError` still works
        next(MFGLibPlanner("FictitiousPlay").solve(GAMES["garnet"](), seed=0))


def test_importing_mfcheck_and_its_adapters_imports_no_peer():
    code = ("import sys, mfcheck, mfcheck.adapters.mfglib, mfcheck.adapters.openspiel, "
            "mfcheck.adapters.benchmfg; "
            "print(sorted(m for m in ('mfglib', 'pyspiel', 'open_spiel', 'benchmfg', 'jax') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("example", ["crowd_motion", "beach_bar"])
def test_declared_static_and_stencil_conversions_change_no_value(example):
    """MFGLib's crowd_motion and beach_bar have transitions free of t and L: declaring it,
    and handing the kernels a stencil, changes the cost only."""
    env = getattr(Environment, example)()
    plain = from_mfglib(env)
    fast = from_mfglib(env, stencil=True, transition_depends_on_time=False,
                       transition_depends_on_population=False)
    policy = torch.softmax(torch.randn(3, *plain.policy_shape, dtype=plain.dtype,
                                       generator=torch.Generator().manual_seed(0)), -1)
    torch.testing.assert_close(mfcheck.exploitability(fast, policy),
                               mfcheck.exploitability(plain, policy), rtol=0, atol=FLOAT64_ATOL)


def test_a_false_static_declaration_of_an_mfglib_env_is_refused():
    with pytest.raises(InvalidGameError, match="transition_depends_on_population=False"):
        from_mfglib(Environment.susceptible_infected(), transition_depends_on_population=False)
