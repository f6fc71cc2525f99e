"""cvxpy's Problem / objective / constraint API under ``import gridprox as cp`` (issue 27):
each behaviour judged by what real cvxpy does on the same script, and the Farkas certificates
of infeasible LPs checked with numpy alone."""
import re
import warnings

import cvxpy
import numpy as np
import pytest
import scipy.sparse as sp

import gridprox
from gridprox import ModelingError


def small(cp):
    x = cp.Variable(2, name="x")
    a = cp.Parameter(nonneg=True, name="a", value=2.0)
    c1, c2 = x >= 1, x[0] + x[1] <= 5
    return cp.Problem(cp.Minimize(a * x[0] + 3 * x[1] + 1), [c1, c2]), x, a, (c1, c2)


# ------------------------------------------------------------------ problem contents
def test_var_dict_param_dict_constants_atoms():
    got, x, a, _ = small(gridprox)
    ref, rx, ra, _ = small(cvxpy)
    assert set(got.var_dict) == set(ref.var_dict) == {"x"} and got.var_dict["x"] is x
    assert set(got.param_dict) == set(ref.param_dict) == {"a"} and got.param_dict["a"] is a
    assert sorted(float(np.sum(c.value)) for c in got.constants()) == \
        sorted(float(np.sum(c.value)) for c in ref.constants())
    assert got.compilation_time is None             # nothing compiled yet
    assert got.is_lp() and ref.is_lp() and got.is_dpp() and got.is_dcp(dpp=True)
    assert got.is_qp() and not got.is_mixed_integer()
    got.solve()
    assert got.compilation_time > 0


def test_is_lp_false_where_parameters_multiply():
    x = gridprox.Variable()
    a, b = gridprox.Parameter(value=1.0), gridprox.Parameter(value=2.0)
    prob = gridprox.Problem(gridprox.Minimize(a * b * x), [x >= 0])
    assert not prob.is_dpp()
    assert not (a * b * x).is_dpp() and (a * x).is_dpp()


def test_solution_mirrors_cvxpy():
    got, x, _, (c1, c2) = small(gridprox)
    ref, rx, _, (r1, r2) = small(cvxpy)
    got.solve()
    ref.solve(solver="HIGHS")
    assert got.solution.status == ref.solution.status == "optimal"
    assert got.solution.opt_val == pytest.approx(ref.solution.opt_val)
    np.testing.assert_allclose(got.solution.primal_vars[x.id], ref.solution.primal_vars[rx.id])
    np.testing.assert_allclose(got.solution.dual_vars[c1.id], ref.solution.dual_vars[r1.id], atol=1e-9)
    np.testing.assert_allclose(c1.dual_variables[0].value, r1.dual_variables[0].value, atol=1e-9)
    assert c1.dual_variables[0].shape == r1.dual_variables[0].shape


# ------------------------------------------------------------------ arithmetic
@pytest.mark.parametrize("combine", [
    lambda p, q: p + q, lambda p, q: 2 * p + q, lambda p, q: p * 0.5, lambda p, q: p / 4, lambda p, q: -(-p),
    lambda p, q: sum([p, q]),
])
def test_problem_arithmetic(combine):
    def two(cp):
        x, y = cp.Variable(name="x"), cp.Variable(name="y")
        return (cp.Problem(cp.Minimize(x), [x >= 1]), cp.Problem(cp.Minimize(2 * y), [y >= 3, y <= 5]))
    ref = combine(*two(cvxpy))
    got = combine(*two(gridprox))
    assert got.solve() == pytest.approx(ref.solve(solver="HIGHS"))
    assert type(got.objective).__name__ == type(ref.objective).__name__
    assert len(got.constraints) == len(ref.constraints)


def test_objective_arithmetic():
    for cp in (cvxpy, gridprox):
        x = cp.Variable()
        assert isinstance(cp.Minimize(x) + cp.Minimize(2 * x), cp.Minimize)
        assert isinstance(-cp.Minimize(x), cp.Maximize)
        assert isinstance(-2 * cp.Minimize(x), cp.Maximize)
        assert isinstance(cp.Maximize(x) * 3, cp.Maximize)
        assert isinstance(cp.Minimize(x) - cp.Maximize(x), cp.Minimize)
        assert isinstance(sum([cp.Minimize(x), cp.Minimize(x)]), cp.Minimize)
    with pytest.raises(ModelingError, match="DCP"):
        gridprox.Minimize(gridprox.Variable()) + gridprox.Maximize(gridprox.Variable())
    with pytest.raises(cvxpy.error.DCPError):
        cvxpy.Minimize(cvxpy.Variable()) + cvxpy.Maximize(cvxpy.Variable())


# ------------------------------------------------------------------ solve hooks, statuses
def test_register_solve_and_positional_solver():
    def my_solve(problem, scale=1.0, **kwargs):
        problem.solve(**kwargs)
        return problem.value * scale
    gridprox.Problem.register_solve("scaled", my_solve)
    got, *_ = small(gridprox)
    assert got.solve(method="scaled", scale=2.0) == pytest.approx(2 * got.value)
    assert got.solve("highs") == pytest.approx(got.value)
    with pytest.raises(ModelingError, match="registered"):
        got.solve(method="no-such-method")


def test_iteration_limit_is_user_limit_with_the_point_kept():
    x = gridprox.Variable(50)
    prob = gridprox.Problem(gridprox.Minimize(gridprox.sum(x)),
                            [gridprox.cumsum(x) >= np.linspace(1, 9, 50), x <= 3])
    prob.solve(solver="pdhg", tol=1e-10, max_iter=20)
    assert prob.status == gridprox.USER_LIMIT == cvxpy.USER_LIMIT
    assert x.value is not None and np.isfinite(prob.value)


def test_installed_solvers_and_namespaces():
    names = gridprox.installed_solvers()
    assert "HIGHS" in names and "PDHG" in names
    assert set(cvxpy.installed_solvers()) <= set(names)
    for name in ("Cone", "Equality", "Inequality", "Zero", "NonNeg", "NonPos", "SOC", "PSD", "ExpCone",
                 "PowCone3D", "PowConeND"):
        assert isinstance(getattr(gridprox.constraints, name), type), name
    x = gridprox.Variable(2)
    assert isinstance(gridprox.NonNeg(x), gridprox.constraints.Cone)
    assert not isinstance(x >= 0, gridprox.constraints.Cone)
    with pytest.raises(ModelingError, match="second-order cone"):
        gridprox.constraints.SOC(x[0], x)


def test_attributes_dict_and_pos_neg():
    ref = cvxpy.Variable(2, pos=True).attributes
    got = gridprox.Variable(2, pos=True).attributes
    assert set(ref) <= set(got)
    assert got["pos"] and not got["neg"] and not got["integer"]
    for cp in (cvxpy, gridprox):         # pos behaves as nonneg in an LP, neg as nonpos
        x, y = cp.Variable(pos=True), cp.Variable(neg=True)
        prob = cp.Problem(cp.Minimize(x - y))
        assert prob.solve(**({"solver": "HIGHS"} if cp is cvxpy else {})) == pytest.approx(0.0)


# ------------------------------------------------------------------ get_problem_data
def test_get_problem_data_is_cvxpy_conic_layout():
    got, *_ = small(gridprox)
    ref, *_ = small(cvxpy)
    data, chain, inverse = got.get_problem_data(gridprox.HIGHS)
    rdata, _, _ = ref.get_problem_data(cvxpy.CLARABEL)
    assert data["dims"].zero == rdata["dims"].zero and data["dims"].nonneg == 1
    assert "lower_bounds" in data and "upper_bounds" in data      # None where no variable is bounded
    # the layout means what it says: a feasible point of the LP satisfies b - A x >= 0
    x = np.array([1.0, 1.0])
    slack = data["b"] - data["A"] @ x
    assert np.all(slack[data["dims"].zero:] >= 0)
    assert data["c"] @ x + data["offset"] == pytest.approx(2 + 3 + 1)
    assert inverse is data["lp"] and chain is got.parametric



