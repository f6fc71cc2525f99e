"""HiGHS's simplex from a coarser grid's optimum (gridprox/solvers/coarse_start.py and
``CapacityExpansion.solve(multilevel=...)`` with HiGHS): the coarse optimum is prolonged, HiGHS's
crossover and simplex finish on the model's own LP.

Answers are judged by tests/kkt.py (numpy only) and HiGHS's simplex from scratch on the same LP:
whatever the start (a good one, a wrong one, none), the answer is the fine LP's exact optimum."""
import os
import re
import threading
import time

import numpy as np
import pytest

from energy_toy import toy_system
from gridprox import solvers
from gridprox.energy import CapacityExpansion
from gridprox.energy.multilevel import highs_start
from gridprox.energy.results import auto_reason
from gridprox.solvers import SolverInputError, solve_lp
from gridprox.solvers.coarse_start import CoarseStart, solve_from_coarse
from gridprox.solvers.race import coarse_racer, highs_racer, race_with_highs
from kkt import assert_exact_vertex, highs_reference

TWO_CPUS = len(os.sched_getaffinity(0)) >= 2


@pytest.fixture(scope="module")
def model():
    return CapacityExpansion(toy_system(96, voll=3000.0))


@pytest.fixture(scope="module")
def ref(model):
    return highs_reference(model.lp())


def test_the_daily_grid_start_ends_at_the_fine_optimum(model, ref):
    lp = model.lp()
    start = highs_start(model)
    assert start.label == "the 24 h grid" and start.lp.num_vars < lp.num_vars / 10
    coarse = solve_lp(start.lp, "highs")
    x, y = start.prolong(coarse.x, coarse.y)
    assert abs(lp.objective(x) - ref["objective"]) > 1e-6 * abs(ref["objective"])  # a start, not the answer
    res = solve_lp(lp, "highs", method="simplex", start=start)
    assert_exact_vertex(lp, res, ref)
    assert set(res.stages) == {"coarse (the 24 h grid)", "crossover"}
    assert res.stages["coarse (the 24 h grid)"]["iterations"] == coarse.iterations
    assert res.message.startswith("simplex from the 24 h grid's optimum") and res.solver == "highs+crossover"


def test_a_wrong_start_or_a_coarse_lp_without_optimum_still_ends_exact(model, ref):
    lp = model.lp()
    start = highs_start(model)
    wrong = CoarseStart(lambda: (start.lp, lambda x, y: (np.full(lp.num_vars, 1e3), -np.ones(lp.num_rows))),
                        "a wrong map")
    assert_exact_vertex(lp, solve_lp(lp, "highs", start=wrong), ref)
    infeasible = start.lp.stack([start.lp]).scenario(0)      # a copy: every row asked for 1e6 more
    infeasible.lc[:] = np.where(np.isfinite(infeasible.uc), infeasible.uc, infeasible.lc) + 1e6
    infeasible.uc[:] = np.inf
    res = solve_from_coarse(lp, CoarseStart(lambda: (infeasible, start.prolong), "an infeasible grid"))
    assert_exact_vertex(lp, res, ref)
    assert res.message.startswith("an infeasible grid ended infeasible; the simplex from scratch")


def test_an_infeasible_model_is_infeasible_from_its_start():
    """co2_cap=0 without load shedding: the daily grid is infeasible too, and the simplex from
    scratch that follows says so for the model's own LP."""
    model = CapacityExpansion(toy_system(96), co2_cap=0.0)
    assert solve_lp(model.lp(), "highs", method="simplex").status == "infeasible"
    res = solve_lp(model.lp(), "highs", start=highs_start(model))
    assert res.status == "infeasible" and res.message.startswith("the 24 h grid ended infeasible"), res


def test_a_time_limit_is_a_limit_status(model):
    res = solve_lp(model.lp(), "highs", start=highs_start(model), time_limit=1e-3)
    assert res.status == "time_limit", res


