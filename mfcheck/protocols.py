"""The solver protocols: what a third-party solver implements for mfcheck to check it.

One `typing.Protocol` per role: `Planner`, `Learner`, `TMFLearner`, `Sampler`,
`Simulator`. Each names the one method the harness calls; the optional attributes a solver
may declare are listed in the class's docstring (they are not protocol members, so that
``isinstance(solver, Planner)`` asks only for the method). A solver does not inherit from
these classes: any object with the method is one (structural typing), and a type checker
checks it against the signature. `role_of` is how the harness tells the roles apart, and
`solver_name` what it calls a solver.

What the harness does with a solver's output at the boundary (validation, the error for
each violation) is `mfcheck.boundary`; one page per role in docs/protocols/ says both,
with a runnable example.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:  # the protocols themselves must not import torch (mfcheck exports them)
    import torch

    from .envs.base import AgentEnv
    from .envs.finite_game import FiniteGameEnv
    from .game import FiniteMFG
    from .ising import IsingSamples

#: What a learner returns: ``policy(obs, second) -> probabilities`` ``(batch, n, A)`` for
#: the observations ``(batch, n)`` of n agents; ``second`` is the mean action
#: ``(batch, n, A)`` (`Learner`) or the population μ ``(batch, S)`` (`TMFLearner`).
LearnedPolicy = Callable[["torch.Tensor", "torch.Tensor"], "torch.Tensor"]


@runtime_checkable
class Planner(Protocol):
    """An MFG planner (role ``"planner"``): it knows the game's model and yields policies.

    ``solve(game, *, seed)`` returns an iterator of policies of shape ``game.policy_shape``
    (``(horizon, S, A)``, or ``(S, A)`` for a discounted stationary game), each a row-wise
    distribution over actions, floating point, on ``game.device``. The harness decides how
    many to take (the iterator may be infinite) and judges the last ones.

    It may also take ``initial_policy``: a planner whose ``solve`` names that keyword
    starts from that (validated) policy of ``game.policy_shape`` instead of its own start;
    the harness passes it only to such planners, and the ``uniqueness`` suite applies only
    to them.

    Optional attributes:

    - ``name: str`` — the report's solver column (default: the class name).
    - ``temperature: float`` — τ > 0: the planner targets the entropy-regularised (logit)
      equilibrium at τ, judged by the τ-regularised exploitability (docs/planners.md);
      0 or absent: the Nash equilibrium.
    - ``convergent: bool`` — False for methods not meant to converge in non-contractive
      games (pure best-response iteration): checked for cycling and for each iterate being
      a best response to the previous population, instead of for convergence.
    - ``precision: torch.dtype | str`` — ``torch.float32`` (or ``"float32"``) for a
      planner that computes in float32: its policies are checked to be distributions at
      float32's tolerance, then cast to float64 and renormalised (`mfcheck.boundary`).
      Default float64 (tolerance 1e-9).
    - ``supports(game) -> bool | str`` — False, or a reason, for games it does not solve
      (e.g. ``"finite horizon only"``): those cases are skipped with the reason
      (`mfcheck.scope`, which also says what ``supports`` receives in the other roles).
    """

    def solve(self, game: FiniteMFG, *, seed: int) -> Iterator[torch.Tensor]: ...


@runtime_checkable
class Learner(Protocol):
    """A mean-field learner (role ``"learner"``): it trains on an N-agent environment whose
    model it does not know and returns a policy.

    ``learn(env, *, steps, seed, temperature=None)`` gets an `mfcheck.envs.AgentEnv`
    holding ``env.batch`` independent replicas; it calls ``env.reset(generator)`` and at
    most ``steps`` times ``env.step(actions, env.acting_mask(generator))`` (the check
    decides who acts; the learner draws the mask). ``temperature`` is one τ per replica
    (a ``(batch,)`` tensor) or None (the learner's own choice). It returns a callable
    ``policy(obs, mean_action) -> (batch, n, A)`` probabilities, on ``env.device``, for the
    observations ``(batch, n)`` and mean actions ``(batch, n, A)`` of any n agents; the
    checks play it themselves.

    Optional attributes:

    - ``name: str`` — the report's solver column.
    - ``boltzmann: bool`` — its policy is softmax(Q/τ) at the temperature it is given: the
      ``ising-mfq`` suite applies only to such learners.
    - ``baseline: bool`` — a baseline the literature expects to fail (independent
      learners without ā): its failures in ``ising-mfq`` and ``gaussian-squeeze`` are
      reported as ``xfail``.
    - ``agents_per_step: int`` — k: where a suite leaves who acts to the learner
      (``gaussian-squeeze``), each agent acts with probability k/N per step.
    - ``approximator: str`` — ``"tabular"`` for a learner that indexes a table by
      observation and so cannot learn on feature observations (``battle`` skips it).
    - ``uses_mean_action: bool`` — it conditions on ā: ``battle``'s round robin against
      IL and AC applies only to such learners.
    - ``supports(env) -> bool | str`` — False, or a reason, for environments it does not
      learn on: those cases are skipped with the reason.
    """

    def learn(self, env: AgentEnv, *, steps: int, seed: int,
              temperature: torch.Tensor | None = None) -> LearnedPolicy: ...


@runtime_checkable
class TMFLearner(Protocol):
    """A Temporal Mean Field learner (role ``"learner"`` with ``tmf = True``; docs/tmf.md).

    ``learn(env, *, steps, seed, temperature=None)`` as a `Learner`'s, on an
    `mfcheck.envs.FiniteGameEnv`: N agents playing a discounted stationary `FiniteMFG`,
    whose observations are the agents' states and whose ``Observation.population`` is
    their empirical distribution μ̂_N ``(batch, S)``; ``temperature`` is one τ per replica.
    It returns a TMF policy π(a | o, μ): ``policy(obs, population) -> (batch, n, A)``.

    Required attribute: ``tmf = True`` (without it the learner is an ordinary `Learner`,
    and the ``sync-async`` learner checks do not apply). Optional: ``name``, and
    ``supports(env)`` as a `Learner`'s.
    """

    tmf: bool

    def learn(self, env: FiniteGameEnv, *, steps: int, seed: int,
              temperature: torch.Tensor | None = None) -> LearnedPolicy: ...


@runtime_checkable
class Sampler(Protocol):
    """An Ising sampler (role ``"sampler"``) on the L×L periodic lattice of `mfcheck.ising`.

    ``sample(L, temperatures, *, coupling, field, sweeps, chains, seed, device, start)``
    runs ``chains`` independent chains at each temperature (a float64 tensor) for
    ``sweeps`` sweeps (one sweep = N attempted single-spin updates, or one cluster update
    for a cluster method, as the sampler documents) from a random (``start="hot"``) or
    all-up (``"cold"``) configuration, and returns an `mfcheck.ising.IsingSamples`: the
    energy and the signed magnetisation per spin after every sweep, each
    ``(n_temperatures, chains, sweeps)``, float64, finite, |m| ≤ 1.

    Optional attributes:

    - ``name: str`` — the report's solver column.
    - ``step(spins, beta, coupling, field, generator) -> spins`` — one update of a batch
      of ±1 configurations ``(batch, L, L)``: the suite then tests exact one-step
      stationarity on small lattices.
    - ``max_size: int`` — the largest L it is meant for: checks on larger lattices skip.
    - ``supports_field: bool`` — False: checks with h ≠ 0 skip.
    - ``supports(setting) -> bool | str`` — False, or a reason, for an
      `mfcheck.scope.IsingSetting` (L, temperatures, coupling, field) it does not sample.
    """

    def sample(self, L: int, temperatures: torch.Tensor, *, coupling: float = 1.0,
               field: float = 0.0, sweeps: int, chains: int, seed: int, device: Any = "cpu",
               start: str = "hot") -> IsingSamples: ...


@runtime_checkable
class Simulator(Protocol):
    """An N-player simulator (role ``"simulator"``): it plays a `FiniteMFG` with N agents.

    ``simulate(game, policy, *, n_agents, acting, rounds, batch, seed, **options)`` runs
    ``batch`` independent replicas of ``n_agents`` agents, each in a state (initially
    drawn from ``game.mu0``). ``acting`` is an `mfcheck.envs.Schedule` (``"all"``: k = N,
    synchronous; ``"one"``: k = 1; a fraction f: each agent acts with probability f). Per
    round the acting agents draw a ~ π(·|x) and move by p(·|x, a, L̂_N), L̂_N the
    population's state-action distribution (an idle agent enters it with its state and the
    law π(·|x)); idle agents keep their state. An *epoch* is N agent decisions; a
    finite-horizon game runs one synchronous round per decision epoch; each agent's j-th
    decision is discounted by γ^j. ``options`` may carry ``initial=`` (the law of the
    initial states) and ``record_every=``; the harness passes them only to checks that
    need them. It returns an object with

    - ``mu``: ``(batch, records, S)`` on ``game.device``, the empirical state
      distributions μ̂_N (``rounds/record_every + 1`` records for a stationary game, at
      the start of every round and after the last; ``H`` for a finite-horizon one), and
    - ``mean_return``: ``(batch,)``, the population's mean discounted return.

    Optional: ``name``, and ``supports(game) -> bool | str`` (False, or a reason, for
    games it does not simulate). The reference is `mfcheck.nplayer.simulate`.
    """

    def simulate(self, game: FiniteMFG, policy: torch.Tensor, *, n_agents: int, acting: Any,
                 rounds: int, batch: int, seed: int, **options: Any) -> Any: ...


#: The method that marks each role, in the order `role_of` asks (a sampler may also have a
#: ``simulate``, so "sample" comes first).
ROLE_METHODS = (("solve", "planner"), ("sample", "sampler"), ("learn", "learner"),
                ("simulate", "simulator"))


def role_of(solver: Any) -> str | None:
    """The protocol role a solver object implements, or None."""
    for method, role in ROLE_METHODS:
        if callable(getattr(solver, method, None)):
            return role
    return None


def solver_name(solver: Any) -> str:
    """The solver's declared ``name`` (the report's solver column), or its class name."""
    name = getattr(solver, "name", None)
    return name if isinstance(name, str) else type(solver).__name__
