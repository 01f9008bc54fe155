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

Asynchronous rounds (`draw_at`): the acting agents are k flat indices into batch × N;
one pass draws their actions (gathering their states, counting both), a second their
moves (scattering the new states, paying each agent its reward times γ^(its decisions)
and counting its decisions). The agents lie ~N/k entries apart, so each item is a cache
miss on every per-agent array; the pass fetches 24 items ahead. A fraction schedule's
acting set (`gap_uniforms`, `gap_positions`, `compact`) is made around torch's
logarithm, so both backends pick the same agents.

Threads (POSIX; ``torch.get_num_threads()`` of them for ≥ `PARALLEL_MIN_DRAWS` draws,
else one): each takes a contiguous range of the batch × agents (or of the k acting
agents) and counts into its own histogram; the histograms are summed at the end. A
thread that cannot start has its range run on the calling thread.
"""

from __future__ import annotations

import ctypes
from dataclasses import dataclass

import torch

from ..counter_rng import SPLITMIX64_C
from ..native import CompiledLibrary
from .sampling import Sampler

SOURCE = r"""
#include <pthread.h>
#include <math.h>
#include <stdint.h>
""" + SPLITMIX64_C + r"""
#define LOW32 0xFFFFFFFFULL

/* One draw from an alias table row (K packed entries: threshold << 16 | alias) with the
   32-bit uniform u, as sampling.AliasTable.draw decodes it. */
static inline int64_t alias_draw(const int64_t *row, int64_t K, uint32_t u)
{
    const uint64_t spread = (uint64_t)u * (uint64_t)K;
    const int64_t column = (int64_t)(spread >> 32);
    const int64_t entry = row[column];
    return (spread & LOW32) < (uint64_t)(entry >> 16) ? column : (entry & 0xFFFF);
}

typedef void *(*worker_t)(void *);

/* Runs fn on each of `threads` jobs (`size` bytes apart), jobs 1.. on new threads; a job
   whose thread cannot start runs on the calling thread (each job runs exactly once, so
   jobs may write to shared state at disjoint places). */
static void run_jobs(worker_t fn, char *jobs, size_t size, int threads)
{
    pthread_t ids[64];
    int started[64] = {0};
    for (int t = 1; t < threads; t++)
        started[t] = pthread_create(&ids[t], 0, fn, jobs + t * size) == 0;
    fn(jobs);
    for (int t = 1; t < threads; t++) {
        if (started[t]) pthread_join(ids[t], 0);
        else fn(jobs + t * size);
    }
}

/* Adds the histograms of jobs 1.. (each `n` entries after the previous) into the first. */
static void sum_histograms(int64_t *counts, int64_t n, int threads)
{
    for (int t = 1; t < threads; t++)
        for (int64_t k = 0; k < n; k++) counts[k] += counts[(int64_t)t * n + k];
}

static int clamp_threads(int threads) { return threads < 1 ? 1 : threads > 64 ? 64 : threads; }

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
                const int64_t code = value * out_mult + alias_draw(table + value * K, K, u[k]);
                c[i + k] = code;
                count[code]++;
            }
        }
        f = b * N + i1;
    }
    return 0;
}

/* counts: threads histograms of B·n_codes, zeroed by the caller; summed into the first. */
void mfc_nplayer_draw(const int64_t *values, int64_t *codes, int64_t *counts,
                      const int64_t *keys, const int64_t *packed, int64_t B, int64_t N,
                      int64_t start, int high, int64_t K, int64_t replica_rows,
                      int64_t row_offset, int64_t out_mult, int64_t n_codes, int threads)
{
    job_t jobs[64];
    threads = clamp_threads(threads);
    const int64_t total = B * N;
    for (int t = 0; t < threads; t++) {
        job_t j = {values, keys, packed, codes, counts + (int64_t)t * B * n_codes, N, start, K,
                   replica_rows, row_offset, out_mult, n_codes, total * t / threads,
                   total * (t + 1) / threads, high ? 32 : 0};
        jobs[t] = j;
    }
    run_jobs(draw_range, (char *)jobs, sizeof(job_t), threads);
    sum_histograms(counts, B * n_codes, threads);
}

