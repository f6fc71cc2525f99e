"""CapacityExpansion on the in-memory two-zone toy: result tables agree with each other and with
the objective, prices are marginal costs of demand, PDHG agrees with HiGHS, inputs refill
Parameters without recompiling, and the CLI-facing API (describe, verify, summary) holds."""
from __future__ import annotations

import os
import re

import numpy as np
import pandas as pd
import pytest

from energy_toy import toy_system
from gridprox.energy import CapacityExpansion
from gridprox.errors import ModelingError


@pytest.fixture(scope="module")
def model(toy):
    return CapacityExpansion(toy)


@pytest.fixture(scope="module")
def highs(model):
    model.set_inputs({})
    return model.solve("highs")


def _weights(toy):
    return toy.snapshots["weight"]


# ------------------------------------------------------------------ tables
def test_summary_columns_and_status(highs):
    cols = ["objective", "status", "solver", "solve_seconds", "iterations", "primal_residual", "dual_residual",
            "gap", "max_violation", "total_emissions_t"]
    assert set(cols) <= set(highs.summary.columns)
    assert highs.status == "optimal" and highs.summary["solver"].iloc[0] == "highs"
    assert highs.summary["max_violation"].iloc[0] < 1e-6


def test_costs_sum_to_objective_and_fuel_costs(toy, highs):
    assert highs.costs["cost"].sum() == pytest.approx(highs.objective, rel=1e-9)
    w = _weights(toy)
    disp = highs.dispatch.set_index(["zone", "technology", "snapshot"])["power_mw"]
    gas = disp.sort_index().loc[("north", "gas")]
    g = toy.generators.loc["gas north"]
    fuel = float((gas * w.to_numpy()).sum() * g.fuel_cost / g.efficiency)
    got = highs.costs.set_index(["zone", "technology", "component"]).loc[("north", "gas", "fuel"), "cost"]
    assert got == pytest.approx(fuel, rel=1e-9)
    capex = highs.costs.set_index(["zone", "technology", "component"]).loc[("north", "wind", "capex"), "cost"]
    wind = highs.capacity.set_index(["zone", "technology"]).loc[("north", "wind"), "capacity"]
    assert capex == pytest.approx(95_000 * wind, rel=1e-9)


def test_emissions_equal_weighted_dispatch_times_factor(toy, highs):
    w = _weights(toy).to_numpy()
    factor = toy.emission_factor()
    expected = {}
    for name, g in toy.generators.iterrows():
        p = highs.dispatch[(highs.dispatch.zone == g.bus) & (highs.dispatch.technology == g.carrier)]
        expected[(g.bus, g.carrier)] = float((p["power_mw"].to_numpy() * w).sum() * factor[name])
    got = highs.emissions.set_index(["zone", "technology"])["emissions_t"]
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-6)
    assert highs.summary["total_emissions_t"].iloc[0] == pytest.approx(sum(expected.values()), rel=1e-9)
    assert sum(expected.values()) > 1e3          # the toy burns coal (fixed, p_min_pu 0.2)


def test_dispatch_balances_demand_and_respects_capacities(toy, highs):
    net = highs.dispatch.groupby(["snapshot", "zone"])["power_mw"].sum()
    demand = highs.demand.set_index(["snapshot", "zone"])["demand_mw"]
    np.testing.assert_allclose(net.reindex(demand.index).fillna(0.0).to_numpy(), demand.to_numpy(), atol=1e-6)
    cap = highs.capacity.set_index(["zone", "technology", "kind"])["capacity"]
    assert cap[("north", "wind", "generator")] <= 150 + 1e-6
    level = highs.storage_level.groupby("storage")["energy_mwh"].max()
    assert level["battery north"] <= cap[("north", "battery", "storage_energy")] + 1e-6
    assert cap[("north", "battery", "storage_energy")] == pytest.approx(4 * cap[("north", "battery", "storage_power")])
    flows = highs.flows.pivot(index="snapshot", columns="line", values="flow_mw")
    assert flows["north-south DC"].abs().max() <= 30 + 1e-6
    assert flows["north-south AC"].abs().max() <= cap[("north->south", "AC", "line")] + 1e-6


