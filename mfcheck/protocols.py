"""The solver protocols: what a third-party solver implements for mfcheck to check it.

MFG planner (role ``"planner"``)::

    class MyPlanner:
        name = "my-planner"          # optional: the report's solver column
        temperature = 0.0            # optional: τ > 0 if it targets the entropy-regularised
                                     # (logit) equilibrium at τ instead of the Nash one
        convergent = True            # optional: False for methods that are not meant to
                                     # converge in non-contractive games (pure best response)

        def solve(self, game: mfcheck.FiniteMFG, *, seed: int,
                  initial_policy: torch.Tensor | None = None) -> Iterator[torch.Tensor]:
            ...                      # yields policies of shape game.policy_shape,
                                     # on game.device; the harness decides how many to take

        def supports(self, game: mfcheck.FiniteMFG) -> bool | str:
            ...                      # optional: False, or a reason, for games it does not
                                     # solve (e.g. "finite horizon only"): skipped, not failed

``initial_policy`` is optional: a planner that names it in ``solve``'s signature (the
harness inspects the signature, `planner_takes_initial_policy`) starts from that validated
policy of ``game.policy_shape`` instead of its own start; the harness passes it only to
such planners. The ``uniqueness`` suite needs it to start a planner from many policies.

Mean-field learner (role ``"learner"``)::

    class MyLearner:
        name = "my-learner"          # optional
        boltzmann = True             # optional: its policy is a Boltzmann (softmax) policy
                                     # at the temperature it is given (Ising suite)

        def learn(self, env: mfcheck.envs.AgentEnv, *, steps: int, seed: int,
                  temperature: torch.Tensor | None = None) -> Policy:
            ...                      # at most ``steps`` calls of env.step, each with
                                     # env.acting_mask(generator); ``temperature`` has one
                                     # entry per replica (None: the learner's own choice)

    # the policy it returns, for the replicas of the environment it learned on:
    policy(obs, mean_action) -> torch.Tensor  # (batch, n, n_actions) probabilities for
                                              # the observations (batch, n) of n agents

A Temporal Mean Field learner (`mfcheck.tmf`) sets ``tmf = True``, learns on a
`mfcheck.envs.FiniteGameEnv` (observations are states; ``Observation.population`` is the
distribution μ̂_N of the agents' observations) and returns a TMF policy
``policy(obs, population)``: its second argument is μ ``(batch, n_observations)``
instead of the mean action.

N-player simulator (role ``"simulator"``)::

    simulate(game, policy, *, n_agents, acting, rounds, batch, seed) -> trajectory

with ``trajectory.mu`` ``(batch, records, S)``, the empirical state distributions μ̂_N on
``game.device``, and ``trajectory.mean_return`` ``(batch,)``. ``acting`` is an
`mfcheck.envs.Schedule`; an epoch is N agent decisions; finite-horizon games run one
synchronous round per decision epoch; idle agents keep their state; each agent's j-th
decision is discounted by γ^j. The reference is `mfcheck.nplayer.simulate`.

A check never reaches inside a solver: it sees only what the protocol returns, and
validates every yielded object before using it.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Iterator
from typing import Any, Protocol, runtime_checkable

import torch

from .errors import InvalidPolicyError, SolverError
from .game import FiniteMFG


@runtime_checkable
class MFGPlanner(Protocol):
    def solve(self, game: FiniteMFG, *, seed: int) -> Iterator[torch.Tensor]: ...


def role_of(solver: Any) -> str | None:
    """The protocol role a solver object implements, or None."""
    if callable(getattr(solver, "solve", None)):
        return "planner"
    if callable(getattr(solver, "sample", None)):
        return "sampler"
    if callable(getattr(solver, "learn", None)):
        return "learner"
    if callable(getattr(solver, "simulate", None)):  # after "sample": samplers simulate too
        return "simulator"
    return None


def solver_name(solver: Any) -> str:
    name = getattr(solver, "name", None)
    return name if isinstance(name, str) else type(solver).__name__


def planner_temperature(planner: Any) -> float:
    return float(getattr(planner, "temperature", 0.0) or 0.0)


def planner_convergent(planner: Any) -> bool:
    return bool(getattr(planner, "convergent", True))


def planner_takes_initial_policy(planner: Any) -> bool:
    """Whether ``planner.solve`` names an ``initial_policy`` keyword (the optional start)."""
    try:
        parameter = inspect.signature(planner.solve).parameters.get("initial_policy")
    except (TypeError, ValueError):  # a builtin or C extension without a signature
        return False
    return parameter is not None and parameter.kind in (parameter.KEYWORD_ONLY,
                                                        parameter.POSITIONAL_OR_KEYWORD)


def planner_supports(planner: Any, game: FiniteMFG) -> str | None:
    """None if ``planner`` takes on ``game``; otherwise why not (its ``supports(game)``
    returned False or a reason, or raised)."""
    supports = getattr(planner, "supports", None)
    if not callable(supports):
        return None
    name = solver_name(planner)
    try:
        answer = supports(game)
    except Exception as exc:
        raise SolverError(f"{name}.supports({game.name}) raised {type(exc).__name__}: "
                          f"{exc}") from exc
    if answer is True:
        return None
    if isinstance(answer, str) and answer:
        return f"{name} does not support {game.name}: {answer}"
    if answer is False:
        return f"{name} does not support {game.name} (its supports(game) is False)"
    raise SolverError(f"{name}.supports({game.name}) returned {answer!r}; expected True, "
                      f"False or a reason (str)")


def planner_policies(planner: Any, game: FiniteMFG, *, seed: int, iterations: int,
                     initial_policy: torch.Tensor | None = None) -> Iterator[torch.Tensor]:
    """The first ``iterations`` policies of ``planner`` on ``game``, each validated.

    ``initial_policy`` (validated here) is passed on as the planner's start; asking it of a
    planner that does not take one is a bug of the caller (ValueError). Anything that
    breaks the protocol (an exception inside the solver, too few policies, a wrong shape,
    dtype or device, NaN, a row that is not a distribution) becomes a `SolverError` that
    says which policy and why.
    """
    name = solver_name(planner)
    start = {}
    if initial_policy is not None:
        if not planner_takes_initial_policy(planner):
            raise ValueError(f"{name}.solve takes no initial_policy")
        start = {"initial_policy": game.check_policy(initial_policy, what="initial policy")}
    try:
        stream = iter(planner.solve(game, seed=seed, **start))
    except Exception as exc:
        raise SolverError(f"{name}.solve raised {type(exc).__name__}: {exc}") from exc
    for k in itertools.count():
        if k == iterations:
            return
        try:
            policy = next(stream)
        except StopIteration:
            raise SolverError(f"{name} stopped after {k} policies; the check needs "
                              f"{iterations}") from None
        except Exception as exc:
            raise SolverError(f"{name} raised {type(exc).__name__} at iteration {k}: "
                              f"{exc}") from exc
        try:
            yield game.check_policy(policy, what=f"policy #{k} from {name}")
        except InvalidPolicyError as exc:
            raise SolverError(f"invalid output: {exc}") from None


def last_policies(planner: Any, game: FiniteMFG, *, seed: int, iterations: int,
                  keep: int = 1, initial_policy: torch.Tensor | None = None
                  ) -> list[torch.Tensor]:
    """The last ``keep`` of the first ``iterations`` policies (all validated)."""
    kept: list[torch.Tensor] = []
    for policy in planner_policies(planner, game, seed=seed, iterations=iterations,
                                   initial_policy=initial_policy):
        kept = (kept + [policy])[-keep:]
    return kept


def sampler_samples(sampler: Any, L: int, temperatures, *, sweeps: int, chains: int, seed: int,
                    device, coupling: float = 1.0, field: float = 0.0, start: str = "hot"):
    """Run an Ising sampler (see `mfcheck.ising`) and validate what it returns.

    An exception inside the sampler, or output of the wrong type, shape or range, becomes
    a `SolverError` that says what went wrong.
    """
    from .ising import check_samples  # the Ising model is only needed by samplers

    name = solver_name(sampler)
    temps = torch.as_tensor(temperatures, dtype=torch.float64).reshape(-1)
    try:
        samples = sampler.sample(L, temps, coupling=coupling, field=field, sweeps=sweeps,
                                 chains=chains, seed=seed, device=device, start=start)
    except Exception as exc:
        raise SolverError(f"{name}.sample(L={L}, T={[round(t, 4) for t in temps.tolist()]}) "
                          f"raised {type(exc).__name__}: {exc}") from exc
    return check_samples(samples, temperatures=temps.numel(), chains=chains, sweeps=sweeps,
                         sampler=name)


def learner_policy(learner: Any, env, *, steps: int, seed: int, temperature=None):
    """Train ``learner`` on ``env`` and return its policy, wrapped so that every call is
    validated (`ValidatedPolicy`). Anything the learner raises becomes a `SolverError`."""
    name = solver_name(learner)
    try:
        policy = learner.learn(env, steps=steps, seed=seed, temperature=temperature)
    except Exception as exc:
        raise SolverError(f"{name}.learn on {env.name} raised {type(exc).__name__}: "
                          f"{exc}") from exc
    if not callable(policy):
        raise SolverError(f"{name}.learn returned {type(policy).__name__}, not a callable "
                          f"policy(obs, mean_action)")
    return ValidatedPolicy(policy, env, name)


class ValidatedPolicy:
    """A learned policy whose every output is checked: a tensor of shape
    ``(batch, n, n_actions)`` for ``n`` agents' observations (a check may ask about other
    agents than the environment's, e.g. one per observation), on the environment's device,
    finite, non-negative, rows summing to 1."""

    def __init__(self, policy, env, name: str) -> None:
        self.policy, self.env, self.name = policy, env, name

    def __call__(self, obs: torch.Tensor, mean_action: torch.Tensor) -> torch.Tensor:
        env = self.env
        try:
            probs = self.policy(obs, mean_action)
        except Exception as exc:
            raise SolverError(f"the policy of {self.name} raised {type(exc).__name__}: "
                              f"{exc}") from exc
        expected = (env.batch, obs.shape[1], env.n_actions)  # any number of agents
        if not isinstance(probs, torch.Tensor):
            raise SolverError(f"invalid output: the policy of {self.name} returned "
                              f"{type(probs).__name__}, not a tensor")
        if tuple(probs.shape) != expected or probs.device != env.device:
            raise SolverError(f"invalid output: the policy of {self.name} returned shape "
                              f"{tuple(probs.shape)} on {probs.device}; expected {expected} "
                              f"on {env.device}")
        tol = 1e-9 if probs.dtype == torch.float64 else 1e-5
        bad = ~torch.isfinite(probs).all(-1) | (probs < 0).any(-1) | \
            ((probs.sum(-1) - 1).abs() > tol)
        if bad.any():
            b, i = (int(v) for v in bad.nonzero()[0])
            raise SolverError(f"invalid output: the policy of {self.name} gives agent {i} of "
                              f"replica {b} the probabilities {probs[b, i].tolist()}, not a "
                              f"distribution")
        return probs


def simulator_populations(simulator: Any, game: FiniteMFG, policy: torch.Tensor, *,
                          n_agents: int, acting, rounds: int, batch: int, seed: int,
                          record_every: int = 1, **options) -> torch.Tensor:
    """Run an N-player simulator (see `mfcheck.nplayer`) and return its validated μ̂_N,
    ``(batch, rounds/record_every + 1, S)`` float64.

    ``record_every`` (and any further ``options``, e.g. ``initial``) is passed on only when
    it differs from the protocol's default, so that a simulator without the option can
    still run the checks that do not need it. Anything the simulator raises or returns
    wrong (type, shape, device, NaN, a row that is not a distribution) becomes a
    `SolverError` that says which call and what was wrong.
    """
    name = solver_name(simulator)
    call = f"{name}.simulate(N={n_agents}, acting={acting}, rounds={rounds})"
    if record_every != 1:
        options["record_every"] = record_every
    try:
        mu = simulator.simulate(game, policy, n_agents=n_agents, acting=acting, rounds=rounds,
                                batch=batch, seed=seed, **options).mu
    except Exception as exc:
        raise SolverError(f"{call} raised {type(exc).__name__}: {exc}") from exc
    records = rounds // record_every + 1 if game.stationary else game.horizon  # Flow.mu's
    expected = (batch, records, game.n_states)
    if not isinstance(mu, torch.Tensor) or tuple(mu.shape) != expected or \
            mu.device != game.device:
        got = (f"shape {tuple(mu.shape)} on {mu.device}" if isinstance(mu, torch.Tensor)
               else type(mu).__name__)
        raise SolverError(f"invalid output: {call} gave trajectory.mu {got}; expected shape "
                          f"{expected} on {game.device}")
    mu = mu.to(torch.float64)
    bad = ~torch.isfinite(mu).all(-1) | (mu < 0).any(-1) | ((mu.sum(-1) - 1).abs() > 1e-9)
    if bad.any():
        b, r = (int(v) for v in bad.nonzero()[0])
        raise SolverError(f"invalid output: {call} gave μ̂_N = {mu[b, r].tolist()} for "
                          f"replica {b} at record {r}, not a distribution")
    return mu
