"""The checkerboard sweep as a small C kernel (CPU only), built on first use.

Why: on CPU, eager torch cannot reach one flip attempt per ns. torch's CPU generator alone
costs ~2.4 ns per 32-bit number on this project's machine (serial Mersenne Twister), an
eager sweep makes ~25 passes over memory (the torch backend: ~0.04 flips/ns), and
``torch.compile`` of the same sweep measured 0.13 flips/ns after 5–12 s of compilation per
lattice size. This kernel makes one fused, vectorised pass per half-sweep.

It computes **bit for bit** what `checkerboard.torch_run` computes with torch ops (same
layout, same counter-based random numbers, same integer thresholds): the torch code is the
reference, and the tests check that both agree exactly, for the AVX-512 loop and for the
portable one. Without a C compiler (``$CC``, else ``cc``) the library is unavailable and
the samplers use the torch code (``backend="auto"``); ``MFCHECK_NATIVE=0`` turns it off.

Build: by `mfcheck.native` (once per source, compiler, CPU and flags, cached; ~0.3 s).

Inner loop: with AVX-512 (F, BW, VL), intrinsics, 16 sites per step, the chain's threshold
table in one register looked up by ``vpermd``; elsewhere plain C that the compiler
vectorises as it can (with gathers). Random numbers: one SplitMix64 output per two sites,
computed a block of 512 sites ahead into a stack buffer.

Threads (POSIX; ``torch.get_num_threads()`` of them): whole chains per thread when there are
enough chains (no synchronisation until the end of the run), else the rows of each
half-sweep, with a blocking barrier per half-sweep (only for half-sweeps of ≥ 2^16 sites;
below that one thread is faster). The barrier sleeps rather than spins: with OpenMP's
spinning barriers, a 2-core machine shared with another busy process ran L = 1024 at 0.08
flips/ns on two threads instead of 2 on one.
"""

from __future__ import annotations

import ctypes

import torch

from mfcheck.counter_rng import SPLITMIX64_C
from mfcheck.native import CompiledLibrary

