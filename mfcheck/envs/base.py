"""The N-agent environment interface: what a mean-field learner trains on.

An environment holds ``batch`` independent replicas (one per seed, or per temperature) of
a game between ``n_agents`` agents, all as torch tensors on one device. Every agent has a
current action (its spin, its bid); a step replaces the actions of the agents that act
this step and leaves the others' in place. After a reset and after every step each agent
receives:

- its observation: an integer in ``range(n_observations)`` (tabular games), shape
  ``(batch, n_agents)``, or a feature vector, shape ``(batch, n_agents, *observation_shape)``;
- its mean action ā: the empirical distribution of its neighbours' current actions
  (the mean of their one-hot actions, as in Yang et al. 2018), shape
  ``(batch, n_agents, n_actions)``; the neighbourhood is the game's (four lattice
  neighbours in the Ising game, the rest of the population in Gaussian squeeze);
- after a step, its reward, shape ``(batch, n_agents)``, for the joint action after the step.

Who acts is a ``schedule`` (`Schedule`): everyone at once, a random fraction, or one
agent at a time. A learner draws the mask with ``env.acting_mask(generator)``: the check
decides the schedule, the learner follows it. One step is one *round*; ``N`` agent
decisions (``N`` rounds of one agent, or one round of all) make an *epoch*, the time scale
on which schedules compare.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import torch

from ..devices import resolve_device
from ..errors import InvalidGameError, InvalidPolicyError, UsageError

Tensor = torch.Tensor


@dataclass(frozen=True)
class Schedule:
    """Which agents act in a step: ``"all"`` (synchronous), ``"fraction"`` (each agent
    independently with probability ``fraction``) or ``"one"`` (one agent, uniformly at
    random, per replica)."""

    kind: str = "all"
    fraction: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in ("all", "fraction", "one"):
            raise UsageError(f"schedule kind must be 'all', 'fraction' or 'one', got {self.kind!r}")
        if self.kind == "fraction" and not 0.0 < self.fraction <= 1.0:
            raise UsageError(f"schedule fraction must be in (0, 1], got {self.fraction!r}")

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """``"all"``, ``"one"`` or a fraction such as ``"0.1"``."""
        if text in ("all", "one"):
            return cls(text)
        try:
            return cls("fraction", float(text))
        except ValueError:
            raise UsageError(f"schedule must be 'all', 'one' or a fraction in (0, 1], "
                             f"got {text!r}") from None

    def agents_per_round(self, n_agents: int) -> float:
        """Expected number of agents acting per step."""
        return {"all": n_agents, "one": 1, "fraction": self.fraction * n_agents}[self.kind]

    def acting_fraction(self, n_agents: int) -> float:
        """κ = k/N: the fraction of the agents acting per step (in expectation)."""
        return self.agents_per_round(n_agents) / n_agents

    def steps(self, n_agents: int, epochs: float = 1.0) -> int:
        """The steps that make ``epochs`` epochs of N agent decisions: epochs·N/k, rounded
        (at least one)."""
        return max(1, round(epochs / self.acting_fraction(n_agents)))

    def mask(self, batch: int, n_agents: int, generator: torch.Generator,
             device: torch.device) -> Tensor:
        if self.kind == "all":
            return torch.ones(batch, n_agents, dtype=torch.bool, device=device)
        if self.kind == "one":
            pick = torch.randint(n_agents, (batch,), generator=generator, device=device)
            return torch.nn.functional.one_hot(pick, n_agents).bool()
        u = torch.rand(batch, n_agents, generator=generator, device=device,
                       dtype=torch.float64)
        return u < self.fraction

    def __str__(self) -> str:
        return self.kind if self.kind != "fraction" else f"fraction={self.fraction:g}"


SYNCHRONOUS, SEQUENTIAL = Schedule("all"), Schedule("one")


@dataclass(frozen=True)
class Observation:
    """What every agent sees: ``obs`` and ``mean_action``; after a step also ``reward``
    (the reward of every agent for the joint action after the step) and ``acting`` (the
    mask the step was taken with). Environments of a `FiniteMFG` also give ``population``,
    the distribution of the agents' observations ``(batch, n_observations)`` that Temporal
    Mean Field policies condition on (`mfcheck.tmf`)."""

    obs: Tensor
    mean_action: Tensor
    reward: Tensor | None = None
    acting: Tensor | None = None
    population: Tensor | None = None


class AgentEnv:
    """Base class of mfcheck's N-agent environments (and the documented interface).

    Subclasses set ``name``, ``n_agents``, ``n_actions``, ``n_observations`` (None for
    feature observations), ``observation_shape``, ``action_values`` (the number each
    action stands for: ±1 for spins, 0..9 for Gaussian-squeeze bids; ā · action_values is
    the scalar mean action) and ``discount`` (γ: 0 for stage games), and implement
    ``_reset(generator) -> Observation`` and ``_step(actions, acting) -> Observation``.
    The base class validates what learners pass in and owns the schedule and the RNG
    conventions. ``actions`` is every agent's current action, ``(batch, n_agents)``.
    """

    name: str
    n_agents: int
    n_actions: int
    n_observations: int | None
    observation_shape: tuple[int, ...] = ()
    discount: float = 0.0

    def __init__(self, *, batch: int = 1, schedule: Schedule = SYNCHRONOUS,
                 device=None, dtype: torch.dtype = torch.float64) -> None:
        if not isinstance(batch, int) or batch < 1:
            raise UsageError(f"batch must be a positive int, got {batch!r}")
        self.batch = batch
        self.schedule = schedule
        self.device = resolve_device(device)
        self.dtype = dtype
        self.actions: Tensor | None = None

    # -- what learners call ----------------------------------------------------------------

    def reset(self, generator: torch.Generator) -> Observation:
        """Start every replica afresh (random initial actions, as the game defines)."""
        return self._reset(generator)

    def acting_mask(self, generator: torch.Generator) -> Tensor:
        """Who acts in the next step, drawn from the schedule: bool ``(batch, n_agents)``."""
        return self.schedule.mask(self.batch, self.n_agents, generator, self.device)

    def step(self, actions: Tensor, acting: Tensor | None = None) -> Observation:
        """The agents in ``acting`` (default: all) take ``actions``; the rest keep theirs."""
        if self.actions is None:
            raise UsageError(f"{self.name}: step() before reset()")
        if acting is None:
            acting = torch.ones(self.batch, self.n_agents, dtype=torch.bool, device=self.device)
        self._check_step(actions, acting)
        return self._step(actions, acting)

    # -- helpers for learners and checks --------------------------------------------------------

    @property
    def shape(self) -> tuple[int, int]:
        return (self.batch, self.n_agents)

    def scalar_mean_action(self, mean_action: Tensor) -> Tensor:
        """ā · action_values: the neighbourhood's mean action as a number, ``(batch, N)``."""
        return mean_action @ self.action_values.to(mean_action.dtype)

    # -- for subclasses ---------------------------------------------------------------------

    def _reset(self, generator: torch.Generator) -> Observation:
        raise NotImplementedError

    def _step(self, actions: Tensor, acting: Tensor) -> Observation:
        raise NotImplementedError

    def _check_step(self, actions: Tensor, acting: Tensor) -> None:
        for what, t, dtype in (("actions", actions, None), ("acting", acting, torch.bool)):
            if not isinstance(t, Tensor):
                raise InvalidPolicyError(f"{self.name}: {what} must be a torch.Tensor, "
                                         f"got {type(t).__name__}")
            if tuple(t.shape) != self.shape:
                raise InvalidPolicyError(f"{self.name}: {what} has shape {tuple(t.shape)}, "
                                         f"expected (batch, n_agents) = {self.shape}")
            if t.device != self.device:
                raise InvalidPolicyError(f"{self.name}: {what} is on {t.device}, the "
                                         f"environment on {self.device}")
            if dtype is not None and t.dtype != dtype:
                raise InvalidPolicyError(f"{self.name}: {what} has dtype {t.dtype}, "
                                         f"expected {dtype}")
        if actions.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
            raise InvalidPolicyError(f"{self.name}: actions must be integers, got {actions.dtype}")
        bad = acting & ((actions < 0) | (actions >= self.n_actions))
        if bad.any():
            b, i = (int(v) for v in bad.nonzero()[0])
            raise InvalidPolicyError(f"{self.name}: agent {i} of replica {b} takes action "
                                     f"{int(actions[b, i])}, not in range({self.n_actions})")


