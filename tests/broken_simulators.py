"""Deliberately broken N-player simulators: each must be caught by a named check of the
simulator suites (``approximation-rate``: tests/test_power_simulators.py; ``sync-async``),
while the reference simulator passes them all. `CATALOGUE` lists them with their bug class
and the checks that must catch them (tests/catalogue.py).

All implement the simulator protocol (`mfcheck.nplayer`) from its public description only:
``simulate(game, policy, *, n_agents, acting, rounds, batch, seed, **kwargs)`` returning an
object with ``.mu`` ``(batch, records, S)`` and ``.mean_return`` ``(batch,)``.
`ByTheBook` is an independent, correct implementation (its own random streams, torch's
generator); each bug of the catalogue is one of its switches, as an outsider would get it
wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from mfcheck.envs import Schedule
from mfcheck.errors import UsageError
from mfcheck.nplayer import simulate
from mfcheck.nplayer.sampling import inverse_cdf

from .catalogue import Entry

Tensor = torch.Tensor


class MovesIdleAgents:
    """Ignores the schedule: every round is a synchronous one (the same number of rounds),
    so the agents an asynchronous schedule leaves idle move too."""

    name = "broken: asynchronous rounds move idle agents"

    def simulate(self, game, policy, *, acting="all", **kwargs):
        return simulate(game, policy, acting="all", **kwargs)


@dataclass(frozen=True)
class SharedDrawTrajectory:
    mu: Tensor
    mean_return: Tensor


class SharedDraw:
    """All agents of a replica draw their actions and next states (inverse CDF) from ONE
    shared pair of uniforms per round, so agents in the same state move together and
    μ̂_N does not concentrate as N grows. Otherwise correct: stationary games, any
    schedule, idle agents keep their state and contribute π(·|x) to L̂_N (the reference's
    convention), each agent's j-th decision discounted by γ^j."""

    name = "broken: one shared random draw per round"

    def simulate(self, game, policy, *, n_agents, acting="all", rounds, batch=1, seed=0,
                 initial=None, record_every=1, **ignored):
        if not game.stationary:
            raise UsageError("SharedDraw simulates stationary games only")
        schedule = acting if isinstance(acting, Schedule) else Schedule.parse(str(acting))
        S, A, N, B, dev = game.n_states, game.n_actions, n_agents, batch, game.device
        policy = game.check_policy(policy)
        gen = torch.Generator(device=dev).manual_seed(seed)
        initial = game.mu0 if initial is None else torch.as_tensor(initial, dtype=game.dtype,
                                                                    device=dev)
        x = torch.multinomial(initial.expand(B, S), N, replacement=True, generator=gen)
        decisions = torch.zeros(B, N, dtype=game.dtype, device=dev)
        mean_return = torch.zeros(B, dtype=game.dtype, device=dev)
        mus = [self._counts(x, S) / N]
        for n in range(rounds):
            acting_mask = schedule.mask(B, N, gen, dev)
            u = torch.randint(0, 1 << 32, (B, 2), generator=gen, device=dev)  # the shared draws
            # One shared uniform: every agent in state s draws the same action, and every
            # agent at (s, a) the same next state, so drawing per state is the same thing.
            a = inverse_cdf(policy, u[:, :1]).gather(1, x)
            acting_sa = self._counts(torch.where(acting_mask, x * A + a, S * A), S * A + 1)
            idle = self._counts(torch.where(acting_mask, S, x), S + 1)[:, :S]
            L = (acting_sa[:, :-1].reshape(B, S, A) + idle[..., None] * policy) / N
            r = game.reward(0, L).reshape(B, S * A)
            earned = r.gather(1, x * A + a) * game.discount ** decisions
            mean_return += (earned * acting_mask).sum(1) / N
            decisions += acting_mask
            P = game.transition(0, L)  # (B, S, A, S)
            x_new = inverse_cdf(P, u[:, 1:, None]).reshape(B, S * A).gather(1, x * A + a)
            x = torch.where(acting_mask, x_new, x)
            if (n + 1) % record_every == 0:
                mus.append(self._counts(x, S) / N)
        return SharedDrawTrajectory(torch.stack(mus, 1), mean_return)

    @staticmethod
    def _counts(codes: Tensor, size: int) -> Tensor:
        """Per-replica counts ``(B, size)`` of the integer ``codes`` ``(B, N)``."""
        B = codes.shape[0]
        flat = codes + size * torch.arange(B, device=codes.device)[:, None]
        return torch.bincount(flat.reshape(-1), minlength=B * size).reshape(B, size).double()


@dataclass(frozen=True)
class Run:
    mu: Tensor
    mean_return: Tensor