SOURCE = r"""
#include <pthread.h>
#include <stdint.h>
#include <stddef.h>
""" + SPLITMIX64_C + r"""

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the random numbers below read the halves of a uint64 as little-endian uint32s"
#endif
#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VL__)
#include <immintrin.h>
#define MFC_AVX512 1
#endif

/* Sites per block of random numbers (a stack buffer of CHUNK / 2 + 1 uint64). */
#define CHUNK 512

/* n sites of one sublattice row: s own spins, up/dn/mid/side the four neighbours (other
   sublattice), t the thresholds of this chain (16 uint32, the 10 codes then padding),
   u one uniform 32-bit number per site. A site flips iff (u >> 1) < t[code],
   code = (neighbour sum + 4) / 2 + 5 [s = +1]. SUMS: also add the new spins to *msum and
   new spin x neighbour sum to *bsum. */
#define SEGMENT_SCALAR(SUMS)                                                          \
    for (; k < n; k++) {                                                              \
        const int nb = up[k] + dn[k] + mid[k] + side[k];                              \
        const int code = ((nb + 4) >> 1) + (s[k] > 0 ? 5 : 0);                        \
        const int8_t v = (u[k] >> 1) < t[code] ? (int8_t)(-s[k]) : s[k];              \
        s[k] = v;                                                                     \
        if (SUMS) { m += v; b += v * nb; }                                            \
    }

#ifdef MFC_AVX512
#define SEGMENT_BODY(SUMS)                                                            \
    int32_t m = 0, b = 0;                                                             \
    int64_t k = 0;                                                                    \
    {                                                                                 \
        const __m512i table = _mm512_loadu_si512((const void *)t);                    \
        const __m512i four = _mm512_set1_epi32(4), five = _mm512_set1_epi32(5);       \
        const __m128i zero = _mm_setzero_si128();                                     \
        __m512i macc = _mm512_setzero_si512(), bacc = _mm512_setzero_si512();         \
        for (; k + 16 <= n; k += 16) {                                                \
            const __m128i nb8 = _mm_add_epi8(                                         \
                _mm_add_epi8(_mm_loadu_si128((const __m128i *)(up + k)),              \
                             _mm_loadu_si128((const __m128i *)(dn + k))),             \
                _mm_add_epi8(_mm_loadu_si128((const __m128i *)(mid + k)),             \
                             _mm_loadu_si128((const __m128i *)(side + k))));          \
            const __m128i s8 = _mm_loadu_si128((const __m128i *)(s + k));             \
            const __m512i nb = _mm512_cvtepi8_epi32(nb8);                             \
            const __mmask16 pos = _mm_cmpgt_epi8_mask(s8, zero);                      \
            __m512i code = _mm512_srai_epi32(_mm512_add_epi32(nb, four), 1);          \
            code = _mm512_mask_add_epi32(code, pos, code, five);                      \
            const __m512i thr = _mm512_permutexvar_epi32(code, table);                \
            const __m512i uu = _mm512_srli_epi32(                                     \
                _mm512_loadu_si512((const void *)(u + k)), 1);                        \
            const __mmask16 flip = _mm512_cmplt_epu32_mask(uu, thr);                  \
            const __m128i v = _mm_mask_sub_epi8(s8, flip, zero, s8);                  \
            _mm_storeu_si128((__m128i *)(s + k), v);                                  \
            if (SUMS) {                                                               \
                const __m512i v32 = _mm512_cvtepi8_epi32(v);                          \
                macc = _mm512_add_epi32(macc, v32);                                   \
                bacc = _mm512_add_epi32(bacc, _mm512_mullo_epi32(v32, nb));           \
            }                                                                         \
        }                                                                             \
        if (SUMS) {                                                                   \
            m += _mm512_reduce_add_epi32(macc);                                       \
            b += _mm512_reduce_add_epi32(bacc);                                       \
        }                                                                             \
    }                                                                                 \
    SEGMENT_SCALAR(SUMS)                                                              \
    if (SUMS) { *msum += m; *bsum += b; }
#else
#define SEGMENT_BODY(SUMS)                                                            \
    int32_t m = 0, b = 0;                                                             \
    int64_t k = 0;                                                                    \
    SEGMENT_SCALAR(SUMS)                                                              \
    if (SUMS) { *msum += m; *bsum += b; }
#endif

#define SEGMENT_ARGS int8_t *restrict s, const int8_t *restrict up,                   \
    const int8_t *restrict dn, const int8_t *restrict mid,                            \
    const int8_t *restrict side, const uint32_t *restrict t,                          \
    const uint32_t *restrict u, int64_t n, int64_t *restrict msum,                    \
    int64_t *restrict bsum

static inline void seg_plain(SEGMENT_ARGS) { SEGMENT_BODY(0) (void)msum; (void)bsum; }
static inline void seg_sums(SEGMENT_ARGS) { SEGMENT_BODY(1) }

/* Row r = b * L + i of sublattice `color` (0 black, 1 white), stored (B, L, L/2).
   The site at k has counter c = r * (L/2) + k; its uniform is the low (c even) or high
   (c odd) 32-bit half of mix64(key + (c >> 1) * GAMMA). */
static void half_row(int8_t *own, const int8_t *other, int64_t L, int64_t b, int64_t i,
                     int color, const uint32_t *thr, uint64_t key, int sums,
                     int64_t *msum, int64_t *bsum)
{
    const int64_t W = L / 2, r = b * L + i;
    const int8_t *base = other + b * L * W;
    const int8_t *mid = base + i * W;
    const int8_t *up = base + (i == 0 ? L - 1 : i - 1) * W;
    const int8_t *dn = base + (i == L - 1 ? 0 : i + 1) * W;
    int8_t *s = own + r * W;
    const uint32_t *t = thr + b * 16;
    const int left = (color == 0) == ((i & 1) == 0);  /* fourth neighbour at k - 1 */
    uint64_t buf[CHUNK / 2 + 1];
    *msum = 0;
    *bsum = 0;
    for (int64_t k0 = 0; k0 < W; k0 += CHUNK) {
        const int64_t n = W - k0 < CHUNK ? W - k0 : CHUNK;
        const uint64_t c0 = (uint64_t)(r * W + k0), p0 = c0 >> 1;
        const int64_t np = (int64_t)(((c0 + (uint64_t)n + 1) >> 1) - p0);
        const uint64_t z0 = key + p0 * GAMMA;
        for (int64_t j = 0; j < np; j++)
            buf[j] = mix64(z0 + (uint64_t)j * GAMMA);
        const uint32_t *u = (const uint32_t *)buf + (c0 & 1);
        /* [a, n - e) of this block has its fourth neighbour at the plain offset; the
           site k = 0 (left rows) or k = W - 1 (right rows) wraps around the row. */
        const int64_t a = (left && k0 == 0) ? 1 : 0;
        const int64_t e = (!left && k0 + n == W) ? 1 : 0;
        const int64_t off = left ? -1 : 1, k = k0 + a, wrap = left ? 0 : W - 1;
        if (sums) {
            if (a || e)
                seg_sums(s + wrap, up + wrap, dn + wrap, mid + wrap, mid + (W - 1 - wrap),
                         t, u + (wrap - k0), 1, msum, bsum);
            seg_sums(s + k, up + k, dn + k, mid + k, mid + k + off, t, u + a, n - a - e,
                     msum, bsum);
        } else {
            if (a || e)
                seg_plain(s + wrap, up + wrap, dn + wrap, mid + wrap, mid + (W - 1 - wrap),
                          t, u + (wrap - k0), 1, msum, bsum);
            seg_plain(s + k, up + k, dn + k, mid + k, mid + k + off, t, u + a, n - a - e,
                      msum, bsum);
        }
    }
}

/* All sweeps of chain b alone (no synchronisation with other chains). */
static void run_chain(int8_t *black, int8_t *white, int64_t b, int64_t B, int64_t L,
                      const uint32_t *thr, const uint64_t *keys, int64_t sweeps,
                      int64_t *out_m, int64_t *out_bonds)
{
    const int sums = out_m != NULL;
    for (int64_t t = 0; t < sweeps; t++) {
        int64_t m = 0, e = 0, rm, rb;
        for (int64_t i = 0; i < L; i++) {
            half_row(black, white, L, b, i, 0, thr, keys[2 * t], sums, &rm, &rb);
            m += rm;
        }
        for (int64_t i = 0; i < L; i++) {
            half_row(white, black, L, b, i, 1, thr, keys[2 * t + 1], sums, &rm, &rb);
            m += rm;
            e += rb;
        }
        if (sums) {
            out_m[t * B + b] = m;
            out_bonds[t * B + b] = e;
        }
    }
}

/* A blocking barrier (mutex + condition variable): a waiting thread sleeps instead of
   spinning, so a thread descheduled by another process does not also cost its partner's
   core (OpenMP's spinning barriers made a busy 2-core machine 20x slower). */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int count, n;
    unsigned generation;
} barrier_t;

static void barrier_wait(barrier_t *bar)
{
    pthread_mutex_lock(&bar->mu);
    const unsigned g = bar->generation;
    if (++bar->count == bar->n) {
        bar->count = 0;
        bar->generation++;
        pthread_cond_broadcast(&bar->cv);
    } else {
        while (g == bar->generation)
            pthread_cond_wait(&bar->cv, &bar->mu);
    }
    pthread_mutex_unlock(&bar->mu);
}

typedef struct {
    int8_t *black, *white;
    int64_t B, L, sweeps;
    const uint32_t *thr;
    const uint64_t *keys;
    int64_t *out_m, *out_bonds;
    int64_t *part;          /* rows mode: nthreads x sweeps x B x 2 partial sums */
    int nthreads, by_chain;
    barrier_t *bar;
    int go;                 /* the start gate, under bar->mu: 0 wait, 1 run, -1 abort */
} job_t;

typedef struct { const job_t *job; int tid; } worker_t;

static void *work(void *arg)
{
    const worker_t *w = (const worker_t *)arg;
    job_t *j = (job_t *)w->job;
    const int64_t n = j->nthreads, tid = w->tid;
    pthread_mutex_lock(&j->bar->mu);
    while (j->go == 0)
        pthread_cond_wait(&j->bar->cv, &j->bar->mu);
    const int go = j->go;
    pthread_mutex_unlock(&j->bar->mu);
    if (go < 0)
        return NULL;
    if (j->by_chain) {      /* whole chains: a contiguous block of them per thread */
        for (int64_t b = j->B * tid / n; b < j->B * (tid + 1) / n; b++)
            run_chain(j->black, j->white, b, j->B, j->L, j->thr, j->keys, j->sweeps,
                      j->out_m, j->out_bonds);
        return NULL;
    }
    /* rows: a contiguous block of the B x L rows per thread, a barrier per half-sweep */
    const int64_t R = j->B * j->L, r0 = R * tid / n, r1 = R * (tid + 1) / n;
    const int sums = j->out_m != NULL;
    for (int64_t t = 0; t < j->sweeps; t++) {
        int64_t *part = sums ? j->part + ((tid * j->sweeps + t) * j->B) * 2 : NULL;
        int64_t rm, rb;
        for (int64_t r = r0; r < r1; r++) {
            half_row(j->black, j->white, j->L, r / j->L, r % j->L, 0, j->thr,
                     j->keys[2 * t], sums, &rm, &rb);
            if (sums) part[2 * (r / j->L)] += rm;
        }
        barrier_wait(j->bar);
        for (int64_t r = r0; r < r1; r++) {
            half_row(j->white, j->black, j->L, r / j->L, r % j->L, 1, j->thr,
                     j->keys[2 * t + 1], sums, &rm, &rb);
            if (sums) {
                part[2 * (r / j->L)] += rm;
                part[2 * (r / j->L) + 1] += rb;
            }
        }
        barrier_wait(j->bar);
    }
    return NULL;
}

/* `sweeps` sweeps of B lattices (black sites, then white sites); thr: B x 16 uint32.
   When out_m is not NULL, after sweep t: out_m[t*B+b] = sum of spins and
   out_bonds[t*B+b] = sum over bonds of s_i s_j (each bond joins a white site to a black
   one: the white sites' s x neighbour sum). `part`: nthreads x sweeps x B x 2 int64,
   zeroed (used when the threads split rows). Threads split the chains when there are
   enough of them (no synchronisation until the end), else the rows of each half-sweep (a
   barrier per half-sweep). The result is the same either way: each row's update depends
   only on the other colour, and the sums are of integers. Returns 0, or -1 when a thread
   could not be started (nothing was done). */
int mfc_ising_run(int8_t *black, int8_t *white, int64_t B, int64_t L,
                  const uint32_t *thr, const uint64_t *keys, int64_t sweeps,
                  int64_t *out_m, int64_t *out_bonds, int64_t *part, int nthreads)
{
    if (nthreads < 1) nthreads = 1;
    if (nthreads > 256) nthreads = 256;
    if ((int64_t)nthreads > B * L) nthreads = (int)(B * L);
    barrier_t bar;
    pthread_mutex_init(&bar.mu, NULL);
    pthread_cond_init(&bar.cv, NULL);
    bar.count = 0;
    bar.n = nthreads;
    bar.generation = 0;
    job_t job = {black, white, B, L, sweeps, thr, keys, out_m, out_bonds, part, nthreads,
                 nthreads == 1 || B % nthreads == 0 || B >= 4 * (int64_t)nthreads, &bar, 0};
    if (!job.by_chain && out_m != NULL) {
        for (int64_t x = 0; x < (int64_t)nthreads * sweeps * B * 2; x++) part[x] = 0;
    }
    worker_t workers[256];
    pthread_t threads[256];
    int started = 1;
    for (int k = 0; k < nthreads; k++) {
        workers[k].job = &job;
        workers[k].tid = k;
    }
    for (; started < nthreads; started++)
        if (pthread_create(&threads[started], NULL, work, &workers[started]) != 0)
            break;
    /* open the gate: run when every thread started, else let the started ones return */
    const int status = started == nthreads ? 0 : -1;
    pthread_mutex_lock(&bar.mu);
    job.go = status == 0 ? 1 : -1;
    pthread_cond_broadcast(&bar.cv);
    pthread_mutex_unlock(&bar.mu);
    if (status == 0)
        work(&workers[0]);
    for (int k = 1; k < started; k++)
        pthread_join(threads[k], NULL);
    pthread_mutex_destroy(&bar.mu);
    pthread_cond_destroy(&bar.cv);
    if (status == 0 && !job.by_chain && out_m != NULL) {
        for (int64_t t = 0; t < sweeps; t++)
            for (int64_t b = 0; b < B; b++) {
                int64_t m = 0, e = 0;
                for (int k = 0; k < nthreads; k++) {
                    m += part[((k * sweeps + t) * B + b) * 2];
                    e += part[((k * sweeps + t) * B + b) * 2 + 1];
                }
                out_m[t * B + b] = m;
                out_bonds[t * B + b] = e;
            }
    }
    return status;
}

/* n independent fair spins: +1 where the top bit of mix64(key + i * GAMMA) is set. */
void mfc_ising_hot(int8_t *out, int64_t n, uint64_t key)
{
    for (int64_t i = 0; i < n; i++)
        out[i] = (mix64(key + (uint64_t)i * GAMMA) >> 63) ? 1 : -1;
}

/* 1 when this build uses the AVX-512 loop, 0 for the portable one. */
int mfc_ising_simd(void)
{
#ifdef MFC_AVX512
    return 1;
#else
    return 0;
#endif
}
"""