@pytest.mark.parametrize("attrs", [{"nonneg": True}, {"nonpos": True}, {}, {"bounds": [-1, 2]}])
def test_get_problem_data_bounds_none_where_cvxpy_gives_none(attrs):
    """cvxpy hands HiGHS None for a side on which no variable is bounded."""
    data = {}
    for cp, solver in ((cvxpy, cvxpy.HIGHS), (gridprox, gridprox.HIGHS)):
        x = cp.Variable(3, **attrs)
        data[cp] = cp.Problem(cp.Minimize(cp.sum(x)), [cp.sum(x) >= -1, cp.sum(x) <= 1]).get_problem_data(solver)[0]
    for side in ("lower_bounds", "upper_bounds"):
        want, got = data[cvxpy][side], data[gridprox][side]
        assert (got is None) == (want is None)
        if want is not None:
            np.testing.assert_array_equal(got, want)

# ------------------------------------------------------------------ grad
def test_grad_of_affine_expressions_matches_cvxpy():
    A = np.arange(6.0).reshape(3, 2)
    for build in (lambda cp, X: cp.sum(A @ X[:, :2]) + 2 * X[0, 2], lambda cp, X: (A @ X)[:, 1],
                  lambda cp, X: cp.vec(X.T, order="F") @ np.arange(6.0)):
        grads = []
        for cp in (cvxpy, gridprox):
            X = cp.Variable((2, 3))
            X.value = np.ones((2, 3))
            grads.append(build(cp, X).grad[X].toarray())
        np.testing.assert_allclose(grads[1], grads[0])
    x = gridprox.Variable(2)
    assert (2 * x).grad[x] is None                  # no value, as cvxpy
    grads = []
    for cp in (cvxpy, gridprox):                    # piecewise-linear atoms away from their kinks: exact
        y = cp.Variable(3)
        y.value = np.array([1.5, -2.0, 0.5])
        grads.append([g.toarray() for g in (cp.abs(y).grad[y], cp.max(y).grad[y], cp.cumsum(y).grad[y],
                                            cp.norm1(2 * y - 1).grad[y])])
    for want, got in zip(*grads):
        np.testing.assert_allclose(got, want, atol=1e-8)
    with pytest.raises(ModelingError, match="not DCP"):
        (gridprox.abs(x) - gridprox.abs(x)).grad


# ------------------------------------------------------------------ certificates
def farkas_rows(cp, A, b, kind):
    x = cp.Variable(A.shape[1])
    cons = [A @ x <= b] if kind == "le" else [A @ x == b, x >= 0]
    return cp.Problem(cp.Minimize(0), cons)


@pytest.mark.parametrize("solver", ["highs", "pdhg"])
def test_infeasible_inequalities_carry_a_farkas_certificate(solver):
    A = np.array([[1.0, 0], [0, 1], [-1, -1]])
    b = np.array([0.0, 0, -1])
    prob = farkas_rows(gridprox, A, b, "le")
    prob.solve(solver=solver)
    assert prob.status == "infeasible" and prob.value == np.inf
    y = prob.constraints[0].dual_value
    # y >= 0, Aᵀy = 0, bᵀy < 0 proves A x <= b has no solution: checked here by numpy alone
    assert np.all(y >= 0)
    np.testing.assert_allclose(A.T @ y, 0, atol=1e-9)
    assert b @ y < -1e-6
    np.testing.assert_array_equal(prob.solution.dual_vars[prob.constraints[0].id], y)
    np.testing.assert_array_equal(prob.constraints[0].dual_variables[0].value, y)


@pytest.mark.parametrize("solver", ["highs", "pdhg"])
def test_infeasible_equalities_carry_a_farkas_certificate(solver):
    rng = np.random.default_rng(3)
    A = np.abs(rng.normal(size=(4, 6))) + 0.1
    b = -np.ones(4)                        # A >= 0, x >= 0 cannot reach a negative b
    prob = farkas_rows(gridprox, A, b, "eq")
    prob.solve(solver=solver)
    assert prob.status == "infeasible"
    y = prob.constraints[0].dual_value
    assert np.min(A.T @ y) >= -1e-9 and b @ y < -1e-6
    ref = farkas_rows(cvxpy, A, b, "eq")
    ref.solve(solver="HIGHS")
    yr = ref.constraints[0].dual_value
    assert np.min(A.T @ yr) >= -1e-6 and b @ yr < 0        # cvxpy's has the same sign convention


def test_infeasible_bound_and_row_certificate_through_bounds():
    # the conflict lies between a row and a variable bound: the bound's dual carries its part
    x = gridprox.Variable(3, nonneg=True)
    lim = x <= 1
    row = gridprox.sum(x) >= 4
    prob = gridprox.Problem(gridprox.Minimize(gridprox.sum(x)), [lim, row])
    prob.solve()
    assert prob.status == "infeasible"
    u, w = lim.dual_value, row.dual_value          # multipliers of x - 1 <= 0 and 4 - sum(x) <= 0
    assert np.all(u >= -1e-12) and w >= -1e-12
    # Σ u·(x − 1) + w·(4 − Σx) = Σ (u − w)·x + (4w − Σu) > 0 for every x >= 0 when u >= w and 4w > Σu,
    # so no x >= 0 makes both constraints hold
    assert np.all(u - w >= -1e-9) and -np.sum(u) + 4 * w > 1e-6


def test_parameter_bounds_check_values_as_cvxpy():
    for cp in (cvxpy, gridprox):
        p = cp.Parameter(2, bounds=[-1, 1], value=np.array([0.5, -1.0]))
        with pytest.raises(ValueError):
            p.value = np.array([2.0, 0.0])
        x = cp.Variable(2)
        prob = cp.Problem(cp.Minimize(cp.sum(x)), [x >= p])
        assert prob.solve(**({"solver": "HIGHS"} if cp is cvxpy else {})) == pytest.approx(-0.5)


def test_constraint_names_and_problem_repr():
    for cp in (cvxpy, gridprox):
        x = cp.Variable(name="x")
        con = x <= 2
        assert con.name() == str(con) and not con.is_dgp() and con.is_dpp()
    reprs = []
    for cp in (cvxpy, gridprox):
        a, x = cp.Variable(name="a"), cp.Variable(2, name="x", pos=True)
        reprs.append([repr(cp.Problem(cp.Minimize(a))), repr(cp.Minimize(2 * a)), repr(x), repr(cp.Variable(3, nonpos=True,
                      name="z")), repr(cp.Parameter(2, nonneg=True))])
    assert reprs[1] == reprs[0]                     # cvxpy's layout


@pytest.mark.filterwarnings("ignore:You are solving a parameterized problem that is not DPP")
def test_non_dpp_parameter_products_solve_as_in_cvxpy():
    def build(cp):
        x = cp.Variable(2)
        a, b = cp.Parameter(value=1.0), cp.Parameter(value=2.0)
        return cp.Problem(cp.Minimize(a * b * cp.sum(x)), [x >= 1, x <= 3]), a
    ref, ra = build(cvxpy)
    got, ga = build(gridprox)
    assert not got.is_dpp() and not ref.is_dpp()
    for value in (1.0, -1.0):           # the sign flips the optimum: refilled, not stale
        ra.value = ga.value = value
        assert got.solve() == pytest.approx(ref.solve(solver="HIGHS"))
    with pytest.raises(cvxpy.error.DPPError) as want:
        build(cvxpy)[0].solve(solver="HIGHS", enforce_dpp=True)     # a fresh problem: cvxpy checks when compiling
    with pytest.raises(gridprox.DPPError) as err:
        got.solve(enforce_dpp=True)
    assert str(want.value).startswith(str(err.value) + " ")        # cvxpy's first sentence, the objective in a note
    assert err.value.__notes__[0].startswith("minimize param")
    assert issubclass(gridprox.DPPError, ModelingError)


def test_copies_keep_cvxpy_identities():
    import copy
    for cp in (cvxpy, gridprox):
        x = cp.Variable()
        assert copy.copy(x) is x and copy.deepcopy(x).id != x.id
        con = cp.constraints.Equality(x, 0) if cp is cvxpy else gridprox.Equality(x, 0)
        assert copy.copy(con).id == con.id and copy.deepcopy(con).id != con.id
        e = x + 1
        assert copy.copy(e).id != e.id and copy.deepcopy(e).id != e.id
    y = gridprox.Variable(2)
    e = gridprox.abs(y - 1)
    prob = gridprox.Problem(gridprox.Minimize(gridprox.sum(copy.copy(e)) + gridprox.sum(e)), [y >= 0])
    assert prob.solve() == pytest.approx(0.0)


