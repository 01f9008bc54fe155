"""TMF-PG: an all-actions actor-critic for Temporal Mean Field policies π(a | o, μ),
learned from the experience of N agents of which k act per step (`mfcheck.tmf`,
docs/tmf.md).

Protocol (a TMF learner, ``tmf = True``)::

    policy = TMFPG().learn(env, steps=..., seed=..., temperature=None, monitor=None)
    policy(obs, population)  # obs (batch, n) int64, population (batch, S) -> (batch, n, A)

``env`` is a `mfcheck.envs.FiniteGameEnv`; ``steps`` env steps (an epoch is N agent
decisions, N/k steps: ``env.schedule.steps(N, epochs)`` converts); ``temperature`` τ, one per replica (a
``(batch,)`` tensor or a number; None: `DEFAULT_TEMPERATURE`); ``monitor(step,
observation)`` after every step if given. Replicas are independent seeds: each has its
own parameters. On the CPU a seed gives a bit-identical run.

**Features** of the population φ(μ) = (1, m − 1/S) with m = `population_input`(μ) (the
identity; the documented hook a subclass overrides to cut the learner off from μ),
``F = S + 1``. The constant feature carries the stationary part; the centred population
features make it the value at the uniform population.

**Actor** logits θ[o, a, :]·φ(μ) (θ ``(batch, S, A, F)``), π = softmax over a.

**Critic**, one soft action value per (observation, action): Q(o, a, μ) = q[o, a, :]·φ(μ)
(q ``(batch, S, A, F)``), the expected r + γ·V(o', μ') of taking a at o in population μ,
with V(o, μ) = Σ_a π(a|o, μ)·(Q(o, a, μ) − τ log π(a|o, μ)) the soft (entropy-
regularised) value. TD(0) on every acting agent i (o before, o' after, action a,
reward r, μ and μ' the populations before and after the step, γ = ``env.discount``):

    e_i = r + γ·V(o', μ') − Q(o, a, μ),
    q[o, a] += α · Σ_{i acting at o, a_i = a} e_i · φ(μ) / max(n_o·π(a|o, μ), 1).

An idle agent keeps its state, so in a near-stationary population V(o', μ') is the value
at its next decision. n_o·π(a|o, μ) (n_o = N·μ̂_N(o), the agents at o before the step) is
how many samples of (o, a) an epoch brings in expectation: each entry of Q, a rare
action's included, moves by α times the mean of its TD errors per epoch, whatever k; the
max(·, 1) keeps one sample's step at most α.

**Actor step**, natural policy gradient with all actions: for a softmax row the natural
gradient is the soft advantage vector A(o, ·, μ) = Q(o, ·, μ) − τ log π(·|o, μ) −
V(o, μ), known for every action from the critic, so no importance weight is needed (the
first version estimated it from the sampled action, δ/π(a), and had to cap 1/π: docs/
tmf.md). Each acting agent's decision steps its observation's row:

    θ[o, a] += (η/τ) · (c_o / n_o) · ρ(o, a) · A(o, a, μ) · φ(μ),
    ρ(o, a) = min(n_o·π(a|o, μ), 1),

c_o the acting agents at o: an epoch (c_o summing to n_o in expectation) moves θ[o, a]
by (η/τ)·ρ·A, i.e. for ρ = 1 θ ← (1 − η)θ + η·Q/τ up to a constant per row (log π =
logits − log Σ exp): the entropy-regularised NPG step of Cen et al. (2021) in units of
the temperature, stable for every τ when η ≤ 1 (a synchronous epoch is one Euler step).
ρ is the critic's own per-epoch rate for (o, a) relative to α: no action's logit moves
faster than its Q is learned. Without it, an action whose Q was learned under the early,
uniform policy (too low) was pushed below one sample per epoch before its Q could catch
up, and then died out (measured: docs/tmf.md); with it, a logit falls by at most about
(η/τ)·|A| per sample the action can expect, so the action keeps being tried.

**Fixed point.** The actor stops where A = 0, i.e. π(·|o, μ) ∝ exp(Q(o, ·, μ)/τ) — θ =
q/τ, which the features can always represent, Q and the logits being linear in the same
φ(μ) — and the critic where Q is the soft action value of π in the populations the
agents visit. Where the population is at the policy's own stationary point this is the
logit (entropy-regularised) equilibrium: each agent's π is the softmax at τ of its soft
Q-values against the population it creates. (Linear in φ(μ), Q is a least-squares fit
over the visited populations, exact at a stationary one when that one is all it sees.)
Neither ρ nor the per-entry critic steps move the fixed point: they are positive
per-entry step sizes.

**Steps.** α (``critic_step``, default 1) and η (``actor_step``, default 0.05) are per
epoch and in (0, 1]. The critic starts at the level r̄/(1 − γ), r̄ the first step's mean
TD target: the common level is TD(0)'s slowest mode (rate α(1 − γ) per epoch) and plays
no part in A. Updates are hand-written ``index_add``/``bincount`` sums over the acting
agents, no autograd.

**Convergence.** Constant steps, then Polyak averaging: the returned policy uses the
mean of θ over the last ``average`` fraction (default 3/4) of the steps (uniform in steps, hence in
epochs for any fixed k). ``reset_every`` epochs (default 5; None: never) the env is
reset with its ``start``: regular visits to μ0 keep every observation populated, and
``start="random"`` shows the learner many populations μ.
"""

