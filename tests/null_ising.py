"""The ``ising`` suite under its null hypothesis: z-spreads over seeds and measured
false-failure rates (docs/ising.md, "Measured z-scores"; docs/statistics.md, "Measured
false-failure rates").

    python -m tests.null_ising zscores [--seeds 1-8]     # every check, every reference sampler
    python -m tests.null_ising rates [--quick]           # the rows of docs/statistics.md

Every number comes from the checks' own code path: ``<check>_comparison(sampler, setting,
ctx, alpha)`` and ``<check>_outcome`` of `mfcheck.suites.ising`. A check with k sub-tests
(comparisons and drift tests) at false-failure rate α fails iff some sub-test's p-value is
below α/k (Bonferroni), so one run gives its verdict at every nominal rate.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np
import torch
from scipy import signal
from scipy import stats as st

from mfcheck import stats
from mfcheck.analytic import ising as exact
from mfcheck.check import Budget, Context
from mfcheck.ising_mcmc import RunLength, drift_test
from mfcheck.reference.ising import SAMPLERS
from mfcheck.suites import ising as suite

NOMINAL = (0.05, 0.01)

#: check → (its comparison or outcome function, whether it returns an Outcome).
CODE_PATHS = {
    "energy-histogram-4x4": suite.energy_histogram_outcome,
    "stationarity-one-step": suite.stationarity_outcome,
    "ferrenberg-landau-wong": suite.ferrenberg_landau_wong_comparison,
    "bulk-l64": suite.bulk_comparison,
    "binder-crossing": suite.binder_crossing_comparison,
    "hot-cold-start": suite.hot_cold_comparison,
    "agrees-with-reference": suite.agrees_with_reference_comparison,
    "order-parameter-curve": suite.order_parameter_curve_comparison,
}


def _settings(check: str):
    games = suite.suite.checks[check].games
    return {label: factory(torch.device("cpu")) for label, factory in games.items()}


def _p_values(comparison) -> list[float]:
    return [t.p_value for t in comparison.tests + comparison.drifts]


def fails_at(p_values: list[float], nominal: float) -> bool:
    """The check's verdict at false-failure rate ``nominal``: Bonferroni over its sub-tests."""
    return min(p_values) < nominal / len(p_values)


def run_case(check: str, sampler, setting, seed: int, budget: Budget = Budget.QUICK) -> dict:
    """One run of ``check``'s code path: its sub-tests' z (with their names) and p-values."""
    ctx = Context(seed, budget, torch.device("cpu"))
    if check == "order-parameter-curve":
        setting = suite.Setting(setting.L, suite.CURVE_TEMPERATURES[budget])
    if suite._declined(sampler, setting):
        return {}
    out = CODE_PATHS[check](sampler, setting, ctx, 1e-4)
    if isinstance(out, suite.Outcome):  # a χ² check: measured is the p-value
        p = float(out.measured)
        return {"z": {"χ² normal score Φ⁻¹(1 − p)": float(st.norm.isf(max(p, 1e-300)))},
                "p": [p]}
    z = {f"test {i}": t.z for i, t in enumerate(out.tests)}
    z.update({f"drift {i}": t.z for i, t in enumerate(out.drifts)})
    z.update({f"estimate {name}": v for name, v in out.estimates.items()
              if check == "binder-crossing"})
    return {"z": z, "p": _p_values(out)}


def zscores(seeds, out=sys.stdout, done=frozenset()) -> None:
    """JSON lines: check, game, sampler, seed, z of every sub-test, p-values (skipping the
    (check, game, sampler, seed) in ``done``)."""
    for check in CODE_PATHS:
        for game, setting in _settings(check).items():
            for name, sampler in SAMPLERS.items():
                if check == "stationarity-one-step" and not callable(getattr(sampler, "step", None)):
                    continue
                for seed in seeds:
                    if (check, game, name, seed) in done:
                        continue
                    t0 = time.time()
                    case = run_case(check, sampler, setting, seed)
                    if not case:
                        break
                    print(json.dumps({"check": check, "game": game, "sampler": name,
                                      "seed": seed, "seconds": round(time.time() - t0, 2),
                                      **case}), file=out, flush=True)


