"""cvxpy's partial_optimize under ``import gridprox as cp`` (issue 27): a problem's optimum over some
of its variables, used inside another LP, judged by what real cvxpy gives on the same script."""
import numpy as np
import pytest

import cvxpy
import gridprox
from gridprox import ModelingError


def scenarios(cp, solve):
    po = gridprox.transforms.partial_optimize if cp is gridprox else cvxpy.transforms.partial_optimize.partial_optimize
    out = []
    x, t = cp.Variable(3, name="x"), cp.Variable(3, name="t")
    g = po(cp.Problem(cp.Minimize(cp.sum(t)), [-t <= x, x <= t]), [t], [x])       # the 1-norm of x
    out.append(solve(cp.Problem(cp.Minimize(g), [x >= np.array([1.0, -2, 3])])))
    g2 = po(cp.Problem(cp.Minimize(g), [x >= np.array([1.0, -2, 3])]), [x])        # stacked: a number
    out.append(solve(cp.Problem(cp.Minimize(g2))))
    x, y, gamma = cp.Variable(1), cp.Variable(1), cp.Parameter(value=3.0)
    p3 = cp.Problem(cp.Minimize(x + po(cp.Problem(cp.Minimize(y), [x + y >= gamma, y >= 4]), [y], [x])), [x >= 5])
    out.append(solve(p3))
    gamma.value = 20.0                          # a Parameter of the inner problem refills the outer LP
    out.append(solve(p3))
    x, z = cp.Variable(name="x"), cp.Variable(name="z", nonneg=True)
    h = po(cp.Problem(cp.Maximize(z), [z <= x, z <= 2 - x]), [z])                  # concave; z's sign kept
    assert h.is_concave() and not h.is_convex()
    out.append(solve(cp.Problem(cp.Maximize(h), [x >= -5, x <= 5])))
    out.append(solve(cp.Problem(cp.Minimize(x), [h >= 0.5])))
    return out


@pytest.mark.parametrize("path", ["highs", "pdhg"])
def test_partial_optimize_solves_as_cvxpy(path):
    want = scenarios(cvxpy, lambda p: p.solve(solver="HIGHS"))
    got = scenarios(gridprox, lambda p: p.solve(solver=path))
    np.testing.assert_allclose(got, want, atol=1e-3 if path == "pdhg" else 1e-7)


def test_partial_optimize_value_as_cvxpy():
    got = []
    for cp in (cvxpy, gridprox):
        po = gridprox.transforms.partial_optimize if cp is gridprox else cvxpy.transforms.partial_optimize.partial_optimize
        x, y = cp.Variable(), cp.Variable()
        constr = [y >= -100]
        g = po(cp.Problem(cp.Minimize(y), [x + y >= 3] + constr), [y], [x],
               **({"solver": "HIGHS"} if cp is cvxpy else {}))
        assert g.value is None                  # x has no value yet
        x.value, y.value = 4.0, 42.0
        constr[0].dual_variables[0].value = 42
        # the inner problem is solved at x = 4; y's value and the constraint's dual are left as they were
        got.append([float(g.value), float(y.value), float(constr[0].dual_value)])
        with pytest.raises(ValueError, match="neither opt_vars nor dont_opt_vars"):
            po(cp.Problem(cp.Minimize(y), [x + y >= 3]))
        with pytest.raises(ValueError, match="must contain all variables in the problem"):
            po(cp.Problem(cp.Minimize(y), [x + y >= 3]), [y], [])
    assert got[0] == got[1] == [-1.0, 42.0, 42.0]


def test_opt_var_used_outside_is_refused():
    # cvxpy gives each use a fresh copy of y; here y is one variable of the LP, so a second use is refused
    x, y = gridprox.Variable(), gridprox.Variable(name="y")
    g = gridprox.transforms.partial_optimize(gridprox.Problem(gridprox.Minimize(y), [x + y >= 3]), [y], [x])
    with pytest.raises(ModelingError, match="y is optimized over inside a partial_optimize and also appears outside"):
        gridprox.Problem(gridprox.Minimize(g + x), [y >= 0, x >= 0]).solve()


def test_cvxpy_namespaces_importable():
    import gridprox.error
    from gridprox.transforms import indicator, partial_optimize   # noqa: F401
    assert gridprox.error.SolverError is gridprox.SolverError and partial_optimize is gridprox.partial_optimize
