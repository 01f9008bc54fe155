"""``supports(game) -> bool | str``, asked by the harness (`mfcheck.scope`) before every call
of a solver's role method, in every suite and for every role: a declined case is ``skip``
with the solver's reason and exemption ``supports(game)``; ``--strict`` fails it."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from mfcheck import registry
from mfcheck.check import ERROR, PASS, SKIP, Budget, Case, Context, Outcome, Suite
from mfcheck.cli import main
from mfcheck.games.congestion import Routes
from mfcheck.boundary import last_policies
from mfcheck.scope import EXEMPTION, IsingSetting

CTX = Context(seed=0, budget=Budget.QUICK, device=torch.device("cpu"))


class ExactRoutes:
    """A planner for one-state, one-epoch route games with affine costs: it reads a and b
    off the reward and yields the analytic Wardrop split (whatever its start), so the
    uniqueness suite runs in seconds. It declines discounted stationary games."""

    name = "exact-routes"

    def supports(self, game):
        return game.horizon is not None or "finite horizon only"

    def solve(self, game, *, seed, initial_policy=None):
        n = game.n_actions
        empty = torch.zeros(1, n, dtype=game.dtype, device=game.device)
        a = -game.reward(0, empty)[0]
        b = torch.stack([-game.reward(0, torch.eye(n, dtype=game.dtype,
                                                   device=game.device)[None, i])[0, i]
                         for i in range(n)]) - a
        split = Routes(tuple(a.tolist()), tuple(b.tolist())).equilibrium()
        policy = torch.as_tensor(split, dtype=game.dtype, device=game.device)
        while True:
            yield policy.reshape(game.policy_shape)


# -- the harness asks, for every role --------------------------------------------------------

toy = Suite("toy", role=("planner", "learner", "sampler", "simulator"),
            description="calls each role's method once", reference_solvers=[])
ASKED: list = []


@toy.check("calls", games={"g": lambda device: None})
def calls(solver, _, ctx):
    """Calls the solver's role method once."""
    if hasattr(solver, "solve"):
        last_policies(solver, Routes((0.0, 1.0), (1.0, 1.0)).game(ctx.device), seed=0,
                      iterations=1)
    elif hasattr(solver, "sample"):
        solver.sample(4, torch.tensor([2.0, 3.0], dtype=torch.float64), coupling=1.0,
                      field=0.5, sweeps=1, chains=1, seed=0, device="cpu")
    elif hasattr(solver, "learn"):
        solver.learn("the-env", steps=1, seed=0)
    else:
        solver.simulate("the-game", None, n_agents=2, acting="all", rounds=1, batch=1, seed=0)
    return Outcome(True, 1, 1, 0, "called")


def _run(solver):
    return toy.run(Case("toy", "calls", "g", "x:Y", "cpu"), solver, CTX)


class Asks:
    """Records what ``supports`` receives and answers ``answer``."""

    name = "asks"

    def __init__(self, answer) -> None:
        self.answer = answer

    def supports(self, subject):
        ASKED.append(subject)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class AskingPlanner(Asks):
    def solve(self, game, *, seed):
        while True:
            yield game.uniform_policy()


class AskingLearner(Asks):
    def learn(self, env, *, steps, seed, temperature=None):
        return lambda obs, mean_action: None


class AskingSampler(Asks):
    def sample(self, L, temperatures, *, coupling=1.0, field=0.0, sweeps, chains, seed,
               device="cpu", start="hot"):
        return None


class AskingSimulator(Asks):
    def simulate(self, game, policy, **kwargs):
        return None


@pytest.mark.parametrize("cls, receives", [
    (AskingPlanner, lambda s: s.name == "two_route(0, 1, 1, 1)"),
    (AskingLearner, lambda s: s == "the-env"),
    (AskingSampler, lambda s: s == IsingSetting(4, (2.0, 3.0), 1.0, 0.5)),
    (AskingSimulator, lambda s: s == "the-game"),
])
def test_every_role_is_asked_about_what_it_is_called_on(cls, receives):
    ASKED.clear()
    assert _run(cls(True)).status == PASS
    assert len(ASKED) == 1 and receives(ASKED[0]), ASKED
    declined = _run(cls("not this one"))
    assert declined.status == SKIP and declined.exemption == EXEMPTION
    assert declined.message.startswith("asks does not support ")
    assert declined.message.endswith(": not this one")


