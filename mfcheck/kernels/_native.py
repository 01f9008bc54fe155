"""The finite-horizon sweeps as one C call each (CPU, float64), for static transitions.

Why: on small games the torch sweeps are all per-call overhead. An epoch costs a handful of
torch calls of 2–20 µs each whatever their size, against well under a microsecond of
arithmetic on crowd_modelling 10×10 (docs/performance.md), and a planner's iteration is
~30 epochs. When the game's transition is one operator for every epoch and every population
(``transition_depends_on_time=False``, ``transition_depends_on_population=False``), a whole
sweep needs no Python between epochs: the forward flow is μ_{t+1} = (μ_t ⊗ π_t) P and the
backward sweep q_t = r_t + γ P v_{t+1} with the rewards evaluated beforehand. One C call
does either, for a batch of policies, on the dense form (``next_states`` NULL: K = S) or on
the stencil form.

The results are those of the torch sweeps to rounding (the same products, summed in
another order): tests/test_transition.py checks both paths against each other. The state
values of a sweep are, by ``mode``: 0 max_a q; 1 τ·logsumexp(q/τ); 2 Σ_a π q + τ·H(π).

Build: by `mfcheck.native` (once per source, compiler, CPU and flags, cached). Without a C
compiler, or with ``MFCHECK_NATIVE=0``, the kernels use torch.
"""

from __future__ import annotations

import ctypes

import torch

from mfcheck.native import CompiledLibrary
from mfcheck.transition import DenseOperator, Operator, StencilOperator

SOURCE = r"""
#include <math.h>
#include <stdint.h>
#include <string.h>

/* P(s' | s, a): row (s, a) holds K entries; next == NULL means the dense form (K = S),
   whose loops are written apart so that the compiler can vectorise them. */

void mfc_forward(int64_t B, int64_t H, int64_t S, int64_t A, int64_t K,
                 const double *mu0, const double *policy, const int64_t *next,
                 const double *probs, double *mu, double *L) {
    for (int64_t b = 0; b < B; ++b) {
        double *mu_b = mu + b * H * S, *L_b = L + b * H * S * A;
        const double *pi_b = policy + b * H * S * A;
        memcpy(mu_b, mu0, S * sizeof(double));
        for (int64_t t = 0; t < H; ++t) {
            const double *m = mu_b + t * S, *pi = pi_b + t * S * A;
            double *l = L_b + t * S * A;
            for (int64_t s = 0; s < S; ++s)
                for (int64_t a = 0; a < A; ++a) l[s * A + a] = m[s] * pi[s * A + a];
            if (t + 1 == H) break;
            double *out = mu_b + (t + 1) * S;
            memset(out, 0, S * sizeof(double));
            for (int64_t i = 0; i < S * A; ++i) {
                double w = l[i];
                if (w == 0.0) continue;  /* adds exact zeros only: probabilities are finite */
                const double *p = probs + i * K;
                if (next) {
                    const int64_t *nx = next + i * K;
                    for (int64_t k = 0; k < K; ++k) out[nx[k]] += w * p[k];
                } else {
                    for (int64_t k = 0; k < K; ++k) out[k] += w * p[k];
                }
            }
        }
    }
}

static double state_value(const double *q, const double *pi, int64_t A, int mode, double tau) {
    double v;
    if (mode == 0) {
        v = q[0];
        for (int64_t a = 1; a < A; ++a) v = q[a] > v ? q[a] : v;
    } else if (mode == 1) {
        double m = q[0];
        for (int64_t a = 1; a < A; ++a) m = q[a] > m ? q[a] : m;
        double z = 0.0;
        for (int64_t a = 0; a < A; ++a) z += exp((q[a] - m) / tau);
        v = m + tau * log(z);
    } else {
        v = 0.0;
        double h = 0.0;
        for (int64_t a = 0; a < A; ++a) {
            v += pi[a] * q[a];
            if (pi[a] > 0.0) h -= pi[a] * log(pi[a]);
        }
        v += tau * h;
    }
    return v;
}

/* n sweeps side by side over one batch: sweep j uses modes[j]; q_out may be NULL. */
void mfc_backward(int64_t n, int64_t B, int64_t H, int64_t S, int64_t A, int64_t K,
                  const double *rewards, const double *policy, const int64_t *next,
                  const double *probs, double gamma, double tau, const int32_t *modes,
                  double *v_out, double *q_out, double *q_work) {
    for (int64_t j = 0; j < n; ++j)
        for (int64_t b = 0; b < B; ++b) {
            double *v = v_out + (j * B + b) * H * S;
            const double *r_b = rewards + b * H * S * A, *pi_b = policy + b * H * S * A;
            for (int64_t t = H - 1; t >= 0; --t) {
                const double *r = r_b + t * S * A, *vn = v + (t + 1) * S;
                double *q = q_out ? q_out + ((j * B + b) * H + t) * S * A : q_work;
                for (int64_t i = 0; i < S * A; ++i) {
                    double c = 0.0;
                    if (t + 1 < H) {
                        const double *p = probs + i * K;
                        if (next) {
                            const int64_t *nx = next + i * K;
                            for (int64_t k = 0; k < K; ++k) c += p[k] * vn[nx[k]];
                        } else {  /* four partial sums: one chain of dependent adds
                                     would wait on the adder's latency at every term */
                            double c1 = 0.0, c2 = 0.0, c3 = 0.0;
                            int64_t k = 0;
                            for (; k + 4 <= K; k += 4) {
                                c += p[k] * vn[k];
                                c1 += p[k + 1] * vn[k + 1];
                                c2 += p[k + 2] * vn[k + 2];
                                c3 += p[k + 3] * vn[k + 3];
                            }
                            for (; k < K; ++k) c += p[k] * vn[k];
                            c += c1 + c2 + c3;
                        }
                    }
                    q[i] = r[i] + gamma * c;
                }
                for (int64_t s = 0; s < S; ++s)
                    v[t * S + s] = state_value(q + s * A, pi_b + (t * S + s) * A, A, modes[j], tau);
            }
        }
}
"""


