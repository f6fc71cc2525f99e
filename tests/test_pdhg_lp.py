"""PDHG on single LPs against HiGHS: solutions, duals, statuses, limits, warm start, input checks."""
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from gridprox import LinearProgram, read_lp
from gridprox.errors import SolverError
from gridprox.solvers import solve_lp
from gridprox.solvers.pdhg import solve_pdhg
from gridprox.synthetic import capacity_expansion_lp
from kkt import assert_optimal
from test_pdhg_helpers import assert_solution, highs, vertex_lp


@pytest.mark.parametrize("seed", range(4))
def test_random_lp_matches_highs_including_duals(seed):
    lp = vertex_lp(40, 60, seed)
    ref = highs(lp)
    res = solve_pdhg(lp, tol=1e-6)
    assert_solution(res, ref, 1e-6, duals=True)
    assert_optimal(lp, res, 1e-6, duals=True)
    np.testing.assert_allclose(res.x, ref.x, atol=1e-3 * (1 + np.abs(ref.x).max()))
    # HiGHS convention: z = c − Aᵀy, and signs agree at the active bounds
    np.testing.assert_allclose(res.z, lp.c - lp.A.T @ res.y, atol=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_degenerate_lp_objective_and_kkt(seed):
    lp = vertex_lp(40, 60, 10 + seed, degenerate=True)
    ref = highs(lp)
    res = solve_pdhg(lp, tol=1e-6)
    assert_solution(res, ref, 1e-6)
    assert_optimal(lp, res, 1e-6)


@pytest.mark.parametrize("option", [{"check_every": 200}])
def test_algorithm_variants_reach_the_same_solution(option):
    lp = vertex_lp(30, 45, 21)
    res = solve_pdhg(lp, tol=1e-6, **option)
    assert_solution(res, highs(lp), 1e-6, duals=True)
    assert_optimal(lp, res, 1e-6, duals=True)


def test_capacity_expansion_week():
    lp = capacity_expansion_lp(1, 168)
    ref = highs(lp)
    res = solve_pdhg(lp, tol=1e-4)
    assert_solution(res, ref, 1e-4)
    assert_optimal(lp, res, 1e-4, ref)
    assert res.residuals["max_bound_violation"] == 0.0


def test_tolerance_1e8_in_float64():
    lp = vertex_lp(25, 35, 5)
    ref = highs(lp)
    res = solve_pdhg(lp, tol=1e-8, dtype="float64")
    assert_solution(res, ref, 1e-8, duals=True)
    assert_optimal(lp, res, 1e-8, duals=True)
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6 * (1 + np.abs(ref.x).max()))


def _infeasible_lps():
    two_rows = LinearProgram(c=[1.0, 2.0], A=sp.csr_matrix(np.array([[1.0, 1.0], [1.0, 1.0], [1.0, -1.0]])),
                             lc=[3, -np.inf, -5], uc=[np.inf, 1, 5], lx=[0, 0], ux=[np.inf, np.inf])
    lp = vertex_lp(30, 40, 2)
    A = sp.vstack([lp.A, lp.A[0] + lp.A[1]]).tocsr()
    v, w = lp.A[:2] @ highs(lp).x
    lc, uc = np.append(lp.lc, v + w + 1), np.append(lp.uc, v + w + 1)
    lc[:2], uc[:2] = [v, w], [v, w]
    contradictory = LinearProgram(c=lp.c, A=A, lc=lc, uc=uc, lx=lp.lx, ux=lp.ux)
    return [two_rows, contradictory]


def _unbounded_lps():
    ray = LinearProgram(c=[-1.0, -1.0], A=sp.csr_matrix(np.array([[1.0, -1.0]])), lc=[-np.inf], uc=[1.0],
                        lx=[0, 0], ux=[np.inf, np.inf])
    lp = vertex_lp(30, 40, 3)
    A = sp.hstack([lp.A, sp.csr_matrix(lp.A[:, [0]].toarray() * 0 + (np.arange(30) == 4)[:, None])]).tocsr()
    lc, uc = lp.lc.copy(), lp.uc.copy()
    lc[4], uc[4] = -np.inf, np.inf             # a free row: the new column is not limited by it
    free_dir = LinearProgram(c=np.append(lp.c, -1.0), A=A, lc=lc, uc=uc, lx=np.append(lp.lx, 0),
                             ux=np.append(lp.ux, np.inf))
    return [ray, free_dir]


@pytest.mark.parametrize("k", range(2))
def test_infeasible_status(k):
    lp = _infeasible_lps()[k]
    assert highs(lp).status == "infeasible"
    res = solve_pdhg(lp, max_iter=50_000)
    assert res.status == "infeasible" and res.x is None


@pytest.mark.parametrize("k", range(2))
def test_unbounded_status(k):
    lp = _unbounded_lps()[k]
    assert highs(lp).status == "unbounded"
    # PDHG finds the primal ray; solve_lp settles "infeasible or unbounded" (here: a feasible point)
    assert solve_lp(lp, solver="pdhg", max_iter=50_000).status == "unbounded"


def test_limits_return_best_point_with_honest_status():
    lp = capacity_expansion_lp(1, 168)
    res = solve_pdhg(lp, tol=1e-6, max_iter=64)
    assert res.status == "iteration_limit" and res.iterations == 64
    assert res.x.shape == (lp.num_vars,) and res.residuals["primal"] > 1e-5
    res = solve_pdhg(lp, tol=1e-6, time_limit=1e-9)
    assert res.status == "time_limit"
    full = solve_pdhg(lp, tol=1e-5)
    assert full.status == "optimal"
    ref = highs(lp)
    assert_optimal(lp, full, 1e-5, ref)
    near = solve_pdhg(lp, tol=1e-6, max_iter=full.iterations)    # within 10x tol, not within tol
    assert near.status in ("optimal_inaccurate", "optimal")
    if near.status == "optimal":
        assert_optimal(lp, near, 1e-6, ref)
    assert max(near.residuals[k] for k in ("primal", "dual", "gap")) <= 1e-5