from __future__ import annotations

import math

import torch

from mfcheck.envs.finite_game import FiniteGameEnv
from mfcheck.errors import UsageError

from .mf_q import check_steps
from .policies import cumulative, replica_temperatures, sample_from_cdf, softmax

Tensor = torch.Tensor

#: τ when ``learn`` is given None: in the reward's own units (meant for rewards of order 1,
#: as in the congestion games); suites that compare with an equilibrium pass τ explicitly.
DEFAULT_TEMPERATURE = 0.1


def population_features(population: Tensor) -> Tensor:
    """φ(μ) = (1, μ − 1/S), ``(batch, S + 1)``."""
    S = population.shape[-1]
    ones = torch.ones(*population.shape[:-1], 1, dtype=population.dtype,
                      device=population.device)
    return torch.cat([ones, population - 1.0 / S], -1)


class TMFPolicy:
    """π(a | o, μ) = softmax_a θ[o, a, :]·φ(input(μ)) for the replicas it learned on;
    ``input`` is the learner's `TMFPG.population_input`."""

    def __init__(self, theta: Tensor, population_input) -> None:
        self.theta, self.population_input = theta, population_input

    def table(self, population: Tensor) -> Tensor:
        """π_μ ``(batch, S, A)``: the policy at every observation."""
        features = population_features(self.population_input(population))
        return softmax(torch.einsum("bsaf,bf->bsa", self.theta, features))

    def __call__(self, obs: Tensor, population: Tensor) -> Tensor:
        table = self.table(population)
        return table.gather(1, obs[..., None].expand(-1, -1, table.shape[-1]))