# ------------------------------------------------------------------ expression methods, signs
METHODS = {
    "max_axis": lambda e: e.max(axis=0, keepdims=True), "min": lambda e: e.min(),
    "ptp": lambda e: e.ptp(axis=1), "mean": lambda e: e.mean(axis=1, keepdims=True),
    "std": lambda e: e.std(ddof=1), "var": lambda e: e.var(ddof=1),
    "prod": lambda e: e.prod(axis=0), "cumsum": lambda e: e.cumsum(axis=1), "trace": lambda e: e[:, :2].trace(),
    "conj": lambda e: e.conj(), "sum": lambda e: e.sum(axis=1),
}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_expression_methods_of_constants_match_cvxpy(name):
    M = np.array([[10.0, -10.0, 3.0], [6.0, 0.5, 1.5]])
    want = METHODS[name](cvxpy.Constant(M))
    got = METHODS[name](gridprox.Constant(M))
    assert got.shape == want.shape
    np.testing.assert_allclose(got.value, want.value)
    assert got.sign == want.sign


def test_methods_on_variables_solve_as_cvxpy():
    opt = []
    for cp in (cvxpy, gridprox):
        X = cp.Variable((2, 3))
        prob = cp.Problem(cp.Minimize(X.max() - X.min(axis=0).mean() + X.ptp(axis=1).sum() + X[:, :2].trace()),
                          [X >= np.arange(6.0).reshape(2, 3), X <= 10])
        prob.solve(**({"solver": "HIGHS"} if cp is cvxpy else {}))
        opt.append(prob.value)
    assert opt[1] == pytest.approx(opt[0], abs=1e-7)


def test_constant_expressions_signed_by_cvxpys_rules():
    """Only a constant leaf is signed by its value; sums and differences of constants follow
    the sign rules (cvxpy: Constant(1) + Constant(-1) is UNKNOWN, not ZERO)."""
    for make in (lambda cp: cp.Constant(1) + cp.Constant(-1), lambda cp: cp.Constant(2) - cp.Constant(2),
                 lambda cp: cp.Constant([1, -1]).sum(), lambda cp: cp.Constant(-3) + cp.Constant(0),
                 lambda cp: cp.Constant(2) * cp.Constant(-1), lambda cp: cp.Constant(0) * cp.Constant(-1)):
        want, got = make(cvxpy), make(gridprox)
        assert got.sign == want.sign
        assert got.is_zero() == want.is_zero()


def test_reshape_without_order_warns_where_the_order_matters():
    X = gridprox.Variable((4, 3))
    for call in (lambda: X.reshape((2, 6)), lambda: X.flatten(), lambda: gridprox.reshape(X, (12,)),
                 lambda: gridprox.vec(X)):
        with pytest.warns(FutureWarning, match="specify the order"):
            call()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gridprox.reshape(gridprox.Variable(3), (1, 3))       # a vector made a row: no choice to warn about
        X.reshape((2, 6), order="C")


SIGNS = {
    "max_zero": lambda cp: cp.max(0), "max_neg": lambda cp: cp.max(-2),
    "maximum_zero_neg": lambda cp: cp.maximum(0, -2), "maximum_one_zero": lambda cp: cp.maximum(1, 0),
    "maximum_var_neg": lambda cp: cp.maximum(cp.Variable(), -2), "minimum_zero_pos": lambda cp: cp.minimum(0, 2),
    "minimum_var_zero": lambda cp: cp.minimum(cp.Variable(), 0), "sum_largest_zero": lambda cp: cp.sum_largest(
        cp.Constant(np.zeros(3)), 2),
    "diag_of_psd": lambda cp: cp.diag(np.array([[1.0, -1.0], [-1.0, 1.0]])),
    "diag_of_variable": lambda cp: cp.diag(cp.Variable((2, 2))),
}


@pytest.mark.parametrize("name", sorted(SIGNS))
def test_atom_signs_as_cvxpys_rules(name):
    assert SIGNS[name](gridprox).sign == SIGNS[name](cvxpy).sign


def test_empty_expression_has_an_empty_value_as_in_cvxpy():
    for cp in (cvxpy, gridprox):
        e = cp.Variable(2)[:-100]
        assert e.size == 0 and np.asarray(e.value).size == 0


def test_stacking_prints_and_trace_class_as_cvxpy():
    names = []
    for cp in (cvxpy, gridprox):
        x, y, A = cp.Variable(2, name="x"), cp.Variable(2, name="y"), cp.Variable((2, 2), name="A")
        names.append([cp.hstack([x, y, x]).name(), cp.vstack([x, y, x]).name(), cp.concatenate([x, y]).name(),
                      cp.vstack([A, A]).name()])
        assert isinstance(cp.trace(A), cp.Trace)
    assert names[1] == names[0]


def test_small_cvxpy_behaviours():
    A, C = np.ones((3, 2)), np.ones((2, 2))
    for cp in (cvxpy, gridprox):
        assert cp.concatenate([cp.Variable((3, 2)), cp.Variable((2, 2))], axis=None).shape == (10,)
        x = cp.Variable((2, 2), bounds=[None, 5])              # a missing side is an unbounded 0-d array
        assert x.bounds[0].ndim == 0 and np.all(np.broadcast_to(x.bounds[0], (2, 2)) == -np.inf)
        z = cp.Variable(2)
        z.save_value(2)                                       # one number fills the variable
        np.testing.assert_array_equal(z.value, [2.0, 2.0])
        assert cp.kron(A, cp.Parameter((2, 1), nonneg=True)).is_nonneg()
    source = np.array([1.0, 2.0])
    c = gridprox.Constant(source)
    source[0] = 10.0                                          # the constant keeps the value it was given
    np.testing.assert_array_equal(c.value, [1.0, 2.0])
    for cp in (cvxpy, gridprox):
        with pytest.raises(Exception, match="Cannot evaluate the truth value of a constraint"):
            bool(cp.Variable() <= cp.Variable() <= 1)
        with pytest.raises(ValueError, match="Problem has an invalid constraint"):
            cp.Problem(cp.Minimize(0), [cp.sum(cp.Variable())])
        with pytest.raises(Exception, match=r"^Problem objective must be Minimize or Maximize.$"):
            cp.Problem(cp.Variable() + 2)


def test_concatenate_flattened_in_numpys_order():
    """axis=None flattens in C order, as numpy and cvxpy's .value do (cvxpy 1.9.3's own
    canonicalisation reads F order there, disagreeing with its .value; gridprox follows numpy)."""
    X, Y = gridprox.Variable((2, 2)), gridprox.Variable(3)
    v = gridprox.concatenate([X, Y], axis=None)
    gridprox.Problem(gridprox.Minimize(0), [v == np.arange(7.0)]).solve()
    np.testing.assert_allclose(X.value, [[0.0, 1.0], [2.0, 3.0]], atol=1e-9)
    np.testing.assert_allclose(v.value, np.arange(7.0), atol=1e-9)
    cX = cvxpy.Constant(np.array([[0.0, 1.0], [2.0, 3.0]]))
    np.testing.assert_allclose(cvxpy.concatenate([cX, cvxpy.Constant(np.arange(4.0, 7.0))], axis=None).value,
                               np.arange(7.0))


def test_labels_as_in_cvxpy():
    texts = []
    for cp in (cvxpy, gridprox):
        x, a = cp.Variable(3, name="x"), cp.Parameter(3, name="a", value=np.array([1.0, 2.0, 3.0]))
        con = x >= cp.Variable(3, name="y")             # (gridprox prints numbers its own way: 0 for cvxpy's 0.0)
        plain = str(con)
        con.set_label("non_negative")
        labelled = (str(con), con.format_labeled())
        con.label = 123
        numeric = (con.label, str(con))
        del con.label
        texts.append([plain, labelled, numeric, str(con), (a @ x).set_label("weighted_sum").format_labeled()])
    assert texts[1] == texts[0]


