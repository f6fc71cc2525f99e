"""solve_lp and its backends, each checked against an independent reference:
KKT conditions computed here, scipy's linprog marginals, and the HiGHS backend."""
import re

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

import gridprox as gp
from gridprox import LinearProgram, SolverError
from gridprox.solvers import available_solvers, solve_lp
from gridprox.solvers.highs import hipo_available

INF = np.inf


def random_lp(seed, m=12, n=15, density=0.4):
    """A feasible, bounded LP with every kind of row and bound.

    Rows: equalities, >=, <=, ranged and free; columns: [0, inf), (-inf, 0], boxed,
    free and fixed.  Feasible because lc <= A x0 <= uc for an x0 inside the bounds;
    bounded because c = Aᵀy0 + z0 with y0, z0 of the signs the active bounds admit,
    so (y0, z0) is dual feasible."""
    rng = np.random.default_rng(seed)
    A = sp.random(m, n, density=density, random_state=rng, format="csr") * 4 - sp.csr_matrix((m, n))
    A.data -= 2.0
    kinds_x = rng.integers(0, 5, n)                     # 0 lower, 1 upper, 2 box, 3 free, 4 fixed
    lx = np.where(np.isin(kinds_x, (0, 2)), rng.uniform(-1, 1, n), -INF)
    ux = np.where(np.isin(kinds_x, (1, 2)), rng.uniform(1, 3, n), INF)
    lx = np.where(kinds_x == 2, ux - rng.uniform(0.5, 3, n), lx)
    ux = np.where(kinds_x == 1, rng.uniform(-1, 1, n), ux)
    fixed = rng.uniform(-1, 1, n)
    lx, ux = np.where(kinds_x == 4, fixed, lx), np.where(kinds_x == 4, fixed, ux)
    x0 = np.clip(rng.normal(size=n), lx, ux)
    Ax0 = A @ x0
    kinds_r = rng.integers(0, 5, m)                     # 0 eq, 1 >=, 2 <=, 3 ranged, 4 free
    lc = np.where(kinds_r == 0, Ax0, np.where(np.isin(kinds_r, (1, 3)), Ax0 - rng.uniform(0, 1, m), -INF))
    uc = np.where(kinds_r == 0, Ax0, np.where(np.isin(kinds_r, (2, 3)), Ax0 + rng.uniform(0, 1, m), INF))
    y0 = np.where(kinds_r == 1, rng.uniform(0, 2, m), np.where(kinds_r == 2, -rng.uniform(0, 2, m),
                  np.where(kinds_r == 4, 0.0, rng.normal(size=m))))
    z0 = np.where(np.isfinite(lx) & ~np.isfinite(ux), rng.uniform(0, 2, n),
                  np.where(np.isfinite(ux) & ~np.isfinite(lx), -rng.uniform(0, 2, n),
                           np.where(np.isfinite(lx), rng.normal(size=n), 0.0)))
    c = A.T @ y0 + z0
    return LinearProgram(c=c, A=A, lc=lc, uc=uc, lx=lx, ux=ux, c0=rng.normal())


def infeasible_lp():
    """x1 + x2 >= 3 with 0 <= x <= 1."""
    return LinearProgram(c=[1.0, 1.0], A=sp.csr_matrix([[1.0, 1.0]]), lc=[3.0], uc=[INF],
                         lx=[0.0, 0.0], ux=[1.0, 1.0])


def unbounded_lp():
    """min -x1 s.t. x1 - x2 <= 1, x >= 0."""
    return LinearProgram(c=[-1.0, 0.0], A=sp.csr_matrix([[1.0, -1.0]]), lc=[-INF], uc=[1.0],
                         lx=[0.0, 0.0], ux=[INF, INF])


def infeasible_and_dual_infeasible_lp():
    """Both primal and dual infeasible (HiGHS's PDLP without presolve answers 'primal
    infeasible or unbounded').  min -x1 - x2 s.t. x1 - x2 >= 1, x2 - x1 >= 1, x >= 0."""
    return LinearProgram(c=[-1.0, -1.0], A=sp.csr_matrix([[1.0, -1.0], [-1.0, 1.0]]),
                         lc=[1.0, 1.0], uc=[INF, INF], lx=[0.0, 0.0], ux=[INF, INF])


