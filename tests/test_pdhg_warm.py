"""Warm starts carry PDHG's primal weight: Result.primal_weight and warm_start=(x, y, ω)."""
import numpy as np
import pytest

from gridprox.datasets import load_system
from gridprox.energy import CapacityExpansion
from gridprox.solvers import solve_lp

TOL = 1e-5


@pytest.fixture(scope="module")
def day():
    """Three-country, first 24 h: cold PDHG needs ~3,800 iterations at 1e-5, a warm start
    from its own solution ~1,100 without the primal weight and 64 with it."""
    model = CapacityExpansion(load_system("three-country"), hours=24)
    lp = model.lp()
    return model, lp, solve_lp(lp, solver="pdhg", tol=TOL), solve_lp(lp, solver="highs")


def _close(res, ref):
    assert res.status == "optimal"
    assert abs(res.objective - ref.objective) <= 10 * TOL * (1 + abs(ref.objective))


def test_same_lp_resolves_fast_from_its_result(day):
    _, lp, cold, ref = day
    assert isinstance(cold.primal_weight, float) and cold.primal_weight > 0
    xy = solve_lp(lp, solver="pdhg", tol=TOL, warm_start=(cold.x, cold.y))
    warm = solve_lp(lp, solver="pdhg", tol=TOL, warm_start=cold)
    triple = solve_lp(lp, solver="pdhg", tol=TOL, warm_start=(cold.x, cold.y, cold.primal_weight))
    for res in (cold, xy, warm, triple):
        _close(res, ref)
    assert warm.iterations <= 128
    assert 4 * warm.iterations <= xy.iterations and 10 * warm.iterations <= cold.iterations
    assert triple.iterations == warm.iterations
    # without presolve the weight is carried too
    raw = solve_lp(lp, solver="pdhg", tol=TOL, presolve=False)
    again = solve_lp(lp, solver="pdhg", tol=TOL, presolve=False, warm_start=raw)
    assert raw.primal_weight > 0 and 4 * again.iterations <= raw.iterations
    _close(again, ref)


def test_a_result_without_weight_warm_starts_as_x_y(day):
    _, lp, cold, ref = day
    highs_start = solve_lp(lp, solver="highs")
    assert highs_start.primal_weight is None
    res = solve_lp(lp, solver="pdhg", tol=TOL, warm_start=highs_start)
    _close(res, ref)


def test_batch_of_results_and_sequential_sweep_carry_weights(day):
    model, _, _, _ = day
    batch = model.batch([{"demand_scale": s} for s in (0.97, 1.0, 1.03)])
    cold = solve_lp(batch, solver="pdhg", tol=TOL)
    refs = solve_lp(batch, solver="highs")
    weights = np.array([r.primal_weight for r in cold])
    assert np.all(weights > 0)
    xy = solve_lp(batch, solver="pdhg", tol=TOL, warm_start=(np.stack([r.x for r in cold]),
                                                              np.stack([r.y for r in cold])))
    warm = solve_lp(batch, solver="pdhg", tol=TOL, warm_start=cold)
    triple = solve_lp(batch, solver="pdhg", tol=TOL, warm_start=(np.stack([r.x for r in cold]),
                                                                  np.stack([r.y for r in cold]), weights))
    for res, ref in zip(warm, refs):
        _close(res, ref)
    assert [r.iterations for r in triple] == [r.iterations for r in warm]
    assert max(r.iterations for r in warm) <= 128
    assert 4 * max(r.iterations for r in warm) <= max(r.iterations for r in xy)
    # sequential: each scenario starts from the previous Result, weight included
    seq = solve_lp(batch, solver="pdhg", tol=TOL, sequential=True, warm_start=cold)
    for res, ref in zip(seq, refs):
        _close(res, ref)
    assert seq[0].iterations <= 128


def test_bad_primal_weight_shapes_are_refused(day):
    _, lp, cold, _ = day
    from gridprox.errors import SolverError
    with pytest.raises(SolverError, match="primal_weight"):
        solve_lp(lp, solver="pdhg", presolve=False, warm_start=(cold.x, cold.y, [1.0, 2.0]))
