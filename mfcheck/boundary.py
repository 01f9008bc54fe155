"""The solver boundary: what the harness reads of a solver, and how it validates what the
solver returns before any check uses it.

The protocols themselves (and `role_of`, `solver_name`) are `mfcheck.protocols`; a
solver's ``supports`` is asked by `mfcheck.scope`. Here: the declared attributes, read
and validated (`planner_temperature`, `planner_convergent`, `planner_precision`,
`planner_takes_initial_policy`), and one runner per role that calls the solver and
validates its output (`planner_policies` and `last_policies`, `learner_policy` and
`ValidatedPolicy`, `sampler_samples` and `check_samples`, `simulator_populations`).
Anything a solver raises or returns wrong becomes a `SolverError` that says which call,
what was wrong, and what was expected: the check that asked reports it as status
``error``, and the run goes on. docs/protocols/ lists every message, role by role.
"""

from __future__ import annotations

import inspect
import itertools
import math
from collections.abc import Iterator
from typing import Any

import torch

from .errors import InvalidPolicyError, SolverError
from .game import FiniteMFG, probability_atol
from .ising import IsingSamples
from .protocols import solver_name

#: A planner that declares a precision has its policies checked to be distributions at
#: ``PRECISION_ULPS · A · eps`` (eps of the declared dtype, A actions): a row may miss
#: summing to 1, and an entry fall below 0, by that much. Rounding a softmax of A values
#: costs a few eps per entry, so its row sum is off by ≲ A·eps; a policy averaged over k
#: iterations accumulates more. Measured in float32 on MFGLib 0.3.0 (FictitiousPlay,
#: OnlineMirrorDescent, PriorDescent and OccupationMeasureInclusion on six of its
#: environments, 200 iterations): at most 2.3·A·eps (FictitiousPlay, crowd_motion); the
#: softmax-based methods ≤ 0.4·A·eps. FictitiousPlay's running average drifts further with
#: the iterations in states its best responses rarely visit: 1.2, 4.7, 4.75·A·eps at 200,
#: 1000, 4000 iterations on rock_paper_scissors, but 1.9, 4.5, 10.3, 155·A·eps at 200, 1000,
#: 2000, 4000 on beach_bar. 256 covers every measured case up to the quick budgets' 4000
#: iterations; a float32 average run much longer can leave it (and is then told so), while
#: 256·A·eps(float32) = 3.1e-5·A stays far below what any check resolves of a policy.
PRECISION_ULPS = 256
#: The dtypes a planner may declare as its precision.
PRECISIONS = {"float32": torch.float32, "float64": torch.float64}


# -- declared attributes ------------------------------------------------------------------------

def planner_temperature(planner: Any) -> float:
    """The planner's declared τ ≥ 0 (``temperature``; 0 when absent or None)."""
    value = getattr(planner, "temperature", None)
    if value is None:
        return 0.0
    try:
        tau = float(value)
    except (TypeError, ValueError):
        tau = math.nan
    if not math.isfinite(tau) or tau < 0:
        raise SolverError(f"{solver_name(planner)}.temperature = {value!r}; expected a "
                          f"finite number ≥ 0 (τ of the logit equilibrium it targets, 0 for "
                          f"Nash)")
    return tau


def planner_convergent(planner: Any) -> bool:
    """False when the planner declares ``convergent = False``."""
    return bool(getattr(planner, "convergent", True))


def planner_precision(planner: Any) -> torch.dtype | None:
    """The dtype a planner declares as its ``precision`` (``torch.float32`` or
    ``"float32"``, ``torch.float64`` or ``"float64"``), or None when it declares none."""
    value = getattr(planner, "precision", None)
    if value is None:
        return None
    dtype = PRECISIONS.get(value) if isinstance(value, str) else value
    if dtype not in PRECISIONS.values():
        raise SolverError(f"{solver_name(planner)}.precision = {value!r}; expected "
                          f"torch.float32 or torch.float64 (or 'float32', 'float64')")
    return dtype


