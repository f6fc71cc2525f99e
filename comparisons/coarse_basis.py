"""HiGHS's simplex started from a coarse time grid's optimum, against the simplex from scratch
(issue 25 items 3 and 7: a multilevel start for the exact solver the default runs on a CPU).

Each bundled system is solved exactly on a grid ``--factor`` times coarser (``energy.multilevel``'s
``coarse_model``, HiGHS's simplex), its optimum prolonged to the model's own grid
(``Prolongation``: capacities copied, dispatch repeated, levels interpolated, prices spread), and
the fine LP finished by HiGHS from that point: its crossover then simplex (``polish.crossover``),
or the simplex (no presolve) from a basis guessed from the point (``basis_guess.guess_basis``).
Seconds of the fine finish include the coarse build and solve.

    python comparisons/coarse_basis.py --instances gp:model-energy@720,gp:model-energy --factors 2,4
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from gridprox.energy.multilevel import Prolongation, coarse_model
from gridprox.solvers import solve_lp
from gridprox.solvers.polish import crossover
from gridprox.solvers.result import Result

try:
    from .basis_guess import simplex_from_guess
    from .real_models import cache_folder, load_instance, warm_up
except ImportError:
    from basis_guess import simplex_from_guess
    from real_models import cache_folder, load_instance, warm_up


def _gap(a: float, b: float) -> str:
    return f"{abs(a - b) / max(1.0, abs(b)):.0e}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", default="gp:model-energy@720,gp:model-energy")
    ap.add_argument("--factors", default="2,4", help="coarse step = the model's step times each factor; "
                    "'8/2': a chain of levels, coarsest first, each started from the one before")
    ap.add_argument("--method", default="simplex", help="HiGHS method on the coarse grid")
    ap.add_argument("--guess", default="abs:1e-4", help="rule:eps of the basis guess; '' to skip it")
    ap.add_argument("--duals", choices=("prolonged", "zero"), default="prolonged",
                    help="the fine start's y: the prolonged coarse prices, or zero (the primal point alone)")
    args = ap.parse_args(argv)
    warm_up(None, "cpu")
    print("| instance | start | coarse build + solve s | fine iterations | fine s | total s | gap |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for spec in args.instances.split(","):
        inst = load_instance(spec, cache_folder(None))
        model, lp = inst.model, inst.lp.with_infinite_bounds()
        t = time.perf_counter()
        ref = solve_lp(lp, "highs", method="simplex")
        scratch = time.perf_counter() - t
        print(f"| {spec} | scratch (presolve on) | | {ref.iterations:,} | {scratch:.2f} | {scratch:.2f} | 0 |",
              flush=True)
        step = float(np.median(model.time.dur))
        for chain in args.factors.split(","):
            t = time.perf_counter()
            point, prev, its = None, None, []
            for factor in [int(f) for f in chain.split("/")] + [None]:
                level = model if factor is None else coarse_model(model, step * factor)
                if prev is not None:
                    point = Prolongation(prev, level)(*point)
                if factor is None:
                    break
                llp = level.lp(model.inputs).with_infinite_bounds()
                cres = (solve_lp(llp, "highs", method=args.method) if point is None else
                        crossover(llp, Result(status="optimal", x=point[0], y=point[1], solver="coarse")))
                point, prev = (cres.x, cres.y), level
                its.append(f"{step * factor:g} h {cres.iterations:,}")
            x, y = point
            y = y if args.duals == "prolonged" else np.zeros_like(y)
            head = time.perf_counter() - t
            label = f"{' / '.join(its)} it."
            t = time.perf_counter()
            out = crossover(lp, Result(status="optimal", x=x, y=y, solver="coarse"))
            fine = time.perf_counter() - t
            print(f"| {spec} | {label}, crossover | {head:.2f} | {out.stages['crossover']['iterations']:,} "
                  f"({out.status}) | {fine:.2f} | {head + fine:.2f} | {_gap(out.objective, ref.objective)} |",
                  flush=True)
            if args.guess:
                rule, eps = args.guess.split(":")
                t = time.perf_counter()
                out = simplex_from_guess(lp, x, y, rule, float(eps))
                fine = time.perf_counter() - t
                print(f"| {spec} | {label}, basis guessed ({rule}, {eps}) | {head:.2f} | {out.iterations:,} "
                      f"({out.status}) | {fine:.2f} | {head + fine:.2f} | {_gap(out.objective, ref.objective)} |",
                      flush=True)


if __name__ == "__main__":
    main()
