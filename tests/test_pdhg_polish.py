"""Feasibility polishing (gridprox/lp/polish.py): once PDLP's ℓ2 measures are met, the point is
polished instead of iterating until every row and column is within tol of its own scale.  Each
answer is judged with numpy (tests/kkt.py and the per-row test written out below) and against
HiGHS's optimum.  tests/test_row_infeasible.py runs with polishing on (the default): an LP
infeasible on one row is still never "optimal"."""
import numpy as np
import pytest

from gridprox.lp.options import PDHGOptions
from gridprox.solvers.pdhg import solve_pdhg
from gridprox.synthetic import capacity_expansion_lp, scenario_sweep
from kkt import assert_optimal, highs_reference

TOL = 1e-4


def _worst_row_and_column(lp, x, y) -> tuple[float, float]:
    """The worst row violation and the worst reduced cost no finite bound absorbs, each over
    1 + its own scale (the bounds or Σ|a_ij x_j| for a row, |c_j| + Σ|a_ij y_i| for a column)."""
    A, absA = lp.A, abs(lp.A)
    Ax = A @ x
    row_v = np.maximum(lp.lc - Ax, 0.0) + np.maximum(Ax - lp.uc, 0.0)
    finite = lambda v: np.where(np.isfinite(v), np.abs(v), 0.0)  # noqa: E731
    row_scale = np.maximum(np.maximum(finite(lp.lc), finite(lp.uc)), absA @ np.abs(x))
    g = lp.c - A.T @ y
    absorbed = np.where((g > 0) & np.isfinite(lp.lx), g, 0.0) + np.where((g < 0) & np.isfinite(lp.ux), g, 0.0)
    col_scale = np.abs(lp.c) + absA.T @ np.abs(y)
    return float((row_v / (1 + row_scale)).max()), float((np.abs(g - absorbed) / (1 + col_scale)).max())


def _assert_every_row(lp, res, ref):
    assert_optimal(lp, res, TOL, ref)
    row, col = _worst_row_and_column(lp, res.x, res.y)
    assert row <= TOL * (1 + 1e-6) and col <= TOL * (1 + 1e-6), (row, col)


def test_polishing_cuts_the_per_row_tail():
    """1 zone x 720 h, profiles of seed 1 (not the seed the defaults were tuned on): PDLP's ℓ2
    measures are met after ~1,100 iterations, every row only after 19,456 without polishing."""
    lp = capacity_expansion_lp(1, 720, seed=1)
    ref = highs_reference(lp)
    polished = solve_pdhg(lp, tol=TOL)
    plain = solve_pdhg(lp, tol=TOL, feasibility_polishing=False)
    for res in (polished, plain):
        _assert_every_row(lp, res, ref)
    assert polished.iterations * 4 < plain.iterations, (polished.iterations, plain.iterations)


def test_polishing_a_batch_judges_each_scenario():
    """Three scenarios polished together: each one's answer is its own LP's, row by row."""
    batch = scenario_sweep(3, zones=1, hours=720, seed=1)
    polished = solve_pdhg(batch, tol=TOL)
    plain = solve_pdhg(batch, tol=TOL, feasibility_polishing=False)
    for k, res in enumerate(polished):
        lp = batch.scenario(k)
        _assert_every_row(lp, res, highs_reference(lp))
    assert sum(r.iterations for r in polished) < sum(r.iterations for r in plain)


