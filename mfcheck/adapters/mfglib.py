"""Adapter for MFGLib (``pip install 'mfcheck[mfglib]'``): games both ways, its algorithms
as mfcheck planners.

- `from_mfglib(env)`: an MFGLib ``Environment`` as a `FiniteMFG`;
- `to_mfglib(game, dtype)`: any finite-horizon `FiniteMFG` as an MFGLib ``Environment``;
- `MFGLibPlanner(algorithm, **kwargs)`: FictitiousPlay, OnlineMirrorDescent, PriorDescent,
  MFOMO or OccupationMeasureInclusion as an mfcheck planner (docs/adapters.md).

MFGLib's conventions (0.3.0), and what the adapter does with each:

- An ``Environment`` with ``T`` has T + 1 decision epochs: the game gets ``horizon=T + 1``,
  and MFGLib's epoch t is mfcheck's epoch t. Rewards are earned at every epoch,
  undiscounted, as in MFGLib's ``exploitability_score``. MFGLib has no discount and no
  stationary games: `to_mfglib` folds a finite-horizon game's discount into the rewards
  (γ^t·r_t, which leaves every value from epoch 0, hence exploitability and the equilibria,
  unchanged) and refuses a stationary game.
- ``L`` is the population's state-action distribution in both libraries.
- States and actions may be multi-dimensional (shapes ``S`` and ``A``); they are
  flattened in C order, so mfcheck's state ``s`` is ``numpy.unravel_index(s, env.S)``.
- ``prob(t, L_t)`` is ordered (next state, state, action); mfcheck's transitions are
  (state, action, next state).
- ``r_max`` ("supremum of the absolute value of rewards") is used by MFOMO alone, to bound
  its variables. `to_mfglib` computes it as the largest |r_t(s, a, L)| over every epoch and
  every vertex of the simplex of L (a point mass on one state-action pair) and the uniform
  policy's flow: the exact supremum whenever |r_t(s, a, ·)| is convex in L (rewards affine
  in L, or −log μ as in crowd modelling); pass ``r_max`` for other games.
- Precision. MFGLib computes in float32: its environments are float32, and its
  algorithms allocate their work tensors (Q-values, mean fields) in torch's *default*
  dtype. `mfglib_dtype(dtype)` sets that default while MFGLib runs, and `MFGLibPlanner`
  does so at its ``dtype`` (float32 by default, MFGLib's own; float64 to run the same
  algorithm in double precision). A float32 probability vector sums to 1 only to ~1e-7:
  `from_mfglib` checks μ0 and the transitions at float32 tolerance and renormalises
  them in float64 (the converted game is the float64 game nearest to MFGLib's float32
  one), and `MFGLibPlanner` yields MFGLib's policies as MFGLib computes them and declares
  their precision (``precision = torch.float32``): the harness validates them at float32's
  tolerance, then casts them to float64 and renormalises them (`mfcheck.boundary`).
  OccupationMeasureInclusion rounds its projection to float32 whatever the dtype
  (``osqp_proj``'s ``.float()``), so it declares float32 at either dtype.

MFGLib is imported only when it is needed (it is an optional peer): importing this
module does not import it, and a missing MFGLib is a `MissingPeerError` naming the extra.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator

import torch

from ..devices import DEFAULT_DTYPE, resolve_device
from ..errors import InvalidGameError, UsageError
from ..game import FiniteMFG, check_distribution, probability_atol
from ..transition import Stencil
from ._peer import require_peer

#: MFGLib's algorithms, by class name (the names `MFGLibPlanner` accepts).
ALGORITHMS = ("FictitiousPlay", "OnlineMirrorDescent", "PriorDescent", "MFOMO",
              "OccupationMeasureInclusion")
#: Tolerances MFGLib's own ``solve`` passes to every iteration by default (0.3.0:
#: ``mfglib.alg.abc.DEFAULT_ATOL``/``DEFAULT_RTOL``); only OccupationMeasureInclusion uses
#: them inside an iteration (its OSQP projection's tolerance).
MFGLIB_ATOL = MFGLIB_RTOL = 1e-3


def _require_mfglib():
    # mfglib.alg first: mfglib.scoring alone hits a circular import in 0.3.0
    require_peer("mfglib.alg", extra="mfglib", tested="mfglib 0.3.0")
    return require_peer("mfglib", extra="mfglib", tested="mfglib 0.3.0")


@contextlib.contextmanager
def mfglib_dtype(dtype: torch.dtype):
    """Run MFGLib at ``dtype``: torch's default dtype, in which MFGLib allocates its work
    tensors, is ``dtype`` inside the block and restored after it."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _env_name(env) -> str:
    module = type(env.reward_fn).__module__
    prefix = "mfglib.env.examples."
    if module.startswith(prefix):
        return f"mfglib.{module[len(prefix):]}"
    return getattr(env.reward_fn, "game_name", None) or "mfglib env"


