"""The mean-field operators (mfcheck.operators) and the ``contraction`` suite that checks them.

The operators against explicit sums and closed forms; the bounds of docs/operators.md
against brute force; the suite's checks pass on the reference operators and catch each
broken variant below (passed in through the check functions' ``operator=`` parameter).
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mfcheck import operators as ops
from mfcheck import strategies, tmf
from mfcheck.check import HARNESS, Budget, Context
from mfcheck.errors import InvalidGameError, UsageError
from mfcheck.games.congestion import two_route
from mfcheck.games.random_game import random_game
from mfcheck.games.resource_selection import resource_selection
from mfcheck.registry import get_suite
from mfcheck.suites import contraction

F64 = torch.float64


def _context(device) -> Context:
    return Context(seed=0, budget=Budget.QUICK, device=torch.device(device))


# -- the Boltzmann expectation ------------------------------------------------------------------

def test_boltzmann_gradient_is_the_autograd_gradient_and_sums_to_one():
    g = torch.Generator().manual_seed(0)
    q = (torch.randn(50, 6, generator=g, dtype=F64) * 3).requires_grad_()
    tau = torch.rand(50, generator=g, dtype=F64) + 0.1
    ops.boltzmann_value(q, tau).sum().backward()
    formula = ops.boltzmann_value_gradient(q.detach(), tau)
    assert torch.allclose(formula, q.grad, rtol=0, atol=1e-13)
    assert torch.allclose(formula.sum(-1), torch.ones(50, dtype=F64), rtol=0, atol=1e-13)


@pytest.mark.parametrize("actions", [2, 3, 8, 40])
def test_lipschitz_bound_holds_for_any_row(actions):
    g = torch.Generator().manual_seed(actions)
    q = torch.rand(20000, actions, generator=g, dtype=F64) * torch.rand(20000, 1, generator=g,
                                                                         dtype=F64) * 12
    u = q.amax(-1) - q.amin(-1)
    gradient_norm = ops.boltzmann_value_gradient(q, 1.0).abs().sum(-1)
    assert (gradient_norm <= ops.boltzmann_lipschitz(u) + 1e-12).all()


@pytest.mark.parametrize("u", [1.5, 4.0, 10.0])
def test_lipschitz_bound_is_approached_by_two_level_rows(u):
    # n_low actions at 0 and one at u·τ, with softmax mass (u − 1)/(2u) on the low ones
    # (the maximiser of the proof in docs/operators.md): ‖∇m‖₁ → L(u) as n_low grows.
    p = (u - 1) / (2 * u)
    n_low = round(p * math.exp(u) / (1 - p))
    q = torch.tensor([0.0] * n_low + [u], dtype=F64)
    gradient_norm = float(ops.boltzmann_value_gradient(q, 1.0).abs().sum())
    assert 0.99 * ops.boltzmann_lipschitz(u) <= gradient_norm <= ops.boltzmann_lipschitz(u)


def test_two_action_expansion_peaks_at_the_constructed_gap():
    d = torch.linspace(0.5, 6.0, 55001, dtype=F64)
    factor = 1 + 2 * torch.sigmoid(-d) * (d * torch.sigmoid(d) - 1).clamp(min=0)
    assert abs(float(d[factor.argmax()]) - contraction.EXPANDING_GAP) < 1e-3
    assert abs(float(factor.max()) - 1.19968) < 1e-5


# -- H_MF -------------------------------------------------------------------------------------

def _explicit_operator(model: ops.MeanFieldModel, q: torch.Tensor, tau: float) -> torch.Tensor:
    """Eq. 13 written out as loops, for comparison."""
    S, K, A = model.shape
    out = torch.empty_like(q)
    for s in range(S):
        for k in range(K):
            for a in range(A):
                future = 0.0
                for t in range(S):
                    for j in range(K):
                        row = q[t, j]
                        pi = torch.exp(row / tau) / torch.exp(row / tau).sum()
                        weight = model.transition[s, k, a, t] * model.mean_field[t, j]
                        future += weight * (pi * row).sum()
                out[s, k, a] = model.reward[s, k, a] + model.discount * future
    return out


@settings(max_examples=30)
@given(st.data())
def test_operator_is_equation_13(data):
    model = data.draw(strategies.mean_field_models())
    q = data.draw(strategies.q_tables(model, bound=3.0))
    tau = data.draw(st.floats(0.2, 5.0))
    assert torch.allclose(ops.mean_field_q_operator(model, q, tau),
                          _explicit_operator(model, q, tau), rtol=0, atol=1e-12)


def test_operator_is_batched_over_tables_and_temperatures(device):
    g = torch.Generator().manual_seed(1)
    model = ops.MeanFieldModel.from_arrays(
        torch.randn(3, 2, 4, generator=g, dtype=F64),
        torch.softmax(torch.randn(3, 2, 4, 3, generator=g, dtype=F64), -1),
        torch.softmax(torch.randn(3, 2, generator=g, dtype=F64), -1), 0.9, device=device)
    q = torch.randn(5, 3, 2, 4, generator=g, dtype=F64).to(device)
    tau = torch.tensor([0.1, 0.5, 1.0, 2.0, 7.0], dtype=F64, device=device)
    batched = ops.mean_field_q_operator(model, q, tau)
    assert batched.device == q.device and batched.dtype == F64
    for i in range(5):
        assert torch.allclose(batched[i], ops.mean_field_q_operator(model, q[i], float(tau[i])),
                              rtol=0, atol=1e-13)
    # H(Q + c) = H Q + γc: the Boltzmann expectation moves with a constant.
    assert torch.allclose(ops.mean_field_q_operator(model, q + 2.5, tau), batched + 0.9 * 2.5,
                          rtol=0, atol=1e-12)


def test_ising_stage_game_without_coupling_has_the_closed_form_fixed_point():
    # s = own last spin, a = next spin, r = h·a (c = 0), s' = a:
    # Q*(s, a) = h a + γ h tanh(h/τ)/(1 − γ), since m_τ((−h, h)) = h tanh(h/τ).
    # τ = 0.5, γ = 0.9 is outside the proven region: the stop uses the observed rate.
    h, gamma, tau = 1.0, 0.9, 0.5
    model = ops.MeanFieldModel.from_arrays([[[-h, h]], [[-h, h]]],
                                           [[[[1.0, 0.0], [0.0, 1.0]]]] * 2, [[1.0], [1.0]], gamma)
    fp = ops.mean_field_q_fixed_point(model, tau)
    v = gamma * h * math.tanh(h / tau) / (1 - gamma)
    assert not fp.proven
    assert torch.allclose(fp.value, torch.tensor([[[-h + v, h + v]]] * 2, dtype=F64), rtol=0,
                          atol=1e-10)


def test_fixed_point_uses_a_proven_modulus_when_it_has_one():
    model = ops.MeanFieldModel.from_arrays([[[0.0, 0.5]]], [[[[1.0], [1.0]]]], [[1.0]], 0.8)
    fp = ops.mean_field_q_fixed_point(model, 1.0)
    assert fp.proven and fp.modulus == 0.8 and fp.error_bound <= 1e-12 * 3


def test_fixed_point_says_when_it_does_not_converge():
    with pytest.raises(InvalidGameError, match="did not converge in 50 iterations"):
        ops.fixed_point(lambda x: -2 * x, torch.ones(2, dtype=F64), max_iterations=50)
    with pytest.raises(UsageError, match="modulus must be a contraction modulus"):
        ops.fixed_point(lambda x: x, torch.ones(2, dtype=F64), modulus=1.0)


@pytest.mark.parametrize("change, message", [
    (dict(transition=torch.full((1, 1, 2, 1), 0.5, dtype=F64)),
     r"transition\[0, 0, 0\] sums to 0.5"),
    (dict(mean_field=torch.ones(1, 2, dtype=F64)), "mean_field must have shape"),
    (dict(discount=1.0), r"discount must be in \[0, 1\)"),
    (dict(reward=torch.tensor([[[0.0, math.nan]]], dtype=F64)), "is not finite"),
])
def test_bad_models_are_named_errors(change, message):
    good = dict(reward=torch.zeros(1, 1, 2, dtype=F64),
                transition=torch.ones(1, 1, 2, 1, dtype=F64),
                mean_field=torch.ones(1, 1, dtype=F64), discount=0.5)
    with pytest.raises(InvalidGameError, match=message):
        ops.MeanFieldModel(**{**good, **change})


def test_bad_arguments_are_usage_errors():
    model = ops.MeanFieldModel.from_arrays([[[0.0, 1.0]]], [[[[1.0], [1.0]]]], [[1.0]], 0.5)
    with pytest.raises(UsageError, match=r"expected \(\.\.\., S, K, A\) = \(\.\.\., 1, 1, 2\)"):
        ops.mean_field_q_operator(model, torch.zeros(1, 2, 2, dtype=F64), 1.0)
    with pytest.raises(UsageError, match="temperature must be positive"):
        ops.mean_field_q_operator(model, torch.zeros(1, 1, 2, dtype=F64), 0.0)


# -- B ----------------------------------------------------------------------------------------

def test_ising_population_game_is_the_weiss_equation(device):
    J, h, tau = 1.3, 0.2, 0.9
    game = ops.ising_population_game(J, h, device=device)
    m = torch.linspace(-1, 1, 11, dtype=F64, device=device)
    a = torch.stack([(1 - m) / 2, (1 + m) / 2], -1)
    b = ops.boltzmann_mean_action(game, a, tau)
    assert torch.allclose(b[:, 1] - b[:, 0], torch.tanh((h + J * m) / tau), rtol=0, atol=1e-14)
    assert game.interaction_strength() == pytest.approx(J, abs=1e-15)


@settings(max_examples=50)
@given(strategies.population_games())
def test_interaction_strength_is_below_propositions_lipschitz_constant(game):
    # Prop. 1's K: |Q(a, ā) − Q(a, ā')| ≤ K ‖ā − ā'‖₁, i.e. max_{a,i,j} |W_ai − W_aj| / 2.
    W = game.interaction
    k_prop = float((W[:, :, None] - W[:, None, :]).abs().max()) / 2
    assert game.interaction_strength() <= k_prop + 1e-15


# -- the contraction suite --------------------------------------------------------------------

def test_suite_is_registered_and_runs_on_the_harness():
    suite = get_suite("contraction")
    cases = suite.cases([], ["cpu"])
    assert {c.check for c in cases} == {"mean-field-q-operator", "boltzmann-mean-action-map",
                                        "logit-route-map", "best-response-route",
                                        "stationary-best-response-map",
                                        "tmf-population-recursion"}
    assert all(c.solver == HARNESS for c in cases)


def test_reference_operators_pass(device):
    ctx = _context(device)
    for outcome in (contraction.check_mean_field_q_operator(contraction.Q_FAMILY, ctx),
                    contraction.check_boltzmann_mean_action_map(contraction.B_FAMILY, ctx)):
        assert outcome.passed, outcome.message
        assert "a counter-example to the plain contraction" in outcome.message


def _through_row_values(values):
    """H_MF whose row value m_τ(Q(s', ā', ·)) is replaced by ``values(q, τ)``: a table of
    constant rows with those values has exactly them as Boltzmann values."""
    def operator(model, q, tau):
        return ops.mean_field_q_operator(model, values(q, tau)[..., None].expand_as(q), tau)
    return operator


def _identity_transition(model):
    S, K, A = model.shape
    return torch.eye(S, dtype=F64, device=model.device)[:, None, None, :].expand(S, K, A, S)


BROKEN_Q_OPERATORS = {
    "hard max instead of the Boltzmann expectation": _through_row_values(lambda q, tau: q.amax(-1)),
    "Boltzmann sign flipped (softmax(-Q/τ))":
        _through_row_values(lambda q, tau: -ops.boltzmann_value(-q, tau)),
    "γ applied twice": lambda model, q, tau: ops.mean_field_q_operator(
        replace(model, discount=model.discount ** 2), q, tau),
    "ignores the mean field (uniform over ā')": lambda model, q, tau: ops.mean_field_q_operator(
        replace(model, mean_field=torch.full_like(model.mean_field, 1 / model.shape[1])), q, tau),
    "bootstraps from the current state, not s'": lambda model, q, tau: ops.mean_field_q_operator(
        replace(model, transition=_identity_transition(model)), q, tau),
}


@pytest.mark.parametrize("name", list(BROKEN_Q_OPERATORS))
def test_broken_q_operator_is_caught(name):
    outcome = contraction.check_mean_field_q_operator(contraction.Q_FAMILY, _context("cpu"),
                                                      operator=BROKEN_Q_OPERATORS[name])
    assert not outcome.passed
    assert "FAILED" in outcome.message


BROKEN_MEAN_ACTION_MAPS = {
    "Boltzmann sign flipped": lambda game, a, tau: ops.boltzmann_policy(-game.payoff(a), tau),
    "hard max (best response)": lambda game, a, tau: ops.best_response_mean_action(game, a),
    "ignores ā": lambda game, a, tau: ops.boltzmann_mean_action(
        game, torch.full_like(a, 1 / game.n_actions), tau),
    "temperature squared": lambda game, a, tau: ops.boltzmann_mean_action(game, a, tau ** 2),
}


@pytest.mark.parametrize("name", list(BROKEN_MEAN_ACTION_MAPS))
def test_broken_mean_action_map_is_caught(name):
    outcome = contraction.check_boltzmann_mean_action_map(
        contraction.B_FAMILY, _context("cpu"), mean_action_map=BROKEN_MEAN_ACTION_MAPS[name])
    assert not outcome.passed
    assert "FAILED" in outcome.message


# -- issue 5: the logit route map, best response, Ψ_τ and the TMF recursion --------------------

@settings(max_examples=40)
@given(strategies.monotone_costs())
def test_congestion_game_is_the_logit_response_with_the_two_steepest_slopes(costs):
    a, b = costs
    game = ops.congestion_population_game(a, b)
    m = torch.full((len(a),), 1 / len(a), dtype=F64)
    cost = torch.tensor(a, dtype=F64) + torch.tensor(b, dtype=F64) * m
    assert torch.allclose(ops.boltzmann_mean_action(game, m, 0.7), torch.softmax(-cost / 0.7, -1),
                          rtol=0, atol=1e-15)
    top_two = sorted(b)[-2:]
    assert game.interaction_strength() == pytest.approx(sum(top_two) / 4, abs=1e-15)


def test_dobrushin_coefficient_and_policy_kernel_of_resource_selection():
    # s' = a: the kernel of a table on resource selection is the table itself.
    game = resource_selection((0.0, 1.0, 2.0), (1.0, 1.0, 1.0), discount=0.5)
    table = torch.tensor([[0.5, 0.5, 0.0], [0.0, 0.5, 0.5], [0.2, 0.2, 0.6]], dtype=F64)
    assert torch.equal(ops.policy_kernel(game, table), table)
    # rows 0 and 2 differ most: ½(0.3 + 0.3 + 0.6)
    assert ops.dobrushin_coefficient(table) == pytest.approx(0.6, abs=1e-15)
    assert ops.dobrushin_coefficient(torch.eye(3, dtype=F64)) == 1.0
    assert ops.epoch_modulus(0.5, 0.5) == pytest.approx(0.75 ** 2, abs=1e-15)


def test_kernel_and_best_response_map_refuse_games_they_do_not_fit():
    general = random_game(3, 2, horizon=None, discount=0.5, coupling=1.0, seed=3)
    with pytest.raises(UsageError, match="transitions depend on L"):
        ops.policy_kernel(general, general.uniform_policy())
    with pytest.raises(UsageError, match="finite horizon"):
        ops.stationary_best_response_map(two_route(1, 1, 1.5, 0.5), torch.ones(1, 2) / 2, 1.0)
    game = resource_selection((0.0, 1.0), (1.0, 1.0))
    with pytest.raises(UsageError, match="temperature must be positive"):
        ops.stationary_best_response_map(game, torch.full((2, 2), 0.25, dtype=F64), 0.0)


def test_new_reference_checks_pass_and_write_their_plots(tmp_path, device):
    ctx = replace(_context(device), report_dir=tmp_path)
    for check, family in ((contraction.check_logit_route_map, contraction.ROUTE_FAMILY),
                          (contraction.check_best_response_route, contraction.ROUTE_FAMILY),
                          (contraction.check_stationary_best_response_map,
                           contraction.FLOW_FAMILY),
                          (contraction.check_tmf_population_recursion, contraction.TMF_FAMILY)):
        outcome = check(family, ctx)
        assert outcome.passed, outcome.message
        assert all(Path(p).stat().st_size > 0 for p in outcome.artifacts)
    assert {p.name for p in tmp_path.glob("*.png")} == {
        "contraction-logit-route-map.png", "contraction-tmf-population-recursion.png"}


def _idle_counted_twice(game, policy, mu, fraction):
    """Idle agents' mass entered twice and renormalised: (2(1 − κ)μ + κΦ)/(2 − κ)."""
    return (2 * (1 - fraction) * mu + fraction * tmf.population_map(game, policy, mu)) / (2 - fraction)


