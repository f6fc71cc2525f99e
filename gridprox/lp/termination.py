"""Termination, outside the loop (as OR-Tools' pdlp/termination.cc): convergence, infeasibility
certificates, limits, and the best point kept for limit statuses."""
from __future__ import annotations

import torch

from ..core.sparse import SparseMatrixOperator
from .data import ScaledLP
from .measures import dot
from .options import (INFEASIBLE, INFEASIBLE_OR_UNBOUNDED, ITERATION_LIMIT, OPTIMAL, OPTIMAL_INACCURATE,
                      TIME_LIMIT, UNBOUNDED, PDHGOptions)
from .state import Iterates, project_dual


def count_certificates(s: Iterates, d: ScaledLP, A: SparseMatrixOperator, tol: float) -> None:
    """Count consecutive checks at which a candidate certifies primal infeasibility (a dual
    ray) or dual infeasibility (a primal ray).  Candidates, as in PDLP: the iterate difference,
    which converges to the minimal displacement, and the point itself, which grows along the
    ray when there is one (so its oscillation shrinks relative to the ray)."""
    pinf = dual_ray(s.YH - s.Y, None, d, A, tol) | dual_ray(s.YH, s.ATYH, d, A, tol)
    dinf = primal_ray(s.XH - s.X, d, A, tol) | primal_ray(s.point(), d, A, tol)
    s.pinf_count = torch.where(pinf, s.pinf_count + 1, torch.zeros_like(s.pinf_count))
    s.dinf_count = torch.where(dinf, s.dinf_count + 1, torch.zeros_like(s.dinf_count))


def dual_ray(dY, ATdY, d: ScaledLP, A: SparseMatrixOperator, tol: float) -> torch.Tensor:
    """(1, W): y, projected on the dual sign cone, proves the rows infeasible.  With r = −Aᵀy,
    "bad" the part of r no finite variable bound absorbs and obj = l_cᵀy⁺ − u_cᵀy⁻ + l_xᵀr⁺ −
    u_xᵀr⁻, every feasible x has obj <= |bad|ᵀ|x|: obj > 0 and bad <= tol·obj leave feasible
    points only beyond ‖x‖₁ >= 1/tol; obj must stand out of its terms' rounding (OR-Tools #4874).
    ``ATdY``: Aᵀ dY when dY is in the sign cone already (ŷ, a prox output, is)."""
    yr = project_dual(dY, d.lc_fin, d.uc_fin) if ATdY is None else dY
    r = -(A.rmatmat(yr) if ATdY is None else ATdY)
    bad = (r - torch.maximum(torch.minimum(r, d.g_hi), d.g_lo)).abs().amax(0, keepdim=True)
    terms = (yr.clamp(min=0) * d.lcz, yr.clamp(max=0) * d.ucz, r.clamp(min=0) * d.lxz, r.clamp(max=0) * d.uxz)
    obj = sum(t.sum(0, keepdim=True) for t in terms)
    mag = sum(t.abs().sum(0, keepdim=True) for t in terms)
    return (obj > 1e-9 * mag) & (obj > 0) & (bad <= tol * obj)


def primal_ray(dX, d: ScaledLP, A: SparseMatrixOperator, tol: float) -> torch.Tensor:
    """(1, W): x, projected on the bounds' recession cone, proves the dual infeasible:
    c·x < 0 and A x in the rows' recession cone to tolerance."""
    xr = torch.where(d.lx_fin & d.ux_fin, torch.zeros_like(dX), dX)
    xr = torch.where(d.lx_fin, xr.clamp(min=0), xr)
    xr = torch.where(d.ux_fin, xr.clamp(max=0), xr)
    cx = dot(d.c, xr)
    descent = cx < -1e-9 * dot(d.c.abs(), xr.abs())
    if not bool(descent.any()):     # no column descends (c >= 0 on x >= 0 models): no product
        return descent
    Axr = A.matmat(xr)
    viol = torch.where(d.lc_fin, (-Axr).clamp(min=0), 0.0) + torch.where(d.uc_fin, Axr.clamp(min=0), 0.0)
    return descent & (viol.amax(0, keepdim=True) <= tol * (-cx))


def each_within(X, AX, Y, ATY, d: ScaledLP, absA: SparseMatrixOperator, tol: float) -> torch.Tensor:
    """(W,): every row's violation and every column's unabsorbed reduced cost at (X, Y) within
    tol relative to that row's or column's own scale (original units, as
    ``LinearProgram.residuals``' row_rel and col_rel), beside PDLP's ℓ2 measures, in which one
    bad row among many loose ones can hide.  X in the scaled problem's coordinates (its |x|
    sets the rows' scales), AX = Ã·X as d's row bounds see it (origin.py), ``absA``: |Ã|."""
    rows, cols = sides_within(X, AX, Y, ATY, d, absA, tol)
    return rows & cols