/* Draws of the k agents at the increasing flat indices `flat` (into B·N): see draw_at in
   the Python module. Item q is agent i = f % N of replica b = f / N (f = flat[q]); its
   value is values[f] (gather) or values[q]; its row of the table b·replica_rows + value;
   its code value·out_mult + outcome goes to codes[q] (and scatter[f]); with `earned`,
   it earns reward[row]·discounts[decisions[f]] and decisions[f] grows by one. */
typedef struct {
    const int64_t *flat, *values, *keys, *packed;
    int64_t *codes, *counts, *value_counts, *scatter, *decisions, *replicas;
    const double *reward, *discounts;
    double *earned;
    int64_t N, start, K, replica_rows, out_mult, n_codes, n_values, first, last;
    int shift, gather;
} at_job_t;

#define AHEAD 24

static void *draw_at_range(void *arg)
{
    const at_job_t *j = (const at_job_t *)arg;
    const int64_t N = j->N, K = j->K, out_mult = j->out_mult, first = j->first, last = j->last;
    const int64_t *restrict flat = j->flat;
    int64_t b = first < last ? flat[first] / N : 0;
    for (int64_t q = first; q < last; q++) {
        /* The agents lie far apart in memory (about N/k entries): fetch ahead what item
           q + AHEAD reads and writes, so that the cache misses overlap. */
        if (q + AHEAD < last) {
            const int64_t ahead = flat[q + AHEAD];
            if (j->gather) __builtin_prefetch(j->values + ahead, 0);
            if (j->scatter) __builtin_prefetch(j->scatter + ahead, 1);
            if (j->earned) __builtin_prefetch(j->decisions + ahead, 1);
        }
        const int64_t f = flat[q];
        while (f >= (b + 1) * N) b++;  /* flat increases: no division per item */
        const int64_t i = f - b * N;
        const int64_t value = j->gather ? j->values[f] : j->values[q];
        const uint32_t u = (uint32_t)(mix64((uint64_t)j->keys[b] +
                                            (uint64_t)(j->start + i) * GAMMA) >> j->shift);
        const int64_t row = b * j->replica_rows + value;
        const int64_t code = value * out_mult + alias_draw(j->packed + row * K, K, u);
        j->codes[q] = code;
        j->counts[b * j->n_codes + code]++;
        if (j->replicas) j->replicas[q] = b;
        if (j->value_counts) j->value_counts[b * j->n_values + value]++;
        if (j->scatter) j->scatter[f] = code;
        if (j->earned) {
            const int64_t d = j->decisions[f];
            j->earned[q] = j->reward[row] * j->discounts[d];
            j->decisions[f] = d + 1;
        }
    }
    return 0;
}

void mfc_nplayer_draw_at(const int64_t *flat, int64_t k, const int64_t *values, int gather,
                         int64_t *codes, int64_t *replicas, int64_t *counts,
                         int64_t *value_counts, int64_t n_values, int64_t *scatter,
                         const double *reward, const double *discounts, int64_t *decisions,
                         double *earned,
                         const int64_t *keys, const int64_t *packed, int64_t B, int64_t N,
                         int64_t start, int high, int64_t K, int64_t replica_rows,
                         int64_t out_mult, int64_t n_codes, int threads)
{
    at_job_t jobs[64];
    threads = clamp_threads(threads);
    for (int t = 0; t < threads; t++) {
        at_job_t j = {flat, values, keys, packed, codes, counts + (int64_t)t * B * n_codes,
                      value_counts ? value_counts + (int64_t)t * B * n_values : 0, scatter,
                      decisions, replicas, reward, discounts, earned, N, start, K, replica_rows,
                      out_mult, n_codes, n_values, k * t / threads, k * (t + 1) / threads,
                      high ? 32 : 0, gather};
        jobs[t] = j;
    }
    run_jobs(draw_at_range, (char *)jobs, sizeof(at_job_t), threads);
    sum_histograms(counts, B * n_codes, threads);
    if (value_counts) sum_histograms(value_counts, B * n_values, threads);
}

/* The acting set of a fraction schedule (sampling.bernoulli_positions), in two passes
   around torch's log (kept in torch so that both backends take the same logarithms):
   gap_uniforms fills u[b, j] = 1 − (word start + j of replica b, top 53 bits)·2⁻⁵³, j in
   [used, used + count); gap_positions turns log u into positions last[b] + Σ gaps,
   gap = 1 + min(floor(log u / log_q), n), and keeps last[b] up to date. */
