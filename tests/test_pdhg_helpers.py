"""Shared helpers of the PDHG tests (no tests here): LP generators and a HiGHS reference."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from gridprox import LinearProgram
from gridprox.solvers.highs import solve_highs
from gridprox.synthetic import capacity_expansion_lp, scenario_sweep  # noqa: F401  (re-exported to the PDHG tests)


def highs(lp: LinearProgram):
    """HiGHS simplex solution of a single LP (the reference every PDHG test compares to)."""
    return solve_highs(lp, method="simplex")


def vertex_lp(m: int, n: int, seed: int = 0, *, degenerate: bool = False) -> LinearProgram:
    """A random LP with a known optimal vertex and, unless ``degenerate``, a unique and
    strictly complementary primal-dual solution (so HiGHS's duals are the duals).

    Mixed rows (equalities, lower/upper-bounded, ranged, free) and variables (free,
    lower, upper, boxed, fixed).  Built from (x*, y*, z*): n_basic strictly interior
    variables and as many active rows, a random square (nonsingular) basis block, the
    other variables at a bound with strictly signed reduced costs, c = Aᵀy* + z*.
    ``degenerate`` zeroes some active duals and reduced costs (ties and degeneracy)."""
    g = np.random.default_rng(seed)
    A = sp.random(m, n, density=min(1.0, 4.0 / n + 0.05), random_state=g, format="csr",
                  data_rvs=lambda k: g.standard_normal(k))
    A = sp.csr_matrix(A + sp.eye(m, n, format="csr") * 0.5)     # no empty rows in the square part
    nb = min(m // 2, n // 2)
    basic = g.permutation(n)[:nb]
    active_rows = g.permutation(m)[:nb]
    # a well-conditioned square basis block: the vertex is then unique (no dual degeneracy)
    A = sp.lil_matrix(A)
    for i, j in zip(active_rows, basic):
        A[i, j] = A[i, j] + 3.0 * g.choice([-1, 1])
    A = sp.csr_matrix(A)
    assert np.linalg.cond(A[active_rows][:, basic].toarray()) < 1e3
    is_basic = np.zeros(n, bool)
    is_basic[basic] = True
    is_active = np.zeros(m, bool)
    is_active[active_rows] = True

    lx, ux = np.full(n, -np.inf), np.full(n, np.inf)
    x, z = np.zeros(n), np.zeros(n)
    kinds = g.integers(0, 4, n)                  # basic: 0 free, 1 lower, 2 upper, 3 boxed
    for j in np.flatnonzero(is_basic):
        x[j] = g.uniform(-3, 3)
        if kinds[j] in (1, 3):
            lx[j] = x[j] - g.uniform(0.5, 2)
        if kinds[j] in (2, 3):
            ux[j] = x[j] + g.uniform(0.5, 2)
    for j in np.flatnonzero(~is_basic):          # nonbasic: at lower, at upper, or fixed
        x[j] = g.uniform(-3, 3)
        kind = g.integers(0, 3)
        mag = g.uniform(0.5, 2.0)
        if kind == 0:
            lx[j], ux[j], z[j] = x[j], (x[j] + g.uniform(1, 3)) if g.random() < 0.5 else np.inf, mag
        elif kind == 1:
            lx[j], ux[j], z[j] = (x[j] - g.uniform(1, 3)) if g.random() < 0.5 else -np.inf, x[j], -mag
        else:
            lx[j] = ux[j] = x[j]
            z[j] = g.choice([-1, 1]) * mag
    Ax = A @ x
    lc, uc, y = np.empty(m), np.empty(m), np.zeros(m)
    for i in range(m):
        if is_active[i]:
            kind = g.integers(0, 3)
            mag = g.uniform(0.5, 2.0)
            if kind == 0:                          # equality
                lc[i] = uc[i] = Ax[i]
                y[i] = g.choice([-1, 1]) * mag
            elif kind == 1:                        # active lower (maybe ranged)
                lc[i], uc[i], y[i] = Ax[i], Ax[i] + g.uniform(1, 3) if g.random() < 0.3 else np.inf, mag
            else:                                  # active upper
                lc[i], uc[i], y[i] = -np.inf, Ax[i], -mag
        else:
            kind = g.integers(0, 4)
            lc[i] = Ax[i] - g.uniform(0.5, 2) if kind in (0, 2) else -np.inf
            uc[i] = Ax[i] + g.uniform(0.5, 2) if kind in (1, 2) else np.inf
            if kind == 3:                          # free row
                lc[i], uc[i] = -np.inf, np.inf
    if degenerate:
        y[active_rows[: nb // 3]] = 0.0
        nonbasic = np.flatnonzero(~is_basic)
        z[nonbasic[: len(nonbasic) // 3]] = 0.0
    c = A.T @ y + z
    return LinearProgram(c=c, A=A, lc=lc, uc=uc, lx=lx, ux=ux, c0=float(g.uniform(-5, 5)))


def assert_solution(res, ref, tol, *, duals=False, obj_factor=10.0):
    """PDHG result vs the HiGHS reference: status, relative objective gap within
    ``obj_factor``·tol, KKT residuals within tol, and (``duals``) y, z close."""
    assert res.status == "optimal", res
    scale = 1 + abs(ref.objective)
    assert abs(res.objective - ref.objective) <= obj_factor * tol * scale, (res.objective, ref.objective)
    for key in ("primal", "dual", "gap"):
        assert res.residuals[key] <= tol, (key, res.residuals)
    if duals:
        ynorm = 1 + np.linalg.norm(ref.y)
        assert np.linalg.norm(res.y - ref.y) <= 1e3 * tol * ynorm, np.abs(res.y - ref.y).max()
        assert np.linalg.norm(res.z - ref.z) <= 1e3 * tol * (1 + np.linalg.norm(ref.z))
