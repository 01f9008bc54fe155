"""The reference N-player simulator of a `FiniteMFG` (see `mfcheck.nplayer` for the protocol).

State: every agent's state, an int64 tensor ``(batch, N)`` (memory linear in N: no
one-hot encodings), and the count of agents in each state, ``(batch, S)``.

A **synchronous round** (schedule ``"all"``, k = N): every agent draws an action from
π(·|x) (one 32-bit uniform each), the population's state-action counts are the counts of
the codes ``x·A + a``, and every agent draws its next state from p(·|x, a, L̂_N) with
L̂_N = counts / N (`sampling.draw_codes`: one pass per draw; on CPU the C kernel of
`_native` makes the same draws, bit for bit). Draws use alias tables when a replica
makes more draws than a table has entries, inverse CDFs otherwise (`sampling.Sampler`);
agent 0 always draws by inverse CDF, so that a paired run in which agent 0 deviates
changes its draws as little as possible (`mfcheck.nplayer.exploitability`).

An **asynchronous round** (``"one"``: one agent, uniformly at random, per replica;
``"fraction"``: each agent independently with probability f) touches only the acting
agents: O(k) work per round, plus the game's reward and transition at L̂_N (two passes
over the acting agents, `sampling.draw_at`; on CPU the C kernel of `_native` makes them,
bit for bit, with the acting set's words and gaps). Idle agents
keep their state. What L̂_N holds for an idle agent: its current state and the law of the
action its policy would draw there, π(·|x) (it has not drawn one: it is not acting); an
acting agent contributes its state and the action it just drew. For k = N this is the
empirical state-action distribution; for every k its mean-field limit is μ ⊗ π, the L of
the mean-field game, so the stationary mean field of `mfcheck.kernels` is the limit
whatever the schedule. (An idle agent's *last* action, drawn at the state it has since
left, would give (current state, last action) pairs whose law is not μ ⊗ π.)

**Time scale.** An *epoch* is N agent decisions: one synchronous round, or N/k rounds
(N for ``"one"``, 1/f on average for ``"fraction"``). Finite-horizon games run
synchronously, one round per decision epoch t = 0 … H − 1 (π_t, r_t and p_t are the
epoch's). Discounted stationary games run any schedule. An agent earns r(x, a, L̂_N) at
each of its own decisions, and its j-th decision (j = 0, 1, …) is discounted by γ^j: γ
applies per decision, i.e. per epoch of its own clock (synchronously, decision t is
round t). Then in a stationary population every agent faces the mean-field MDP whatever
k is. A run of R rounds truncates the returns after each agent's last decision in it.

**Random numbers** are counter-based (`sampling`): the word of replica b at stream
position ``(3n + lane)·N + i`` serves agent i in round n, lane 0 for its action (low
half) and next state (high half), lane 1 for the schedule (for a fraction f, word j of
the lane gives the j-th gap between acting agents: `sampling.bernoulli_positions`), lane
2 (round 0) for the initial state.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..envs.base import Schedule
from ..errors import InvalidPolicyError, UsageError
from ..game import FiniteMFG, check_distribution
from . import _native, sampling

Tensor = torch.Tensor

#: Stream lanes of a round (see the module docstring).
DRAW, SCHEDULE, INITIAL = 0, 1, 2
LANES = 3


@dataclass(frozen=True)
class Trajectory:
    """What a simulation returns.

    ``mu``: the empirical state distributions μ̂_N, ``(batch, records, S)``: at the start
    of rounds 0, e, 2e, … and after the last round (e = ``record_every``) for a stationary
    game, ``records = rounds/e + 1``; at the start of each epoch t = 0 … H − 1 for a
    finite-horizon game (the shape of `mfcheck.kernels.Flow.mu`).
    ``mean_return``: the population's mean return ``(batch,)``; ``deviator_return`` and
    ``deviator_decisions``: agent 0's return and its number of decisions ``(batch,)``;
    ``agent_returns``: every agent's return ``(batch, N)`` when asked for; ``states``: every
    agent's state at the end ``(batch, N)``; ``deviator_control``: with
    ``deviator_values``, agent 0's control variate ``(batch,)`` (zero mean, see
    `Simulation`): ``deviator_return − deviator_control`` estimates the same mean.
    """

    mu: Tensor
    states: Tensor
    mean_return: Tensor
    deviator_return: Tensor
    deviator_decisions: Tensor
    n_agents: int
    schedule: Schedule
    rounds: int
    agent_returns: Tensor | None = None
    deviator_control: Tensor | None = None

    @property
    def epochs(self) -> float:
        """Rounds in epochs: N agent decisions each (expected, for ``"fraction"``)."""
        return self.rounds * self.schedule.agents_per_round(self.n_agents) / self.n_agents


def _schedule(acting, n_agents: int) -> Schedule:
    schedule = acting if isinstance(acting, Schedule) else Schedule.parse(str(acting))
    if schedule.kind == "one" and n_agents == 1 or \
            schedule.kind == "fraction" and schedule.fraction == 1.0:
        return Schedule("all")  # the same dynamics, on the synchronous path
    return schedule


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"{name} must be a positive int, got {value!r}")
    return value


def _law(game: FiniteMFG, law, what: str) -> Tensor:
    if law is None:
        return game.mu0
    law = torch.as_tensor(law, dtype=game.dtype, device=game.device)
    if law.shape != (game.n_states,):
        raise UsageError(f"{what} must have shape ({game.n_states},), got {tuple(law.shape)}")
    check_distribution(law, owner=f"game {game.name!r}", what=what, atol=game.atol,
                       error=UsageError)
    return law


def _backend(backend: str, device: torch.device) -> str:
    """``"native"`` or ``"torch"``, from what was asked for and what this machine has."""
    if backend not in ("auto", "native", "torch"):
        raise UsageError(f"backend must be 'auto', 'native' or 'torch', got {backend!r}")
    native = device.type == "cpu" and _native.load() is not None
    if backend == "native" and not native:
        why = "it runs on the CPU only" if device.type != "cpu" else _native.unavailable_reason()
        raise UsageError(f"the native N-player kernel is unavailable: {why}")
    return "native" if backend != "torch" and native else "torch"


def _values(game: FiniteMFG, values) -> tuple[Tensor, Tensor] | None:
    """``(v, q)`` of shapes ``(epochs, S)`` and ``(epochs, S, A)``, or None."""
    if values is None:
        return None
    v, q = (torch.as_tensor(getattr(values, k), dtype=game.dtype, device=game.device)
            for k in ("v", "q"))
    shape = game.policy_shape
    if tuple(q.shape) != shape or tuple(v.shape) != shape[:-1]:
        raise UsageError(f"deviator_values must have v of shape {shape[:-1]} and q of shape "
                         f"{shape}, got {tuple(v.shape)} and {tuple(q.shape)}")
    return v.reshape(game.epochs, game.n_states), q.reshape(game.epochs, game.n_states,
                                                           game.n_actions)


def _policy(game: FiniteMFG, policy, what: str) -> Tensor:
    policy = game.check_policy(policy, what=what)
    if policy.shape != game.policy_shape:
        raise InvalidPolicyError(f"{what} for game {game.name!r}: shape {tuple(policy.shape)}, "
                                 f"expected {game.policy_shape} (one policy for all replicas)")
    return policy.reshape(game.epochs * game.n_states, game.n_actions)


def acting_agents(keys: Tensor, n: int, schedule: Schedule, n_agents: int,
                  native: bool = False) -> Tensor:
    """Flat indices (into batch·N), in increasing order, of the agents acting in
    asynchronous round n of the replicas with ``keys``: for ``"one"`` a uniform agent per
    replica, for ``"fraction"`` each agent independently with probability f
    (`sampling.bernoulli_positions`: O(k) work, k ≈ fN, not O(N); ``native``: its passes
    by the C kernel, the same indices)."""
    start = (LANES * n + SCHEDULE) * n_agents
    replica = torch.arange(len(keys), device=keys.device)
    if schedule.kind == "one":
        return replica * n_agents + sampling.uniform_index(sampling.words(keys, start), n_agents)
    return sampling.bernoulli_positions(keys, start, schedule.fraction, n_agents, native)


class Simulation:
    """Replicas of the N-player game in progress; `simulate` runs one to the end.

    The arguments are `simulate`'s (validated here). ``round`` counts the rounds played,
    ``x`` holds every agent's state ``(batch, N)``, ``state_counts`` the count of agents in
    each state ``(batch, S)``; `advance` plays more rounds of a stationary game (what the
    benchmarks time), `mu` is μ̂_N now, `trajectory` what `simulate` returns.

    **Control variate.** Given value functions ``deviator_values`` (an object with ``v``
    ``(H, S)`` and ``q`` ``(H, S, A)``, or ``(S,)`` and ``(S, A)`` for a stationary game,
    e.g. `mfcheck.kernels.policy_value` of agent 0's policy against the mean-field flow),
    agent 0 accumulates, at each of its decisions j (weight γ^j),

        q(x, a) − Σ_b σ(b|x) q(x, b)  +  γ (v(x') − Σ_y p(y | x, a, L̂_N) v(y)),

    and v(x_0) − ⟨initial law, v⟩ once. Each term has conditional mean 0 given the past:
    a ~ σ(·|x) and x' ~ p(·|x, a, L̂_N) are drawn from exactly the laws subtracted (the
    realised L̂_N, not the mean field). So the sum has mean 0 for *any* v and q, while the
    return minus it telescopes to v(x_0)-terms plus the differences between the N-player
    and the mean-field rewards and moves: with the mean-field values its variance falls
    from O(1) to the O(1/N) of L̂_N's fluctuations.
    """

    def __init__(self, game: FiniteMFG, policy: Tensor, *, n_agents: int, acting="all",
                 batch: int = 1, seed: int = 0, initial=None, deviation: Tensor | None = None,
                 deviator_initial=None, agent_returns: bool = False,
                 deviator_values=None, backend: str = "auto") -> None:
        n_agents = _positive_int("n_agents", n_agents)
        batch = _positive_int("batch", batch)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise UsageError(f"seed must be an int, got {seed!r}")
        schedule = _schedule(acting, n_agents)
        if not game.stationary and schedule.kind != "all":
            raise UsageError(f"game {game.name!r} has a finite horizon: every agent must act "
                             f"at every decision epoch (acting='all'), got {schedule}")
        backend = _backend(backend, game.device)
        policy = _policy(game, policy, "policy")
        deviation = policy if deviation is None else _policy(game, deviation, "deviation")
        initial = _law(game, initial, "initial")
        deviator_initial = initial if deviator_initial is None else \
            _law(game, deviator_initial, "deviator_initial")
        self.game, self.N, self.B, self.backend = game, n_agents, batch, backend
        self.S, self.A = game.n_states, game.n_actions
        dev = game.device
        self.schedule, self.round = schedule, 0
        self.policy, self.deviation = policy, deviation  # (epochs·S, A): row t·S + x
        self.per_round = schedule.agents_per_round(n_agents)  # draws per replica
        self.policy_draw = sampling.Sampler(self.policy, self.per_round, self.policy.numel())
        self.keys = sampling.replica_keys(seed, batch, dev)
        self.replica = torch.arange(batch, device=dev)
        start = INITIAL * n_agents
        self.x, self.state_counts = self._draw_codes(
            start, False, torch.zeros(batch, n_agents, dtype=torch.int64, device=dev),
            sampling.Sampler(initial[None], n_agents, self.S), 0, 0, 0, self.S)
        u0 = sampling.low_half(sampling.words(self.keys, start))
        self._replace_agent0(self.x, self.state_counts,
                             sampling.inverse_cdf(deviator_initial, u0))
        zeros = torch.zeros(batch, dtype=game.dtype, device=dev)
        self.mean_return, self.deviator_return = zeros, zeros.clone()
        self.deviator_decisions = torch.zeros(batch, dtype=torch.int64, device=dev)
        # Asynchronous rounds discount by each agent's own decision count.
        self.decisions = None if schedule.kind == "all" else \
            torch.zeros(batch, n_agents, dtype=torch.int64, device=dev)
        self.discounts = torch.ones(0, dtype=game.dtype, device=dev)  # `_discount_table`
        self.agent_returns = torch.zeros(batch, n_agents, dtype=game.dtype, device=dev) \
            if agent_returns else None
        # The native kernel's outputs in synchronous rounds (actions, next states): reused.
        self.buffers = [torch.empty_like(self.x), torch.empty_like(self.x)] \
            if backend == "native" and schedule.kind == "all" else [None, None]
        self.values = _values(game, deviator_values)
        self.control = None
        if self.values is not None:
            v0 = self.values[0][0]
            self.control = v0[self.x[:, 0]] - deviator_initial @ v0

    # -- helpers -----------------------------------------------------------------------
    def _count(self, codes: Tensor, size: int, replica: Tensor) -> Tensor:
        """Per-replica counts ``(B, size)`` of the integer ``codes`` of the agents of
        replicas ``replica`` (one shape)."""
        flat = replica * size + codes
        return torch.bincount(flat, minlength=self.B * size).reshape(self.B, size)

    def _deviator_action(self, t: int, x0: Tensor, u0: Tensor) -> Tensor:
        return sampling.inverse_cdf(self.deviation[t * self.S + x0], u0)

    def _deviator_state(self, P: Tensor, replica: Tensor, sa0: Tensor, u0: Tensor
                        ) -> tuple[Tensor, Tensor]:
        """Agent 0's next states and the laws they were drawn from."""
        row = P.reshape(self.B, self.S * self.A, self.S)[replica, sa0]
        return sampling.inverse_cdf(row, u0), row

    def _transition_draw(self, P: Tensor) -> sampling.Sampler:
        S = self.S
        return sampling.Sampler(P.reshape(-1, S), self.per_round, S * self.A * S)

    def _agent0_control(self, replica: Tensor, t: int, sa0: Tensor, weight: Tensor,
                        row: Tensor | None = None, x_next: Tensor | None = None) -> None:
        """Add agent 0's control-variate terms for its decisions ``sa0`` at epoch t in
        ``replica`` (``row``: the law its next state ``x_next`` was drawn from; None after
        the last epoch of a finite-horizon game). See the class docstring."""
        if self.values is None:
            return
        v, q = self.values
        x0, a0 = sa0 // self.A, sa0 % self.A
        q_x = q[t, x0]
        term = q_x.gather(1, a0[:, None])[:, 0] - (self.deviation[t * self.S + x0] * q_x).sum(-1)
        if row is not None:
            v_next = v[t + 1] if t + 1 < len(v) else v[0]
            term = term + self.game.discount * (v_next[x_next] - row @ v_next)
        self.control = self.control.index_add(0, replica, weight * term)

    def mu(self) -> Tensor:
        return self.state_counts.to(self.game.dtype) / self.N

    def advance(self, rounds: int) -> Tensor:
        """Play ``rounds`` more rounds of a stationary game; return μ̂_N after them."""
        if not self.game.stationary:
            raise UsageError(f"game {self.game.name!r} has a finite horizon: `simulate` plays "
                             f"its epochs")
        for _ in range(rounds):
            if self.schedule.kind == "all":
                self.synchronous_round(0, self.game.discount ** self.round, last=False)
            else:
                self.asynchronous_round()
        return self.mu()

    def trajectory(self, mu: Tensor) -> Trajectory:
        return Trajectory(mu, self.x.clone(), self.mean_return, self.deviator_return,
                          self.deviator_decisions, self.N, self.schedule, self.round,
                          self.agent_returns, self.control)

    # -- a synchronous round (epoch t of the policy) ------------------------------------
    def _draw_codes(self, start: int, high: bool, values: Tensor, sampler: sampling.Sampler,
                    replica_rows: int, row_offset: int, out_mult: int, n_codes: int,
                    out: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """`sampling.draw_codes`, by the native kernel when it can (into ``out``)."""
        args = (self.keys, start, high, values, sampler, replica_rows, row_offset, out_mult,
                n_codes)
        if self.backend == "native" and _native.usable(values, sampler):
            return _native.draw_codes(*args, out=out)
        return sampling.draw_codes(*args)

    def _replace_agent0(self, codes: Tensor, counts: Tensor, new: Tensor) -> None:
        """Agent 0 draws by inverse CDF (see the module docstring): swap its code."""
        counts[self.replica, codes[:, 0]] -= 1
        counts[self.replica, new] += 1
        codes[:, 0] = new

    def synchronous_round(self, t: int, discount: float, last: bool) -> None:
        """Round ``self.round``, at epoch ``t`` of the policy (0 for a stationary game)."""
        game, S, A, N, B = self.game, self.S, self.A, self.N, self.B
        start = (LANES * self.round + DRAW) * N
        self.round += 1
        sa, counts = self._draw_codes(start, False, self.x, self.policy_draw, 0, t * S, A, S * A,
                                      out=self.buffers[0])
        w0 = sampling.words(self.keys, start)  # agent 0's word
        x0 = self.x[:, 0]
        a0 = self._deviator_action(t, x0, sampling.low_half(w0))
        self._replace_agent0(sa, counts, x0 * A + a0)
        L = (counts.to(game.dtype) / N).reshape(B, S, A)
        r = game.reward(t, L).reshape(B, S * A)
        self.mean_return = self.mean_return + discount * (L.reshape(B, -1) * r).sum(-1)
        self.deviator_return = self.deviator_return + discount * r[self.replica, sa[:, 0]]
        self.deviator_decisions += 1
        if self.agent_returns is not None:
            self.agent_returns += discount * r.gather(1, sa)
        weight = torch.full((B,), discount, dtype=game.dtype, device=game.device)
        if last:
            self._agent0_control(self.replica, t, sa[:, 0], weight)
            return
        P = game.transition(t, L)
        x, self.state_counts = self._draw_codes(start, True, sa, self._transition_draw(P), S * A,
                                                0, 0, S, out=self.buffers[1])
        x0_next, row = self._deviator_state(P, self.replica, sa[:, 0], sampling.high_half(w0))
        self._replace_agent0(x, self.state_counts, x0_next)
        self._agent0_control(self.replica, t, sa[:, 0], weight, row, x0_next)
        self.buffers[1], self.x = self.x, x

    # -- an asynchronous round (stationary games) ---------------------------------------
    def _discount_table(self, upto: int) -> Tensor:
        """γ^d for d = 0 … at least ``upto`` (`game.dtype`): the weight of an agent's d-th
        decision, looked up rather than raised per decision. Entry d is Python's γ ** d
        whatever the table's length, so it does not depend on how many rounds are played."""
        if len(self.discounts) <= upto:
            size = max(2 * len(self.discounts), upto + 1, 64)
            gamma = self.game.discount
            self.discounts = torch.tensor([gamma ** d for d in range(size)],
                                          dtype=self.game.dtype, device=self.game.device)
        return self.discounts

    def _deviators(self, flat: Tensor) -> tuple[Tensor, Tensor]:
        """Where agent 0 acts: its positions in the increasing flat indices ``flat`` and
        their replicas (a binary search per replica, not a pass over the k agents)."""
        first = self.replica * self.N
        if len(flat) == 0:
            return first[:0], first[:0]
        at = torch.searchsorted(flat, first).clamp_(max=len(flat) - 1)
        hit = flat[at] == first
        return at[hit], self.replica[hit]

    def _native_async(self, sampler: sampling.Sampler) -> bool:
        return self.backend == "native" and self.game.dtype == torch.float64 and \
            _native.usable(self.x, sampler)

    def asynchronous_round(self) -> None:
        """Round ``self.round`` of a stationary game, for the agents the schedule picks.

        O(k) for k acting agents (plus the game at L̂_N and O(B·S·A) counts): the acting
        set, then in one pass each (`sampling.draw_at`, or the C kernel's `draw_at`) the
        acting agents' actions with their counts, then their moves, returns and decisions."""
        game, S, A, N, B, n = self.game, self.S, self.A, self.N, self.B, self.round
        self.round += 1
        native = self.backend == "native"  # the C kernel loaded, on the CPU
        flat = acting_agents(self.keys, n, self.schedule, N, native)
        start = (LANES * n + DRAW) * N
        if self._native_async(self.policy_draw):
            acted = _native.draw_at(self.keys, flat, N, start, False, self.x, self.policy_draw,
                                    0, A, S * A, gather=True, n_values=S)
            sa, replica, sa_counts, acting_states = (acted.codes, acted.replica, acted.counts,
                                                     acted.value_counts)
        else:
            x = self.x.view(-1)[flat]
            sa, replica, sa_counts = sampling.draw_at(self.keys, flat, N, start, False, x,
                                                      self.policy_draw, 0, A, S * A)
            acting_states = self._count(x, S, replica)
        at0, replica0 = self._deviators(flat)
        x0 = self.x[:, 0]
        if len(at0):  # agent 0 draws by inverse CDF from its own policy
            u0 = sampling.low_half(sampling.words(self.keys[replica0], start))
            sa0 = x0[replica0] * A + self._deviator_action(0, x0[replica0], u0)
            sa_counts[replica0, sa[at0]] -= 1
            sa_counts[replica0, sa0] += 1
            sa[at0] = sa0
        idle = (self.state_counts - acting_states).to(game.dtype)
        counts = sa_counts.to(game.dtype).reshape(B, S, A)
        counts += idle[..., None] * self.policy
        # An idle agent 0 contributes its own policy's law (the deviation, if any).
        idle0 = torch.ones(B, dtype=torch.bool, device=x0.device)
        idle0[replica0] = False
        counts[self.replica, x0] += idle0[:, None] * (self.deviation[x0] - self.policy[x0])
        L = counts / N
        r = game.reward(0, L).reshape(B, S * A).contiguous()
        P = game.transition(0, L)
        move = self._transition_draw(P)
        discounts = self._discount_table(n)  # an agent has made at most n decisions
        if self._native_async(move):
            moved = _native.draw_at(self.keys, flat, N, start, True, sa, move, S * A, 0, S,
                                    scatter=self.x, earn=(r, discounts, self.decisions))
            x_new, new_counts, earned = moved.codes, moved.counts, moved.earned
        else:
            x_new, _, new_counts = sampling.draw_at(self.keys, flat, N, start, True, sa, move,
                                                    S * A, 0, S)
            decisions = self.decisions.view(-1)[flat]
            earned = r.view(-1)[replica * (S * A) + sa] * discounts[decisions]
            self.decisions.view(-1)[flat] = decisions + 1
            self.x.view(-1)[flat] = x_new
        if len(at0):  # agent 0 moves by inverse CDF
            sa0 = sa[at0]
            u0 = sampling.high_half(sampling.words(self.keys[replica0], start))
            x0_next, row = self._deviator_state(P, replica0, sa0, u0)
            new_counts[replica0, x_new[at0]] -= 1
            new_counts[replica0, x0_next] += 1
            self.x[replica0, 0] = x0_next
            self._agent0_control(replica0, 0, sa0, discounts[self.deviator_decisions[replica0]],
                                 row, x0_next)
            self.deviator_return = self.deviator_return.index_add(0, replica0, earned[at0])
        self.mean_return = self.mean_return.index_add(0, replica, earned / N)
        self.deviator_decisions = self.decisions[:, 0].clone()
        if self.agent_returns is not None:
            self.agent_returns.view(-1).index_add_(0, flat, earned)
        self.state_counts += new_counts - acting_states


def simulate(game: FiniteMFG, policy: Tensor, *, n_agents: int, acting="all",
             rounds: int | None = None, batch: int = 1, seed: int = 0, initial=None,
             deviation: Tensor | None = None, deviator_initial=None,
             agent_returns: bool = False, record_every: int = 1, deviator_values=None,
             backend: str = "auto") -> Trajectory:
    """Simulate ``batch`` independent replicas of the N-player game (see the module
    docstring); runs on ``game.device``.

    ``acting``: a `Schedule` or its text (``"all"``, ``"one"``, a fraction); finite-horizon
    games need ``"all"``. ``rounds``: stationary games only (finite-horizon games run their
    H epochs). ``initial``: the law of every agent's initial state (default ``game.mu0``).
    ``deviation``: agent 0's policy instead of ``policy``; ``deviator_initial``: the law of
    its initial state (default ``initial``). ``agent_returns``: also every agent's return.
    ``record_every``: record μ̂_N every this many rounds (stationary games; divides
    ``rounds``). ``deviator_values``: value functions for agent 0's control variate (see
    `Simulation`). ``backend``: ``"torch"``, ``"native"`` (the C kernel of `_native` for the
    synchronous draws on CPU, bit-identical) or ``"auto"`` (native when it loads).
    """
    record_every = _positive_int("record_every", record_every)
    if game.stationary:
        rounds = _positive_int("rounds", rounds)
        if rounds % record_every:
            raise UsageError(f"record_every = {record_every} must divide rounds = {rounds}")
    elif rounds not in (None, game.horizon):
        raise UsageError(f"game {game.name!r} has horizon {game.horizon}: it runs "
                         f"{game.horizon} rounds, not rounds = {rounds!r}")
    sim = Simulation(game, policy, n_agents=n_agents, acting=acting, batch=batch, seed=seed,
                     initial=initial, deviation=deviation, deviator_initial=deviator_initial,
                     agent_returns=agent_returns, deviator_values=deviator_values,
                     backend=backend)
    if game.stationary:
        mus = [sim.mu()] + [sim.advance(record_every) for _ in range(rounds // record_every)]
    else:
        mus = [sim.mu()]
        for t in range(game.horizon):
            sim.synchronous_round(t, game.discount ** t, last=t + 1 == game.horizon)
            if t + 1 < game.horizon:
                mus.append(sim.mu())
    return sim.trajectory(torch.stack(mus, 1))
