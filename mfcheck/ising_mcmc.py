"""What the Ising suites (``ising``, ``ising-mfq``) share to run samplers and show their
results: run lengths, equilibrated runs, the drift test that shows equilibration, and the
order-parameter curve (docs/ising.md, "Budgets and equilibration").

Equilibration is shown, not assumed:

- **An ordered start where the phase is ordered.** Below T_c a hot (random) start quenched
  on a torus coarsens into stripes — two domain walls that wrap around the lattice and
  live for ~L² sweeps or longer — so ⟨E⟩ is biased up and ⟨|m|⟩ down for far longer than
  any affordable burn-in (checkerboard heat bath on 64×64 at T = 1.5 from hot starts: E/N
  z = +3.6 … +5.1 at every one of seeds 1–7, ⟨|m|⟩ 0.66 against 0.9865). From the all-up
  (cold) start the chain is already in one of the two ordered states and relaxes within a
  few autocorrelation times. `equilibrated_series` starts cold below T_c and hot above.
- **A drift test on what is kept** (`drift_test`): the mean of the first 10% of the kept
  sweeps against the mean of the last half, chain by chain; a chain still relaxing fails it
  with a "not equilibrated" message.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from mfcheck import stats
from mfcheck.analytic import ising as exact
from mfcheck.boundary import sampler_samples
from mfcheck.report import file_stem, new_figure, save_figure


@dataclass(frozen=True)
class RunLength:
    """``chains`` independent chains per temperature, ``sweeps`` sweeps each, of which the
    first ``burn_in`` are discarded."""

    chains: int
    sweeps: int
    burn_in: int


def start_for(T: float, coupling: float = 1.0) -> str:
    """``"cold"`` (all up) where the zero-field phase is ordered (T < T_c·J, J > 0), else
    ``"hot"`` (random)."""
    return "cold" if coupling > 0 and T < exact.T_C * coupling else "hot"


def series(sampler, L: int, temperatures, *, length: RunLength, seed: int, device,
           field: float = 0.0, start: str = "hot") -> tuple[np.ndarray, np.ndarray]:
    """Per-spin energy and magnetisation after burn-in, numpy ``(T, chains, sweeps −
    burn_in)``, from one validated call of the sampler (`sampler_samples`)."""
    s = sampler_samples(sampler, L, list(temperatures), sweeps=length.sweeps,
                        chains=length.chains, seed=seed, device=device, field=field,
                        start=start)
    cut = slice(length.burn_in, None)
    return (s.energy[..., cut].double().cpu().numpy(),
            s.magnetization[..., cut].double().cpu().numpy())


def equilibrated_series(sampler, L: int, temperatures, *, length: RunLength, seed: int, device,
                        field: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """`series` with each temperature started where it equilibrates fast (`start_for`): one
    sampler call for the temperatures below T_c (cold start, seed 2·seed) and one for the
    others (hot start, seed 2·seed + 1); arrays in the order of ``temperatures``."""
    temps = [float(T) for T in temperatures]
    e = m = None
    for k, start in enumerate(("cold", "hot")):
        idx = [i for i, T in enumerate(temps) if start_for(T) == start]
        if not idx:
            continue
        ek, mk = series(sampler, L, [temps[i] for i in idx], length=length,
                        seed=2 * seed + k, device=device, field=field, start=start)
        if e is None:
            e = np.empty((len(temps),) + ek.shape[1:])
            m = np.empty_like(e)
        e[idx], m[idx] = ek, mk
    return e, m


DRIFT_FIRST, DRIFT_LAST = 0.1, 0.5


def drift_test(x, alpha: float, what: str) -> stats.ZTestResult:
    """Is the kept part of independent chains ``x`` ``(chains, n)`` stationary?

    Per chain c, d_c = (mean of the first 10% of the sweeps) − (mean of the last 50%);
    under stationarity E d_c = 0, and the d_c of independent chains are independent, so
    mean(d)/(std(d)/√chains) is Student's t on chains − 1 dof — no autocorrelation time
    to estimate, honest however slowly the chains mix (a Geweke diagnostic with the
    between-chain error). Fails, at false-failure rate ``alpha``, with a message that
    starts "NOT EQUILIBRATED".
    """
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] < 2:
        raise ValueError(f"drift_test needs independent chains (chains ≥ 2, n), got shape "
                         f"{a.shape}")
    k, n = a.shape
    first, last = int(DRIFT_FIRST * n), int(DRIFT_LAST * n)
    if first < 1:
        raise ValueError(f"drift_test needs ≥ {math.ceil(1 / DRIFT_FIRST)} sweeps, got {n}")
    d = a[:, :first].mean(1) - a[:, n - last:].mean(1)
    se = float(d.std(ddof=1) / math.sqrt(k))
    test = stats.z_test(float(d.mean()), 0.0, se, alpha, dof=k - 1)
    verdict = (f"|t| ≤ {test.threshold:.3g}" if test.passed else
               f"NOT EQUILIBRATED: |t| > {test.threshold:.3g}, the kept sweeps still drift")
    message = (f"drift of {what}: mean of the first {DRIFT_FIRST:.0%} of the kept sweeps minus "
               f"the last {DRIFT_LAST:.0%}, {test.measured:.3g} ± {se:.2g} over {k} chains: "
               f"t = {test.z:.3g}, {verdict} (t({k - 1}) threshold for false-failure rate "
               f"{alpha:g})")
    return dataclasses.replace(test, message=message)


def write_order_parameter_curve(report_dir, name: str, T, mean, se, *, label: str | None = None,
                                more: dict | None = None, x_unit: float = 1.0,
                                x_label: str = "temperature T (J = k_B = 1)") -> list[str]:
    """``order-parameter-<name>.csv`` and ``.png`` (with Onsager's curve) in ``report_dir``.

    ``label`` names the (T, mean, se) curve (default ``"<name>, 20×20"``); ``more`` =
    {label: (mean, se)} adds curves at the same temperatures (one CSV column pair each).
    The x axis shows T/``x_unit``: the Ising stage game's τ = T·λ/2 is ``x_unit = 2/λ``.
    """
    curves = {label or f"{name}, 20×20": (mean, se), **(more or {})}
    report_dir.mkdir(parents=True, exist_ok=True)
    stem = "order-parameter-" + file_stem(name)
    csv = report_dir / f"{stem}.csv"
    header = ["temperature", "mean_abs_magnetization", "standard_error"]
    header += [f"{file_stem(c)}_{col}" for c in list(curves)[1:] for col in ("mean", "se")]
    columns = [T] + [v for m, s in curves.values() for v in (m, s)]
    rows = "\n".join(",".join(f"{v:.8g}" for v in row) for row in zip(*columns))
    csv.write_text(",".join(header) + "\n" + rows + "\n")
    fig, ax = new_figure(figsize=(6, 4))
    x = np.asarray(T, dtype=float) / x_unit
    grid = np.linspace(min(T), max(T), 400)
    ax.plot(grid / x_unit, exact.onsager_magnetization(grid), "k-", lw=1, label="Onsager (L = ∞)")
    for marker, (what, (m, s)) in zip("osD^vx", curves.items()):
        ax.errorbar(x, m, yerr=s, fmt=marker + "-", ms=4, lw=0.8, capsize=2, label=what)
    ax.axvline(exact.T_C / x_unit, color="grey", lw=0.5, ls=":")
    ax.set_xlabel(x_label)
    ax.set_ylabel("order parameter ξ = ⟨|N↑ − N↓|⟩ / N")
    ax.legend(fontsize="small")
    return [str(csv), save_figure(fig, report_dir / f"{stem}.png", dpi=120)]