void mfc_nplayer_gap_uniforms(const int64_t *keys, int64_t B, int64_t start, int64_t used,
                              int64_t count, double *u)
{
    for (int64_t b = 0; b < B; b++) {
        const uint64_t base = (uint64_t)keys[b] + (uint64_t)(start + used) * GAMMA;
        double *restrict row = u + b * count;
        for (int64_t j = 0; j < count; j++)
            row[j] = 1.0 - (double)(mix64(base + (uint64_t)j * GAMMA) >> 11) * 0x1p-53;
    }
}

void mfc_nplayer_gap_positions(const double *log_u, int64_t B, int64_t count, double log_q,
                               int64_t n, int64_t *last, int64_t *positions)
{
    for (int64_t b = 0; b < B; b++) {
        int64_t p = last[b];
        for (int64_t j = 0; j < count; j++) {
            double g = floor(log_u[b * count + j] / log_q);
            if (g > (double)n) g = (double)n;
            p += 1 + (int64_t)g;
            positions[b * count + j] = p;
        }
        last[b] = p;
    }
}

/* Flat indices b·n + p of the positions p < n of each row (B rows of `total`), in order;
   returns how many. */
int64_t mfc_nplayer_compact(const int64_t *positions, int64_t B, int64_t total, int64_t n,
                            int64_t *out)
{
    int64_t k = 0;
    for (int64_t b = 0; b < B; b++)
        for (int64_t j = 0; j < total && positions[b * total + j] < n; j++)
            out[k++] = b * n + positions[b * total + j];
    return k;
}
"""

#: Draws per call below which one thread is faster than starting more.
PARALLEL_MIN_DRAWS = 1 << 16


def _declare(lib) -> None:
    p, i64, c_int = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
    lib.mfc_nplayer_draw.argtypes = [p] * 5 + [i64] * 3 + [c_int] + [i64] * 5 + [c_int]
    lib.mfc_nplayer_draw.restype = None
    lib.mfc_nplayer_draw_at.argtypes = ([p, i64, p, c_int] + [p] * 4 + [i64] + [p] * 5
                                        + [p, p, i64, i64, i64, c_int] + [i64] * 4 + [c_int])
    lib.mfc_nplayer_draw_at.restype = None
    lib.mfc_nplayer_gap_uniforms.argtypes = [p] + [i64] * 4 + [p]
    lib.mfc_nplayer_gap_uniforms.restype = None
    lib.mfc_nplayer_gap_positions.argtypes = [p, i64, i64, ctypes.c_double, i64, p, p]
    lib.mfc_nplayer_gap_positions.restype = None
    lib.mfc_nplayer_compact.argtypes = [p, i64, i64, i64, p]
    lib.mfc_nplayer_compact.restype = i64


LIBRARY = CompiledLibrary("nplayer_kernel", SOURCE, _declare)
load, unavailable_reason = LIBRARY.load, LIBRARY.reason


def usable(values: torch.Tensor, sampler: Sampler) -> bool:
    """Whether the kernel can make these draws: CPU tensors, alias tables, a library."""
    return values.device.type == "cpu" and sampler.table is not None and load() is not None


def _threads(draws: int) -> int:
    return torch.get_num_threads() if draws >= PARALLEL_MIN_DRAWS else 1


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
    threads = _threads(B * N)
    codes = torch.empty_like(values) if out is None else out
    counts = torch.zeros(threads, B, n_codes, dtype=torch.int64)
    load().mfc_nplayer_draw(values.data_ptr(), codes.data_ptr(), counts.data_ptr(),
                            keys.data_ptr(), packed.data_ptr(), B, N, start, int(high),
                            sampler.table.n_outcomes, replica_rows, row_offset, out_mult,
                            n_codes, threads)
    return codes, counts[0]


@dataclass
class Drawn:
    """What `draw_at` returns: ``codes`` and ``replica`` ``(k,)``, ``counts`` of the codes
    per replica ``(B, n_codes)``; with ``n_values``, ``value_counts`` ``(B, n_values)``;
    with ``earn``, ``earned`` ``(k,)``."""

    codes: torch.Tensor
    replica: torch.Tensor
    counts: torch.Tensor
    value_counts: torch.Tensor | None = None
    earned: torch.Tensor | None = None


def draw_at(keys: torch.Tensor, flat: torch.Tensor, n_agents: int, start: int, high: bool,
            values: torch.Tensor, sampler: Sampler, replica_rows: int, out_mult: int,
            n_codes: int, *, gather: bool = False, n_values: int = 0,
            scatter: torch.Tensor | None = None, earn: tuple | None = None) -> Drawn:
    """`sampling.draw_at` for the agents at the increasing flat indices ``flat`` (into
    batch·n_agents), bit for bit, in one pass (see `usable`), with what the asynchronous
    round of `mfcheck.nplayer.simulator` does next fused in: ``gather``: ``values`` is every
    agent's value ``(B, N)`` and item q takes ``values.view(-1)[flat[q]]`` (else ``values``
    is ``(k,)``); ``n_values``: also count the values per replica; ``scatter`` ``(B, N)``:
    write each code at its agent; ``earn = (reward, discounts, decisions)``: item q earns
    ``reward.view(-1)[row]·discounts[d]``, row its table row and d = ``decisions`` (``(B,
    N)``) at its agent, whose decisions then grow by one."""
    B, k = len(keys), len(flat)
    assert flat.is_contiguous() and values.is_contiguous() and flat.device.type == "cpu"
    threads = _threads(k)
    codes, replica = torch.empty(k, dtype=torch.int64), torch.empty(k, dtype=torch.int64)
    counts = torch.zeros(threads, B, n_codes, dtype=torch.int64)
    value_counts = torch.zeros(threads, B, n_values, dtype=torch.int64) if n_values else None
    earned = torch.empty(k, dtype=torch.float64) if earn is not None else None
    reward, discounts, decisions = earn if earn is not None else (None, None, None)
    for t in (scatter, decisions):
        assert t is None or t.is_contiguous() and t.dtype == torch.int64
    for t in (reward, discounts):
        assert t is None or t.is_contiguous() and t.dtype == torch.float64
    ptr = lambda t: None if t is None else t.data_ptr()  # noqa: E731
    load().mfc_nplayer_draw_at(
        flat.data_ptr(), k, values.data_ptr(), int(gather), codes.data_ptr(),
        replica.data_ptr(), counts.data_ptr(), ptr(value_counts), n_values, ptr(scatter),
        ptr(reward), ptr(discounts), ptr(decisions), ptr(earned), keys.contiguous().data_ptr(),
        sampler.table.packed.contiguous().data_ptr(), B, n_agents, start, int(high),
        sampler.table.n_outcomes, replica_rows, out_mult, n_codes, threads)
    return Drawn(codes, replica, counts[0], None if value_counts is None else value_counts[0],
                 earned)


def gap_uniforms(keys: torch.Tensor, start: int, used: int, count: int) -> torch.Tensor:
    """``1 − sampling.unit_interval(words(keys[:, None], start + j))`` for j in
    ``[used, used + count)``, bit for bit: ``(B, count)`` float64 in (0, 1]."""
    keys = keys.contiguous()
    u = torch.empty(len(keys), count, dtype=torch.float64)
    load().mfc_nplayer_gap_uniforms(keys.data_ptr(), len(keys), start, used, count, u.data_ptr())
    return u


def gap_positions(log_u: torch.Tensor, log_q: float, n: int, last: torch.Tensor) -> torch.Tensor:
    """``last + cumsum(1 + floor(log_u / log_q).clamp(max=n))`` along each row, bit for bit
    (``log_u`` ``(B, count)`` float64, ``last`` ``(B,)`` int64, updated in place)."""
    B, count = log_u.shape
    positions = torch.empty(B, count, dtype=torch.int64)
    load().mfc_nplayer_gap_positions(log_u.contiguous().data_ptr(), B, count, log_q, n,
                                     last.data_ptr(), positions.data_ptr())
    return positions


def compact(positions: torch.Tensor, n: int) -> torch.Tensor:
    """``(positions + n·b)[positions < n]`` for increasing rows ``positions`` ``(B, total)``."""
    positions = positions.contiguous()
    B, total = positions.shape
    out = torch.empty(B * total, dtype=torch.int64)
    k = load().mfc_nplayer_compact(positions.data_ptr(), B, total, n, out.data_ptr())
    return out[:k]
