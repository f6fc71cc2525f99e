"""gridprox PDHG on a GPU with its plain iterations replayed as CUDA graphs (the default
there) against the same solves eager (``cuda_graphs=False``), in one run: times, iterations,
the largest difference between the two solutions, and the ratio.  Capacity-expansion LPs of
``gridprox.synthetic``: 1 x 8760 h at 1e-4 and 1e-6, 7 x 8760 h at 1e-4 (and graphed at 1e-6), and
32 scenarios of the 8760-h model batched at 1e-4.

    python comparisons/gpu/graphs.py [--device cuda] [--skip-multi]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from gridprox.synthetic import capacity_expansion_lp, scenario_sweep  # noqa: E402
from gridprox.solvers import solve_lp  # noqa: E402


def timed(lp, tol, device, graphs, time_limit):
    """(list of Results, seconds): one Result per scenario, also for a single LP."""
    t = time.perf_counter()
    res = solve_lp(lp, solver="pdhg", tol=tol, device=device, cuda_graphs=graphs, time_limit=time_limit)
    return (res if isinstance(res, list) else [res]), time.perf_counter() - t


def compare(label, lp, tol, device, time_limit, eager=True):
    gs, tg = timed(lp, tol, device, None, time_limit)
    its = sum(r.iterations for r in gs)
    if not eager:
        print(f"| {label} | {tol:g} | - | {tg:.2f} | {its} | - | - | {gs[0].status} |", flush=True)
        return
    es, te = timed(lp, tol, device, False, time_limit)
    diff = max(float(np.max(np.abs(a.x - b.x)) / (1 + np.max(np.abs(b.x)))) for a, b in zip(gs, es))
    same = all(a.iterations == b.iterations for a, b in zip(gs, es))
    status = ",".join(sorted({r.status for r in gs}))
    print(f"| {label} | {tol:g} | {te:.2f} | {tg:.2f} | {its}{'' if same else ' (eager differs)'} | "
          f"{diff:.1e} | **{te / tg:.2f}x** | {status} |", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda")
    p.add_argument("--skip-multi", action="store_true")
    p.add_argument("--time-limit", type=float, default=60.0)
    args = p.parse_args(argv)
    import torch
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"
    print(f"# gridprox CUDA graphs vs eager, torch {torch.__version__}, {name}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    solve_lp(capacity_expansion_lp(1, 24), solver="pdhg", device=args.device)        # context, cuSPARSE
    print("| LP | tol | eager (s) | graphs (s) | iterations | max rel. x diff | eager / graphs | status |")
    print("|---|---|---|---|---|---|---|---|")
    year = capacity_expansion_lp(1, 8760)
    compare("1 x 8760 h", year, 1e-4, args.device, args.time_limit)
    compare("1 x 8760 h", year, 1e-6, args.device, args.time_limit)
    compare("32 x (1 x 8760 h) batched", scenario_sweep(32, 1, 8760), 1e-4, args.device, args.time_limit)
    if not args.skip_multi:
        multi = capacity_expansion_lp(7, 8760)
        compare("7 x 8760 h", multi, 1e-4, args.device, args.time_limit)
        compare("7 x 8760 h", multi, 1e-6, args.device, args.time_limit, eager=False)


if __name__ == "__main__":
    main()