def assert_kkt(lp, res, tol=1e-7):
    """Check (x, y, z) against the LP's optimality conditions with HiGHS's signs."""
    x, y, z = res.x, res.y, res.z
    Ax = lp.A @ x
    scale = 1 + np.abs(lp.c).max()
    assert np.all(Ax >= lp.lc - tol * scale) and np.all(Ax <= lp.uc + tol * scale)
    assert np.all(x >= lp.lx - tol * scale) and np.all(x <= lp.ux + tol * scale)
    np.testing.assert_allclose(lp.c - lp.A.T @ y, z, atol=tol * scale)
    # sign / complementarity: y>0 only at an active lower row bound, y<0 only at an upper
    at_lo, at_hi = np.isclose(Ax, lp.lc, atol=1e-6), np.isclose(Ax, lp.uc, atol=1e-6)
    assert np.all((y <= tol * scale) | at_lo) and np.all((y >= -tol * scale) | at_hi)
    xl, xu = np.isclose(x, lp.lx, atol=1e-6), np.isclose(x, lp.ux, atol=1e-6)
    assert np.all((z <= tol * scale) | xl) and np.all((z >= -tol * scale) | xu)


def linprog_reference(lp):
    """scipy's linprog on the same LP (rows split into <=), returning (objective, y)."""
    A = lp.A.toarray()
    eq = lp.lc == lp.uc
    lo = ~eq & np.isfinite(lp.lc)
    hi = ~eq & np.isfinite(lp.uc)
    A_ub = np.vstack([A[hi], -A[lo]])
    b_ub = np.concatenate([lp.uc[hi], -lp.lc[lo]])
    r = linprog(lp.c, A_ub=A_ub if len(b_ub) else None, b_ub=b_ub if len(b_ub) else None,
                A_eq=A[eq] if eq.any() else None, b_eq=lp.lc[eq] if eq.any() else None,
                bounds=list(zip(np.where(np.isfinite(lp.lx), lp.lx, None), np.where(np.isfinite(lp.ux), lp.ux, None))),
                method="highs-ds")
    assert r.status == 0, r.message
    y = np.zeros(lp.num_rows)
    nh = hi.sum()
    y[hi] += r.ineqlin.marginals[:nh]        # d obj / d uc  (<= 0)
    y[lo] -= r.ineqlin.marginals[nh:]        # d obj / d lc  (>= 0)
    if eq.any():
        y[eq] = r.eqlin.marginals
    return r.fun + lp.c0, y


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("method", ["simplex", "ipm", "ipx", "hipo", "concurrent"])
def test_highs_matches_linprog_and_kkt(seed, method):
    lp = random_lp(seed)
    if method == "hipo" and not hipo_available():   # HiPO comes with highspy-extras of highspy's version
        with pytest.raises(SolverError, match=r"method='hipo' needs .*highspy-extras"):
            solve_lp(lp, solver="highs", method=method)
        return
    res = solve_lp(lp, solver="highs", method=method)
    assert res.status == "optimal" and res.solver == "highs"
    obj, y_ref = linprog_reference(lp)
    assert res.objective == pytest.approx(obj, rel=1e-8, abs=1e-8)
    assert res.objective == pytest.approx(lp.c @ res.x + lp.c0, rel=1e-12)
    assert_kkt(lp, res)
    if method == "simplex":        # a vertex: duals equal linprog's (dual simplex) marginals
        np.testing.assert_allclose(res.y, y_ref, atol=1e-7)
    assert res.residuals["primal"] < 1e-8 and res.residuals["dual"] < 1e-8 and res.residuals["gap"] < 1e-8


def test_highs_dual_signs_on_named_example():
    # min x s.t. x >= 2 (row) -> y = +1 ; min -x s.t. x <= 2 (row) -> y = -1 ; equality: y = c/a
    A = sp.csr_matrix([[1.0]])
    lo = solve_lp(LinearProgram(c=[1.0], A=A, lc=[2.0], uc=[INF], lx=[-INF], ux=[INF]))
    hi = solve_lp(LinearProgram(c=[-1.0], A=A, lc=[-INF], uc=[2.0], lx=[-INF], ux=[INF]))
    eq = solve_lp(LinearProgram(c=[3.0], A=sp.csr_matrix([[2.0]]), lc=[4.0], uc=[4.0], lx=[-INF], ux=[INF]))
    assert (lo.y[0], hi.y[0], eq.y[0]) == pytest.approx((1.0, -1.0, 1.5))
    assert eq.objective == pytest.approx(6.0) and lo.z[0] == pytest.approx(0.0)


@pytest.mark.parametrize("method", ["simplex", "ipm", "choose", "concurrent"])
def test_highs_statuses(method):
    assert solve_lp(infeasible_lp(), method=method).status == "infeasible"
    res = solve_lp(unbounded_lp(), method=method)
    assert res.status == "unbounded" and res.x is None and np.isnan(res.objective)