def test_size_metrics_as_cvxpy():
    got = []
    for cp in (cvxpy, gridprox):
        a, b, c = cp.Variable(name="a"), cp.Variable(4, name="b"), cp.Variable((1, 1), name="c")
        p1, p2, p3 = cp.Parameter(), cp.Parameter(3, nonpos=True), cp.Parameter((4, 4), nonneg=True)
        prob = cp.Problem(cp.Minimize(p1), [a + p1 <= p2, b <= cp.sum(p3, axis=0) + 2,
                                            c == np.array([[0.5]]), cp.sum(b) >= -5])
        m = prob.size_metrics
        got.append((m.num_scalar_variables, m.num_scalar_data, m.num_scalar_eq_constr, m.num_scalar_leq_constr,
                    m.max_data_dimension, m.max_big_small_squared))
    assert got[1] == got[0]


def test_infinite_parameter_values_as_in_cvxpy():
    """cvxpy lets a Parameter hold ±inf: as a bound it is no bound; where it would be an infinite
    coefficient the LP refuses it by name instead of answering."""
    opt = []
    for cp in (cvxpy, gridprox):
        p, x = cp.Parameter(), cp.Variable()
        prob = cp.Problem(cp.Maximize(x), [x <= p, x <= 3])
        p.value = np.inf
        prob.solve(**({"solver": "HIGHS"} if cp is cvxpy else {}))
        opt.append(prob.value)
        q = cp.Parameter(nonneg=True)
        q.value = np.inf
        with pytest.raises(ValueError, match="Parameter value must be nonnegative"):
            q.value = -np.inf
    assert opt[1] == opt[0] == 3.0
    p, x = gridprox.Parameter(name="p", value=np.inf), gridprox.Variable()
    with pytest.raises(ValueError, match="c has a non-finite value"):
        gridprox.Problem(gridprox.Minimize(p * x), [x >= 1]).solve()
    with pytest.raises(ValueError, match=r"\+inf"):
        gridprox.Problem(gridprox.Minimize(x), [x >= p]).solve()


def test_semidefinite_tests_and_sparse_constants_as_cvxpy():
    rng = np.random.default_rng(3)
    P = rng.standard_normal((6, 6))
    for M in (np.eye(4), -np.eye(4), P.T @ P, P + P.T, np.ones((3, 2))):
        assert gridprox.Constant(M).is_psd() == cvxpy.Constant(M).is_psd()
        assert gridprox.Constant(M).is_nsd() == cvxpy.Constant(M).is_nsd()
    for w in (np.array([1.0, 2.0]), np.array([-1.0, -2.0]), np.array([1.0, -1.0])):
        assert gridprox.diag(w).is_psd() == cvxpy.diag(w).is_psd()
        assert gridprox.diag(w).is_nsd() == cvxpy.diag(w).is_nsd()
    A = sp.coo_matrix((np.ones(3), ([0, 1, 2], [0, 0, 2])), shape=(3, 3))
    np.testing.assert_allclose(gridprox.prod(A, axis=0).value, cvxpy.prod(A, axis=0).value)
    m = sp.csr_matrix(np.array([[1.0, 0.0], [0.0, 2.0]]))
    c = gridprox.Constant(m)
    m.data[0] = -3.0                                          # the constant keeps the value it was given
    assert c.is_nonneg() and c.value[0, 0] == 1.0


def test_division_by_a_parameter_solves_as_cvxpy():
    def build(cp):
        x, q = cp.Variable(2), cp.Parameter(nonneg=True, value=2.0)
        return cp.Problem(cp.Minimize(cp.sum(x / q) + 4 / q), [x >= np.array([1.0, 3.0])]), q
    (ref, rq), (got, gq) = build(cvxpy), build(gridprox)
    for value in (2.0, 0.5):
        rq.value = gq.value = value
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref.solve(solver="HIGHS")
            got.solve()
        assert got.value == pytest.approx(ref.value, rel=1e-9)
    p = gridprox.Parameter(nonneg=True, value=2.0)
    assert (2 / p).value == 1.0


def test_constraint_copy_as_cvxpy():
    for cp in (cvxpy, gridprox):
        x, z = cp.Variable(2, name="x"), cp.Variable(2, name="z")
        A, B = cp.Variable((2, 2), name="A"), cp.Variable((2, 2), name="B")
        for con in (x == z, x <= z):
            same = con.copy()
            assert type(same) is type(con) and same.args == con.args and same.args is not con.args
            assert same.id == con.id
            other = con.copy(args=[A, B])
            assert type(other) is type(con) and other.args[0] is A and other.shape == (2, 2) and other.id == con.id


@pytest.mark.parametrize("solver", ["highs", "pdhg"])
def test_parameter_expression_bounds_refill_as_cvxpy(solver):
    """bounds=[p + 1, 2 * p] follow p at each solve (crossed bounds: infeasible), as in cvxpy."""
    got = {}
    for cp, kw in ((cvxpy, {"solver": "HIGHS"}), (gridprox, {"solver": solver})):
        p = cp.Parameter(2, value=[1.0, 3.0])
        x = cp.Variable(2, bounds=[p + 1, 2 * p])
        prob = cp.Problem(cp.Minimize(cp.sum(x) - 2 * x[1]))
        got[cp] = []
        for value in ([1.0, 3.0], [2.0, 1.5], [2.0, 0.5]):
            p.value = value
            prob.solve(**kw)
            got[cp].append((prob.status, None if x.value is None else np.round(x.value, 5).tolist()))
    assert got[gridprox] == got[cvxpy]
    assert got[cvxpy][2][0] == "infeasible"
    back = gridprox.Problem(gridprox.Minimize(gridprox.sum(x)))        # to_cvxpy keeps the expression bound
    assert np.allclose(back.to_cvxpy().variables()[0].bounds[1].value, [4.0, 1.0])


def test_parameter_without_value_is_cvxpys_parameter_error():
    for cp in (cvxpy, gridprox):
        q = cp.Parameter(name="q")
        with pytest.raises(cp.error.ParameterError if cp is cvxpy else gridprox.ParameterError,
                           match=r"^A Parameter \(whose name is 'q'\) does not have a value associated with it"):
            cp.Problem(cp.Minimize(q * cp.Variable())).solve(**({"solver": "HIGHS"} if cp is cvxpy else {}))
    assert issubclass(gridprox.ParameterError, ModelingError)


def test_copy_with_new_arguments_and_get_data_as_cvxpy():
    got = {}
    for cp in (cvxpy, gridprox):
        x, y = cp.Variable(3), cp.Variable(3)
        x.value, y.value = np.array([0.5, 4.0, -1.0]), np.array([1.0, -2.0, 3.0])
        atoms = [cp.sum(cp.reshape(x, (3, 1), order="C"), axis=1), cp.cumsum(x), cp.max(x), cp.sum_largest(x, 2),
                 cp.abs(x), cp.maximum(x, 2 * x)]
        got[cp] = [(a.get_data(), np.round(a.copy(args=[b + y[0] for b in a.args]).value, 6).tolist()) for a in atoms]
        got[cp].append(np.round(cp.hstack([x, y]).copy(args=[y, x]).value, 6).tolist())
    assert got[gridprox] == got[cvxpy]


def test_numbers_and_sums_print_as_cvxpy():
    for cp in (cvxpy, gridprox):
        x = cp.Variable((2, 3), name="x")
        assert [str(x >= 1), str(cp.sum(x, axis=1)), str(cp.abs(x[0, 0] - 2))] == \
            ["1.0 <= x", "Sum(x, 1, False)", "abs(x[0, 0] + -2.0)" if cp is cvxpy else "abs(x[0, 0] - 2.0)"]