def inverse_cdf(cdf: Tensor, u: Tensor) -> Tensor:
    """The entry each ``u`` (shape ``cdf.shape[:-1]``, in [0, cdf[..., -1])) picks from the
    cumulative rows ``cdf`` ``(..., K)``: the number of columns a < K − 1 with
    u ≥ cdf[..., a]. ``>=`` (not ``>``) so that u = 0 cannot pick a leading
    zero-probability entry.

    One comparison per column, a loop over columns, not rows: torch reduces a short last
    axis (K = 2) many times slower than it compares two tensors of the rows' shape.
    """
    index = torch.zeros(u.shape, dtype=torch.long, device=u.device)
    for a in range(cdf.shape[-1] - 1):
        index += u >= cdf[..., a]
    return index


def sample_actions(probs: Tensor, generator: torch.Generator) -> Tensor:
    """One action per row of ``probs`` ``(..., A)``, by inverse CDF (one uniform each,
    scaled by the row's total, so that rows summing to 1 only up to rounding are fine)."""
    u = torch.rand(probs.shape[:-1], generator=generator, device=probs.device,
                   dtype=probs.dtype)
    cdf = probs.cumsum(-1)
    return inverse_cdf(cdf, u * cdf[..., -1])


def one_hot_mean(actions: Tensor, n_actions: int, dtype: torch.dtype) -> Tensor:
    """One-hot encoding ``(..., A)`` of integer actions."""
    return torch.nn.functional.one_hot(actions.long(), n_actions).to(dtype)


def finite_number(value) -> bool:
    """A real, finite number (not a bool): what a game's numeric parameters must be."""
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and math.isfinite(value))


def check_game_parameter(name: str, what: str, value, ok: bool, expected: str) -> None:
    if not ok:
        raise InvalidGameError(f"{name}: {what} must be {expected}, got {value!r}")