def test_concurrent_reports_its_winner_and_stops_the_other():
    """method="concurrent": the first racer to settle the LP is the answer, the message names it
    and the other is stopped (no HiGHS thread left running); where both stop at a limit, the
    status says so; one thread cannot race two methods."""
    import threading
    lp = random_lp(11, m=40, n=60)
    res = solve_lp(lp, method="concurrent")
    assert res.status == "optimal" and re.match(r"concurrent: (ipm|simplex) first \((simplex|ipm) stopped\)",
                                                 res.message), res.message
    assert res.objective == pytest.approx(solve_lp(lp, method="simplex").objective, rel=1e-9)
    assert not [t for t in threading.enumerate() if t.name.startswith("race-")]
    winner = res.message.split()[1]
    assert set(res.stages) == {"ipm", "simplex"} and res.stages[winner]["won"]
    assert res.stages[winner]["iterations"] == res.iterations > 0
    assert all(0 <= s["cpu_seconds"] <= res.seconds + 0.05 for s in res.stages.values())
    limited = solve_lp(lp, method="concurrent", simplex_iteration_limit=1, ipm_iteration_limit=1,
                       highs_presolve="off")
    assert limited.status == "iteration_limit" and "ended first" in limited.message
    with pytest.raises(SolverError, match="concurrent.*threads=1"):
        solve_lp(lp, method="concurrent", threads=1)


def test_highs_resolves_unbounded_or_infeasible():
    # HiGHS's own answer here is ambiguous; the backend settles it with a feasibility solve
    res = solve_lp(infeasible_and_dual_infeasible_lp(), method="pdlp", highs_presolve="off")
    assert res.status == "infeasible" and "infeasible or unbounded" in res.message.lower()
    res = solve_lp(unbounded_lp(), method="pdlp", highs_presolve="off")
    assert res.status == "unbounded"


def test_highs_iteration_limit_and_raw_options():
    lp = random_lp(7, m=30, n=40)
    res = solve_lp(lp, method="simplex", simplex_iteration_limit=1, highs_presolve="off")
    assert res.status == "iteration_limit"
    with pytest.raises(SolverError, match="no_such_option"):
        solve_lp(lp, no_such_option=3)
    with pytest.raises(SolverError, match="'barrier'.*choose"):
        solve_lp(lp, method="barrier")


def test_an_older_highspy_is_named_once(monkeypatch, caplog):
    """pyproject pins highspy >= 1.16 (1.15's crossover refuses PDHG points); an older one put ahead
    of it (PYTHONPATH, --no-deps) gets one warning naming both versions, the pinned one none."""
    from gridprox.solvers import highs

    def warnings():
        return [r.getMessage() for r in caplog.records if r.name == "gridprox.highs" and r.levelname == "WARNING"]

    highs._check_version.cache_clear()
    with caplog.at_level("WARNING", logger="gridprox.highs"):
        solve_lp(random_lp(0), "highs")
    assert warnings() == []
    highs._check_version.cache_clear()
    monkeypatch.setattr(highs.importlib.metadata, "version", lambda name: "1.15.1")
    with caplog.at_level("WARNING", logger="gridprox.highs"):
        solve_lp(random_lp(0), "highs")
        solve_lp(random_lp(1), "highs")
    assert len(warnings()) == 1 and "highspy 1.15.1 is older than 1.16" in warnings()[0]
    highs._check_version.cache_clear()


def test_batch_returns_one_result_per_scenario():
    lps = [random_lp(3) for _ in range(3)]
    for k, lp in enumerate(lps):
        lp.c = lp.c * (1 + k)
        lp.c0 = float(k)
    out = solve_lp(LinearProgram.stack(lps), solver="highs")
    assert isinstance(out, list) and len(out) == 3
    for lp, res in zip(lps, out):
        assert res.objective == pytest.approx(solve_lp(lp).objective, rel=1e-9)


def test_unknown_solver_lists_available():
    with pytest.raises(SolverError, match="unknown solver 'mosek'.*highs"):
        solve_lp(random_lp(0), solver="mosek")
    assert {"highs", "pdhg", "cvxpy", "gurobi"} <= set(available_solvers())


def test_nan_data_names_culprit():
    lp = random_lp(0)
    lp.uc[4] = np.nan
    with pytest.raises(ValueError, match="uc has NaN.*index 4"):
        solve_lp(lp)
    with pytest.raises(TypeError, match="LinearProgram"):
        solve_lp({"c": [1.0]})


def test_exported_at_top_level():
    assert gp.solve_lp is solve_lp


# ---------------------------------------------------------------- cvxpy and gurobi vs highs
def gurobi_or_skip():
    gurobipy = pytest.importorskip("gurobipy", reason="gurobipy not installed")
    from gridprox.solvers.gurobi import _environment
    try:
        _environment(gurobipy)
    except SolverError as exc:
        pytest.skip(f"no usable Gurobi licence: {exc}")


