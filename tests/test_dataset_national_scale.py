"""datasets/national-scale (calliope 0.7.0's national_scale example, full year hourly): content,
the translation's key numbers, and gridprox's optimum of the first 336 hours against the PyPSA
reference stored in system.yaml (objective and capacities)."""
from __future__ import annotations

import numpy as np
import pytest

from gridprox import datasets
from gridprox.energy import CapacityExpansion
from gridprox.energy.system import annuity

CSP = ["region1_1", "region1_2", "region1_3"]


@pytest.fixture(scope="module")
def system():
    return datasets.load_system("national-scale")


@pytest.fixture(scope="module")
def reference(system):
    return next(o for o in system.reference["optima"] if o["case"] == "first-336")


@pytest.fixture(scope="module")
def result():
    return CapacityExpansion(datasets.load_system("national-scale"), hours=336).solve(solver="highs")


def test_listed_and_sized(system):
    assert "national-scale" in datasets.list_systems()
    assert len(system.snapshots) == 8760 and (system.weights == 1.0).all()
    assert (system.snapshots["duration"] == 1.0).all()
    assert str(system.snapshots.index[0]) == "2005-01-01 00:00:00"
    assert str(system.snapshots.index[-1]) == "2005-12-31 23:00:00"
    assert system.currency == "USD" and system.discount_rate == 0.1 and system.voll == 1e6
    assert set(system.buses.index) == {"region1", "region2", *CSP, *(f"{n} csp field" for n in CSP),
                                       *(f"{n} csp heat" for n in CSP), "region2 battery",
                                       "region1 ac port", "region2 ac port"}
    assert set(system.generators.index) == {"region1 ccgt", *(f"{n} csp field" for n in CSP)}
    assert set(system.stores.index) == {"region2 battery", *(f"{n} csp storage" for n in CSP)}
    assert set(system.links.index) == {*(f"{n} csp {k}" for n in CSP for k in ("receiver", "turbine")),
                                       "region2 battery charger", "region2 battery discharger",
                                       "region1_to_region2", *(f"{n} ac {k}" for n in ("region1", "region2")
                                                               for k in ("send", "receive"))}
    assert set(system.lines.index) == {f"region1_to_{n}" for n in CSP}
    assert system.storage_units.empty
    assert system.describe()["zones"] == 2


def test_translated_numbers(system):
    g, lk, st = system.generators, system.links, system.stores
    # demand in MW (calliope kW / 1000): region1 peaks at 40,000 kW, region2 at 5,000 kW
    assert set(system.demand.columns[(system.demand > 0).any()]) == {"region1", "region2"}
    assert system.demand["region1"].max() == pytest.approx(40.0) and system.demand["region2"].max() == pytest.approx(5.0)
    # csp resource (kWh per m2 per hour) read as availability of a 1 kW/m2 field
    prof = system.availability[[f"{n} csp field" for n in CSP]]
    assert 0.5 < prof.to_numpy().max() <= 1.0 and 0.09 < prof.to_numpy().mean() < 0.16
    ccgt = g.loc["region1 ccgt"]
    assert (ccgt.p_nom_max, ccgt.efficiency, ccgt.ramp_limit_up, ccgt.ramp_limit_down) == (30.0, 0.5, 0.8, 0.8)
    assert system.marginal_cost()["region1 ccgt"] == pytest.approx(40.0)
    assert system.fixed_cost("generators")["region1 ccgt"] == pytest.approx(750e3 * annuity(0.1, 25), rel=1e-12)
    assert annuity(0.1, 25) == pytest.approx(0.1 * 1.1 ** 25 / (1.1 ** 25 - 1), rel=1e-12)
    turbine = lk.loc["region1_1 csp turbine"]
    assert (turbine.efficiency, turbine.p_nom_max, turbine.overnight_cost, turbine.marginal_cost) == (
        0.36, 25.0, 400e3, 0.72)
    assert st.loc["region1_1 csp storage", "e_nom_max"] == 614.033
    assert st.loc["region1_1 csp storage", "standing_loss"] == 0.002
    ac = lk.loc["region1_to_region2"]
    assert (ac.p_min_pu, ac.p_nom_max, ac.efficiency, ac.overnight_cost) == (-1.0, 10.0, 1.0, 200e3)
    assert lk.loc["region1 ac receive", "efficiency"] == 0.85 and lk.loc["region2 ac receive", "marginal_cost"] == 1.7
    assert not lk.loc["region2 battery charger", "p_nom_extendable"]
    assert lk.loc["region2 battery discharger", "p_nom"] == pytest.approx(1 / 0.95)
    assert (system.lines["efficiency"] == 1.0).all() and (~system.lines["p_nom_extendable"]).all()


def test_first_336_equals_stored_pypsa_reference(system, reference, result):
    assert reference["snapshots"] == 336 and result.status == "optimal"
    assert result.objective == pytest.approx(reference["objective"], rel=1e-7)
    caps = reference["capacities"]
    ours = {}
    for table, col in (("generators", "p_nom_opt"), ("stores", "e_nom_opt"), ("links", "p_nom_opt")):
        for name, value in result.components[table][col].items():
            ours[f"{table}/{name}"] = float(value)
    for name, value in result.components["lines"]["s_nom_opt"].items():   # PyPSA: reversible links
        ours[f"links/{name}"] = float(value)
    expected = {k: v for k, v in caps.items() if "load shedding" not in k}
    assert set(ours) == set(expected)
    for key, value in expected.items():
        assert ours[key] == pytest.approx(value, rel=1e-3, abs=1e-4), key
    # the ccgt is built to its 30 MW limit, region1_1's csp turbine to its 10 MW flow_cap (25 MW of heat)
    assert caps["generators/region1 ccgt"] == pytest.approx(30.0) and np.isclose(
        caps["links/region1_1 csp turbine"], 25.0)
