"""The solver protocols as types (`mfcheck.protocols`) and the planner's declared precision
at the boundary (`mfcheck.boundary`)."""

from __future__ import annotations

import itertools

import pytest
import torch

import mfcheck
from mfcheck import Learner, Planner, Sampler, Simulator, TMFLearner
from mfcheck.boundary import (PRECISION_ULPS, last_policies, planner_precision,
                              planner_temperature, policy_tolerance)
from mfcheck.errors import SolverError
from mfcheck.games import random_game
from mfcheck.nplayer import ReferenceSimulator
from mfcheck.protocols import role_of
from mfcheck.reference import PLANNERS
from mfcheck.reference.ising import SAMPLERS
from mfcheck.reference.marl import LEARNERS, NEURAL_LEARNERS, TMF_LEARNERS

PROTOCOLS = (Planner, Learner, TMFLearner, Sampler, Simulator)


def test_mfcheck_exports_the_five_protocols():
    assert {p.__name__ for p in PROTOCOLS} <= set(mfcheck.__all__)


@pytest.mark.parametrize("solver, protocol, role", [
    *[(p, Planner, "planner") for p in PLANNERS.values()],
    *[(s, Learner, "learner") for s in [*LEARNERS.values(), *NEURAL_LEARNERS.values()]],
    *[(s, TMFLearner, "learner") for s in TMF_LEARNERS.values()],
    *[(s, Sampler, "sampler") for s in SAMPLERS.values()],
    (ReferenceSimulator(), Simulator, "simulator"),
], ids=lambda x: getattr(x, "name", None) or getattr(x, "__name__", None) or str(x))
def test_every_reference_solver_is_an_instance_of_its_protocol(solver, protocol, role):
    """(A reference sampler is also a `Simulator`: it has a ``simulate``; `role_of` asks
    for ``sample`` first.)"""
    assert isinstance(solver, protocol) and role_of(solver) == role


class MinimalPlanner:
    def solve(self, game, *, seed):
        while True:
            yield game.uniform_policy()


class MinimalLearner:
    def learn(self, env, *, steps, seed, temperature=None):
        return lambda obs, mean_action: torch.full((*obs.shape, env.n_actions),
                                                   1.0 / env.n_actions)


class MinimalTMFLearner(MinimalLearner):
    tmf = True


class MinimalSampler:
    def sample(self, L, temperatures, *, coupling=1.0, field=0.0, sweeps, chains, seed,
               device="cpu", start="hot"):
        raise NotImplementedError


class MinimalSimulator:
    def simulate(self, game, policy, *, n_agents, acting, rounds, batch, seed, **options):
        raise NotImplementedError


@pytest.mark.parametrize("cls, protocol, role", [
    (MinimalPlanner, Planner, "planner"), (MinimalLearner, Learner, "learner"),
    (MinimalTMFLearner, TMFLearner, "learner"), (MinimalSampler, Sampler, "sampler"),
    (MinimalSimulator, Simulator, "simulator")])
def test_a_minimal_user_class_is_an_instance_of_its_protocol(cls, protocol, role):
    assert isinstance(cls(), protocol) and role_of(cls()) == role
    assert not isinstance(object(), protocol) and role_of(object()) is None


def test_an_ordinary_learner_is_not_a_tmf_learner():
    assert isinstance(MinimalLearner(), Learner) and not isinstance(MinimalLearner(), TMFLearner)


# -- precision ----------------------------------------------------------------------------------

GAME = random_game(6, 5, 3, seed=0)


def float32_softmax(game, generator):
    return torch.softmax(torch.randn(game.policy_shape, generator=generator,
                                     dtype=torch.float32) * 3, -1)


