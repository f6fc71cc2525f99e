"""Streamed batches: ``width`` scenarios iterate at once and a waiting one enters as one
finishes (gridprox.lp.admission).  Every scenario must still be solved to the tolerance
(checked against HiGHS), keep its own statuses and limits, and start from the solved ones."""
import numpy as np
import pytest
import torch

from gridprox import LinearProgram
from gridprox.lp.schedule import Stream
from gridprox.errors import SolverError
from gridprox.solvers import solve_lp
from gridprox.solvers.pdhg import solve_pdhg
from test_pdhg_helpers import assert_solution, highs, scenario_sweep, vertex_lp


def test_admission_seeds_spread_then_nearest_to_the_finished():
    a = Stream(12, 3, coordinates=torch.arange(12.0).flip(0))   # coordinates decide, not the index
    assert sorted(a.initial) == [1, 5, 9]                          # centres of 3 chains of 4
    assert a.source(0) is None                                     # nothing solved yet: the given start
    a.finished([5], [True])
    assert a.admit(1) == [6]                                       # next to the solved one (first in order)
    a.finished([9], [False])                                       # infeasible: never a source
    # 4 is next to the solved 5; then 7 and 3 are 2 from it, and 7 is nearer the one that just finished
    assert a.admit(2) == [4, 7]
    assert a.source(8)[0] == 5 and a.source(8)[1] is None          # only one solved
    a.finished([4, 6], [True, True])
    s1, s2, t = a.source(3)                                        # secant 5 -> 4 extended to 3
    assert (s1, s2, t) == (4, 5, 1.0)
    s1, s2, t = a.source(7)
    assert (s1, s2, t) == (6, 5, 1.0)
    with pytest.raises(ValueError, match="coordinates"):
        Stream(3, 2, coordinates=[[0.0], [np.nan], [1.0]])
    with pytest.raises(ValueError, match="width"):
        Stream(3, 0)


def test_streamed_batch_solves_every_scenario_to_tolerance():
    batch = scenario_sweep(8, zones=1, hours=96, seed=5)
    refs = [highs(batch.scenario(k)) for k in range(8)]
    plain = solve_pdhg(batch, tol=1e-5)
    streamed = solve_pdhg(batch, tol=1e-5, width=3)
    for k in range(8):
        assert_solution(streamed[k], refs[k], 1e-5)
        assert_solution(plain[k], refs[k], 1e-5)
    # iterations count from when a scenario entered: none of the 8 took the whole run
    assert max(r.iterations for r in streamed) < sum(r.iterations for r in streamed) / 3


def test_finished_columns_are_taken_over_in_place(monkeypatch):
    """A scenario that enters takes a finished one's column: after every check, each active
    column holds the data of the scenario its id names, and the width stays full while
    scenarios wait."""
    from dataclasses import fields
    from gridprox.lp import solver as pdhg_lp
    from gridprox.solvers.pdhg import to_tensors
    batch = scenario_sweep(7, zones=1, hours=48, seed=3)
    seen, replaced = [], []
    settle, replace = pdhg_lp._Solve._settle, pdhg_lp._Solve._replace

    def checked_settle(self, free):
        settle(self, free)
        if not isinstance(self.schedule, Stream):       # a polishing solve within (lp/polish.py)
            return
        for f in fields(self.pool):
            src = getattr(self.pool, f.name)
            if src.shape[-1] != 1 and self.s.W:
                assert torch.equal(getattr(self.d, f.name), src[..., self.s.ids]), f.name
        seen.append((self.s.W, bool(self.schedule.waiting.any())))

    monkeypatch.setattr(pdhg_lp._Solve, "_settle", checked_settle)
    monkeypatch.setattr(pdhg_lp._Solve, "_replace", lambda self, cols, picks: (replaced.append(cols),
                                                                               replace(self, cols, picks)))
    lp = to_tensors(batch.with_infinite_bounds(), torch.device("cpu"), torch.float64)
    sol = pdhg_lp.solve(lp, pdhg_lp.PDHGOptions(tol=1e-5), width=3, coordinates=torch.arange(7.0))
    assert replaced and all(w == 3 for w, waiting in seen if waiting)
    refs = [highs(batch.scenario(k)) for k in range(7)]
    for k in range(7):
        assert sol.status[k] == "optimal"
        objective = float(sol.residuals["primal_objective"][k])
        assert abs(objective - refs[k].objective) <= 1e-4 * (1 + abs(refs[k].objective))


