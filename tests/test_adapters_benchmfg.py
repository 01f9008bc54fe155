"""The Bench-MFG adapter (`mfcheck.adapters.benchmfg`): its Lasry–Lions chain as a
stationary mfcheck game, checked against Bench-MFG's own exploitability.

Bench-MFG's exploitability is ⟨μ^π, V*_H − V^π_H⟩ (μ^π: fifty propagation steps; values
truncated at H − 1 backups). With the horizon set to 1000 (γ^999 ≈ 1e-46) and the same
μ^π, mfcheck's exact stationary kernels give the same number to float precision
(measured 1.6e-12 on 449, i.e. 4e-15 relative); 1e-12 relative leaves a 250× margin, and
a wrong transition or reward (e.g. noise applied to the wrong state) moves it by O(1).
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("benchmfg")
import benchmfg.envs.mfg_model_class as model_class  # noqa: E402

import mfcheck  # noqa: E402
from mfcheck.adapters.benchmfg import from_benchmfg, load_environment  # noqa: E402
from mfcheck.kernels import best_response, policy_value  # noqa: E402
from mfcheck.kernels.flow import Flow  # noqa: E402



def test_benchmfg_exploitability_equals_mfchecks_kernels_at_its_population(monkeypatch):
    # Bench-MFG's row builders fall back to a sequential map by design; use it here
    # (no process pool forked per evaluation inside a pytest worker).
    monkeypatch.setattr(model_class, "_map_rows_with_fallback",
                        lambda fn, args: [fn(a) for a in args])
    model, initial = load_environment("lasry_lions_chain")
    game = from_benchmfg(model)
    assert game.stationary and game.discount == model.gamma
    model.horizon = 1000
    policy = torch.tensor(initial, dtype=torch.float64)
    game.check_policy(policy)
    mu = torch.tensor(model.mean_field_by_transition_kernel(initial, 50))
    flow = Flow(mu=mu, L=mu[:, None] * policy)
    ours = float(mu @ (best_response(game, flow).v - policy_value(game, policy, flow).v))
    theirs = float(model.exploitability(initial))
    assert abs(ours - theirs) <= 1e-12 * abs(theirs), (ours, theirs)
    assert float(mfcheck.exploitability(game, policy)) >= 0


# -- mfcheck → Bench-MFG, and its solvers as planners ------------------------------------------
#
# `GameModel` re-computes Bench-MFG's four transition-reading routines on a dense kernel;
# on Bench-MFG's own Lasry–Lions chain (converted by from_benchmfg, back by to_benchmfg at
# the model's horizon) they must equal Bench-MFG's index-based ones: same sums in another
# order, measured ≤ 1e-13 on values ~10; 1e-10 absolute leaves a wide margin while an epoch
# off (H − 2 backups) moves V by γ^98·|r| ≈ 1e-4 and a transposed kernel by O(1).

from mfcheck.adapters.benchmfg import (ALGORITHMS, BenchMFGPlanner, default_horizon,  # noqa: E402
                                       population_beyond_mu, to_benchmfg)
from mfcheck.errors import InvalidGameError  # noqa: E402
from mfcheck.games import random_game, resource_selection  # noqa: E402
import importlib  # noqa: E402
import itertools  # noqa: E402
import threading  # noqa: E402

import numpy as np  # noqa: E402


def test_game_model_reproduces_benchmfgs_routines(monkeypatch):
    monkeypatch.setattr(model_class, "_map_rows_with_fallback",
                        lambda fn, args: [fn(a) for a in args])
    theirs, initial = load_environment("lasry_lions_chain")
    ours = to_benchmfg(from_benchmfg(theirs), horizon=theirs.horizon)
    rng = np.random.default_rng(0)
    policy = rng.dirichlet(np.ones(theirs.N_actions), theirs.N_states)
    mu = rng.dirichlet(np.ones(theirs.N_states))
    for model in (theirs, ours):
        model.update_stationary_mean_field(mu.copy())
    np.testing.assert_allclose(ours.mean_field_by_transition_kernel(policy, 7),
                               theirs.mean_field_by_transition_kernel(policy, 7), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.V_eval(policy, mu), theirs.V_eval(policy, mu), rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.Q_eval(policy, mu), theirs.Q_eval(policy, mu), rtol=0, atol=1e-10)
    (v_ours, pi_ours), (v_theirs, pi_theirs) = ours.Vpi_opt(mu), theirs.Vpi_opt(mu)
    np.testing.assert_allclose(v_ours, v_theirs, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(pi_ours, pi_theirs)


def stationary_garnet(seed=3):
    return random_game(4, 3, None, branching=2, monotone=True, coupling=1.0,
                       time_varying=False, discount=0.8, seed=seed)


@pytest.mark.parametrize("planner", [
    BenchMFGPlanner("damped_fixed_point"),
    BenchMFGPlanner("omd"),
    BenchMFGPlanner("policy_iteration", variant="boltzmann_policy_iteration"),
    BenchMFGPlanner("policy_iteration", variant="smooth_policy_iteration"),
], ids=lambda p: p.name)
def test_kth_policy_is_benchmfgs_eval_after_k_iterations(planner):
    """The planner's k-th policy is what Bench-MFG's own eval() returns with num_iterations
    = k, from a given start: the hand-over neither skips nor repeats an iteration."""
    game = stationary_garnet()
    start = torch.softmax(torch.randn(game.policy_shape, generator=torch.Generator()
                                      .manual_seed(1), dtype=torch.float64), -1)
    got = list(itertools.islice(planner.solve(game, seed=0, initial_policy=start), 3))
    module, cls, _ = ALGORITHMS[planner.algorithm]
    for k, policy in enumerate(got, start=1):
        solver = getattr(importlib.import_module(module), cls)(
            model=to_benchmfg(game), initial_policy=start.numpy(), num_iterations=k,
            **planner.kwargs)
        theirs = solver.eval()[0]
        torch.testing.assert_close(policy, torch.as_tensor(theirs / theirs.sum(-1, keepdims=True)),
                                   rtol=0, atol=1e-14)


def test_closing_the_stream_ends_benchmfgs_thread():
    before = threading.active_count()
    stream = BenchMFGPlanner("omd").solve(stationary_garnet(), seed=0)
    next(stream)
    assert threading.active_count() == before + 1
    stream.close()
    assert threading.active_count() == before


def test_scope_stationary_games_of_mu_only():
    planner = BenchMFGPlanner()
    assert planner.supports(stationary_garnet()) is True
    assert population_beyond_mu(stationary_garnet()) <= 1e-15
    routes = resource_selection((0.0, 0.2, 0.4), (1.0, 1.0, 1.0), discount=0.9)
    assert "state distribution μ only" in planner.supports(routes)
    assert "stationary" in planner.supports(random_game(3, 2, 3, seed=0))
    with pytest.raises(InvalidGameError, match="μ only"):
        to_benchmfg(routes)
    assert default_horizon(0.8) == 125 and 0.8 ** 124 <= 1e-12 < 0.8 ** 123
