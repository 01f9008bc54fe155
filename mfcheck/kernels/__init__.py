"""Exact kernels: forward flow, backward values, best response, exploitability.

Small, pure functions of (game, policy/flow) that every solver and check calls; the
hot paths that asv tracks. All take and return torch tensors on the game's device.
"""

from .backward import BestResponse, Values, backward_induction, best_response, policy_value
from .exploitability import exploitability, initial_values
from .flow import Flow, distribution, stationary_distribution
from .policies import mix_policies

__all__ = ["BestResponse", "Flow", "Values", "backward_induction", "best_response", "distribution", "exploitability",
           "initial_values", "mix_policies", "policy_value", "stationary_distribution"]