@pytest.mark.skipif(not TWO_CPUS, reason="a race needs two CPUs")
def test_the_race_runs_the_simplex_from_the_start(model, ref):
    lp, start = model.lp(), highs_start(model)
    res = solve_lp(lp, "highs", method="concurrent", start=start)
    assert_exact_vertex(lp, res, ref)
    assert set(res.stages) == {"ipm", "simplex"}
    # an IPM held to one iteration ends first at its limit: the coarse simplex wins
    held = race_with_highs({"ipm": highs_racer(lp, "ipm", {"ipm_iteration_limit": 1, "highs_presolve": "off"}),
                            "simplex": coarse_racer(lp, start, {})})
    assert_exact_vertex(lp, held, ref)
    assert held.message.startswith("concurrent: simplex first (ipm stopped); simplex from the 24 h grid")
    assert not [t for t in threading.enumerate() if t.name.startswith(("race-", "crossover-interrupt"))]
    # the backend "concurrent" (HiGHS's simplex against PDHG + crossover) takes the start too
    both = solve_lp(lp, "concurrent", threads=2, start=start)
    assert_exact_vertex(lp, both, ref)
    assert set(both.stages) == {"simplex", "pdhg"}


def test_a_stopped_coarse_racer_ends_at_once(model):
    racer = coarse_racer(model.lp(), highs_start(model), {})
    racer.stop()
    t0 = time.perf_counter()
    res = racer.run()
    assert res.status == "time_limit" and res.x is None and time.perf_counter() - t0 < 5, res


@pytest.mark.skipif(not TWO_CPUS, reason="a race needs two CPUs")
def test_auto_starts_the_raced_simplex_from_the_daily_grid(model, ref, monkeypatch):
    monkeypatch.setattr(solvers, "RACE_MIN_NNZ", 0)
    res = model.solve(device="cpu")
    assert "its IPM and simplex raced" in res.raw.message and "HiGHS's simplex from the 24 h grid" in res.raw.message
    # gridprox solve's "chosen by" line names the start and the winner
    assert re.fullmatch(r"auto: highs \(.*\); HiGHS's simplex from the 24 h grid; concurrent: (ipm|simplex) first "
                        r"\((simplex|ipm) stopped\)", auto_reason(res.raw.message)), res.raw.message
    assert res.summary["status"].iloc[0] == "optimal"
    assert res.summary["objective"].iloc[0] == pytest.approx(ref["objective"], rel=1e-9)
    plain = model.solve(device="cpu", multilevel=None)
    assert "24 h grid" not in plain.raw.message and plain.objective == pytest.approx(ref["objective"], rel=1e-9)
    # no daily grid coarser than the model's: the race as it was, and the message says why
    daily = CapacityExpansion(toy_system(96, voll=3000.0), resample="24h")
    assert "multilevel: none (multilevel steps 24 h are not whole multiples" in daily.solve(device="cpu").raw.message
    monkeypatch.setattr(solvers, "FIRST_ORDER_MIN_NNZ", 0)        # the simplex raced against PDHG + crossover
    raced = model.solve(device="cpu")
    assert raced.raw.message.startswith("auto: concurrent") and "HiGHS's simplex from the 24 h grid" in raced.raw.message
    assert raced.objective == pytest.approx(ref["objective"], rel=1e-9)
    monkeypatch.setattr(solvers, "RACE_MIN_NNZ", 10**9)      # HiGHS alone: no start unless asked
    monkeypatch.setattr(solvers, "FIRST_ORDER_MIN_NNZ", 10**9)
    assert "24 h grid" not in model.solve(device="cpu").raw.message


def test_solve_with_highs_takes_an_explicit_grid(model, ref):
    res = model.solve(solver="highs", multilevel=[12])
    assert res.objective == pytest.approx(ref["objective"], rel=1e-9)
    assert "coarse (the 12 h grid)" in res.raw.stages
    assert "coarse (the 24 h grid)" in model.solve(solver="highs", multilevel=True).raw.stages


def test_starts_are_checked(model):
    lp, start = model.lp(), highs_start(model)
    with pytest.raises(SolverInputError, match="one coarse grid"):
        model.solve(solver="highs", multilevel=[24, 6])
    for levels in ([1.5], "1.5h"):         # a list or a string: both the caller's steps
        with pytest.raises(SolverInputError, match="not whole multiples"):
            model.solve(solver="highs", multilevel=levels)
    with pytest.raises(SolverInputError, match="PDHG or HiGHS start"):
        model.solve(solver="cvxpy", multilevel=True)
    with pytest.raises(SolverInputError, match="method='ipm' does not take one"):
        solve_lp(lp, "highs", method="ipm", start=start)
    for solver in ("highs", "concurrent"):
        with pytest.raises(SolverInputError, match="start must be a CoarseStart"):
            solve_lp(lp, solver, start=(np.zeros(lp.num_vars), np.zeros(lp.num_rows)))
    with pytest.raises(SolverInputError, match="no presolve, polish or batch"):
        solve_lp(lp, "highs", start=start, presolve=True)