def policy_tolerance(game: FiniteMFG, precision: torch.dtype | None) -> float:
    """How far a policy row may be from a distribution (its sum from 1, an entry below 0):
    the game's own tolerance (1e-9 for float64) without a declared precision; with one,
    ``PRECISION_ULPS · A · eps(precision)``, never below the game's."""
    if precision is None:
        return game.atol
    return max(game.atol, PRECISION_ULPS * game.n_actions * torch.finfo(precision).eps)


def _tolerance_rule(game: FiniteMFG, precision: torch.dtype | None) -> str:
    """Where the tolerance of a policy check comes from (the message already gives it)."""
    if precision is None:
        return (f"the tolerance is the game's {_dtype_name(game.dtype)} one (the planner "
                f"declares no precision)")
    return (f"the tolerance is max({game.atol:g}, {PRECISION_ULPS}·A·eps) for the declared "
            f"precision {_dtype_name(precision)}, A = {game.n_actions}")


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def planner_takes_initial_policy(planner: Any) -> bool:
    """Whether ``planner.solve`` names an ``initial_policy`` keyword (the optional start)."""
    try:
        parameter = inspect.signature(planner.solve).parameters.get("initial_policy")
    except (TypeError, ValueError):  # a builtin or C extension without a signature
        return False
    return parameter is not None and parameter.kind in (parameter.KEYWORD_ONLY,
                                                        parameter.POSITIONAL_OR_KEYWORD)


# -- planners ---------------------------------------------------------------------------------

def checked_policy(game: FiniteMFG, policy: Any, *, what: str,
                   precision: torch.dtype | None) -> torch.Tensor:
    """``policy`` validated as a policy of ``game`` at `policy_tolerance` for the declared
    ``precision``, in the game's dtype; with a declared precision, negative entries (within
    the tolerance) are set to 0 and every row is renormalised, so the checks see an exact
    distribution. A rejected policy raises `SolverError` saying the tolerance and its rule,
    and, for a float32 policy of a planner that declares no precision, whether declaring
    ``precision = torch.float32`` would have it accepted."""
    try:
        checked = game.check_policy(policy, what=what, atol=policy_tolerance(game, precision))
    except InvalidPolicyError as exc:
        raise SolverError(f"invalid output: {exc}; {_tolerance_rule(game, precision)}"
                          f"{_precision_hint(game, policy, precision)}") from None
    if precision is None:
        return checked
    checked = checked.clamp_min(0)
    return checked / checked.sum(-1, keepdim=True)


def _precision_hint(game: FiniteMFG, policy: Any, precision: torch.dtype | None) -> str:
    """For an undeclared float32 policy: whether it is a distribution at float32's
    tolerance, i.e. whether declaring the precision would have it accepted."""
    if precision is not None or not isinstance(policy, torch.Tensor) or \
            policy.dtype != torch.float32 or game.dtype == torch.float32:
        return ""
    tolerance = policy_tolerance(game, torch.float32)
    try:
        game.check_policy(policy, atol=tolerance)
    except InvalidPolicyError:
        return (f". The policy is float32, but it is not a distribution at float32's "
                f"tolerance {tolerance:.3g} either: declaring precision = torch.float32 "
                f"would not help")
    return (f". The policy is float32 and is a distribution at float32's tolerance "
            f"{tolerance:.3g} ({PRECISION_ULPS}·A·eps): if the planner computes in float32, "
            f"declare precision = torch.float32 on it, and its policies are checked at that "
            f"tolerance, then cast to float64 and renormalised")


def planner_policies(planner: Any, game: FiniteMFG, *, seed: int, iterations: int,
                     initial_policy: torch.Tensor | None = None) -> Iterator[torch.Tensor]:
    """The first ``iterations`` policies of ``planner`` on ``game``, each validated
    (`checked_policy`, at the planner's declared precision).

    ``initial_policy`` (validated here) is passed on as the planner's start; asking it of a
    planner that does not take one is a bug of the caller (ValueError). Anything that
    breaks the protocol (an exception inside the solver, too few policies, a wrong shape,
    dtype or device, NaN, a row that is not a distribution) becomes a `SolverError` that
    says which policy and why.
    """
    name = solver_name(planner)
    precision = planner_precision(planner)
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
        yield checked_policy(game, policy, what=f"policy #{k} from {name}",
                             precision=precision)


