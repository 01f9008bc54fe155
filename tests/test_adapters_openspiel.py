"""The OpenSpiel adapter (`mfcheck.adapters.openspiel`): any finite-horizon game as a
pyspiel mean-field game, OpenSpiel's NashConv on it, crowd modelling back, and OpenSpiel's
algorithms as planners with their temperature conventions.

Tolerance 1e-12: OpenSpiel's tree traversal and mfcheck's kernels compute the same float64
sums in another order (measured ≤ 4.4e-16 on values ~1); a convention error (the reward
node's population, an epoch off, a transposed transition) moves NashConv by O(0.1).
"""

from __future__ import annotations

import itertools

import pytest
import torch

pytest.importorskip("pyspiel")
import pyspiel  # noqa: E402
from open_spiel.python.mfg import games as _register_games  # noqa: E402,F401  (python MFGs)

import mfcheck  # noqa: E402
from mfcheck.adapters.openspiel import (OpenSpielPlanner, crowd_modelling_nash_conv,  # noqa: E402
                                        from_openspiel, openspiel_nash_conv, to_openspiel,
                                        tree_game)
from mfcheck.errors import InvalidGameError, UsageError  # noqa: E402
from mfcheck.games import random_game  # noqa: E402
from mfcheck.kernels import best_response, distribution, policy_value  # noqa: E402
from mfcheck.reference import FictitiousPlay, OnlineMirrorDescent  # noqa: E402

pytestmark = pytest.mark.openspiel
ATOL = 1e-12


