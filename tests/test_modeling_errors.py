"""Every refusal names its culprit: non-LP products and atoms, strict inequalities, shape
mismatches, NaN/inf data, missing or bad Parameter values, non-affine parameter use."""
import numpy as np
import pytest

import gridprox as cp
from gridprox import ModelingError


@pytest.fixture
def xy():
    return cp.Variable(3, name="x"), cp.Variable(3, name="y")


@pytest.mark.parametrize("make, culprit", [
    (lambda x, y: x @ y, "x @ y"),
    (lambda x, y: cp.multiply(x, y), "x * y"),
    (lambda x, y: x[0] * y, "x[0] * y"),
    (lambda x, y: x / y[0], "x / y[0]"),
    (lambda x, y: cp.kron(np.ones((1, 1)) + cp.reshape(x[:1], (1, 1)), cp.reshape(y, (3, 1))), "kron"),
])
def test_product_of_variables_refused(xy, make, culprit):
    with pytest.raises(ModelingError, match="not linear") as err:
        make(*xy)
    # kron in cvxpy's words, the product in a note under them; the other products in one line
    line = err.value.__notes__[0] if culprit == "kron" else str(err.value)
    assert line.startswith(culprit)
    if culprit == "kron":
        assert str(err.value) == "At least one argument to kron must be constant."


@pytest.mark.parametrize("build, culprit", [
    (lambda x, y: cp.Problem(cp.Maximize(cp.abs(x[0] - 1)), []), "abs(x[0] - 1.0)"),
    (lambda x, y: cp.Problem(cp.Minimize(cp.sum(y) - cp.norm1(x)), []), "norm1(x)"),
    (lambda x, y: cp.Problem(cp.Minimize(cp.min(x)), []), "min(x)"),
    (lambda x, y: cp.Problem(cp.Minimize(0), [cp.abs(x) >= 1]), "abs(x)"),
    (lambda x, y: cp.Problem(cp.Minimize(0), [cp.minimum(x, y) <= 1]), "minimum(x, y)"),
    (lambda x, y: cp.Problem(cp.Minimize(0), [cp.max(x) == 1]), "max(x)"),
    (lambda x, y: cp.Problem(cp.Minimize(0), [cp.sum(cp.abs(cp.abs(x) - 1)) <= 3]), "abs(abs(x) - 1.0)"),
    (lambda x, y: cp.Problem(cp.Minimize(cp.multiply(np.array([1.0, -1.0, 1.0]), cp.abs(x))[1]), []),
     "[ 1. -1.  1.] * abs(x)"),      # cvxpy's printing of the constant
])
def test_wrong_curvature_refused_naming_the_atom(xy, build, culprit):
    prob = build(*xy)
    assert not prob.is_dcp()
    with pytest.raises(ModelingError) as err:
        prob.solve()
    assert culprit in str(err.value)
    assert str(err.value).startswith("Problem does not follow DCP rules. Specifically: ")     # cvxpy's words first
    with pytest.raises(ModelingError):
        prob.compile()


def test_strict_inequalities_refused(xy):
    x, _ = xy
    with pytest.raises(ModelingError, match=r"strict inequality x < 1"):
        x < 1
    with pytest.raises(ModelingError, match=r"strict inequality x\[0\] > 2"):
        x[0] > 2


def test_shape_mismatch_names_both_shapes():
    x, z = cp.Variable(3, name="x"), cp.Variable(4, name="z")
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        x + z
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        x <= np.ones(4)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        np.ones((2, 3)) @ z
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        cp.multiply(x, np.ones(4))


def test_nan_and_inf_in_constants_refused():
    x = cp.Variable(3, name="x")
    with pytest.raises(ValueError, match=r"nan at index \(1,\)"):
        x + np.array([0.0, np.nan, 1.0])
    with pytest.raises(ValueError, match=r"inf at index \(0, 2\)"):
        np.array([[1.0, 2.0, np.inf]]) @ x


def test_parameter_values_checked_and_named():
    p = cp.Parameter(3, name="demand")
    with pytest.raises(ValueError, match="demand.*nan"):
        p.value = np.array([1.0, np.nan, 2.0])
    with pytest.raises(ValueError, match="(?s)Invalid dimensions.*demand.*shape"):   # the culprit in a note
        p.value = np.ones(4)
    q = cp.Parameter(2, name="price", nonneg=True)
    with pytest.raises(ValueError, match="(?s)nonnegative.*price"):
        q.value = np.array([1.0, -1.0])
    cost = cp.Parameter(name="cost", value=np.inf)     # cvxpy allows ±inf; as a coefficient the LP refuses it
    with pytest.raises(ValueError, match="non-finite"):
        cp.Problem(cp.Minimize(cost * cp.Variable(name="y")), []).solve()
    x = cp.Variable(3, name="x")
    prob = cp.Problem(cp.Minimize(cp.sum(x)), [x >= p])
    with pytest.raises(ModelingError, match=r"Parameter \(whose name is 'demand'\) does not have a value"):
        prob.solve()
    p.value = np.ones(3)
    assert prob.solve() == pytest.approx(3.0)
    with pytest.raises(ValueError, match="demand"):
        prob.parametric.batch({p: np.full((2, 3), np.nan)})


def test_parameter_products_that_leave_lp_form_refused():
    x = cp.Variable(3, name="x")
    p, q = cp.Parameter(3, name="p", value=np.ones(3)), cp.Parameter(name="q", value=2.0)
    prob = cp.Problem(cp.Minimize(cp.sum(cp.multiply(p, q * x))), [x >= 0])
    # not DPP: solved as cvxpy solves it, with the Parameters' values, compiled again per solve
    # (tests/test_cvxpy_api.py); a batch of other values is refused, naming why
    with pytest.warns(UserWarning, match="not DPP"):
        assert prob.solve() == pytest.approx(0.0)
    with pytest.raises(ModelingError, match="not DPP"):
        prob.parametric.batch({q: np.array([1.0, 2.0])})
    assert not (x / q).is_dpp()         # 1/q: a number at each solve (tests/test_cvxpy_api.py)
    assert not prob.is_dpp()


def test_non_lp_atoms_and_attributes_refused():
    x = cp.Variable(3, name="x")
    with pytest.raises(ModelingError, match=r"square\(x\) is not linear"):
        cp.square(x)
    with pytest.raises(ModelingError, match=r"norm\(x, 2\)"):
        cp.norm(x, 2)
    with pytest.raises(ModelingError, match="integer"):
        cp.Variable(2, integer=True)
    with pytest.raises(ModelingError, match=r"\*\* 2 is not linear"):
        x ** 2
    with pytest.raises(ValueError, match="scalar"):
        cp.Minimize(x)
    with pytest.raises(ValueError, match="invalid constraint.*constraint 0"):
        cp.Problem(cp.Minimize(0), [np.float64(1) <= 2])     # numpy's bool (cvxpy too refuses it; a bool it reads)
