"""Presolve + inner solve + postsolve must give HiGHS's answer on the original LP,
duals of the removed rows included."""
import re

import numpy as np
import pytest
import scipy.sparse as sp

from gridprox import LinearProgram, Result, SolverError
from gridprox.solvers import solve_lp
from gridprox.solvers.presolve import presolve
from test_backends import assert_kkt, random_lp

INF = np.inf


def with_reducible_parts(seed):
    """random_lp with some bounds moved into singleton rows (as exporters write them), plus
    the other parts presolve removes: the optimum is unchanged, so HiGHS's answer on the
    original is unique and the rows' duals are the bounds' former reduced costs.

    Active bounds of six columns become rows a·x_j >= a·l (or <= for a < 0), a fixed
    column becomes an equality row, an interior column gets a slack ranged row; plus an
    empty feasible row and empty columns with positive, negative and zero cost."""
    rng = np.random.default_rng(100 + seed)
    base = random_lp(seed, m=10, n=24)
    xs = solve_lp(base, method="simplex").x
    m, n = base.shape
    lx, ux = base.lx.copy(), base.ux.copy()
    entries, lc, uc = [], [], []

    def add_row(j, a, lo, hi):
        entries.append((j, a))
        lo, hi = a * lo, a * hi
        lc.append(min(lo, hi))
        uc.append(max(lo, hi))

    fixed = np.flatnonzero(lx == ux)
    at_lo = np.flatnonzero(np.isclose(xs, lx) & (lx != ux))
    at_hi = np.flatnonzero(np.isclose(xs, ux) & (lx != ux))
    inside = np.flatnonzero(~np.isclose(xs, lx) & ~np.isclose(xs, ux))
    assert len(fixed) and len(at_lo) + len(at_hi) >= 6 and len(inside)
    for j in np.concatenate([at_lo, at_hi])[:6]:
        a = rng.choice([-2.0, -0.5, 1.0, 3.0])
        if j in at_lo:
            add_row(j, a, lx[j], INF)
            lx[j] = -INF
        else:
            add_row(j, a, -INF, ux[j])
            ux[j] = INF
    add_row(fixed[0], -4.0, lx[fixed[0]], ux[fixed[0]])
    lx[fixed[0]], ux[fixed[0]] = -INF, INF
    add_row(inside[0], 2.0, xs[inside[0]] - 1, xs[inside[0]] + 1)
    k = len(entries)
    S = sp.csr_matrix(([a for _, a in entries], (range(k), [j for j, _ in entries])), shape=(k, n))
    A = sp.vstack([base.A, S, sp.csr_matrix((1, n))])                  # + one empty row
    A = sp.hstack([A, sp.csr_matrix((A.shape[0], 3))], format="csr")   # + three empty columns
    return LinearProgram(
        c=np.concatenate([base.c, [2.0, -1.0, 0.0]]), A=A,
        lc=np.concatenate([base.lc, lc, [-1.0]]), uc=np.concatenate([base.uc, uc, [2.0]]),
        lx=np.concatenate([lx, [1.5, -INF, -INF]]), ux=np.concatenate([ux, [INF, 0.7, INF]]),
        c0=base.c0)


def assert_same_answer(lp, res, ref, tol=1e-8):
    assert res.status == ref.status == "optimal"
    assert res.objective == pytest.approx(ref.objective, rel=tol, abs=tol)
    np.testing.assert_allclose(res.x, ref.x, atol=1e-7)
    np.testing.assert_allclose(res.y, ref.y, atol=1e-7)
    np.testing.assert_allclose(res.z, ref.z, atol=1e-7)
    assert_kkt(lp, res)
    assert res.residuals["primal"] < 1e-9 and res.residuals["dual"] < 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_roundtrip_equals_highs_with_duals(seed):
    lp = with_reducible_parts(seed)
    pre = presolve(lp)
    m, n = lp.shape
    m_base = 10
    assert pre.lp.num_rows == m_base and pre.lp.num_vars <= n - 4   # singleton and empty rows gone
    ref = solve_lp(lp, solver="highs", method="simplex")
    res = solve_lp(lp, solver="highs", method="simplex", presolve=True)
    assert_same_answer(lp, res, ref)
    assert "presolve removed" in res.message
    # the binding singleton rows carry nonzero duals that postsolve had to reconstruct
    assert np.abs(res.y[m_base:m - 2]).min() > 1e-6


