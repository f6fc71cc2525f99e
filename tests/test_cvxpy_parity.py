"""The same script under ``import gridprox as cp`` and ``import cvxpy as cp`` gives the same
answer (issue 27): each test builds one problem or expression with both modules and judges
gridprox by what real cvxpy (solving with HiGHS) returns."""
import warnings

import cvxpy
import numpy as np
import pytest

import gridprox
from gridprox.modeling.expression import NESTED_LIST_WARNING

pytestmark = pytest.mark.filterwarnings("ignore:The problem includes expressions that don't support CPP",
                                        "ignore:Initializing a Constant with a nested list")

X0 = np.array([[-1.0, 3.0], [2.0, -4.0]])


def solve_both(build, **gridprox_opts):
    """(cvxpy's (status, value), gridprox's (status, value), the two problems) for ``build(cp)``."""
    ref = build(cvxpy)
    ref.solve(solver="HIGHS")
    got = build(gridprox)
    got.solve(**gridprox_opts)
    return (ref.status, ref.value), (got.status, got.value), ref, got


def assert_same(ref, got):
    assert got[0] == ref[0]
    if ref[1] is None:
        assert got[1] is None
    else:
        assert got[1] == pytest.approx(float(ref[1]), abs=1e-6)


# ------------------------------------------------------------------ silent wrong answers
@pytest.mark.parametrize("p", [1, "inf", np.inf])
def test_matrix_norm_is_the_induced_norm(p):
    for data in (X0, np.arange(6.0).reshape(2, 3) - 2):
        want = cvxpy.norm(cvxpy.Constant(data), p).value
        assert want == pytest.approx(np.linalg.norm(data, np.inf if p != 1 else 1))
        assert gridprox.norm(gridprox.Constant(data), p).value == pytest.approx(want)

    def build(cp):   # entrywise: 4 (p=1) / 1 (p=inf); induced: 2 and 2
        X = cp.Variable((2, 2))
        return cp.Problem(cp.Minimize(cp.norm(X, p)), [cp.sum(X) >= 4])
    ref, got, _, g = solve_both(build)
    assert_same(ref, got)
    ref2 = g.to_cvxpy()                   # the composite exports as cvxpy's norm
    ref2.solve(solver="HIGHS")
    assert ref2.value == pytest.approx(ref[1])


@pytest.mark.parametrize("axis", [0, 1])
def test_norm_with_axis_and_entrywise_norms_unchanged(axis):
    C = cvxpy.Constant(X0)
    G = gridprox.Constant(X0)
    for p in (1, "inf"):
        np.testing.assert_allclose(gridprox.norm(G, p, axis=axis).value, cvxpy.norm(C, p, axis=axis).value)
        np.testing.assert_allclose(gridprox.norm(G, p, axis=axis, keepdims=True).value,
                                   cvxpy.norm(C, p, axis=axis, keepdims=True).value)
    assert gridprox.norm1(G).value == pytest.approx(cvxpy.norm1(C).value)           # 10, entrywise
    assert gridprox.norm_inf(G).value == pytest.approx(cvxpy.norm_inf(C).value)     # 4, entrywise
    v = np.array([1.0, -5.0, 2.0])
    for p in (1, "inf"):
        assert gridprox.norm(v, p).value == pytest.approx(cvxpy.norm(v, p).value)
    T = np.arange(8.0).reshape(2, 2, 2) - 3     # beyond 2-d cvxpy is entrywise again
    for p in (1, "inf"):
        assert gridprox.norm(T, p).value == pytest.approx(cvxpy.norm(cvxpy.Constant(T), p).value)


