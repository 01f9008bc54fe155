"""mfcheck: a verification and benchmark harness for mean-field game solvers."""

from .errors import (DeviceUnavailableError, InvalidGameError, InvalidPolicyError, MFCheckError,
                     SolverError, UsageError)
from .game import FiniteMFG
from .kernels import (BestResponse, Flow, Values, best_response, distribution, exploitability,
                      policy_value)

__version__ = "0.1.0"

__all__ = ["BestResponse", "DeviceUnavailableError", "FiniteMFG", "Flow", "InvalidGameError",
           "InvalidPolicyError", "MFCheckError", "SolverError", "UsageError", "Values",
           "__version__", "best_response", "distribution", "exploitability", "policy_value"]
