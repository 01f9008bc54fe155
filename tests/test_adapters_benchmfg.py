"""The Bench-MFG adapter (`mfcheck.adapters.benchmfg`): its Lasry–Lions chain as a
stationary mfcheck game, checked against Bench-MFG's own exploitability.

Bench-MFG's exploitability is ⟨μ^π, V*_H − V^π_H⟩ (μ^π: fifty propagation steps; values
truncated at H − 1 backups). With the horizon set to 1000 (γ^999 ≈ 1e-46) and the same
μ^π, mfcheck's exact stationary kernels give the same number to float precision
(measured 1.6e-12 on 449, i.e. 4e-15 relative); 1e-12 relative leaves a 250× margin, and
a wrong transition or reward (e.g. noise applied to the wrong state) moves it by O(1).
"""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("benchmfg")
import benchmfg.envs.mfg_model_class as model_class  # noqa: E402

import mfcheck  # noqa: E402
from mfcheck.adapters.benchmfg import from_benchmfg, load_environment  # noqa: E402
from mfcheck.kernels import best_response, policy_value  # noqa: E402
from mfcheck.kernels.flow import Flow  # noqa: E402



def test_benchmfg_exploitability_equals_mfchecks_kernels_at_its_population(monkeypatch):
    # Bench-MFG's row builders fall back to a sequential map by design; use it here
    # (no process pool forked per evaluation inside a pytest worker).
    monkeypatch.setattr(model_class, "_map_rows_with_fallback",
                        lambda fn, args: [fn(a) for a in args])
    model, initial = load_environment("lasry_lions_chain")
    game = from_benchmfg(model)
    assert game.stationary and game.discount == model.gamma
    model.horizon = 1000
    policy = torch.tensor(initial, dtype=torch.float64)
    game.check_policy(policy)
    mu = torch.tensor(model.mean_field_by_transition_kernel(initial, 50))
    flow = Flow(mu=mu, L=mu[:, None] * policy)
    ours = float(mu @ (best_response(game, flow).v - policy_value(game, policy, flow).v))
    theirs = float(model.exploitability(initial))
    assert abs(ours - theirs) <= 1e-12 * abs(theirs), (ours, theirs)
    assert float(mfcheck.exploitability(game, policy)) >= 0
