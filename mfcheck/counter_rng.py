"""Counter-based random numbers: SplitMix64's output function on (key + position·γ).

A 64-bit word is a pure function of a key and a stream position, ``mix64(key + c·γ)``
(Steele, Lea & Flood 2014: the Weyl increment γ and Stafford's mix13), so any agent's or
site's number is computed on its own, in any order and on any device, and a C kernel can
compute the same bits as torch. The torch functions here work on int64 bit patterns with
wrapping arithmetic; `SPLITMIX64_C` is the same generator for the C kernels built by
`mfcheck.native`, and the tests check that both give the same bits.

Users: the Ising samplers (`mfcheck.reference.ising`) and the N-player simulator's
categorical draws (`mfcheck.nplayer.sampling`).
"""

from __future__ import annotations

import torch


def _signed(x: int) -> int:
    """A uint64 constant as the int64 with the same bits (torch has no uint64 arithmetic)."""
    return x - (1 << 64) if x >= 1 << 63 else x


#: SplitMix64's Weyl increment (the golden ratio in 64 bits), as an int64 bit pattern.
GAMMA = _signed(0x9E3779B97F4A7C15)
_MIX1 = _signed(0xBF58476D1CE4E5B9)
_MIX2 = _signed(0x94D049BB133111EB)

#: `GAMMA` and `mix64` in C, for the sources of `mfcheck.native` kernels.
SPLITMIX64_C = r"""
/* SplitMix64 (Steele, Lea & Flood 2014): the Weyl increment and Stafford's mix13, as
   mfcheck.counter_rng computes them in torch. */
#define GAMMA 0x9E3779B97F4A7C15ULL

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
"""


def logical_shift_right(z: torch.Tensor, k: int) -> torch.Tensor:
    """``z >> k`` on the bits of an int64, filling with zeros (torch's ``>>`` is arithmetic)."""
    return (z >> k) & ((1 << (64 - k)) - 1)


def mix64(z: torch.Tensor) -> torch.Tensor:
    """SplitMix64's output function (Stafford's mix13) on int64 bit patterns (wrapping)."""
    z = (z ^ logical_shift_right(z, 30)) * _MIX1
    z = (z ^ logical_shift_right(z, 27)) * _MIX2
    return z ^ logical_shift_right(z, 31)


def uniform32(key: torch.Tensor, counter: torch.Tensor) -> torch.Tensor:
    """Uniform 32-bit integers (int64 in [0, 2^32)), one per counter c: the low (c even)
    or high (c odd) half of mix64(key + (c >> 1)·γ), i.e. the 32-bit halves of SplitMix64's
    outputs, in order, along the stream that starts at ``key``."""
    z = mix64(key + (counter >> 1) * GAMMA)
    return (z >> ((counter & 1) * 32)) & 0xFFFFFFFF


def draw_keys(generator: torch.Generator, n: int) -> torch.Tensor:
    """``n`` uniform 64-bit keys (int64, on the generator's device)."""
    return torch.empty(n, dtype=torch.int64, device=generator.device).random_(
        -(1 << 63), None, generator=generator)
