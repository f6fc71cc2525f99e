"""A planning sweep shipped to a real Dask cluster (2 worker processes) gives the same table as
the same sweep run locally: batches of scenarios travel, each worker compiles once and solves
its batch with the batched PDHG."""
from __future__ import annotations

import pandas as pd
import pytest

from gridprox import datasets
from gridprox.energy import CapacityExpansion

distributed = pytest.importorskip("distributed")

SPEC = {"gas_price": [20.0, 50.0, 80.0, 110.0], "co2_cap": [0.0, 500.0, 1500.0, 4000.0]}


@pytest.mark.slow
def test_sixteen_scenario_sweep_on_local_cluster_equals_local(tmp_path):
    model = CapacityExpansion(datasets.load_system("de-stochastic"), hours=24)
    opts = dict(batch_size=4, solver="pdhg", tol=1e-7, device="cpu", progress=False)
    local = model.sweep(SPEC, **opts)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote = model.sweep(SPEC, executor=client, out=tmp_path, **opts)
    key = ["gas_price", "co2_cap"]
    local, remote = (t.sort_values(key).reset_index(drop=True) for t in (local, remote))
    assert len(remote) == 16 and (remote["status"] == "optimal").all()
    pd.testing.assert_frame_equal(local[key], remote[key])
    # warm starts differ between one local process and two workers, so agree to the tolerance
    pd.testing.assert_series_equal(local["objective"], remote["objective"], rtol=1e-5)
    caps = [c for c in local.columns if c.startswith("cap_")]
    assert caps and ((local[caps] - remote[caps]).abs().to_numpy() <= 1e-3 * (1 + local[caps].abs().to_numpy())).all()
    # the rows written to disk as batches arrived are the table returned
    on_disk = pd.read_csv(tmp_path / "sweep.csv").sort_values(key).reset_index(drop=True)
    pd.testing.assert_series_equal(on_disk["objective"], remote["objective"], rtol=1e-12)
    # every scenario checked against HiGHS
    highs = model.sweep(SPEC, batch_size=16, solver="highs", progress=False).sort_values(key).reset_index(drop=True)
    pd.testing.assert_series_equal(remote["objective"], highs["objective"], rtol=1e-5)