class ByTheBook:
    """A correct N-player simulator written from the protocol alone (not the reference's
    code or random streams): idle agents keep their state and enter L̂_N with π(·|x), each
    agent's j-th decision is discounted γ^j, finite-horizon games run one synchronous round
    per epoch. Subclasses switch on one bug each (the class attributes)."""

    name = "by-the-book simulator (tests)"
    discount_per_round = False  # γ^round instead of γ^(agent's decisions)
    reward_after_move = False   # r(x', a, L) at the state the agent moved to
    transposed = False          # P(s'|s, a) read as P[s', a, s] (rows renormalised)
    uniform_initial = False     # initial states uniform, not from μ0 / ``initial``
    idle_agents_earn = False    # idle agents redraw an action and earn its reward (not moving)
    with_replacement = False    # the acting set: round(fN) draws with replacement
    stale_population = False    # rewards and transitions see the previous round's L̂_N
    record_before = False       # μ̂_N recorded before the round's moves, not after
    seed_mode = "seed"          # "fixed": replicas identical, the seed ignored;
                                # "shared-actions": every replica's agent i draws its actions
                                # from the same uniforms (moves independent)

    def simulate(self, game, policy, *, n_agents, acting="all", rounds=None, batch=1, seed=0,
                 initial=None, record_every=1, **ignored):
        fixed = self.seed_mode == "fixed"
        return self._run(game, policy, n_agents, acting, rounds, batch, 0 if fixed else seed,
                         initial, record_every, same=fixed)

    def _run(self, game, policy, N, acting, rounds, B, seed, initial, record_every, same):
        schedule = acting if isinstance(acting, Schedule) else Schedule.parse(str(acting))
        S, A, dev, dtype = game.n_states, game.n_actions, game.device, game.dtype
        policy = game.check_policy(policy).reshape(game.epochs, S, A)
        gen = torch.Generator(device=dev).manual_seed(seed)

        def uniform(*shape):  # the same draws for every replica when ``same``
            u = torch.rand((1,) + shape if same else (B,) + shape, generator=gen,
                           dtype=dtype, device=dev)
            return u.expand((B,) + shape)

        start = game.mu0 if initial is None else torch.as_tensor(initial, dtype=dtype,
                                                                 device=dev)
        if self.uniform_initial:
            start = torch.full((S,), 1 / S, dtype=dtype, device=dev)
        x = self._draw(start, uniform(N)).contiguous()
        if game.stationary:
            epochs, total = [0] * rounds, rounds
        else:
            epochs, total, record_every = list(range(game.horizon)), game.horizon, 1
        decisions = torch.zeros(B, N, dtype=dtype, device=dev)
        mean_return = torch.zeros(B, dtype=dtype, device=dev)
        mus, stale = [self._mu(x, S)], None
        for n, t in enumerate(epochs):
            pi = policy[t]
            acts = self._acting(schedule, B, N, gen, dev, uniform)
            a = self._draw(pi[x], uniform(N) if self.seed_mode != "shared-actions" else
                           torch.rand(1, N, generator=gen, dtype=dtype, device=dev).expand(B, N))
            counts = self._counts(torch.where(acts, x * A + a, S * A), S * A + 1)[:, :-1]
            idle = self._counts(torch.where(acts, S, x), S + 1)[:, :S]
            if self.idle_agents_earn:
                L = self._counts(x * A + a, S * A).reshape(B, S, A) / N
            else:
                L = (counts.reshape(B, S, A) + idle[..., None] * pi) / N
            seen, stale = (L if stale is None or not self.stale_population else stale), L
            r = game.reward(t, seen).reshape(B, S * A)
            P = game.transition(t, seen)  # (B, S, A, S)
            if self.transposed:
                P = P.transpose(1, 3)
                total_mass = P.sum(-1, keepdim=True)
                P = torch.where(total_mass > 0, P / total_mass.clamp(min=1e-300), 1 / S)
            rows = P.reshape(B, S * A, S).gather(1, (x * A + a)[..., None].expand(B, N, S))
            x_new = self._draw(rows, uniform(N))
            earns = torch.ones_like(acts) if self.idle_agents_earn else acts
            if not game.stationary:
                weight = game.discount ** t
            elif self.discount_per_round:
                weight = game.discount ** n
            else:
                weight = game.discount ** decisions
            where = x_new if self.reward_after_move else x
            earned = r.gather(1, where * A + a) * weight * earns
            mean_return = mean_return + earned.sum(1) / N
            decisions = decisions + earns
            before = x
            if game.stationary or t + 1 < game.horizon:
                x = torch.where(acts, x_new, x)
            recorded = before if self.record_before else x
            if game.stationary and (n + 1) % record_every == 0 or \
                    not game.stationary and t + 1 < game.horizon:
                mus.append(self._mu(recorded, S))
        return Run(torch.stack(mus, 1), mean_return)

    def _acting(self, schedule, B, N, gen, dev, uniform):
        if schedule.kind == "all":
            return torch.ones(B, N, dtype=torch.bool, device=dev)
        if schedule.kind == "one":
            pick = (uniform(1) * N).long().clamp(max=N - 1)
            return torch.zeros(B, N, dtype=torch.bool, device=dev).scatter(1, pick, True)
        if self.with_replacement:
            k = max(1, round(schedule.fraction * N))
            picks = (uniform(k) * N).long().clamp(max=N - 1)
            return torch.zeros(B, N, dtype=torch.bool, device=dev).scatter(1, picks, True)
        return uniform(N) < schedule.fraction

    @staticmethod
    def _draw(probs: Tensor, u: Tensor) -> Tensor:
        """Inverse-CDF draws: the outcome of each uniform ``u`` from its law ``probs``."""
        return (u[..., None] >= probs.cumsum(-1)[..., :-1]).sum(-1)

    @staticmethod
    def _counts(codes: Tensor, size: int) -> Tensor:
        return SharedDraw._counts(codes, size)

    @classmethod
    def _mu(cls, x: Tensor, S: int) -> Tensor:
        return cls._counts(x, S) / x.shape[1]


