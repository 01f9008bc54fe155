"""Structured transitions: stencils and independence declarations (mfcheck/transition.py).

The kernels must give the same results on the dense and stencil forms of one game, and on a
game whether or not it declares its transition independent of time and population. "The
same" is to rounding: the two forms sum the same products in different orders, so values
may differ by a few ulps of their magnitude (``RTOL``), never more.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import mfcheck
from mfcheck.errors import InvalidGameError, MFCheckError
from mfcheck.game import FiniteMFG
from mfcheck.games import crowd_modelling, dense_form, stencil_form
from mfcheck.strategies import mean_fields, policies, random_games
from mfcheck.transition import DENSE_LIMIT, Stencil

#: A few ulps of float64, relative to each value's magnitude (and of 1 near zero).
RTOL = ATOL = 1e-12
FAST = settings(max_examples=40, deadline=None)


def assert_same(a: torch.Tensor, b: torch.Tensor) -> None:
    torch.testing.assert_close(a, b, rtol=RTOL, atol=ATOL)


def batch_of(data, game: FiniteMFG, size: int) -> torch.Tensor:
    return torch.stack([data.draw(policies(game)) for _ in range(size)])


@FAST
@given(st.data())
def test_kernels_agree_on_the_dense_and_stencil_forms_finite_horizon(data):
    game = data.draw(random_games(max_states=5))
    sparse = stencil_form(game)
    policy = batch_of(data, game, data.draw(st.integers(1, 3)))
    tau = data.draw(st.sampled_from([0.0, 0.4]))
    flow, flow_s = mfcheck.distribution(game, policy), mfcheck.distribution(sparse, policy)
    assert_same(flow.mu, flow_s.mu)
    br, br_s = mfcheck.best_response(game, flow, tau), mfcheck.best_response(sparse, flow, tau)
    assert_same(br.v, br_s.v)
    assert_same(br.q, br_s.q)
    assert_same(mfcheck.policy_value(game, policy, flow, tau).v,
                mfcheck.policy_value(sparse, policy, flow, tau).v)
    assert_same(mfcheck.exploitability(game, policy, tau),
                mfcheck.exploitability(sparse, policy, tau))


@FAST
@given(st.data())
def test_kernels_agree_on_the_dense_and_stencil_forms_stationary(data):
    game = data.draw(random_games(max_states=4, stationary=True))
    sparse = stencil_form(game)
    policy = data.draw(policies(game))
    flow = data.draw(mean_fields(game))
    tau = data.draw(st.sampled_from([0.0, 0.4]))
    br, br_s = mfcheck.best_response(game, flow, tau), mfcheck.best_response(sparse, flow, tau)
    assert_same(br.v, br_s.v)
    assert_same(mfcheck.policy_value(game, policy, flow, tau).v,
                mfcheck.policy_value(sparse, policy, flow, tau).v)
    assert_same(mfcheck.distribution(game, policy).mu, mfcheck.distribution(sparse, policy).mu)


@pytest.mark.parametrize("form", [dense_form, stencil_form], ids=["dense", "stencil"])
def test_a_static_declaration_changes_no_result(form):
    """crowd_modelling declares its transition independent of time and population; the
    same game without the declarations evaluates it at every epoch and population."""
    game = form(crowd_modelling(size=7, horizon=5))
    undeclared = game.replace(transition_depends_on_time=True,
                              transition_depends_on_population=True)
    policy = torch.softmax(torch.randn(4, *game.policy_shape, dtype=game.dtype,
                                       generator=torch.Generator().manual_seed(1)), -1)
    assert_same(mfcheck.exploitability(game, policy), mfcheck.exploitability(undeclared, policy))
    assert game.transition_operator(3, torch.rand(2, 7, 3, dtype=game.dtype)).batch_shape == ()


def test_a_static_operator_is_built_at_construction_and_reused():
    calls = []
    base = crowd_modelling(size=5, horizon=6)

    def transition(t, L):
        calls.append(t)
        return base.transition(0, L[(0,) * (L.ndim - 2)])

    game = base.replace(transition=transition)
    calls.clear()
    mfcheck.exploitability(game, torch.stack([game.uniform_policy()] * 3))
    assert calls == []


def test_a_time_dependent_static_operator_is_built_once_per_epoch():
    calls = []
    game = random_game_with_time(calls)
    calls.clear()
    mfcheck.exploitability(game, game.uniform_policy())
    mfcheck.exploitability(game, game.uniform_policy())
    assert sorted(calls) == list(range(1, game.horizon - 1))  # epoch 0's was built with the game


def random_game_with_time(calls):
    base = mfcheck.games.random_game(4, 2, horizon=5, monotone=True, time_varying=True, seed=3)

    def transition(t, L):
        calls.append(t)
        return base.transition(t, L)

    return base.replace(transition=transition, transition_depends_on_population=False)


@pytest.mark.parametrize("on", ["time", "population"])
def test_a_false_declaration_is_refused(on):
    game = mfcheck.games.random_game(4, 2, horizon=5, monotone=False, time_varying=True, seed=3)
    with pytest.raises(InvalidGameError, match=f"transition_depends_on_{on}=False"):
        game.replace(**{f"transition_depends_on_{on}": False})


def _stencil_game(next_states, probs, n_states=3):
    return FiniteMFG(torch.full((n_states,), 1 / n_states, dtype=torch.float64),
                     lambda t, L: torch.zeros(n_states, 2),
                     lambda t, L: Stencil(next_states, probs), n_actions=2, horizon=2)


@pytest.mark.parametrize("next_states, probs, message", [
    (torch.tensor([[[0, 3]] * 2] * 3), torch.full((3, 2, 2), 0.5), r"next_states\[0, 0, 1\] = 3 is not a state"),
    (torch.zeros(3, 2, 2, dtype=torch.long), torch.tensor([[[1.5, -0.5]] * 2] * 3), "is negative"),
    (torch.zeros(3, 2, 2, dtype=torch.long), torch.full((3, 2, 2), 0.4), "sums to 0.8"),
    (torch.zeros(3, 2, 2), torch.full((3, 2, 2), 0.5), "must be an integer tensor"),
    (torch.zeros(3, 2, 2, dtype=torch.long), torch.full((3, 2, 3), 0.5), "probs has shape"),
])
def test_an_invalid_stencil_is_refused_with_what_is_wrong(next_states, probs, message):
    with pytest.raises(InvalidGameError, match=message):
        _stencil_game(next_states, probs)


def test_a_dense_form_too_large_to_build_is_refused_with_its_size():
    S = 2 ** 15  # S·A·S = 2^31 values > DENSE_LIMIT
    assert 2 * S * S > DENSE_LIMIT
    stencil = Stencil(torch.arange(S).reshape(S, 1, 1).expand(S, 2, 1), torch.ones(S, 2, 1,
                                                                                   dtype=torch.float64))
    game = FiniteMFG(torch.full((S,), 1 / S, dtype=torch.float64), lambda t, L: torch.zeros(S, 2),
                     lambda t, L: stencil, n_actions=2, horizon=3,
                     transition_depends_on_time=False, transition_depends_on_population=False)
    mfcheck.exploitability(game, game.uniform_policy())  # the kernels never densify
    with pytest.raises(MFCheckError, match="GiB"):
        game.transition(0, game.mu0[:, None] / 2 * torch.ones(2))


def test_from_dense_keeps_every_reached_state_of_a_batch():
    P = torch.rand(3, 4, 2, 5, dtype=torch.float64) * (torch.rand(3, 4, 2, 5) < 0.5)
    stencil = Stencil.from_dense(P)
    assert stencil.next_states.shape[-1] == int((P != 0).any(0).sum(-1).max())
    assert torch.equal(stencil.dense(5), P)


def test_a_false_epoch_batched_declaration_is_refused():
    """A reward that treats t as a number (here r·(t + 1), which broadcasts a tensor of epochs
    against the action axis when A = horizon) is caught at construction."""
    game = mfcheck.games.random_game(3, 4, horizon=4, seed=0)

    def reward(t, L):
        return game.reward(0, L) * (torch.as_tensor(t) + 1)

    with pytest.raises(InvalidGameError, match="epoch_batched=True"):
        game.replace(reward=reward, batched=True, epoch_batched=True)


def test_a_non_finite_reward_is_reported_with_its_epoch():
    base = mfcheck.games.random_game(3, 2, horizon=4, seed=0)

    def reward(t, L):
        r = base.reward(t, L)
        return r.index_put((torch.tensor(1), torch.tensor(0)), torch.tensor(float("nan"), dtype=r.dtype)) \
            if t == 2 and L.sum() < 0.99 else r  # valid at construction (L sums to 1 there)

    game = base.replace(reward=reward)
    flow = mfcheck.distribution(game, game.uniform_policy())
    with pytest.raises(InvalidGameError, match=r"reward\(t=2\)\[1, 0\] = nan"):
        game.rewards(flow.L * 0.5)


@FAST
@given(st.data())
def test_a_mixture_of_flows_is_the_mixed_policys_flow_without_population_in_the_transition(data):
    """What `FixedPoint` relies on to skip a forward pass (reference/fixed_point.py)."""
    from mfcheck.kernels import mix_policies
    from mfcheck.reference.fixed_point import _mixed_flow

    n_states = data.draw(st.integers(1, 5))
    game = mfcheck.games.random_game(n_states, data.draw(st.integers(1, 3)),
                                     horizon=data.draw(st.integers(1, 5)), monotone=True,
                                     branching=data.draw(st.integers(1, n_states)),
                                     time_varying=data.draw(st.booleans()),
                                     seed=data.draw(st.integers(0, 2**31 - 1)))
    game = game.replace(transition_depends_on_population=False)
    pi, beta = data.draw(policies(game)), data.draw(policies(game))
    alpha = data.draw(st.floats(0.01, 0.99))
    flow, beta_flow = mfcheck.distribution(game, pi), mfcheck.distribution(game, beta)
    mixed = mix_policies([pi, beta], [flow.mu, beta_flow.mu], [1 - alpha, alpha])
    expected = mfcheck.distribution(game, mixed)
    got = _mixed_flow(game, mixed, flow, beta_flow, alpha)
    assert_same(got.mu, expected.mu)
    assert_same(got.L, expected.L)


@FAST
@given(st.data())
def test_the_c_sweeps_agree_with_the_torch_sweeps(data):
    """On a static transition (either form) the kernels run each sweep as one C call
    (`mfcheck.kernels._native`); with it turned off, the torch loops give the same values."""
    from mfcheck.kernels import _native

    if _native.LIBRARY.load() is None:
        pytest.skip(f"no C sweeps: {_native.LIBRARY.reason()}")
    n_states = data.draw(st.integers(1, 5))
    game = mfcheck.games.random_game(n_states, data.draw(st.integers(1, 3)),
                                     horizon=data.draw(st.integers(1, 5)), monotone=True,
                                     branching=data.draw(st.integers(1, n_states)),
                                     seed=data.draw(st.integers(0, 2**31 - 1)))
    game = data.draw(st.sampled_from([dense_form, stencil_form]))(game).replace(
        transition_depends_on_time=False, transition_depends_on_population=False)
    policy = batch_of(data, game, data.draw(st.integers(1, 3)))
    tau = data.draw(st.sampled_from([0.0, 0.4]))

    def kernels():
        flow = mfcheck.distribution(game, policy)
        br = mfcheck.best_response(game, flow, tau)
        return (flow.mu, flow.L, br.v, br.q, br.policy,
                mfcheck.policy_value(game, policy, flow, tau).q,
                mfcheck.exploitability(game, policy, tau))

    assert _native.static_operator(game, policy) is not None
    in_c = kernels()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_native, "static_operator", lambda *args: None)
        in_torch = kernels()
    for a, b in zip(in_c, in_torch):
        assert_same(a, b)



@pytest.mark.parametrize("form", [dense_form, stencil_form], ids=["dense", "stencil"])
def test_both_forms_run_on_every_device(device, form):
    """On CUDA (no C sweeps there) the torch loops give the CPU's values, in either form,
    for a batch, with the static operator shared by the batch."""
    cpu = form(crowd_modelling(size=9, horizon=6))
    game = form(crowd_modelling(size=9, horizon=6, device=device))
    policy = torch.softmax(torch.randn(3, *cpu.policy_shape, dtype=cpu.dtype,
                                       generator=torch.Generator().manual_seed(2)), -1)
    value = mfcheck.exploitability(game, policy.to(device))
    assert value.device.type == device.type
    assert_same(value.cpu(), mfcheck.exploitability(cpu, policy))
    flow = mfcheck.distribution(game, policy.to(device))
    assert_same(mfcheck.best_response(game, flow).v.cpu(),
                mfcheck.best_response(cpu, mfcheck.distribution(cpu, policy)).v)