def _declare(lib) -> None:
    p, i64, dbl = ctypes.c_void_p, ctypes.c_int64, ctypes.c_double
    lib.mfc_forward.argtypes = [i64] * 5 + [p] * 6
    lib.mfc_forward.restype = None
    lib.mfc_backward.argtypes = [i64] * 6 + [p] * 4 + [dbl, dbl] + [p] * 4
    lib.mfc_backward.restype = None


LIBRARY = CompiledLibrary("sweep_kernel", SOURCE, _declare)

#: State values by sweep: the (hard) maximum, the soft maximum, a policy's own value.
MAX, SOFT_MAX, POLICY = 0, 1, 2

Tensor = torch.Tensor


#: A dense sweep goes to C while (policies in the batch)·S·A·S is at most this: below it the
#: torch loop is per-call overhead; above it torch's GEMM over the batch is faster than C's
#: scalar loops (crowd_modelling 100×100, exploitability of 4 policies: even; of 64: C 250 ms,
#: torch 161 ms; of 1: C 5.4 ms, torch 19 ms). Stencils always go to C (64 policies: C
#: 100 ms, torch's gathers 293 ms).
DENSE_MAX_WORK = 100_000


def static_operator(game, *tensors: Tensor) -> Operator | None:
    """The game's one operator when the C sweeps apply to a batch shaped like ``tensors[0]``
    (``(..., H, S, A)``), else None. They apply to a static transition, float64 CPU tensors,
    with a library, and for the dense form to a small enough product (`DENSE_MAX_WORK`)."""
    if (game.transition_depends_on_population or game.transition_depends_on_time
            or game.device.type != "cpu" or game.dtype != torch.float64
            or any(x.dtype != torch.float64 for x in tensors) or LIBRARY.load() is None):
        return None
    # Static: any population gives the same, cached operator.
    op = game.transition_operator(0, game.mu0.unsqueeze(-1).expand(-1, game.n_actions))
    if isinstance(op, StencilOperator):
        return op
    batch = tensors[0].numel() // (game.horizon * game.n_states * game.n_actions)
    return op if batch == 1 or batch * game.n_states ** 2 * game.n_actions <= DENSE_MAX_WORK \
        else None


def _operator_arrays(op) -> tuple[Tensor | None, Tensor, int]:
    """(next_states or None, probs, K) as contiguous arrays (dense: K = S, no next states)."""
    if isinstance(op, DenseOperator):
        probs = op.P.contiguous()
        return None, probs, op.n_states
    return op.next_states.contiguous(), op.probs.contiguous(), op.next_states.shape[-1]


def _ptr(x: Tensor | None):
    return None if x is None else x.data_ptr()


def forward(op, mu0: Tensor, policy: Tensor) -> tuple[Tensor, Tensor]:
    """(μ, L) of ``policy`` ``(..., H, S, A)`` from ``mu0`` under the static operator ``op``."""
    *batch, H, S, A = policy.shape
    flat = policy.reshape(-1, H, S, A).contiguous()
    B = flat.shape[0]
    nxt, probs, K = _operator_arrays(op)
    mu = policy.new_empty(B, H, S)
    L = policy.new_empty(B, H, S, A)
    mu0 = mu0.contiguous()
    LIBRARY.load().mfc_forward(B, H, S, A, K, _ptr(mu0), _ptr(flat), _ptr(nxt), _ptr(probs),
                               _ptr(mu), _ptr(L))
    return mu.reshape(*batch, H, S), L.reshape(*batch, H, S, A)


def backward(op, rewards: Tensor, discount: float, modes: tuple[int, ...], *,
             policy: Tensor | None = None, temperature: float = 0.0,
             keep_q: bool = False) -> tuple[Tensor, Tensor | None]:
    """Sweeps of the given ``modes`` side by side: (v ``(n, ..., H, S)``, q ``(n, ..., H, S, A)``
    or None). ``rewards`` ``(..., H, S, A)``; ``policy`` (broadcast to it) for `POLICY`."""
    if policy is not None and policy.shape != rewards.shape:
        shape = torch.broadcast_shapes(rewards.shape, policy.shape)
        rewards, policy = rewards.expand(shape), policy.expand(shape)
    *batch, H, S, A = rewards.shape
    r = rewards.reshape(-1, H, S, A).contiguous()
    B, n = r.shape[0], len(modes)
    pi = r if policy is None else policy.reshape(-1, H, S, A).contiguous()
    nxt, probs, K = _operator_arrays(op)
    v = r.new_empty(n, B, H, S)
    q = r.new_empty(n, B, H, S, A) if keep_q else None
    modes_array = torch.tensor(modes, dtype=torch.int32)
    work = r.new_empty(S, A)  # named: it must outlive the call
    LIBRARY.load().mfc_backward(n, B, H, S, A, K, _ptr(r), _ptr(pi), _ptr(nxt), _ptr(probs),
                                discount, temperature, _ptr(modes_array), _ptr(v), _ptr(q),
                                _ptr(work))
    return v.reshape(n, *batch, H, S), None if q is None else q.reshape(n, *batch, H, S, A)
