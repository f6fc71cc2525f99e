"""Presolve in front of PDHG (issue 25 item 4): gridprox's light presolve against HiGHS's presolve.

For each LP: its size after each presolve, then ``solve_lp(lp, "pdhg", presolve=True)`` and
``solve_lp(lp, "pdhg", presolve="highs")`` at the same tol and time limit, both timed end to end
(presolve, PDHG, postsolve), and HiGHS's dual simplex as the exact reference.  Every PDHG
result is measured on the original LP (after postsolve): its status, the objective's gap to the
simplex optimum, and the relative KKT residuals of the postsolved x and duals (ℓ2 primal, dual,
gap; worst single row and column, row_rel and col_rel).

LPs: ``model-energy`` (first 720 h, and the full horizon), ``three-country`` (3-hourly, and
full), ``gridprox.synthetic.capacity_expansion_lp`` at 1 zone x 720 h; then a batch of
``--batch`` synthetic scenarios (``batch``).  Run::

    python comparisons/presolve.py --threads 1              # all five, tol 1e-4, 300 s limit
    python comparisons/presolve.py --models syn720,me720 --time-limit 120 --batch 0
    python comparisons/presolve.py --models "" --batch 8     # the batch only
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODELS = ("syn720", "tc3h", "me720", "mefull", "tcfull")


def build(name: str):
    """The LinearProgram of one model name (MODELS)."""
    from gridprox import synthetic
    from gridprox.datasets import load_system
    from gridprox.energy import CapacityExpansion

    if name == "syn720":
        return synthetic.capacity_expansion_lp(1, 720)
    system = load_system("model-energy" if name.startswith("me") else "three-country")
    kwargs = {"me720": {"hours": 720}, "tc3h": {"resample": "3h"}}.get(name, {})
    return CapacityExpansion(system, **kwargs).lp()


def size(lp) -> str:
    if lp is None:
        return "empty"
    m, n = lp.shape
    return f"{m} x {n} ({lp.A.nnz})"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, of {', '.join(MODELS)}")
    p.add_argument("--tol", type=float, default=1e-4)
    p.add_argument("--time-limit", type=float, default=300.0, help="seconds per PDHG solve (default 300)")
    p.add_argument("--threads", type=int, default=None, help="PDHG threads (default: its own choice)")
    p.add_argument("--max-iter", type=int, default=None,
                   help="PDHG iteration budget: on a loaded machine residuals after equal iterations compare "
                        "where seconds do not")
    p.add_argument("--presolves", default="light,highs", help="which of light, highs to run (default both)")
    p.add_argument("--batch", type=int, default=8, help="scenarios of the batch measured last (0: none)")
    args = p.parse_args()

    from gridprox.solvers import solve_lp
    from gridprox.solvers.highs_presolve import _Reduced
    from gridprox.solvers.presolve import presolve

    options = {"tol": args.tol, "time_limit": args.time_limit, "max_iter": args.max_iter}
    if args.threads:
        options["threads"] = args.threads
    from gridprox import synthetic

    modes = [{"light": True, "highs": "highs"}[m] for m in args.presolves.split(",")]
    solve_lp(synthetic.capacity_expansion_lp(1, 24), "pdhg", **options)   # one-time set-up out of the timings
    print(f"tol {args.tol:g}, time limit {args.time_limit:g} s, max_iter {args.max_iter}, "
          f"threads {args.threads or 'auto'}; seconds are wall "
          "time including presolve and postsolve; residuals measured on the original LP\n")
    print("| model | presolve | LP after presolve (nnz) | status | PDHG iterations | seconds | "
          "objective gap to simplex | primal | dual | gap | row_rel | col_rel |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in filter(None, args.models.split(",")):
        lp = build(name)
        t0 = time.perf_counter()
        ref = solve_lp(lp, "highs", method="simplex")
        simplex_s = time.perf_counter() - t0
        print(f"| {name} | (original; HiGHS simplex {simplex_s:.1f} s) | {size(lp)} | {ref.status} | | | | | | | | |",
              flush=True)
        sizes = {True: size(presolve(lp).lp), "highs": size(_Reduced(lp).lp)}
        for mode in modes:
            t0 = time.perf_counter()
            res = solve_lp(lp, "pdhg", presolve=mode, **options)
            seconds = time.perf_counter() - t0
            r = res.residuals
            gap = abs(res.objective - ref.objective) / (1 + abs(ref.objective))
            fmt = lambda key: f"{r[key]:.1e}" if key in r else "-"  # noqa: E731
            print(f"| {name} | {'light' if mode is True else 'highs'} | {sizes[mode]} | {res.status} | "
                  f"{res.iterations} | {seconds:.1f} | {gap:.1e} | {fmt('primal')} | {fmt('dual')} | {fmt('gap')} | "
                  f"{fmt('row_rel')} | {fmt('col_rel')} |", flush=True)
    if args.batch:
        batch(args.batch, options)


def batch(num: int, options: dict) -> None:
    """A batch: ``synthetic.scenario_sweep`` (demand, gas price, CO2 cap vary) at 1 x 720 h, solved
    as one PDHG batch after the light presolve, and after HiGHS's presolve per scenario (scenarios
    whose reduced LPs share A solved as one batch)."""
    from gridprox import synthetic
    from gridprox.solvers import solve_lp
    from gridprox.solvers.highs_presolve import _Reduced, _groups

    lp = synthetic.scenario_sweep(num, 1, 720)
    refs = [solve_lp(s, "highs", method="simplex").objective for s in lp.scenarios()]
    groups = _groups([_Reduced(s) for s in lp.scenarios()])
    print(f"\nbatch: synthetic.scenario_sweep({num}, 1, 720); HiGHS presolve gives {len(groups)} distinct reduced "
          f"LP(s) (sizes of the batches solved: {sorted(len(g) for g in groups)})\n")
    print("| presolve | statuses | PDHG iterations (max) | seconds | worst objective gap to simplex |")
    print("|---|---|---:|---:|---:|")
    for mode in (True, "highs"):
        t0 = time.perf_counter()
        results = solve_lp(lp, "pdhg", presolve=mode, **options)
        seconds = time.perf_counter() - t0
        statuses = sorted({r.status for r in results})
        gap = max(abs(r.objective - ref) / (1 + abs(ref)) for r, ref in zip(results, refs))
        print(f"| {'light' if mode is True else 'highs'} | {', '.join(statuses)} | "
              f"{max(r.iterations for r in results)} | {seconds:.1f} | {gap:.1e} |", flush=True)


if __name__ == "__main__":
    main()