def summarise(lines) -> list[str]:
    """Per (check, sampler): mean and SD of the z of every two-sided comparison and drift
    test over seeds (binder: U4(16) − U4(8) standardised by its SE about the mean over all
    seeds and samplers; band tests with ⟨|m|⟩ inside Onsager's band, z = 0 exactly, left
    out), and the largest |z|."""
    rows = [json.loads(x) for x in lines if x.strip()]
    binder = {}
    for r in rows:
        for name, v in r["z"].items():
            if name.startswith("estimate"):
                binder.setdefault(name, []).append(v[0])
    centre = {name: float(np.mean(v)) for name, v in binder.items()}
    table: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        for name, v in r["z"].items():
            if name.startswith("estimate"):
                v = (v[0] - centre[name]) / v[1]
            elif r["check"] == "binder-crossing" and name.startswith("test"):
                continue  # one-sided, clipped at 0: its estimate above stands for it
            elif v == 0.0 and name.startswith("test"):
                continue  # ⟨|m|⟩ inside Onsager's finite-size band: tested against itself
            kind = "drift" if name.startswith("drift") else "comparison"
            table.setdefault((r["check"], r["sampler"], kind), []).append(float(v))
    out = ["| check | sampler | z of | seeds × sub-tests | mean z | SD of z | max abs z |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for (check, sampler, kind), z in table.items():
        z = np.asarray(z)
        out.append(f"| {check} | {sampler} | {kind} | {z.size} | {z.mean():+.2f} | "
                   f"{z.std(ddof=1):.2f} | {np.abs(z).max():.2f} |")
    return out


# -- false-failure rates -----------------------------------------------------------------

def check_rate(check: str, sampler_name: str, seeds, *, setting=None, label: str = "",
               budget: Budget = Budget.QUICK) -> list[stats.NullRate]:
    """The check's own code path and budget, repeated over ``seeds`` for each of its games
    (or ``setting``): how often it fails at each nominal rate."""
    sampler = SAMPLERS[sampler_name]
    settings = {label: setting} if setting is not None else _settings(check)
    rows = []
    p_runs = [run_case(check, sampler, s, seed, budget)["p"]
              for s in settings.values() for seed in seeds]
    size = _size(check, next(iter(settings.values())), budget)
    null = f"reference {sampler_name}, " + (label or ", ".join(settings)) + ", exact answer"
    for nominal in NOMINAL:
        failures = sum(fails_at(p, nominal) for p in p_runs)
        rows.append(stats.NullRate(f"ising::{check}", f"{check} code path, {budget.value} budget",
                                   null, size, nominal, len(p_runs), failures))
    return rows


def _size(check: str, setting, budget: Budget) -> str:
    if check == "energy-histogram-4x4":
        return f"{suite.HISTOGRAM_CHAINS[budget]} chains"
    if check == "stationarity-one-step":
        return f"{suite.STEP_REPLICAS[budget]} replicas"
    length = {"ferrenberg-landau-wong": suite.FLW_LENGTH, "bulk-l64": suite.BULK_LENGTH}[check][budget]
    return f"{length.chains} × {length.sweeps - length.burn_in} sweeps"


def ar1(rng: np.random.Generator, rho: float, shape) -> np.ndarray:
    """Stationary AR(1) chains with mean 0, x_t = ρ x_{t−1} + √(1 − ρ²) ε_t; τ_int = (1 + ρ)/(2(1 − ρ))."""
    e = rng.standard_normal(shape)
    e[..., 0] /= math.sqrt(1 - rho * rho)  # x_0 from the stationary law
    return signal.lfilter([math.sqrt(1 - rho * rho)], [1.0, -rho], e, axis=-1)


def ar1_rates(rho: float, chains: int, n: int, repetitions: int, seed: int = 0
              ) -> list[stats.NullRate]:
    """`conservative_mean` + `z_test` (the MCMC z-test of every check) and `drift_test` on
    stationary AR(1) chains with known mean 0, at the checks' series shapes."""
    rng = np.random.default_rng(seed)
    p_mean, p_drift = [], []
    for _ in range(repetitions):
        x = ar1(rng, rho, (chains, n))
        mean, se, dof = stats.conservative_mean(x)
        p_mean.append(stats.z_test(mean, 0.0, se, 0.5, dof=dof).p_value)
        p_drift.append(drift_test(x, 0.5, "AR(1)").p_value)
    tau = (1 + rho) / (2 * (1 - rho))
    null = f"AR(1), ρ = {rho:g} (τ_int = {tau:.3g}), mean 0"
    rows = []
    for kind, path, ps in (("MCMC z-test", "conservative_mean + z_test", p_mean),
                           ("MCMC drift test", "ising_mcmc.drift_test", p_drift)):
        for nominal in NOMINAL:
            rows.append(stats.NullRate(kind, path, null, f"{chains} × {n}", nominal, repetitions,
                                       int(sum(p < nominal for p in ps))))
    return rows


def rates(quick: bool = False):
    """The rows of docs/statistics.md, yielded as they are measured."""
    scale = 0.1 if quick else 1.0
    reps = lambda k: max(3, int(k * scale))  # noqa: E731
    for rho, chains, n in ((0.0, 32, 2000), (0.9, 32, 2000), (0.98, 32, 2000), (0.9, 32, 9000)):
        yield from ar1_rates(rho, chains, n, reps(2000))
    yield from check_rate("ferrenberg-landau-wong", "checkerboard-metropolis", range(reps(200)),
                          setting=suite.Setting(8, (exact.T_C,)), label="L8,T=Tc (Kaufman)")
    yield from check_rate("energy-histogram-4x4", "checkerboard-heat-bath", range(reps(100)))
    L = 16
    yield from check_rate("bulk-l64", "checkerboard-heat-bath", range(reps(200)),
                          setting=suite.Setting(L, suite.BULK_TEMPERATURES),
                          label=f"L{L},T=1.5,2.0,2.2 (Kaufman; Onsager band e^(−L/ξ))")
    yield from check_rate("stationarity-one-step", "checkerboard-metropolis", range(reps(100)))


def main(argv=None) -> None:
    torch.set_num_threads(1)  # one core per process: the runs are many and small
    parser = argparse.ArgumentParser(prog="python -m tests.null_ising")
    sub = parser.add_subparsers(dest="what", required=True)
    z = sub.add_parser("zscores")
    z.add_argument("--seeds", default="1-8")
    z.add_argument("--summarise", metavar="JSONL")
    z.add_argument("--resume", metavar="JSONL", help="skip the cases already in this file")
    r = sub.add_parser("rates")
    r.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    if args.what == "zscores":
        if args.summarise:
            with open(args.summarise) as f:
                print("\n".join(summarise(f)))
            return
        lo, hi = (int(x) for x in args.seeds.split("-"))
        done = set()
        if args.resume:
            with open(args.resume) as f:
                done = {(r["check"], r["game"], r["sampler"], r["seed"])
                        for r in map(json.loads, f) if r}
        zscores(range(lo, hi + 1), done=frozenset(done))
    else:
        for row in rates(args.quick):
            print(row.row(), flush=True)


if __name__ == "__main__":
    main()
