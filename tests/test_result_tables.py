"""Results as PyPSA users read them (issue 28 item 3): static frames indexed by component name,
wide time series indexed by snapshot, index names and units, clean zeros, named sensitivities,
and the tidy long tables kept beside them."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gridprox import datasets
from gridprox.energy import CapacityExpansion
from gridprox.energy.results import Sensitivity, snap


@pytest.fixture(scope="module")
def three():
    return CapacityExpansion(datasets.load_system("three-country"), hours=24).solve(solver="highs")


@pytest.fixture(scope="module")
def energy():
    return CapacityExpansion(datasets.load_system("model-energy"), hours=24).solve(solver="highs")


def test_static_tables_are_indexed_by_component_name_with_units(three):
    system = three.model.system
    for key, opt, unit in (("generators", "p_nom_opt", "MW"), ("stores", "e_nom_opt", "MWh"),
                           ("links", "p_nom_opt", "MW"), ("lines", "s_nom_opt", "MW")):
        df = getattr(three, key)
        assert list(df.index) == list(getattr(system, key).index)
        assert df.index.name == {"generators": "Generator", "stores": "Store", "links": "Link", "lines": "Line"}[key]
        assert df.attrs["units"][opt] == unit and (df[opt] >= 0).all()
    # the static capacities are the long capacity table, by asset instead of by zone and carrier
    gens = three.generators
    by_carrier = gens.groupby(["bus", "carrier"])["p_nom_opt"].sum()
    long = three.capacity[three.capacity["kind"] == "generator"].set_index(["zone", "technology"])["capacity"]
    pd.testing.assert_series_equal(by_carrier.sort_index(), long.sort_index(), check_names=False)


def test_time_series_are_wide_frames_indexed_by_snapshot(three):
    p = three.generators_t.p
    assert p.shape == (24, len(three.generators)) and p.index.name == "snapshot"
    assert p.columns.name == "Generator" and list(p.columns) == list(three.generators.index)
    assert isinstance(p.index, pd.DatetimeIndex) and p.attrs["unit"] == "MW"
    price = three.buses_t.marginal_price
    assert price.columns.name == "Bus" and price.attrs["unit"] == "EUR/MWh"
    long = three.prices.pivot(index="snapshot", columns="zone", values="price")
    np.testing.assert_allclose(price[long.columns].to_numpy(), long.to_numpy())
    assert three.stores_t.e.attrs["unit"] == "MWh" and three.stores_t.e.columns.name == "Store"
    flows = three.flows.pivot(index="snapshot", columns="line", values="flow_mw")
    np.testing.assert_allclose(three.lines_t.p0[flows.columns].to_numpy(), flows.to_numpy(), atol=1e-9)
    # a link takes p0 at bus0 and gives p1 = -efficiency * p0 at bus1
    eff = three.links["efficiency"].to_numpy()
    np.testing.assert_allclose(three.links_t.p1.to_numpy(), -three.links_t.p0.to_numpy() * eff)
    # supply meets the load at every snapshot of DE (generators + net imports + storage links)
    assert list(three.loads_t.p.columns) == ["DE", "FR", "NL"] and three.loads_t.p.columns.name == "Load"
    with pytest.raises(AttributeError, match="available"):
        three.generators_t.q


def test_storage_series_and_long_form(energy):
    su = energy.storage_units_t
    np.testing.assert_allclose(su.p.to_numpy(), (su.p_dispatch - su.p_store).to_numpy())
    assert su.state_of_charge.attrs["unit"] == "MWh" and energy.storage_units.index.name == "StorageUnit"
    long = energy.to_frame()
    assert list(long.columns) == ["snapshot", "component", "name", "attribute", "value", "unit"]
    gen = long[(long["component"] == "Generator") & (long["attribute"] == "p")]
    assert len(gen) == energy.generators_t.p.size and set(gen["unit"]) == {"MW"}
    assert energy.prices.attrs["units"] == {"price": "EUR/MWh"} and energy.costs.attrs["units"] == {"cost": "EUR/a"}
    # the old tidy tables are untouched and reachable by name
    assert list(energy.to_frame("dispatch").columns) == ["snapshot", "zone", "technology", "power_mw"]
    with pytest.raises(KeyError, match="dispatch"):
        energy.to_frame("nothing")


def test_sensitivity_is_a_named_value_with_its_unit(energy):
    g = energy.sensitivity("wind_marginal_cost")
    assert isinstance(g, Sensitivity) and isinstance(g, float)
    assert g.name == "d objective / d wind_marginal_cost" and g.unit == "MWh"
    assert "MWh" in repr(g)
    # d cost / d wind's marginal cost is the wind energy produced over the weighted horizon
    wind = energy.generators_t.p["wind"].to_numpy() @ energy.model.time.w
    assert float(g) == pytest.approx(wind, rel=1e-6)
    grad = energy.sensitivity("demand")
    assert grad.shape == (24, 2) and grad.unit == "EUR/MW" and grad.name == "d objective / d demand"


def test_clean_zeros_snap_to_bounds_within_the_accuracy():
    v = np.array([0.000447, -3e-5, 5000.0, 9999.9996, 12.0])
    out = snap(v, 1e-7, lo=np.zeros(5), hi=np.array([np.inf, np.inf, np.inf, 1e4, np.inf]))
    assert out.tolist() == [0.0, 0.0, 5000.0, 1e4, 12.0]
    assert not np.signbit(snap(np.array([-0.0, 1.0]), 1e-7)).any()


def test_no_solver_noise_in_the_tables(three):
    for frame in (three.generators_t.p, three.stores_t.e, three.links_t.p0):
        values = np.abs(frame.to_numpy())
        assert not ((values > 0) & (values < 1e-6)).any()
    assert not (three.dispatch["power_mw"].abs().between(1e-12, 1e-6)).any()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_pypsa_shaped_frames_round_trip_through_files(three, tmp_path, fmt):
    from gridprox.energy import PlanningResult
    getattr(three, f"to_{fmt}")(tmp_path)
    assert (tmp_path / "pypsa" / f"generators-p.{fmt}").is_file()        # PyPSA's CSV-folder names
    back = PlanningResult.read(tmp_path)
    pd.testing.assert_frame_equal(back.generators, three.generators)
    assert back.generators.attrs["units"] == {"p_nom_opt": "MW"}
    p = back.generators_t.p
    pd.testing.assert_frame_equal(p, three.generators_t.p, check_index_type=False, check_freq=False)
    assert p.index.name == "snapshot" and p.columns.name == "Generator" and p.attrs["unit"] == "MW"
    assert set(back.links_t) == set(three.links_t)


def test_a_result_without_its_frames_says_what_it_lacks(three, tmp_path):
    from gridprox.energy import PlanningResult
    tidy = {name: getattr(three, name) for name in ("capacity", "dispatch", "demand", "storage_level", "flows",
                                                     "prices", "emissions", "costs", "summary")}
    with pytest.raises(ValueError, match="read from files"):
        PlanningResult(**tidy).generators_t