def test_cumsum_axis_none_flattens_in_c_order():
    want = cvxpy.cumsum(cvxpy.Constant(X0), axis=None).value
    np.testing.assert_allclose(want, np.cumsum(X0))           # cvxpy follows numpy: C order
    np.testing.assert_allclose(gridprox.cumsum(gridprox.Constant(X0), axis=None).value, want)

    def build(cp):
        X = cp.Variable((2, 3))
        w = np.arange(1.0, 7.0)
        return cp.Problem(cp.Minimize(w @ cp.cumsum(X, axis=None)), [X >= 0, X <= 1, cp.sum(X) == 2.5])
    ref, got, r, g = solve_both(build)
    assert_same(ref, got)
    # from_cvxpy keeps cvxpy's meaning and so does the exported problem
    linked = gridprox.from_cvxpy(r)
    linked.solve()
    assert linked.value == pytest.approx(ref[1])
    back = g.to_cvxpy()
    back.solve(solver="HIGHS")
    assert back.value == pytest.approx(ref[1])


def test_from_cvxpy_parameter_expression_bounds_follow_the_parameter():
    u = cvxpy.Parameter(nonneg=True, value=1.0)
    x = cvxpy.Variable(2, bounds=[-u, 2 * u + 1])
    src = cvxpy.Problem(cvxpy.Minimize(cvxpy.sum(x) + x[0]))
    linked = gridprox.from_cvxpy(src)
    for value in (1.0, 3.0, 0.5):
        u.value = value
        linked.solve()
        got = (linked.status, linked.value)
        src.solve(solver="HIGHS")                 # cvxpy: -3u
        assert_same((src.status, src.value), got)
        mx = cvxpy.Problem(cvxpy.Maximize(cvxpy.sum(x)))
        lm = gridprox.from_cvxpy(mx)
        lm.solve()
        mx.solve(solver="HIGHS")                  # cvxpy: 4u + 2
        assert lm.value == pytest.approx(mx.value)


def test_from_cvxpy_one_id_is_one_variable():
    def make():
        x1 = cvxpy.Variable(2, var_id=987654)
        x2 = cvxpy.Variable(2, var_id=987654)
        return cvxpy.Problem(cvxpy.Minimize(cvxpy.sum(x1)), [x2 >= 1]), x1, x2
    ref, _, _ = make()
    ref.solve(solver="HIGHS")                     # optimal, 2 (not unbounded)
    src, x1, x2 = make()
    linked = gridprox.from_cvxpy(src)
    linked.solve()
    assert_same((ref.status, ref.value), (linked.status, linked.value))
    np.testing.assert_allclose(x1.value, [1.0, 1.0])
    np.testing.assert_allclose(x2.value, [1.0, 1.0])
    p1 = cvxpy.Parameter(value=2.0, id=987655)
    p2 = cvxpy.Parameter(value=2.0, id=987655)
    y = cvxpy.Variable()
    src = cvxpy.Problem(cvxpy.Minimize(p1 * y), [y >= p2])
    linked = gridprox.from_cvxpy(src)
    assert len(linked.parameters()) == 1
    linked.solve()
    src.solve(solver="HIGHS")
    assert linked.value == pytest.approx(src.value)


def test_nested_lists_are_columns_as_in_cvxpy():
    data = [[1, 2], [3, 4]]
    with pytest.warns(UserWarning, match="nested list") as rec:
        want = cvxpy.Constant(data).value
    with pytest.warns(UserWarning, match="nested list"):
        got = gridprox.Constant(data).value
    assert str(rec[0].message) == NESTED_LIST_WARNING
    np.testing.assert_array_equal(got, want)      # [[1, 3], [2, 4]]
    np.testing.assert_array_equal(gridprox.Constant([1, 2]).value, cvxpy.Constant([1, 2]).value)

    def build(cp):          # the list goes in through an operator, as in a script
        X = cp.Variable((2, 2))
        return cp.Problem(cp.Minimize(cp.sum(cp.multiply([[1, 2], [3, 4]], X))), [X >= [[0, 1], [2, 3]]])
    ref, got, _, _ = solve_both(build)
    assert_same(ref, got)

    P, Q = gridprox.Parameter((2, 2)), cvxpy.Parameter((2, 2))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        P.value, Q.value = data, data
    np.testing.assert_array_equal(P.value, Q.value)


