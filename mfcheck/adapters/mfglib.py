"""Adapter for MFGLib (``pip install mfcheck[mfglib]``): its environments as `FiniteMFG`.

MFGLib's conventions (0.3.0), and what the adapter does with each:

- An ``Environment`` with ``T`` has T + 1 decision epochs: the game gets ``horizon=T + 1``,
  and MFGLib's epoch t is mfcheck's epoch t. Rewards are earned at every epoch,
  undiscounted, as in MFGLib's ``exploitability_score``.
- States and actions may be multi-dimensional (shapes ``S`` and ``A``); they are
  flattened in C order, so mfcheck's state ``s`` is ``numpy.unravel_index(s, env.S)``.
- ``prob(t, L_t)`` is ordered (next state, state, action); mfcheck's transitions are
  (state, action, next state).
- MFGLib computes in the dtype its tensors were built with (float32 by default). The
  environment is called with ``L`` in the dtype of ``env.mu0`` (some environments
  multiply their own float32 tensors by ``L``), and its outputs are promoted to float64.
  A float32 probability vector sums to 1 only to ~1e-7, which mfcheck's float64
  validation (1e-9) would reject: μ0 and the transitions are therefore checked at float32 tolerance
  and renormalised in float64. The converted game is thus the float64 game nearest to
  MFGLib's float32 one, and agrees with MFGLib to float32 precision, no better.

MFGLib is imported only when it is needed (it is an optional peer).
"""

from __future__ import annotations

import math

import torch

from ..devices import DEFAULT_DTYPE, resolve_device
from ..errors import InvalidGameError, UsageError
from ..game import FiniteMFG, check_distribution, probability_atol


def _require_mfglib():
    try:
        import mfglib
    except ImportError:
        raise UsageError("the MFGLib adapter needs mfglib: pip install 'mfcheck[mfglib]' "
                         "(mfglib==0.3.0)") from None
    return mfglib


def _env_name(env) -> str:
    module = type(env.reward_fn).__module__
    prefix = "mfglib.env.examples."
    return f"mfglib.{module[len(prefix):]}" if module.startswith(prefix) else "mfglib env"


def from_mfglib(env, *, name: str | None = None, device=None) -> FiniteMFG:
    """The `FiniteMFG` of an MFGLib ``Environment`` (see the module docstring).

    The game calls ``env.reward`` and ``env.prob`` on every evaluation (they may depend
    on ``L``), on the CPU where MFGLib's tensors live, and moves the results to
    ``device``. ``name`` defaults to ``mfglib.<example>`` for MFGLib's built-in examples.
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
        last.update(raw=raw, version=raw._version, p=p)
        return p

    return FiniteMFG(normalised(env.mu0.detach().reshape(-1), "mu0"), reward, transition,
                     n_actions=n_actions, horizon=env.T + 1, name=name, device=device)


def to_mfglib_policy(policy: torch.Tensor, env) -> torch.Tensor:
    """An mfcheck policy ``(T + 1, n_states, n_actions)`` as MFGLib's ``(T + 1, *S, *A)``.

    Cast to the environment's dtype (that of ``env.mu0``) on the CPU, as MFGLib expects;
    its ``exploitability_score`` renormalises the rounded rows.
    """
    return policy.detach().to("cpu", env.mu0.dtype).reshape((env.T + 1, *env.S, *env.A))