@pytest.mark.slow
def test_stream_warm_starts_from_solved_neighbours(toy_co2):
    caps = np.linspace(3.3e5, 6e5, 8)
    batch = toy_co2.batch([{"co2_cap": c} for c in caps])
    refs = [solve_lp(toy_co2.lp({"co2_cap": c}), solver="highs") for c in caps]
    cold = solve_lp(batch, solver="pdhg", tol=1e-5, width=8)                       # all at once, cold
    streamed = solve_lp(batch, solver="pdhg", tol=1e-5, width=2, coordinates=caps)
    for res, ref in zip(streamed, refs):
        assert res.status == "optimal"
        assert abs(res.objective - ref.objective) <= 1e-4 * abs(ref.objective)
    # the 6 scenarios admitted later start near their solution: fewer iterations than cold
    assert sum(r.iterations for r in streamed) < sum(r.iterations for r in cold)


def test_stream_with_an_infeasible_scenario_and_per_matrix_values(toy_co2):
    caps = [0.0, 3.3e5, 4.0e5, 5.0e5]
    out = solve_lp(toy_co2.batch([{"co2_cap": c} for c in caps]), solver="pdhg", tol=1e-5, max_iter=20_000,
                   width=2, coordinates=caps)
    assert [r.status for r in out] == ["infeasible", "optimal", "optimal", "optimal"]
    lps = []
    for k in range(4):
        lp = vertex_lp(30, 40, 7)
        A = lp.A.copy()
        A.data = A.data * (1 + 0.2 * k)
        lps.append(LinearProgram(c=lp.c * (1 + 0.1 * k), A=A, lc=lp.lc, uc=lp.uc, lx=lp.lx, ux=lp.ux, c0=lp.c0))
    batch = LinearProgram.stack(lps)
    assert batch.A_values is not None
    for lp, res in zip(lps, solve_pdhg(batch, tol=1e-6, width=2)):
        assert_solution(res, highs(lp), 1e-6, duals=True)


def test_stream_limits_count_per_scenario():
    batch = scenario_sweep(4, zones=1, hours=96, seed=1)
    out = solve_pdhg(batch, tol=1e-9, max_iter=300, width=2)
    assert all(r.status in ("iteration_limit", "optimal_inaccurate") for r in out)
    assert all(r.iterations == 300 for r in out)
    assert all(r.x is not None for r in out)


def test_bad_stream_options_are_refused():
    batch = scenario_sweep(3, zones=1, hours=24, seed=0)
    with pytest.raises(SolverError, match="width"):
        solve_pdhg(batch, width=0)
    with pytest.raises(SolverError, match="coordinates"):
        solve_pdhg(batch, width=2, coordinates=np.zeros((2, 1)))
    with pytest.raises(SolverError, match="coordinates"):
        solve_pdhg(batch, width=2, coordinates=[0.0, np.inf, 1.0])


def test_on_finish_counts_every_scenario_once():
    batch = scenario_sweep(5, zones=1, hours=48, seed=4)
    for kwargs in ({}, {"width": 2}, {"sequential": True}):
        counts = []
        out = solve_pdhg(batch, tol=1e-4, on_finish=counts.append, **kwargs)
        assert sum(counts) == 5 and len(out) == 5
    counts = []
    solve_pdhg(batch, tol=1e-4, width=2, on_finish=counts.append)
    assert len(counts) >= 3          # reported as scenarios finish, not once at the end
