"""PDHG on bundled systems with capacities fixed through the system's tables (min = max), the case
the light presolve changes most: it substitutes the fixed columns into the row bounds and makes the
rows they leave single bounds (RESULTS, "The light presolve measured and weighted as the LP given").

    python comparisons/fixed_capacities.py                       # the three cases of RESULTS
    python comparisons/fixed_capacities.py --cases three-country@168

Cases: ``model-energy@720`` with the hydrogen store's energy capacity fixed at HiGHS's optimum of
the LP as built; ``three-country@H`` with DE solar at 40 GW and FR onwind at 30 GW.  Each is solved
by HiGHS's simplex (the reference) and by PDHG at tol 1e-4 with the per-row test and without
(``each_row=False``), each with gridprox's presolve and without.  Iterations are deterministic;
seconds move with the machine's load.
"""
from __future__ import annotations

import argparse
import time

from gridprox.datasets import load_system
from gridprox.energy import CapacityExpansion
from gridprox.solvers import solve_lp

CASES = "model-energy@720,three-country@168,three-country@720"


def fixed_system(case: str):
    """(system with its capacities fixed, hours) for ``case`` (``NAME@HOURS``)."""
    name, _, hours = case.partition("@")
    hours = int(hours) if hours else None
    system = load_system(name)
    if name == "model-energy":
        model = CapacityExpansion(system, hours=hours)
        x = solve_lp(model.lp(), "highs", method="simplex").x
        store = model.comp["stores"]
        value = float(x[model.pp.var_offsets[store.cap.id]])        # the one store: hydrogen
        system.stores.loc[store.names[0], ["e_nom_min", "e_nom_max"]] = value
    elif name == "three-country":
        for gen, value in (("DE solar", 40000.0), ("FR onwind", 30000.0)):
            system.generators.loc[gen, ["p_nom_min", "p_nom_max"]] = value
    else:
        raise SystemExit(f"case {case!r}: write model-energy@HOURS or three-country@HOURS")
    return system, hours


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", default=CASES, help=f"comma list (default {CASES})")
    ap.add_argument("--time-limit", type=float, default=300.0)
    args = ap.parse_args(argv)
    print("| case | PDHG 1e-4 | presolve | status | iterations | seconds | rel. objective gap to HiGHS |")
    print("|---|---|---|---|---:|---:|---:|")
    for case in args.cases.split(","):
        system, hours = fixed_system(case)
        lp = CapacityExpansion(system, hours=hours).lp()
        ref = solve_lp(lp, "highs", method="simplex").objective
        for each_row in (True, False):
            for presolve in (True, False):
                t = time.perf_counter()
                r = solve_lp(lp, "pdhg", tol=1e-4, each_row=each_row, presolve=presolve, time_limit=args.time_limit)
                test = "default" if each_row else "each_row=False"
                print(f"| {case} | {test} | {'on' if presolve else 'off'} | {r.status} | {r.iterations:,} | "
                      f"{time.perf_counter() - t:.1f} | {abs(r.objective - ref) / abs(ref):.1e} |", flush=True)


if __name__ == "__main__":
    main()
