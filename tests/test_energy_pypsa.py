"""gridprox.energy.CapacityExpansion reproduces PyPSA 1.4's optimum of the same network.

Two kinds of check: (1) against the optima PyPSA reached and that system.yaml stores
(``reference.optima``; tests/test_pypsa_round_trip.py checks the conversion round trip: PyPSA
rebuilt from our CSVs reaches them) — runs without pypsa; (2) live: PyPSA's
``network.optimize()`` with HiGHS on a short horizon next to ours, objective and nodal prices
(``buses_t.marginal_price``, the balance dual divided by the snapshot weight) — skipped when
pypsa is not installed.  The full years were checked once by hand (see datasets/README.md /
the final report).
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from energy_toy import toy_system
from gridprox import datasets
from gridprox.energy import CapacityExpansion

SCRIPTS = Path(__file__).resolve().parents[1] / "datasets" / "energy-scripts"
REL = 1e-6     # the issue asks 1e-5; we measure ~1e-14 (the same LP, the same solver)


def _model(system, scenario, snapshots):
    hours = None if snapshots == len(system.snapshots) else snapshots
    if scenario == "stochastic":
        return CapacityExpansion(system, hours=hours, stochastic=True)
    return CapacityExpansion(system, hours=hours, scenario=scenario)


@pytest.mark.slow
@pytest.mark.parametrize("name,case", [("de-stochastic", "high-first-730"),
                                       ("de-stochastic", "low-full"), ("de-stochastic", "stochastic-first-730")])
def test_objective_equals_stored_pypsa_optimum(name, case):
    system = datasets.load_system(name)
    ref = next(o for o in system.reference["optima"] if o["case"] == case)
    result = _model(system, ref["scenario"], ref["snapshots"]).solve("highs")
    assert result.status == "optimal"
    assert result.objective == pytest.approx(ref["objective"], rel=REL)


@pytest.mark.slow
def test_model_energy_objective_and_capacities_equal_stored_pypsa_optimum():
    """model-energy's optimum is unique enough that capacities match too (MW / MWh)."""
    system = datasets.load_system("model-energy")
    ref = next(o for o in system.reference["optima"] if o["case"] == "first-730")
    result = _model(system, None, 730).solve("highs")
    assert result.objective == pytest.approx(ref["objective"], rel=REL)
    cap = result.capacity.set_index("technology")
    assert cap.loc["wind", "capacity"] == pytest.approx(ref["capacities"]["generators/wind"], rel=1e-5)
    assert cap.loc["hydrogen storage", "capacity"] == pytest.approx(ref["capacities"]["stores/hydrogen storage"],
                                                                    rel=1e-5)
    power = cap[cap["kind"] == "storage_power"]
    assert power.loc["battery storage", "capacity"] == pytest.approx(
        ref["capacities"]["storage_units/battery storage"], rel=1e-5)


# ------------------------------------------------------------------ live PyPSA
def _pypsa_network():
    pytest.importorskip("pypsa")
    pytest.importorskip("linopy")
    spec = importlib.util.spec_from_file_location("energy_scripts_pypsa_network", SCRIPTS / "pypsa_network.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
@pytest.mark.parametrize("name,snapshots,scenario", [("model-energy", 96, None), ("three-country", 48, None),
                                                     ("de-stochastic", 48, "stochastic")])
def test_live_pypsa_objective_and_prices(name, snapshots, scenario):
    pn = _pypsa_network()
    system = datasets.load_system(name)
    ours = _model(system, scenario, snapshots).solve("highs")
    network = pn.to_pypsa(system.first(snapshots), scenario)
    ref = pn.pypsa_optimum(network)
    assert ref["status"] == "ok" and ours.status == "optimal"
    assert ours.objective == pytest.approx(ref["objective"], rel=REL)
    theirs = network.buses_t.marginal_price
    if scenario == "stochastic":
        # ours are conditional on the scenario (dual / (probability x weight)); PyPSA's are not
        # divided by the probability
        prob = system.scenarios["weight"]
        mine = ours.prices.pivot_table(index="snapshot", columns=["scenario", "zone"], values="price")
        mine = mine.loc[theirs.index, theirs.columns] * prob.reindex(theirs.columns.get_level_values(0)).to_numpy()
        # in a few snapshots only the sum over scenarios is pinned (degenerate split)
        np.testing.assert_allclose(mine.sum(axis=1), theirs.sum(axis=1), rtol=1e-6)
        assert np.mean(np.isclose(mine.to_numpy(), theirs.to_numpy(), rtol=1e-6)) > 0.9
        return
    mine = ours.prices.pivot(index="snapshot", columns="zone", values="price").loc[theirs.index, theirs.columns]
    scale = max(1.0, float(np.abs(theirs.to_numpy()).max()))
    assert np.abs(mine.to_numpy() - theirs.to_numpy()).max() <= 1e-6 * scale


@pytest.mark.slow
def test_live_pypsa_toy_every_component_kind(co2_cap=2.5e5):
    """The toy has what the datasets lack: storage units with standing loss, a lossy fixed line,
    ramp limits, p_min_pu, overnight costs with an annuity, snapshot weights != durations, and
    (binding) a CO2 cap, which PyPSA models as a GlobalConstraint."""
    pn = _pypsa_network()
    system = toy_system(48, voll=3000.0, co2_cap=co2_cap)
    ours = CapacityExpansion(system).solve("highs")
    network = pn.to_pypsa(system)
    ref = pn.pypsa_optimum(network)
    assert ours.objective == pytest.approx(ref["objective"], rel=REL)
    # north's prices match hour by hour; south's dual is not unique in a few hours (degenerate: HiGHS
    # and PyPSA's HiGHS run pick different optimal duals there), nor is the unused H2 bus's
    theirs = network.buses_t.marginal_price["north"]
    mine = ours.prices[ours.prices["zone"] == "north"].set_index("snapshot")["price"].loc[theirs.index]
    np.testing.assert_allclose(mine.to_numpy(), theirs.to_numpy(), rtol=1e-6, atol=1e-6)
    south = network.buses_t.marginal_price["south"].to_numpy()
    mine_south = ours.prices[ours.prices["zone"] == "south"]["price"].to_numpy()
    assert np.mean(np.isclose(mine_south, south, rtol=1e-6)) > 0.8
    assert ours.summary["total_emissions_t"].iloc[0] == pytest.approx(co2_cap, rel=1e-6)   # binding
    mu = float(network.global_constraints.loc["co2_cap", "mu"])          # PyPSA's CO2 price
    assert -ours.sensitivity("co2_cap") == pytest.approx(abs(mu), rel=1e-6)
