"""mfcheck's exceptions: one base class, one subclass per kind of bad input.

Every message names what was wrong where (game, tensor, index, value) so that a
user never has to read a traceback from deep inside torch.
"""

from __future__ import annotations


class MFCheckError(Exception):
    """Base class of every error mfcheck raises on purpose."""


class InvalidGameError(MFCheckError, ValueError):
    """A game's definition or one of its callables' outputs is not valid."""


class InvalidPolicyError(MFCheckError, ValueError):
    """A policy (from a user or a solver) is not a valid policy for the game."""


class SolverError(MFCheckError):
    """A solver raised, hung, or returned something that is not what its protocol promises."""


class UsageError(MFCheckError):
    """Bad usage of mfcheck itself: unknown suite, unimportable solver, missing CUDA."""


class DeviceUnavailableError(UsageError):
    """A device was asked for that this machine does not have."""
