"""Sweep machinery: expansion, parsing, incremental store, resume, executors, Dask."""
import concurrent.futures as cf

import numpy as np
import pandas as pd
import pytest

from gridprox.sweep import SweepStore, expand, parse_param, run_sweep

from sweep_helpers import solve_lp_batch


def expected(gas_price, demand):
    # merit order: gas up to 10 at gas_price, then 5 at 50, then the rest at 80
    costs = sorted([(gas_price, 10), (50.0, 5), (80.0, np.inf)])
    left, total = demand, 0.0
    for c, cap in costs:
        take = min(left, cap)
        total += c * take
        left -= take
    return total


def test_expand_product_and_zip():
    assert len(expand({"a": [1, 2], "b": [3, 4, 5]})) == 6
    assert expand({"a": [1, 2], "b": [3, 4]}, product=False) == [{"a": 1, "b": 3}, {"a": 2, "b": 4}]
    with pytest.raises(ValueError, match="equally long"):
        expand({"a": [1, 2], "b": [3]}, product=False)
    assert expand([{"a": 1}, {"a": 2}]) == [{"a": 1}, {"a": 2}]


def test_parse_param():
    assert parse_param("co2_cap=0:2e6:3") == ("co2_cap", [0.0, 1e6, 2e6])
    assert parse_param("gas_price=30,60,90") == ("gas_price", [30.0, 60.0, 90.0])
    for bad in ["co2_cap", "=1,2", "x=1:2", "x=a,b", "x=0:1:0"]:
        with pytest.raises(ValueError, match="bad parameter"):
            parse_param(bad)


def test_local_sweep_matches_closed_form(tmp_path):
    scen = expand({"gas_price": [20.0, 60.0, 100.0], "demand": [8.0, 14.0]})
    df = run_sweep(solve_lp_batch, scen, batch_size=4, out=tmp_path, progress=False)
    assert list(df["scenario"]) == list(range(6))
    for _, row in df.iterrows():
        assert row["objective"] == pytest.approx(expected(row["gas_price"], row["demand"]), rel=1e-9)
    assert (tmp_path / "sweep.csv").exists()
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "sweep.csv")[["objective"]], df[["objective"]])


def test_failed_batch_is_recorded_and_resume_reruns_only_it(tmp_path):
    scen = [{"gas_price": 30.0, "demand": d, "explode": d == 12.0} for d in (6.0, 9.0, 12.0, 15.0)]
    calls = []

    def counting(batch):
        calls.extend(s["demand"] for s in batch)
        return solve_lp_batch(batch)

    df = run_sweep(counting, scen, batch_size=1, out=tmp_path, progress=False)
    assert list(df["status"]) == ["optimal", "optimal", "error", "optimal"]
    assert "exploded" in df.loc[2, "message"]
    # fix the failing scenario's cause but keep its inputs (same key): only it is re-run
    calls.clear()

    def fixed(batch):
        calls.extend(s["demand"] for s in batch)
        return solve_lp_batch([{**s, "explode": False} for s in batch])

    df2 = run_sweep(fixed, scen, batch_size=1, out=tmp_path, progress=False)
    assert calls == [12.0]
    assert list(df2["status"]) == ["optimal"] * 4
    assert df2.loc[2, "objective"] == pytest.approx(expected(30.0, 12.0))
    assert len(SweepStore(tmp_path).load()) == 4


def test_interrupted_sweep_keeps_finished(tmp_path):
    scen = expand({"gas_price": [40.0], "demand": [1.0, 2.0, 3.0, 4.0]})

    def interrupt_third(batch):
        if batch[0]["demand"] == 3.0:
            raise KeyboardInterrupt
        return solve_lp_batch(batch)

    with pytest.raises(KeyboardInterrupt):
        run_sweep(interrupt_third, scen, batch_size=1, out=tmp_path, progress=False)
    assert SweepStore(tmp_path).finished_keys() and len(SweepStore(tmp_path).load()) == 2
    seen = []
    df = run_sweep(lambda b: (seen.extend(s["demand"] for s in b), solve_lp_batch(b))[1],
                   scen, batch_size=1, out=tmp_path, progress=False)
    assert seen == [3.0, 4.0] and len(df) == 4


def test_thread_executor_equals_local():
    scen = expand({"gas_price": [20.0, 70.0], "demand": [3.0, 11.0, 18.0]})
    local = run_sweep(solve_lp_batch, scen, batch_size=2, progress=False)
    with cf.ThreadPoolExecutor(2) as ex:
        threaded = run_sweep(solve_lp_batch, scen, batch_size=2, executor=ex, progress=False)
    pd.testing.assert_frame_equal(local, threaded)


def test_bad_executor_and_duplicates():
    with pytest.raises(TypeError, match="executor must be"):
        run_sweep(solve_lp_batch, [{"gas_price": 1.0, "demand": 1.0}], executor=object(), progress=False)
    with pytest.raises(ValueError, match="same inputs"):
        run_sweep(solve_lp_batch, [{"gas_price": 1.0, "demand": 1.0}] * 2, progress=False)


@pytest.mark.slow
def test_dask_local_cluster_equals_local(tmp_path):
    distributed = pytest.importorskip("distributed")
    import cloudpickle
    import sweep_helpers
    cloudpickle.register_pickle_by_value(sweep_helpers)
    scen = expand({"gas_price": [20.0, 45.0, 70.0, 95.0], "demand": [3.0, 9.0, 13.0, 21.0]})
    local = run_sweep(solve_lp_batch, scen, batch_size=4, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote = run_sweep(solve_lp_batch, scen, batch_size=4, executor=client, out=tmp_path, progress=False)
    cols = ["scenario", "gas_price", "demand", "status", "objective", "x_gas"]
    pd.testing.assert_frame_equal(local[cols], remote[cols])
    assert len(remote) == 16


class _Bar:
    def __init__(self):
        self.updates = []

    def update(self, n):
        self.updates.append(n)

    def close(self):
        pass


def test_progress_counts_scenarios_as_a_batch_reports_them(monkeypatch):
    from gridprox.sweep import runner
    bar = _Bar()
    monkeypatch.setattr(runner, "_progress", lambda total, initial, enabled: bar)

    class Reporting:
        reports_progress = True

        def __call__(self, batch, progress):
            progress(1)                    # one scenario finished early inside the batch
            rows = solve_lp_batch(batch)
            if batch[0]["gas_price"] == 60.0:
                raise RuntimeError("worker lost")     # after reporting: the rest still counts once
            progress(len(batch) - 1)
            return rows

    scen = expand({"gas_price": [20.0, 60.0], "demand": [8.0, 12.0, 30.0]})
    table = run_sweep(Reporting(), scen, batch_size=3, progress=True)
    assert sum(bar.updates) == len(scen)                     # each scenario counted once
    assert bar.updates[0] == 1                               # the bar moved inside the first batch
    assert list(table["status"]).count("error") == 3