def last_policies(planner: Any, game: FiniteMFG, *, seed: int, iterations: int,
                  keep: int = 1, initial_policy: torch.Tensor | None = None
                  ) -> list[torch.Tensor]:
    """The last ``keep`` of the first ``iterations`` policies (all validated)."""
    kept: list[torch.Tensor] = []
    for policy in planner_policies(planner, game, seed=seed, iterations=iterations,
                                   initial_policy=initial_policy):
        kept = (kept + [policy])[-keep:]
    return kept


# -- samplers ---------------------------------------------------------------------------------

def sampler_samples(sampler: Any, L: int, temperatures, *, sweeps: int, chains: int, seed: int,
                    device, coupling: float = 1.0, field: float = 0.0, start: str = "hot"):
    """Run an Ising sampler (`mfcheck.protocols.Sampler`) and validate what it returns.

    An exception inside the sampler, or output of the wrong type, shape or range, becomes
    a `SolverError` that says what went wrong.
    """
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


def check_samples(samples, *, temperatures: int, chains: int, sweeps: int,
                  sampler: str) -> IsingSamples:
    """Validate what a sampler returned; raise `SolverError` saying what is wrong."""
    if not isinstance(samples, IsingSamples):
        raise SolverError(f"{sampler} returned {type(samples).__name__}, expected IsingSamples")
    shape = (temperatures, chains, sweeps)
    for name in ("energy", "magnetization"):
        x = getattr(samples, name)
        if not isinstance(x, torch.Tensor) or tuple(x.shape) != shape:
            got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise SolverError(f"{sampler}: {name} has shape {got}, expected {shape}")
        if not torch.isfinite(x).all():
            raise SolverError(f"{sampler}: {name} has non-finite values")
    if (samples.magnetization.abs() > 1 + 1e-12).any():
        raise SolverError(f"{sampler}: |magnetization per spin| exceeds 1")
    return samples


# -- learners ---------------------------------------------------------------------------------

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
    finite, non-negative, rows summing to 1 within the tolerance of its dtype
    (`mfcheck.game.probability_atol`: 1e-9 for float64, 1e-5 for float32)."""

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
        tol = probability_atol(probs.dtype)
        bad = ~torch.isfinite(probs).all(-1) | (probs < 0).any(-1) | \
            ((probs.sum(-1) - 1).abs() > tol)
        if bad.any():
            b, i = (int(v) for v in bad.nonzero()[0])
            raise SolverError(f"invalid output: the policy of {self.name} gives agent {i} of "
                              f"replica {b} the probabilities {probs[b, i].tolist()}, not a "
                              f"distribution (entries ≥ 0 summing to 1 within {tol:g}, the "
                              f"tolerance of its dtype {_dtype_name(probs.dtype)})")
        return probs


# -- simulators -------------------------------------------------------------------------------

def simulator_populations(simulator: Any, game: FiniteMFG, policy: torch.Tensor, *,
                          n_agents: int, acting, rounds: int, batch: int, seed: int,
                          record_every: int = 1, **options) -> torch.Tensor:
    """Run an N-player simulator (`mfcheck.protocols.Simulator`) and return its validated
    μ̂_N, ``(batch, rounds/record_every + 1, S)`` float64.

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
    tol = probability_atol(torch.float64)
    bad = ~torch.isfinite(mu).all(-1) | (mu < 0).any(-1) | ((mu.sum(-1) - 1).abs() > tol)
    if bad.any():
        b, r = (int(v) for v in bad.nonzero()[0])
        raise SolverError(f"invalid output: {call} gave μ̂_N = {mu[b, r].tolist()} for "
                          f"replica {b} at record {r}, not a distribution (entries ≥ 0 "
                          f"summing to 1 within {tol:g})")
    return mu
