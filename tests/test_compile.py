"""The compiler: bounds instead of rows, duals from reduced costs, parameter refill without
recompiling, and batches of LPs from parameter values."""
import time

import cvxpy
import numpy as np
import pytest

import gridprox
import gridprox.solvers
from gridprox.compile import compiler
from gridprox.modeling.demo import capacity_expansion, synthetic_data
from test_modeling_support import assert_same, solve_both


@pytest.fixture
def count_compiles(monkeypatch):
    calls = []
    real = compiler.compile_problem

    def counting(problem):
        calls.append(problem)
        return real(problem)
    monkeypatch.setattr(compiler, "compile_problem", counting)
    return calls


def test_bound_duals_known_answer_and_cvxpy():
    """min -3x0 - 2x1 - x2, x <= (1, 2, 3), sum(x) <= 4: x = (1, 2, 1); the sum's dual is 1
    and the bounds' duals are (2, 1, 0) - taken from HiGHS's reduced costs."""
    def build(cp):
        x = cp.Variable(3, name="x")
        cons = [x <= np.array([1.0, 2.0, 3.0]), cp.sum(x) <= 4, x >= -5]
        return cp.Problem(cp.Minimize(np.array([-3.0, -2.0, -1.0]) @ x), cons), cons
    res = solve_both(build)
    assert_same(res)
    prob, cons = res["gridprox"]
    np.testing.assert_allclose(cons[0].dual_value, [2.0, 1.0, 0.0], atol=1e-9)
    assert cons[1].dual_value == pytest.approx(1.0)
    lp = prob.compile()
    assert lp.num_rows == 1                                   # only sum(x) <= 4 is a row
    np.testing.assert_array_equal(lp.ux, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(lp.lx, [-5.0, -5.0, -5.0])


def test_bound_constraint_tied_with_attribute_takes_the_dual():
    """x <= 10 duplicates the attribute bound: the user's constraint carries the multiplier."""
    x = gridprox.Variable(2, bounds=[0, 10], name="x")
    cons = [x <= 10, gridprox.sum(x) <= 15]
    prob = gridprox.Problem(gridprox.Minimize(-x[0] - 2 * x[1]), cons)
    assert prob.solve() == pytest.approx(-25.0)
    np.testing.assert_allclose(cons[0].dual_value, [0.0, 1.0], atol=1e-9)
    assert cons[1].dual_value == pytest.approx(1.0)


def test_bounds_merge_scale_and_parameters():
    p = gridprox.Parameter(2, name="p", value=np.array([0.5, -0.2]))
    x = gridprox.Variable(4, nonneg=True, name="x")
    y = gridprox.Variable(2, name="y", bounds=[None, 7.0])
    cons = [x <= 10, 2 * x[1] <= 3, x[2:] >= 0.5, y >= p, -y >= -3, x[0] + y[0] >= 1]
    prob = gridprox.Problem(gridprox.Minimize(gridprox.sum(x) + gridprox.sum(y)), cons)
    lp = prob.compile()
    assert lp.num_rows == 1
    np.testing.assert_allclose(lp.lx, [0, 0, 0.5, 0.5, 0.5, -0.2])
    np.testing.assert_allclose(lp.ux, [10, 1.5, 10, 10, 3, 3])
    p.value = np.array([1.0, 2.0])                            # refill moves the parameter bound
    np.testing.assert_allclose(prob.compile().lx[4:], [1.0, 2.0])
    assert prob.parametric.depends_on_params == {"c": False, "rows": False, "bounds": True, "A": False}


def test_parameter_bound_clashing_with_another_bound_stays_a_row():
    """max(p, 0) is not affine in p, so x >= p on a nonneg x must stay a row."""
    def build(cp):
        p = cp.Parameter(3, name="p", value=np.array([1.0, -1.0, 2.0]))
        x = cp.Variable(3, nonneg=True, name="x")
        cons = [x >= p, cp.sum(x) >= 4]
        return cp.Problem(cp.Minimize(np.array([1.0, 2.0, 3.0]) @ x), cons), cons
    res = solve_both(build)
    assert_same(res)
    assert res["gridprox"][0].compile().num_rows == 4


def test_parameters_everywhere_resolved_like_cvxpy(count_compiles):
    """Parameters in c, row bounds, variable bounds and matrix coefficients; three rounds of
    new values, each solved by gridprox (refill only) and by cvxpy."""
    r = np.random.default_rng(3)
    probs = {}
    for cp in (cvxpy, gridprox):
        c = cp.Parameter(4, name="c")
        b = cp.Parameter(3, name="b")
        ub = cp.Parameter(4, name="ub")
        cf = cp.Parameter(4, name="cf", nonneg=True)
        x = cp.Variable(4, name="x")
        cap = cp.Variable(nonneg=True, name="cap")
        A = r.standard_normal((3, 4)) if cp is cvxpy else probs["cvxpy"][2]
        cons = [A @ x <= b, x <= ub, x <= cp.multiply(cf, cap), x >= -1, cap <= 5]
        prob = cp.Problem(cp.Maximize(c @ x - 0.3 * cap), cons)
        probs[cp.__name__] = (prob, cons, A, (c, b, ub, cf))
    for k in range(3):
        vals = (r.standard_normal(4), r.random(3) + 0.5, r.random(4) + 0.5, r.random(4))
        for name in probs:
            for par, v in zip(probs[name][3], vals):
                par.value = v
            probs[name][0].solve(solver="HIGHS")
        assert_same({n: probs[n][:2] for n in probs})
    assert len(count_compiles) == 1
    pp = probs["gridprox"][0].parametric
    assert pp.depends_on_params == {"c": True, "rows": True, "bounds": True, "A": True}
    c, b, ub, cf = probs["gridprox"][3]
    assert [pp.enters(p) for p in (c, b, ub, cf)] == [
        {"c": True, "rows": False, "bounds": False, "A": False},
        {"c": False, "rows": True, "bounds": False, "A": False},
        {"c": False, "rows": False, "bounds": True, "A": False},
        {"c": False, "rows": False, "bounds": False, "A": True}]


def _new_data(T, Z, seed):
    d = synthetic_data(T, Z, seed=seed)
    d.co2_cap *= 0.5
    return d


def _set_params(params, d, Z):
    params["load"].value = d.load
    params["capex"].value = d.capex
    params["vom"].value = d.vom
    params["co2_cap"].value = d.co2_cap
    for z in range(Z):
        params[f"avail_{z}"].value = d.avail[z]


def test_refill_equals_fresh_build(count_compiles):
    T, Z = 24, 2
    prob, h = capacity_expansion(gridprox, T=T, Z=Z, params=True)
    prob.solve()
    first = prob.value
    d = _new_data(T, Z, seed=11)
    _set_params(h["params"], d, Z)
    prob.solve()
    assert len(count_compiles) == 1 and prob.value != pytest.approx(first)

    fresh, hf = capacity_expansion(gridprox, T=T, Z=Z, params=False, data=d)
    fresh.solve()
    assert prob.value == pytest.approx(fresh.value, rel=1e-9)
    for a, b in zip(h["balance"] + [h["co2"]], hf["balance"] + [hf["co2"]]):
        np.testing.assert_allclose(a.dual_value, b.dual_value, atol=1e-7)
    lp, lf = prob.compile(), fresh.compile()
    np.testing.assert_allclose(lp.A.toarray(), lf.A.toarray())
    for name in ("c", "lc", "uc", "lx", "ux"):
        np.testing.assert_allclose(getattr(lp, name), getattr(lf, name), err_msg=name)
    assert lp.c0 == pytest.approx(lf.c0)


def test_batch_equals_separate_compiles():
    T, Z, B = 24, 2, 3
    prob, h = capacity_expansion(gridprox, T=T, Z=Z, params=True)
    pp = prob.parametric
    datas = [_new_data(T, Z, seed=20 + k) for k in range(B)]
    values = [{"load": d.load, "co2_cap": d.co2_cap, "avail_0": d.avail[0], "avail_1": d.avail[1]} for d in datas]
    batch = pp.batch(values)
    assert batch.batch_size == B and batch.A_values.shape == (B, batch.A.nnz)
    stacked = pp.batch({h["params"][k]: np.stack([v[k] for v in values]) for k in values[0]})
    for name in ("c", "lc", "uc", "lx", "ux", "c0", "A_values"):
        np.testing.assert_array_equal(getattr(batch, name), getattr(stacked, name), err_msg=name)
    results = gridprox.solve_lp(batch, solver="highs")
    for k, d in enumerate(datas):
        single = pp.lp(values[k])
        sk = batch.scenario(k)
        np.testing.assert_array_equal(sk.A.toarray(), single.A.toarray())
        for name in ("c", "lc", "uc", "lx", "ux"):
            np.testing.assert_array_equal(getattr(sk, name), getattr(single, name), err_msg=name)
        fresh, _ = capacity_expansion(gridprox, T=T, Z=Z, params=False, data=d)
        fresh.solve()
        assert results[k].objective == pytest.approx(fresh.value, rel=1e-9)


def test_second_solve_of_8760_hour_model_only_refills(monkeypatch, count_compiles):
    """1 zone x 8760 h with every input a Parameter: the second solve does not recompile;
    the LP it hands the backend carries the new values; the refill takes milliseconds."""
    seen = []

    def fake_solve_lp(lp, solver="highs", **opts):
        seen.append(lp)
        return gridprox.Result(status=gridprox.OPTIMAL, x=np.zeros(lp.num_vars), y=np.zeros(lp.num_rows),
                               z=np.zeros(lp.num_vars), objective=lp.c0, solver="fake")
    monkeypatch.setattr(gridprox.solvers, "solve_lp", fake_solve_lp)
    prob, h = capacity_expansion(gridprox, T=8760, Z=1, params=True)
    prob.solve()
    d = _new_data(8760, 1, seed=5)
    _set_params(h["params"], d, 1)
    t0 = time.perf_counter()
    prob.solve()
    second = time.perf_counter() - t0
    assert len(count_compiles) == 1
    row = prob.parametric.row_maps[h["balance"][0].id][0]
    np.testing.assert_allclose(seen[1].uc[row:row + 8760], d.load[:, 0])
    assert not np.allclose(seen[0].A.data, seen[1].A.data)           # availability x capacity refilled
    t0 = time.perf_counter()
    prob.parametric.lp()
    refill = time.perf_counter() - t0
    assert refill < 0.25 and second < 1.0, (refill, second)
