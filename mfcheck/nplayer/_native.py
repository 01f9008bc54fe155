"""`sampling.draw_codes` as a small C kernel (CPU only), built on first use.

Why: an eager torch round makes ~30 passes over the agents' int64 arrays (the
counter-based words alone take ~13 elementwise ops) and reaches ~1e7 agent-transitions/s
per core on this project's CPU; this kernel makes one pass per draw, keeping the word,
the alias lookup (a table that stays in L1) and the count in registers.

It computes **bit for bit** what the torch code computes (the same SplitMix64 words, the
same alias decoding, the same counts): the torch code is the reference, and the tests
check that both agree exactly. It handles alias tables only; inverse-CDF draws (small
populations) stay in torch. Without a C compiler (``$CC``, else ``cc``) the kernel is
unavailable and the simulator uses torch (``backend="auto"``); ``MFCHECK_NATIVE=0``
turns it off.

Build: by `mfcheck.native` (once per source, compiler, CPU and flags, cached).

Threads (POSIX; ``torch.get_num_threads()`` of them for ≥ `PARALLEL_MIN_DRAWS` draws,
else one): each takes a contiguous range of the batch × agents and counts into its own
histogram; the histograms are summed at the end.
"""

from __future__ import annotations

import ctypes

import torch

from ..counter_rng import SPLITMIX64_C
from ..native import CompiledLibrary
from .sampling import Sampler

SOURCE = r"""
#include <pthread.h>
#include <stdint.h>
""" + SPLITMIX64_C + r"""
#define LOW32 0xFFFFFFFFULL

typedef struct {
    const int64_t *values, *keys, *packed;
    int64_t *codes, *counts;
    int64_t N, start, K, replica_rows, row_offset, out_mult, n_codes, first, last;
    int shift;
} job_t;

#define BLOCK 512

/* Draws for the flat range [first, last) of (replica, agent) = (f / N, f % N). The
   uniforms of a block are computed first (a loop the compiler vectorises), then looked up. */
static void *draw_range(void *arg)
{
    const job_t *j = (const job_t *)arg;
    const int64_t N = j->N, K = j->K, out_mult = j->out_mult, n_codes = j->n_codes;
    const int shift = j->shift;
    uint32_t u[BLOCK];
    for (int64_t f = j->first; f < j->last;) {
        const int64_t b = f / N, i0 = f - b * N;
        const int64_t i1 = (b + 1) * N <= j->last ? N : j->last - b * N;
        const uint64_t base = (uint64_t)j->keys[b] + (uint64_t)j->start * GAMMA;
        const int64_t *restrict v = j->values + b * N;
        int64_t *restrict c = j->codes + b * N;
        int64_t *restrict count = j->counts + b * n_codes;
        const int64_t *restrict table = j->packed + (b * j->replica_rows + j->row_offset) * K;
        for (int64_t i = i0; i < i1; i += BLOCK) {
            const int64_t n = i1 - i < BLOCK ? i1 - i : BLOCK;
            for (int64_t k = 0; k < n; k++)
                u[k] = (uint32_t)(mix64(base + (uint64_t)(i + k) * GAMMA) >> shift);
            for (int64_t k = 0; k < n; k++) {
                const int64_t value = v[i + k];
                const uint64_t spread = (uint64_t)u[k] * (uint64_t)K;
                const int64_t column = (int64_t)(spread >> 32);
                const int64_t entry = table[value * K + column];
                const int64_t outcome = (spread & LOW32) < (uint64_t)(entry >> 16)
                                        ? column : (entry & 0xFFFF);
                const int64_t code = value * out_mult + outcome;
                c[i + k] = code;
                count[code]++;
            }
        }
        f = b * N + i1;
    }
    return 0;
}

/* counts: threads histograms of B·n_codes, zeroed by the caller; summed into the first.
   Returns 0, or 1 when a thread could not start (the caller then runs it on one thread,
   with fresh counts: the codes are all written again). */
int mfc_nplayer_draw(const int64_t *values, int64_t *codes, int64_t *counts,
                     const int64_t *keys, const int64_t *packed, int64_t B, int64_t N,
                     int64_t start, int high, int64_t K, int64_t replica_rows,
                     int64_t row_offset, int64_t out_mult, int64_t n_codes, int threads)
{
    job_t jobs[64];
    pthread_t ids[64];
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    const int64_t total = B * N;
    for (int t = 0; t < threads; t++) {
        job_t j = {values, keys, packed, codes, counts + (int64_t)t * B * n_codes, N, start, K,
                   replica_rows, row_offset, out_mult, n_codes, total * t / threads,
                   total * (t + 1) / threads, high ? 32 : 0};
        jobs[t] = j;
    }
    int started = 1;
    for (; started < threads; started++)
        if (pthread_create(&ids[started], 0, draw_range, &jobs[started]) != 0) break;
    if (started < threads) {
        for (int t = 1; t < started; t++) pthread_join(ids[t], 0);
        return 1;
    }
    draw_range(&jobs[0]);
    for (int t = 1; t < threads; t++) pthread_join(ids[t], 0);
    for (int t = 1; t < threads; t++)
        for (int64_t k = 0; k < B * n_codes; k++) counts[k] += counts[(int64_t)t * B * n_codes + k];
    return 0;
}
"""

#: Draws per call below which one thread is faster than starting more.
PARALLEL_MIN_DRAWS = 1 << 16


def _declare(lib) -> None:
    p, i64, c_int = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
    lib.mfc_nplayer_draw.argtypes = [p] * 5 + [i64] * 3 + [c_int] + [i64] * 5 + [c_int]
    lib.mfc_nplayer_draw.restype = c_int


LIBRARY = CompiledLibrary("nplayer_kernel", SOURCE, _declare)
load, unavailable_reason = LIBRARY.load, LIBRARY.reason


def usable(values: torch.Tensor, sampler: Sampler) -> bool:
    """Whether the kernel can make these draws: CPU tensors, alias tables, a library."""
    return values.device.type == "cpu" and sampler.table is not None and load() is not None


def draw_codes(keys: torch.Tensor, start: int, high: bool, values: torch.Tensor,
               sampler: Sampler, replica_rows: int, row_offset: int, out_mult: int,
               n_codes: int, out: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """`sampling.draw_codes`, bit for bit, in C (see `usable`); the codes go into ``out``
    (a contiguous int64 tensor of ``values``' shape) when given: reusing it spares the
    page faults of a fresh allocation, which cost more than the draws on this VM."""
    B, N = values.shape
    values, keys = values.contiguous(), keys.contiguous()
    packed = sampler.table.packed.contiguous()
    threads = torch.get_num_threads() if B * N >= PARALLEL_MIN_DRAWS else 1
    codes = torch.empty_like(values) if out is None else out
    args = lambda n, counts: (values.data_ptr(), codes.data_ptr(), counts.data_ptr(),  # noqa: E731
                              keys.data_ptr(), packed.data_ptr(), B, N, start, int(high),
                              sampler.table.n_outcomes, replica_rows, row_offset, out_mult,
                              n_codes, n)
    counts = torch.zeros(threads, B, n_codes, dtype=torch.int64)
    if load().mfc_nplayer_draw(*args(threads, counts)):  # a thread could not start
        counts = torch.zeros(1, B, n_codes, dtype=torch.int64)
        load().mfc_nplayer_draw(*args(1, counts))
    return codes, counts[0]
