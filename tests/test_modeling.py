"""gridprox's modelling layer against cvxpy: atoms, LPs, duals, statuses, a CEM, a script."""
import textwrap

import cvxpy
import numpy as np
import pytest
import scipy.sparse as sp

import gridprox
from gridprox.modeling.demo import capacity_expansion, synthetic_data
from test_modeling_support import assert_same, form_value, solve_both

rng = np.random.default_rng(7)
XV, VV, PV = rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal((3, 4))
M = rng.standard_normal((5, 3))
S = sp.random(4, 6, density=0.4, random_state=1, format="csr")
MASK = rng.random((3, 4)) > 0.5

ATOMS = {
    "add_scalar": lambda cp, x, v, p: x + 1,
    "sub_broadcast": lambda cp, x, v, p: x - v,
    "neg": lambda cp, x, v, p: -x,
    "scale": lambda cp, x, v, p: 2 * x,
    "div": lambda cp, x, v, p: x / 4,
    "div_array": lambda cp, x, v, p: v / np.arange(1, 5),
    "index_int": lambda cp, x, v, p: x[1],
    "index_col": lambda cp, x, v, p: x[:, 2],
    "index_slices": lambda cp, x, v, p: x[1:, ::2],
    "index_intarray": lambda cp, x, v, p: x[[0, 2]],
    "index_neg_step": lambda cp, x, v, p: v[::-1],
    "index_bool": lambda cp, x, v, p: x[MASK],
    "index_pair": lambda cp, x, v, p: x[2, 3],
    "transpose": lambda cp, x, v, p: x.T,
    "sum_all": lambda cp, x, v, p: cp.sum(x),
    "sum_axis0": lambda cp, x, v, p: cp.sum(x, axis=0),
    "sum_axis1_keep": lambda cp, x, v, p: cp.sum(x, axis=1, keepdims=True),
    "diff_axis1": lambda cp, x, v, p: cp.diff(x, axis=1),
    "diff_k2": lambda cp, x, v, p: cp.diff(v, k=2),
    "hstack_vec": lambda cp, x, v, p: cp.hstack([v, 2 * v]),
    "hstack_mat": lambda cp, x, v, p: cp.hstack([x, x[:, :2]]),
    "vstack": lambda cp, x, v, p: cp.vstack([x, v]),
    "reshape_F": lambda cp, x, v, p: cp.reshape(x, (4, 3), order="F"),
    "reshape_C": lambda cp, x, v, p: cp.reshape(x, (2, 6), order="C"),
    "vec": lambda cp, x, v, p: cp.vec(x, order="F"),
    "multiply_const": lambda cp, x, v, p: cp.multiply(np.arange(4.0), x),
    "multiply_param": lambda cp, x, v, p: cp.multiply(p, x),
    "param_scalar_times_vec": lambda cp, x, v, p: p[0, 1] * v,
    "star_of_vectors_is_matmul": lambda cp, x, v, p: p[0] * v,
    "param_rows_sum": lambda cp, x, v, p: cp.sum(cp.multiply(p, x), axis=1),
    "matmul_left": lambda cp, x, v, p: M @ x,
    "matmul_right": lambda cp, x, v, p: x @ np.ones((4, 2)),
    "matvec": lambda cp, x, v, p: x @ np.arange(4.0),
    "vecmat_sparse": lambda cp, x, v, p: v @ S,
    "sparse_matvec": lambda cp, x, v, p: S.T @ v,
    "param_matvec": lambda cp, x, v, p: p @ v,
    "vec_param_mat": lambda cp, x, v, p: v @ p.T,
    "matmul_fn": lambda cp, x, v, p: cp.matmul(M, x),
    "trace": lambda cp, x, v, p: cp.trace(x[:, :3]),
    "diag_vec": lambda cp, x, v, p: cp.diag(v),
    "diag_mat": lambda cp, x, v, p: cp.diag(x[:, 1:]),
    "kron_left": lambda cp, x, v, p: cp.kron(np.array([[1.0, 2.0], [0.0, -1.0]]), x[:2, :3]),
    "kron_right": lambda cp, x, v, p: cp.kron(x[:2, :3], np.array([[1.0, 2.0]])),
    "param_offset": lambda cp, x, v, p: x + 3 * p - 1,
    "sum_list": lambda cp, x, v, p: cp.sum(x[0]) + cp.sum(x[1]) - v[0],
}


