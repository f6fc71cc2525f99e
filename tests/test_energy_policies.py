"""Policies and time options of CapacityExpansion, each checked where it binds (so a model that
ignored the option would fail): CO2 cap and price, renewable share, planning reserve margin,
min/max build, ramp limits; hours=, resample=, rep_days= (weights, durations, cyclic storage)."""
from __future__ import annotations

import numpy as np
import pytest

from energy_toy import toy_system
from gridprox.energy import CapacityExpansion

W = 8760 / 48          # toy snapshot weight (48 hourly snapshots standing for a year)


@pytest.fixture(scope="module")
def free(toy):
    """The unconstrained optimum every policy test moves away from."""
    return CapacityExpansion(toy).solve("highs")


def _emissions(res) -> float:
    return float(res.summary["total_emissions_t"].iloc[0])


def _cap(res, technology, kind=None, zone=None) -> float:
    c = res.capacity[res.capacity["technology"] == technology]
    if kind is not None:
        c = c[c["kind"] == kind]
    if zone is not None:
        c = c[c["zone"] == zone]
    return float(c["capacity"].sum())


# ------------------------------------------------------------------ CO2
def test_co2_cap_binds_and_its_dual_is_the_co2_price(toy, free):
    cap = 0.5 * _emissions(free)
    model = CapacityExpansion(toy, co2_cap=cap)
    res = model.solve("highs")
    assert res.status == "optimal"
    assert _emissions(res) == pytest.approx(cap, rel=1e-6)
    assert res.objective > free.objective
    price = -res.sensitivity("co2_cap")          # currency per tonne of allowance
    assert price > 0
    # a loose cap changes nothing
    loose = model.solve("highs", inputs={"co2_cap": 2 * _emissions(free)})
    assert loose.objective == pytest.approx(free.objective, rel=1e-9)
    assert -loose.sensitivity("co2_cap") == pytest.approx(0.0, abs=1e-6)


def test_co2_price_is_charged_and_cuts_emissions(toy, free):
    res = CapacityExpansion(toy, co2_price=100.0).solve("highs")
    co2 = res.costs[res.costs["component"] == "co2"]["cost"].sum()
    assert co2 == pytest.approx(100.0 * _emissions(res), rel=1e-9)
    assert res.costs["cost"].sum() == pytest.approx(res.objective, rel=1e-9)
    assert _emissions(res) < _emissions(free)


# ------------------------------------------------------------------ renewables, reserves, build limits
def _renewable_share(res) -> float:
    d = res.dispatch
    renewable = d[d["technology"].isin(["wind", "solar"])]["power_mw"].sum()
    return float(renewable / res.demand["demand_mw"].sum())


def test_renewable_share_binds(toy):
    windy = toy.copy()
    windy.generators.loc["wind north", "p_nom_max"] = np.inf      # room to build more than the optimum
    free = CapacityExpansion(windy).solve("highs")
    target = _renewable_share(free) + 0.03
    model = CapacityExpansion(windy, renewable_share=target)
    res = model.solve("highs")
    assert res.status == "optimal"
    assert _renewable_share(res) == pytest.approx(target, rel=1e-6)
    assert res.objective > free.objective
    looser = model.solve("highs", inputs={"renewable_share": 0.5})     # refilled, not binding
    assert looser.objective == pytest.approx(free.objective, rel=1e-9)


def _firm(res, toy) -> float:
    """Capacity credit at the peak-demand hour: generators x availability, storage power, the fuel cell."""
    peak = int(np.argmax(toy.demand.to_numpy().sum(axis=1)))
    caps = res.capacity
    total = 0.0
    for name, g in toy.generators.iterrows():
        total += toy.availability[name].iloc[peak] * _cap(res, g.carrier, "generator", g.bus)
    total += _cap(res, "battery", "storage_power")
    total += 0.5 * float(caps[caps["technology"] == "fuel cell"]["capacity"].sum())
    return total


def test_reserve_margin_binds(toy, free):
    peak = float(toy.demand.to_numpy().sum(axis=1).max())
    assert _firm(free, toy) < 1.5 * peak
    res = CapacityExpansion(toy, reserve_margin=0.5).solve("highs")
    assert _firm(res, toy) == pytest.approx(1.5 * peak, rel=1e-6)
    assert res.objective > free.objective


def test_reserve_margin_follows_swept_profiles(toy):
    """The capacity credit reads the availability Parameter: a refilled profile equals a rebuilt model."""
    model = CapacityExpansion(toy, reserve_margin=0.5)
    refilled = model.solve("highs", inputs={"wind_availability_scale": 0.5}).objective
    calm = toy.copy()
    calm.availability["wind north"] *= 0.5
    assert refilled == pytest.approx(CapacityExpansion(calm, reserve_margin=0.5).solve("highs").objective, rel=1e-9)


