"""Exact answers (closed forms, exact roots) that mfcheck's checks compare against."""

from . import congestion
from . import ising
from .congestion import (exploitability_n_route, exploitability_two_route, logit_n_route,
                         logit_two_route, social_optimum_n_route, social_optimum_two_route,
                         wardrop_n_route, wardrop_two_route)

__all__ = ["congestion", "exploitability_n_route", "exploitability_two_route", "logit_n_route",
           "logit_two_route", "social_optimum_n_route", "social_optimum_two_route",
           "wardrop_n_route", "wardrop_two_route"]