def test_pypsa_style_bound_rows():
    """Every x >= 0 written as a row (-x <= 0, or 2x >= 0) with free variable bounds."""
    base = random_lp(11, m=10, n=12)
    n = base.num_vars
    base.lx, base.ux = np.full(n, -INF), np.full(n, INF)
    base.lc = np.where(base.lc == base.uc, base.lc, -INF)       # keep equalities and <= rows
    base.uc = np.where(base.lc == base.uc, base.uc, base.uc + 5)
    coef = np.where(np.arange(n) % 2, -1.0, 2.0)
    S = sp.diags(coef, format="csr")
    lp = LinearProgram(c=np.abs(base.c) + 0.1, A=sp.vstack([base.A, S], format="csr"),
                       lc=np.concatenate([base.lc, np.where(coef > 0, 0.0, -INF)]),
                       uc=np.concatenate([base.uc, np.where(coef > 0, INF, 0.0)]),
                       lx=base.lx, ux=base.ux)
    ref = solve_lp(lp, method="simplex")
    assert ref.status == "optimal"
    pre = presolve(lp)
    assert pre.lp.num_rows == base.num_rows and np.all(pre.lp.lx == 0) and np.all(np.isinf(pre.lp.ux))
    res = solve_lp(lp, method="simplex", presolve=True)
    assert_same_answer(lp, res, ref)


def test_batch_with_per_scenario_values_and_partly_fixed_columns():
    lps = [with_reducible_parts(2) for _ in range(3)]
    rng = np.random.default_rng(5)
    for k, lp in enumerate(lps):
        lp.A.data = lp.A.data * rng.uniform(0.98, 1.02, lp.A.nnz)
        lp.c = lp.c * (1 + 0.1 * k)
    # fix, in scenario 1 only, a column that presolve keeps at its optimal value there
    kept = presolve(lps[1]).cols
    x1 = solve_lp(lps[1], method="simplex").x
    j = int(kept[np.argmax(np.abs(x1[kept] - lps[1].lx[kept]) > 1e-3)])
    lps[1].lx[j] = lps[1].ux[j] = x1[j]
    batch = LinearProgram.stack(lps)
    pre = presolve(batch)
    assert j in pre.cols and pre.lp.batch_size == 3 and pre.lp.A_values is not None
    out = solve_lp(batch, solver="highs", method="simplex", presolve=True)
    for lp, res in zip(lps, out):
        assert_same_answer(lp, res, solve_lp(lp, method="simplex"))


def test_warm_start_is_restricted_to_the_reduced_lp():
    lp = with_reducible_parts(0)
    pre = presolve(lp)
    x0, y0 = np.arange(lp.num_vars, dtype=float), np.arange(lp.num_rows, dtype=float)
    for start in ((x0, y0), Result(status="optimal", x=x0, y=y0)):
        mapped = pre.map_warm_start({"warm_start": start, "tol": 1e-6})
        np.testing.assert_array_equal(mapped["warm_start"][0], x0[pre.cols])
        np.testing.assert_array_equal(mapped["warm_start"][1], y0[pre.rows])
        assert mapped["tol"] == 1e-6
    # a batch keeps the rows of the scenarios still to solve
    bad = with_reducible_parts(0)
    bad.lc[-1], bad.uc[-1] = 1.0, 2.0
    pre = presolve(LinearProgram.stack([lp, bad, lp]))
    X = np.stack([x0, x0 + 1, x0 + 2])
    mapped = pre.map_warm_start({"warm_start": (X, np.stack([y0] * 3))})["warm_start"]
    np.testing.assert_array_equal(mapped[0], X[[0, 2]][:, pre.cols])


def _tiny(A, lc, uc, lx, ux, c, names=True):
    m, n = np.shape(A)
    return LinearProgram(c=c, A=sp.csr_matrix(np.asarray(A, dtype=float)), lc=lc, uc=uc, lx=lx, ux=ux,
                         var_names=[f"v{j}" for j in range(n)] if names else None,
                         row_names=[f"r{i}" for i in range(m)] if names else None)


