"""Built-in games."""

from .congestion import n_route, two_route
from .crowd_modelling import crowd_modelling
from .crowd_modelling_2d import crowd_modelling_2d
from .follow_the_crowd import crowd_equilibria, follow_the_crowd
from .forms import dense_form, stencil_form
from .mfglib_envs import left_right, rock_paper_scissors
from .queueing import queueing, queueing_equilibrium
from .random_game import random_game
from .resource_selection import resource_selection

__all__ = ["crowd_equilibria", "crowd_modelling", "crowd_modelling_2d", "dense_form",
           "follow_the_crowd", "left_right", "n_route", "queueing", "queueing_equilibrium",
           "random_game", "resource_selection", "rock_paper_scissors", "stencil_form", "two_route"]