OTHER_BACKENDS = [("cvxpy", {}, 1e-12), ("cvxpy", {"cvxpy_solver": "CLARABEL"}, 1e-6),
                  ("gurobi", {"method": "simplex"}, 1e-12), ("gurobi", {"method": "ipm"}, 1e-7)]


@pytest.mark.parametrize("solver,opts,tol", OTHER_BACKENDS)
def test_backend_equals_highs(solver, opts, tol):
    if solver == "gurobi":
        gurobi_or_skip()
    for seed in range(3):
        lp = random_lp(seed)
        ref = solve_lp(lp, solver="highs", method="simplex")
        res = solve_lp(lp, solver=solver, **opts)
        assert res.status == "optimal"
        assert res.objective == pytest.approx(ref.objective, rel=max(tol, 1e-12), abs=tol)
        # random_lp is non-degenerate in practice: duals unique, same signs as HiGHS
        np.testing.assert_allclose(res.y, ref.y, atol=100 * tol)
        np.testing.assert_allclose(res.z, ref.z, atol=100 * tol)
        assert_kkt(lp, res, tol=max(tol, 1e-7))


@pytest.mark.parametrize("solver", ["cvxpy", "gurobi"])
def test_backend_statuses(solver):
    if solver == "gurobi":
        gurobi_or_skip()
    assert solve_lp(infeasible_lp(), solver=solver).status == "infeasible"
    assert solve_lp(unbounded_lp(), solver=solver).status == "unbounded"
    assert solve_lp(infeasible_and_dual_infeasible_lp(), solver=solver).status == "infeasible"


def test_gurobi_dual_signs_match_highs_on_named_example():
    gurobi_or_skip()
    A = sp.csr_matrix([[1.0, 1.0], [1.0, -1.0], [1.0, 0.0]])
    # min 2x1 + x2: x1 + x2 >= 2 (active, y>0), x1 - x2 <= 0 (inactive, y=0), x1 == 0.5 (equality)
    lp = LinearProgram(c=[2.0, 1.0], A=A, lc=[2.0, -INF, 0.5], uc=[INF, 0.0, 0.5], lx=[-INF, -INF], ux=[INF, INF])
    ref, res = solve_lp(lp), solve_lp(lp, solver="gurobi")
    np.testing.assert_allclose(res.y, ref.y, atol=1e-12)
    assert ref.y[0] > 0 and res.objective == pytest.approx(ref.objective)


def test_gurobi_too_large_names_sizes():
    gurobi_or_skip()
    n = 2001
    lp = LinearProgram(c=np.ones(n), A=sp.csr_matrix(np.ones((1, n))), lc=[1.0], uc=[INF],
                       lx=np.zeros(n), ux=np.full(n, INF))
    try:
        res = solve_lp(lp, solver="gurobi")
    except SolverError as exc:
        assert "2001 variables" in str(exc) and "1 constraints" in str(exc) and "2000" in str(exc)
    else:
        pytest.skip(f"this Gurobi licence is not size-limited (solved: {res.status})")


def test_cvxpy_unknown_inner_solver_and_bad_gurobi_param():
    with pytest.raises(SolverError, match="'NOPE' is not installed.*HIGHS"):
        solve_lp(random_lp(0), solver="cvxpy", cvxpy_solver="NOPE")
    gurobi_or_skip()
    with pytest.raises(SolverError, match="NoSuchParam"):
        solve_lp(random_lp(0), solver="gurobi", NoSuchParam=1)


def test_problem_solve_without_a_solver_races_highs_on_a_large_lp(monkeypatch):
    """prob.solve() runs HiGHS as solver="auto" does on a CPU: a large LP (here: any, the size
    threshold lowered) races IPM and simplex; solver="highs" named is HiGHS's own choice."""
    import gridprox.solvers as solvers
    if len(__import__("os").sched_getaffinity(0)) < 2:
        pytest.skip("a race needs two CPUs")
    x = gp.Variable(3, nonneg=True)
    prob = gp.Problem(gp.Minimize(np.array([1.0, 2.0, 3.0]) @ x), [gp.sum(x) >= 2, x[0] <= 1.5])
    monkeypatch.setattr(solvers, "RACE_MIN_NNZ", 0)
    assert prob.solve() == pytest.approx(1.5 + 2 * 0.5)
    assert prob.solver_stats.extra_stats["message"].startswith("concurrent: ")
    prob.solve(solver="highs")
    assert "concurrent" not in prob.solver_stats.extra_stats["message"] and prob.value == pytest.approx(2.5)
