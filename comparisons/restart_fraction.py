"""The 1 x 8760-h capacity-expansion LP at 1e-6: gridprox PDHG with the Halpern restart
fraction 0.3 (default) and cuPDLPx's 0.2, and HiGHS IPM without crossover, in one process
so that the time ratios share the machine's load.

    python comparisons/restart_fraction.py [--hours 8760] [--tol 1e-6]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gridprox.lp.solver as pdhg_lp  # noqa: E402
from gridprox.synthetic import capacity_expansion_lp  # noqa: E402
from gridprox.solvers import solve_lp  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=int, default=8760)
    ap.add_argument("--tol", type=float, default=1e-6)
    args = ap.parse_args(argv)
    print(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), flush=True)
    solve_lp(capacity_expansion_lp(1, 24), solver="pdhg")          # torch's one-time costs
    lp = capacity_expansion_lp(1, args.hours)
    rows, default = [], pdhg_lp.RESTART_SUFFICIENT
    try:
        for frac in (default, 0.2):
            pdhg_lp.RESTART_SUFFICIENT = frac
            t = time.perf_counter()
            r = solve_lp(lp, solver="pdhg", tol=args.tol)
            rows.append((f"gridprox PDHG (restart {frac})", r, time.perf_counter() - t))
    finally:
        pdhg_lp.RESTART_SUFFICIENT = default
    t = time.perf_counter()
    r = solve_lp(lp, solver="highs", method="ipm", tol=args.tol, run_crossover="off", threads=1, time_limit=600)
    rows.append(("HiGHS IPM no crossover", r, time.perf_counter() - t))
    ref, ref_s = rows[-1][1].objective, rows[-1][2]
    print("| solver | status | seconds | iterations | rel. gap to HiGHS IPM | HiGHS IPM time / this |")
    for name, r, s in rows:
        print(f"| {name} | {r.status} | {s:.1f} | {r.iterations} | {abs(r.objective - ref) / abs(ref):.1e} "
              f"| {ref_s / s:.2f} |")


if __name__ == "__main__":
    main()