def test_log_log_analysis_as_cvxpy_and_geometric_programs_refused():
    got = {}
    for cp in (cvxpy, gridprox):
        p, q = cp.Variable(pos=True), cp.Variable(pos=True)
        c = cp.Parameter(pos=True, value=2.0)
        probs = [cp.Problem(cp.Minimize(p + q), [c * p >= 1]), cp.Problem(cp.Minimize(p - q)),
                 cp.Problem(cp.Maximize(cp.minimum(p, q)), [p <= 2]), cp.Problem(cp.Minimize(p / 2), [p >= 1]),
                 cp.Problem(cp.Minimize(cp.max(cp.hstack([p, q]))), [p == c])]
        got[cp] = ([pr.is_dgp() for pr in probs], probs[0].is_dpp("dgp"), (c * p).log_log_curvature,
                   (p + q).log_log_curvature, (p + q).is_log_log_affine(), c.is_log_log_constant())
    assert got[gridprox] == got[cvxpy]
    with pytest.raises(ModelingError, match="geometric program"):
        probs[0].solve(gp=True)


@pytest.mark.parametrize("solver", ["highs", "pdhg"])
def test_indicator_transform_as_cvxpy(solver):
    got = {}
    for cp, kw in ((cvxpy, {"solver": "HIGHS"}), (gridprox, {"solver": solver})):
        z = cp.Variable(2)
        ind = cp.transforms.indicator([z >= 1, z[0] == 2])
        prob = cp.Problem(cp.Minimize(cp.sum(z) + ind))
        prob.solve(**kw)
        outside = ind.value
        z.value = np.array([0.0, 0.0])
        got[cp] = (prob.status, round(prob.value, 5), np.round(z.value, 5).tolist(), outside, ind.value,
                   ind.is_convex(), ind.is_nonneg())
    assert got[gridprox] == got[cvxpy]


def test_copies_are_new_nodes_and_objectives_copy_as_cvxpy():
    got = {}
    for cp in (cvxpy, gridprox):
        x, y = cp.Variable(2, name="x"), cp.Variable(2, name="y")
        out = []
        for atom in (x + y, x[0], cp.dotsort(x, np.array([1.0, 2.0])), cp.Minimize(cp.sum(x))):
            c = atom.copy()
            out.append((type(c) is type(atom), c.args is atom.args, all(a is b for a, b in zip(c.args, atom.args))))
        new = cp.Maximize(cp.sum(x)).copy(args=[cp.sum(y)])
        out.append((type(new).__name__, new.args[0].args[0] is y))
        got[cp] = out
    assert got[gridprox] == got[cvxpy]


def test_trace_of_a_product_sum_and_constant_repr_as_cvxpy():
    got = {}
    A = np.array([[1.0, 2.0], [3.0, 4.0]])
    for cp in (cvxpy, gridprox):
        X = cp.Variable((2, 2))
        X.value = np.array([[5.0, 6.0], [7.0, 8.0]])
        t = cp.trace(A @ X)
        got[cp] = (type(t).__name__, isinstance(t, cp.Sum if cp is gridprox else cvxpy.atoms.affine.sum.Sum),
                   t.value, cp.trace(X @ A).value, type(cp.trace(X)).__name__,
                   repr(cp.Constant([1, 2])), repr(cp.Constant(-3.0)),
                   cp.sum(cp.Variable(2) for _ in range(3)).shape, cp.sum(range(3)).shape)
    assert got[gridprox] == got[cvxpy]


def test_adding_zero_returns_the_expression_as_cvxpy():
    for cp in (cvxpy, gridprox):
        x, a = cp.Variable(2), cp.Variable()
        assert x + 0 is x and 0 + x is x and x + np.zeros(2) is x and np.zeros(2) + x is x
        assert (a + np.zeros(3)).shape == (3,) and (np.zeros(3) + a).shape == (3,)
        assert x + 1 is not x


def test_canonical_form_and_objective_shape_message_as_cvxpy():
    for cp in (cvxpy, gridprox):
        x, z = cp.Variable(2), cp.Variable()
        for obj in (cp.Minimize(x[0] + z), cp.Maximize(x[0] + z)):
            form, rows = obj.canonical_form
            assert rows == []
        with pytest.raises(ValueError, match=r"^The 'minimize' objective must resolve to a scalar.$"):
            cp.Minimize(x).canonical_form
    form, rows = gridprox.Maximize(gridprox.abs(gridprox.Variable()) * -1).canonical_form
    assert len(rows) > 0                   # abs adds its epigraph rows, as cvxpy's canonical form does


def test_symmetry_of_constants_as_cvxpy():
    mats = [np.eye(3), np.zeros((3, 3)), np.array([[0, 1], [-1, 0]]), np.array([[0, 1], [1, 0]]),
            np.array([[0, 1], [-1.1, 0]]), np.array(2.0)]
    for m in mats:
        for data in (m, sp.csc_array(m) if m.ndim == 2 else m):
            want, got = cvxpy.Constant(data), gridprox.Constant(data)
            assert (got.is_symmetric(), got.is_skew_symmetric(), got.is_hermitian()) == \
                (want.is_symmetric(), want.is_skew_symmetric(), want.is_hermitian())
    assert not gridprox.Constant(np.ones((2, 3))).is_skew_symmetric()      # cvxpy raises there
    for cp in (cvxpy, gridprox):
        assert cp.abs(cp.Variable()).is_symmetric() and not cp.abs(cp.Variable((2, 2))).is_symmetric()


def test_complex_data_refused_by_name_not_dropped():
    """cvxpy keeps 1j * A complex; casting it to float would drop the imaginary part silently."""
    x = gridprox.Variable(2)
    for build in (lambda: gridprox.Constant(1j * np.eye(2)), lambda: x + np.array([1j, 2.0]),
                  lambda: gridprox.Constant(sp.csc_array(1j * np.eye(2)))):
        with pytest.raises(ModelingError, match="complex"):
            build()
    assert not cvxpy.Constant(1j * np.eye(2)).is_real()


def test_project_onto_signs_and_bounds_as_cvxpy():
    val = np.array([-2.0, 0.5, 4.0])
    for kw in ({"nonneg": True}, {"nonpos": True}, {"bounds": [np.array([0.0, -1.0, 2.0]), 3.0]},
               {"bounds": [0, 1], "nonneg": True}, {}):
        np.testing.assert_array_equal(gridprox.Variable(3, **kw).project(val), cvxpy.Variable(3, **kw).project(val))


def test_expression_without_cpp_support_as_cvxpy():
    got = {}
    for cp in (cvxpy, gridprox):
        Sum = cp.Sum if cp is gridprox else cvxpy.atoms.affine.sum.Sum

        class NoCpp(Sum):
            def _supports_cpp(self):
                return False

        prob = cp.Problem(cp.Minimize(0), [NoCpp(cp.Variable(2)) == 1])
        with pytest.raises(ValueError, match="The CPP backend cannot be used with problems that have expressions"):
            prob.solve(canon_backend=cp.CPP_CANON_BACKEND)
        with pytest.warns(UserWarning, match="The problem includes expressions that don't support CPP backend"):
            prob.solve(**({"solver": "HIGHS"} if cp is cvxpy else {}))
        got[cp] = prob.status
    assert got[gridprox] == got[cvxpy]


def test_error_namespace_as_cvxpy():
    # cp.error.X: the classes gridprox raises, under cvxpy's names
    for name in ("SolverError", "DCPError", "DGPError", "DQCPError", "DPPError", "ParameterError"):
        assert hasattr(cvxpy.error, name) and hasattr(gridprox.error, name)
    assert gridprox.error.SolverError is gridprox.SolverError
    assert gridprox.error.DPPError is gridprox.DPPError and gridprox.error.DCPError is gridprox.DCPError
    for cp in (cvxpy, gridprox):
        p = cp.Parameter(value=5.0)
        y = cp.Variable()
        prob = cp.Problem(cp.Minimize(p + y), [p == y])
        with pytest.raises(cp.error.DPPError, match="Cannot set enforce_dpp = True and ignore_dpp = True."):
            prob.solve(enforce_dpp=True, ignore_dpp=True)
        x = cp.Variable(bounds=[cp.Parameter(value=1.0) * cp.Parameter(value=1.0), None])
        with pytest.raises(cp.error.DPPError):
            cp.Problem(cp.Minimize(x), [x <= 10]).solve(enforce_dpp=True)


