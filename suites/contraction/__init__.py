"""Suite ``contraction``: mfcheck's mean-field operators against their contraction theory.

Each check confronts one operator of `mfcheck.operators` with what docs/operators.md
proves about it, through three shared probes:

- `lipschitz_search`: Hypothesis draws pairs (x, y); every ratio ‖F x − F y‖/‖x − y‖ must
  stay within the proven Lipschitz bound, up to float64 rounding. Where the plain
  contraction is not promised, the search is steered (``hypothesis.target``) towards large
  ratios, and the largest one is reported: a counter-example when it beats the plain
  modulus, "none found" otherwise. Only a violated bound fails the probe.
- a constructed counter-example, where theory says the operator must expand distances,
  compared with an independent closed form;
- closed-form fixed points and the geometric rate of fixed-point iteration where the
  theory pins it.

The operator under test is a parameter of each check function (``operator=``), so a
broken variant runs through exactly the same code (tests/test_operators.py). The checks
cover H_MF, the Boltzmann mean-action map B, and (issue 5) the logit response Γ_τ of
congestion games, the pure best response on two routes, the stationary best-response map
Ψ_τ of a `FiniteMFG`, and the TMF population recursion T_κ; the two with a curve draw it
into the report dir (modulus vs τ, contraction per epoch vs κ).

One module per operator (`mean_field_q`, `mean_action`, `logit_routes`, `best_response`,
`stationary_flow`, `tmf_recursion`), each registering its check with `suite`
(`probes`, with what they share: drawn families, findings, the Lipschitz search, figures).

Every check here is deterministic: tolerances come from float64 arithmetic (`ROUNDING`)
or from the algorithm (the rate windows), never from a run.
"""

from __future__ import annotations

from .probes import Draws, Finding, lipschitz_search, suite
from .mean_field_q import EXPANDING_GAP, Q_FAMILY, check_mean_field_q_operator
from .mean_action import B_FAMILY, check_boltzmann_mean_action_map
from .logit_routes import ROUTE_FAMILY, check_logit_route_map
from .best_response import check_best_response_route
from .stationary_flow import FLOW_FAMILY, check_stationary_best_response_map
from .tmf_recursion import TMF_FAMILY, check_tmf_population_recursion

__all__ = ["B_FAMILY", "Draws", "EXPANDING_GAP", "FLOW_FAMILY", "Finding", "Q_FAMILY",
           "ROUTE_FAMILY", "TMF_FAMILY", "check_best_response_route",
           "check_boltzmann_mean_action_map", "check_logit_route_map",
           "check_mean_field_q_operator", "check_stationary_best_response_map",
           "check_tmf_population_recursion", "lipschitz_search", "suite"]