@pytest.mark.filterwarnings("ignore:(?s).*resulted in matrix multiplication")
@pytest.mark.parametrize("name", sorted(ATOMS))
def test_affine_atoms_match_cvxpy(name):
    """Same value three ways: gridprox's sparse form, gridprox's numeric path, cvxpy."""
    vals = {}
    for cp in (cvxpy, gridprox):
        x, v = cp.Variable((3, 4), name="x"), cp.Variable(4, name="v")
        p = cp.Parameter((3, 4), name="p", value=PV)
        x.value, v.value = XV, VV
        e = ATOMS[name](cp, x, v, p)
        vals[cp.__name__] = (e, np.asarray(e.value))
        if cp is gridprox:
            vals["form"] = form_value(e, {x: XV, v: VV, p: PV})
    ref = vals["cvxpy"][1]
    assert vals["gridprox"][0].shape == vals["cvxpy"][0].shape
    np.testing.assert_allclose(vals["gridprox"][1], ref, atol=1e-12)
    np.testing.assert_allclose(vals["form"], ref, atol=1e-12)


def test_nd_expressions_match_cvxpy():
    vals = {}
    for cp in (cvxpy, gridprox):
        x = cp.Variable((2, 3, 4), name="x")
        x.value = np.arange(24.0).reshape(2, 3, 4) ** 1.5
        es = [cp.sum(x, axis=(0, 2)), x[1, :, 2], cp.transpose(x, (2, 0, 1)), cp.reshape(x, (6, 4), order="C"),
              x + np.ones(4), cp.sum(x, axis=1, keepdims=True)]
        vals[cp.__name__] = es
    for a, b in zip(vals["cvxpy"], vals["gridprox"]):
        assert a.shape == b.shape
        np.testing.assert_allclose(b.value, a.value, atol=1e-12)
        np.testing.assert_allclose(form_value(b, {b.variables()[0]: b.variables()[0].value}), a.value, atol=1e-12)


def test_cvxpy_solver_names_route_to_backends():
    """solver=cp.CLARABEL (a cvxpy solver) goes through the "cvxpy" backend; same optimum."""
    prob, cons = _random_lp(1)(gridprox)
    ref = prob.solve(solver=gridprox.HIGHS)
    assert prob.solve(solver=gridprox.CLARABEL) == pytest.approx(ref, rel=1e-6)
    assert "CLARABEL" in prob.solver_stats.solver_name.upper()


@pytest.mark.slow
def test_deep_expression_chain_compiles_without_recursion_limits():
    """An expression built in a Python loop 5000 levels deep (scaled sums) still compiles."""
    x = gridprox.Variable(3, name="x")
    e = x[0]
    for k in range(5000):
        e = 0.5 * e + x[k % 3]
    prob = gridprox.Problem(gridprox.Minimize(e), [x >= 1, x <= 2])
    assert prob.solve() == pytest.approx(2.0 * (1 - 0.5 ** 5001), rel=1e-9)


def test_vectorised_8760_hours_no_python_loop_per_hour():
    """A 1-zone x 8760-hour model compiles well within a second: nothing loops per hour."""
    import time
    t0 = time.perf_counter()
    prob, _ = capacity_expansion(gridprox, T=8760, Z=1, params=True)
    lp = prob.compile()
    elapsed = time.perf_counter() - t0
    assert lp.A.nnz > 150_000
    assert elapsed < 5.0, elapsed


