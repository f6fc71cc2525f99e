"""``Problem.get_problem_data``'s data: a LinearProgram in cvxpy's conic layout.

cvxpy hands a solver ``minimize c·x + offset  s.t.  A x + s = b,  s in K`` with K the zero cone
(``dims.zero`` rows) followed by the nonnegative orthant (``dims.nonneg`` rows), and, for
solvers that take them (HiGHS among them), variable bounds apart as ``lower_bounds`` /
``upper_bounds``.  gridprox keeps bounds as bounds, so a bound never becomes a cone row.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..compile.lp import LinearProgram


@dataclass
class ConeDims:
    """cvxpy's ``dims``: an LP has only zero and nonnegative cones."""

    zero: int = 0
    nonneg: int = 0
    exp: int = 0
    soc: list = field(default_factory=list)
    psd: list = field(default_factory=list)
    p3d: list = field(default_factory=list)


def conic_data(lp: LinearProgram) -> dict:
    """cvxpy's data dict for ``lp`` (a single LP)."""
    A = sp.csr_matrix(lp.A)
    lc, uc = np.asarray(lp.lc, dtype=float), np.asarray(lp.uc, dtype=float)
    eq = lc == uc
    upper = ~eq & np.isfinite(uc)
    lower = ~eq & np.isfinite(lc)
    # equalities A x = b; A x <= uc as A x + s = uc; A x >= lc as -A x + s = -lc
    blocks = [A[eq], A[upper], -A[lower]]
    rhs = np.concatenate([lc[eq], uc[upper], -lc[lower]])
    lx, ux = np.asarray(lp.lx, dtype=float), np.asarray(lp.ux, dtype=float)
    return {"c": np.asarray(lp.c, dtype=float), "offset": float(np.asarray(lp.c0)),
            "A": sp.vstack(blocks, format="csc"), "b": rhs,
            "dims": ConeDims(zero=int(eq.sum()), nonneg=int(upper.sum() + lower.sum())),
            "lower_bounds": _bound_or_none(lx, -np.inf), "upper_bounds": _bound_or_none(ux, np.inf), "lp": lp}


def _bound_or_none(bound, free):
    """cvxpy's convention: None when no variable is bounded on that side."""
    return None if np.all(bound == free) else bound.copy()
