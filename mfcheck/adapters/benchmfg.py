"""Adapter for Bench-MFG (``pip install 'mfcheck[benchmfg]'``, PyPI ``bench-mfg-suite``,
import ``benchmfg``): its environments as mfcheck games, mfcheck's stationary games as its
models, and its solvers as mfcheck planners.

Bench-MFG's model (``benchmfg.envs.mfg_model_class.MFGStationary``, 0.1.3) is a
stationary discounted MFG: ``N_states`` states, ``N_actions`` actions, ``gamma``, a
reward ``reward(mean_field, state, action)`` of the population's *state* distribution μ,
and a deterministic move ``transition(mean_field, state, action, noise) -> next state``
with a noise of law ``noise_prob``. `from_benchmfg` turns it into a stationary
`FiniteMFG` (``horizon=None``, ``discount=gamma``): r(s, a, L) = reward(μ, s, a) with
μ = L's state marginal, P(s' | s, a, L) = Σ_n noise_prob[n]·1[transition(μ, s, a, n) = s'],
and μ0 = the model's ``stationary_mean_field`` at conversion (Bench-MFG's initial
distribution). The game calls the model's Python functions in this process (Bench-MFG's
own matrix builders fork a process pool per evaluation).

Exploitability differs by definition, not by conversion (docs/adapters.md):
Bench-MFG's ``exploitability(π)`` is ⟨μ^π, V*_H − V^π_H⟩ with μ^π fifty steps of the
population's propagation from the model's *current* ``stationary_mean_field`` (which its
solvers overwrite as they run) and values truncated at ``horizon − 1`` backups;
mfcheck's is the infinite-horizon ⟨μ0, V* − V^π⟩ at π's exact stationary population.
With the same μ^π and a long horizon, mfcheck's kernels reproduce Bench-MFG's number to
~1e-12 (tests/test_adapters_benchmfg.py), which checks the conversion.

`to_benchmfg(game)` goes the other way: a stationary mfcheck game whose reward and
transition depend on the population only through μ (Bench-MFG's models see nothing else)
as a Bench-MFG model, `GameModel`. Its transitions are dense P(s' | s, a, μ) (an mfcheck
game's need not be a deterministic move per noise value), so `GameModel` overrides the four
routines of ``MFGStationary`` that read the transition (propagation, policy evaluation,
optimal values, Q-values) with the same computations on the dense kernel: the same
``horizon − 1`` backups, the same propagation steps, the same tie-breaking (Bench-MFG's
own ``_derive_optimal_policy``), and the same "second-to-last Q" of ``Q_eval``. On
Bench-MFG's own environments they equal its index-based routines to 1e-12
(tests/test_adapters_benchmfg.py). The horizon defaults to the truncation at which
γ^(H−1) ≤ 1e-12, so Bench-MFG's truncated values are the discounted game's to that
relative precision.

`BenchMFGPlanner(algorithm, **kwargs)` runs Bench-MFG's Python solvers (``DampedFP_python``,
``OMD_python``, ``PI_python`` and its variants) on `to_benchmfg(game)` as mfcheck planners.
Each solver runs its whole loop in one ``eval()`` call, with no step of its own, but every
iteration ends with ``model.exploitability(policy_k)`` on the iterate it has just made (the
weighted average policy, for fictitious play). The planner replaces that method of *its*
model by a hand-over point: ``eval()`` runs in a helper thread that stops at each iteration's
hand-over, the k-th policy is yielded, and the thread goes on only when the harness asks for
the next one (a generator closed early stops the thread). So the k-th yielded policy is the
policy Bench-MFG's ``eval()`` returns with ``num_iterations = k`` (tested), from one
uninterrupted run. Re-running ``eval()`` with k = 1, 2, 4, … (as the MFGLib adapter does
for MFOMO) was not chosen: ``eval()`` returns the last policy only, so that yields the
iterates at powers of two, or costs O(k²) to yield every one. Bench-MFG's own exploitability
(fifty propagation steps and two backward passes per iteration) is not computed (the
iterates do not depend on it), and the name ``tqdm`` in the solver's module is rebound to
a plain iteration (no progress bar over an unbounded loop). PSO is not wrapped: it runs only through Bench-MFG's
JIT-compiled per-environment functions (``create_solver.ENV_JIT_FUNCTIONS``), not on an
arbitrary model.

Bench-MFG (and JAX) are imported only when needed; a missing one is a
`MissingPeerError` naming the extra.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Iterator

import numpy as np
import torch

from ..devices import DEFAULT_DTYPE, resolve_device
from ..errors import InvalidGameError, UsageError
from ..game import FiniteMFG
from ._peer import require_peer

TESTED = "bench-mfg-suite 0.1.3"


def require_benchmfg():
    return require_peer("benchmfg", extra="benchmfg", tested=TESTED)


def load_environment(name: str, overrides: tuple[str, ...] = ()):
    """Bench-MFG's environment ``name`` (a config name, e.g. ``"lasry_lions_chain"``,
    ``"mf_garnet"``) with Hydra ``overrides``: ``(model, initial_policy)``."""
    benchmfg = require_benchmfg()
    cfg = benchmfg.load_config([f"environment={name}", "device=cpu", *overrides])
    return benchmfg.make_environment(cfg)


def from_benchmfg(model, *, name: str | None = None, device=None) -> FiniteMFG:
    """The stationary `FiniteMFG` of a Bench-MFG model (see the module docstring)."""
    require_benchmfg()
    device = resolve_device(device)
    S, A, N = int(model.N_states), int(model.N_actions), int(model.N_noises)
    noise = np.asarray(model.noise_prob, dtype=np.float64)
    name = name or f"benchmfg.{type(model).__name__}"

    def mean_field(L: torch.Tensor) -> np.ndarray:
        return L.detach().sum(-1).cpu().double().numpy()

    def reward(t, L):
        mu = mean_field(L)
        r = [[model.reward(mean_field=mu, state=s, action=a) for a in range(A)]
             for s in range(S)]
        return torch.tensor(np.asarray(r, dtype=np.float64), dtype=DEFAULT_DTYPE,
                            device=device)

    def transition(t, L):
        mu = mean_field(L)
        P = np.zeros((S, A, S))
        for s in range(S):
            for a in range(A):
                for n in range(N):
                    P[s, a, int(model.transition(mean_field=mu, state=s, action=a,
                                                 noise=n))] += noise[n]
        return torch.tensor(P, dtype=DEFAULT_DTYPE, device=device)

    mu0 = np.asarray(model.stationary_mean_field, dtype=np.float64)
    return FiniteMFG(torch.tensor(mu0 / mu0.sum(), dtype=DEFAULT_DTYPE), reward, transition,
                     n_actions=A, horizon=None, discount=float(model.gamma), name=name,
                     device=device)


# -- mfcheck → Bench-MFG -------------------------------------------------------------------

#: `to_benchmfg`'s default truncation: the least H with γ^(H−1) ≤ this.
TRUNCATION = 1e-12


def default_horizon(discount: float) -> int:
    """The least horizon H with γ^(H−1) ≤ `TRUNCATION` (Bench-MFG truncates its values
    at H − 1 backups)."""
    return 1 + math.ceil(math.log(TRUNCATION) / math.log(discount))


def population_beyond_mu(game: FiniteMFG, *, trials: int = 3, seed: int = 0) -> float:
    """The largest change of r(s, a, L) or P(s' | s, a, L) between two populations L with the
    same state distribution μ and different action splits (random draws): 0 when the game
    depends on the population only through μ, which Bench-MFG's models require."""
    gen = torch.Generator().manual_seed(seed)
    S, A, largest = game.n_states, game.n_actions, 0.0
    for _ in range(trials):
        mu = torch.rand(S, generator=gen, dtype=game.dtype) + 0.1
        mu = (mu / mu.sum()).to(game.device)
        La, Lb = (mu[:, None] * torch.softmax(3 * torch.randn(S, A, generator=gen,
                                                               dtype=game.dtype), -1)
                  .to(game.device) for _ in range(2))
        largest = max(largest, float((game.reward(0, La) - game.reward(0, Lb)).abs().max()),
                      float((game.transition(0, La) - game.transition(0, Lb)).abs().max()))
    return largest


def _unsupported(game: FiniteMFG) -> str | None:
    if not game.stationary:
        return (f"Bench-MFG's models are stationary discounted games; {game.name!r} has "
                f"horizon {game.horizon}")
    beyond = population_beyond_mu(game)
    if beyond > 1e-12:
        return (f"Bench-MFG's models see the population's state distribution μ only; the "
                f"reward or transition of {game.name!r} changes by {beyond:.3g} between two "
                f"populations with the same μ")
    return None


def to_benchmfg(game: FiniteMFG, *, horizon: int | None = None):
    """A Bench-MFG model (`GameModel`, an ``MFGStationary``) of a stationary game that
    depends on the population only through μ (see the module docstring); ``horizon``
    defaults to `default_horizon` of the game's discount."""
    require_benchmfg()
    reason = _unsupported(game)
    if reason:
        raise InvalidGameError(f"to_benchmfg: {reason}")
    return _model_class()(game, horizon or default_horizon(game.discount))


_MODEL: list = []


def _model_class():
    """`GameModel`, built once Bench-MFG is imported (it subclasses its MFGStationary)."""
    if _MODEL:
        return _MODEL[0]
    from benchmfg.envs.mfg_model_class import MFGStationary

    class GameModel(MFGStationary):
        """An mfcheck stationary game as a Bench-MFG model, with dense transitions (the
        module docstring). ``reward``/``transition`` per (state, action) are Bench-MFG's
        user interface; its solvers go through the matrix routines overridden here."""

        def __init__(self, game: FiniteMFG, horizon: int) -> None:
            mu0 = game.mu0.detach().cpu().double().numpy()
            super().__init__(N_states=game.n_states, N_actions=game.n_actions, N_noises=1,
                             horizon=horizon, mean_field=mu0, noise_prob=np.ones(1),
                             gamma=float(game.discount))
            self.game = game
            self._memo: dict = {}

        def _tables(self, mean_field: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """(R[s, a], P[s, a, s']) at the state distribution ``mean_field``."""
            mu = np.ascontiguousarray(mean_field, dtype=np.float64)
            key = mu.tobytes()
            hit = self._memo.get(key)
            if hit is None:
                game = self.game
                m = torch.as_tensor(mu, dtype=game.dtype, device=game.device)
                L = m[:, None].expand(game.n_states, game.n_actions) / game.n_actions
                hit = (game.reward(0, L).detach().cpu().double().numpy(),
                       game.transition(0, L).detach().cpu().double().numpy())
                if len(self._memo) > 256:
                    self._memo.clear()
                self._memo[key] = hit
            return hit

        def reward(self, mean_field=None, state=None, action=None) -> float:
            return float(self._tables(mean_field)[0][state, action])

        def transition(self, mean_field=None, state=None, action=None, noise=None) -> int:
            raise NotImplementedError("GameModel's transitions are dense P(s' | s, a, μ); "
                                      "its matrix routines read them")

        def _build_reward_matrix(self, mean_field):
            return self._tables(mean_field)[0].copy()

        def mean_field_by_transition_kernel(self, policy, num_transition_steps=50):
            mf = self.stationary_mean_field.copy()
            for _ in range(num_transition_steps):
                P = self._tables(mf)[1]
                mf = np.einsum("s,sa,sat->t", mf, policy, P)
                mf = mf / mf.sum()
            return mf

        def _backups(self, mean_field, policy=None):
            """Bench-MFG's horizon − 1 backups at a fixed μ: (V, last Q, second-to-last Q),
            V = Σ_a π Q (policy given) or max_a Q (optimal values)."""
            R, P = self._tables(mean_field)
            V = np.zeros(self.N_states)
            Q = Q_prev = np.zeros((self.N_states, self.N_actions))
            for _ in range(self.horizon - 1):
                Q_prev, Q = Q, R + self.gamma * (P @ V)
                V = Q.max(axis=1) if policy is None else np.einsum("sa,sa->s", policy, Q)
            return V, Q, Q_prev

        def V_eval(self, policy, mean_field):
            return self._backups(mean_field, policy)[0]

        def Vpi_opt(self, mean_field, mixed_policy=False):
            V, Q, _ = self._backups(mean_field)
            return V, self._derive_optimal_policy(Q, mixed_policy)

        def Q_eval(self, policy, mean_field):
            _, _, Q_prev = self._backups(mean_field, policy)
            return Q_prev if self.horizon >= 3 else np.zeros((self.N_states, self.N_actions))

    _MODEL.append(GameModel)
    return GameModel


# -- Bench-MFG's solvers as planners ---------------------------------------------------------

#: Bench-MFG's Python solvers: name -> (module, class, packaged defaults of bench-mfg-suite
#: 0.1.3's config/algorithm/*.yaml for that solver's constructor).
ALGORITHMS = {
    "damped_fixed_point": ("benchmfg.learner.python.fp_py", "DampedFP_python",
                           {"lambda_schedule": "fictitious_play", "damped_constant": 0.2,
                            "num_transition_steps": 20}),
    "omd": ("benchmfg.learner.python.omd_py", "OMD_python",
            {"learning_rate": 0.005, "temperature": 0.2}),
    "policy_iteration": ("benchmfg.learner.python.pi_py", "PI_python",
                         {"variant": "policy_iteration", "temperature": 0.2,
                          "damped_constant": 0.4}),
}


class _Stop(Exception):
    """Raised inside Bench-MFG's loop to end its thread when the generator is closed."""


class BenchMFGPlanner:
    """One of Bench-MFG's Python solvers as an mfcheck planner (the module docstring).

    ``algorithm`` with ``**kwargs`` (its constructor's, over the packaged defaults of
    `ALGORITHMS`):

    - ``"damped_fixed_point"``: ``DampedFP_python`` with exact (greedy, first-argmax) best
      responses against the damped mean field μ_k = (1 − λ_k)μ_{k−1} + λ_k μ^{BR_k}
      (20 propagation steps); ``lambda_schedule`` ``"fictitious_play"`` (λ_k = 1/(k + 1),
      the policy yielded is the μ-weighted average of the best responses; the default),
      ``"damped"`` (λ = ``damped_constant``, yields the best response) or ``"pure"``
      (λ = 1). τ = 0; ``"pure"`` and ``"damped"`` yield pure policies, so they declare
      ``convergent = False`` (they cannot reach a mixed equilibrium).
    - ``"omd"``: ``OMD_python``, π_k = softmax(Σ_{j≤k} learning_rate·Q^{π_{j−1}} / temperature)
      with Q the current policy's *unregularised* values: mirror descent with step
      learning_rate/temperature (0.025 at the defaults); it targets Nash, τ = 0.
    - ``"policy_iteration"``: ``PI_python`` with ``variant`` ``"policy_iteration"`` (greedy,
      μ ← μ^π; ``convergent = False``), ``"smooth_policy_iteration"`` (greedy, μ averaged
      with ``damped_constant``; ``convergent = False``: it yields the greedy policy) or
      ``"boltzmann_policy_iteration"`` (π_k = softmax(Q^{π_{k−1}}/temperature) of
      unregularised values: declared τ = temperature, mfcheck's nearest convention; its
      fixed point is not mfcheck's τ-equilibrium, whose continuation carries the entropy).

    ``solve`` builds `to_benchmfg(game)` (``horizon`` defaults to `default_horizon`), starts
    from ``initial_policy`` or uniform, and yields Bench-MFG's k-th iterate at the k-th
    step. Stationary games that depend on the population only through μ (``supports``).
    """

    def __init__(self, algorithm: str = "damped_fixed_point", *, horizon: int | None = None,
                 name: str | None = None, **kwargs) -> None:
        if algorithm not in ALGORITHMS:
            raise UsageError(f"BenchMFGPlanner: unknown algorithm {algorithm!r}; Bench-MFG's "
                             f"solvers here: {', '.join(ALGORITHMS)}")
        self.algorithm, self.horizon = algorithm, horizon
        self.kwargs = {**ALGORITHMS[algorithm][2], **kwargs}
        greedy = ((algorithm == "damped_fixed_point"
                   and self.kwargs["lambda_schedule"] != "fictitious_play")
                  or (algorithm == "policy_iteration"
                      and self.kwargs["variant"] != "boltzmann_policy_iteration"))
        self.convergent = not greedy
        self.temperature = (float(self.kwargs["temperature"])
                            if algorithm == "policy_iteration"
                            and self.kwargs["variant"] == "boltzmann_policy_iteration" else 0.0)
        args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        self.name = name or f"benchmfg-{algorithm}({args})"

    def supports(self, game: FiniteMFG) -> bool | str:
        return _unsupported(game) or True

    def solve(self, game: FiniteMFG, *, seed: int,
              initial_policy: torch.Tensor | None = None) -> Iterator[torch.Tensor]:
        del seed  # Bench-MFG's Python solvers with exact best responses are deterministic
        module, cls, _ = ALGORITHMS[self.algorithm]
        module = require_peer(module, extra="benchmfg", tested=TESTED)
        module.tqdm = _without_progress_bar
        solver_class = getattr(module, cls)
        model = to_benchmfg(game, horizon=self.horizon)
        start = (game.uniform_policy() if initial_policy is None
                 else game.check_policy(initial_policy, what="initial policy"))
        solver = solver_class(model=model, initial_policy=start.detach().cpu().double().numpy(),
                              num_iterations=2**62, **self.kwargs)
        for policy in _handed_over(solver, model):
            out = torch.as_tensor(policy, dtype=game.dtype, device=game.device)
            yield out / out.sum(-1, keepdim=True)


def _handed_over(solver, model) -> Iterator[np.ndarray]:
    """Run ``solver.eval()`` in a thread that stops at each ``model.exploitability(policy)``
    (one per iteration, after the start's) and hand each policy over, one per ``next``."""
    handed: queue.Queue = queue.Queue(maxsize=1)
    go: queue.Queue = queue.Queue(maxsize=1)

    def hand_over(policy):
        handed.put(("policy", np.array(policy, dtype=np.float64, copy=True)))
        if go.get() == "stop":
            raise _Stop
        return float("nan")  # Bench-MFG's own exploitability is not computed

    def run():
        try:
            solver.eval()
            handed.put(("done", None))
        except _Stop:
            pass
        except BaseException as exc:  # noqa: BLE001 (handed to the consumer's thread)
            handed.put(("error", exc))

    model.exploitability = hand_over
    thread = threading.Thread(target=run, name="benchmfg-eval", daemon=True)
    thread.start()
    try:
        first = True
        while True:
            kind, value = handed.get()
            if kind == "error":
                raise value
            if kind == "done":
                raise RuntimeError("Bench-MFG's eval() ended before the harness stopped asking")
            if not first:  # the first hand-over is the start, before any iteration
                yield value
            first = False
            go.put("go")
    finally:
        if thread.is_alive():
            try:
                go.put_nowait("stop")
            except queue.Full:
                pass
            thread.join(timeout=10)


def _without_progress_bar(iterable, **_):
    """Bench-MFG's loops draw a tqdm bar over ``num_iterations``, here unbounded: the
    planner's solver modules iterate through this instead (their name ``tqdm`` rebound)."""
    return iterable


#: Bench-MFG's solvers at its packaged defaults (bench-mfg-suite 0.1.3), and the variants
#: that target an equilibrium: the adapted solvers of docs/peers.md (spec
#: ``mfcheck.adapters.benchmfg:PLANNERS``). Building them imports nothing of Bench-MFG.
PLANNERS = {
    "damped-fixed-point": BenchMFGPlanner("damped_fixed_point"),
    "damped-fixed-point-damped": BenchMFGPlanner("damped_fixed_point", lambda_schedule="damped"),
    "omd": BenchMFGPlanner("omd"),
    "policy-iteration": BenchMFGPlanner("policy_iteration"),
    "smooth-policy-iteration": BenchMFGPlanner("policy_iteration",
                                               variant="smooth_policy_iteration"),
    "boltzmann-policy-iteration": BenchMFGPlanner("policy_iteration",
                                                  variant="boltzmann_policy_iteration"),
}