# --------------------------------------------------------------------- LPs
def _random_lp(seed, sparse=False, maximize=False):
    r = np.random.default_rng(seed)
    m, me, n = 9, 3, 14
    A = sp.random(m, n, density=0.4, random_state=seed, format="csr") if sparse else r.standard_normal((m, n))
    E = r.standard_normal((me, n))
    x0 = r.random(n)
    b, d = A @ x0 + r.random(m) + 0.1, E @ x0
    c = r.standard_normal(n) + 0.5
    lo = -r.random(n)

    def build(cp):
        x = cp.Variable(n, name="x")
        cons = [A @ x <= b, E @ x == d, x >= lo, x <= 2.0, cp.sum(x) >= 0.1 * n]
        obj = cp.Maximize(-c @ x) if maximize else cp.Minimize(c @ x + 3.0)
        return cp.Problem(obj, cons), cons
    return build


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("sparse", [False, True])
def test_random_lps_match_cvxpy(seed, sparse):
    assert_same(solve_both(_random_lp(seed, sparse)))


def test_maximize_matches_cvxpy():
    assert_same(solve_both(_random_lp(3, maximize=True)))


def test_matrix_variable_lp_transport_problem():
    """A transportation LP on a matrix variable: row/column sums, duals per supply/demand."""
    r = np.random.default_rng(4)
    supply, demand = r.random(4) * 10 + 5, r.random(5) * 6 + 2
    demand *= supply.sum() / demand.sum() * 0.9
    cost = r.random((4, 5)) * 10

    def build(cp):
        ship = cp.Variable((4, 5), nonneg=True, name="ship")
        cons = [cp.sum(ship, axis=1) <= supply, cp.sum(ship, axis=0) == demand, ship[0, :] <= 3]
        return cp.Problem(cp.Minimize(cp.sum(cp.multiply(cost, ship))), cons), cons
    assert_same(solve_both(build))


def test_piecewise_atoms_match_cvxpy():
    r = np.random.default_rng(5)
    A, b = r.standard_normal((12, 5)), r.standard_normal(12)

    def build(cp):
        x = cp.Variable(5, name="x")
        y = cp.Variable(3, name="y")
        cons = [cp.max(x) <= 2, cp.min(x) >= -2, cp.minimum(y, 1) >= 0.3, cp.norm_inf(y) <= 4,
                cp.sum(cp.maximum(x, 0.5 * x, -1)) <= 5, cp.abs(x[0] - 1) <= 0.5]
        obj = (cp.norm1(A @ x - b) + 0.3 * cp.sum(cp.pos(x - 1)) + 0.2 * cp.sum(cp.neg(x + 1))
               + cp.sum(cp.abs(y - 2)) + cp.max(cp.hstack([x[1], y[0] - 3])))
        return cp.Problem(cp.Minimize(obj), cons), cons
    assert_same(solve_both(build))

    def build_max(cp):
        x = cp.Variable(4, name="x")
        cons = [cp.sum(x) <= 3, x <= 2, cp.abs(x) <= 3]
        return cp.Problem(cp.Maximize(cp.min(x) + 0.5 * cp.sum(cp.minimum(x, 0.2)) - cp.norm1(x - 1)), cons), cons
    assert_same(solve_both(build_max))


@pytest.mark.parametrize("kind", ["infeasible", "unbounded", "max_unbounded", "max_infeasible"])
def test_infeasible_and_unbounded_statuses(kind):
    def build(cp):
        x = cp.Variable(3, name="x")
        if kind.endswith("infeasible"):
            cons = [x >= 1, cp.sum(x) <= 2]
        else:
            cons = [x <= 1]
        obj = cp.Maximize(-cp.sum(x)) if kind == "max_infeasible" else (
            cp.Maximize(-cp.sum(x)) if kind == "max_unbounded" else cp.Minimize(cp.sum(x)))
        if kind == "max_unbounded":
            cons = [x >= 1, x[0] <= 0.5 + x[1]]
            obj = cp.Maximize(cp.sum(x))
        return cp.Problem(obj, cons), cons
    res = solve_both(build)
    assert_same(res)
    prob, cons = res["gridprox"]
    assert prob.status in (gridprox.INFEASIBLE, gridprox.UNBOUNDED)
    assert all(v.value is None for v in prob.variables())
    if prob.status == gridprox.UNBOUNDED:
        assert all(c.dual_value is None for c in cons)
    else:   # as cvxpy's: the duals of an infeasible LP are a Farkas certificate (tests/test_cvxpy_api.py)
        ref_prob, ref_cons = res["cvxpy"]
        assert all(c.dual_value is not None for c in cons)
        assert all(c.dual_value is not None for c in ref_cons)