def random_policies(game, n=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.softmax(2 * torch.randn((n, *game.policy_shape), generator=gen,
                                         dtype=torch.float64), -1)


@pytest.mark.parametrize("discount", [1.0, 0.7])
def test_nash_conv_equals_exploitability_with_population_dependent_transitions(discount):
    game = random_game(5, 3, 4, discount=discount, seed=1)  # general: P depends on L
    os_game = to_openspiel(game)
    for policy in random_policies(game):
        ours, theirs = float(mfcheck.exploitability(game, policy)), openspiel_nash_conv(
            os_game, policy)
        assert abs(ours - theirs) <= ATOL, (ours, theirs)


def test_from_openspiel_crowd_modelling_matches_its_nash_conv():
    os_game = pyspiel.load_game("python_mfg_crowd_modelling", {"size": 6, "horizon": 5})
    game = from_openspiel(os_game)
    assert (game.n_states, game.horizon) == (6, 5)
    for policy in random_policies(game):
        ours = float(mfcheck.exploitability(game, policy))
        assert abs(ours - crowd_modelling_nash_conv(policy.numpy(), 6, 5)) <= ATOL


#: OpenSpiel's single-population tabular games, small: from_openspiel reads them off their
#: trees (`tree_game`); NashConv must equal mfcheck's exploitability. A reward read at the
#: wrong epoch's population, a wrong first-visited node (another previous action's
#: displacement cost) or a transition off by a cell moves NashConv by ≥ 1e-2 here.
TREE_GAMES = [
    ("python_mfg_periodic_aversion", {"size": 7, "horizon": 4, "n_actions_per_side": 2}),
    ("mfg_crowd_modelling_2d", {"size": 4, "horizon": 3}),
    ("mfg_crowd_modelling", {"size": 6, "horizon": 4}),
    ("mean_field_lin_quad", {"size": 7, "horizon": 4, "n_actions_per_side": 2}),
]


@pytest.mark.parametrize("name,params", TREE_GAMES, ids=[n for n, _ in TREE_GAMES])
def test_from_openspiel_tree_games_match_their_nash_conv(name, params):
    os_game = pyspiel.load_game(name, params)
    game = from_openspiel(os_game)
    assert game.horizon == params["horizon"]
    for policy in random_policies(game):
        ours = float(mfcheck.exploitability(game, policy))
        assert abs(ours - openspiel_nash_conv(os_game, policy)) <= ATOL


def test_tree_game_of_crowd_modelling_is_mfchecks_crowd_modelling():
    """The generic tree reading of crowd modelling and mfcheck's hand-written game of
    OpenSpiel's convention (its displacement cost of the first traversal) agree."""
    os_game = pyspiel.load_game("python_mfg_crowd_modelling", {"size": 6, "horizon": 5})
    tree, named = tree_game(os_game), from_openspiel(os_game)
    for policy in random_policies(named):
        assert abs(float(mfcheck.exploitability(tree, policy))
                   - float(mfcheck.exploitability(named, policy))) <= ATOL


def test_unsupported_conversions_say_so():
    with pytest.raises(UsageError, match="3 populations"):
        from_openspiel(pyspiel.load_game("python_mfg_predator_prey"))
    with pytest.raises(UsageError, match="not a chance node"):
        from_openspiel(pyspiel.load_game("python_mfg_dynamic_routing"))
    with pytest.raises(UsageError, match="not legal"):  # no move into a forbidden cell
        from_openspiel(pyspiel.load_game("mfg_crowd_modelling_2d", {
            "size": 4, "horizon": 3, "forbidden_states": "[1|1;2|1]",
            "initial_distribution": "[0|0]", "initial_distribution_value": "[1.0]"}))
    with pytest.raises(InvalidGameError, match="finite-horizon"):
        to_openspiel(random_game(3, 2, None, discount=0.8, seed=0))
    assert "finite-horizon" in OpenSpielPlanner().supports(
        random_game(3, 2, None, discount=0.8, seed=0))


def first(planner, game, k, **kw):
    return list(itertools.islice(planner.solve(game, seed=0, **kw), k))


@pytest.mark.parametrize("algorithm,reference", [
    (OpenSpielPlanner("fictitious_play"), FictitiousPlay()),
    (OpenSpielPlanner("mirror_descent", lr=0.1), OnlineMirrorDescent(0.1)),
])
def test_planners_reproduce_mfchecks_reference_planners(algorithm, reference):
    """OpenSpiel's fictitious play and mirror descent through the converted game give the
    reference planners' iterates: the tree and the conventions are the same."""
    game = random_game(4, 3, 3, seed=4)
    for ours, theirs in zip(first(algorithm, game, 5), first(reference, game, 5)):
        game.check_policy(ours)
        torch.testing.assert_close(ours, theirs, rtol=0, atol=ATOL)


def softmax_of(q, tau):
    return torch.softmax(q / tau, -1)


@pytest.mark.parametrize("tau", [0.5, 2.0])
def test_temperature_conventions_as_documented(tau):
    """FixedPoint(temperature=τ): π_k = softmax(Q*/τ) of the *unregularised* best-response
    values at π_{k−1}'s population; BoltzmannPolicyIteration(lr = 1/τ): softmax(Q^π/τ) of
    the current policy's unregularised values. Started from a given policy."""
    game = random_game(4, 3, 3, seed=6)
    start = random_policies(game, 1, seed=2)[0]
    fixed = OpenSpielPlanner("fixed_point", temperature=tau)
    bpi = OpenSpielPlanner("boltzmann_policy_iteration", lr=1 / tau)
    assert fixed.temperature == bpi.temperature == pytest.approx(tau)
    previous_fp = previous_bpi = start
    for got_fp, got_bpi in zip(first(fixed, game, 3, initial_policy=start),
                               first(bpi, game, 3, initial_policy=start)):
        q_star = best_response(game, distribution(game, previous_fp)).q
        torch.testing.assert_close(got_fp, softmax_of(q_star, tau), rtol=0, atol=ATOL)
        flow = distribution(game, previous_bpi)
        q_pi = policy_value(game, previous_bpi, flow).q
        torch.testing.assert_close(got_bpi, softmax_of(q_pi, tau), rtol=0, atol=ATOL)
        previous_fp, previous_bpi = got_fp, got_bpi