# ------------------------------------------------------------------------------- crashes
def test_sign_of_a_product_of_signed_parameters():
    for sa, sb in (("nonneg", "nonpos"), ("nonpos", "nonpos"), ("nonneg", "nonneg")):
        want = cvxpy.multiply(cvxpy.Parameter(**{sa: True}), cvxpy.Parameter(**{sb: True})).sign
        got = gridprox.multiply(gridprox.Parameter(**{sa: True}), gridprox.Parameter(**{sb: True})).sign
        assert got == want


def test_variable_with_an_initial_value():
    v0 = np.array([1.0, 2.0])
    np.testing.assert_array_equal(gridprox.Variable(2, value=v0).value, cvxpy.Variable(2, value=v0).value)
    np.testing.assert_array_equal(gridprox.Variable((2, 2), value=np.eye(2)).value,
                                  cvxpy.Variable((2, 2), value=np.eye(2)).value)
    assert gridprox.Variable(2, integer=np.bool_(False)).shape == (2,)     # an attribute switched off
    with pytest.raises(gridprox.ModelingError, match="boolean"):
        gridprox.Variable(3, boolean=[(0,)])                               # cvxpy's index-list form


@pytest.mark.parametrize("shapes", [((1,), (2, 3)), ((1, 1), (2, 3)), ((1, 1), (3,)), ((2, 3), (1,)),
                                    ((1,), (1,)), ((1,), (1, 1))])
def test_star_with_a_one_entry_side(shapes):
    sa, sb = shapes
    M = np.arange(1.0, 1.0 + np.prod(sb)).reshape(sb)

    def product(cp):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cp.Parameter(sa, value=np.full(sa, 2.0)) * M
    want, got = product(cvxpy), product(gridprox)
    assert got.shape == want.shape
    np.testing.assert_allclose(got.value, np.reshape(want.value, want.shape))

    def build(cp):          # the same product inside an LP, through from_cvxpy too
        x = cp.Variable(sb)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scaled = cp.Parameter(sa, value=np.full(sa, 2.0)) * x
        return cp.Problem(cp.Minimize(cp.sum(scaled)), [x >= M])
    ref, got, r, g = solve_both(build)
    assert_same(ref, got)
    linked = gridprox.from_cvxpy(r)
    linked.solve()
    assert linked.value == pytest.approx(ref[1])
    back = g.to_cvxpy()
    back.solve(solver="HIGHS")
    assert back.value == pytest.approx(ref[1])


@pytest.mark.parametrize("solver", ["highs", "pdhg", "cvxpy"])
def test_problem_without_variables(solver):
    P = {"p": 1.0}

    def build(sense, rhs):
        def make(cp):
            p = cp.Parameter(value=P["p"])
            return cp.Problem(sense(cp)(cp.Constant(3.0) + 2 * p), [cp.Constant(1.0) <= rhs, p <= 2])
        return make
    for sense in (lambda cp: cp.Minimize, lambda cp: cp.Maximize):
        ref, got, _, g = solve_both(build(sense, 2.0), solver=solver)
        assert_same(ref, got)                                   # optimal, 5
        assert g.constraints[0].dual_value is None              # cvxpy has no duals here either
        ref, got, _, _ = solve_both(build(sense, 0.0), solver=solver)
        assert got[0] == ref[0] == "infeasible"
    P["p"] = 3.0                                                # p <= 2 now fails
    ref, got, _, _ = solve_both(build(lambda cp: cp.Minimize, 2.0), solver=solver)
    assert got[0] == ref[0] == "infeasible"


