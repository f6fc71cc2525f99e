"""Build datasets/model-energy from PyPSA 1.4.0's example network (CC-BY-4.0) and store PyPSA's
own optimum of the ORIGINAL network as the reference.

    python datasets/energy-scripts/build_model_energy.py
"""
from __future__ import annotations

import warnings

import pypsa

from build_common import TEST_HORIZON, fmt_optima, optimum, tool_versions, truncate, write_dataset
from pypsa_network import from_pypsa
from sources import PINNED, sha256, source

NAME = "model-energy"
NC = "examples/networks/model-energy/model-energy.nc"
CSV = "examples/networks/model-energy/model-energy"
COMMAND = "python datasets/energy-scripts/build_model_energy.py"


def load_original():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return pypsa.Network(source("pypsa") / NC)


def main():
    original = load_original()
    transformations = [
        f"read {NC} from the pypsa=={PINNED['pypsa']} sdist with pypsa.Network (its CSV folder {CSV}/ "
        "converts to the identical System; checked by this script)",
        "buses, carriers (co2_emissions all 0, colours), generators, the storage unit, the store and the links "
        "are copied 1:1 with their names; capital_cost is PyPSA's annualised value (currency/MW/a, currency/MWh/a "
        "for the store) and is stored unchanged (no overnight cost, so discount_rate is null)",
        "every PyPSA attribute not in the gridprox schema was checked to hold its PyPSA default "
        "(no unit commitment, no ramp limits, storage p_min_pu -1 / p_max_pu 1, no inflow, no spill cost)",
        "snapshot weightings objective = generators = 3 h -> snapshots.csv weight; stores = 3 h -> duration "
        "(equal to weight, so the column is left out)",
        "the load 'demand' at bus 'electricity' (loads-p_set) -> demand.csv column 'electricity' (MW); the load "
        "name is dropped",
        "generators-p_max_pu (wind, solar) -> availability.csv; 'load shedding' keeps its static p_max_pu 1 "
        "and its fixed p_nom 10,901.16 MW at marginal cost 2000 EUR/MWh (it is a generator here, so voll is null)",
        "timestamps written as ISO 'YYYY-MM-DD HH:MM:SS'; floats written with Python repr (exact round trip)",
    ]
    meta = {
        "name": NAME,
        "description": "Single-node electricity system in the style of model.energy: wind, solar, battery, "
                       "hydrogen storage (electrolysis, store, turbine) and load shedding; 2,920 three-hour "
                       "snapshots of 2019.",
        "currency": "EUR",
        "discount_rate": None,
        "voll": None,
        "policies": {"co2_cap": None, "co2_price": None},
        "snapshots": {"count": len(original.snapshots), "resolution_hours": 3.0,
                      "first": str(original.snapshots[0]), "last": str(original.snapshots[-1])},
        "scenarios": None,
        "source": {"package": f"pypsa=={PINNED['pypsa']} (sdist, pip download --no-deps --no-binary :all:)",
                   "path": NC, "sha256": sha256(source("pypsa") / NC),
                   "project": "https://pypsa.org, https://model.energy"},
        "licence": "CC-BY-4.0 (PyPSA REUSE.toml: examples/**.nc), (c) PyPSA Contributors; converted by gridprox",
        "transformations": transformations,
        "files": {"buses": "buses.csv", "carriers": "carriers.csv", "generators": "generators.csv",
                  "storage_units": "storage_units.csv", "stores": "stores.csv", "links": "links.csv",
                  "snapshots": "snapshots.csv", "demand": "demand.csv", "availability": "availability.csv"},
    }
    system = from_pypsa(original, NAME, meta)
    from build_common import assert_same
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        assert_same(system, from_pypsa(pypsa.Network(source("pypsa") / CSV), NAME, meta))

    print("reference optima (original network):")
    n_test = TEST_HORIZON[NAME]
    optima = [
        optimum("full", load_original(), f"original {NC}", len(original.snapshots)),
        optimum(f"first-{n_test}", truncate(load_original(), n_test),
                f"original {NC}, first {n_test} snapshots, objective/generator weights x "
                f"{len(original.snapshots) / n_test:g}", n_test),
    ]
    system.meta["reference"] = {
        "tool": tool_versions(), "solver": "network.optimize(solver_name='highs')", "command": COMMAND,
        "note": "objective in EUR/a; 'first-N' keeps the first N snapshots and rescales the objective and "
                "generator weights so they sum to 8760 h (System.first(N) does the same)",
        "optima": optima,
    }
    write_dataset(system, README.format(optima=fmt_optima(optima), tool=tool_versions(),
                                        transformations="\n".join(f"{i}. {t}" for i, t in
                                                                  enumerate(transformations, 1))))
    print(f"wrote datasets/{NAME}")


README = """# model-energy

Single-node electricity system in the style of [model.energy](https://model.energy): one
electricity bus with wind and solar (extendable, hourly availability), a battery (PyPSA
StorageUnit, 3 h, 96 % charge and discharge efficiency), a hydrogen system (electrolysis link
62.17 %, an extendable hydrogen store on its own bus, a turbine link 41 %) and load shedding
(a fixed 10,901.16 MW generator at 2,000 EUR/MWh); 2,920 three-hour snapshots of 2019
(weight 3 h each). All capital costs are PyPSA's annualised values (EUR/MW/a, EUR/MWh/a).

## Source and licence

PyPSA 1.4.0 source distribution (`pip download --no-deps --no-binary :all: pypsa==1.4.0`),
file `examples/networks/model-energy/model-energy.nc` — licensed **CC-BY-4.0** (PyPSA's
`REUSE.toml` covers `examples/**.nc`), © PyPSA Contributors. This folder is a converted copy;
the conversion is `datasets/energy-scripts/build_model_energy.py`.

## Transformations

{transformations}

## Reference optima

PyPSA's own optimum of the **original** network, `network.optimize(solver_name="highs")`
({tool}); stored in `system.yaml` under `reference.optima` with the optimal capacities.
`first-N` uses the first N snapshots with objective/generator weights rescaled to 8,760 h
(`System.first(N)` in gridprox); `tests/test_pypsa_round_trip.py` rebuilds that case in PyPSA
from these CSV files and must reproduce the objective within 1e-6.

{optima}
"""

if __name__ == "__main__":
    main()
