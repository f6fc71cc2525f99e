"""Solvers raced on one LP (gridprox/solvers/race.py): HiGHS's simplex against PDHG + crossover
(and its IPM with a third CPU; backend "concurrent", what solver="auto" runs from 250k
nonzeros), and the race itself.

Answers are judged by tests/kkt.py (numpy only) and HiGHS's simplex on the same LP: whichever
racer wins, the answer must be an exact vertex; the loser must stop (no racer thread left)."""
import os
import re
import threading
import time

import pytest

from gridprox import solvers
from gridprox.energy import CapacityExpansion
from gridprox.solvers import SolverInputError, choose_solver, solve_lp
from gridprox.solvers.polish import crossover
from gridprox.solvers.race import RACERS, Racer, highs_racer, pdhg_crossover_racer, race, race_with_highs
from gridprox.solvers.result import Result
from kkt import assert_exact_vertex, highs_reference

TWO_CPUS = len(os.sched_getaffinity(0)) >= 2


@pytest.fixture(scope="module")
def energy_lp(toy):
    return CapacityExpansion(toy).lp()


def _no_racer_left():
    return not [t for t in threading.enumerate() if t.name.startswith(("race-", "crossover-interrupt"))]


def test_concurrent_backend_is_exact_names_its_winner_and_stops_the_other(energy_lp):
    ref = highs_reference(energy_lp)
    res = solve_lp(energy_lp, "concurrent")
    assert_exact_vertex(energy_lp, res, ref)
    racers = set(RACERS[:max(2, len(os.sched_getaffinity(0)))])
    winner = re.match(r"concurrent: (\w+) first \(([\w, ]+) stopped\)", res.message)
    assert winner and {winner[1], *winner[2].split(", ")} == racers == set(res.stages), res.message
    assert res.stages[winner[1]]["won"] and sum(s["won"] for s in res.stages.values()) == 1
    assert _no_racer_left()
    two = solve_lp(energy_lp, "concurrent", threads=2)       # the first two racers only
    assert_exact_vertex(energy_lp, two, ref)
    assert set(two.stages) == {"simplex", "pdhg"}


def test_pdhg_and_crossover_win_where_the_ipm_cannot(energy_lp):
    """An IPM held to one iteration ends at its limit first: the race waits for the PDHG racer,
    whose crossover makes its point the exact vertex."""
    ref = highs_reference(energy_lp)
    res = race_with_highs({"ipm": highs_racer(energy_lp, "ipm", {"ipm_iteration_limit": 1, "highs_presolve": "off"}),
                "pdhg": pdhg_crossover_racer(energy_lp, 1e-6, None, False)})
    assert_exact_vertex(energy_lp, res, ref)
    assert res.message.startswith("concurrent: pdhg first (ipm stopped)") and res.solver == "pdhg+crossover"
    assert res.stages["pdhg"]["won"] and res.stages["ipm"]["iterations"] >= 0
    assert _no_racer_left()


def test_a_stopped_pdhg_racer_ends_at_once(energy_lp):
    """stop() before or during the run: PDHG ends at its next check, the crossover is skipped."""
    racer = pdhg_crossover_racer(energy_lp, 1e-9, None, False)
    racer.stop()
    t0 = time.perf_counter()
    res = racer.run()
    assert res.status in ("time_limit", "optimal_inaccurate") and res.iterations <= 64, res
    assert "crossover" not in (res.stages or {}) and time.perf_counter() - t0 < 10
    # the interrupt option itself: every scenario of a batch stops at the first check
    batch = solve_lp(energy_lp.stack([energy_lp, energy_lp]), "pdhg", tol=1e-9, interrupt=lambda: True)
    assert [r.iterations <= 64 and r.status in ("time_limit", "optimal_inaccurate") for r in batch] == [True, True]


def test_an_interrupted_crossover_keeps_the_point_and_says_so(energy_lp):
    point = solve_lp(energy_lp, "pdhg", tol=1e-3, each_row=False)
    kept = crossover(energy_lp, point, interrupt=lambda: True)
    assert kept is point and kept.solver == "pdhg"
    asked = []

    def later():                 # true from the third poll on: HiGHS is stopped while it runs
        asked.append(1)
        return len(asked) > 2
    out = crossover(energy_lp, solve_lp(energy_lp, "pdhg", tol=1e-2, each_row=False), interrupt=later)
    assert out.status in ("optimal", "optimal_inaccurate", "time_limit") and _no_racer_left()


