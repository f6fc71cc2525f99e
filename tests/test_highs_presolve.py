"""presolve="highs": HiGHS's presolve, a gridprox backend on the reduced LP, HiGHS's postsolve.
Every answer is judged on the original LP by tests/kkt.py (numpy only) against HiGHS's simplex."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from gridprox import LinearProgram, SolverError, read_lp
from gridprox.solvers import SolverInputError, solve_lp
from gridprox.solvers import highs_presolve
from kkt import assert_optimal, highs_reference, kkt_measures
from test_backends import infeasible_lp, random_lp, unbounded_lp
from test_presolve import with_reducible_parts

INF = np.inf
DATA = Path(__file__).parent / "data"


def assert_exact(lp, res, ref=None):
    """An exact solve (HiGHS inside) postsolved: KKT to rounding, objective equal to HiGHS's."""
    ref = ref or highs_reference(lp)
    assert res.status == "optimal", res
    m = kkt_measures(lp, res.x, res.y, res.z)
    for key in ("primal", "dual", "gap", "complementarity"):
        assert m[key] < 1e-8, (key, m)
    assert res.objective == pytest.approx(ref["objective"], rel=1e-9, abs=1e-9)
    return m


@pytest.mark.parametrize("name", ["sc50a.mps", "kb2.mps"])
def test_netlib_exact_inner_solve_postsolves_to_optimal_duals(name):
    lp = read_lp(DATA / name)
    res = solve_lp(lp, "highs", presolve="highs")
    assert "HiGHS presolve" in res.message and res.solver == "highs-presolve+highs"
    reduced = highs_presolve._Reduced(lp).lp
    assert reduced.num_rows < lp.num_rows            # the test means something: HiGHS reduced it
    assert_exact(lp, res)


@pytest.mark.parametrize("seed", range(3))
def test_reducible_lp_duals_equal_highs(seed):
    """An LP with a unique primal-dual optimum: the postsolved duals are HiGHS's."""
    lp = with_reducible_parts(seed)
    ref = highs_reference(lp)
    res = solve_lp(lp, "highs", presolve="highs")
    assert_exact(lp, res, ref)
    np.testing.assert_allclose(res.y, ref["y"], atol=1e-7)
    np.testing.assert_allclose(res.z, ref["z"], atol=1e-7)


