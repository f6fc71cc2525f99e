"""``get_bounds`` (cvxpy's interval bounds of an expression) under ``import gridprox as cp``:
equal to real cvxpy's where cvxpy has a rule for the atom, and exact (the range over the
box's corners) where cvxpy gives up and returns unbounded."""
import itertools

import cvxpy
import numpy as np
import pytest

import gridprox

A = np.array([[1.0, 2.0, 3.0], [4.0, -5.0, 6.0]])

SAME_AS_CVXPY = {
    "variable": lambda cp: cp.Variable(3, bounds=[0, 1]),
    "array_bounds": lambda cp: cp.Variable((2, 3), bounds=(np.arange(6).reshape(2, 3), 9.0)),
    "nonneg": lambda cp: cp.Variable(3, nonneg=True),
    "nonpos_and_bounds": lambda cp: cp.Variable(3, nonpos=True, bounds=[-5, 3]),
    "constant": lambda cp: cp.Constant(np.array([1.0, -2.0])),
    "parameter_bounds": lambda cp: cp.Parameter(2, bounds=[-1, 1], value=[0.5, 0.0]),
    "parameter_value_only": lambda cp: cp.Parameter(2, value=[1.0, 2.0]),
    "abs_spanning": lambda cp: cp.abs(cp.Variable(3, bounds=[-2, 3])),
    "abs_negative": lambda cp: cp.abs(cp.Variable(3, bounds=[-3, -1])),
    "abs_nonneg_unbounded": lambda cp: cp.abs(cp.Variable(3, nonneg=True)),
    "negation": lambda cp: -cp.Variable(3, bounds=[1, 2]),
    "addition": lambda cp: cp.Variable(3, bounds=[0, 1]) + cp.Variable(3, bounds=[2, 3]),
    "broadcast": lambda cp: cp.Variable(bounds=[2, 5]) + cp.Variable(3, bounds=[0, 0]),
    "scaled": lambda cp: -2 * cp.Variable(3, bounds=[1, 2]) + 1,
    "division": lambda cp: cp.Variable(2, bounds=[1, 2]) / np.array([2.0, -4.0]),
    "sum_axis": lambda cp: cp.sum(cp.Variable((2, 3), bounds=[1, 2]), axis=0),
    "sum_all": lambda cp: cp.sum(cp.Variable((2, 3), bounds=[1, 2])),
    "matmul": lambda cp: A @ cp.Variable(3, bounds=[-1, 1]),
    "transpose": lambda cp: cp.Variable((2, 3), bounds=[1, 6]).T,
    "index": lambda cp: cp.Variable((3, 4), bounds=[1, 5])[0:2, 1:3],
    "reshape": lambda cp: cp.reshape(cp.Variable((2, 3), bounds=(np.arange(6).reshape(2, 3), 9.0)), (3, 2),
                                     order="F"),
    "max": lambda cp: cp.max(cp.Variable((2, 3), bounds=[1, 5])),
    "min_axis": lambda cp: cp.min(cp.Variable((2, 3), bounds=(np.arange(6).reshape(2, 3), 9.0)), axis=1),
    "maximum": lambda cp: cp.maximum(cp.Variable(3, bounds=[1, 2]), cp.Variable(3, bounds=[0, 3])),
    "minimum": lambda cp: cp.minimum(cp.Variable(3, bounds=[1, 2]), cp.Variable(3, bounds=[0, 3])),
    "pos": lambda cp: cp.pos(cp.Variable(2, bounds=[0, 1]) - 0.5),
    "norm1": lambda cp: cp.norm1(cp.Variable(3, bounds=[-2, 1])),
    "norm_inf": lambda cp: cp.norm_inf(cp.Variable(3, bounds=[1, 2])),
    "abs_of_difference": lambda cp: cp.abs(cp.Variable(3, bounds=[0, 1]) - cp.Variable(3, bounds=[1, 2])),
    "parameter_times_variable": lambda cp: cp.multiply(cp.Parameter(2, bounds=[-1, 2]),
                                                       cp.Variable(2, bounds=[0, 1])),
}


@pytest.mark.parametrize("name", sorted(SAME_AS_CVXPY))
def test_bounds_equal_cvxpy(name):
    want = SAME_AS_CVXPY[name](cvxpy).get_bounds()
    got = SAME_AS_CVXPY[name](gridprox).get_bounds()
    for w, g in zip(want, got):
        assert np.shape(g) == np.shape(w)
        np.testing.assert_array_equal(g, w)


def test_uniform_leaf_bounds_are_broadcast_views():
    lb, ub = gridprox.Variable((100, 100), bounds=(-5, 10)).get_bounds()
    assert lb.strides == ub.strides == (0, 0)
    assert lb[3, 7] == -5 and ub[99, 0] == 10


# atoms cvxpy leaves unbounded: gridprox's bounds are the exact range over the box
X_BOX = [(-1.0, 2.0), (0.0, 1.0), (-3.0, -1.0)]
EXACT = {
    "cumsum": lambda cp, x: cp.cumsum(x),
    "hstack": lambda cp, x: cp.hstack([x, 2 * x[:2]]),
    "reverse_plus_broadcast": lambda cp, x: x[::-1] + 2 * x[0],
    "sum_largest": lambda cp, x: cp.sum_largest(x, 2),
    "cummax": lambda cp, x: cp.cummax(x),
    "ptp": lambda cp, x: cp.ptp(x),
    "neg": lambda cp, x: cp.neg(x),
    "norm1_of_sum": lambda cp, x: cp.norm1(x + 1),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_bounds_exact_over_box_where_cvxpy_gives_none(name):
    lo = np.array([b[0] for b in X_BOX])
    hi = np.array([b[1] for b in X_BOX])
    x = gridprox.Variable(3, bounds=[lo, hi])
    expr = EXACT[name](gridprox, x)
    got_lo, got_hi = expr.get_bounds()
    values = []
    for corner in itertools.product(*X_BOX):        # piecewise-linear atoms: extremes at corners
        x.value = np.array(corner)
        values.append(np.asarray(expr.value))
    np.testing.assert_allclose(got_lo, np.min(values, axis=0))
    np.testing.assert_allclose(got_hi, np.max(values, axis=0))


def test_bounds_valid_where_not_exact():
    # ptp's definition max(x) - min(x) takes both ends from the same entry independently
    x = gridprox.Variable(2, bounds=[0, 1])
    lo, hi = gridprox.ptp(x).get_bounds()
    assert lo == 0 and hi == 1


@pytest.mark.parametrize("make", [
    lambda cp: cp.Variable(bounds=[1, None]), lambda cp: cp.Variable(bounds=[None, 1]),
    lambda cp: cp.Variable(bounds=[1, 2]), lambda cp: cp.Variable(nonneg=True),
    lambda cp: cp.Variable(2, bounds=[np.array([-np.inf, 0.0]), np.inf]),
    lambda cp: cp.Variable(bounds=[cp.Parameter(), 10]), lambda cp: cp.Variable(),
])
def test_has_lower_and_upper_bounds_like_cvxpy(make):
    want, got = make(cvxpy), make(gridprox)
    assert got._has_lower_bounds() == want._has_lower_bounds()
    assert got._has_upper_bounds() == want._has_upper_bounds()