def test_race_semantics_with_plain_racers():
    """A racer that raises leaves the race to the others; one that settles wins over one that
    ends first at a limit; where none settles the first to end is reported; stop reaches all."""
    stopped = []

    def racer(name, status, delay, error=False):
        def run():
            time.sleep(delay)
            if error:
                raise RuntimeError("broken racer")
            return Result(status=status, iterations=7, solver=name, message=name)
        return Racer(run, lambda: stopped.append(name))
    res = race({"a": racer("a", "iteration_limit", 0.0), "b": racer("b", "optimal", 0.2),
                "c": racer("c", "optimal", 0.0, error=True)})
    assert res.solver == "b" and res.message == "concurrent: b first (a, c stopped); b"
    assert res.stages["c"]["iterations"] == -1 and sorted(stopped) == ["a", "b", "c"]
    res = race({"a": racer("a", "time_limit", 0.2), "b": racer("b", "iteration_limit", 0.0)})
    assert res.status == "iteration_limit" and res.message.startswith("concurrent: b ended first")
    with pytest.raises(RuntimeError, match="broken racer"):
        race({"c": racer("c", "optimal", 0.0, error=True)})


def test_concurrent_options_are_checked(energy_lp):
    with pytest.raises(SolverInputError, match="concurrent: threads=1"):
        solve_lp(energy_lp, "concurrent", threads=1)
    with pytest.raises(SolverInputError, match="concurrent: unknown option 'method'"):
        solve_lp(energy_lp, "concurrent", method="ipm")
    with pytest.raises(SolverInputError, match="tol"):
        solve_lp(energy_lp, "concurrent", tol=2.0)
    with pytest.raises(SolverInputError, match="concurrent: device 'meta'"):
        solve_lp(energy_lp, "concurrent", device="meta")
    with pytest.raises(SolverInputError, match="interrupt must be callable"):
        solve_lp(energy_lp, "pdhg", interrupt=3)


@pytest.mark.skipif(not TWO_CPUS, reason="a race needs two CPUs")
def test_auto_races_pdhg_from_its_size_threshold(toy, monkeypatch):
    """solver="auto": FIRST_ORDER_MIN_NNZ nonzeros and more go to the race, with the reason in
    the message, and the model's answer is HiGHS's optimum; below it, or on one thread, HiGHS."""
    assert choose_solver(False, "cpu", nnz=solvers.FIRST_ORDER_MIN_NNZ)[:2] == ("concurrent", {"device": "cpu"})
    assert choose_solver(False, "cpu", nnz=solvers.FIRST_ORDER_MIN_NNZ - 1)[:2] == ("highs", {"method": "concurrent"})
    assert choose_solver(False, "cpu", threads=1, nnz=solvers.FIRST_ORDER_MIN_NNZ)[0] == "highs"
    model = CapacityExpansion(toy)
    ref = model.solve("highs").summary["objective"].iloc[0]
    monkeypatch.setattr(solvers, "RACE_MIN_NNZ", 0)
    monkeypatch.setattr(solvers, "FIRST_ORDER_MIN_NNZ", 0)
    res = model.solve(device="cpu")
    assert res.raw.message.startswith("auto: concurrent"), res.raw.message
    assert "; concurrent: " in res.raw.message and res.summary["status"].iloc[0] == "optimal"
    assert res.summary["objective"].iloc[0] == pytest.approx(ref, rel=1e-9)


def test_verify_checks_the_race_against_an_interior_point(toy):
    """verify(solver="concurrent"): the reference is HiGHS's IPM without crossover, which is none of
    the racers on two CPUs (the simplex may win the race: it cannot vouch for itself)."""
    out = CapacityExpansion(toy).verify(solver="concurrent", gurobi_max_size=0)     # Gurobi aside
    assert out["passed"], out["lines"]
    assert any(line.startswith("reference") and "highs-ipm" in line for line in out["lines"]), out["lines"]


@pytest.mark.skipif(not TWO_CPUS, reason="a race needs two CPUs")
def test_problem_solve_without_a_solver_follows_auto_to_the_race(monkeypatch):
    """prob.solve() with no solver goes where auto sends it (here, thresholds lowered, the race);
    a HiGHS option keeps it on HiGHS, which the race would refuse."""
    import gridprox as gp
    x = gp.Variable(3, nonneg=True)
    prob = gp.Problem(gp.Minimize(gp.sum(x) + x[0]), [x[0] + x[1] >= 1, x[1] + x[2] >= 2, x <= 5])
    ref = prob.solve(solver="highs")
    monkeypatch.setattr(solvers, "RACE_MIN_NNZ", 0)
    monkeypatch.setattr(solvers, "FIRST_ORDER_MIN_NNZ", 0)
    assert prob.solve() == pytest.approx(ref, rel=1e-9)
    assert prob.solver_stats.extra_stats["message"].startswith("concurrent: ")
    prob.solve(simplex_iteration_limit=10_000)
    assert not prob.solver_stats.extra_stats["message"].startswith("concurrent: ")
    assert prob.value == pytest.approx(ref, rel=1e-9)