@pytest.mark.parametrize("case,match", [
    # empty row whose bounds exclude 0
    (dict(A=[[1, 1], [0, 0]], lc=[0, 1], uc=[5, 2], lx=[0, 0], ux=[9, 9], c=[1, 1]), r"row 1 \(r1\) has no entries"),
    # singleton rows x0 >= 3 and x0 <= 2
    (dict(A=[[1, 0], [-1, 0], [1, 1]], lc=[3, -2, 0], uc=[INF, INF, 9], lx=[0, 0], ux=[9, 9], c=[1, 1]),
     r"column 0 \(v0\) has bounds that cross"),
    # x0 fixed at 1 by bounds, row 0 then says 3 <= x0 <= 4
    (dict(A=[[1, 0], [0, 1], [0, 1]], lc=[3, 0, -1], uc=[4, 1, 5], lx=[1, 0], ux=[1, 9], c=[1, 1]),
     r"column 0 \(v0\) has bounds that cross"),
    # x0, x1 fixed, row 0 (x0 + x1 in [5, 6]) excludes their sum 2
    (dict(A=[[1, 1], [1, 0]], lc=[5, -INF], uc=[6, 9], lx=[1, 1], ux=[1, 1], c=[1, 1]),
     r"row 0 \(r0\) has only fixed columns"),
])
def test_infeasible_found_by_presolve_names_culprit(case, match):
    lp = _tiny(**case)
    assert solve_lp(lp, method="simplex").status == "infeasible"     # HiGHS agrees
    res = solve_lp(lp, solver="highs", presolve=True)
    assert res.status == "infeasible" and res.x is None
    assert re.search(match, res.message), res.message


def test_empty_column_towards_infinite_bound():
    # x2 has cost -1, no rows, no upper bound: unbounded when the rest is feasible ...
    A = [[1, 1, 0]]
    lp = _tiny(A, lc=[1], uc=[4], lx=[0, 0, 0], ux=[9, 9, INF], c=[1, 1, -1])
    assert solve_lp(lp).status == "unbounded"
    res = solve_lp(lp, presolve=True)
    assert res.status == "unbounded" and "column 2 (v2)" in res.message
    # ... and infeasible when it is not (HiGHS agrees)
    lp = _tiny(A, lc=[20], uc=[40], lx=[0, 0, 0], ux=[9, 9, INF], c=[1, 1, -1])
    assert solve_lp(lp, method="simplex").status == solve_lp(lp, presolve=True).status == "infeasible"


def test_everything_removed_needs_no_inner_solve():
    # x0 >= 2 (row), x1 fixed at 3, x2 free with zero cost and no rows
    lp = _tiny([[1, 0, 0], [0, 0, 0]], lc=[2, -1], uc=[INF, 1], lx=[-INF, 3, -INF], ux=[INF, 3, INF], c=[1.5, 2, 0])
    pre = presolve(lp)
    assert pre.lp is None
    res = solve_lp(lp, presolve=True)
    ref = solve_lp(lp)
    assert res.status == "optimal" and res.objective == pytest.approx(ref.objective) == 9.0
    np.testing.assert_allclose(res.y, [1.5, 0.0])
    np.testing.assert_allclose(res.z, [0.0, 2.0, 0.0])


def test_batch_with_one_infeasible_scenario():
    good = with_reducible_parts(1)
    bad = with_reducible_parts(1)
    bad.lc[-1], bad.uc[-1] = 1.0, 2.0            # the empty row now excludes 0
    out = solve_lp(LinearProgram.stack([good, bad, good]), method="simplex", presolve=True)
    assert [r.status for r in out] == ["optimal", "infeasible", "optimal"]
    assert out[2].objective == pytest.approx(solve_lp(good).objective, rel=1e-9)


def test_presolve_flag_must_be_bool():
    with pytest.raises(SolverError, match="presolve='off'.*highs_presolve"):
        solve_lp(random_lp(0), presolve="off")