def test_warm_start_from_a_nearby_solution_saves_iterations():
    base = capacity_expansion_lp(1, 168)
    moved = capacity_expansion_lp(1, 168, demand_scale=1.01)
    first = solve_pdhg(base, tol=1e-5)
    cold = solve_pdhg(moved, tol=1e-5)
    warm = solve_pdhg(moved, tol=1e-5, warm_start=first)
    warm_arrays = solve_pdhg(moved, tol=1e-5, warm_start=(first.x, first.y, first.primal_weight))
    ref = highs(moved)
    for res in (cold, warm, warm_arrays):
        assert_solution(res, ref, 1e-5)
        assert_optimal(moved, res, 1e-5, ref)
    assert warm.iterations < cold.iterations
    assert warm_arrays.iterations == warm.iterations     # a Result is (x, y, primal_weight)


def test_free_rows_free_columns_empty_rows_and_columns_and_huge_bounds():
    A = sp.csr_matrix(np.array([
        [1.0, 1.0, 0.0, 0.0, 0.0],     # x0 + x1 >= 2
        [1.0, -1.0, 1.0, 0.0, 0.0],    # free row
        [0.0, 0.0, 0.0, 0.0, 0.0],     # empty row, 0 in [-1, 1]
        [0.0, 1.0, 1.0, 0.0, 0.0],     # x1 + x2 == 1 with x2 free
        [1.0, 0.0, -1.0, 1.0, 0.0],    # x0 - x2 + x3 <= 4
    ]))
    lp = LinearProgram(c=[1.0, 2.0, 0.5, -1.0, 3.0], A=A, lc=[2, -np.inf, -1, 1, -1e30],
                       uc=[1e25, np.inf, 1, 1, 4], lx=[0, 0, -1e20, 0, 1.0], ux=[np.inf, 5, 1e21, 2, 7])
    infinite = dataclasses.replace(lp, lc=np.array([2, -np.inf, -1, 1, -np.inf]),
                                   uc=np.array([np.inf, np.inf, 1, 1, 4]),
                                   lx=np.array([0, 0, -np.inf, 0, 1.0]), ux=np.array([np.inf, 5, np.inf, 2, 7]))
    ref = highs(infinite)
    res = solve_pdhg(lp, tol=1e-7)
    assert_solution(res, ref, 1e-7, duals=True)
    assert_optimal(infinite, res, 1e-7, duals=True)     # huge bounds mean none: judged on the infinite LP
    assert res.y[1] == 0.0 and res.x[4] == pytest.approx(1.0)     # free row has no dual; x4 at its bound


def test_bad_input_is_rejected_with_the_culprit_named():
    lp = vertex_lp(5, 8, 0)
    with pytest.raises(ValueError, match="c"):
        solve_pdhg(dataclasses.replace(lp, c=np.where(np.arange(8) == 3, np.nan, lp.c)))
    j = np.flatnonzero(np.isfinite(lp.ux))[0]
    with pytest.raises(ValueError, match="inverted"):
        solve_pdhg(dataclasses.replace(lp, lx=np.where(np.arange(8) == j, lp.ux + 1, lp.lx)))
    with pytest.raises(SolverError, match="unknown option"):
        solve_pdhg(lp, restart_scheme="x")


DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name,optimum", [("plan.lp", 296.2166065), ("sc50a.mps", -6.4575077059e+01)])
def test_real_lps_not_written_by_us(name, optimum):
    """GLPK's plan.lp and Netlib's SC50A (tests/data/README.md), read by HiGHS's parser,
    solved by PDHG through solve_lp (presolve on) to 1e-6: HiGHS's optimum and the
    published one, KKT residuals within tol."""
    lp = read_lp(DATA / name)
    ref = highs(lp)
    res = solve_lp(lp, solver="pdhg", tol=1e-6)
    assert_solution(res, ref, 1e-6)
    assert_optimal(lp, res, 1e-6)
    assert res.objective == pytest.approx(optimum, rel=1e-5)


def test_duals_and_reduced_costs_have_highs_signs():
    """min x0 + 2 x1, x0 + x1 >= 2, x0 <= 1: the row is active at its lower bound (y = 2 > 0)
    and x0 at its upper bound (z0 = c0 − y = −1 < 0); written as −x0 − x1 <= −2 the row is
    active at its upper bound and y = −2.  HiGHS says the same."""
    for sign, y_expected in ((1.0, 2.0), (-1.0, -2.0)):
        bounds = ([2.0], [np.inf]) if sign > 0 else ([-np.inf], [-2.0])
        lp = LinearProgram(c=[1.0, 2.0], A=sp.csr_matrix(sign * np.ones((1, 2))), lc=bounds[0], uc=bounds[1],
                           lx=[0.0, 0.0], ux=[1.0, np.inf])
        res, ref = solve_pdhg(lp, tol=1e-8), highs(lp)
        assert_optimal(lp, res, 1e-8, duals=True)
        np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-6)
        np.testing.assert_allclose(res.y, [y_expected], atol=1e-6)
        np.testing.assert_allclose(res.z, [-1.0, 0.0], atol=1e-6)
        np.testing.assert_allclose(ref.y, res.y, atol=1e-6)
        np.testing.assert_allclose(ref.z, res.z, atol=1e-6)