def test_callback_param_as_cvxpy():
    got = {}
    for cp in (cvxpy, gridprox):
        x, p, q = cp.Variable(), cp.Parameter(), cp.Parameter()
        pq = cp.CallbackParam(callback=lambda: p.value * q.value)
        prob = cp.Problem(cp.Minimize(x), [x >= pq])
        assert prob.is_dpp()
        p.value, q.value = 1.0, 4.0
        values = [prob.solve(**({"solver": "HIGHS"} if cp is cvxpy else {}))]
        p.value = 2.0
        values.append(prob.solve(**({"solver": "HIGHS"} if cp is cvxpy else {})))
        got[cp] = values + [pq.value]
        with pytest.raises(NotImplementedError, match="Cannot set the value of a CallbackParam"):
            pq.value = 1.0
    np.testing.assert_allclose(got[gridprox], got[cvxpy])
    assert got[gridprox] == [4.0, 8.0, 8.0]
    x, p = gridprox.Variable(), gridprox.Parameter(value=3.0)
    prob = gridprox.Problem(gridprox.Minimize(x), [x >= gridprox.CallbackParam(lambda: 2 * p.value)])
    assert prob.solve(solver="pdhg") == pytest.approx(6.0, abs=1e-5)


def test_sparse_constant_value_stays_sparse_as_cvxpy():
    for fmt in (sp.csc_array, sp.coo_matrix, sp.csr_matrix):
        m = fmt(np.array([[1.0, 0.0], [0.0, 2.0]]))
        got, ref = gridprox.Constant(m), cvxpy.Constant(m)
        assert type(got.value) is type(ref.value) is sp.csc_array
        m.data[0] = -3.0                     # the caller's matrix changes; the constant does not
        np.testing.assert_array_equal(got.value.toarray(), ref.value.toarray())
        assert got.is_nonneg() and ref.is_nonneg() and got.is_psd() == ref.is_psd()
        # an expression of it has a dense value, as cvxpy's sum and matmul do
        for f in (lambda c: c + 1, lambda c: c @ np.ones(2), lambda c: gridprox.sum(c) if c is got else cvxpy.sum(c)):
            np.testing.assert_allclose(f(got).value, f(ref).value)


@pytest.mark.parametrize("value", [3, 2.5, np.array([1.5, 2.0]), np.ones((3, 3)), np.ones((5, 2)), np.ones((1, 3)),
                                   np.arange(10.0), np.arange(2000.0), -np.eye(2)])
def test_constant_prints_as_cvxpy(value):
    assert str(gridprox.Constant(value)) == str(cvxpy.Constant(value))
    x, rx = gridprox.Variable(2, name="x"), cvxpy.Variable(2, name="x")
    assert str(x <= np.array([1.0, 2.5])) == str(rx <= np.array([1.0, 2.5]))


def test_cvxpy_solver_names_and_atom_classes():
    for name in cvxpy.settings.SOLVERS + ["ECOS_BB", "DIFFCP"]:
        assert getattr(gridprox, name) == getattr(cvxpy, name)
    assert issubclass(gridprox.DGPError, gridprox.ModelingError)
    x, rx = gridprox.Variable(2), cvxpy.Variable(2)
    assert isinstance(x + 1, gridprox.AddExpression) and isinstance(rx + 1, cvxpy.AddExpression)
    assert isinstance(np.ones((2, 2)) @ x, gridprox.MulExpression)
    assert isinstance(np.ones((2, 2)) @ rx, cvxpy.MulExpression)
    # cvxpy's atom classes by name: linear cases solved as cvxpy solves them, the others refused by name
    build = lambda cp, v: cp.sum(cp.Power(v - 1, 1))      # noqa: E731
    got = gridprox.Problem(gridprox.Minimize(build(gridprox, x)), [x >= 0]).solve()
    assert got == pytest.approx(cvxpy.Problem(cvxpy.Minimize(build(cvxpy, rx)), [rx >= 0]).solve(solver="CLARABEL"))
    for cls, p, words in (("Pnorm", 1, "Use the norm1 class"), ("PnormApprox", "inf", "Use the norm_inf class")):
        with pytest.raises(ValueError, match=words):
            getattr(cvxpy, cls)(rx, p)
        with pytest.raises(ModelingError, match=words):
            getattr(gridprox, cls)(x, p)
    assert not cvxpy.Pnorm(rx, 3).is_affine()
    with pytest.raises(ModelingError, match="is not linear"):
        gridprox.Pnorm(x, 3)
    for cls in ("QuadForm", "Power", "Prod", "GeoMean", "MatrixFrac"):
        args = {"QuadForm": (np.eye(2),), "Power": (2,), "MatrixFrac": (np.eye(2),)}.get(cls, ())
        assert not getattr(cvxpy, cls)(rx, *args).is_affine()
        with pytest.raises(ModelingError, match="is not linear"):
            getattr(gridprox, cls)(x, *args)
    with pytest.raises(ModelingError, match="PowCone3DApprox.*power cone"):
        gridprox.PowCone3DApprox(x[0], x[1], gridprox.Variable(), 0.5)


@pytest.mark.parametrize("path", ["highs", "pdhg"])
def test_bool_constraints_as_cvxpy(path):
    for cons in (lambda x: [True] * 3, lambda x: [True, 42 <= x, True], lambda x: [False],
                 lambda x: [True, False, 42 <= x]):
        x, rx = gridprox.Variable(nonneg=True), cvxpy.Variable(nonneg=True)
        got, ref = gridprox.Problem(gridprox.Minimize(x), cons(x)), cvxpy.Problem(cvxpy.Minimize(rx), cons(rx))
        got.solve(solver=path)
        ref.solve(solver="HIGHS")
        assert got.status == ref.status and str(got.constraints[0]) == str(ref.constraints[0])
        assert (x.value is None) == (rx.value is None) and (x.value is None or abs(x.value - rx.value) < 1e-6)
    with pytest.raises(ValueError, match="invalid constraint of type"):
        gridprox.Problem(gridprox.Minimize(x), ["x >= 0"])


@pytest.mark.parametrize("make, value", [
    (lambda cp: cp.Variable(3, bounds=[np.array([1, 2, 3]), np.array([4, 5, 6])]), [0, 0, 0]),
    (lambda cp: cp.Variable(nonneg=True), -1.0), (lambda cp: cp.Variable(neg=True), 1.0),
    (lambda cp: cp.Variable(pos=True), -1.0), (lambda cp: cp.Variable(pos=True, bounds=[1, 2]), -1.0),
    (lambda cp: cp.Parameter(nonpos=True), 1.0), (lambda cp: cp.Parameter(2, bounds=[0, None]), [-1.0, 2.0]),
    (lambda cp: cp.Parameter(nonneg=True), np.inf), (lambda cp: cp.Variable(2, bounds=[0, 1]), [0.5, 1 + 1e-12]),
    (lambda cp: cp.Parameter(boolean=True), 0.5), (lambda cp: cp.Parameter(2, boolean=True), [1.0, 0.0]),
    (lambda cp: cp.Parameter(2, integer=True), [1.0, 2.5]), (lambda cp: cp.Parameter(integer=True), -3.0),
    (lambda cp: cp.Parameter(boolean=True, nonneg=True), 0.5),
])
def test_leaf_value_checked_against_its_projection_as_cvxpy(make, value):
    # cvxpy refuses a value that is not its own projection onto the leaf's sign or bounds
    try:
        make(cvxpy).value = value
        words = None
    except ValueError as e:
        words = str(e)
    leaf = make(gridprox)
    if words is None:
        leaf.value = value
        np.testing.assert_array_equal(leaf.value, value)
    else:
        with pytest.raises(ValueError) as got:      # cvxpy's words exactly; the leaf and value as a note
            leaf.value = value
        assert str(got.value) == words
        assert re.match(r"'(var|param)\d+' is ", got.value.__notes__[0])


def test_solution_written_unchecked_as_cvxpy():
    # a solver's value slightly off a bound is kept (cvxpy's save_value), not refused
    x = gridprox.Variable(2, nonneg=True)
    prob = gridprox.Problem(gridprox.Minimize(gridprox.sum(x)), [x >= 0])
    prob._set_solution({x: np.array([-1e-9, 1.0])}, None)
    assert x.value[0] == -1e-9


