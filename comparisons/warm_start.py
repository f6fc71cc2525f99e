"""Warm starts with and without PDHG's primal weight, on three-country planning LPs.

For each case the same LP is solved warm from (x, y) only and from the Result (x, y and
its primal weight), in one run; iteration counts are machine-independent.

    python comparisons/warm_start.py [--hours 168] [--tol 1e-4] [--chain 11]
"""
from __future__ import annotations

import argparse

import numpy as np

from gridprox.datasets import load_system
from gridprox.energy import CapacityExpansion
from gridprox.solvers import solve_lp


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=int, default=168)
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--chain", type=int, default=11, help="CO2 caps 0.3-0.8 x uncapped emissions, solved in order")
    args = ap.parse_args(argv)
    system = load_system("three-country")
    free = CapacityExpansion(system, hours=args.hours).solve(solver="highs").summary.iloc[0]["total_emissions_t"]
    model = CapacityExpansion(system, hours=args.hours, co2_cap=free)
    cap = 0.5 * free
    solve = lambda lp, **kw: solve_lp(lp, solver="pdhg", tol=args.tol, **kw)  # noqa: E731
    first = solve(model.lp({"co2_cap": cap}))
    print(f"three-country {args.hours} h, CO2 cap 0.5 x {free:,.0f} t, tol {args.tol:g}: cold {first.iterations} "
          f"iterations")
    print(f"{'warm start from the cap-0.5 solution':<40}{'cold':>8}{'(x, y)':>9}{'Result':>9}  rel. gap to HiGHS")
    for name, inputs in (("same LP", {}), ("CO2 cap +3%", {"co2_cap": 1.03 * cap}),
                         ("CO2 cap -10%", {"co2_cap": 0.9 * cap}), ("demand x1.03", {"demand_scale": 1.03})):
        lp = model.lp({"co2_cap": cap, **inputs})
        cold = first if not inputs else solve(lp)
        xy, full = solve(lp, warm_start=(first.x, first.y)), solve(lp, warm_start=first)
        ref = solve_lp(lp, solver="highs").objective
        print(f"{name:<40}{cold.iterations:8d}{xy.iterations:9d}{full.iterations:9d}  "
              f"{abs(full.objective - ref) / abs(ref):.1e}")
    caps = np.linspace(0.3, 0.8, args.chain) * free
    totals = {}
    for label, start in (("(x, y)", lambda r: (r.x, r.y)), ("Result", lambda r: r)):
        prev, its = None, []
        for c in caps:
            r = solve(model.lp({"co2_cap": c}), warm_start=None if prev is None else start(prev))
            its.append(r.iterations)
            prev = r if r.ok else prev
        totals[label] = its
        print(f"chain of {args.chain} caps, each warm from the previous, {label}: {sum(its)} iterations {its}")


if __name__ == "__main__":
    main()