def _declare(lib) -> None:
    p, i64, c_int = ctypes.c_void_p, ctypes.c_int64, ctypes.c_int
    lib.mfc_ising_run.argtypes = [p, p, i64, i64, p, p, i64, p, p, p, c_int]
    lib.mfc_ising_run.restype = c_int
    lib.mfc_ising_hot.argtypes = [p, i64, ctypes.c_uint64]
    lib.mfc_ising_hot.restype = None
    lib.mfc_ising_simd.argtypes = []
    lib.mfc_ising_simd.restype = c_int


LIBRARY = CompiledLibrary("ising_kernel", SOURCE, _declare)
load, unavailable_reason = LIBRARY.load, LIBRARY.reason


def simd() -> bool:
    """Whether the loaded kernel uses its AVX-512 loop (else the portable C loop)."""
    lib = load()
    return bool(lib is not None and lib.mfc_ising_simd())


def _check(t: torch.Tensor, dtype) -> None:
    if t.device.type != "cpu" or t.dtype != dtype or not t.is_contiguous():
        raise ValueError(f"native Ising kernel: expected a contiguous CPU {dtype} tensor, "
                         f"got {t.dtype} on {t.device} (contiguous={t.is_contiguous()})")


def run(black: torch.Tensor, white: torch.Tensor, thresholds: torch.Tensor,
        keys: torch.Tensor, out_m: torch.Tensor | None = None,
        out_bonds: torch.Tensor | None = None) -> None:
    """In place: ``keys.shape[0]`` sweeps of the (B, L, L/2) sublattices (see the C
    source); ``thresholds`` (B, 16) from `rules.thresholds_u32`."""
    lib = load()
    B, L, _ = black.shape
    assert thresholds.shape == (B, 16) and keys.shape[1:] == (2,)
    for t, dt in ((black, torch.int8), (white, torch.int8), (thresholds, torch.int32),
                  (keys, torch.int64)):
        _check(t, dt)
    sweeps = keys.shape[0]
    if out_m is not None:
        _check(out_m, torch.int64)
        _check(out_bonds, torch.int64)
        assert out_m.numel() == sweeps * B and out_bonds.numel() == sweeps * B
    n = threads(B, black.numel())
    by_rows = not (n == 1 or B % n == 0 or B >= 4 * n)  # as the C code decides
    part = torch.empty(n * sweeps * B * 2 if by_rows and out_m is not None else 1,
                       dtype=torch.int64)
    args = (black.data_ptr(), white.data_ptr(), B, L, thresholds.data_ptr(), keys.data_ptr(),
            sweeps, None if out_m is None else out_m.data_ptr(),
            None if out_bonds is None else out_bonds.data_ptr(), part.data_ptr())
    if lib.mfc_ising_run(*args, n) != 0:  # a thread could not start: nothing was done
        lib.mfc_ising_run(*args, 1)


#: Sites per half-sweep below which one chain (or a few) runs on one thread: splitting the
#: rows of a half-sweep costs two thread handoffs per sweep (~10-50 µs).
PARALLEL_MIN_SITES = 1 << 16


def threads(chains: int, sites_per_half_sweep: int) -> int:
    """Threads for a run: torch's thread count when each thread can take whole chains (no
    synchronisation) or when a half-sweep is big enough to split by rows, else 1."""
    n = torch.get_num_threads()
    if n <= 1 or chains % n == 0 or chains >= 4 * n:
        return n
    return n if sites_per_half_sweep >= PARALLEL_MIN_SITES else 1


def hot(out: torch.Tensor, key: int) -> None:
    """Fill the int8 tensor ``out`` with fair ±1 spins from the counter-based generator."""
    _check(out, torch.int8)
    load().mfc_ising_hot(out.data_ptr(), out.numel(), key & (2**64 - 1))
