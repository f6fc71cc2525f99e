"""Multilevel time warm start (gridprox.energy.multilevel): the coarse-to-fine maps are exact
where the data are constant within each coarse step, and the start is refused where the time
axis cannot be coarsened."""
import numpy as np
import pytest

from energy_toy import toy_system
from gridprox.energy import CapacityExpansion
from gridprox.energy.multilevel import Prolongation, coarse_model, coarse_steps
from gridprox.solvers import solve_lp


def _blocky(hours=48, step=6):
    """The toy System with profiles constant over each ``step``-hour block and a lossless battery."""
    s = toy_system(hours, voll=3000.0)
    block = np.arange(hours) // step
    for name in ("demand", "availability"):
        frame = getattr(s, name)
        setattr(s, name, frame.groupby(block).transform("mean").set_axis(frame.index))
    s.storage_units["standing_loss"] = 0.0
    return s.validate()


@pytest.mark.parametrize("co2_cap", [None, 1e5])
def test_prolonged_coarse_optimum_is_the_fine_optimum(co2_cap):
    fine = CapacityExpansion(_blocky(), ramp_limits=False, co2_cap=co2_cap)
    coarse = coarse_model(fine, 6)
    assert coarse.time.T == 8
    lp = fine.lp()
    exact_fine, exact_coarse = solve_lp(lp, "highs"), solve_lp(coarse.lp(), "highs")
    x, y = Prolongation(coarse, fine)(exact_coarse.x, exact_coarse.y)
    res = lp.residuals(x, y)
    assert max(res["primal"], res["dual"], res["gap"]) < 1e-9
    assert lp.objective(x) == pytest.approx(exact_fine.objective, rel=1e-9)
    # batched (B, n) arrays map row by row
    xb, yb = Prolongation(coarse, fine)(np.stack([exact_coarse.x] * 2), np.stack([exact_coarse.y] * 2))
    assert np.allclose(xb[1], x) and np.allclose(yb[1], y)


def test_steps_refused_where_the_time_axis_cannot_be_coarsened():
    model = CapacityExpansion(toy_system(48), rep_days=2)
    with pytest.raises(ValueError, match="one period"):
        coarse_steps(model, ["6h"])
    with pytest.raises(ValueError, match="coarse to fine"):
        coarse_steps(CapacityExpansion(toy_system(48)), ["6h", "24h"])


def test_solve_with_multilevel_reaches_the_highs_optimum_from_fewer_iterations():
    model = CapacityExpansion(_blocky(), ramp_limits=False)
    ref = solve_lp(model.lp(), "highs")
    cold = model.solve(solver="pdhg", tol=1e-6, device="cpu", polish=None)
    warm = model.solve(solver="pdhg", tol=1e-6, device="cpu", polish=None, multilevel=[6])
    assert warm.raw.status == "optimal"
    assert warm.objective == pytest.approx(ref.objective, rel=2e-6)
    assert set(warm.raw.stages) == {"level 6h", "pdhg"} and "multilevel start 6h" in warm.raw.message
    # the prolonged 6 h optimum is the fine optimum here: the fine solve only confirms it
    assert warm.raw.stages["pdhg"]["iterations"] < cold.raw.iterations / 3


def test_multilevel_is_refused_for_other_solvers():
    from gridprox.solvers import SolverInputError

    with pytest.raises(SolverInputError, match="PDHG or HiGHS start"):
        CapacityExpansion(toy_system(48)).solve(solver="gurobi", multilevel=True)
