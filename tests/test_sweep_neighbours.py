"""Solving plans (blocks of neighbouring scenarios) and nearest-neighbour warm starts for sweeps."""
import numpy as np
import pytest

from gridprox.solvers.result import Result
from gridprox.sweep import expand, run_sweep
from gridprox.lp.schedule import WarmStarts, coordinates, stream_plan

from sweep_helpers import solve_lp_batch
from test_sweep_runner import expected


def test_plan_cuts_sorted_scenarios_into_blocks_of_neighbours():
    scen = [{"cap": float(c)} for c in np.random.default_rng(0).permutation(64)]
    plan = stream_plan(scen, 4)
    assert sorted(i for b in plan for i in b) == list(range(64))
    assert [len(b) for b in plan] == [16] * 4                   # 4 waves of width 4 per block
    caps = [[scen[i]["cap"] for i in b] for b in plan]
    assert caps == [[float(c) for c in range(k, k + 16)] for k in range(0, 64, 16)]
    assert [len(b) for b in stream_plan(scen[:10], 2, waves=2)] == [4, 4, 2]
    assert stream_plan(scen, 1, waves=1) == [[int(i)] for i in np.argsort([s["cap"] for s in scen])]
    assert stream_plan([], 4) == []
    with pytest.raises(ValueError, match="batch_size"):
        stream_plan(scen, 0)
    # a product sweep: blocks of the sorted grid
    grid = expand({"co2_cap": [0.0, 1e6, 2e6, 3e6], "gas_price": [40.0, 100.0]})
    assert [[(grid[i]["co2_cap"], grid[i]["gas_price"]) for i in b] for b in stream_plan(grid, 2, waves=2)] == [
        [(0.0, 40.0), (0.0, 100.0), (1e6, 40.0), (1e6, 100.0)], [(2e6, 40.0), (2e6, 100.0), (3e6, 40.0), (3e6, 100.0)]]


def test_coordinates_scale_numbers_and_separate_labels():
    X = coordinates([{"cap": 0.0, "fuel": "gas"}, {"cap": 5e6, "fuel": "gas"}, {"cap": 2.5e6, "fuel": "coal"}])
    assert X.shape == (3, 3)
    assert np.allclose(X[:, 0], [0, 1, 0.5])
    assert np.linalg.norm(X[0, 1:] - X[2, 1:]) == pytest.approx(1.0)
    # a product sweep over two inputs of very different units: both spread over [0, 1]
    X = coordinates(expand({"co2_cap": [0.0, 1e6, 2e6], "gas_price": [40.0, 100.0]}))
    assert X.amin(0).tolist() == [0, 0] and X.amax(0).tolist() == [1, 1]


def _result(tag: float, ok=True):
    return Result(status="optimal" if ok else "infeasible", x=np.full(2, tag) if ok else None,
                  y=np.full(1, tag) if ok else None)


def test_warm_starts_give_the_nearest_usable_solution():
    ws = WarmStarts(limit=3)
    assert ws.nearest({"cap": 1.0}) is None
    ws.add([{"cap": 0.0}, {"cap": 10.0}, {"cap": 5.0}], [_result(0), _result(10), _result(5, ok=False)])
    assert len(ws) == 2                                    # the infeasible one is not kept
    assert ws.nearest({"cap": 4.0}).x[0] == 0
    assert ws.nearest({"cap": 6.0}).x[0] == 10
    ws.add([{"cap": 7.0}, {"cap": 8.0}], [_result(7), _result(8)])
    assert len(ws) == 3 and ws.nearest({"cap": 0.0}).x[0] == 7    # oldest dropped beyond the limit
    ws2 = WarmStarts()
    ws2.add([{"cap": 1.0, "fuel": "gas"}, {"cap": 1.0, "fuel": "coal"}], [_result(1), _result(2)])
    assert ws2.nearest({"cap": 1.0, "fuel": "coal"}).x[0] == 2


def test_run_sweep_with_a_plan_keeps_the_given_order(tmp_path):
    scen = expand({"gas_price": [20.0, 60.0, 100.0], "demand": [8.0, 12.0, 30.0]})
    plan = stream_plan(scen, 2, waves=2)[::-1]   # any order of batches
    seen = []

    def solve(batch):
        seen.append(len(batch))
        return solve_lp_batch(batch)

    table = run_sweep(solve, scen, batch_size=4, plan=plan, out=str(tmp_path), progress=False)
    assert seen == [len(b) for b in plan]
    assert list(table["scenario"]) == list(range(len(scen)))
    for row in table.itertuples():
        assert row.objective == pytest.approx(expected(row.gas_price, row.demand))
    with pytest.raises(ValueError, match="plan must hold each index"):
        run_sweep(solve, scen, plan=[[0, 1]], progress=False)
