"""The Lasry–Lions monotonicity condition, checked numerically on a game as it is built.

A finite-horizon game whose transitions do not depend on the population and whose reward
splits as r_t(s, a, μ) = r̃_t(s, a) + r̄_t(s, μ) with

    Σ_s (r̄_t(s, μ) − r̄_t(s, μ'))·(μ(s) − μ'(s)) ≤ −κ‖μ − μ'‖₂²    (κ > 0, every t)

has exactly one equilibrium (Lasry & Lions 2007; docs/references.md#lasry-lions).
`monotonicity_modulus` verifies the form (transitions independent of L, reward separable,
depending on L through μ only, affine in μ) by evaluating the game's own callables, and
returns κ for affine r̄ — the planner suites call it on every drawn game, so a draw that
is not monotone cannot pass as one.
"""

from __future__ import annotations

import torch

from ..errors import InvalidGameError
from ..game import FiniteMFG

#: How far apart (sup norm) two evaluations may be and still count as equal.
FORM_TOL = 1e-10


def _joint(mu: torch.Tensor, split: torch.Tensor) -> torch.Tensor:
    return mu.unsqueeze(-1) * split


def monotonicity_modulus(game: FiniteMFG, generator: torch.Generator | None = None) -> float:
    """κ of the module docstring, minimised over epochs; raises `InvalidGameError` when the
    game is not of the monotone form (with what failed), returns κ ≤ 0 when the form holds
    but the condition does not."""
    S, A = game.n_states, game.n_actions
    kw = dict(dtype=game.dtype, device=game.device)
    gen = generator or torch.Generator().manual_seed(0)

    def draw(*shape):
        e = -torch.rand(*shape, generator=gen, dtype=game.dtype).log()
        return (e / e.sum(-1, keepdim=True)).to(game.device)

    uniform_split = torch.full((S, A), 1.0 / A, **kw)
    corners = torch.eye(S, **kw)
    modulus = float("inf")
    for t in range(game.epochs):
        mu, other = draw(S), draw(S)
        split, other_split = draw(S, A), draw(S, A)

        def reward(m, s=uniform_split):
            return game.reward(t, _joint(m, s))

        def fail(what: str):
            raise InvalidGameError(f"game {game.name!r} is not of the Lasry–Lions monotone form "
                                   f"at epoch {t}: {what}")

        if (game.transition(t, _joint(mu, split)) - game.transition(t, _joint(other, other_split))
                ).abs().max() > FORM_TOL:
            fail("its transition depends on the population")
        if (reward(mu, split) - reward(mu, other_split)).abs().max() > FORM_TOL:
            fail("its reward depends on the population's actions, not only on μ")
        change = reward(mu) - reward(other)
        if (change - change[:, :1]).abs().max() > FORM_TOL:
            fail("the population's effect on the reward depends on the action (not separable)")
        at_corners = torch.stack([reward(c)[:, 0] for c in corners], dim=-1)  # R[s, j]
        if (reward(mu)[:, 0] - at_corners @ mu).abs().max() > FORM_TOL:
            fail("its reward is not affine in μ (the check covers affine couplings only)")
        # δᵀRδ over differences δ ⊥ 1 (both μ and μ' sum to 1): the projected symmetric part.
        project = torch.eye(S, **kw) - 1.0 / S
        symmetric = project @ ((at_corners + at_corners.T) / 2) @ project
        if S > 1:
            top = torch.linalg.eigvalsh(symmetric)
            # the projection adds one eigenvalue 0 along 1: drop the one nearest zero there
            ones = torch.ones(S, **kw) / S**0.5
            vectors = torch.linalg.eigh(symmetric).eigenvectors
            along_ones = (vectors.T @ ones).abs().argmax()
            top = torch.cat([top[:along_ones], top[along_ones + 1:]])
            modulus = min(modulus, float(-top.max()))
    return modulus
