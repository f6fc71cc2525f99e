"""HiGHS's simplex from a basis guessed from a PDHG point, against HiGHS's crossover from the same
point and the simplex from scratch (issue 25 item 2: the cost of an exact answer from PDHG).

PDHG stops on PDLP's ℓ2 measures at ``--tol`` (the stopping rule a crossover polish starts from).
The guess: a column or row strictly inside its bounds by more than ``eps`` of the point's largest
magnitude is basic, else at its nearer bound (``--rule abs``); or basic only where that distance
also exceeds its reduced cost (dual) relative to the largest, times ``eps``·1e4 (``--rule comp``,
complementarity).  The count of basic entries is then made the number of rows: the basic entries
nearest a bound leave, or the nonbasic ones with the smallest reduced cost join.  HiGHS factorises
that basis (replacing dependent columns by slacks) and its simplex, without presolve, finishes.

    python comparisons/basis_guess.py --instances gp:model-energy@720,pypsa:three-country@720,synthetic:seed2
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from gridprox.solvers import solve_lp
from gridprox.solvers.highs import _build, _configure, _highspy, _run
from gridprox.solvers.polish import crossover

try:
    from .real_models import cache_folder, load_instance, warm_up
except ImportError:
    from real_models import cache_folder, load_instance, warm_up


def _statuses(v, lo, hi, dual, eps: float, rule: str):
    """(0 lower / 1 basic / 2 upper, distance to the nearer bound), each relative to the largest |v|."""
    scale = 1 + np.abs(v).max()
    dlo = np.where(np.isfinite(lo), (v - lo) / scale, np.inf)
    dhi = np.where(np.isfinite(hi), (hi - v) / scale, np.inf)
    floor = eps if rule == "abs" else np.abs(dual) / (1 + np.abs(dual).max()) * eps * 1e4
    status = np.where((dlo > floor) & (dhi > floor), 1, np.where(dlo <= dhi, 0, 2))
    return np.where(~np.isfinite(lo) & ~np.isfinite(hi), 1, status), np.minimum(dlo, dhi)


def guess_basis(lp, x, y, eps: float, rule: str):
    S = _highspy().HighsBasisStatus
    m, n = lp.A.shape
    ax, z = lp.A @ x, lp.c - lp.A.T @ y
    cs, cd = _statuses(x, lp.lx, lp.ux, z, eps, rule)
    rs, rd = _statuses(ax, lp.lc, lp.uc, y, eps, rule)
    status, dist, lo = np.r_[cs, rs], np.r_[cd, rd], np.r_[x - lp.lx <= lp.ux - x, ax - lp.lc <= lp.uc - ax]
    free = np.r_[~np.isfinite(lp.lx) & ~np.isfinite(lp.ux), np.zeros(m, bool)]
    extra = int((status == 1).sum()) - m
    if extra > 0:        # the basic entries nearest a bound leave
        order = np.argsort(np.where((status == 1) & ~free, dist, np.inf))[:extra]
        status[order] = np.where(lo[order], 0, 2)
    elif extra < 0:      # the nonbasic entries with the smallest reduced cost join
        cost = np.r_[np.abs(z) / (1 + np.abs(lp.c)), np.abs(y)]
        status[np.argsort(np.where(status != 1, cost, np.inf))[:-extra]] = 1
    has_lo, has_hi = np.isfinite(np.r_[lp.lx, lp.lc]), np.isfinite(np.r_[lp.ux, lp.uc])
    # a nonbasic entry sits at the bound it is nearer, or at its only finite one (free: zero)
    at_lo = has_lo & ((status == 0) | ~has_hi)
    at_hi = has_hi & ~at_lo
    code = [S.kBasic if s == 1 else S.kLower if low else S.kUpper if up else S.kZero
            for s, low, up in zip(status, at_lo, at_hi)]
    basis = _highspy().HighsBasis()
    basis.col_status, basis.row_status, basis.valid = code[:n], code[n:], True
    return basis


def simplex_from_guess(lp, x, y, rule: str, eps: float):
    """HiGHS's simplex, without presolve, from the basis ``guess_basis`` makes of (x, y)."""
    h = _build(lp)
    _configure(h, "simplex")
    h.setOptionValue("presolve", "off")
    h.setBasis(guess_basis(lp, x, y, eps, rule))
    return _run(h, lp)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", default="gp:model-energy@720,pypsa:three-country@720,synthetic:seed2")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--guesses", default="abs:1e-4,comp:1e-6", help="comma list of rule:eps")
    ap.add_argument("--no-scratch", action="store_true", help="skip the simplex from scratch")
    args = ap.parse_args(argv)
    warm_up(None, "cpu")
    print("| instance | PDHG it. (s) | start | simplex iterations | seconds after PDHG |")
    print("|---|---|---|---:|---:|")
    for spec in args.instances.split(","):
        lp = load_instance(spec, cache_folder(None)).lp.with_infinite_bounds()
        t = time.perf_counter()
        res = solve_lp(lp, "pdhg", tol=args.tol, each_row=False)
        head = f"| {spec} | {res.iterations:,} ({time.perf_counter() - t:.2f}) |"
        for guess in args.guesses.split(","):
            rule, eps = guess.split(":")
            t = time.perf_counter()
            out = simplex_from_guess(lp, res.x, res.y, rule, float(eps))
            print(f"{head} basis guessed ({rule}, {eps}) | {out.iterations:,} ({out.status}) | "
                  f"{time.perf_counter() - t:.2f} |", flush=True)
        t = time.perf_counter()
        out = crossover(lp, res)
        print(f"{head} HiGHS's crossover | {out.stages['crossover']['iterations']:,} ({out.status}) | "
              f"{time.perf_counter() - t:.2f} |", flush=True)
        if not args.no_scratch:
            t = time.perf_counter()
            out = solve_lp(lp, "highs", method="simplex")
            print(f"| {spec} | | simplex from scratch (presolve on) | {out.iterations:,} ({out.status}) | "
                  f"{time.perf_counter() - t:.2f} |", flush=True)


if __name__ == "__main__":
    main()