def from_mfglib(env, *, name: str | None = None, device=None, stencil: bool = False,
                transition_depends_on_time: bool = True,
                transition_depends_on_population: bool = True) -> FiniteMFG:
    """The `FiniteMFG` of an MFGLib ``Environment`` (see the module docstring).

    The game calls ``env.reward`` and ``env.prob`` on every evaluation (they may depend
    on ``L``), on the CPU where MFGLib's tensors live, and moves the results to
    ``device``. ``name`` defaults to ``mfglib.<example>`` for MFGLib's built-in examples
    and to the game's own name for an environment made by `to_mfglib`.

    MFGLib cannot say whether ``prob`` depends on t or L; a caller who knows may declare
    it (the `FiniteMFG` keywords, checked at construction), and ``stencil=True`` hands the
    kernels each (s, a)'s reachable states only (`Stencil.from_dense`): both change the
    cost, never the values.
    """
    _require_mfglib()
    name = name or _env_name(env)
    device = resolve_device(device)
    S, A = tuple(env.S), tuple(env.A)
    n_states, n_actions = math.prod(S), math.prod(A)
    env_dtype = env.mu0.dtype
    atol = probability_atol(env_dtype)

    def normalised(p, what):
        p = p.to(device, DEFAULT_DTYPE).contiguous()
        total = p.sum(-1, keepdim=True)
        if not ((total - 1).abs() <= atol).all():  # also catches NaN; say where and what
            check_distribution(p, owner=f"game {name!r}", what=what, atol=atol,
                               error=InvalidGameError)
        return p / total

    def call(fn, t, L):
        return fn(t, L.detach().to("cpu", env_dtype).reshape(S + A))

    def reward(t, L):
        return call(env.reward, t, L).reshape(n_states, n_actions).to(device, DEFAULT_DTYPE)

    last = {}  # MFGLib's static environments return the same tensor at every call

    def transition(t, L):
        raw = call(env.prob, t, L)
        if last.get("raw") is raw and last["version"] == raw._version:
            return last["p"]
        p = normalised(raw.reshape(n_states, n_states, n_actions).permute(1, 2, 0),
                       f"transition(t={t})")
        if stencil:
            p = Stencil.from_dense(p)
        last.update(raw=raw, version=raw._version, p=p)
        return p

    return FiniteMFG(normalised(env.mu0.detach().reshape(-1), "mu0"), reward, transition,
                     n_actions=n_actions, horizon=env.T + 1, name=name, device=device,
                     transition_depends_on_time=transition_depends_on_time,
                     transition_depends_on_population=transition_depends_on_population)


def reward_bound(game: FiniteMFG) -> float:
    """max |r_t(s, a, L)| over the epochs, the vertices of the simplex of L (one
    state-action pair) and the uniform policy's flow: ``to_mfglib``'s ``r_max`` (exact
    when |r_t(s, a, ·)| is convex in L; see the module docstring)."""
    from ..kernels import distribution

    S, A = game.n_states, game.n_actions
    vertices = torch.eye(S * A, dtype=game.dtype, device=game.device).reshape(S * A, S, A)
    flow = distribution(game, game.uniform_policy())
    bound = 0.0
    for t in range(game.epochs):
        for L in (vertices, flow.L[t]):
            bound = max(bound, float(game.reward(t, L).abs().max()))
    return bound


class _GameFunction:
    """``reward_fn`` / ``transition_fn`` of `to_mfglib`: MFGLib calls ``fn(env, t, L_t)``."""

    def __init__(self, game: FiniteMFG, kind: str, dtype: torch.dtype) -> None:
        self.game, self.kind, self.dtype = game, kind, dtype
        self.game_name = game.name

    def __call__(self, env, t: int, L_t: torch.Tensor) -> torch.Tensor:
        game = self.game
        L = L_t.detach().reshape(game.n_states, game.n_actions).to(game.device, game.dtype)
        if self.kind == "reward":  # the discount folded in: γ^t r_t
            out = game.reward(t, L) * game.discount ** t
        else:  # (S, A, S') -> MFGLib's (S', S, A)
            out = game.transition(t, L).permute(2, 0, 1)
        return out.to("cpu", self.dtype)


