"""Feasibility polishing: PDLP's way past the per-row test's tail (Applegate et al. 2025,
"PDLP: A Practical First-Order Method for Large-Scale Linear Programming", arXiv 2501.07018;
OR-Tools' TryFeasibilityPolishing).

Near an optimum PDLP's ℓ2 measures are met long before every row and column is within tol of
its own scale: the rows and prices of a storage chain settle last (comparisons/RESULTS.md,
"Feasibility polishing").  Two problems far easier than the LP fix them from the current
point: the primal feasibility problem (c = 0) from (x, 0) and the homogeneous dual problem
(every finite bound 0, so y is dual feasible exactly when it is optimal there) from (0, y).
Each is PDHG again, started where the LP's iterate is, so it moves x or y little.  Each side's
best point over the attempts and the checked points between them is kept (``solver._keep_sides``);
the pair replaces the LP's point when it meets every test, the objective gap included.  Where
the kept pair misses only the gap, the kept x is made cheaper by a third problem (``capped``): the
primal feasibility problem with one more row, c·x + c0 at most what the gap test allows above
the kept y's dual objective."""
from __future__ import annotations

import math
from dataclasses import replace

import torch

from ..core.sparse import SparseMatrixOperator
from .data import LPTensors, Scaling, gather
from .options import PDHGOptions

# each problem is solved to this share of tol, so the pair meets tol where their errors add up
POLISH_TOL_SHARE = 0.5
# a scenario is polished again once its iterations have grown by this factor (OR-Tools doubles;
# 1.5 measured better over the real-model set, RESULTS "Feasibility polishing")
POLISH_SPACING = 1.5


def polish(lp: LPTensors, ids: torch.Tensor, x: torch.Tensor, y: torch.Tensor, opt: PDHGOptions,
           budget: int, time_left: float | None, scaling: Scaling) -> tuple[torch.Tensor, torch.Tensor, list]:
    """Scenarios ``ids`` of ``lp`` from (x, y), original units (n, k) / (m, k): the polished
    (x', y') in the same layout and each scenario's iterations spent on both problems.
    ``scaling``: the solve's, reused where the scenarios share one matrix."""
    from .solver import solve     # the same solver, on the two derived problems

    sub = columns(lp, ids)
    zero = lambda t: torch.where(torch.isfinite(t), torch.zeros_like(t), t)  # noqa: E731
    primal = replace(sub, c=torch.zeros_like(sub.c), c0=torch.zeros_like(sub.c0))
    dual = replace(sub, lc=zero(sub.lc), uc=zero(sub.uc), lx=zero(sub.lx), ux=zero(sub.ux), c0=torch.zeros_like(sub.c0))
    inner = _inner(lp, opt, budget, time_left)
    shared = scaling if lp.A.batch_values == 1 else None
    p = solve(primal, inner, warm_start=(x, torch.zeros_like(y)), scaling=shared)
    d = solve(dual, inner, warm_start=(torch.zeros_like(x), y), scaling=shared)
    return p.x.T, d.y.T, [a + b for a, b in zip(p.iterations, d.iterations)]


def cap_for(low: torch.Tensor, tol: float) -> torch.Tensor:
    """The most c·x + c0 may cost beside a dual objective ``low``: the gap test's allowance,
    tol·(1 + |c·x| + |low|) ≈ 2 tol |low|, less the POLISH_TOL_SHARE·tol of its scale (≈ |low|) by
    which the capped problem may miss its cap row."""
    return low + (2 - POLISH_TOL_SHARE) * tol * (1 + low.abs())


def polish_capped(lp: LPTensors, ids: torch.Tensor, x: torch.Tensor, cap: torch.Tensor, opt: PDHGOptions,
                  budget: int, time_left: float | None) -> tuple[torch.Tensor, list]:
    """Scenarios ``ids`` of ``lp`` from x (n, k), original units: x'' of the primal feasibility
    problem with c·x + c0 <= ``cap`` (1, k), and each scenario's iterations."""
    from .solver import solve

    sub = columns(lp, ids)
    q = solve(capped(sub, cap), _inner(lp, opt, budget, time_left),
              warm_start=(x, x.new_zeros(sub.A.shape[0] + 1, x.shape[1])))
    return q.x.T, q.iterations


def capped(lp: LPTensors, cap: torch.Tensor) -> LPTensors:
    """The primal feasibility problem (c = 0) of ``lp`` with the row c·x + c0 <= ``cap`` (1, k) added."""
    A, c = lp.A, lp.c
    nz = torch.nonzero((c != 0).any(1)).flatten()
    width = max(A.batch_values, c.shape[1])
    values = torch.cat([A.values.expand(-1, width), c[nz].expand(-1, width)])
    crow = torch.cat([A.crow, A.crow[-1:] + nz.numel()])
    A2 = SparseMatrixOperator(crow, torch.cat([A.col, nz]), values, (A.shape[0] + 1, A.shape[1]))
    row = lambda t, v: torch.cat([t.expand(-1, v.shape[1]) if t.shape[1] != v.shape[1] else t, v])  # noqa: E731
    inf = torch.full_like(cap, math.inf)
    return LPTensors(A2, torch.zeros_like(c), row(lp.lc, -inf), row(lp.uc, cap - lp.c0.reshape(1, -1)),
                     lp.lx, lp.ux, torch.zeros_like(lp.c0))


def _inner(lp: LPTensors, opt: PDHGOptions, budget: int, time_left: float | None) -> PDHGOptions:
    """The derived problems' options: tol's share, the budget, no polishing of their own."""
    return replace(opt, tol=opt.tol * POLISH_TOL_SHARE, max_iter=budget, time_limit=time_left,
                   feasibility_polishing=False, verbose=False,
                   threads=torch.get_num_threads() if lp.A.device.type == "cpu" else opt.threads)


def budget_for(spent: int, check_every: int) -> int:
    """Each problem's iteration limit at ``spent`` iterations: a quarter of those since the last
    attempt (OR-Tools: an eighth of all, attempts doubling), so polishing costs at most half (three
    quarters where the capped problem runs too)."""
    return max(check_every, math.floor(spent * (1 - 1 / POLISH_SPACING) / 4))


def columns(lp: LPTensors, ids: torch.Tensor) -> LPTensors:
    """The LP of scenarios ``ids`` (shared data as they are)."""
    B = lp.batch_size
    A = lp.A.select(ids) if lp.A.batch_values > 1 and ids.numel() != B else lp.A
    return LPTensors(A, *(gather(getattr(lp, name), ids, B) for name in ("c", "lc", "uc", "lx", "ux", "c0")))