def test_prices_are_marginal_costs_of_demand(model, highs, toy):
    """price[t, zone] = d objective / d demand[t, zone] / weight[t] (central differences, re-solved)."""
    demand = model.parameter("demand")
    base = demand.value.copy()
    prices = highs.prices.pivot(index="snapshot", columns="zone", values="price")
    w = _weights(toy).to_numpy()
    try:
        for t, zone in ((5, "north"), (13, "south"), (30, "north")):
            j = list(model.buses).index(zone)
            h, obj = 1e-3, []
            for sign in (1, -1):
                bumped = base.copy()
                bumped[t, j] += sign * h
                demand.value = bumped
                obj.append(model.solve("highs").objective)
            fd = (obj[0] - obj[1]) / (2 * h) / w[t]
            assert prices[zone].iloc[t] == pytest.approx(fd, rel=1e-4, abs=1e-6)
    finally:
        demand.value = base


def test_result_files_round_trip(highs, tmp_path):
    highs.to_csv(tmp_path / "csv")
    back = type(highs).read(tmp_path / "csv")
    pd.testing.assert_frame_equal(back.capacity, highs.capacity, check_dtype=False)
    assert back.summary["objective"].iloc[0] == pytest.approx(highs.objective)


# ------------------------------------------------------------------ PDHG vs HiGHS
@pytest.mark.slow
@pytest.mark.parametrize("tol", [1e-4, 1e-6])
def test_pdhg_agrees_with_highs_within_tol(model, highs, tol):
    model.set_inputs({})
    pdhg = model.solve("pdhg", tol=tol, device="cpu", polish=None)    # PDHG's own point, not polished
    assert pdhg.status == "optimal" and pdhg.raw.solver == "pdhg"
    assert abs(pdhg.objective - highs.objective) <= tol * abs(highs.objective)
    assert pdhg.costs["cost"].sum() == pytest.approx(pdhg.objective, rel=1e-6)
    if tol <= 1e-6:   # prices (duals) agree on average; single hours may be degenerate
        a = pdhg.prices.groupby("zone")["price"].mean()
        b = highs.prices.groupby("zone")["price"].mean()
        np.testing.assert_allclose(a[["north", "south"]], b[["north", "south"]], rtol=1e-3)


# ------------------------------------------------------------------ refilling, no recompiling
def test_inputs_refill_parameters_without_recompiling(toy, monkeypatch):
    inputs = {"gas_price": 45.0, "demand_scale": 1.1, "wind_capex": 80_000.0, "co2_price": 40.0,
              "battery_marginal_cost": 0.3, "voll": 5000.0}
    edited = toy.copy()
    gas = edited.generators["carrier"] == "gas"
    edited.generators.loc[gas, "fuel_cost"] = 45.0
    edited.generators.loc["wind north", "capital_cost"] = 80_000.0
    edited.storage_units["marginal_cost"] = 0.3
    edited.demand *= 1.1
    edited.meta["voll"] = 5000.0
    edited.meta["policies"]["co2_price"] = 40.0
    expected = CapacityExpansion(edited).solve("highs").objective

    model = CapacityExpansion(toy)
    base = model.solve("highs").objective
    lp_before = model.pp

    def no_compile(*args, **kwargs):
        raise AssertionError("recompiled")

    from gridprox.compile import compiler
    monkeypatch.setattr(compiler, "compile_problem", no_compile)
    res = model.solve("highs", inputs=inputs)
    assert model.pp is lp_before
    assert res.objective == pytest.approx(expected, rel=1e-9)
    assert res.objective != pytest.approx(base, rel=1e-3)
    # profiles are a Parameter too: less wind, higher cost, same compiled program
    avail = model.parameter("availability")
    scaled = avail.value.copy()
    scaled[:, list(toy.generators.index).index("wind north")] *= 0.5
    avail.value = scaled
    assert model.solve("highs").objective > res.objective
    model.set_inputs({})
    assert model.solve("highs").objective == pytest.approx(base, rel=1e-9)


def test_every_sweepable_input_moves_a_parameter(model):
    base = {p.name(): np.asarray(v, dtype=float) for p, v in model.values_for({}).items()}
    for name in model.sweepable():
        if name in ("renewable_share", "reserve_margin", "co2_cap", "scenario"):
            continue            # policy rows: tested in test_energy_policies
        values = model.values_for({name: 1.2345})
        moved = [p.name() for p, v in values.items() if not np.allclose(np.asarray(v, dtype=float), base[p.name()])]
        assert moved, name


def test_input_errors_are_clear(model):
    with pytest.raises(KeyError, match="nuclear_price"):
        model.set_inputs({"nuclear_price": 3.0})
    with pytest.raises(ModelingError, match="co2_cap"):   # no cap row to fill in this model ...
        model.set_inputs({"co2_cap": 1e5})
    capped = model.solve("highs", inputs={"co2_cap": 1e5})  # ... so solve uses a sibling that has one
    assert capped.summary["total_emissions_t"].iloc[0] == pytest.approx(1e5, rel=1e-6)
    assert "co2_cap" not in model.params
    with pytest.raises(ValueError, match="gas_price"):
        model.set_inputs({"gas_price": "cheap"})
    with pytest.raises(ValueError, match="non-negative"):
        model.set_inputs({"wind_capex": -1.0})
    with pytest.raises(ValueError, match="non-negative"):
        model.set_inputs({"demand_scale": -0.5})
    model.set_inputs({})


