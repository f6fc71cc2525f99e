"""What the planning LP's structure does to PDHG's iteration count (issue 25 item 5).

Variants of a bundled system, each solved by PDHG to PDLP's ℓ2 measures at ``--tol`` (the
stopping rule a crossover polish starts from) with an iteration cap, against the unchanged
model: horizons (a storage chain's conditioning grows with its length), without the seasonal
(hydrogen) or the daily (battery) storage, and with tie-breaker costs on free dispatch.
Iteration counts are deterministic; seconds are this machine's, noisy.

    python comparisons/conditioning.py [--system model-energy] [--hours 168,720] [--tol 1e-4]
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from gridprox import datasets
from gridprox.energy import CapacityExpansion
from gridprox.solvers import solve_lp


def variants(system):
    """{label: System}: the data as shipped and one change each."""
    out = {"as shipped": system}
    if len(system.stores):
        s = system.copy()
        hydrogen = set(s.stores["bus"])
        s.stores = s.stores.iloc[0:0]
        s.links = s.links[~(s.links["bus0"].isin(hydrogen) | s.links["bus1"].isin(hydrogen))]
        out["no stores (no seasonal storage)"] = s
    if len(system.storage_units):
        s = system.copy()
        s.storage_units = s.storage_units.iloc[0:0]
        out["no storage units (no battery)"] = s
    for cost in (0.01, 1.0):
        s = system.copy()
        for table in ("generators", "storage_units", "links"):
            df = getattr(s, table).copy()
            if "marginal_cost" in df:
                free = df["marginal_cost"].fillna(0.0) == 0.0
                df.loc[free, "marginal_cost"] = cost
                setattr(s, table, df)
        out[f"tie-breaker {cost:g}/MWh on free dispatch"] = s
    return out


def run(system_name: str, hours: list, tol: float, max_iter: int) -> list:
    rows = []
    system = datasets.load_system(system_name)
    for h in hours:
        for label, s in variants(system).items():
            lp = CapacityExpansion(s, hours=h).lp()
            ref = solve_lp(lp, "highs", method="simplex")
            t0 = time.perf_counter()
            res = solve_lp(lp, "pdhg", tol=tol, max_iter=max_iter, each_row=False)
            seconds = time.perf_counter() - t0
            gap = abs(res.objective - ref.objective) / max(abs(ref.objective), 1.0)
            rows.append((h, label, lp.A.shape, res.status, res.iterations, seconds, gap,
                         res.residuals.get("row_rel", np.nan)))
            print("| " + " | ".join(_cells(rows[-1])) + " |", flush=True)
    return rows


def _cells(row):
    h, label, shape, status, its, seconds, gap, row_rel = row
    return [str(h), label, f"{shape[1]:,} x {shape[0]:,}", status, f"{its:,}", f"{seconds:.1f}", f"{gap:.1e}",
            f"{row_rel:.1e}"]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--system", default="model-energy")
    ap.add_argument("--hours", default="168,720", help="comma-separated snapshot counts (first N)")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--max-iter", type=int, default=400_000)
    args = ap.parse_args(argv)
    print(f"{args.system}, PDHG to the l2 measures at tol {args.tol:g}, at most {args.max_iter:,} iterations")
    print("| snapshots | variant | vars x rows | status | iterations | seconds | rel. objective gap | worst row_rel |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    run(args.system, [int(h) for h in args.hours.split(",")], args.tol, args.max_iter)


if __name__ == "__main__":
    main()