def test_pdhg_warm_start_through_presolve():
    pytest.importorskip("gridprox.solvers.pdhg", reason="gridprox.solvers.pdhg not available yet")
    lp = with_reducible_parts(3)
    ref = solve_lp(lp, method="simplex")
    cold = solve_lp(lp, solver="pdhg", tol=1e-8)              # presolve is on by default for pdhg
    assert cold.status == "optimal" and "presolve removed" in cold.message
    assert cold.objective == pytest.approx(ref.objective, rel=1e-6)
    np.testing.assert_allclose(cold.y, ref.y, atol=1e-5)       # singleton-row duals recovered
    warm = solve_lp(lp, solver="pdhg", tol=1e-8, warm_start=cold)
    assert warm.status == "optimal" and warm.iterations < cold.iterations


def test_spread_places_dense_entries_evenly():
    from gridprox.solvers.presolve import _spread

    counts = np.array([500, 3, 2, 4, 3, 3, 500, 2, 3, 3, 2, 3])
    order = _spread(counts)
    assert sorted(order) == list(range(len(counts)))
    assert [int(i) for i in order if counts[i] < 500] == [1, 2, 3, 4, 5, 7, 8, 9, 10, 11]   # kept in order
    halves = counts[order][:6].sum(), counts[order][6:].sum()
    assert abs(halves[0] - halves[1]) < 20                      # one dense entry in each half
    assert list(_spread(np.full(8, 3))) == list(range(8))       # nothing dense: unchanged


def test_dense_columns_and_rows_spread_and_mapped_back():
    """The capacity columns of a planning LP (one entry per hour) come first in its column
    order; presolve spreads them, so both halves of Aᵀ's rows hold similar nonzeros, and the
    solution comes back in the original order (HiGHS on the original LP as the reference)."""
    from test_pdhg_helpers import capacity_expansion_lp

    lp = capacity_expansion_lp(1, 240)
    red = presolve(lp)
    assert red.lp is not lp and not np.all(np.diff(red.cols) > 0)
    per_row_of_AT = np.diff(red.lp.A.tocsc().indptr)
    half = len(per_row_of_AT) // 2
    assert abs(per_row_of_AT[:half].sum() - per_row_of_AT[half:].sum()) < 0.2 * per_row_of_AT.sum()
    before = np.diff(lp.A.tocsc().indptr)
    assert abs(before[:half].sum() - before[half:].sum()) > 0.2 * before.sum()   # it was lopsided
    pdhg, ref = solve_lp(lp, solver="pdhg", tol=1e-7), solve_lp(lp, solver="highs")
    assert pdhg.status == "optimal"
    assert pdhg.objective == pytest.approx(ref.objective, rel=1e-6)
    assert pdhg.residuals["dual"] < 1e-6 and pdhg.residuals["primal"] < 1e-6


def _fixed_capacity_lp(K):
    """Demand x_t + s_t >= 1 and x_t + s_t - k <= 0 with k fixed at K (a scalar or one per scenario):
    presolve moves K into the second rows' bounds, x_t + s_t <= K, a million times ‖b‖ at K = 1e6."""
    T = 8
    eye = sp.identity(T, format="csr")
    A = sp.vstack([sp.hstack([eye, eye, sp.csr_matrix((T, 1))]),
                   sp.hstack([eye, eye, -np.ones((T, 1))])]).tocsr()
    K = np.atleast_1d(np.asarray(K, dtype=float))[:, None]                 # (B, 1)
    lx = np.hstack([np.zeros((len(K), 2 * T)), K])
    ux = np.hstack([np.full((len(K), 2 * T), INF), K])
    lx, ux = (lx[0], ux[0]) if len(K) == 1 else (lx, ux)
    return T, LinearProgram(c=np.r_[np.ones(T), 2 * np.ones(T), 0.0], A=A, lc=np.r_[np.ones(T), np.full(T, -INF)],
                            uc=np.r_[np.full(T, INF), np.zeros(T)], lx=lx, ux=ux)


