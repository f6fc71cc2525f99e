"""Infeasibility detection within a bounded number of iterations, and a batch whose
infeasible scenario does not hold up (or spoil) the feasible ones."""
import pytest

from gridprox.solvers import solve_lp
from kkt import assert_optimal


def test_zero_co2_cap_is_certified_infeasible_quickly(toy_co2):
    # the iterate difference alone needed ~137k iterations here; the PDHG point ~1,700
    res = solve_lp(toy_co2.lp({"co2_cap": 0.0}), solver="pdhg", tol=1e-5, max_iter=20_000)
    assert res.status == "infeasible"
    assert res.iterations <= 5_000
    assert res.x is None


def test_batch_with_one_infeasible_scenario(toy_co2):
    caps = [0.0, 3.3e5, 4.0e5]
    batch = toy_co2.batch([{"co2_cap": c} for c in caps])
    out = solve_lp(batch, solver="pdhg", tol=1e-5, max_iter=20_000)
    refs = [solve_lp(toy_co2.lp({"co2_cap": c}), solver="highs") for c in caps]
    assert [r.status for r in out] == ["infeasible", "optimal", "optimal"]
    assert refs[0].status == "infeasible"
    assert out[0].iterations <= 5_000
    for cap, res, ref in zip(caps[1:], out[1:], refs[1:]):
        assert abs(res.objective - ref.objective) <= 1e-4 * abs(ref.objective)
        assert_optimal(toy_co2.lp({"co2_cap": cap}), res, 1e-5, ref)
