"""Build datasets/de-stochastic from PyPSA 1.4.0's stochastic example network (CC-BY-4.0), checked
against the benchmark-sp test data (MIT), and store PyPSA's optima of the ORIGINAL network:
the two-stage stochastic problem and each scenario on its own.

    python datasets/energy-scripts/build_de_stochastic.py
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pypsa

from build_common import (TEST_HORIZON, assert_same, fmt_optima, optimum, tool_versions, truncate,
                          write_dataset)
from pypsa_network import from_pypsa
from sources import PINNED, sha256, source

NAME = "de-stochastic"
NC = "examples/networks/stochastic-network/stochastic-network.nc"
BENCH = "test/data/benchmark-sp"
COMMAND = "python datasets/energy-scripts/build_de_stochastic.py"
ORDER = ["low", "med", "high"]
# CO2 intensities (t/MWh_th) cited from PyPSA/technology-data outputs/costs_2030.csv at commit
# dac74c3c02bd0b7a358d2ff725bed15328ee7cc4 ("gas,CO2 intensity,0.198" and "lignite,CO2 intensity,0.4069").
CO2 = {"gas": 0.198, "lignite": 0.4069}


def load_original():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return pypsa.Network(source("pypsa") / NC)


def fuel_price(marginal: float, efficiency: float) -> float:
    """The gas price behind PyPSA's marginal cost (= price / efficiency), exactly reproduced."""
    price = round(marginal * efficiency, 9)
    assert price / efficiency == marginal, (marginal, efficiency)
    return price


def check_benchmark(system):
    """The example network equals PyPSA's benchmark-sp test data (low-gas scenario)."""
    bench = source("pypsa") / BENCH
    gens = pd.read_csv(bench / "generators.csv", index_col=0)
    for col in ("capital_cost", "efficiency"):
        assert (gens[col] == system.generators.loc[gens.index, col]).all(), col
    pmax = pd.read_csv(bench / "generators-p_max_pu.csv", index_col=0)
    assert np.array_equal(pmax.values, system.availability[pmax.columns].values)
    return float(pd.read_csv(bench / "network.csv")["objective"].iloc[0])