def test_pdhg_measures_a_presolved_lp_as_given():
    """PDLP's relative primal measure divides by 1 + ‖b‖; presolve moving a fixed column's activity
    (1e6) into the row bounds would make it a million times looser, and from x = 0, y = 0 every ℓ2
    measure of the presolved LP is met.  PDHG measures with the original's norms instead, so it
    goes on to a point whose primal residual on the LP as given, recomputed here by hand, is within
    tol; the objective is the optimum's, T (x_t = 1), within the gap test."""
    tol = 1e-3
    T, lp = _fixed_capacity_lp(1e6)
    res = solve_lp(lp, "pdhg", tol=tol, each_row=False, warm_start=(np.zeros(2 * T + 1), np.zeros(2 * T)))
    shortfall = np.maximum(1.0 - res.x[:T] - res.x[T:2 * T], 0.0)           # the demand rows' violation
    primal = np.sqrt(np.sum(shortfall ** 2)) / (1 + np.sqrt(T))             # ‖b‖: the demand bounds only
    assert res.status == "optimal" and primal <= tol, (res.status, primal, res.message)
    assert abs(res.objective - T) <= 2 * tol * (1 + T)
    # its primal weight as the LP given would have it: the 1e6 in the row bounds made the first
    # weight a million times too small (over 700,000 iterations where 192 do without the presolve)
    cold, plain = (solve_lp(lp, "pdhg", tol=tol, each_row=False, max_iter=5000, presolve=p) for p in (True, False))
    assert cold.status == plain.status == "optimal" and cold.iterations <= 2 * plain.iterations, cold.iterations
    # a batch, each scenario measured by its own norms (K = 1e6 and 1e3)
    T, batch = _fixed_capacity_lp([1e6, 1e3])
    out = solve_lp(batch, "pdhg", tol=tol, each_row=False)
    for r in out:
        primal = np.sqrt(np.sum(np.maximum(1.0 - r.x[:T] - r.x[T:2 * T], 0.0) ** 2)) / (1 + np.sqrt(T))
        assert r.status == "optimal" and primal <= tol and abs(r.objective - T) <= 2 * tol * (1 + T), r.message


def test_pdhg_norms_are_checked():
    T, lp = _fixed_capacity_lp(1e6)
    with pytest.raises(SolverError, match="norms must be"):
        solve_lp(lp, "pdhg", presolve=False, norms=(1.0, -1.0))
    with pytest.raises(SolverError, match="norms must be"):
        solve_lp(lp, "pdhg", presolve=False, norms=(1.0,))
    with pytest.raises(SolverError, match="weight_norms must be"):
        solve_lp(lp, "pdhg", presolve=False, weight_norms=(np.nan, 1.0))


def test_bounds_beyond_1e20_are_infinite_on_every_path():
    """1e20 is "no bound" for HiGHS and the PDHG; the presolve and the measures read it so too.
    Before, the presolved PDHG answer was measured with -1e20 as a finite row bound: a dual of
    the slightest wrong sign there made the gap 1.0, and an "optimal" point came back
    "optimal_inaccurate".  Judged against the same LP written with inf, and HiGHS's optimum."""
    A = sp.csr_matrix(np.array([[1.0, 1.0], [1.0, -1.0]]))
    sentinel = LinearProgram(c=np.array([1.0, 2.0]), A=A, lc=np.array([1.0, -1e20]), uc=np.array([1e20, 0.5]),
                             lx=np.zeros(2), ux=np.full(2, 1e30))
    clean = LinearProgram(c=np.array([1.0, 2.0]), A=A, lc=np.array([1.0, -INF]), uc=np.array([INF, 0.5]),
                          lx=np.zeros(2), ux=np.full(2, INF))
    assert sentinel.with_infinite_bounds().lc[1] == -INF and clean.with_infinite_bounds() is clean
    from gridprox.compile.lp import INFINITE_BOUND
    from gridprox.lp import INFINITE_BOUND as SOLVER_INFINITE_BOUND
    assert INFINITE_BOUND == SOLVER_INFINITE_BOUND        # the LP and the PDHG's tensors read one convention
    # a dual a hair off in sign on the -1e20 row: the measures of the two LPs agree (1e20 x 1e-9
    # counted as a bound term made the gap 1.0)
    x, y = np.array([0.75, 0.25]), np.array([1.5, 1e-9])
    assert sentinel.residuals(x, y) == pytest.approx(clean.residuals(x, y), rel=1e-12, abs=1e-300)
    assert sentinel.residuals(x, y)["gap"] < 0.1 and sentinel.norms() == clean.norms()
    best = solve_lp(clean, "highs").objective                                     # 1.25 at (0.75, 0.25)
    for presolve in (True, False):
        res = solve_lp(sentinel, "pdhg", presolve=presolve)
        assert res.status == "optimal", (presolve, res.status, res.message)
        assert abs(res.objective - best) <= 2e-4 * (1 + best)
        again = clean.residuals(res.x, res.y)
        assert all(np.isclose(res.residuals[k], again[k], rtol=1e-9, atol=1e-300) for k in ("primal", "dual", "gap"))