def to_mfglib(game: FiniteMFG, dtype: torch.dtype = torch.float64, *,
              r_max: float | None = None):
    """An MFGLib ``Environment`` of a finite-horizon `FiniteMFG` (see the module docstring).

    ``T = horizon − 1``, ``S = (n_states,)``, ``A = (n_actions,)``, μ0 and every reward and
    transition in ``dtype`` on the CPU (MFGLib's device), the discount folded into the
    rewards. The environment calls the game on every evaluation (population-dependent
    games stay so). ``r_max`` defaults to `reward_bound` (used by MFOMO only).
    Run MFGLib on it inside `mfglib_dtype(dtype)`.
    """
    mfglib = _require_mfglib()
    if game.stationary:
        raise InvalidGameError(f"game {game.name!r} is stationary (discount {game.discount}); "
                               f"MFGLib's environments are finite-horizon only")
    if r_max is None:
        r_max = reward_bound(game)
    if not math.isfinite(r_max):
        raise InvalidGameError(f"game {game.name!r}: the reward bound r_max is {r_max}; "
                               f"pass a finite r_max to to_mfglib")
    return mfglib.env.Environment(
        T=game.horizon - 1, S=(game.n_states,), A=(game.n_actions,),
        mu0=game.mu0.detach().to("cpu", dtype), r_max=float(r_max),
        reward_fn=_GameFunction(game, "reward", dtype),
        transition_fn=_GameFunction(game, "transition", dtype))


def to_mfglib_policy(policy: torch.Tensor, env) -> torch.Tensor:
    """An mfcheck policy ``(T + 1, n_states, n_actions)`` as MFGLib's ``(T + 1, *S, *A)``.

    Cast to the environment's dtype (that of ``env.mu0``) on the CPU, as MFGLib expects;
    its ``exploitability_score`` renormalises the rounded rows.
    """
    return policy.detach().to("cpu", env.mu0.dtype).reshape((env.T + 1, *env.S, *env.A))


def mfglib_exploitability(game: FiniteMFG, policy: torch.Tensor,
                          dtype: torch.dtype = torch.float64) -> float:
    """MFGLib's own ``exploitability_score`` of ``policy`` on ``to_mfglib(game, dtype)``,
    computed at ``dtype``."""
    _require_mfglib()
    from mfglib.scoring import exploitability_score

    with mfglib_dtype(dtype):
        env = to_mfglib(game, dtype)
        return float(exploitability_score(env, to_mfglib_policy(game.check_policy(policy), env)))


