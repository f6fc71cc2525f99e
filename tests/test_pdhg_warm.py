"""Warm starts carry PDHG's primal weight: Result.primal_weight and warm_start=(x, y, ω)."""
import numpy as np
import pytest

from gridprox.datasets import load_system
from gridprox.energy import CapacityExpansion
from gridprox.solvers import solve_lp
from kkt import assert_optimal

TOL = 1e-5


@pytest.fixture(scope="module")
def days():
    """Three-country, first 72 h: cold PDHG needs ~12,900 iterations at 1e-5, a warm start
    from its own solution ~3,100 without the primal weight and 64 with it."""
    model = CapacityExpansion(load_system("three-country"), hours=72)
    lp = model.lp()
    return model, lp, solve_lp(lp, solver="pdhg", tol=TOL), solve_lp(lp, solver="highs")


def _close(res, ref, lp):
    assert res.status == "optimal"
    assert abs(res.objective - ref.objective) <= 2 * TOL * (1 + abs(ref.objective))
    assert_optimal(lp, res, TOL, ref)


@pytest.mark.slow
def test_same_lp_resolves_fast_from_its_result(days):
    _, lp, cold, ref = days
    assert isinstance(cold.primal_weight, float) and cold.primal_weight > 0
    xy = solve_lp(lp, solver="pdhg", tol=TOL, warm_start=(cold.x, cold.y))
    warm = solve_lp(lp, solver="pdhg", tol=TOL, warm_start=cold)
    triple = solve_lp(lp, solver="pdhg", tol=TOL, warm_start=(cold.x, cold.y, cold.primal_weight))
    for res in (cold, xy, warm, triple):
        _close(res, ref, lp)
    assert warm.iterations <= 128
    # with its primal weight, never slower than from (x, y) alone (both are fast from an exact point)
    assert warm.iterations <= xy.iterations and 50 * warm.iterations <= cold.iterations
    assert triple.iterations == warm.iterations


@pytest.mark.slow
def test_weight_carried_without_presolve():
    lp = CapacityExpansion(load_system("three-country"), hours=24).lp()
    raw = solve_lp(lp, solver="pdhg", tol=TOL, presolve=False)
    again = solve_lp(lp, solver="pdhg", tol=TOL, presolve=False, warm_start=raw)
    assert raw.primal_weight > 0 and 4 * again.iterations <= raw.iterations
    _close(again, solve_lp(lp, solver="highs"), lp)


def test_a_result_without_weight_warm_starts_as_x_y(days):
    _, lp, _, ref = days
    highs_start = solve_lp(lp, solver="highs")
    assert highs_start.primal_weight is None
    _close(solve_lp(lp, solver="pdhg", tol=TOL, warm_start=highs_start), ref, lp)


@pytest.mark.slow
def test_batch_of_results_and_sequential_sweep_carry_weights(days):
    model, lp, cold, ref = days
    batch = model.batch([{}, {}])
    starts = [cold, cold]
    xs, ys = np.stack([cold.x] * 2), np.stack([cold.y] * 2)
    xy = solve_lp(batch, solver="pdhg", tol=TOL, warm_start=(xs, ys))
    warm = solve_lp(batch, solver="pdhg", tol=TOL, warm_start=starts)
    triple = solve_lp(batch, solver="pdhg", tol=TOL, warm_start=(xs, ys, np.full(2, cold.primal_weight)))
    for res in warm:
        _close(res, ref, lp)
    assert [r.iterations for r in triple] == [r.iterations for r in warm]
    assert max(r.iterations for r in warm) <= 128
    assert max(r.iterations for r in warm) <= min(r.iterations for r in xy)
    # sequential: scenario 0 starts from its Result, scenario 1 from scenario 0's, weights included
    seq = solve_lp(batch, solver="pdhg", tol=TOL, sequential=True, warm_start=starts)
    for res in seq:
        _close(res, ref, lp)
    assert max(r.iterations for r in seq) <= 128


def test_bad_primal_weight_shapes_are_refused(days):
    _, lp, cold, _ = days
    from gridprox.errors import SolverError
    with pytest.raises(SolverError, match="primal_weight"):
        solve_lp(lp, solver="pdhg", presolve=False, warm_start=(cold.x, cold.y, [1.0, 2.0]))