def test_scalar_and_shapes_of_results_like_cvxpy():
    def build(cp):
        s = cp.Variable(name="s")
        v = cp.Variable(2, name="v")
        cons = [s >= 1, v == 2 * s, cp.sum(v) <= 10]
        return cp.Problem(cp.Minimize(s + cp.sum(v)), cons), cons
    res = solve_both(build)
    assert_same(res)
    pg, cg = res["gridprox"]
    assert isinstance(pg.value, float) and isinstance(cg[0].dual_value, float)
    assert isinstance(pg.variables()[0].value, np.ndarray) and pg.variables()[0].value.shape == ()
    assert pg.solver_stats.solver_name and pg.solver_stats.solve_time >= 0


@pytest.mark.slow
@pytest.mark.parametrize("storage", ["slice", "cumsum"])
@pytest.mark.parametrize("params", [False, True])
def test_capacity_expansion_matches_cvxpy(storage, params):
    """3 zones, ring of transport lines, battery cycling, binding CO2 cap: objective and the
    prices (balance duals) and CO2 price equal cvxpy's."""
    data = synthetic_data(72, 3, seed=1)
    data.co2_cap = 0.05 * 0.4 * data.load.sum()

    def build(cp):
        prob, h = capacity_expansion(cp, T=72, Z=3, params=params, storage=storage, data=data)
        return prob, h["balance"] + [h["co2"]]
    res = solve_both(build)
    assert_same(res)
    assert res["gridprox"][1][-1].dual_value > 1.0        # the CO2 cap binds


SCRIPT = textwrap.dedent("""
    import numpy as np
    n, T = 3, 24
    rng = np.random.default_rng(0)
    demand = 5 + rng.random(T)
    price = cp.Parameter(n, nonneg=True, value=np.array([1.0, 2.0, 4.0]))
    cap = cp.Variable(n, nonneg=True)
    gen = cp.Variable((T, n), nonneg=True)
    store = cp.Variable(T)
    cons = [cp.sum(gen, axis=1) + cp.diff(cp.hstack([store[-1:], store])) == demand,
            gen <= np.ones((T, 1)) @ cp.reshape(cap, (1, n), order="C"),
            store >= 0, store <= 4, cp.abs(cp.diff(store)) <= 1]
    obj = cp.Minimize(10 * cp.sum(cap) + cp.sum(gen @ price) + cp.max(cap))
    prob = cp.Problem(obj, cons)
    prob.solve(solver=cp.HIGHS)
    result = (prob.status, prob.value, cons[0].dual_value)
""")


def test_same_script_with_cvxpy_and_gridprox():
    out = {}
    for mod in (cvxpy, gridprox):
        scope = {"cp": mod}
        exec(SCRIPT, scope)
        out[mod.__name__] = scope["result"]
    assert out["gridprox"][0] == out["cvxpy"][0] == "optimal"
    assert out["gridprox"][1] == pytest.approx(out["cvxpy"][1], rel=1e-7)
    np.testing.assert_allclose(out["gridprox"][2], out["cvxpy"][2], atol=1e-6)


def test_readable_expression_strings():
    x = gridprox.Variable(3, name="x")
    y = gridprox.Variable(3, name="y")
    # numbers and sums print as cvxpy prints them (2.0, Sum(x, axis, keepdims))
    assert str(gridprox.abs(x[0] - 1)) == "abs(x[0] - 1.0)"
    assert str(x + 2 * y) == "x + 2.0 * y"
    assert str(-(x - y)) == "-(x - y)"
    assert str(gridprox.sum(x, axis=0)) == "Sum(x, 0, False)"
    assert str(x <= y) == "x <= y" and str(x >= 1) == "1.0 <= x"