def test_min_and_max_build(toy, free):
    assert _cap(free, "hydrogen") < 1 and _cap(free, "wind") > 100
    res = CapacityExpansion(toy, min_build={"hydrogen": 500.0}, max_build={"wind": 100.0}).solve("highs")
    assert _cap(res, "hydrogen") == pytest.approx(500.0, rel=1e-6)
    assert _cap(res, "wind") == pytest.approx(100.0, rel=1e-6)


def test_ramp_limits(toy):
    steep = toy.copy()
    steep.generators.loc["gas north", ["ramp_limit_up", "ramp_limit_down"]] = 0.05

    def gas_steps(res):
        d = res.dispatch
        p = d[(d["zone"] == "north") & (d["technology"] == "gas")]["power_mw"].to_numpy()
        return np.abs(np.diff(p)).max(), _cap(res, "gas", "generator", "north")

    step, cap = gas_steps(CapacityExpansion(steep, ramp_limits=False).solve("highs"))
    assert step > 0.05 * cap + 1.0            # without the limit gas ramps hard
    step, cap = gas_steps(CapacityExpansion(steep).solve("highs"))
    assert step <= 0.05 * cap + 1e-6


# ------------------------------------------------------------------ time options
def _battery_balance(model, res):
    """Residual of the battery's state-of-charge recursion, wrapped cyclically within each period."""
    v = model.pp.variable_values(np.asarray(res.raw.x))
    soc = v[model.vars["state_of_charge"]][:, 0]
    store = v[model.vars["storage_store"]][:, 0]
    disp = v[model.vars["storage_dispatch"]][:, 0]
    dur = model.system.snapshots["duration"].to_numpy()
    periods = model.system.snapshots["period"].to_numpy()
    prev = np.arange(len(soc)) - 1
    for p in np.unique(periods):
        idx = np.flatnonzero(periods == p)
        prev[idx[0]] = idx[-1]
    expected = (0.999 ** dur) * soc[prev] + dur * (0.95 * store - disp / 0.95)
    return np.abs(soc - expected).max(), soc


def test_hours_keeps_the_first_snapshots_and_the_year(toy):
    model = CapacityExpansion(toy, hours=24)
    assert model.time.T == 24 and model.time.w.sum() == pytest.approx(8760)
    res = model.solve("highs")
    assert res.status == "optimal" and res.prices["snapshot"].nunique() == 24
    assert _battery_balance(model, res)[0] < 1e-6


@pytest.mark.slow
def test_resample_to_three_hour_steps(toy):
    model = CapacityExpansion(toy, resample="3h")
    snaps = model.system.snapshots
    assert len(snaps) == 16 and (snaps["duration"] == 3).all()
    assert snaps["weight"].sum() == pytest.approx(8760) and model.time.w.sum() == pytest.approx(8760)
    np.testing.assert_allclose(model.system.demand["north"].iloc[1], toy.demand["north"].iloc[3:6].mean())
    res = model.solve("highs")
    assert res.status == "optimal"
    assert _battery_balance(model, res)[0] < 1e-6      # storage integrates over 3 h
    coarse = CapacityExpansion(toy, resample=1).solve("highs")
    assert coarse.objective == pytest.approx(CapacityExpansion(toy).solve("highs").objective, rel=1e-9)


def test_rep_days_weights_and_cyclic_storage_per_day():
    week = toy_system(24 * 6, voll=3000.0)
    model = CapacityExpansion(week, rep_days=2)
    snaps = model.system.snapshots
    assert snaps["period"].nunique() == 2 and len(snaps) == 48
    assert snaps["weight"].sum() == pytest.approx(8760)          # the kept days stand for the whole year
    per_day = snaps.groupby("period")["weight"].sum()
    assert set(np.round(per_day / (8760 / 6))) <= {1, 2, 3, 4, 5} and per_day.sum() == pytest.approx(8760)
    res = model.solve("highs")
    assert res.status == "optimal"
    gap, soc = _battery_balance(model, res)
    assert gap < 1e-6
    # cyclic per day, not across days: the wrap from the end of a day to its own start holds above;
    # the last hour of day 1 does not feed the first hour of day 2
    assert res.storage_level["snapshot"].nunique() == 48


def test_one_time_option_only(toy):
    with pytest.raises(ValueError, match="one time resolution"):
        CapacityExpansion(toy, hours=24, resample="3h")
    with pytest.raises(ValueError, match="whole multiple"):
        CapacityExpansion(toy, resample="90min")
