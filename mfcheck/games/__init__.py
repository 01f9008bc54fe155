"""Built-in games."""

from .crowd_modelling import crowd_modelling

__all__ = ["crowd_modelling"]
