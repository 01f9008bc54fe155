"""mfcheck.games.crowd_modelling_2d: OpenSpiel's C++ ``mfg_crowd_modelling_2d``, as a stencil.

- parity with OpenSpiel (open_spiel 2.0.2, computed live): NashConv of OpenSpiel's uniform
  policy, of a fictitious-play iterate (OpenSpiel's own FictitiousPlay) and of random
  policies equals mfcheck's exploitability to 1e-9 ("openspiel" convention); the first
  visits of OpenSpiel's best-response walk are `first_moves`; the "exact" convention equals
  a walk of OpenSpiel's own states whose cache key carries the previous action;
- the parameters are read as OpenSpiel reads them, and bad ones raise `InvalidGameError`;
- the stencil and its dense form give the same kernel results (Hypothesis).

The OpenSpiel tests skip without pyspiel; the preset parity on MAZE (and fictitious play on
FOUR_ROOMS) runs with ``--full`` (30 s to minutes in OpenSpiel).
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mfcheck.errors import InvalidGameError
from mfcheck.game import FiniteMFG
from mfcheck.games import crowd_modelling_2d
from mfcheck.games.crowd_modelling_2d import (DEFAULTS, FOUR_ROOMS, MAZE, NEUTRAL_ACTION,
                                              first_moves, legal_actions, parse_parameters,
                                              uniform_policy)
from mfcheck.kernels import (best_response, distribution, exploitability, initial_values,
                             policy_value)
from mfcheck.transition import Stencil

NAME = "mfg_crowd_modelling_2d"
#: Deterministic float64 kernels against OpenSpiel's float64 tree walk: both sum the same
#: terms in another order (measured gaps ≤ 5e-13 on values up to 2·10³).
PARITY = 1e-9

#: Small games covering every parameter (each runs in OpenSpiel in well under a second).
CASES = {
    "default-4x4": dict(size=4, horizon=3),
    "noise-0.3": dict(size=5, horizon=4, noise_intensity=0.3),
    "noise-0": dict(size=4, horizon=4, noise_intensity=0.0),
    "forbidden-initial": dict(size=5, horizon=4, forbidden_states="[0|0;1|0;2|3]",
                              initial_distribution="[1|2;3|3]",
                              initial_distribution_value="[0.25;0.75]"),
    "congestion-positional": dict(size=5, horizon=4, with_congestion=True,
                                  positional_reward="[1|1;3|0]",
                                  positional_reward_value="[0.1;1.5]"),
    "wall-congestion-aversion": dict(size=6, horizon=5, forbidden_states="[2|0;2|1;2|2;2|4;2|5]",
                                     initial_distribution="[0|1;4|3;1|5]",
                                     initial_distribution_value="[0.5;0.375;0.125]",
                                     with_congestion=True, crowd_aversion_coef=0.5,
                                     noise_intensity=0.6, positional_reward="[4|4]",
                                     positional_reward_value="[2.0]"),
    "only-distribution": dict(size=5, horizon=4, only_distribution_reward=True,
                              forbidden_states="[1|1;3|3]", initial_distribution="[0|2]",
                              initial_distribution_value="[1.0]"),
}


# -- OpenSpiel helpers ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def os_lib():
    pyspiel = pytest.importorskip("pyspiel")
    from open_spiel.python import policy as policy_std
    from open_spiel.python.mfg.algorithms import (best_response_value, distribution as os_dist,
                                                  fictitious_play, nash_conv)
    return SimpleNamespace(pyspiel=pyspiel, policy=policy_std, br=best_response_value,
                           distribution=os_dist, fictitious_play=fictitious_play,
                           nash_conv=nash_conv)


def cell_and_time(state, size: int) -> tuple[int, int]:
    """(s, t) of an OpenSpiel node from its string "(x, y, t)..."."""
    x, y, t = (int(v) for v in re.findall(r"-?\d+", state.observation_string(0))[:3])
    return x * size + y, t


def grid_policy(os_lib, os_game, table: torch.Tensor, size: int):
    """An mfcheck policy table ``(horizon, S, 5)`` as an OpenSpiel policy (legal actions)."""
    array = table.detach().cpu().numpy()

    class GridPolicy(os_lib.policy.Policy):
        def action_probabilities(self, state, player_id=None):
            s, t = cell_and_time(state, size)
            return {a: float(array[t, s, a]) for a in state.legal_actions()}

    return GridPolicy(os_game, [0])


def table_of(os_policy, params) -> torch.Tensor:
    """An OpenSpiel TabularPolicy as an mfcheck table (its rows at the states it lists;
    OpenSpiel's uniform policy at the states it never reaches)."""
    table = uniform_policy(**params)
    size = params["size"]
    for state, row in zip(os_policy.states, os_policy.action_probability_array):
        s, t = cell_and_time(state, size)
        table[t, s] = torch.as_tensor(row, dtype=table.dtype)
    return table


def random_legal_policy(params, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    legal = uniform_policy(**params) > 0
    weights = torch.rand(legal.shape, generator=g, dtype=torch.float64) ** 3 * legal
    return weights / weights.sum(-1, keepdim=True)


# -- parity with OpenSpiel's NashConv ----------------------------------------------------------

@pytest.mark.parametrize("params", CASES.values(), ids=CASES.keys())
def test_uniform_policy_nash_conv_and_best_response_value_equal_openspiel(os_lib, params):
    os_game = os_lib.pyspiel.load_game(NAME, params)
    nc = os_lib.nash_conv.NashConv(os_game, os_lib.policy.UniformRandomPolicy(os_game))
    game = crowd_modelling_2d(**params)
    policy = uniform_policy(**params)
    assert float(exploitability(game, policy)) == pytest.approx(nc.nash_conv(), abs=PARITY, rel=0)
    # Values too, not only their difference (epoch 0's crowd term is OpenSpiel's 1/size²).
    br = best_response(game, distribution(game, policy))
    assert float(initial_values(game, br.v)) == pytest.approx(nc.br_values()[0], abs=PARITY, rel=0)


@pytest.mark.parametrize("params", CASES.values(), ids=CASES.keys())
def test_fictitious_play_iterate_nash_conv_equals_openspiel(os_lib, params):
    os_game = os_lib.pyspiel.load_game(NAME, params)
    fp = os_lib.fictitious_play.FictitiousPlay(os_game)
    for _ in range(3):
        fp.iteration()
    expected = os_lib.nash_conv.NashConv(os_game, fp.get_policy()).nash_conv()
    policy = table_of(fp.get_policy(), params)
    measured = float(exploitability(crowd_modelling_2d(**params), policy))
    assert measured == pytest.approx(expected, abs=PARITY, rel=0)


@pytest.mark.parametrize("params", CASES.values(), ids=CASES.keys())
def test_random_policy_nash_conv_equals_openspiel(os_lib, params):
    os_game = os_lib.pyspiel.load_game(NAME, params)
    policy = random_legal_policy(params, seed=len(str(params)))
    expected = os_lib.nash_conv.NashConv(os_game, grid_policy(os_lib, os_game, policy,
                                                              params["size"])).nash_conv()
    assert float(exploitability(crowd_modelling_2d(**params), policy)) == pytest.approx(
        expected, abs=PARITY, rel=0)


PRESETS = {
    "four-rooms": pytest.param(FOUR_ROOMS, 0),
    "four-rooms-fp": pytest.param(FOUR_ROOMS, 3, marks=pytest.mark.full),
    "four-rooms-factory": pytest.param({**FOUR_ROOMS, "only_distribution_reward": True}, 3,
                                       marks=pytest.mark.full),
    "maze": pytest.param(MAZE, 0, marks=pytest.mark.full),
    "maze-fp": pytest.param(MAZE, 1, marks=pytest.mark.full),
}


@pytest.mark.parametrize("params, iterations", PRESETS.values(), ids=PRESETS.keys())
def test_preset_nash_conv_equals_openspiel(os_lib, params, iterations):
    """OpenSpiel's uniform policy (3.5 s in OpenSpiel on FOUR_ROOMS, 39 s on MAZE), or its
    fictitious play after ``iterations`` (27 s for 3 on FOUR_ROOMS)."""
    os_game = os_lib.pyspiel.load_game(NAME, params)
    if iterations:
        fp = os_lib.fictitious_play.FictitiousPlay(os_game)
        for _ in range(iterations):
            fp.iteration()
        os_policy, policy = fp.get_policy(), table_of(fp.get_policy(), params)
    else:
        os_policy, policy = os_lib.policy.UniformRandomPolicy(os_game), uniform_policy(**params)
    expected = os_lib.nash_conv.NashConv(os_game, os_policy).nash_conv()
    assert float(exploitability(crowd_modelling_2d(**params), policy)) == pytest.approx(
        expected, abs=PARITY, rel=0)


@pytest.mark.parametrize("params", CASES.values(), ids=CASES.keys())
def test_first_moves_are_the_first_visits_of_openspiels_best_response_walk(os_lib, params):
    """Record the first node of each decision key that OpenSpiel's own BestResponse
    evaluates, and its previous action (the C++ state's ``last_action``)."""
    size = params["size"]

    class Recorder(os_lib.br.BestResponse):
        def eval_state(self, state):
            if int(state.current_player()) == 0:
                s, t = cell_and_time(state, size)
                self.first.setdefault((t, s), int(state.serialize().split(",")[5]))
                self.legal[s] = state.legal_actions()
            return super().eval_state(state)

    os_game = os_lib.pyspiel.load_game(NAME, params)
    policy = os_lib.policy.UniformRandomPolicy(os_game)
    Recorder.first, Recorder.legal = {}, {}
    Recorder(os_game, os_lib.distribution.DistributionPolicy(os_game, policy))
    expected = torch.zeros(params["horizon"], size * size, dtype=torch.bool)
    for (t, s), last in Recorder.first.items():
        expected[t, s] = last != NEUTRAL_ACTION
    moved = first_moves(**params)
    assert torch.equal(moved, expected), torch.nonzero(moved != expected).tolist()
    assert len(Recorder.first) > size  # the walk went somewhere
    legal = legal_actions(**params)
    for s, actions in Recorder.legal.items():
        assert torch.nonzero(legal[s]).flatten().tolist() == actions, s


def exact_nash_conv(os_lib, params, table: torch.Tensor) -> float:
    """NashConv of the game as defined: OpenSpiel's own states, walked with a cache keyed by
    the node's string *and* the previous action (so every displacement cost is the one of the
    action taken), the population at OpenSpiel's distribution of the policy."""
    os_game = os_lib.pyspiel.load_game(NAME, params)
    policy = grid_policy(os_lib, os_game, table, params["size"])
    flow = os_lib.distribution.DistributionPolicy(os_game, policy)
    ids = os_lib.pyspiel.PlayerId
    CHANCE, MEAN_FIELD = int(ids.CHANCE), int(ids.MEAN_FIELD)
    memo: dict = {}

    def value(state, best: bool) -> float:
        if state.is_terminal():
            return float(state.rewards()[0])
        key = (state.observation_string(0), state.serialize().split(",")[5], best)
        if key not in memo:
            player = int(state.current_player())
            if player == CHANCE:
                memo[key] = sum(p * value(state.child(o), best) for o, p in state.chance_outcomes())
            elif player == MEAN_FIELD:
                child = state.clone()
                child.update_distribution([flow.value_str(k, 0.0)
                                           for k in state.distribution_support()])
                memo[key] = value(child, best)
            else:
                q = {a: value(state.child(a), best) for a in state.legal_actions()}
                probs = policy.action_probabilities(state)
                memo[key] = float(state.rewards()[0]) + (
                    max(q.values()) if best else sum(probs[a] * q[a] for a in q))
        return memo[key]

    root = os_game.new_initial_state()
    return sum(p * (value(root.child(o), True) - value(root.child(o), False))
               for o, p in root.chance_outcomes())


@pytest.mark.parametrize("params", CASES.values(), ids=CASES.keys())
def test_exact_convention_equals_a_walk_that_keys_the_previous_action(os_lib, params):
    policy = random_legal_policy(params, seed=7)
    game = crowd_modelling_2d(convention="exact", **params)
    assert float(exploitability(game, policy)) == pytest.approx(
        exact_nash_conv(os_lib, params, policy), abs=PARITY, rel=0)


def test_the_two_conventions_differ_where_a_cost_is_paid(os_lib):
    """The walk above can tell them apart (the displacement cost changes the answer)."""
    params = CASES["noise-0.3"]
    policy = uniform_policy(**params)
    exact = float(exploitability(crowd_modelling_2d(convention="exact", **params), policy))
    openspiel = float(exploitability(crowd_modelling_2d(**params), policy))
    assert abs(exact - openspiel) > 1e-3
    assert exact == pytest.approx(exact_nash_conv(os_lib, params, policy), abs=PARITY, rel=0)


def test_initial_distribution_is_placed_where_openspiel_places_it(os_lib):
    """An entry "a|b" lands on cell (b, a): read off OpenSpiel's first decision nodes."""
    params = CASES["wall-congestion-aversion"]
    root = os_lib.pyspiel.load_game(NAME, params).new_initial_state()
    expected = torch.zeros(params["size"] ** 2, dtype=torch.float64)
    for outcome, p in root.chance_outcomes():
        s, t = cell_and_time(root.child(outcome), params["size"])
        expected[s] += p
    game = crowd_modelling_2d(**params)
    assert torch.equal(game.mu0, expected)
    assert not torch.equal(game.mu0, crowd_modelling_2d(**{
        **params, "initial_distribution": "[1|0;3|4;5|1]"}).mu0)  # the swap matters here


# -- parameters --------------------------------------------------------------------------------

#: Strings OpenSpiel refuses too (checked live when pyspiel is installed).
REFUSED_BY_BOTH = {
    "empty entry": dict(forbidden_states="[1|1;]"),
    "blank entry": dict(forbidden_states="[ ]"),
    "no brackets": dict(forbidden_states="1|1"),
    "outside the grid": dict(forbidden_states="[5|1]"),
    "negative cell": dict(positional_reward="[-1|0]", positional_reward_value="[1.0]"),
    "not a number": dict(initial_distribution="[2|2]", initial_distribution_value="[1_0]"),
    "not an integer": dict(forbidden_states="[1.5|1]"),
    "unmatched values": dict(initial_distribution="[2|2;1|1]", initial_distribution_value="[1.0]"),
    "start on a listed forbidden cell": dict(forbidden_states="[2|1]",
                                             initial_distribution="[2|1]",
                                             initial_distribution_value="[1.0]"),
    "unknown parameter": dict(sizes=5),
    "size of the wrong type": dict(size=5.0),
}
#: Inputs OpenSpiel accepts and mfcheck refuses, with the reason.
REFUSED_BY_MFCHECK = {
    # OpenSpiel reads the first two fields and ignores the rest.
    "three fields": dict(forbidden_states="[1|2|3]"),
    # OpenSpiel places these agents at (-1, -1) and fails at their first reward.
    "start on a forbidden cell after the swap": dict(forbidden_states="[1|2]",
                                                     initial_distribution="[2|1]",
                                                     initial_distribution_value="[1.0]"),
    "uniform start with forbidden cells": dict(forbidden_states="[0|0]"),
    # OpenSpiel uses the values as they are: a population of mass 0.4, or negative mass.
    "values sum to 0.4": dict(initial_distribution="[2|2;1|1]",
                              initial_distribution_value="[0.1;0.3]"),
    "negative value": dict(initial_distribution="[2|2;1|1]",
                           initial_distribution_value="[-1.0;2.0]"),
    "infinite value": dict(initial_distribution="[2|2]", initial_distribution_value="[inf]"),
    "noise above 5/4": dict(noise_intensity=1.5),
    "negative noise": dict(noise_intensity=-0.1),
    "horizon 0": dict(horizon=0),
    "flag as a string": dict(with_congestion="true"),
}


@pytest.mark.parametrize("bad", [*REFUSED_BY_BOTH.values(), *REFUSED_BY_MFCHECK.values()],
                         ids=[*REFUSED_BY_BOTH, *REFUSED_BY_MFCHECK])
def test_bad_parameters_raise_a_clear_error(bad):
    params = {"size": 5, "horizon": 3, **bad}
    with pytest.raises(InvalidGameError, match="crowd_modelling_2d") as info:
        crowd_modelling_2d(**params)
    message = str(info.value)
    named = [k for k in bad if k in message] or [k for k in DEFAULTS if k in message]
    assert named, f"the message names no parameter: {message}"


@pytest.mark.parametrize("bad", REFUSED_BY_BOTH.values(), ids=REFUSED_BY_BOTH.keys())
def test_openspiel_refuses_the_same_strings(os_lib, bad):
    with pytest.raises(Exception):  # pyspiel.SpielError, or a TypeError of the binding
        os_lib.pyspiel.load_game(NAME, {"size": 5, "horizon": 3, **bad}).new_initial_state()


def test_accepted_spellings_are_openspiels(os_lib):
    """Whitespace, signs, exponents and hex floats read as the C++ reads them; values are
    C++ floats (0.1 is float32's 0.1)."""
    params = dict(size=5, horizon=3, forbidden_states=" [ +1| 1 ;0|4] ",
                  initial_distribution="[2|2;3|1]", initial_distribution_value="[0x1p-1; 5e-1]",
                  positional_reward="[1|3]", positional_reward_value="[0.1]")
    os_game = os_lib.pyspiel.load_game(NAME, params)
    nc = os_lib.nash_conv.NashConv(os_game, os_lib.policy.UniformRandomPolicy(os_game))
    game = crowd_modelling_2d(**params)
    assert float(exploitability(game, uniform_policy(**params))) == pytest.approx(
        nc.nash_conv(), abs=PARITY, rel=0)
    assert parse_parameters(**params).positional[0][2] == float(np.float32(0.1)) != 0.1


def test_float32_values_that_do_not_sum_to_one_are_normalised(os_lib):
    """OpenSpiel keeps float32(0.1), float32(0.2), float32(0.7) as they are: a population of
    mass m = 1 − 7.5e-9, whose every start counts m times less; mfcheck normalises. The
    crowd term's shift −log m is the same for the best response and the policy wherever
    μ > 0, so OpenSpiel's NashConv is m times mfcheck's (measured: to 5e-14; the plain gap
    is 1.2e-8, docs/games.md#crowd_modelling_2d)."""
    params = dict(size=5, horizon=4, initial_distribution="[1|1;2|3;4|0]",
                  initial_distribution_value="[0.1;0.2;0.7]")
    mass = sum(float(np.float32(v)) for v in (0.1, 0.2, 0.7))
    assert 0 < abs(mass - 1) < 1e-7
    os_game = os_lib.pyspiel.load_game(NAME, params)
    uniform = os_lib.policy.UniformRandomPolicy(os_game)
    expected = os_lib.nash_conv.NashConv(os_game, uniform).nash_conv()
    game = crowd_modelling_2d(**params)
    assert float(game.mu0.sum()) == pytest.approx(1.0, abs=1e-15)
    measured = float(exploitability(game, uniform_policy(**params)))
    assert abs(measured - expected) > 1e-9  # the normalisation shows at this precision
    assert mass * measured == pytest.approx(expected, abs=PARITY, rel=0)


# -- structure -----------------------------------------------------------------------------

def test_transition_is_a_static_five_point_stencil():
    params = CASES["wall-congestion-aversion"]
    game = crowd_modelling_2d(**params)
    S = params["size"] ** 2
    stencil = game._transition(0, game.mu0[:, None].expand(-1, 5) / 5)
    assert isinstance(stencil, Stencil)
    assert stencil.next_states.shape == (S, 5, 5) and stencil.probs.shape == (S, 5, 5)
    assert not game.transition_depends_on_time and not game.transition_depends_on_population
    assert game.batched
    # Nobody enters a forbidden cell from an open one.
    forbidden = list(parse_parameters(**params).forbidden)
    open_cells = [s for s in range(S) if s not in forbidden]
    P = stencil.dense(S)
    assert forbidden and float(P[open_cells][..., forbidden].sum()) == 0.0


@pytest.mark.parametrize("convention", ["openspiel", "exact"])
def test_reward_broadcasts_over_a_batch_of_populations(convention):
    params = CASES["wall-congestion-aversion"]
    game = crowd_modelling_2d(convention=convention, **params)
    g = torch.Generator().manual_seed(1)
    L = torch.rand(2, 3, game.n_states, 5, generator=g, dtype=torch.float64)
    L = L / L.sum((-2, -1), keepdim=True)
    for t in (0, 2, params["horizon"] - 1):
        batched = game.reward(t, L)
        assert batched.shape == L.shape
        for i in range(2):
            for j in range(3):
                assert torch.equal(batched[i, j], game.reward(t, L[i, j]))


def dense_twin(game: FiniteMFG) -> FiniteMFG:
    """The same game with the stencil's dense form (`Stencil.dense`) as its transition."""
    P = game.transition(0, game.mu0[:, None].expand(-1, game.n_actions) / game.n_actions)
    return FiniteMFG(game.mu0, game.reward, lambda t, L: P, n_actions=game.n_actions,
                     horizon=game.horizon, name=f"{game.name} [dense]", batched=True,
                     transition_depends_on_time=False, transition_depends_on_population=False)


@st.composite
def small_games(draw):
    size = draw(st.integers(2, 4))
    S = size * size
    forbidden = draw(st.lists(st.integers(0, S - 1), max_size=S - 1, unique=True))
    # OpenSpiel refuses a start whose pair names a forbidden cell, and the pair is swapped:
    # keep cells open both ways.
    transpose = [(s % size) * size + s // size for s in range(S)]
    open_cells = [s for s in range(S) if s not in forbidden and transpose[s] not in forbidden]
    assume(open_cells)
    starts = draw(st.lists(st.sampled_from(open_cells), min_size=1, max_size=3, unique=True))
    # Pair "a|b" lands on cell (b, a): name the open cell (x, y) as "y|x".
    initial = ";".join(f"{s % size}|{s // size}" for s in starts)
    values = {1: "1.0", 2: "0.5;0.5", 3: "0.5;0.25;0.25"}[len(starts)]
    params = dict(size=size, horizon=draw(st.integers(1, 4)),
                  forbidden_states="[" + ";".join(f"{s // size}|{s % size}"
                                                  for s in forbidden) + "]",
                  initial_distribution=f"[{initial}]", initial_distribution_value=f"[{values}]",
                  noise_intensity=draw(st.sampled_from([0.0, 0.4, 1.0, 1.25])),
                  with_congestion=draw(st.booleans()),
                  only_distribution_reward=draw(st.booleans()),
                  crowd_aversion_coef=draw(st.sampled_from([0.0, 0.5, 1.0])))
    return params, draw(st.sampled_from(["openspiel", "exact"])), draw(st.integers(0, 2**31 - 1))


@settings(max_examples=30)
@given(small_games())
def test_stencil_and_dense_forms_give_the_same_kernel_results(drawn):
    params, convention, seed = drawn
    stencil_game = crowd_modelling_2d(convention=convention, **params)
    dense_game = dense_twin(stencil_game)
    g = torch.Generator().manual_seed(seed)
    policy = torch.rand(2, *stencil_game.policy_shape, generator=g, dtype=torch.float64)
    policy = policy / policy.sum(-1, keepdim=True)
    flows = [distribution(game, policy) for game in (stencil_game, dense_game)]
    torch.testing.assert_close(flows[0].L, flows[1].L, rtol=0, atol=1e-14)
    for temperature in (0.0, 0.5):
        a, b = (best_response(game, flow, temperature)
                for game, flow in zip((stencil_game, dense_game), flows))
        torch.testing.assert_close(a.v, b.v, rtol=1e-12, atol=1e-12)
        a, b = (policy_value(game, policy, flow, temperature)
                for game, flow in zip((stencil_game, dense_game), flows))
        torch.testing.assert_close(a.q, b.q, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(exploitability(stencil_game, policy),
                               exploitability(dense_game, policy), rtol=1e-12, atol=1e-12)


def test_builds_a_512_grid_as_a_stencil():
    """262,144 cells: S·A·K = 6.6·10⁶ stencil entries, where a dense P would be 3.4·10¹¹."""
    game = crowd_modelling_2d(size=512, horizon=3)
    assert game.n_states == 512 ** 2
    policy = torch.full((3, game.n_states, 5), 0.2, dtype=torch.float64)
    flow = distribution(game, policy)
    torch.testing.assert_close(flow.mu.sum(-1), torch.ones(3, dtype=torch.float64))


def test_runs_on_every_device(device):
    params = CASES["wall-congestion-aversion"]
    game = crowd_modelling_2d(device=device, **params)
    assert game.mu0.device.type == device.type
    policy = random_legal_policy(params, seed=3)
    on_device = exploitability(game, policy.to(device))
    assert on_device.device.type == device.type
    on_cpu = exploitability(crowd_modelling_2d(**params), policy)
    assert float(on_device) == pytest.approx(float(on_cpu), abs=1e-12, rel=0)
