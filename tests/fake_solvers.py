"""Solvers, good and broken, for testing how mfcheck runs them."""

from __future__ import annotations

import os
import time

import torch


def spec(name: str) -> str:
    """The solver spec of ``name`` in this module, however the tests were imported."""
    return f"{__name__}:{name}"


class Good:
    """Always the uniform policy."""

    def solve(self, game, *, seed):
        while True:
            yield game.uniform_policy()


class Biased:
    """A valid policy that is not uniform: fails the ``uniform`` check."""

    def solve(self, game, *, seed):
        policy = torch.tensor([0.9, 0.1], dtype=game.dtype, device=game.device)
        while True:
            yield policy.expand(game.policy_shape)


class Raises:
    def solve(self, game, *, seed):
        raise RuntimeError("boom")


class Hangs:
    def solve(self, game, *, seed):
        time.sleep(600)
        yield game.uniform_policy()


class Exits:
    def solve(self, game, *, seed):
        os._exit(3)


class SysExit:
    def solve(self, game, *, seed):
        raise SystemExit(4)


class NaN:
    def solve(self, game, *, seed):
        while True:
            yield torch.full(game.policy_shape, float("nan"), dtype=game.dtype)


class WrongShape:
    def solve(self, game, *, seed):
        while True:
            yield torch.full((3, 3), 1 / 3, dtype=game.dtype)


class NotASolver:
    """Implements no protocol."""
