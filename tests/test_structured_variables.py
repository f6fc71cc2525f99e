"""Sparse and diagonal leaves (cvxpy's ``sparsity=`` and ``diag=True``, issue 27): a Variable
holds an LP column per stored entry only, its other entries are structural zeros.  Each answer
is judged by real cvxpy solving the same script, and the LP's size by counting its columns."""
import warnings

import cvxpy
import numpy as np
import pytest
import scipy.sparse as sp

import gridprox
from gridprox import from_cvxpy

PATTERN = ([0, 0, 1, 2, 3, 3], [1, 4, 2, 0, 3, 4])      # 6 entries of a 4 x 5 matrix


def planning(cp, seed=0):
    """A small LP on a sparse matrix variable: flows on the arcs of PATTERN, supplies and demands."""
    rng = np.random.default_rng(seed)
    X = cp.Variable((4, 5), sparsity=PATTERN, name="X")
    cost = rng.uniform(1, 3, (4, 5))
    cons = [X >= 0, X <= 4, cp.sum(X, axis=0) >= [1, 1, 2, 1, 3], cp.sum(X, axis=1) <= 6]
    return cp.Problem(cp.Minimize(cp.sum(cp.multiply(cost, X))), cons), X, cons


def dense_value(X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # cvxpy's nudge towards value_sparse
        return np.asarray(X.value)


@pytest.mark.parametrize("solver", ["highs", "pdhg"])
def test_sparse_variable_matches_cvxpy(solver):
    got, X, cons = planning(gridprox)
    ref, RX, rcons = planning(cvxpy)
    ref.solve(solver="HIGHS")
    got.solve(solver=solver, **({"tol": 1e-8} if solver == "pdhg" else {}))
    assert got.status == "optimal"
    assert got.value == pytest.approx(ref.value, rel=2e-8)
    assert np.allclose(dense_value(X), dense_value(RX), atol=1e-6)
    # the duals of the column sums: cvxpy's (the optimum is unique: distinct costs)
    assert np.allclose(cons[2].dual_value, rcons[2].dual_value, atol=1e-6)
    # off the pattern the value is exactly zero, and value_sparse holds the pattern's entries
    full = dense_value(X)
    off = np.ones(full.shape, bool)
    off[PATTERN] = False
    assert np.all(full[off] == 0)
    vs = X.value_sparse
    assert sp.issparse(vs) and vs.nnz == len(PATTERN[0])
    assert np.array_equal(vs.toarray(), full)


def test_sparse_variable_takes_a_column_per_entry():
    got, X, _ = planning(gridprox)
    data = got.get_problem_data("HIGHS")[0]
    assert data["A"].shape[1] == len(PATTERN[0])
    dense = gridprox.Problem(gridprox.Minimize(gridprox.sum(gridprox.Variable((4, 5)))))
    assert dense.get_problem_data("HIGHS")[0]["A"].shape[1] in (0, 20)


def test_reading_a_sparse_value_warns_as_cvxpy():
    got, X, _ = planning(gridprox)
    assert X.value is None
    got.solve()
    with pytest.warns(RuntimeWarning, match="value_sparse"):
        X.value
    assert X._has_dim_reducing_attr and X._reduced_size == 6


def test_a_structural_zero_cannot_be_moved():
    for cp in (gridprox, cvxpy):
        x = cp.Variable(10, sparsity=([1, 4, 7],))
        prob = cp.Problem(cp.Minimize(cp.sum(x)), [x[2] >= 1, x >= -3])
        prob.solve(**({"solver": "HIGHS"} if cp is cvxpy else {}))
        assert prob.status == "infeasible", cp
        prob = cp.Problem(cp.Minimize(cp.sum(x)), [x >= -3])
        prob.solve(**({"solver": "HIGHS"} if cp is cvxpy else {}))
        assert prob.value == pytest.approx(-9.0)


@pytest.mark.parametrize("solver", ["highs", "pdhg"])
def test_diagonal_variable_matches_cvxpy(solver):
    def build(cp):
        D = cp.Variable((3, 3), diag=True)
        A = np.array([[2.0, 1, 0], [1, 3, 1], [0, 1, 4]])
        W = np.array([[1.0, -5, 0], [0, 2, 0], [-4, 0, 1]])
        # D's off-diagonal entries in the objective are zeros, not free variables
        return cp.Problem(cp.Minimize(cp.sum(cp.multiply(W, D))), [A @ D >= -np.eye(3) * 2, D <= 1]), D
    got, D = build(gridprox)
    ref, RD = build(cvxpy)
    ref.solve(solver="HIGHS")
    got.solve(solver=solver, **({"tol": 1e-8} if solver == "pdhg" else {}))
    assert got.value == pytest.approx(ref.value, rel=2e-8)
    assert sp.issparse(D.value) and D.value.format == "dia"
    assert np.allclose(D.value.toarray(), RD.value.toarray(), atol=1e-6)
    assert got.get_problem_data("HIGHS")[0]["A"].shape[1] == 3


def test_sparse_bounds_as_cvxpy():
    rows = cols = np.arange(3)
    lb = sp.coo_array((np.array([-1.0, -2, -3]), (rows, cols)), shape=(3, 3))
    ub = sp.coo_array((np.array([1.0, 2, 3]), (rows, cols)), shape=(3, 3))
    x = gridprox.Variable((3, 3), sparsity=(rows, cols), bounds=(lb, ub))
    prob = gridprox.Problem(gridprox.Minimize(gridprox.sum(x) - 3 * x[1, 1]))
    prob.solve()
    assert prob.value == pytest.approx(-1 - 4 - 3)         # x00 = -1, x11 = +2 (cost -2), x22 = -3
    lo, hi = x.get_bounds()
    assert sp.issparse(lo) and np.array_equal(lo.toarray(), lb.toarray())


BAD_BOUNDS = {
    "other pattern": lambda cp, s: cp.Variable((3, 3), sparsity=s, bounds=(
        sp.coo_array(([-1.0, -2], ([0, 0], [0, 1])), shape=(3, 3)), None)),
    "other shape": lambda cp, s: cp.Variable((3, 3), sparsity=s, bounds=(
        sp.coo_array(([-1.0, -2, -3], s), shape=(4, 4)), None)),
    "dense array": lambda cp, s: cp.Variable((3, 3), sparsity=s, bounds=(-np.ones((3, 3)), None)),
    "scalar without zero": lambda cp, s: cp.Variable((3, 3), sparsity=s, bounds=(1, 2)),
    "diag scalar without zero": lambda cp, s: cp.Variable((3, 3), diag=True, bounds=(-2, -1)),
    "expression": lambda cp, s: cp.Variable((3, 3), sparsity=s, bounds=(cp.Parameter(value=-1.0), None)),
    "crossed": lambda cp, s: cp.Variable((3, 3), sparsity=s, bounds=(
        sp.coo_array(([3.0, 0, 0], s), shape=(3, 3)), sp.coo_array(([1.0, 1, 1], s), shape=(3, 3)))),
    "pos": lambda cp, s: cp.Variable((3, 3), sparsity=s, pos=True),
}


@pytest.mark.parametrize("case", sorted(BAD_BOUNDS))
def test_bad_bounds_refused_in_cvxpy_words(case):
    s = ([0, 1, 2], [0, 1, 2])
    with pytest.raises(ValueError) as ref:
        BAD_BOUNDS[case](cvxpy, s)
    with pytest.raises(ValueError) as got:
        BAD_BOUNDS[case](gridprox, s)
    first = str(ref.value).split(". ")[0]         # cvxpy's first sentence (gridprox then names the culprit)
    assert str(got.value).startswith(first), (str(got.value), str(ref.value))


def test_sparse_parameter_value_and_resolve():
    s = ([0, 1], [1, 0])
    for cp in (gridprox, cvxpy):
        A = cp.Parameter((2, 2), sparsity=s)
        x = cp.Variable(2)
        prob = cp.Problem(cp.Minimize(cp.sum(x)), [x >= cp.sum(A, axis=0)])
        A.value_sparse = sp.coo_array(([3.0, 4.0], s), shape=(2, 2))
        prob.solve(**({"solver": "HIGHS"} if cp is cvxpy else {}))
        assert np.allclose(x.value, [4, 3]), cp
        A.value_sparse = sp.coo_array(([10.0, 20.0], s), shape=(2, 2))
        prob.solve(**({"solver": "HIGHS"} if cp is cvxpy else {}))
        assert np.allclose(x.value, [20, 10]), cp
        with pytest.raises(ValueError, match="zero outside of sparsity pattern"):
            A.value = np.ones((2, 2))
        with pytest.raises(ValueError, match="Invalid sparsity pattern"):
            A.value_sparse = sp.coo_array(([1.0], ([0], [0])), shape=(2, 2))


def test_cvxpy_problem_with_structured_leaves_through_the_bridge():
    ref, RX, _ = planning(cvxpy)
    D = cvxpy.Variable((2, 2), diag=True)
    ref = cvxpy.Problem(cvxpy.Minimize(ref.objective.expr + cvxpy.sum(D)), ref.constraints + [D >= -1])
    linked = from_cvxpy(ref)
    linked.solve(solver="highs")
    value = ref.value
    ref.solve(solver="HIGHS")
    assert value == pytest.approx(ref.value, rel=1e-9)
    # the bridge wrote values back as cvxpy keeps them: a diagonal leaf as a dia array
    linked.solve(solver="highs")
    assert sp.issparse(D.value) and np.allclose(D.value.toarray(), -np.eye(2))
    assert np.allclose(RX.value_sparse.toarray(), dense_value(RX))


def test_to_cvxpy_keeps_the_structure():
    got, X, _ = planning(gridprox)
    exported = got.to_cvxpy()
    exported.solve(solver="HIGHS")
    got.solve()
    assert exported.value == pytest.approx(got.value, rel=1e-9)
    (var,) = exported.variables()
    assert var.sparse_idx is not None and len(var.sparse_idx[0]) == len(PATTERN[0])