class Float32Planner:
    """Yields float32 softmax policies (rows sum to 1 only to float32 rounding)."""

    name = "float32-planner"

    def __init__(self, precision=None, perturb: float = 0.0):
        if precision is not None:
            self.precision = precision
        self.perturb = perturb

    def solve(self, game, *, seed):
        gen = torch.Generator().manual_seed(seed)
        for _ in itertools.count():
            policy = float32_softmax(game, gen)
            policy[-1, -1] *= 1 + self.perturb  # one row off by `perturb` (relative)
            yield policy


def test_float32_softmax_policies_are_off_by_more_than_float64s_tolerance():
    """The premise of the tests below: float32 rounding alone breaks the 1e-9 tolerance."""
    policy = next(Float32Planner().solve(GAME, seed=0)).double()
    gap = float((policy.sum(-1) - 1).abs().max())
    assert GAME.atol < gap < GAME.n_actions * torch.finfo(torch.float32).eps


def test_undeclared_float32_policies_fail_with_the_precision_hint():
    with pytest.raises(SolverError) as info:
        last_policies(Float32Planner(), GAME, seed=0, iterations=3)
    message = str(info.value)
    assert "tolerance 1e-09" in message and "declares no precision" in message
    assert "declare precision = torch.float32" in message
    assert f"{policy_tolerance(GAME, torch.float32):.3g}" in message


@pytest.mark.parametrize("declared", [torch.float32, "float32"])
def test_declared_float32_policies_pass_cast_and_renormalised(declared):
    raw = list(itertools.islice(Float32Planner().solve(GAME, seed=0), 3))
    kept = last_policies(Float32Planner(declared), GAME, seed=0, iterations=3, keep=3)
    for got, policy in zip(kept, raw):
        assert got.dtype == torch.float64
        assert float((got.sum(-1) - 1).abs().max()) <= 4 * torch.finfo(torch.float64).eps
        assert float((got - policy.double()).abs().max()) <= 2 * GAME.n_actions * \
            torch.finfo(torch.float32).eps


def test_declared_precision_renormalises_small_negative_entries_to_zero():
    class Negative(Float32Planner):
        def solve(self, game, *, seed):
            policy = game.uniform_policy().float()
            policy[0, 0, :2] = torch.tensor([-1e-6, 0.4 + 1e-6])
            while True:
                yield policy
    (got,) = last_policies(Negative(torch.float32), GAME, seed=0, iterations=1)
    assert got[0, 0, 0] == 0 and float((got.sum(-1) - 1).abs().max()) < 1e-15


def test_a_policy_off_by_more_than_float32s_tolerance_fails_even_when_declared():
    tol = policy_tolerance(GAME, torch.float32)
    assert tol == PRECISION_ULPS * GAME.n_actions * torch.finfo(torch.float32).eps
    with pytest.raises(SolverError) as info:
        last_policies(Float32Planner(torch.float32, perturb=2 * tol), GAME, seed=0,
                      iterations=1)
    message = str(info.value)
    assert "not 1" in message and f"tolerance {tol:g}" in message
    assert "declared precision float32" in message
    # and the undeclared planner is told that declaring it would not help
    with pytest.raises(SolverError, match="would not help"):
        last_policies(Float32Planner(perturb=2 * tol), GAME, seed=0, iterations=1)


def test_a_float64_policy_is_checked_at_1e9_whatever_the_declaration():
    assert policy_tolerance(GAME, torch.float64) == policy_tolerance(GAME, None) == 1e-9


@pytest.mark.parametrize("value", ["float16", torch.bfloat16, 32, "double"])
def test_a_bad_precision_declaration_is_a_solver_error(value):
    planner = Float32Planner(value)
    with pytest.raises(SolverError, match=r"precision = .*expected torch.float32"):
        planner_precision(planner)


@pytest.mark.parametrize("value", [-1.0, float("nan"), "hot", float("inf")])
def test_a_bad_temperature_declaration_is_a_solver_error(value):
    planner = MinimalPlanner()
    planner.temperature = value
    with pytest.raises(SolverError, match=r"temperature = .*expected a finite number ≥ 0"):
        planner_temperature(planner)
