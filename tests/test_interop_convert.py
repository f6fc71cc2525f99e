"""from_cvxpy / to_cvxpy: the same LP in both layers, Parameters kept, answers flowing back."""
import cvxpy
import numpy as np
import pytest
import scipy.sparse as sp

import gridprox
from gridprox.compile import compiler
from gridprox.modeling.demo import capacity_expansion, synthetic_data

pytestmark = pytest.mark.filterwarnings("ignore:The problem includes expressions that don't support CPP")


def _atom_zoo(cp, r):
    """An LP touching every converted atom; returns (problem, constraints, variables)."""
    x = cp.Variable((3, 4), name="x")
    v = cp.Variable(4, nonneg=True, name="v")
    w = cp.Variable(2, name="w", bounds=[-1.0, 2.0])
    p = cp.Parameter((3, 4), name="p", nonneg=True, value=r["P"])
    S = sp.csr_matrix(r["S"])
    cons = [
        cp.sum(x, axis=1) == r["b"],
        cp.vstack([x[0], v]) <= 3,
        cp.hstack([x[:, 0], w]) >= -2,
        cp.reshape(x, (4, 3), order="F")[1] <= cp.cumsum(v)[:3] + 1,
        cp.diff(v) <= 0.5,
        cp.trace(x[:, :3]) >= -1,
        cp.multiply(p, x) <= 2,
        S @ v <= 4,
        x[[0, 2], 1] >= -1.5,
        x.T[1] / 2 <= 1,
        cp.max(x) <= 2.5,
        cp.abs(w - 0.5) <= 1,
        cp.concatenate([v, w]) <= 2.5,
    ]
    obj = (cp.sum(cp.multiply(r["C"], x)) + r["c"] @ v + cp.norm1(x[1] - 1) + cp.norm_inf(w)
           + cp.sum(cp.pos(x[2] - 0.5)) + cp.sum(cp.neg(v - 1)) + cp.sum(cp.maximum(x[0], -x[0], 0.2))
           - cp.min(v) - cp.sum(cp.minimum(w, 0)))
    return cp.Problem(cp.Minimize(obj), cons), cons, (x, v, w), p


@pytest.fixture
def data():
    rng = np.random.default_rng(2)
    return {"P": rng.random((3, 4)) + 0.5, "S": (rng.random((2, 4)) > 0.5) * 1.0, "b": rng.standard_normal(3),
            "C": rng.standard_normal((3, 4)), "c": rng.random(4)}


def test_from_cvxpy_solution_flows_back(data):
    ref, ref_cons, ref_vars, _ = _atom_zoo(cvxpy, data)
    ref.solve(solver=cvxpy.HIGHS)
    ref_duals = [c.dual_value for c in ref_cons]

    cvx, cvx_cons, cvx_vars, cvx_p = _atom_zoo(cvxpy, data)
    gp = gridprox.from_cvxpy(cvx)
    assert {p.name() for p in gp.parameters()} == {"p"}           # the Parameter stays a Parameter
    value = gp.solve(solver="highs")
    assert cvx.status == gp.status == "optimal"
    assert value == pytest.approx(ref.value, rel=1e-7) and cvx.value == pytest.approx(ref.value, rel=1e-7)
    for c, d in zip(cvx_cons, ref_duals):
        np.testing.assert_allclose(c.dual_value, d, atol=1e-6, err_msg=str(c))
    for v in cvx_vars:
        assert v.value is not None
    assert cvx.objective.value == pytest.approx(ref.value, rel=1e-7)   # values consistent with cvxpy's atoms
    assert all(c.violation().max() <= 1e-7 for c in cvx_cons)
    assert cvx.solver_stats.solver_name.startswith("gridprox")

    # a new cvxpy Parameter value is picked up by the gridprox problem without recompiling
    calls = []
    real = compiler.compile_problem
    compiler.compile_problem = lambda prob: calls.append(prob) or real(prob)
    try:
        cvx_p.value = data["P"] * 3
        gp.solve()
    finally:
        compiler.compile_problem = real
    ref2, _, _, p2 = _atom_zoo(cvxpy, dict(data, P=data["P"] * 3))
    ref2.solve(solver=cvxpy.HIGHS)
    assert not calls and cvx.value == pytest.approx(ref2.value, rel=1e-7)


def test_to_cvxpy_round_trip(data):
    gp, gp_cons, gp_vars, gp_p = _atom_zoo(gridprox, data)
    cvx = gp.to_cvxpy()
    assert isinstance(cvx, cvxpy.Problem) and {p.name() for p in cvx.parameters()} == {"p"}
    cvx.solve(solver=cvxpy.HIGHS)
    gp.solve()
    assert cvx.value == pytest.approx(gp.value, rel=1e-7)
    for a, b in zip(cvx.constraints, gp_cons):
        np.testing.assert_allclose(a.dual_value, b.dual_value, atol=1e-6, err_msg=str(b))
    back = gridprox.from_cvxpy(cvx)
    assert back.solve() == pytest.approx(gp.value, rel=1e-7)


def test_from_cvxpy_capacity_expansion_with_parameters():
    data = synthetic_data(48, 2, seed=3)
    data.co2_cap *= 0.3
    cvx, h = capacity_expansion(cvxpy, T=48, Z=2, params=True, data=data)
    gp = gridprox.from_cvxpy(cvx)
    gp.solve()
    gp_value = cvx.value
    gp_prices = np.concatenate([b.dual_value for b in h["balance"]])
    ref, hr = capacity_expansion(cvxpy, T=48, Z=2, params=True, data=data)
    ref.solve(solver=cvxpy.HIGHS)
    assert gp_value == pytest.approx(ref.value, rel=1e-7)
    np.testing.assert_allclose(gp_prices, np.concatenate([b.dual_value for b in hr["balance"]]), atol=1e-6)
    assert gp.parametric.depends_on_params["A"]            # availability x capacity kept parametric


def test_from_cvxpy_refuses_non_lp():
    x = cvxpy.Variable(3)
    with pytest.raises(gridprox.ModelingError, match="power|square|quad"):
        gridprox.from_cvxpy(cvxpy.Problem(cvxpy.Minimize(cvxpy.sum_squares(x))))
    with pytest.raises(gridprox.ModelingError, match="integer"):
        gridprox.from_cvxpy(cvxpy.Problem(cvxpy.Minimize(cvxpy.sum(cvxpy.Variable(2, integer=True)))))
