"""Where the reference planners start: the uniform policy, or a given policy π̂ made interior.

A given start becomes π̃ = (1 − ε)·π̂ + ε·uniform with ε = `INTERIOR_START` = 1e-2: within
1% of π̂, and every action keeps a positive probability, which both planner families need.

- Mirror descent with the entropy mirror map lives in the interior of the simplex: from
  a start with zeros its iterates could never leave that face. With ε = 1e-2 an action
  the start excluded recovers once its accumulated advantage lr·ΣQ reaches ln(100·A) ≈
  5–6; with ε = 1e-6 it is ≈ 15, and exploitability after 1000 iterations from pure
  starts was up to 40× higher (docs/uniqueness.md).
- Fixed-point iteration and fictitious play average policies through their populations
  (`mfcheck.kernels.mix_policies`), which in a discounted stationary game are stationary
  laws. From "everyone moves to resource a" on resource selection every row ended as
  "stay": a chain with many stationary laws, whose average the merged policy no longer
  reproduces, and fictitious play stopped at exploitability 2.00 from every pure start
  (1.7e-2 after 500 iterations from the interior start; docs/uniqueness.md).
"""

from __future__ import annotations

import torch

from mfcheck.game import FiniteMFG

#: Weight of the uniform policy mixed into a given start (see the module docstring).
INTERIOR_START = 1e-2


def start_policy(game: FiniteMFG, initial_policy: torch.Tensor | None) -> torch.Tensor:
    """The uniform policy, or the validated ``initial_policy`` made interior."""
    uniform = game.uniform_policy()
    if initial_policy is None:
        return uniform
    start = game.check_policy(initial_policy, what="initial policy")
    return (1.0 - INTERIOR_START) * start + INTERIOR_START * uniform
