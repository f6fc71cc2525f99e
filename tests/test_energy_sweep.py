"""CapacityExpansion.sweep: a product or a list of scenarios equals separate solves (HiGHS, the
default on a CPU, exactly; batched PDHG within its tolerance), an infeasible scenario is a row with its status while the others
finish, and an interrupted sweep resumes from ``out=`` without solving finished scenarios again."""
from __future__ import annotations

import numpy as np
import pytest

from energy_toy import toy_system
from gridprox.energy import CapacityExpansion
from gridprox.sweep import batch as sweep_batch

SPEC = {"co2_cap": [2.0e5, 3.0e5], "gas_price": [25.0, 40.0]}


@pytest.fixture(scope="module")
def model():
    return CapacityExpansion(toy_system(48, voll=3000.0), co2_cap=4.0e5)


@pytest.fixture(scope="module")
def separate(model):
    """The four scenarios solved one by one with HiGHS, in product order."""
    out = {}
    for cap in SPEC["co2_cap"]:
        for gas in SPEC["gas_price"]:
            out[(cap, gas)] = model.solve("highs", inputs={"co2_cap": cap, "gas_price": gas})
    model.set_inputs({})
    return out


def test_product_sweep_equals_separate_solves(model, separate):
    table = model.sweep(SPEC, product=True, solver="highs", progress=False)
    assert len(table) == 4 and list(table["scenario"]) == [0, 1, 2, 3]
    for row in table.itertuples():
        ref = separate[(row.co2_cap, row.gas_price)]
        assert row.status == "optimal"
        assert row.objective == pytest.approx(ref.objective, rel=1e-9)
        assert row.total_emissions_t == pytest.approx(ref.summary["total_emissions_t"].iloc[0], rel=1e-6)
        assert table.loc[row.Index, "cap_north/wind"] == pytest.approx(
            ref.capacity.set_index(["zone", "technology"]).loc[("north", "wind"), "capacity"], rel=1e-6, abs=1e-6)
    assert table["objective"].nunique() == 4     # the inputs really changed the problem


def test_default_sweep_on_a_cpu_is_exact_and_monotone(model, separate):
    """solver="auto" on a CPU: HiGHS from the last basis, so each row is the exact optimum of its
    scenario (a cold solve's objective to 1e-9) and the cost never falls as the gas price rises."""
    table = model.sweep(SPEC, progress=False, device="cpu")
    for row in table.itertuples():
        assert row.status == "optimal"
        assert row.objective == pytest.approx(separate[(row.co2_cap, row.gas_price)].objective, rel=1e-9)
    prices = np.linspace(10.0, 80.0, 8)
    costs = model.sweep({"gas_price": list(prices)}, progress=False, device="cpu")["objective"].to_numpy()
    assert np.all(np.diff(costs) >= -1e-9 * np.abs(costs[1:])), costs
    model.set_inputs({})


def test_batched_pdhg_sweep_of_a_list_equals_separate_highs(model, separate):
    scenarios = [{"co2_cap": cap, "gas_price": gas} for cap, gas in separate]
    table = model.sweep(scenarios, solver="pdhg", tol=1e-5, batch_size=4, device="cpu", progress=False)
    assert (table["status"] == "optimal").all()
    for row in table.itertuples():
        ref = separate[(row.co2_cap, row.gas_price)].objective
        assert abs(row.objective - ref) <= 1e-5 * abs(ref)     # the tolerance asked


@pytest.mark.slow
def test_streamed_pdhg_sweep_over_several_blocks_with_an_infeasible_cap(tmp_path):
    # batch_size 2: blocks of 8 neighbouring caps, each streamed through 2 columns; the second
    # block starts from the first's solutions; the zero cap is infeasible (no shedding, coal p_min)
    model = CapacityExpansion(toy_system(48), co2_cap=1e6)
    caps = [0.0] + list(np.linspace(3.3e5, 6e5, 9))
    table = model.sweep({"co2_cap": caps}, solver="pdhg", tol=1e-5, batch_size=2, device="cpu",
                        out=tmp_path, progress=False, max_iter=30_000)
    assert list(table["co2_cap"]) == caps
    assert table["status"].iloc[0] == "infeasible" and (table["status"].iloc[1:] == "optimal").all()
    for row in table.iloc[1:].itertuples():
        ref = model.solve("highs", inputs={"co2_cap": row.co2_cap}).objective
        assert abs(row.objective - ref) <= 1e-4 * abs(ref)
    model.set_inputs({})