def _availability_lp(P):
    """Demand x_t + s_t >= d_t with cheap x_t <= a_t·k/2 (availability rows 2x_t - a_t k <= 0) and k fixed
    at P (a scalar or one per scenario): fixing k leaves the availability rows with one entry each,
    and where a_t·P < d_t they bind, so their duals are nonzero."""
    T = 12
    rng = np.random.default_rng(3)
    a, d = rng.uniform(0.1, 0.9, T), rng.uniform(0.5, 1.5, T)
    eye = sp.identity(T, format="csr")               # columns: k, then x, then s; x_t's entry 2 comes second
    A = sp.vstack([sp.hstack([sp.csr_matrix((T, 1)), eye, eye]),
                   sp.hstack([sp.csr_matrix(-a[:, None]), 2 * eye, sp.csr_matrix((T, T))])]).tocsr()
    P = np.atleast_1d(np.asarray(P, dtype=float))[:, None]
    lx, ux = np.hstack([P, np.zeros((len(P), 2 * T))]), np.hstack([P, np.full((len(P), 2 * T), INF)])
    lx, ux = (lx[0], ux[0]) if len(P) == 1 else (lx, ux)
    return T, LinearProgram(c=np.r_[2.0, np.full(T, 1.0), np.full(T, 5.0)], A=A, lc=np.r_[d, np.full(T, -INF)],
                            uc=np.r_[np.full(T, INF), np.zeros(T)], lx=lx, ux=ux)


def test_rows_a_fixed_column_leaves_single_become_bounds():
    """The availability rows of a fixed capacity are singletons once it is substituted: presolve
    makes them bounds, and postsolve gives them back their duals (the row's entry in the kept
    column, not its first).  Judged against HiGHS's simplex on the LP as given, and by KKT."""
    T, lp = _availability_lp(1.2)
    pre = presolve(lp)
    assert pre.lp.num_rows == T and f"({T} singleton" in pre.summary
    ref = solve_lp(lp, solver="highs", method="simplex")
    res = solve_lp(lp, solver="highs", method="simplex", presolve=True)
    assert_same_answer(lp, res, ref)
    assert np.abs(res.y[T:]).max() > 1e-3            # binding availability rows: duals postsolve rebuilt
    T, batch = _availability_lp([1.2, 0.6])
    for lp_k, r in zip(batch.scenarios(), solve_lp(batch, solver="highs", method="simplex", presolve=True)):
        assert_same_answer(lp_k, r, solve_lp(lp_k, solver="highs", method="simplex"))
    # k fixed PyPSA's way, by a row k = P with k free: the availability rows' duals must be in
    # place before that row's dual takes k's reduced cost
    A = sp.vstack([lp.A, sp.csr_matrix(([1.0], ([0], [0])), shape=(1, lp.num_vars))]).tocsr()
    pypsa_style = LinearProgram(c=lp.c, A=A, lc=np.r_[lp.lc, 1.2], uc=np.r_[lp.uc, 1.2],
                                lx=np.r_[-INF, lp.lx[1:]], ux=np.r_[INF, lp.ux[1:]])
    res = solve_lp(pypsa_style, solver="highs", method="simplex", presolve=True)
    assert_same_answer(pypsa_style, res, solve_lp(pypsa_style, solver="highs", method="simplex"))
