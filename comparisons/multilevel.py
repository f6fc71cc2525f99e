"""Multilevel time warm start against a cold start (issue 25 item 3).

Each instance (a bundled system, its first N snapshots) is solved by PDHG twice with the same
options: cold, and with ``CapacityExpansion.solve(multilevel=...)``, which solves the model on
coarser time grids first (to the same tol) and starts from the prolonged answer.  Iterations
are deterministic; a coarse iteration costs about (coarse snapshots / fine snapshots) of a fine
one, so "fine-equivalent iterations" weighs each level by its snapshot count.  Seconds are this
machine's, noisy when it is shared.

    python comparisons/multilevel.py --instances model-energy@168,model-energy@720,three-country@720 \\
        [--levels 24,6] [--tol 1e-4] [--max-iter 400000] [--each-row]
"""
from __future__ import annotations

import argparse
import time

from gridprox import datasets
from gridprox.energy import CapacityExpansion


def run(name: str, hours: int, levels, tol: float, max_iter: int, each_row: bool) -> list:
    model = CapacityExpansion(datasets.load_system(name), hours=hours)
    fine_T = model.time.T
    opts = dict(solver="pdhg", tol=tol, device="cpu", polish=None, max_iter=max_iter, each_row=each_row)
    rows = []
    for label, ml in (("cold", None), ("multilevel " + ",".join(f"{s:g}h" for s in levels), levels)):
        t0 = time.perf_counter()
        res = model.solve(multilevel=ml, **opts).raw
        seconds = time.perf_counter() - t0
        stages = res.stages or {"pdhg": {"iterations": res.iterations}}
        fine = stages.get("pdhg", {}).get("iterations", res.iterations)
        coarse = [(k, v["iterations"], v["snapshots"]) for k, v in stages.items() if k.startswith("level")]
        equivalent = fine + sum(it * T / fine_T for _, it, T in coarse)
        rows.append({"instance": f"{name}@{hours}", "start": label, "status": res.status, "fine_it": fine,
                     "coarse_it": " ".join(f"{k[6:]}:{it}" for k, it, _ in coarse) or "-",
                     "equiv_it": round(equivalent), "seconds": seconds, "objective": res.objective})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", default="model-energy@168,model-energy@720")
    ap.add_argument("--levels", default="24,6", help="coarse steps in hours, coarsest first")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--max-iter", type=int, default=400_000)
    ap.add_argument("--each-row", action="store_true", help="the per-row test too (default: PDLP's ℓ2 "
                    "measures, the stopping rule a crossover polish starts from)")
    args = ap.parse_args(argv)
    levels = [float(s) for s in args.levels.split(",")]
    print(f"{'instance':<20} {'start':<20} {'status':<18} {'fine it':>9} {'coarse it':<22} {'fine-equiv':>10} "
          f"{'seconds':>8} {'objective':>16}")
    for inst in args.instances.split(","):
        name, _, hours = inst.partition("@")
        for r in run(name, int(hours) if hours else None, levels, args.tol, args.max_iter, args.each_row):
            print(f"{r['instance']:<20} {r['start']:<20} {r['status']:<18} {r['fine_it']:>9} {r['coarse_it']:<22} "
                  f"{r['equiv_it']:>10} {r['seconds']:>8.1f} {r['objective']:>16.8g}", flush=True)


if __name__ == "__main__":
    main()