def test_each_side_keeps_its_best_polished_point_across_attempts(monkeypatch):
    """One attempt mends x but not y, the next y but not x: the pair of the two passes every
    test, so the solve ends at the second attempt with the first's x' and the second's y'.
    Polishing's two problems are replaced by HiGHS's optimum, spoilt on one side at a time."""
    import torch

    import gridprox.lp.solver as solver_mod

    lp = capacity_expansion_lp(1, 720, seed=1)
    ref = highs_reference(lp)
    calls = []

    def attempt(lpT, ids, x, y, opt, budget, time_left, scaling):
        calls.append(budget)
        good_x, good_y = (torch.as_tensor(ref[k], dtype=x.dtype)[:, None] for k in ("x", "y"))
        if len(calls) == 1:          # rows met, columns not (every price 1.5 times too high)
            return good_x, 1.5 * good_y, [budget]
        return 1.5 * good_x, good_y, [budget]     # the other way round

    monkeypatch.setattr(solver_mod, "polish", attempt)
    res = solve_pdhg(lp, tol=TOL)
    assert res.status == "optimal" and len(calls) == 2, (res.status, len(calls))
    np.testing.assert_allclose(res.x, ref["x"], rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(res.y, ref["y"], rtol=1e-12, atol=1e-9)
    _assert_every_row(lp, res, ref)


def test_polishing_finishes_float32_where_iterating_does_not():
    """float32, 720 h (seed 0): without polishing the last rows never settle (not "optimal" in
    100,000 iterations, RESULTS "float32 and the per-row test"); polished, 3,626.  Judged in
    float64 with numpy and against HiGHS."""
    import torch

    lp = capacity_expansion_lp(1, 720)
    res = solve_pdhg(lp, tol=TOL, dtype=torch.float32, max_iter=10_000)
    _assert_every_row(lp, res, highs_reference(lp))


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_feasibility_polishing_must_be_a_bool(value):
    with pytest.raises(ValueError, match="feasibility_polishing"):
        PDHGOptions(feasibility_polishing=value)


@pytest.mark.parametrize("above", [1e-3, -1e-3])
def test_the_capped_primal_problem_is_the_lps_rows_and_its_objective_capped(above):
    """``polish.capped``: HiGHS on the problem it builds (read back into scipy) finds a point of the
    LP with c·x + c0 <= cap when the cap is above the optimum, and proves it infeasible below."""
    import scipy.sparse as sp
    import torch

    from gridprox.compile.lp import LinearProgram
    from gridprox.lp.polish import capped
    from gridprox.solvers import solve_lp
    from gridprox.solvers.pdhg import to_tensors

    lp = capacity_expansion_lp(1, 48, seed=3)
    lp.c0 = 1e6          # 1 % of the objective: a cap that forgot c0 would be off by more than the margin
    opt = highs_reference(lp)["objective"]
    cap = opt + above * abs(opt)
    t = capped(to_tensors(lp, torch.device("cpu"), torch.float64), torch.tensor([[cap]], dtype=torch.float64))
    A = sp.csr_matrix((t.A.values[:, 0].numpy(), t.A.col.numpy(), t.A.crow.numpy()), shape=t.A.shape)
    back = LinearProgram(t.c[:, 0].numpy(), A, t.lc[:, 0].numpy(), t.uc[:, 0].numpy(), t.lx[:, 0].numpy(),
                         t.ux[:, 0].numpy(), float(t.c0))
    res = solve_lp(back, "highs")
    if above < 0:
        assert res.status == "infeasible"
        return
    assert res.status == "optimal" and not np.any(back.c)
    row, _ = _worst_row_and_column(lp, res.x, np.zeros(lp.A.shape[0]))
    assert row <= 1e-9 and lp.c @ res.x + lp.c0 <= cap * (1 + 1e-9)


@pytest.mark.slow
def test_a_kept_pair_that_misses_only_the_gap_is_mended_under_a_cap():
    """1 zone x 8,760 h, profiles of seed 2: the feasibility problem's x' lands up to 1.8e-4 above the
    optimum, so the kept pair misses the gap (13,504 iterations without the cap, RESULTS "Feasibility
    polishing"); the kept x solved again under the cap passes at the second attempt (8,128).
    Judged by numpy alone (HiGHS takes ~30 s here): every row and column, and the gap."""
    from kkt import kkt_measures

    lp = capacity_expansion_lp(1, 8760, seed=2)
    res = solve_pdhg(lp, tol=TOL)
    assert res.status == "optimal"
    row, col = _worst_row_and_column(lp, res.x, res.y)
    assert row <= TOL * (1 + 1e-6) and col <= TOL * (1 + 1e-6), (row, col)
    k = kkt_measures(lp, res.x, res.y)
    assert k["gap"] <= TOL and k["primal"] <= TOL and k["dual"] <= TOL, k
    assert res.iterations < 10_000, res.iterations
