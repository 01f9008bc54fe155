"""Built-in games."""

from .congestion import n_route, two_route
from .crowd_modelling import crowd_modelling
from .mfglib_envs import left_right, rock_paper_scissors
from .random_game import random_game

__all__ = ["crowd_modelling", "left_right", "n_route", "random_game", "rock_paper_scissors",
           "two_route"]
