"""Adapter for Bench-MFG (``pip install 'mfcheck[benchmfg]'``, PyPI ``bench-mfg-suite``,
import ``benchmfg``): its environments as mfcheck games.

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

Bench-MFG's solvers are not yet wrapped as planners: each runs its whole loop in one
``eval()`` call (no step of its own), so a planner yielding one policy per iteration
needs their loop re-run per iteration or rewritten here.

Bench-MFG (and JAX) are imported only when needed; a missing one is a
`MissingPeerError` naming the extra.
"""

from __future__ import annotations

import numpy as np
import torch

from ..devices import DEFAULT_DTYPE, resolve_device
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