def test_pdhg_on_the_reduced_lp():
    lp = read_lp(DATA / "sc50a.mps")
    res = solve_lp(lp, "pdhg", presolve="highs", tol=1e-6)
    assert set(res.stages) == {"highs_presolve", "pdhg", "postsolve"}
    assert res.iterations == res.stages["pdhg"]["iterations"] > 0
    assert_optimal(lp, res, 1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_pdhg_status_is_the_original_lps(seed):
    """"optimal" only where the postsolved point passes tol on the original LP (postsolve can
    spread a reduced LP's error); otherwise optimal_inaccurate naming the measure."""
    lp = random_lp(seed, m=20, n=30)
    tol = 1e-6
    res = solve_lp(lp, "pdhg", presolve="highs", tol=tol)
    m = kkt_measures(lp, res.x, res.y, res.z)
    if res.status == "optimal":
        assert_optimal(lp, res, tol)
    else:
        assert res.status == "optimal_inaccurate", res
        worst = res.message.split("after postsolve ")[1].split()[0]
        assert res.residuals[worst] > tol
        assert m["gap"] < 1e-3 and m["primal"] < 1e-3 and m["dual"] < 1e-3


def test_presolve_solves_the_lp_entirely():
    """Singleton rows and dominated columns: HiGHS reduces it to nothing; the duals of the
    rows come back from postsolve alone."""
    lp = LinearProgram(c=[1.0, -1.0, 0.5], A=sp.csr_matrix([[2.0, 0, 0], [0, 1.0, 0], [1.0, 0, 1.0]]),
                       lc=[2.0, -INF, 1.5], uc=[INF, 3.0, INF], lx=[0, 0, 0], ux=[5, 5, 5], c0=0.25)
    assert highs_presolve._Reduced(lp).empty
    res = solve_lp(lp, "pdhg", presolve="highs")
    assert res.solver == "highs-presolve" and res.iterations == 0
    m = assert_exact(lp, res)
    assert m["primal_objective"] == pytest.approx(-1.5)
    np.testing.assert_allclose(res.y, [0.25, -1.0, 0.5])


def test_infeasible_and_unbounded():
    res = solve_lp(infeasible_lp(), "pdhg", presolve="highs")
    assert res.status == "infeasible" and res.x is None
    res = solve_lp(unbounded_lp(), "pdhg", presolve="highs")
    assert res.status == "unbounded" and res.x is None


def sweep_batch():
    """Four scenarios of one LP: c scaled, a bound loosened (both keep it feasible and bounded);
    scenario 3 also fixes a column at its optimal value, so its reduced LP differs."""
    base = random_lp(3, m=30, n=40)
    B = 4
    c = base.c * (1 + 0.1 * np.arange(B))[:, None]
    lx, ux = np.tile(base.lx, (B, 1)), np.tile(base.ux, (B, 1))
    boxed = np.flatnonzero(np.isfinite(base.lx) & np.isfinite(base.ux) & (base.lx < base.ux))
    ux[:, boxed[0]] += 0.5 * np.arange(B)
    j = boxed[1]
    lx[3, j] = ux[3, j] = highs_reference(base)["x"][j]
    return LinearProgram(c=c, A=base.A, lc=base.lc, uc=base.uc, lx=lx, ux=ux, c0=base.c0)


def test_batch_groups_scenarios_by_reduced_lp(monkeypatch):
    lp = sweep_batch()
    calls = []
    inner = highs_presolve._solve_inner

    def spy(sub, solver, options):
        calls.append(sub.batch_size or 1)
        return inner(sub, solver, options)

    monkeypatch.setattr(highs_presolve, "_solve_inner", spy)
    seen = {}
    results = solve_lp(lp, "highs", presolve="highs", on_result=lambda k, r: seen.setdefault(k, r))
    assert sorted(calls) == [1, 3]          # scenarios 0-2 stacked, scenario 3 alone
    assert sorted(seen) == [0, 1, 2, 3]
    for k, res in enumerate(results):
        assert_exact(lp.scenario(k), res)


def test_batch_with_pdhg():
    """sc50a with its costs scaled: one reduced LP, solved as one PDHG batch."""
    lp = read_lp(DATA / "sc50a.mps")
    batch = LinearProgram.stack([replace(lp, c=lp.c * s) for s in (1.0, 1.5, 2.0)])
    tol = 1e-6
    results = solve_lp(batch, "pdhg", presolve="highs", tol=tol)
    for k, res in enumerate(results):
        assert res.stages["pdhg"]["iterations"] > 0
        assert_optimal(batch.scenario(k), res, tol)
    assert any("resumed" in res.message for res in results)   # a postsolved point missed tol at first


def test_batch_with_crossed_bounds():
    lp = sweep_batch()
    lx, ux = lp.lx.copy(), lp.ux.copy()
    lx[1, 0], ux[1, 0] = 5.0, 4.0
    crossed = LinearProgram(c=lp.c, A=lp.A, lc=lp.lc, uc=lp.uc, lx=lx, ux=ux, c0=lp.c0)
    results = solve_lp(crossed, "highs", presolve="highs")
    assert results[1].status == "infeasible"
    for k in (0, 2, 3):
        assert_exact(crossed.scenario(k), results[k])


def test_refusals():
    lp = random_lp(0)
    with pytest.raises(SolverInputError, match="warm_start"):
        solve_lp(lp, "pdhg", presolve="highs", warm_start=(np.zeros(lp.num_vars), np.zeros(lp.num_rows)))
    with pytest.raises(SolverError, match="'highs'"):
        solve_lp(lp, "pdhg", presolve="HiGHS-please")