def test_leaf_repr_as_cvxpy():
    def leaves(cp):
        a, a2 = cp.Parameter(name="a"), cp.Parameter(name="a2")
        return [cp.Variable((10, 10), name="x", nonneg=True), cp.Variable((10, 10), name="y", bounds=[0, 10]),
                cp.Variable(3, name="z", bounds=[np.array([1.0, 2, 3]), None]), cp.Variable(name="w", pos=True),
                cp.Variable(2, name="u", bounds=[-a, a2]), cp.Parameter(2, nonneg=True), cp.Parameter(bounds=[0, 1]),
                cp.Variable(7, name="v", bounds=[np.arange(7.0), 100]), cp.Parameter(2, bounds=[None, np.ones(2)]),
                cp.Variable(2, name="q", bounds=[None, 3.5])]
    assert [repr(v) for v in leaves(gridprox)] == [repr(v) for v in leaves(cvxpy)]


def test_nd_problem_backend_warning_as_cvxpy():
    for cp in (cvxpy, gridprox):
        x = cp.Variable((2, 2, 2))
        prob = cp.Problem(cp.Minimize(cp.sum(x)), [x == np.ones((2, 2, 2))])
        with pytest.warns(UserWarning, match="The problem has an expression with dimension greater than 2. "
                                             "Defaulting to the SCIPY backend for canonicalization."):
            assert prob.solve(**({"solver": "HIGHS"} if cp is cvxpy else {})) == pytest.approx(8.0)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            prob.solve(canon_backend=cp.SCIPY_CANON_BACKEND, **({"solver": "HIGHS"} if cp is cvxpy else {}))
        fresh = cp.Problem(cp.Minimize(cp.sum(x)), [x == np.ones((2, 2, 2))])     # cvxpy caches its backend
        with pytest.raises(ValueError, match="Only the COO and SCIPY backends are supported"):
            fresh.solve(canon_backend=cp.CPP_CANON_BACKEND, **({"solver": "HIGHS"} if cp is cvxpy else {}))


@pytest.mark.parametrize("path", ["highs", "pdhg"])
def test_domain_as_cvxpy(path):
    def build(cp):
        p = cp.Parameter(name="p", value=-2.0)
        x = cp.Variable(3, name="x", bounds=[np.array([1, -np.inf, 3]), 5], nonneg=True)
        m = cp.Variable((2, 2), name="m", bounds=[np.array([[0, -np.inf], [1, 2]]), None])
        z = cp.Variable(name="z", bounds=[p, None])
        leaves = (x, cp.abs(cp.Variable(2, nonneg=True)) + 1, cp.Constant(1), cp.Parameter(nonneg=True), z, m)
        # each leaf's domain alone (a fresh variable of its id, as cvxpy's test) makes the bounds
        copy = lambda v: cp.Variable(v.shape, var_id=v.id) if cp is cvxpy else v     # noqa: E731
        prob = cp.Problem(cp.Minimize(cp.sum(copy(x)) + copy(z) + cp.sum(copy(m)) - 10 * copy(m)[0, 1]),
                          x.domain + z.domain + m.domain + [copy(m)[0, 1] <= 4])
        return [len(e.domain) for e in leaves], prob
    (nd, got), (rd, ref) = build(gridprox), build(cvxpy)
    assert nd == rd
    assert got.solve(solver=path) == pytest.approx(ref.solve(solver="HIGHS"), abs=1e-5)


def test_deprecation_warnings_as_cvxpy():
    assert issubclass(gridprox.CvxpyDeprecationWarning, DeprecationWarning)
    for cp in (cvxpy, gridprox):
        x = cp.Variable(2)
        with pytest.warns(cp.CvxpyDeprecationWarning, match="conv is deprecated. Use convolve instead."):
            expr = cp.conv(np.array([1.0, 2.0]), np.array([0.0, 1.0, 0.5]))
        np.testing.assert_allclose(expr.value, [0.0, 1.0, 2.5, 1.0])
        with pytest.warns(cp.CvxpyDeprecationWarning, match='Explicitly invoking "NonPos\\(expr\\)"'):
            cp.NonPos(x)
        with pytest.warns(UserWarning, match="has resulted in matrix multiplication"), \
                pytest.warns(cp.CvxpyDeprecationWarning, match="has resulted in matrix multiplication"):
            cp.Constant(np.ones((2, 2))) * x
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            cp.convolve(np.array([1.0, 2.0]), x), cp.NonNeg(x), x <= 0


def test_var_id_refused_instead_of_a_separate_variable():
    # cvxpy: a Variable with another's var_id is that variable (z.value is x's optimum)
    x = cvxpy.Variable(2, bounds=[1, 3])
    z = cvxpy.Variable(2, var_id=x.id)
    cvxpy.Problem(cvxpy.Minimize(cvxpy.sum(z)), x.domain).solve(solver="HIGHS")
    np.testing.assert_allclose(z.value, [1, 1])
    x = gridprox.Variable(2, bounds=[1, 3])
    with pytest.raises(ModelingError, match=r"Variable\(var_id=\d+\): .*not supported; use that Variable itself"):
        gridprox.Variable(2, var_id=x.id)


def test_linearize_as_cvxpy():
    def tangents(cp, lin):
        out = []
        x = cp.Variable(2)
        x.value = np.array([1.0, -2.0])
        for e in ((2 * x - 5)[0], cp.abs(x) + 1, cp.sum(cp.abs(x)), -cp.abs(x), cp.maximum(x, 0.5)):
            tangent = lin(e)
            x.value = np.array([3.0, 4.0])
            far = tangent.value
            x.value = np.array([1.0, -2.0])
            out += [np.ravel(tangent.value), np.ravel(far)]
        A = cp.Variable((2, 2))
        A.value = np.array([[1.0, -2], [3, -4]])
        tangent = lin(cp.abs(A))
        A.value = np.array([[2.0, 2], [-3, 4]])
        out.append(tangent.value.ravel())
        with pytest.raises(ValueError, match="Cannot linearize non-affine expression with missing variable values."):
            lin(cp.abs(cp.Variable(2)))
        return out
    got = tangents(gridprox, gridprox.transforms.linearize)
    for a, b in zip(got, tangents(cvxpy, cvxpy.transforms.linearize)):
        np.testing.assert_allclose(a, b)


def test_format_labeled_shows_labels_of_parts_as_cvxpy():
    def shown(cp):
        a, b = cp.Variable(name="a").set_label("aL"), cp.Variable(name="b").set_label("bL")
        x, y = cp.Variable(3, name="x").set_label("xL"), cp.Variable(3, name="y").set_label("yL")
        exprs = (x + y, -x, (a + b) / 2, x[0], cp.norm1(x), cp.norm_inf(x), cp.vstack([x, y]), cp.hstack([x, y]),
                 cp.sum(x), cp.maximum(x, y), (x + y).set_label("s"))
        return [e.format_labeled() for e in exprs] + [str(x + y)]
    assert shown(gridprox) == shown(cvxpy)
    assert shown(gridprox)[0] == "xL + yL" and shown(gridprox)[-1] == "x + y"


def test_quotients_print_parenthesised_as_cvxpy():
    def shown(cp):
        a, b = cp.Variable(name="a"), cp.Variable(name="b")
        return [str(e) for e in ((a / 2) * 3, (a * 2) / 3, a / 2 / 3, 3 * (a / 2), (a + b) / 2, -(a / 2), a / 2 + b)]
    assert shown(gridprox) == shown(cvxpy)


@pytest.mark.parametrize("path", ["highs", "pdhg"])
def test_quad_form_of_a_constant_vector_is_linear_as_cvxpy(path):
    def build(cp):
        X = cp.Variable((2, 2))
        return cp.Problem(cp.Minimize(cp.quad_form(np.array([1.0, 2.0]), X)), [X >= -1, X <= 3])
    assert build(gridprox).solve(solver=path) == pytest.approx(build(cvxpy).solve(solver="HIGHS"), abs=1e-5)
    for cp in (cvxpy, gridprox):
        x, X = cp.Variable(2), cp.Variable((2, 2))
        with pytest.raises(Exception, match=r"^At least one argument to quad_form must be non-variable\."):
            cp.quad_form(x, X)
        with pytest.raises(Exception, match=r"^Invalid dimensions for arguments to quad_form\.$"):
            cp.quad_form(1, X)
    with pytest.raises(ModelingError, match="quad_form"):
        gridprox.quad_form(gridprox.Variable(2), np.eye(2))
    # an indefinite P breaks the DCP rules, where cvxpy says so when solving (a PSD P makes a QP)
    with pytest.raises(cvxpy.error.DCPError) as want:
        cvxpy.Problem(cvxpy.Minimize(cvxpy.quad_form(cvxpy.Variable(2), np.diag([-1.0, 9.0])))).solve()
    with pytest.raises(ModelingError) as got:
        gridprox.quad_form(gridprox.Variable(2, name="x"), np.diag([-1.0, 9.0]))
    assert str(want.value).startswith(str(got.value)) and "indefinite" in got.value.__notes__[0]


