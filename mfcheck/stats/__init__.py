"""Statistics for stochastic checks: honest standard errors and tests with a stated
false-failure rate (docs/statistics.md).

One module per concept; every public name is re-exported here, so ``from mfcheck import
stats; stats.z_test(...)`` works:

- `mfcheck.stats.mcmc`: autocorrelation, τ_int, the mean over MCMC chains with its
  autocorrelation-corrected SE, the block jackknife;
- `mfcheck.stats.replicas`: independent replicates (seeds), Student's t;
- `mfcheck.stats.tests`: z/t tests, χ² goodness of fit, equivalence (TOST), the sign test
  and the quantile test, the permutation test of exchangeable replicas, Bonferroni;
- `mfcheck.stats.fits`: straight-line fits (rates as slopes with intervals);
- `mfcheck.stats.ising`: Ising observables (specific heat, Binder cumulant);
- `mfcheck.stats.calibration`: measured false-failure rates of the tests above by
  simulation under their null, with Clopper–Pearson intervals.

The default false-failure rate is `mfcheck.check.FALSE_FAILURE_RATE` (re-exported here).
"""

from mfcheck.check import FALSE_FAILURE_RATE

from .calibration import (NullRate, clopper_pearson, equivalence_null_rate,
                          null_rejection_rate, one_sided_bound_null_rate, quantile_test_null_rate,
                          sign_test_null_rate)
from .fits import SlopeFit, fit_slope
from .ising import binder_cumulant_estimate, specific_heat_estimate
from .mcmc import (AutocorrelationTime, JackknifeEstimate, MeanEstimate, autocorrelation,
                   autocovariance, conservative_mean, integrated_autocorrelation_time,
                   jackknife_blocks, mean_with_error)
from .replicas import ReplicateEstimate, across_seeds
from .tests import (ChiSquareTestResult, EquivalenceResult, ExchangeabilityResult,
                    QuantileTestResult, SignTestResult, ZTestResult, bonferroni,
                    chi_square_test, equivalence_test, exchangeability_test,
                    merge_sparse_bins, most_significant, quantile_pass_count, quantile_test,
                    sign_test, two_sample_z_test, z_test)

__all__ = [
    "FALSE_FAILURE_RATE", "AutocorrelationTime", "ChiSquareTestResult", "EquivalenceResult",
    "ExchangeabilityResult", "QuantileTestResult",
    "JackknifeEstimate", "MeanEstimate", "NullRate", "ReplicateEstimate", "SignTestResult",
    "SlopeFit",
    "ZTestResult", "across_seeds", "autocorrelation", "autocovariance",
    "binder_cumulant_estimate", "bonferroni", "chi_square_test", "clopper_pearson",
    "conservative_mean", "equivalence_null_rate", "equivalence_test", "exchangeability_test",
    "fit_slope",
    "integrated_autocorrelation_time", "jackknife_blocks", "mean_with_error",
    "merge_sparse_bins", "most_significant", "null_rejection_rate",
    "one_sided_bound_null_rate", "quantile_pass_count", "quantile_test",
    "quantile_test_null_rate", "sign_test", "sign_test_null_rate", "specific_heat_estimate",
    "two_sample_z_test", "z_test",
]