@pytest.mark.parametrize("answer, status, message", [
    (False, SKIP, "asks does not support two_route(0, 1, 1, 1) (its supports() is False)"),
    (ValueError("boom"), ERROR, "asks.supports(two_route(0, 1, 1, 1)) raised ValueError: boom"),
    (1, ERROR, "asks.supports(two_route(0, 1, 1, 1)) returned 1; expected True, False or a "
               "reason (a non-empty str)"),
    ("", ERROR, "returned ''; expected True, False or a reason"),
])
def test_false_and_broken_answers(answer, status, message):
    result = _run(AskingPlanner(answer))
    assert result.status == status and message in result.message, result.message
    assert result.exemption == (EXEMPTION if status == SKIP else None)


def test_a_solver_without_supports_is_handed_over_untouched():
    seen = []

    class Plain:
        def solve(self, game, *, seed):
            seen.append(self)
            yield game.uniform_policy()

    planner = Plain()
    assert _run(planner).status == PASS and seen == [planner]


def test_the_wrapped_solver_keeps_its_name_attributes_and_signature():
    from mfcheck.boundary import planner_takes_initial_policy
    from mfcheck.protocols import solver_name
    from mfcheck.scope import scoped

    class Unnamed:
        temperature = 0.5

        def supports(self, game):
            return True

        def solve(self, game, *, seed, initial_policy=None):
            yield game.uniform_policy()

    wrapped = scoped(Unnamed())
    assert solver_name(wrapped) == "Unnamed" and wrapped.temperature == 0.5
    assert planner_takes_initial_policy(wrapped)


# -- a finite-horizon-only planner through the uniqueness suite ------------------------------

STATIONARY = "resource-selection(0,0.2,0.4|1,1,1,γ=0.9)"
FIVE_ROUTES = "five-routes(0.5,0.1,0.9,0.3,2|1,3,0.5,2,1)"


@pytest.fixture
def unique_equilibrium_only(monkeypatch):
    """The uniqueness suite with its unique-equilibrium check alone (the planner above
    finds one equilibrium only, so finds-every-equilibrium is not its business), on the
    five-route game and the quick stationary game (to stay quick)."""
    suite = registry.get_suite("uniqueness")
    check = suite.checks["unique-equilibrium"]
    games = {label: check.games[label] for label in (FIVE_ROUTES, STATIONARY)}
    monkeypatch.setattr(suite, "checks", {check.name: dataclasses.replace(check, games=games)})
    monkeypatch.setattr(registry, "SUITE_MODULES",
                        {"uniqueness": registry.SUITE_MODULES["uniqueness"]})
    return suite


def test_uniqueness_skips_the_stationary_case_with_the_planners_reason():
    suite = registry.get_suite("uniqueness")
    case = Case("uniqueness", "unique-equilibrium", STATIONARY, "x:ExactRoutes", "cpu")
    result = suite.run(case, ExactRoutes(), CTX)
    assert result.status == SKIP and result.exemption == EXEMPTION
    assert result.message == ("exact-routes does not support resource_selection(a=[0, 0.2, "
                              "0.4], b=[1, 1, 1], discount=0.9, switching_cost=0): finite "
                              "horizon only")


def test_validate_passes_with_the_exemption_declared_and_strict_fails_it(
        unique_equilibrium_only, capsys, tmp_path):
    argv = ["validate", f"{__name__}:ExactRoutes", "--device", "cpu", "--jobs", "0",
            "--report-dir", str(tmp_path)]
    code = main(argv)
    out = capsys.readouterr().out
    card = out[out.index("Report card:"):]
    assert code == 0, card
    assert "  PASS   uniqueness::unique-equilibrium  1 passed, 1 skipped" in card
    assert f"  supports(game)\n    skip: uniqueness::unique-equilibrium [{STATIONARY}|cpu] — " \
           "exact-routes does not support resource_selection(" in card
    assert card.splitlines()[-2] == ("VERDICT: PASS — 1 check on 1 game (1 case skipped); "
                                     "1 exemption declared (see above)")
    code = main([*argv, "--strict"])
    out = capsys.readouterr().out
    assert code == 1
    assert "--strict counts every declared exemption as a failure" in out