@pytest.mark.parametrize("path", ["highs", "pdhg"])
def test_convolve_with_a_parameter_kernel_as_cvxpy(path):
    # cvxpy: not DPP, solved with the Parameter's value at each solve
    def run(cp, **solve):
        out = []
        x, p = cp.Variable(), cp.Parameter()
        prob = cp.Problem(cp.Minimize(cp.convolve(p, x)), [0 <= x, x <= 1])
        for v in (-1.0, 2.0):
            p.value = v
            out.append(prob.solve(**solve))
        assert not prob.is_dpp()
        with pytest.raises(cp.error.DPPError):
            cp.Problem(cp.Minimize(cp.convolve(p, x)), [0 <= x, x <= 1]).solve(enforce_dpp=True, **solve)
        q, y = cp.Parameter(3, value=np.array([1.0, -2.0, 0.5])), cp.Variable(4)
        e = cp.convolve(y, q) if cp is gridprox else cp.convolve(q, y)
        out.append(cp.Problem(cp.Minimize(cp.sum(e) + cp.sum(cp.abs(y - np.arange(4)))), [y >= -3, y <= 3]).solve(**solve))
        return out + list(e.value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_allclose(run(gridprox, solver=path), run(cvxpy, solver="HIGHS"),
                                   atol=1e-3 if path == "pdhg" else 1e-7)


def test_convolutions_export_to_cvxpy_constant_first():
    x = gridprox.Variable(3, name="x")
    p = gridprox.Parameter(2, value=np.array([-1.0, 2.0]), name="p")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for e in (gridprox.convolve(p, x), gridprox.convolve(x, p), gridprox.convolve(x, np.array([1.0, -3.0]))):
            prob = gridprox.Problem(gridprox.Minimize(gridprox.sum(e)), [0 <= x, x <= 1])
            assert str(e).startswith("convolve(p, x)") or str(e).startswith("convolve([ 1. -3.], x)")
            assert prob.to_cvxpy().solve(solver="HIGHS") == pytest.approx(prob.solve())


def test_an_index_prints_as_cvxpy_resolves_it():
    """x[:-1] of 100 entries prints x[0:99], a reversed slice as cvxpy's single index, missing axes
    as 0:n: the same string as cvxpy for every key of integers and slices tried (cvxpy is the judge)."""
    import itertools

    ints = [0, -1, 2]
    slices = [slice(None), slice(None, -1), slice(None, None, -1), slice(1, 50, 3), slice(50, 10, -1),
              slice(-3, None, -1), slice(3, 1), slice(-100, 100)]
    for shape in [(100,), (3, 4)]:
        g, c = gridprox.Variable(shape, name="x"), cvxpy.Variable(shape, name="x")
        for n in range(1, len(shape) + 1):
            for key in itertools.product(*[ints + slices] * n):
                key = key if n > 1 else key[0]
                try:
                    want = str(c[key])
                except IndexError:
                    continue
                assert str(g[key]) == want, key
    assert str(gridprox.Variable(100, name="x")[:-1]) == "x[0:99]"


@pytest.mark.parametrize("solver", [None, "pdhg", "CLARABEL"])
def test_bibtex_prints_what_cvxpy_cites(solver, capsys):
    """solve(verbose=True, bibtex=True): cvxpy's records of the language and the grammar, and the
    method's (HiGHS's as cvxpy prints it; through cvxpy, that solver's own); nothing without verbose."""
    from cvxpy.utilities.citations import CITATION_DICT

    prob, *_ = small(gridprox)
    prob.solve(solver=solver, bibtex=True)
    assert "@" not in capsys.readouterr().out
    prob.solve(solver=solver, verbose=True, bibtex=True)
    out = capsys.readouterr().out
    assert CITATION_DICT["CVXPY"] in out and CITATION_DICT["DCP"] in out
    method = {None: CITATION_DICT["HIGHS"], "pdhg": "arXiv:2507.14051", "CLARABEL": CITATION_DICT["CLARABEL"]}
    assert method[solver] in out
    assert ("Huangfu" in out) == (solver is None)
    assert prob.status == "optimal" and prob.value == pytest.approx(small(cvxpy)[0].solve(), rel=1e-6)


def test_bibtex_records_are_cvxpys():
    """gridprox's copies of the records equal cvxpy's, Gurobi's (solver="gurobi") included."""
    from cvxpy.utilities.citations import CITATION_DICT

    from gridprox.problems import citations

    for mine, key in ((citations.CVXPY, "CVXPY"), (citations.DCP, "DCP"), (citations.HIGHS, "HIGHS"),
                      (citations.GUROBI, "GUROBI")):
        assert mine == CITATION_DICT[key], key
    assert CITATION_DICT["GUROBI"] in citations.text("gurobi")


@pytest.mark.parametrize("path", ["highs", "pdhg"])
def test_boolean_and_integer_parameters_are_data_as_in_cvxpy(path):
    """A boolean Parameter (a technology on or off) is nonnegative, so ``p * abs(x)`` is convex;
    cvxpy solves the same script to the same optimum for every value."""
    def build(cp):
        on, n = cp.Parameter(2, boolean=True), cp.Parameter(integer=True)
        x = cp.Variable(2)
        prob = cp.Problem(cp.Minimize(cp.sum(cp.multiply(on, cp.abs(x - 3))) + n * cp.sum(x)), [x >= 0, x <= 5])
        return prob, on, n
    got, g_on, g_n = build(gridprox)
    ref, r_on, r_n = build(cvxpy)
    assert g_on.is_nonneg() and not g_n.is_nonneg() and got.is_dcp() and got.is_dpp()
    assert repr(g_on) == repr(r_on) == "Parameter((2,), boolean=True)"
    bridged = gridprox.from_cvxpy(ref)           # the attributes cross into gridprox and back to cvxpy
    exported = got.to_cvxpy()
    assert {p.name(): p.attributes["boolean"] for p in exported.parameters()} == {g_on.name(): True, g_n.name(): False}
    for on, n in (([1, 0], 0), ([1, 1], -2), ([0, 1], 1)):
        g_on.value, r_on.value, g_n.value, r_n.value = on, on, n, n
        ref.solve(solver="HIGHS")
        opts = {"tol": 1e-9} if path == "pdhg" else {}
        assert got.solve(solver=path, **opts) == pytest.approx(ref.value, abs=1e-6)
        assert bridged.solve(solver=path, **opts) == pytest.approx(ref.value, abs=1e-6)


def test_symmetric_parameter_as_cvxpy():
    """A symmetric Parameter: its value checked in cvxpy's words, its reduced size and symmetry
    reported as cvxpy's, and a solve equal to cvxpy's."""
    opt = []
    for cp in (cvxpy, gridprox):
        S, x = cp.Parameter((3, 3), symmetric=True), cp.Variable((3, 3))
        with pytest.raises(ValueError) as err:
            S.value = np.arange(9.0).reshape(3, 3)
        assert str(err.value) == "Parameter value must be symmetric."
        assert (S.is_symmetric(), S._has_dim_reducing_attr, S._reduced_size) == (True, True, 6)
        S.value = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 5.0], [3.0, 5.0, 6.0]])
        prob = cp.Problem(cp.Minimize(cp.sum(x)), [x >= S, x >= 2.5])
        opt.append(prob.solve(**({"solver": "HIGHS"} if cp is cvxpy else {})))
    assert opt[1] == pytest.approx(opt[0], abs=1e-7)
