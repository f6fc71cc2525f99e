"""Farkas certificates for infeasible LPs, as cvxpy reports them in ``dual_value``.

For ``lc <= A x <= uc, lx <= x <= ux`` with no solution, row multipliers y = y⁺ − y⁻ and bound
multipliers z⁺, z⁻ (all >= 0, zero where their bound is infinite) exist with

    Aᵀy + z⁺ − z⁻ = 0   and   lc·y⁺ − uc·y⁻ + lx·z⁺ − ux·z⁻ > 0,

a ray of the dual along which the dual objective grows without bound.  The ray is found by a
small auxiliary LP (that sum normalised to 1, the ray's 1-norm minimised), solved by HiGHS on
every path: a backend's own ray (HiGHS's getDualRay, PDHG's iterate differences) comes in the
backend's scaling and presolve, while this one is exact for the LP the user wrote.  (y, z⁺ − z⁻)
follow the HiGHS sign convention of row duals and reduced costs, so the compiler's dual map
turns them into cvxpy's signs unchanged.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np
import scipy.sparse as sp

from ..compile.lp import LinearProgram


def farkas(lp: LinearProgram) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """(y, z) certifying that ``lp`` is infeasible, or None when none is found (a batch, or
    an LP that is not infeasible after all)."""
    if lp.is_batch:
        return None
    from .. import solvers              # solvers sit beside this layer; imported when a certificate is asked
    m, n = lp.A.shape
    A = sp.csr_matrix(lp.A)
    lc, uc, lx, ux = (np.asarray(v, dtype=float) for v in (lp.lc, lp.uc, lp.lx, lp.ux))
    # columns: y⁺ (m), y⁻ (m), z⁺ (n), z⁻ (n); a multiplier of an infinite bound is fixed at 0
    finite = np.concatenate([np.isfinite(lc), np.isfinite(uc), np.isfinite(lx), np.isfinite(ux)])
    gain = np.where(finite, np.concatenate([lc, -uc, lx, -ux]), 0.0)
    eye = sp.identity(n, format="csr")
    stationarity = sp.hstack([A.T, -A.T, eye, -eye], format="csr")
    rows = sp.vstack([stationarity, sp.csr_matrix(gain)], format="csr")
    rhs = np.concatenate([np.zeros(n), [1.0]])
    aux = LinearProgram(c=np.ones(2 * (m + n)), A=rows, lc=rhs, uc=rhs,
                        lx=np.zeros(2 * (m + n)), ux=np.where(finite, np.inf, 0.0))
    res = solvers.solve_lp(aux, solver="highs")
    if res.status != "optimal" or res.x is None:
        return None
    v = np.asarray(res.x, dtype=float)
    y = v[:m] - v[m:2 * m]
    z = v[2 * m:2 * m + n] - v[2 * m + n:]
    return y, z