def test_infeasible_scenario_is_reported_and_the_others_finish():
    # no load shedding and a coal plant that must run (p_min_pu 0.2): a zero cap is infeasible
    model = CapacityExpansion(toy_system(48), co2_cap=1e6)
    table = model.sweep({"co2_cap": [0.0, 4e5, 1e6]}, solver="highs", progress=False)
    assert list(table["status"]) == ["infeasible", "optimal", "optimal"]
    assert np.isnan(table["objective"].iloc[0]) and table["objective"].iloc[1:].notna().all()
    assert table["total_emissions_t"].iloc[1] == pytest.approx(4e5, rel=1e-6)


def test_interrupted_sweep_resumes_without_recomputing(model, tmp_path, monkeypatch):
    calls = []
    real = sweep_batch.SweepBatch.__call__

    def counting(self, scenarios, progress=None, on_rows=None):
        if len(calls) == 1 and not resumed:
            raise KeyboardInterrupt        # stop after the first batch of two
        calls.append([dict(s) for s in scenarios])
        return real(self, scenarios, progress, on_rows)

    monkeypatch.setattr(sweep_batch.SweepBatch, "__call__", counting)
    resumed = False
    with pytest.raises(KeyboardInterrupt):
        model.sweep(SPEC, solver="highs", batch_size=2, out=tmp_path, progress=False)
    assert len(calls) == 1
    resumed = True
    table = model.sweep(SPEC, solver="highs", batch_size=2, out=tmp_path, progress=False)
    assert len(calls) == 2 and calls[1] == [{"co2_cap": 3.0e5, "gas_price": 25.0}, {"co2_cap": 3.0e5, "gas_price": 40.0}]
    assert len(table) == 4 and (table["status"] == "optimal").all()
    again = model.sweep(SPEC, solver="highs", batch_size=2, out=tmp_path, progress=False)
    assert len(calls) == 2                       # everything was finished: nothing solved
    np.testing.assert_allclose(again["objective"], table["objective"])


def test_pdhg_rows_are_kept_as_scenarios_finish_inside_a_batch(model, tmp_path, monkeypatch):
    """A streamed PDHG batch of four interrupted after its second scenario finished: the two
    finished rows are on disk, and the rerun solves only the other two."""
    real = sweep_batch.SweepBatch.__call__
    solved, handed = [], []

    def interrupting(self, scenarios, progress=None, on_rows=None):
        solved.append(len(scenarios))

        def rows(found):
            on_rows(found)
            handed.extend(found)
            if len(handed) == 2 and len(solved) == 1:
                raise KeyboardInterrupt
        return real(self, scenarios, progress, rows)

    monkeypatch.setattr(sweep_batch.SweepBatch, "__call__", interrupting)
    with pytest.raises(KeyboardInterrupt):
        model.sweep(SPEC, solver="pdhg", tol=1e-5, batch_size=2, device="cpu", out=tmp_path, progress=False)
    table = model.sweep(SPEC, solver="pdhg", tol=1e-5, batch_size=2, device="cpu", out=tmp_path, progress=False)
    assert solved == [4, 2] and len(table) == 4 and (table["status"] == "optimal").all()
    for row in table.itertuples():
        ref = model.solve("highs", inputs={"co2_cap": row.co2_cap, "gas_price": row.gas_price}).objective
        assert abs(row.objective - ref) <= 2e-5 * abs(ref)
    model.set_inputs({})


def test_sweep_builds_the_policy_row_it_needs_once():
    model = CapacityExpansion(toy_system(48, voll=3000.0))         # no CO2 cap row
    table = model.sweep({"co2_cap": [2.0e5, 3.0e5]}, solver="highs", progress=False)
    assert (table["status"] == "optimal").all()
    np.testing.assert_allclose(table["total_emissions_t"], [2.0e5, 3.0e5], rtol=1e-6)
