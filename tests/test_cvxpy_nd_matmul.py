"""N-d ``@`` (numpy's stacks of matrices, batch axes broadcast) under ``import gridprox as cp``:
the shape cvxpy gives, and LPs through the product solved to real cvxpy's optimum."""
import cvxpy
import numpy as np
import pytest

import gridprox

CASES = [((3, 4), (2, 4, 5)), ((2, 3, 4), (4,)), ((4,), (2, 4, 5)), ((2, 3, 4), (2, 4, 5)),
         ((1, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((3, 4, 5), (5, 2))]


def _lp(cp, sa, sb, variable_right, parameter=False):
    """min <W, A @ X> over -1 <= X <= 1 (X on the right or the left of the product)."""
    rng = np.random.default_rng(7)
    const_shape, var_shape = (sa, sb) if variable_right else (sb, sa)
    C = rng.standard_normal(const_shape)
    X = cp.Variable(var_shape)
    if parameter:
        C = cp.Parameter(const_shape, value=C)
    expr = C @ X if variable_right else X @ C
    W = rng.standard_normal(expr.shape)
    prob = cp.Problem(cp.Minimize(cp.sum(cp.multiply(W, expr))), [X >= -1, X <= 1])
    return prob, expr


@pytest.mark.parametrize("sa,sb", CASES)
@pytest.mark.parametrize("variable_right", [True, False])
def test_nd_matmul_shape_and_optimum_match_cvxpy(sa, sb, variable_right):
    if not variable_right:
        sa, sb = sb[::-1] if len(sb) == 1 else sb[:-2] + sb[-2:][::-1], sa[::-1] if len(sa) == 1 else \
            sa[:-2] + sa[-2:][::-1]
    ref, ref_expr = _lp(cvxpy, sa, sb, variable_right)
    got, got_expr = _lp(gridprox, sa, sb, variable_right)
    assert got_expr.shape == ref_expr.shape
    ref.solve(solver="HIGHS")
    got.solve()
    assert got.status == "optimal"
    assert got.value == pytest.approx(ref.value, abs=1e-7)


def test_parameter_times_stacked_variable_refills():
    ref, _ = _lp(cvxpy, (3, 4), (2, 4, 5), True, parameter=True)
    got, _ = _lp(gridprox, (3, 4), (2, 4, 5), True, parameter=True)
    for scale in (1.0, -2.0):
        for prob in (ref, got):
            p = prob.parameters()[0]
            p.value = scale * np.arange(12.0).reshape(3, 4)
        ref.solve(solver="HIGHS")
        got.solve()
        assert got.value == pytest.approx(ref.value, abs=1e-7)


@pytest.mark.parametrize("sa,sb", [((3, 4, 5), (2, 5, 6)), ((2, 3, 4, 5), (2, 4, 5, 6)), ((2, 3), (4, 5)),
                                   ((3,), (4,))])
def test_incompatible_stacks_refused_in_cvxpys_words(sa, sb):
    with pytest.raises(ValueError, match=r"Incompatible dimensions"):
        np.ones(sa) @ gridprox.Variable(sb)