def main():
    original = load_original()
    weights = original.scenario_weightings["weight"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        per_scenario = {s: original.get_scenario(s) for s in ORDER}
    transformations = [
        f"read {NC} from the pypsa=={PINNED['pypsa']} sdist; its scenarios low/med/high (weights "
        f"{', '.join(f'{s} {weights[s]:g}' for s in ORDER)}) differ only in the gas generator's marginal cost; "
        "this script checks that every other attribute and time series is identical across scenarios",
        "the base tables hold scenario 'low' (the case of PyPSA's benchmark-sp test data, which the script checks "
        "equal: capital costs, efficiencies, p_max_pu)",
        "gas: PyPSA marginal_cost = gas price / efficiency is split into fuel_cost (EUR/MWh_th) = "
        "40 / 70 / 100 and efficiency 0.6 (marginal_cost 0); fuel_cost / efficiency reproduces PyPSA's value "
        "bit for bit (asserted)",
        "scenarios.csv holds the names and weights; scenario_overrides.csv sets generators/gas/fuel_cost for "
        "every scenario (so each scenario is fully specified, including 'low')",
        "capital_cost is PyPSA's annualised value, (annuity(0.03, 25) + 0.03) x overnight cost "
        "(1.0e6 / 2.0e6 / 0.7e6 / 1.3e6 EUR/MW for solar / wind / gas / lignite, per PyPSA's "
        "test/conftest.py stochastic_benchmark_network); stored unchanged",
        "ADDED: carriers.csv co2_emissions gas 0.198 and lignite 0.4069 t/MWh_th (PyPSA/technology-data "
        "outputs/costs_2030.csv, commit dac74c3c02bd0b7a358d2ff725bed15328ee7cc4; the original has 0). "
        "No CO2 policy is set, so the reference optima are unchanged; a CO2 cap or price sweep can use them",
        "the load DE_load (static p_set 1 MW) -> demand.csv column DE = 1.0 in every snapshot",
        "snapshot weightings objective = generators = stores = 3 h -> snapshots.csv weight",
    ]
    meta = {
        "name": NAME,
        "description": "Germany as one node (1 MW constant load): extendable solar, wind, gas and lignite; "
                       "2,920 three-hour snapshots of 2015; three gas-price scenarios (40/70/100 EUR/MWh_th, "
                       "weights 0.4/0.3/0.3) for a two-stage stochastic model or a sweep.",
        "currency": "EUR",
        "discount_rate": None,
        "voll": None,
        "policies": {"co2_cap": None, "co2_price": None},
        "snapshots": {"count": len(original.snapshots), "resolution_hours": 3.0,
                      "first": str(original.snapshots[0]), "last": str(original.snapshots[-1])},
        "scenarios": {"kind": "two-stage stochastic (first stage: capacities; second stage: dispatch per "
                              "scenario); weights are probabilities. Also usable as a 3-point gas-price sweep.",
                      "file": "scenarios.csv", "overrides": "scenario_overrides.csv"},
        "source": {"package": f"pypsa=={PINNED['pypsa']} (sdist, pip download --no-deps --no-binary :all:)",
                   "path": NC, "sha256": sha256(source("pypsa") / NC),
                   "checked_against": f"{BENCH}/ (MIT): generators.csv, generators-p_max_pu.csv, network.csv"},
        "licence": "CC-BY-4.0 (PyPSA REUSE.toml: examples/**.nc), (c) PyPSA Contributors; benchmark-sp test "
                   "data MIT; CO2 intensities cited from PyPSA/technology-data; converted by gridprox",
        "transformations": transformations,
        "files": {"buses": "buses.csv", "carriers": "carriers.csv", "generators": "generators.csv",
                  "snapshots": "snapshots.csv", "demand": "demand.csv", "availability": "availability.csv",
                  "scenarios": "scenarios.csv", "scenario_overrides": "scenario_overrides.csv"},
    }
    systems = {s: from_pypsa(per_scenario[s], NAME, meta) for s in ORDER}
    base = systems["low"].copy()
    marginal = {s: systems[s].generators.loc["gas", "marginal_cost"] for s in ORDER}
    prices = {}
    for s, sys_s in systems.items():
        gas = sys_s.generators.loc["gas"]
        prices[s] = fuel_price(gas["marginal_cost"], gas["efficiency"])
        other = sys_s.copy()
        other.generators.loc["gas", "marginal_cost"] = base.generators.loc["gas", "marginal_cost"]
        assert_same(other, base)  # scenarios differ only in the gas marginal cost
    base.generators.loc["gas", ["marginal_cost", "fuel_cost"]] = [0.0, prices["low"]]
    for carrier, co2 in CO2.items():
        base.carriers.loc[carrier, "co2_emissions"] = co2
    base.scenarios = pd.DataFrame({"weight": [float(weights[s]) for s in ORDER]},
                                  index=pd.Index(ORDER, name="name"))
    base.scenario_overrides = pd.DataFrame({"scenario": ORDER, "table": "generators", "name": "gas",
                                            "column": "fuel_cost", "value": [prices[s] for s in ORDER]})
    base.validate()
    for s in ORDER:  # each scenario of the new System reproduces PyPSA's marginal costs exactly
        assert base.scenario(s).marginal_cost()["gas"] == marginal[s]
    bench_objective = check_benchmark(base)

    print("reference optima (original network):")
    n_test = TEST_HORIZON[NAME]
    scale = f"objective/generator weights x {len(original.snapshots) / n_test:g}"
    optima = [optimum("stochastic", load_original(), f"original {NC} (two-stage, scenario weights)",
                      len(original.snapshots), "stochastic"),
              optimum(f"stochastic-first-{n_test}", truncate(load_original(), n_test),
                      f"original {NC}, first {n_test} snapshots, {scale}", n_test, "stochastic")]
    for s in ORDER:
        optima.append(optimum(f"{s}-full", load_original().get_scenario(s), f"original {NC}, get_scenario('{s}')",
                              len(original.snapshots), s))
        optima.append(optimum(f"{s}-first-{n_test}", truncate(load_original().get_scenario(s), n_test),
                              f"original {NC}, get_scenario('{s}'), first {n_test} snapshots, {scale}", n_test, s))
    base.meta["reference"] = {
        "tool": tool_versions(), "solver": "network.optimize(solver_name='highs')", "command": COMMAND,
        "note": "objective in EUR/a (expected cost over the scenario weights for 'stochastic'); 'first-N' keeps the "
                "first N snapshots and rescales objective and generator weights to 8760 h (System.first(N)). "
                f"PyPSA's benchmark-sp/network.csv stores {bench_objective!r} for the stochastic problem",
        "benchmark_sp_objective": bench_objective,
        "optima": optima,
    }
    write_dataset(base, README.format(optima=fmt_optima(optima), tool=tool_versions(), bench=bench_objective,
                                      transformations="\n".join(f"{i}. {t}" for i, t in
                                                                enumerate(transformations, 1))))
    print(f"wrote datasets/{NAME}")


README = """# de-stochastic

Germany as a single node with a constant 1 MW load; extendable solar (marginal 0.01 EUR/MWh),
wind (0.02 EUR/MWh), gas (efficiency 0.6) and lignite (efficiency 0.4, 130 EUR/MWh); 2,920
three-hour snapshots of 2015. Three gas-price scenarios — **low 40, med 70, high 100 EUR/MWh_th**
with weights **0.4 / 0.3 / 0.3** — in `scenarios.csv` and `scenario_overrides.csv` (table
`generators`, row `gas`, column `fuel_cost`). Used as a two-stage stochastic problem (capacities
shared, dispatch per scenario, expected cost) or as a 3-point gas-price sweep.

## Source and licence

PyPSA 1.4.0 source distribution (`pip download --no-deps --no-binary :all: pypsa==1.4.0`),
`examples/networks/stochastic-network/stochastic-network.nc` — **CC-BY-4.0** (PyPSA
`REUSE.toml`, `examples/**.nc`), © PyPSA Contributors. Checked against PyPSA's test data
`test/data/benchmark-sp/` (MIT), whose `network.csv` stores the stochastic objective
{bench!r}. CO2 intensities (added, see below) are cited figures from PyPSA/technology-data
`outputs/costs_2030.csv` (commit dac74c3c02bd0b7a358d2ff725bed15328ee7cc4). The conversion is
`datasets/energy-scripts/build_de_stochastic.py`.

## Transformations

{transformations}

## Reference optima

PyPSA's optima of the **original** network, `network.optimize(solver_name="highs")` ({tool}):
the two-stage stochastic problem and each scenario alone (`get_scenario`); stored in
`system.yaml` under `reference.optima` with capacities. `first-N`: first N snapshots, objective
and generator weights rescaled to 8,760 h (`System.first(N)`); `tests/test_pypsa_round_trip.py`
rebuilds these cases from the CSV files and must match within 1e-6.

{optima}
"""

if __name__ == "__main__":
    main()