# ------------------------------------------------------------------ CLI-facing API
@pytest.mark.slow
def test_describe_verify_and_repr(model):
    d = model.describe()
    assert {"zones", "snapshots", "technologies", "description"} <= set(d)
    assert d["zones"] == 2 and d["snapshots"] == 48
    info = model.system.describe()
    assert {"zones", "snapshots", "technologies", "description"} <= set(info)
    assert model.system.currency == "EUR"
    model.set_inputs({})
    out = model.verify(tol=1e-4, device="cpu")
    assert out["passed"] is True and any("highs" in line for line in out["lines"])
    assert "toy" in repr(model)


@pytest.mark.slow
def test_two_stage_stochastic_model_tables():
    from gridprox import datasets

    system = datasets.load_system("de-stochastic")
    model = CapacityExpansion(system, hours=48, stochastic=True)
    res = model.solve("highs")
    assert res.status == "optimal"
    assert res.costs["cost"].sum() == pytest.approx(res.objective, rel=1e-9)    # expected cost
    assert set(res.prices["scenario"]) == set(system.scenarios.index)
    assert len(res.dispatch.drop_duplicates(["snapshot", "scenario"])) == 48 * 3
    # shared capacities cost at least the probability-weighted wait-and-see optimum
    prob = system.scenarios["weight"]
    wait_and_see = sum(p * CapacityExpansion(system, hours=48, scenario=k).solve("highs").objective
                       for k, p in prob.items())
    assert res.objective >= wait_and_see - 1e-6 * abs(wait_and_see)
    assert res.objective <= max(CapacityExpansion(system, hours=48, scenario=k).solve("highs").objective
                                for k in prob.index)


@pytest.mark.parametrize("solver", ["cvxpy", "gurobi"])
def test_other_backends_agree_with_highs(solver):
    if solver == "gurobi":
        pytest.importorskip("gurobipy")
    model = CapacityExpansion(toy_system(24, voll=3000.0))
    ref = model.solve("highs")
    try:
        res = model.solve(solver)
    except Exception as exc:  # noqa: BLE001 - e.g. no Gurobi licence on this machine
        if solver == "gurobi":
            pytest.skip(f"gurobi not usable here: {exc}")
        raise
    assert res.status == "optimal" and res.summary["solver"].iloc[0].startswith(solver)
    assert res.objective == pytest.approx(ref.objective, rel=1e-7)
    north = [r.prices[r.prices["zone"] == "north"]["price"].to_numpy() for r in (res, ref)]
    np.testing.assert_allclose(north[0], north[1], rtol=1e-6, atol=1e-6)


def test_auto_solver_says_what_it_chose(toy, monkeypatch):
    """solver="auto" (the default): HiGHS for one LP on a CPU, with the reason in the message;
    the same optimum as asking for HiGHS; on a CPU sweeps go to HiGHS too."""
    from gridprox import solvers
    from gridprox.solvers import choose_solver
    model = CapacityExpansion(toy)
    auto = model.solve(device="cpu")
    assert auto.raw.solver == "highs" and auto.raw.message.startswith("auto: highs")
    assert auto.summary["objective"].iloc[0] == pytest.approx(model.solve("highs").summary["objective"].iloc[0],
                                                             rel=1e-9)
    assert choose_solver(True, "cpu")[0] == "highs" and choose_solver(False, "cpu")[0] == "highs"
    # a large single LP with two CPUs or more races HiGHS's methods; one thread or a small LP does not
    assert choose_solver(False, "cpu", threads=1)[1] == {} and "concurrent" not in auto.raw.message
    if len(os.sched_getaffinity(0)) >= 2:
        assert choose_solver(False, "cpu", nnz=solvers.RACE_MIN_NNZ)[1] == {"method": "concurrent"}
        monkeypatch.setattr(solvers, "RACE_MIN_NNZ", 0)
        raced = model.solve(device="cpu")
        assert re.search(r"; concurrent: (ipm|simplex) first", raced.raw.message), raced.raw.message
        assert raced.summary["objective"].iloc[0] == pytest.approx(auto.summary["objective"].iloc[0], rel=1e-9)