def sides_within(X, AX, Y, ATY, d: ScaledLP, absA: SparseMatrixOperator, tol: float):
    """``each_within``'s two halves, (W,) each: the rows (X's side) and the columns (Y's)."""
    r = (AX - torch.maximum(torch.minimum(AX, d.uc), d.lc)).abs()
    # r / d_row <= tol (1 + scale / d_row), scale and bounds in scaled units
    row_scale = torch.maximum(torch.maximum(d.lcz.abs(), d.ucz.abs()), absA.matmat(X.abs()))
    g = d.c - ATY
    gr = (g - torch.maximum(torch.minimum(g, d.g_hi), d.g_lo)).abs()
    col_scale = d.c.abs() + absA.rmatmat(Y.abs())
    return (r <= tol * (d.d_row + row_scale)).all(0), (gr <= tol * (d.d_col + col_scale)).all(0)


def keep_best(s: Iterates, met: torch.Tensor) -> None:
    """Remember the checked point of columns whose worst relative measure improved."""
    score = met[:3].amax(0, keepdim=True)
    better = score < s.best_score
    if bool(better.any()):          # full-size copies only when a column improved
        s.best_score = torch.where(better, score, s.best_score)
        s.best_metrics = torch.where(better, met, s.best_metrics)
        cols = torch.nonzero(better[0]).flatten()
        s.set_columns("XBEST", better, cols, s.point())
        s.set_columns("YBEST", better, cols, s.YH)


def finished(s: Iterates, met: torch.Tensor, opt: PDHGOptions, sides=None) -> dict[int, str]:
    """{column: status} of columns that converged or are certified infeasible/unbounded;
    ``sides``: ``sides_within`` at the point, (rows, columns), or None where not asked."""
    conv = (met[:3] <= opt.tol).all(0)
    if sides is not None:
        conv = conv & sides[0] & sides[1]
    pinf = (s.pinf_count >= opt.infeasibility_checks)[0]
    dinf = (s.dinf_count >= opt.infeasibility_checks)[0]
    primal_ok = met[0] <= opt.tol
    flags = torch.stack([conv, pinf, dinf, primal_ok]).cpu().tolist()
    out = {}
    for c, (cv, pi, di, pok) in enumerate(zip(*flags)):
        if cv:
            out[c] = OPTIMAL
        elif pi:
            out[c] = INFEASIBLE
        elif di:     # a primal ray: unbounded if the point is feasible, else settled after the loop
            out[c] = UNBOUNDED if pok else INFEASIBLE_OR_UNBOUNDED
    return out


def limited(s: Iterates, met: torch.Tensor, opt: PDHGOptions, spent_iterations: list, spent_seconds: list,
            max_iter: int, done=(), each=None) -> tuple[dict[int, str], dict[int, str]]:
    """Columns not in ``done`` at their iteration or time limit (counted from when each entered),
    or all of them when ``opt.interrupt()`` says so, as two {column: status}: those whose current
    point is within inaccurate_factor·tol on every measure, each row and column too (``each(tol)``:
    the (W,) ``each_within``), "optimal_inaccurate" from it; and the others, from their best point,
    "optimal_inaccurate" when its ℓ2 measures are within that (its rows are judged by the Result's
    float64 recomputation), else the limit."""
    hit = {}
    interrupted = opt.interrupt is not None and bool(opt.interrupt())
    for c, (its, secs) in enumerate(zip(spent_iterations, spent_seconds)):
        if c in done:
            continue
        if its >= max_iter:
            hit[c] = ITERATION_LIMIT
        elif interrupted or (opt.time_limit is not None and secs >= opt.time_limit):
            hit[c] = TIME_LIMIT
    if not hit:
        return {}, {}
    within = opt.inaccurate_factor * opt.tol
    now = (met[:3] <= within).all(0)
    if each is not None and bool(now.any()):
        now = now & each(within)
    now, best = now.cpu().tolist(), (s.best_metrics[:3] <= within).all(0).cpu().tolist()
    return ({c: OPTIMAL_INACCURATE for c in hit if now[c]},
            {c: OPTIMAL_INACCURATE if best[c] else status for c, status in hit.items() if not now[c]})
