"""CVXPY_PDHG: unchanged cvxpy LPs solved through gridprox must give cvxpy+HiGHS's
value, primal values, dual values and statuses."""
import cvxpy as cp
import numpy as np
import pytest

import gridprox as gp
from gridprox.solvers.cvxpy_backend import build_cvxpy
from test_backends import random_lp


def pdhg_or_skip():
    try:
        from gridprox.solvers.pdhg import solve_pdhg  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"gridprox.solvers.pdhg not available yet: {exc}")


def random_cvxpy_problems():
    """cvxpy problems of random LPs (==, >=, <= rows, all bound kinds) and a hand-written
    one with a matrix variable, a Parameter, slicing, Maximize and a singleton row."""
    problems = [build_cvxpy(random_lp(seed))[0] for seed in range(3)]
    X = cp.Variable((3, 4), nonneg=True)
    demand = cp.Parameter(4, value=np.array([3.0, 1.0, 2.0, 4.0]))
    price = np.arange(1.0, 13.0).reshape(3, 4) % 5 + 1
    cons = [cp.sum(X, axis=0) >= demand, cp.sum(X, axis=1) <= 5.0, X[0, :] <= 2.0,
            X[2, 3] >= 0.5, cp.sum(X) == 10.0]
    problems.append(cp.Problem(cp.Maximize(-cp.sum(cp.multiply(price, X)) + 7.0), cons))
    return problems


def solve_both(problem, **opts):
    ref_value = problem.solve(solver="HIGHS")
    ref = ([v.value.copy() for v in problem.variables()], [c.dual_value for c in problem.constraints])
    value = problem.solve(solver=gp.CVXPY_PDHG, **opts)
    got = ([v.value.copy() for v in problem.variables()], [c.dual_value for c in problem.constraints])
    return ref_value, ref, value, got


@pytest.mark.parametrize("k", range(4))
@pytest.mark.parametrize("opts", [{"gridprox_solver": "highs"},
                                  {"gridprox_solver": "highs", "presolve": True}])
def test_plumbing_equals_cvxpy_highs(k, opts):
    problem = random_cvxpy_problems()[k]
    ref_value, (ref_x, ref_y), value, (x, y) = solve_both(problem, **opts)
    assert problem.status == "optimal" and problem.solver_stats.solver_name == "GRIDPROX_PDHG"
    assert value == pytest.approx(ref_value, rel=1e-9, abs=1e-9)
    for a, b in zip(x, ref_x):
        np.testing.assert_allclose(a, b, atol=1e-7)
    for a, b in zip(y, ref_y):        # same dual convention as cvxpy's HiGHS interface
        np.testing.assert_allclose(a, b, atol=1e-7)


def test_class_and_instance_both_work():
    problem = random_cvxpy_problems()[3]
    v1 = problem.solve(solver=gp.CVXPY_PDHG, gridprox_solver="highs")
    v2 = problem.solve(solver=gp.CVXPY_PDHG(), gridprox_solver="highs")
    assert v1 == pytest.approx(v2) and isinstance(gp.CVXPY_PDHG(), type(gp.CVXPY_PDHG))


@pytest.mark.parametrize("inner", ["highs", "pdhg"])
def test_statuses_come_through(inner):
    if inner == "pdhg":
        pdhg_or_skip()
    x = cp.Variable(2, nonneg=True)
    infeasible = cp.Problem(cp.Minimize(cp.sum(x)), [x[0] + x[1] >= 3, x <= 1])
    infeasible.solve(solver=gp.CVXPY_PDHG, gridprox_solver=inner)
    assert infeasible.status == "infeasible" and infeasible.value == np.inf
    unbounded = cp.Problem(cp.Minimize(-x[0]), [x[0] - x[1] <= 1])
    unbounded.solve(solver=gp.CVXPY_PDHG, gridprox_solver=inner)
    assert unbounded.status == "unbounded" and unbounded.value == -np.inf


def test_mixed_integer_refused():
    x = cp.Variable(2, integer=True)
    with pytest.raises(cp.error.SolverError, match="not MIP-capable"):
        cp.Problem(cp.Minimize(cp.sum(x)), [x >= 1]).solve(solver=gp.CVXPY_PDHG)


@pytest.mark.parametrize("k", [0, 3])
def test_pdhg_equals_cvxpy_highs(k):
    pdhg_or_skip()
    problem = random_cvxpy_problems()[k]
    ref_value, (ref_x, ref_y), value, (x, y) = solve_both(problem, tol=1e-8)
    assert problem.status == "optimal" and problem.solver_stats.solver_name == "GRIDPROX_PDHG"
    assert value == pytest.approx(ref_value, rel=1e-6, abs=1e-6)
    if k < 3:                          # random_lp's duals are unique (problem 3's are not)
        for a, b in zip(y, ref_y):
            np.testing.assert_allclose(a, b, atol=1e-5)
    for cons in problem.constraints:   # every constraint holds
        assert np.all(cons.violation() <= 1e-6)


def test_pdhg_warm_start_from_previous_solve():
    pdhg_or_skip()
    problem = random_cvxpy_problems()[3]
    ref = problem.solve(solver="HIGHS")
    problem.solve(solver=gp.CVXPY_PDHG, tol=1e-7, warm_start=False)
    cold = problem.solver_stats.num_iters
    problem.solve(solver=gp.CVXPY_PDHG, tol=1e-7)            # cvxpy's default warm_start=True
    assert problem.value == pytest.approx(ref, rel=1e-5)
    assert problem.solver_stats.num_iters < cold