def switched(name: str, **bug):
    """A `ByTheBook` with one bug switched on."""
    return type(name, (ByTheBook,), {"name": f"broken: {name}", **bug})


DiscountPerRound = switched("discount per round", discount_per_round=True)
RewardAfterMove = switched("reward of the next state", reward_after_move=True)
TransposedKernel = switched("P[s', a, s]", transposed=True)
UniformInitial = switched("uniform initial states", uniform_initial=True)
IdleAgentsEarn = switched("idle agents redraw and earn", idle_agents_earn=True)
WithReplacement = switched("acting set with replacement", with_replacement=True)
StalePopulation = switched("population one round stale", stale_population=True)
RecordBefore = switched("mu recorded before the moves", record_before=True)
FixedSeed = switched("fixed seed, identical replicas", seed_mode="fixed")
SharedActionDraws = switched("action draws shared across replicas", seed_mode="shared-actions")

_AR = "approximation-rate::"
#: The cheapest game that shows a bug visible synchronously (power tests run it; the
#: stationary games catch these too: docs/approximation_rate.md).
HORIZON = "garnet-horizon-4"
CATALOGUE = [
    Entry("tests.broken_simulators:SharedDraw", role="simulator", bug_class="random stream",
          description="one shared uniform per replica and round for every agent's action and "
                      "move: μ̂_N does not concentrate",
          caught_by=(_AR + "distribution-error",)),
    Entry("tests.broken_simulators:MovesIdleAgents", role="simulator", bug_class="acting set",
          description="every round synchronous whatever the schedule: idle agents move",
          caught_by=(_AR + "population-mean", _AR + "mean-return",
                     "sync-async::idle-agents-keep-state", "sync-async::population-recursion"),
          games=("garnet-from-mu0", "resource_selection(κ=0.5)", "queueing(slowdown=0.5)")),
    Entry("tests.broken_simulators:DiscountPerRound", role="simulator",
          bug_class="discount convention",
          description="returns discounted γ^round instead of γ^(the agent's decisions): "
                      "asynchronous returns collapse",
          caught_by=(_AR + "mean-return",), games=("garnet-from-mu0",)),
    Entry("tests.broken_simulators:RewardAfterMove", role="simulator", bug_class="time indexing",
          description="each decision paid r(x', a, L̂_N) at the state the agent moved to",
          caught_by=(_AR + "mean-return",), games=(HORIZON,)),
    Entry("tests.broken_simulators:TransposedKernel", role="simulator",
          bug_class="tensor orientation",
          description="P(s'|s, a) read as P[s', a, s] (rows renormalised)",
          caught_by=(_AR + "population-mean",), games=(HORIZON,)),
    Entry("tests.broken_simulators:UniformInitial", role="simulator", bug_class="initial state",
          description="initial states uniform instead of drawn from μ0 / initial",
          caught_by=(_AR + "population-mean",), games=(HORIZON,)),
    Entry("tests.broken_simulators:IdleAgentsEarn", role="simulator", bug_class="acting set",
          description="idle agents redraw an action each round and earn its reward (they "
                      "keep their state), and their drawn actions enter L̂_N",
          caught_by=(_AR + "mean-return",), games=("garnet-from-mu0",)),
    Entry("tests.broken_simulators:WithReplacement", role="simulator", bug_class="acting set",
          description="the acting set of a fraction f: round(fN) agents drawn with "
                      "replacement (1 − e^(−f) of them distinct)",
          caught_by=(_AR + "population-mean",), games=("queueing-from-idle",)),
    Entry("tests.broken_simulators:StalePopulation", role="simulator",
          bug_class="stale population",
          description="rewards and transitions of round n see L̂_N of round n − 1",
          caught_by=(_AR + "mean-return",), games=(HORIZON,)),
    Entry("tests.broken_simulators:RecordBefore", role="simulator", bug_class="measurement",
          description="μ̂_N recorded before a round's moves instead of after (records one "
                      "round late)",
          caught_by=(_AR + "population-mean",), games=(HORIZON,)),
    Entry("tests.broken_simulators:FixedSeed", role="simulator", bug_class="random stream",
          description="a fixed seed whatever `seed` is, the same draws for every replica",
          caught_by=(_AR + "replica-independence",)),
    Entry("tests.broken_simulators:SharedActionDraws", role="simulator",
          bug_class="random stream",
          description="agent i of every replica draws its actions from the same uniforms "
                      "(moves independent): replicas of one call are correlated",
          caught_by=(_AR + "replica-independence",)),
]