class MFGLibPlanner:
    """One of MFGLib's algorithms as an mfcheck planner.

    ``algorithm``: a name of `ALGORITHMS` (built with ``**kwargs``, MFGLib's constructor
    arguments, e.g. ``MFGLibPlanner("OnlineMirrorDescent", alpha=0.1)``), or an instance of
    one of MFGLib's algorithms. ``dtype``: the precision MFGLib runs at (float32, MFGLib's
    own, by default). ``atol``/``rtol``: the tolerances passed to each iteration, MFGLib's
    ``solve`` defaults (they set OccupationMeasureInclusion's projection tolerance; MFGLib's
    early stopping is off: the harness decides how many iterations to take).

    ``solve`` converts the game with `to_mfglib` and yields one policy per iteration of the
    algorithm, the k-th after k iterations (MFGLib's ``solve(max_iter=k)[0][k]``), started
    from ``initial_policy`` (MFGLib's ``pi_0``) or uniform. The iterative algorithms are
    stepped one iteration per policy (``step_next_state``). MFOMO has no step of its own:
    its ``solve`` is re-run with ``max_iter`` doubled each time the iterates run out, and
    the adapter checks that the re-run repeats the policies already yielded (MFOMO is
    deterministic), so the k-th policy is still MFOMO's k-th iterate (≤ 4× the work).

    Finite-horizon games only (``supports``): MFGLib has no stationary games.
    """

    temperature = 0.0
    convergent = True

    def __init__(self, algorithm="FictitiousPlay", *, dtype: torch.dtype = torch.float32,
                 atol: float | None = MFGLIB_ATOL, rtol: float | None = MFGLIB_RTOL,
                 name: str | None = None, **kwargs) -> None:
        if isinstance(algorithm, str):
            if algorithm not in ALGORITHMS:
                raise UsageError(f"MFGLibPlanner: unknown algorithm {algorithm!r}; MFGLib's "
                                 f"algorithms: {', '.join(ALGORITHMS)}")
            label = algorithm
        else:
            if kwargs:
                raise UsageError("MFGLibPlanner: constructor arguments go with an algorithm "
                                 "name, not with an instance")
            label = type(algorithm).__name__
        if dtype not in (torch.float32, torch.float64):
            raise UsageError(f"MFGLibPlanner: dtype must be torch.float32 or torch.float64, "
                             f"got {dtype}")
        self.algorithm, self.kwargs = algorithm, kwargs
        self.dtype, self.atol, self.rtol = dtype, atol, rtol
        # OccupationMeasureInclusion's projection is float32 whatever the dtype
        self.precision = torch.float32 if label == "OccupationMeasureInclusion" else dtype
        args = [f"{k}={v!r}" for k, v in kwargs.items()]
        args += [] if dtype == torch.float32 else ["float64"]
        self.name = name or f"mfglib-{label}({', '.join(args)})"

    def _build(self):
        mfglib = _require_mfglib()
        if not isinstance(self.algorithm, str):
            return self.algorithm
        return getattr(mfglib.alg, self.algorithm)(**self.kwargs)

    def supports(self, game: FiniteMFG) -> bool | str:
        if game.stationary:
            return "MFGLib solves finite-horizon games only (no stationary discounted games)"
        return True

    def solve(self, game: FiniteMFG, *, seed: int,
              initial_policy: torch.Tensor | None = None) -> Iterator[torch.Tensor]:
        del seed  # MFGLib's algorithms are deterministic
        algorithm = self._build()
        with mfglib_dtype(self.dtype):
            env = to_mfglib(game, self.dtype)
            start = (game.uniform_policy() if initial_policy is None
                     else game.check_policy(initial_policy, what="initial policy"))
            pi_0 = to_mfglib_policy(start, env)
        from mfglib.alg.abc import Iterative

        steps = (self._iterate if isinstance(algorithm, Iterative) else self._rerun)(
            algorithm, env, pi_0)
        for pi in steps:  # at MFGLib's precision, declared: the harness validates and casts
            yield pi.detach().reshape(game.policy_shape).to(game.device)

    def _iterate(self, algorithm, env, pi_0) -> Iterator[torch.Tensor]:
        with mfglib_dtype(self.dtype):
            state = algorithm.init_state(env, pi_0)
        while True:
            with mfglib_dtype(self.dtype):
                state = algorithm.step_next_state(state, self.atol, self.rtol)
            yield state.pi

    def _rerun(self, algorithm, env, pi_0) -> Iterator[torch.Tensor]:
        done, previous = 0, None
        max_iter = 16
        while True:
            with mfglib_dtype(self.dtype):
                pis, _, _ = algorithm.solve(env, pi_0=pi_0, max_iter=max_iter, atol=None,
                                            rtol=None)
            if previous is not None and not torch.equal(pis[done], previous):
                raise RuntimeError(f"{type(algorithm).__name__} re-run with max_iter={max_iter} "
                                   f"did not repeat its iterate {done}: the adapter can only "
                                   f"step deterministic algorithms this way")
            for k in range(done + 1, len(pis)):
                yield pis[k]
            done, previous = len(pis) - 1, pis[-1]
            max_iter *= 2


#: MFGLib's algorithms at their own default parameters, float32 (MFGLib's precision), and
#: mirror descent also in float64: the adapted solvers of docs/peers.md (spec
#: ``mfcheck.adapters.mfglib:PLANNERS``). Building them imports nothing of MFGLib.
PLANNERS = {
    "fictitious-play": MFGLibPlanner("FictitiousPlay"),
    "online-mirror-descent": MFGLibPlanner("OnlineMirrorDescent"),
    "online-mirror-descent-float64": MFGLibPlanner("OnlineMirrorDescent", dtype=torch.float64),
    "prior-descent": MFGLibPlanner("PriorDescent"),
    "mfomo": MFGLibPlanner("MFOMO"),
    "occupation-measure-inclusion": MFGLibPlanner("OccupationMeasureInclusion"),
}
