"""One fictitious-play iteration on crowd_modelling_2d against the number of cells: time and
peak memory, plotted log-log (docs/performance.md, "Large grid games").

    python -m tests.grid_scaling [--sizes 32,64,128,256,512] [--horizon 100] [--threads 1]
                                 [--repeat 3] [--device cpu] [--out docs/img/crowd-modelling-2d-scaling.png]

Each size runs in a fresh process, so its peak resident memory (``ru_maxrss``) is its own:
the process builds the game, runs the reference `FictitiousPlay` for one iteration (the
first computes the uniform policy's flow as well), then times ``--repeat`` more iterations
and reports their median. "Memory" is the peak minus the resident memory before the game
was built (torch's import alone is ~240 MB). The slopes of log time and log memory against
log cells are least-squares fits with 95% t-intervals: memory linear in cells is a slope
of 1.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

import numpy as np
from scipy import stats as st

DEFAULT_SIZES = (32, 64, 128, 256, 512)


def measure(size: int, horizon: int, threads: int, repeat: int, device: str) -> dict:
    """Run in the child process: one size's figures."""
    import resource
    import time

    import torch

    from mfcheck.devices import synchronize
    from mfcheck.games import crowd_modelling_2d
    from mfcheck.reference import FictitiousPlay

    torch.set_num_threads(threads)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    start = time.perf_counter()
    game = crowd_modelling_2d(size=size, horizon=horizon, device=device)
    build = time.perf_counter() - start
    iterates = FictitiousPlay().solve(game, seed=0)
    next(iterates)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        next(iterates)
        synchronize(device)
        times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    if device != "cpu":  # device memory, not the host's
        peak, before = torch.cuda.max_memory_allocated(), 0
    return dict(size=size, cells=size * size, horizon=horizon, build_s=build,
                iteration_s=statistics.median(times), times=times, peak_bytes=peak,
                memory_bytes=peak - before)


def slope(x, y) -> tuple[float, float, float]:
    """Least-squares slope of log y on log x and its 95% t-interval."""
    fit = st.linregress(np.log(x), np.log(y))
    half = st.t.ppf(0.975, len(x) - 2) * fit.stderr
    return fit.slope, fit.slope - half, fit.slope + half


def plot(rows: list[dict], out: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cells = np.array([r["cells"] for r in rows], dtype=float)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, key, scale, label in ((axes[0], "iteration_s", 1.0, "seconds per iteration"),
                                  (axes[1], "memory_bytes", 2**-20, "peak memory (MiB)")):
        values = np.array([r[key] for r in rows]) * scale
        b, lo, hi = slope(cells, values)
        ax.loglog(cells, values, "o-", label=f"slope {b:.2f} [{lo:.2f}, {hi:.2f}]")
        ax.loglog(cells, values[0] * cells / cells[0], ":", color="grey", label="linear")
        for r, v in zip(rows, values):
            ax.annotate(f"{r['size']}²", (r["cells"], v), textcoords="offset points",
                        xytext=(4, -10), fontsize=8)
        ax.set_xlabel("cells (size²)")
        ax.set_ylabel(label)
        ax.legend(fontsize=8)
    fig.suptitle(f"crowd_modelling_2d, horizon {rows[0]['horizon']}: one fictitious-play "
                 f"iteration (stencil kernels)", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--horizon", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default="docs/img/crowd-modelling-2d-scaling.png")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.child:
        print(json.dumps(measure(sizes[0], args.horizon, args.threads, args.repeat, args.device)))
        return 0
    rows = []
    print("| size | cells | build | one iteration | peak RSS | memory | bytes per cell·epoch |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for size in sizes:
        child = subprocess.run([sys.executable, "-m", "tests.grid_scaling", "--child",
                                "--sizes", str(size), "--horizon", str(args.horizon),
                                "--threads", str(args.threads), "--repeat", str(args.repeat),
                                "--device", args.device], capture_output=True, text=True)
        if child.returncode:
            print(f"size {size}: the measurement failed:\n{child.stderr[-2000:]}", file=sys.stderr)
            return 1
        row = json.loads(child.stdout.strip().splitlines()[-1])
        rows.append(row)
        per = row["memory_bytes"] / (row["cells"] * args.horizon)
        print(f"| {size} | {row['cells']:,} | {row['build_s']:.2f} s | {row['iteration_s']:.3g} s "
              f"| {row['peak_bytes'] / 2**20:,.0f} MiB | {row['memory_bytes'] / 2**20:,.0f} MiB "
              f"| {per:.0f} |", flush=True)
    if len(rows) >= 3:
        cells = [r["cells"] for r in rows]
        for key, what in (("iteration_s", "time"), ("memory_bytes", "memory")):
            b, lo, hi = slope(cells, [r[key] for r in rows])
            print(f"{what} ∝ cells^{b:.3f} (95% interval {lo:.3f} to {hi:.3f})")
        plot(rows, args.out)
        print(f"plot: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