class TMFPG:
    """TMF-PG, the all-actions actor-critic of the module docstring. ``actor_step`` η and
    ``critic_step`` α are per epoch, in (0, 1]; ``average`` the fraction of the steps at the end over which θ
    is averaged; ``reset_every`` epochs between resets (None: never)."""

    name = "tmf-pg"
    tmf = True

    def __init__(self, *, actor_step: float = 0.05, critic_step: float = 1.0,
                 average: float = 0.75, reset_every: float | None = 5,
                 name: str | None = None) -> None:
        for what, value in (("actor_step", actor_step), ("critic_step", critic_step)):
            if not (isinstance(value, (int, float)) and 0.0 < value <= 1.0):
                raise UsageError(f"{what} must be a number in (0, 1] (a fraction per epoch), "
                                 f"got {value!r}")
        if not (isinstance(average, (int, float)) and 0.0 < average <= 1.0):
            raise UsageError(f"average must be in (0, 1], got {average!r}")
        if reset_every is not None and not (isinstance(reset_every, (int, float))
                                            and reset_every > 0):
            raise UsageError(f"reset_every must be None or a number of epochs > 0, "
                             f"got {reset_every!r}")
        self.actor_step, self.critic_step = float(actor_step), float(critic_step)
        self.average, self.reset_every = float(average), reset_every
        if name is not None:
            self.name = name

    def population_input(self, population: Tensor) -> Tensor:
        """What the policy and the critic see of the population μ ``(batch, S)``: μ itself.
        A subclass that returns something independent of μ (e.g. the uniform law) learns a
        stationary table instead of a TMF policy."""
        return population

    def features(self, population: Tensor) -> Tensor:
        """φ(population_input(μ)) ``(batch, F)``."""
        return population_features(self.population_input(population))

    def learn(self, env: FiniteGameEnv, *, steps: int, seed: int, temperature=None,
              monitor=None) -> TMFPolicy:
        if not isinstance(env, FiniteGameEnv):
            raise UsageError(f"{self.name} learns on a mfcheck.envs.FiniteGameEnv, got "
                             f"{type(env).__name__}")
        check_steps(steps)
        B, N, S, A = env.batch, env.n_agents, env.n_observations, env.n_actions
        F, dev, dtype, gamma = S + 1, env.device, env.dtype, env.discount
        tau = replica_temperatures(env, DEFAULT_TEMPERATURE if temperature is None
                                   else temperature)
        gen = torch.Generator(device=dev).manual_seed(seed)
        theta = torch.zeros(B, S, A, F, dtype=dtype, device=dev)
        q = torch.zeros(B, S, A, F, dtype=dtype, device=dev)
        theta_sum = torch.zeros_like(theta)
        averaged_from = steps - max(1, math.ceil(self.average * steps))
        reset_steps = None if self.reset_every is None else env.schedule.steps(env.n_agents, self.reset_every)
        # The actor's step is in units of τ: θ moves towards Q/τ (module docstring).
        actor_steps = self.actor_step / tau[:, None]  # (B, 1)
        tau_ = tau[:, None, None]
        replica_rows = torch.arange(B, device=dev)[:, None] * S  # row b·S + o of a (B·S, ·) table
        ob = env.reset(gen)
        features = self.features(ob.population)
        for step in range(steps):
            log_pi = torch.einsum("bsaf,bf->bsa", theta, features).log_softmax(-1)
            pi = log_pi.exp()
            rows = replica_rows + ob.obs  # (B, N)
            actions = sample_from_cdf(cumulative(pi).view(B * S, A)[rows], gen)
            acting = env.acting_mask(gen)
            nxt = env.step(actions, acting)
            next_features = self.features(nxt.population)
            action_values = torch.einsum("bsaf,bf->bsa", q, features)
            # V(o', μ') for every o' of every replica, flat (B·S).
            next_log_pi = torch.einsum("bsaf,bf->bsa", theta, next_features).log_softmax(-1)
            next_soft = torch.einsum("bsaf,bf->bsa", q, next_features) - tau_ * next_log_pi
            next_value = (next_log_pi.exp() * next_soft).sum(-1).reshape(-1)
            # The acting agents' samples, as flat indices into (B·N).
            who = acting.reshape(-1).nonzero().squeeze(1)
            row = rows.reshape(-1)[who]
            next_row = (replica_rows + nxt.obs).reshape(-1)[who]
            code = row * A + actions.reshape(-1)[who]
            error = (nxt.reward.reshape(-1)[who] + gamma * next_value[next_row]
                     - action_values.reshape(-1)[code])
            if step == 0:
                # Start the critic at the level of the first step's mean TD target held
                # forever, r̄/(1 − γ): the common level is the slowest mode of TD(0)
                # (rate α(1 − γ) per epoch) and does not enter the advantage.
                total = torch.zeros(B, dtype=dtype, device=dev).index_add_(0, row // S, error)
                level = total / acting.sum(1).clamp_min(1) / (1.0 - gamma)
                q[..., 0] = level[:, None, None]
                error = error + (gamma - 1.0) * level[row // S]
            at_state = ob.population.reshape(B, S) * N  # n_o, before the step
            # Critic: each (o, a) by the mean of its TD errors per epoch (docstring).
            per_pair = torch.zeros(B * S * A, dtype=dtype, device=dev).index_add_(0, code, error)
            samples = at_state[..., None] * pi  # of each (o, a) per epoch, in expectation
            spread = samples.clamp_min(1.0)
            q += ((per_pair.view(B, S, A) / spread)[..., None]
                  * (self.critic_step * features)[:, None, None, :])
            # Actor: every acting agent steps its row by the whole advantage vector, each
            # action at most as fast as its critic learns (samples / spread ≤ 1).
            advantage = action_values - tau_ * log_pi
            advantage -= (pi * advantage).sum(-1, keepdim=True)
            decisions = torch.bincount(row, minlength=B * S).view(B, S) / at_state.clamp_min(1.0)
            theta += ((decisions[..., None] * samples / spread * advantage)[..., None]
                      * (actor_steps * features)[:, None, None, :])
            if step >= averaged_from:
                theta_sum += theta
            if monitor is not None:
                monitor(step, nxt)
            if reset_steps is not None and (step + 1) % reset_steps == 0:
                ob = env.reset(gen)
                features = self.features(ob.population)
            else:
                ob, features = nxt, next_features
        return TMFPolicy(theta_sum / max(1, steps - averaged_from), self.population_input)
