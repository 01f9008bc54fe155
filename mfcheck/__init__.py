"""mfcheck: a verification and benchmark harness for mean-field game solvers."""

from importlib import import_module

from .errors import (DeviceUnavailableError, InvalidGameError, InvalidPolicyError, MFCheckError,
                     SolverError, UsageError)
from .protocols import Learner, Planner, Sampler, Simulator, TMFLearner

__version__ = "0.1.0"

__all__ = ["BestResponse", "DeviceUnavailableError", "FiniteMFG", "Flow", "InvalidGameError",
           "InvalidPolicyError", "Learner", "MFCheckError", "Planner", "Sampler", "Simulator",
           "SolverError", "Stencil", "TMFLearner", "UsageError", "Values", "__version__", "best_response",
           "distribution", "exploitability", "policy_value"]

# The torch-backed names load on first use: every pytest run imports mfcheck (the pytest11
# entry point of mfcheck.pytest_plugin), and must not pay for torch unless it uses mfcheck.
_LAZY = {"FiniteMFG": ".game", "BestResponse": ".kernels", "Flow": ".kernels",
         "Values": ".kernels", "best_response": ".kernels", "distribution": ".kernels",
         "exploitability": ".kernels", "policy_value": ".kernels", "Stencil": ".transition"}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_LAZY[name], __name__), name)
    globals()[name] = value
    return value
