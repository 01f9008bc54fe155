"""The stationary flow (`mfcheck.kernels.flow.stationary_distribution`) on chains whose
answer is known in closed form: reducible, periodic, nearly decomposable, and transitions
that depend on L (where the frozen-chain iteration converges, and where it cycles and the
lazy iteration takes over)."""

from __future__ import annotations

import pytest
import torch

import mfcheck.kernels.flow as flow
from mfcheck.errors import MFCheckError
from mfcheck.game import FiniteMFG
from mfcheck.games import queueing, resource_selection

F64 = torch.float64


def fixed_chain_game(chain, mu0) -> FiniteMFG:
    """One action; the state moves by ``chain`` whatever the population does."""
    K = torch.tensor(chain, dtype=F64)
    S = K.shape[0]
    return FiniteMFG(torch.tensor(mu0, dtype=F64), lambda t, L: L.new_zeros(*L.shape[:-2], S, 1),
                     lambda t, L: K[:, None, :].expand(*L.shape[:-2], S, 1, S), n_actions=1,
                     horizon=None, discount=0.5, batched=True)


def one_action(game: FiniteMFG) -> torch.Tensor:
    return torch.ones(game.n_states, 1, dtype=F64)


def count_fallbacks(monkeypatch) -> list:
    """Record every call of the lazy iteration (the fallback) in the returned list."""
    calls, original = [], flow.lazy_iteration
    monkeypatch.setattr(flow, "lazy_iteration", lambda *args: calls.append(args) or original(*args))
    return calls


def test_reducible_chain_keeps_the_mass_that_mu0_sends_to_each_closed_class():
    """State 0 is transient: it stays w.p. 1/2, else is absorbed by 1 (0.3) or 2 (0.2).
    From μ0 = (0.5, 0.25, 0.25) the limit is (0, 0.25 + 0.5·0.6, 0.25 + 0.5·0.4)."""
    game = fixed_chain_game([[0.5, 0.3, 0.2], [0, 1, 0], [0, 0, 1]], [0.5, 0.25, 0.25])
    mu = flow.stationary_distribution(game, one_action(game)).mu
    torch.testing.assert_close(mu, torch.tensor([0.0, 0.55, 0.45], dtype=F64), atol=1e-14,
                               rtol=0)


def test_staying_put_is_stationary_wherever_the_population_starts():
    """Resource selection, 'stay where you are': every state is closed, μ = μ0."""
    mu0 = [0.6, 0.3, 0.1]
    game = resource_selection([1, 1.5, 2], [1, 1, 1], switching_cost=0.2, mu0=mu0)
    mu = flow.stationary_distribution(game, torch.eye(3, dtype=F64)).mu
    torch.testing.assert_close(mu, torch.tensor(mu0, dtype=F64), atol=1e-15, rtol=0)


def test_periodic_chain_gets_its_stationary_law_not_an_oscillation():
    game = fixed_chain_game([[0, 1, 0], [0, 0, 1], [1, 0, 0]], [1, 0, 0])
    mu = flow.stationary_distribution(game, one_action(game)).mu
    torch.testing.assert_close(mu, torch.full((3,), 1 / 3, dtype=F64), atol=1e-14, rtol=0)


def test_nearly_decomposable_chain_is_solved_where_one_step_at_a_time_gives_up():
    """Leave state 0 w.p. ε, state 1 w.p. δ: μ = (δ, ε)/(ε + δ). The lazy iteration would
    need ~30/(ε + δ) = 7.5e7 steps (it raises after 2e5, in ~9 s); squaring ~27 products.
    Rows that sum to 1 + 1e-12 (within the game's tolerance) are read as distributions:
    unscaled, 27 squarings would grow the mass by e^(2^27·1e-12/2) − 1 ≈ 7e-5."""
    eps, delta = 1e-7, 3e-7
    exact = torch.tensor([delta, eps], dtype=F64) / (eps + delta)
    for excess in (0.0, 1e-12):
        game = fixed_chain_game([[1 - eps + excess, eps], [delta, 1 - delta + excess]],
                                [1.0, 0.0])
        mu = flow.stationary_distribution(game, one_action(game)).mu
        torch.testing.assert_close(mu, exact, atol=1e-12, rtol=0)


def test_a_lazy_chain_that_does_not_settle_raises(monkeypatch):
    """Too few squarings for the chain above: a clear error, not a wrong answer."""
    monkeypatch.setattr(flow, "LAZY_MAX_SQUARINGS", 10)
    game = fixed_chain_game([[1 - 1e-7, 1e-7], [3e-7, 1 - 3e-7]], [1.0, 0.0])
    with pytest.raises(MFCheckError, match="did not settle"):
        flow.stationary_distribution(game, one_action(game))


def test_transitions_that_depend_on_L_reach_the_lazy_iterations_fixed_point(monkeypatch):
    """Queues served at load-dependent rates: the frozen-chain iteration converges (no
    fallback) to the lazy iteration's answer, for a batch of policies."""
    game = queueing([1, 1.5, 0.5], [2, 1, 4], [0.5, 0.8, 0.3], slowdown=[1, 3, 0.5],
                    arrival=0.3)
    policies = torch.softmax(torch.randn(4, 4, 3, dtype=F64,
                                         generator=torch.Generator().manual_seed(0)), -1)
    calls = count_fallbacks(monkeypatch)
    fast = flow.stationary_distribution(game, policies)
    assert not calls
    slow = flow.lazy_iteration(game, policies)
    torch.testing.assert_close(fast.mu, slow.mu, atol=1e-11, rtol=0)
    step = torch.einsum("...sa,...sap->...p", fast.L, game.transition(0, fast.L))
    torch.testing.assert_close(step, fast.mu, atol=1e-12, rtol=0)


def test_where_the_frozen_chain_iteration_cycles_the_lazy_iteration_takes_over(monkeypatch):
    """Everyone goes to state 0 w.p. q = σ(−8(μ0 − 1/2)): the frozen chain's limit is
    (q, 1 − q) at once, so that iteration is μ0 ↦ q(μ0), slope −2 at the fixed point 1/2
    (it cycles); the lazy map (μ0 + q(μ0))/2 has slope −1/2 and converges to 1/2."""
    def transition(t, L):
        q = torch.sigmoid(-8.0 * (L[..., 0, :].sum(-1) - 0.5))
        row = torch.stack([q, 1 - q], -1)
        return row[..., None, None, :].expand(*L.shape[:-2], 2, 1, 2)

    game = FiniteMFG(torch.tensor([0.9, 0.1], dtype=F64),
                     lambda t, L: L.new_zeros(*L.shape[:-2], 2, 1), transition, n_actions=1,
                     horizon=None, discount=0.5, batched=True)
    calls = count_fallbacks(monkeypatch)
    mu = flow.stationary_distribution(game, one_action(game)).mu
    assert len(calls) == 1
    torch.testing.assert_close(mu, torch.tensor([0.5, 0.5], dtype=F64), atol=1e-12, rtol=0)
