"""Built-in games: they build and validate, their exploitability matches closed forms,
exact-kernel properties hold on drawn games, and bad input gets a clear one-line error.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mfcheck
from mfcheck import InvalidGameError, InvalidPolicyError, UsageError
from mfcheck.analytic import (exploitability_n_route, exploitability_two_route, logit_n_route,
                              wardrop_n_route)
from mfcheck.games import (left_right, n_route, random_game,
                           rock_paper_scissors, two_route)
from mfcheck.kernels import initial_values
from mfcheck.strategies import games, mean_fields, policies, random_games

EXACT = 1e-12
PROPERTY = settings(max_examples=60, deadline=None)

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")

BUILDERS = {
    "two_route": lambda device: two_route(1, 1, 1.5, 0.5, device=device),
    "n_route": lambda device: n_route([0, 0.2, 5], [1, 2, 1], device=device),
    "left_right": lambda device: left_right(device=device),
    "rock_paper_scissors": lambda device: rock_paper_scissors(T=2, device=device),
    "random_game": lambda device: random_game(5, 3, 4, branching=2, seed=1, device=device),
    "random_game_monotone": lambda device: random_game(5, 3, 4, monotone=True, seed=1,
                                                       device=device),
    "random_game_discounted": lambda device: random_game(4, 2, None, monotone=True,
                                                         discount=0.5, seed=2, device=device),
}


def split_policy(game, m) -> torch.Tensor:
    return torch.as_tensor(np.asarray(m), dtype=torch.float64,
                           device=game.device).reshape(game.policy_shape)


# -- every game builds, validates and runs the kernels ------------------------------------

@pytest.mark.parametrize("name", list(BUILDERS))
def test_game_builds_and_runs_kernels(name, device):
    game = BUILDERS[name](device)
    assert isinstance(game, mfcheck.FiniteMFG) and game.device == device
    policy = game.uniform_policy()
    flow = mfcheck.distribution(game, policy)
    assert flow.mu.device == device
    torch.testing.assert_close(flow.mu.sum(-1), torch.ones_like(flow.mu[..., 0]))
    assert float(mfcheck.exploitability(game, policy)) >= -EXACT


def test_names_say_what_the_game_is():
    assert two_route(1, 1, 1.5, 0.5).name == "two_route(1, 1, 1.5, 0.5)"
    assert n_route([0, 0.2], [1, 2]).name == "n_route(a=[0, 0.2], b=[1, 2])"
    assert "seed=3" in random_game(2, 2, seed=3).name


def test_random_game_is_reproducible_and_seeded():
    g1, g2, g3 = (random_game(4, 3, 2, seed=s) for s in (5, 5, 6))
    L = torch.full((4, 3), 1 / 12, dtype=torch.float64)
    torch.testing.assert_close(g1.transition(0, L), g2.transition(0, L), rtol=0, atol=0)
    torch.testing.assert_close(g1.reward(0, L), g2.reward(0, L), rtol=0, atol=0)
    assert not torch.equal(g1.reward(0, L), g3.reward(0, L))


@pytest.mark.parametrize("monotone", [False, True])
@pytest.mark.parametrize("branching", [1, 2, 4])
def test_random_game_has_branching_successors(branching, monotone):
    game = random_game(6, 3, 2, branching=branching, monotone=monotone, seed=branching)
    L1 = torch.full((6, 3), 1 / 18, dtype=torch.float64)
    L2 = torch.zeros(6, 3, dtype=torch.float64)
    L2[0, 0] = 1.0
    support = game.transition(0, L1) > 0
    assert (support.sum(-1) == branching).all()
    # The successor sets do not depend on μ, only their probabilities may.
    assert torch.equal(game.transition(0, L2) > 0, support)
    depends = not torch.allclose(game.transition(0, L1), game.transition(0, L2), atol=1e-14)
    assert depends == (not monotone and branching > 1)


@PROPERTY
@given(st.integers(2, 5), st.integers(1, 3), st.sampled_from([0.5, 2.0]),
       st.integers(0, 2**31 - 1), st.data())
def test_monotone_random_game_is_lasry_lions_monotone(n_states, n_actions, coupling, seed, data):
    """−Σ_s (r̄(s, μ) − r̄(s, μ'))(μ(s) − μ'(s)) ≥ coupling·‖μ − μ'‖² (C ⪰ I), and the
    transitions do not depend on μ."""
    game = random_game(n_states, n_actions, 2, monotone=True, coupling=coupling, seed=seed)
    L, L2 = (data.draw(mean_fields(game)).L[0] for _ in range(2))
    dmu = L.sum(-1) - L2.sum(-1)
    dr = (game.reward(0, L) - game.reward(0, L2))[:, 0]  # r̃(s, a) cancels, whatever a
    assert -float(dr @ dmu) >= coupling * float(dmu @ dmu) * (1 - 1e-12) - 1e-15
    torch.testing.assert_close(game.transition(0, L), game.transition(0, L2), rtol=0, atol=0)


# -- congestion games against the closed forms --------------------------------------------

params = st.tuples(st.floats(0, 3), st.floats(0, 3), st.floats(0, 3), st.floats(0, 3))


@PROPERTY
@given(params, st.floats(0.0, 1.0))
def test_two_route_exploitability_equals_closed_form(p, m):
    game = two_route(*p)
    kernel = float(mfcheck.exploitability(game, split_policy(game, [m, 1 - m])))
    assert kernel == pytest.approx(exploitability_two_route(m, *p), abs=EXACT)


@PROPERTY
@given(st.lists(st.floats(0, 3), min_size=3, max_size=5), st.data())
def test_n_route_exploitability_equals_closed_form_and_vanishes_at_wardrop(a, data):
    b = data.draw(st.lists(st.floats(0, 3) | st.just(0.0), min_size=len(a), max_size=len(a)))
    game = n_route(a, b)
    w = np.array(data.draw(st.lists(st.floats(0.01, 1.0), min_size=len(a), max_size=len(a))))
    m = w / w.sum()
    assert float(mfcheck.exploitability(game, split_policy(game, m))) == pytest.approx(
        exploitability_n_route(m, a, b), abs=EXACT)
    wardrop = split_policy(game, wardrop_n_route(a, b))
    assert abs(float(mfcheck.exploitability(game, wardrop))) <= EXACT


@pytest.mark.parametrize("tau", [0.1, 1.0])
def test_logit_split_has_zero_regularised_exploitability(tau):
    a, b = [0.5, 0.1, 0.9, 0.3], [1.0, 3.0, 0.0, 2.0]
    game = n_route(a, b)
    m = split_policy(game, logit_n_route(a, b, tau))
    assert abs(float(mfcheck.exploitability(game, m, temperature=tau))) <= EXACT
    assert float(mfcheck.exploitability(game, game.uniform_policy(), temperature=tau)) > 1e-3


# -- MFGLib's one-shot games (docs/references.md#mfglib-left-right; hand-derived equilibria) ----

@pytest.mark.parametrize("left,expected", [(1.0, 1.0), (0.0, 2.0), (0.5, 0.25), (2 / 3, 0.0)])
def test_left_right_matches_facts(left, expected):
    """docs/references.md#mfglib-left-right: go-left 1.0, go-right 2.0, uniform 0.25, equilibrium 2/3
    on the left."""
    game = left_right()
    policy = game.uniform_policy().clone()
    policy[0, 0] = torch.tensor([left, 1 - left], dtype=torch.float64)
    assert float(mfcheck.exploitability(game, policy)) == pytest.approx(expected, abs=EXACT)


def test_rock_paper_scissors_matches_facts_and_its_equilibrium():
    """Uniform: 1/3 (docs/references.md#mfglib-uniform-exploitability). Equilibrium: equal rewards 2z − y = 4x − 2z = 6y − 3x solve to
    (x, y, z) = (26, 20, 31)/77 for (rock, paper, scissors), so no deviation gains."""
    game = rock_paper_scissors()
    assert float(mfcheck.exploitability(game, game.uniform_policy())) == pytest.approx(
        1 / 3, abs=EXACT)
    policy = game.uniform_policy().clone()
    policy[0, 0] = torch.tensor([26, 20, 31], dtype=torch.float64) / 77
    assert abs(float(mfcheck.exploitability(game, policy))) <= EXACT


# -- properties of the exact kernels on drawn games -------------------------------------

@PROPERTY
@given(st.data())
def test_exploitability_is_nonnegative(data):
    game = data.draw(games())
    policy = data.draw(policies(game))
    tau = data.draw(st.sampled_from([0.0, 0.0, 0.3]))
    assert float(mfcheck.exploitability(game, policy, temperature=tau)) >= -EXACT


@settings(max_examples=10, deadline=None)
@given(st.data())
def test_exploitability_is_nonnegative_on_discounted_games(data):
    """Stationary kernels iterate to 1e-12/1e-13: allow 1e-9. γ = 0.5 keeps value
    iteration short (each sweep costs ~16 ms here, see torch's max(dim) on 2 threads)."""
    game = data.draw(random_games(stationary=True, max_states=3, discounts=(0.5,)))
    policy = data.draw(policies(game))
    assert float(mfcheck.exploitability(game, policy)) >= -1e-9


@PROPERTY
@given(st.data())
def test_best_response_beats_every_policy_against_any_mean_field(data):
    game = data.draw(games())
    flow = data.draw(mean_fields(game))
    policy = data.draw(policies(game))
    br = mfcheck.best_response(game, flow)
    value = mfcheck.policy_value(game, policy, flow)
    assert (br.v - value.v >= -EXACT).all()
    assert float(initial_values(game, br.v)) >= float(initial_values(game, value.v)) - EXACT


@PROPERTY
@given(st.data())
def test_batched_exploitability_matches_one_by_one(data):
    game = data.draw(games(max_states=3))
    batch = torch.stack([data.draw(policies(game)) for _ in range(3)])
    together = mfcheck.exploitability(game, batch)
    alone = torch.stack([mfcheck.exploitability(game, p) for p in batch])
    torch.testing.assert_close(together, alone, rtol=0, atol=EXACT)


# -- errors: one line, naming game, tensor, index and value -------------------------------

def one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def constant_game(transition, reward=None, *, mu0=(1.0,), n_actions=2, name="bad"):
    S = len(mu0)
    reward = reward if reward is not None else torch.zeros(S, n_actions, dtype=torch.float64)
    return mfcheck.FiniteMFG(torch.tensor(mu0, dtype=torch.float64), lambda t, L: reward,
                             lambda t, L: torch.tensor(transition, dtype=torch.float64),
                             n_actions=n_actions, horizon=2, name=name)


@pytest.mark.parametrize("build,parts", [
    (lambda: constant_game([[[1.5, -0.5], [1.0, 0.0]], [[1.0, 0.0], [1.0, 0.0]]], mu0=(1.0, 0.0)),
     ["'bad'", "transition", "[0, 0, 1]", "-0.5", "negative"]),
    (lambda: constant_game([[[0.5, 0.4], [1.0, 0.0]], [[1.0, 0.0], [1.0, 0.0]]], mu0=(1.0, 0.0)),
     ["'bad'", "transition", "[0, 0]", "0.9", "not 1"]),
    (lambda: constant_game([[[1.0], [1.0]]], mu0=(0.5, 0.5)),
     ["'bad'", "transition", "shape", "(1, 2, 1)", "(2, 2, 2)"]),
    (lambda: constant_game([[[1.0], [1.0]]], mu0=(1.5, -0.5)),
     ["'bad'", "mu0[1]", "-0.5"]),
    (lambda: n_route([1.0, float("nan")], [1.0, 1.0]),
     ["n_route(a=[1, nan], b=[1, 1])", "reward", "[0, 1]", "nan"]),
    (lambda: two_route(1.0, float("inf"), 0.0, 1.0),
     ["two_route(1, inf, 0, 1)", "reward", "[0, 0]", "inf"]),
    (lambda: n_route([1.0, 2.0], [1.0]), ["n_route", "same length"]),
    (lambda: random_game(3, 2, branching=4), ["random_game", "branching", "4"]),
    (lambda: random_game(3, 2, horizon=None), ["random_game", "discount"]),
])
def test_invalid_games_raise_one_line_errors(build, parts):
    with pytest.raises(InvalidGameError) as exc:
        build()
    message = one_line(exc)
    for part in parts:
        assert part in message, (part, message)


GAME = two_route(1, 1, 1.5, 0.5)


@pytest.mark.parametrize("policy,parts", [
    (torch.tensor([[[1.2, -0.2]]], dtype=torch.float64), ["policy", "two_route(1, 1, 1.5, 0.5)",
                                                         "[0, 0, 1]", "-0.2", "negative"]),
    (torch.tensor([[[0.5, 0.6]]], dtype=torch.float64), ["policy", "[0, 0]", "1.1", "not 1"]),
    (torch.tensor([[[float("nan"), 1.0]]], dtype=torch.float64), ["policy", "[0, 0, 0]", "nan"]),
    (torch.full((1, 2), 0.5, dtype=torch.float64), ["policy", "shape", "(1, 2)", "(1, 1, 2)"]),
    (torch.tensor([[[1, 0]]]), ["policy", "dtype", "int64"]),
    ([[[0.5, 0.5]]], ["policy", "torch.Tensor", "list"]),
])
def test_invalid_policies_raise_one_line_errors(policy, parts):
    with pytest.raises(InvalidPolicyError) as exc:
        mfcheck.exploitability(GAME, policy)
    message = one_line(exc)
    for part in parts:
        assert part in message, (part, message)


@pytest.mark.cuda
@CUDA
def test_policy_on_another_device_is_rejected():
    with pytest.raises(InvalidPolicyError, match="device"):
        mfcheck.exploitability(GAME, GAME.uniform_policy().cuda())


def test_mfglib_adapter_without_mfglib_is_a_usage_error(monkeypatch):
    from mfcheck.adapters.mfglib import from_mfglib
    monkeypatch.setitem(sys.modules, "mfglib", None)  # makes `import mfglib` raise ImportError
    with pytest.raises(UsageError, match="pip install") as exc:
        from_mfglib(object())
    one_line(exc)


def test_a_transition_table_modified_in_place_is_validated_again():
    """Static tables are validated once; an in-place change bumps the version counter."""
    import mfcheck
    table = torch.full((2, 2, 2), 0.5, dtype=torch.float64)
    game = mfcheck.FiniteMFG(torch.tensor([0.5, 0.5], dtype=torch.float64),
                             lambda t, L: torch.zeros(2, 2, dtype=torch.float64),
                             lambda t, L: table, n_actions=2, horizon=3, name="mutable")
    mfcheck.exploitability(game, game.uniform_policy())
    table[0, 1, 0] = 0.9
    with pytest.raises(mfcheck.InvalidGameError, match=r"mutable.*transition\(t=0\)\[0, 1\] sums to 1.4"):
        mfcheck.exploitability(game, game.uniform_policy())
