"""No LP infeasible by 1e-3 (relative) on a single row is reported "optimal" (issue 25's goal):
one bad row among many loose ones is what PDLP's aggregate ℓ2 residual can hide.  HiGHS's
simplex judges each planted LP infeasible; PDHG, polished or not, must not call it optimal."""
import numpy as np
import pytest
import scipy.sparse as sp

from gridprox.compile.lp import LinearProgram
from gridprox.solvers import solve_lp


def _bad_row(seed: int, n: int = 300, short: float = 1e-3, against_bounds: bool = False) -> LinearProgram:
    """n loose rows (random, bounds far from binding) and one row Σ_S x >= 100 that the rest
    allows only up to 100 (1 − short): through a conflicting row, or through the columns' bounds."""
    rng = np.random.default_rng(seed)
    S = rng.choice(n, 10, replace=False)
    loose = sp.random(n, n, density=0.02, random_state=seed, format="csr")
    loose.data[:] = rng.uniform(0.5, 2.0, loose.nnz)
    pick = np.zeros((2, n))
    pick[:, S] = 1.0
    A = sp.vstack([loose, sp.csr_matrix(pick)]).tocsr()
    cap = 100.0 * (1 - short)
    lc = np.r_[np.full(n, -np.inf), 100.0, -np.inf]
    uc = np.r_[np.full(n, 1e4), np.inf, np.inf if against_bounds else cap]
    ux = np.full(n, 1e3)
    if against_bounds:
        ux[S] = cap / S.size
    c = rng.uniform(1.0, 2.0, n)
    return LinearProgram(c=c, A=A, lc=lc, uc=uc, lx=np.zeros(n), ux=ux)


@pytest.mark.parametrize("against_bounds", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_one_infeasible_row_is_never_optimal(seed, against_bounds):
    lp = _bad_row(seed, against_bounds=against_bounds)
    assert solve_lp(lp, "highs", method="simplex").status == "infeasible"
    for tol in (1e-4, 1e-5):
        for options in ({}, {"presolve": False}, {"polish": "crossover"}):
            res = solve_lp(lp, "pdhg", tol=tol, max_iter=20_000, **options)
            assert res.status != "optimal", (tol, options, res)


def test_the_planted_row_is_what_makes_it_infeasible():
    """The same LP with the row's shortfall removed is feasible and solved: the tests above
    fail on the planted row, not on something else."""
    lp = _bad_row(0, short=-1e-3)
    assert solve_lp(lp, "highs", method="simplex").status == "optimal"
    assert solve_lp(lp, "pdhg", tol=1e-4).status == "optimal"


def _worst_row(lp: LinearProgram, x: np.ndarray) -> float:
    """The worst row violation relative to 1 + the row's scale, recomputed here with numpy."""
    Ax = lp.A @ x
    viol = np.maximum(lp.lc - Ax, 0) + np.maximum(Ax - lp.uc, 0)
    bound = np.maximum(np.where(np.isfinite(lp.lc), abs(lp.lc), 0), np.where(np.isfinite(lp.uc), abs(lp.uc), 0))
    return float((viol / (1 + np.maximum(bound, abs(lp.A) @ abs(x)))).max())


def test_a_limit_is_optimal_inaccurate_only_when_every_row_is_close():
    """At an iteration limit "optimal_inaccurate" means every measure within 10 tol, each row
    too: the planted row 1e-3 short (1.2e-3 off at 1,024 iterations on seed 1) is the limit."""
    statuses, far = [], []
    for seed in range(3):
        lp = _bad_row(seed)
        for max_iter in (512, 1024, 2048):
            res = solve_lp(lp, "pdhg", tol=1e-4, max_iter=max_iter)
            statuses.append(res.status)
            assert res.status in ("optimal_inaccurate", "iteration_limit", "infeasible"), res.status
            if res.status == "optimal_inaccurate":
                assert _worst_row(lp, res.x) <= 1e-3 * (1 + 1e-6)
            elif res.status == "iteration_limit":
                assert res.x is not None                                       # the point is kept
                far.append(_worst_row(lp, res.x) > 1e-3)
    assert any(far) and "optimal_inaccurate" in statuses