BROKEN = {
    "logit map with τ² for τ": (contraction.check_logit_route_map, contraction.ROUTE_FAMILY,
                                dict(mean_action_map=lambda game, m, tau:
                                     ops.boltzmann_mean_action(game, m, tau ** 2))),
    "best response that averages with the current split": (
        contraction.check_best_response_route, contraction.ROUTE_FAMILY,
        dict(best_response=lambda game, m: (m + ops.best_response_mean_action(game, m)) / 2)),
    "Ψ_τ at 2τ": (contraction.check_stationary_best_response_map, contraction.FLOW_FAMILY,
                  dict(flow_map=lambda game, L, tau: ops.stationary_best_response_map(game, L,
                                                                                      2 * tau))),
    "T_κ counts idle agents twice": (contraction.check_tmf_population_recursion,
                                     contraction.TMF_FAMILY, dict(step=_idle_counted_twice)),
    "T_κ moves idle agents (Φ whatever κ)": (
        contraction.check_tmf_population_recursion, contraction.TMF_FAMILY,
        dict(step=lambda game, policy, mu, fraction: tmf.population_map(game, policy, mu))),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_broken_issue5_operator_is_caught(name):
    check, family, broken = BROKEN[name]
    outcome = check(family, _context("cpu"), **broken)
    assert not outcome.passed
    assert "FAILED" in outcome.message