@pytest.mark.parametrize("solver", ["highs", "pdhg"])
def test_contradictory_simple_bounds_are_infeasible(solver):
    def single(cp):
        x = cp.Variable(2)
        return cp.Problem(cp.Minimize(cp.sum(x)), [x >= np.array([0.0, 2.0]), x <= 1])

    def attribute(cp):
        x = cp.Variable(2, nonneg=True)
        return cp.Problem(cp.Minimize(cp.sum(x)), [x[1] <= -1])

    def with_bounds(cp):
        x = cp.Variable(2, bounds=[-1, 1])
        return cp.Problem(cp.Minimize(cp.sum(x)), [2 * x[0] >= 4])
    for build in (single, attribute, with_bounds):
        ref, got, _, _ = solve_both(build, solver=solver)
        assert ref[0] == "infeasible"
        assert_same(ref, got)
    # Parameter bounds that cross after a first solve: gridprox, from_cvxpy and CVXPY_PDHG
    lo_g, lo_c = gridprox.Parameter(value=0.0), cvxpy.Parameter(value=0.0)
    g = gridprox.Problem(gridprox.Minimize(gridprox.Variable(bounds=[lo_g, 1.0])))
    c = cvxpy.Problem(cvxpy.Minimize(cvxpy.Variable(bounds=[lo_c, 1.0])))
    linked = gridprox.from_cvxpy(c)
    for value in (0.0, 2.0):
        lo_g.value = lo_c.value = value
        c.solve(solver="HIGHS")
        want = (c.status, c.value)
        g.solve(solver=solver)
        assert_same(want, (g.status, g.value))
        linked.solve(solver=solver)
        assert_same(want, (linked.status, linked.value))
        c.solve(solver=gridprox.CVXPY_PDHG, gridprox_solver=solver)
        assert_same(want, (c.status, c.value))


def test_cvxpy_pdhg_on_dgp_problems_behaves_like_highs():
    def lp_like():          # a monomial program: linear after cvxpy's log transform
        x, y = cvxpy.Variable(pos=True), cvxpy.Variable(pos=True)
        a = cvxpy.Parameter(pos=True, value=2.0)
        return cvxpy.Problem(cvxpy.Minimize(3 * x * y ** 2), [x >= a, y >= 1.5, x * y <= 10])

    def exp_cone():         # a posynomial: an exponential cone neither solver takes
        x, y = cvxpy.Variable(pos=True), cvxpy.Variable(pos=True)
        return cvxpy.Problem(cvxpy.Minimize(x + y), [x * y >= 1])
    ref = lp_like()
    ref.solve(solver="HIGHS", gp=True)
    got = lp_like()
    got.solve(solver=gridprox.CVXPY_PDHG, gp=True, gridprox_solver="highs")
    assert (got.status, got.value) == (ref.status, pytest.approx(ref.value))
    with pytest.raises(cvxpy.error.SolverError, match="cannot solve") as want:
        exp_cone().solve(solver="HIGHS", gp=True)
    with pytest.raises(cvxpy.error.SolverError, match="cannot solve") as err:
        exp_cone().solve(solver=gridprox.CVXPY_PDHG, gp=True)
    assert str(err.value) == str(want.value).replace("HIGHS", "GRIDPROX_PDHG")

    def late_cone():        # exponential cones that cvxpy's solver check does not see
        X = cvxpy.Variable((2, 2), pos=True)
        return cvxpy.Problem(cvxpy.Minimize(cvxpy.pf_eigenvalue(X)), [X >= 1])
    data, _, _ = late_cone().get_problem_data(solver="CLARABEL", gp=True)
    assert data["dims"].exp > 0                 # not an LP: only a conic solver takes it
    with pytest.raises(cvxpy.error.SolverError, match="GRIDPROX_PDHG cannot solve this problem"):
        late_cone().solve(solver=gridprox.CVXPY_PDHG, gp=True)


def test_gridprox_problem_accepts_the_cvxpy_pdhg_object():
    def build(cp):
        x = cp.Variable(2)
        return cp.Problem(cp.Minimize(cp.sum(x)), [x >= 1])
    ref, got, _, g = solve_both(build, solver=gridprox.CVXPY_PDHG)
    assert_same(ref, got)
