"""Build datasets/three-country: DE/FR/NL hourly load and weather from tsam's test data (MIT),
wind and solar capacity factors from a documented method, technology costs cited from
PyPSA/technology-data, transport-model interconnectors; then PyPSA's optimum of the same model.

    python datasets/energy-scripts/build_three_country.py [--skip-full]
"""
from __future__ import annotations

import argparse
import math
from dataclasses import replace

import numpy as np
import pandas as pd

from build_common import (DATASETS, TEST_HORIZON, assert_same, fmt_optima, optimum, table_files, tool_versions,
                          write_dataset)
from gridprox.energy.system import System, read_system
from pypsa_network import to_pypsa
from sources import PINNED, sha256, source

NAME = "three-country"
ZONES = ["DE", "FR", "NL"]
WIDE = "test/data/wide.csv"
CURVES = "windpowerlib/data/default_turbine_data/power_curves.csv"
COMMAND = "python datasets/energy-scripts/build_three_country.py"

# ---- weather -> capacity factors (documented choices) ------------------------------------------
TURBINE, HUB_HEIGHT = "E-115/3000", 135.0  # windpowerlib turbine_data.csv lists hub heights 92;122;135;149 m
MEASUREMENT_HEIGHT, ROUGHNESS = 10.0, 0.1  # m; tsam does not state the height: standard 10 m assumed
PV_GAMMA = -0.0047     # 1/K, PVWatts v5 "standard" module temperature coefficient (Dobos 2014, NREL/TP-6A20-62641)
PV_NOCT = 45.0         # deg C, nominal operating cell temperature used in the Ross/NOCT cell-temperature model
PV_LOSSES = 0.14       # PVWatts v5 default system losses (Dobos 2014)

# ---- costs: PyPSA/technology-data outputs/costs_2030.csv, commit dac74c3c02bd0b7a358d2ff725bed15328ee7cc4 ----
TECHDATA = ("PyPSA/technology-data outputs/costs_2030.csv at commit dac74c3c02bd0b7a358d2ff725bed15328ee7cc4 "
            "(figures from the Danish Energy Agency technology catalogues unless noted)")
COSTS = {  # investment EUR/kW (per kWh for storage, per MW/km for lines), FOM %/a, VOM EUR/MWh, lifetime a
    "onwind": dict(investment=1035.5613, fom=1.2167, vom=1.35, lifetime=30.0,
                   src="onwind: DEA 20 Onshore turbines"),
    "solar": dict(investment=347.5572, fom=2.4757, vom=0.0, lifetime=40.0,
                  src="solar-utility: DEA 22 Utility-scale PV (no VOM given)"),
    "CCGT": dict(investment=830.0, fom=3.3494, vom=4.2, lifetime=25.0, efficiency=0.58,
                 src="CCGT: DEA 05 Gas turb. CC, steam extract."),
    "OCGT": dict(investment=435.24, fom=1.7795, vom=4.5, lifetime=25.0, efficiency=0.41,
                 src="OCGT: DEA 52 OCGT - Natural gas"),
    "nuclear": dict(investment=7940.4514, fom=1.4, vom=3.5, lifetime=40.0, efficiency=0.33, fuel=2.6,
                    src="nuclear: Lazard's LCOE analysis v13.0 (investment, FOM, VOM, efficiency, fuel)"),
    "battery storage": dict(investment=142.0, fom=0.0, lifetime=25.0,
                            src="battery storage: DEA technology_data_catalogue_for_energy_storage (EUR/kWh)"),
    "battery inverter": dict(investment=160.0, fom=0.3375, lifetime=10.0, efficiency=0.96,
                             src="battery inverter: DEA energy storage catalogue (efficiency = round trip)"),
    "HVAC overhead": dict(investment=432.9729, fom=2.0, lifetime=40.0,
                          src="HVAC overhead: Hagspiel et al. (2014) doi:10.1016/j.energy.2014.01.025, table A.2 "
                              "(EUR/MW/km)"),
}
GAS = dict(fuel=20.1, co2=0.198, src="gas: fuel 20.1 EUR/MWh_th (BP 2019), CO2 intensity 0.198 t/MWh_th")
DISCOUNT_RATE = 0.07   # the rate in PyPSA 1.4.0's pypsa.costs.annuity docstring example; a modelling choice
VOLL = 2000.0          # EUR/MWh, the load-shedding price of PyPSA's model-energy example
CAPITALS = {"DE": (52.5200, 13.4050), "FR": (48.8566, 2.3522), "NL": (52.3676, 4.9041)}  # Berlin, Paris, Amsterdam
CORRIDORS = [("DE", "FR"), ("DE", "NL"), ("FR", "NL")]
FULL_SOLVER = {"solver": "ipm", "run_crossover": "on"}


def weather() -> pd.DataFrame:
    return pd.read_csv(source("tsam") / WIDE, index_col=0)


def wind_cf(speed_10m: pd.Series, curve: pd.Series) -> np.ndarray:
    """Hub-height speed from the logarithmic profile, then the turbine's power curve (0 outside it)."""
    v = speed_10m.to_numpy() * math.log(HUB_HEIGHT / ROUGHNESS) / math.log(MEASUREMENT_HEIGHT / ROUGHNESS)
    speeds = curve.index.astype(float).to_numpy()
    return np.interp(v, speeds, curve.to_numpy() / curve.max(), left=0.0, right=0.0)


def solar_cf(ghi: pd.Series, temp: pd.Series) -> np.ndarray:
    """PVWatts-style DC output of horizontal modules: GHI/1000 x (1 + gamma (T_cell - 25)) x (1 - losses),
    T_cell = T_air + (NOCT - 20) / 800 x GHI (Ross/NOCT model); clipped to [0, 1]."""
    g, t = ghi.to_numpy(), temp.to_numpy()
    t_cell = t + (PV_NOCT - 20.0) / 800.0 * g
    return np.clip(g / 1000.0 * (1.0 + PV_GAMMA * (t_cell - 25.0)) * (1.0 - PV_LOSSES), 0.0, 1.0)


def haversine_km(a, b) -> float:
    (la1, lo1), (la2, lo2) = (np.radians(a), np.radians(b))
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return float(2 * 6371.0 * np.arcsin(np.sqrt(h)))


def _invest(tech: str, per: float = 1000.0) -> dict:
    """overnight_cost (EUR per MW or MWh), fom_cost (EUR/unit/a) and lifetime of one technology."""
    c = COSTS[tech]
    overnight = c["investment"] * per
    return {"overnight_cost": round(overnight, 6), "fom_cost": round(c["fom"] / 100.0 * overnight, 6),
            "lifetime": c["lifetime"]}


def build_system() -> System:
    w = weather()
    curve = pd.read_csv(source("windpowerlib") / CURVES, index_col=0).loc[TURBINE].dropna()
    index = pd.DatetimeIndex(pd.to_datetime(w.index), name="snapshot")
    gens, avail = [], {}
    for z in ZONES:
        avail[f"{z} onwind"] = np.round(wind_cf(w[f"{z}_Wind"], curve), 4)
        avail[f"{z} solar"] = np.round(solar_cf(w[f"{z}_GHI"], w[f"{z}_T"]), 4)
        gens.append(dict(name=f"{z} onwind", bus=z, carrier="onwind", marginal_cost=COSTS["onwind"]["vom"],
                         **_invest("onwind")))
        gens.append(dict(name=f"{z} solar", bus=z, carrier="solar", marginal_cost=0.0, **_invest("solar")))
        for tech in ("CCGT", "OCGT"):
            gens.append(dict(name=f"{z} {tech}", bus=z, carrier=tech, marginal_cost=COSTS[tech]["vom"],
                             fuel_cost=GAS["fuel"], efficiency=COSTS[tech]["efficiency"], **_invest(tech)))
    gens.append(dict(name="FR nuclear", bus="FR", carrier="nuclear", marginal_cost=COSTS["nuclear"]["vom"],
                     fuel_cost=COSTS["nuclear"]["fuel"], efficiency=COSTS["nuclear"]["efficiency"],
                     **_invest("nuclear")))
    gens = pd.DataFrame(gens).set_index("name").assign(p_nom_extendable=True).fillna(
        {"fuel_cost": 0.0, "efficiency": 1.0})
    eff = COSTS["battery inverter"]["efficiency"] ** 0.5
    half_inverter = {k: (v / 2 if k != "lifetime" else v) for k, v in _invest("battery inverter").items()}
    links, stores = [], []
    for z in ZONES:
        stores.append(dict(name=f"{z} battery", bus=f"{z} battery", carrier="battery storage",
                           e_nom_extendable=True, **_invest("battery storage")))
        links.append(dict(name=f"{z} battery charger", bus0=z, bus1=f"{z} battery", carrier="battery charger",
                          efficiency=eff, p_nom_extendable=True, **half_inverter))
        links.append(dict(name=f"{z} battery discharger", bus0=f"{z} battery", bus1=z,
                          carrier="battery discharger", efficiency=eff, p_nom_extendable=True, **half_inverter))
    lines = []
    for a, b in CORRIDORS:
        km = round(haversine_km(CAPITALS[a], CAPITALS[b]), 1)
        lines.append(dict(name=f"{a}-{b}", bus0=a, bus1=b, carrier="AC", p_nom_extendable=True, length=km,
                          **_invest("HVAC overhead", per=km)))
    carriers = pd.DataFrame({"co2_emissions": {"onwind": 0.0, "solar": 0.0, "CCGT": GAS["co2"], "OCGT": GAS["co2"],
                                               "nuclear": 0.0, "battery storage": 0.0, "battery charger": 0.0,
                                               "battery discharger": 0.0, "AC": 0.0}})
    buses = pd.DataFrame({"carrier": ["electricity"] * 3 + ["battery"] * 3},
                         index=pd.Index([*ZONES, *(f"{z} battery" for z in ZONES)], name="name"))
    demand = pd.DataFrame({z: w[f"{z}_Load"].to_numpy() for z in ZONES}, index=index).reindex(
        columns=buses.index, fill_value=0.0)
    availability = pd.DataFrame(avail, index=index).reindex(columns=gens.index, fill_value=1.0)
    snapshots = pd.DataFrame({"weight": 1.0}, index=index)
    named = {k: pd.DataFrame(v).set_index("name") for k, v in (("links", links), ("stores", stores),
                                                              ("lines", lines))}
    for df in (carriers, gens, *named.values()):
        df.index.name = "name"
    return System(name=NAME, buses=buses, carriers=carriers, generators=gens, storage_units=_empty_storage(),
                  snapshots=snapshots, demand=demand, availability=availability, meta=meta(w), **named).validate()


def _empty_storage() -> pd.DataFrame:
    return pd.DataFrame({"bus": pd.Series(dtype=object)}, index=pd.Index([], name="name"))


def meta(w: pd.DataFrame) -> dict:
    km = {f"{a}-{b}": round(haversine_km(CAPITALS[a], CAPITALS[b]), 1) for a, b in CORRIDORS}
    transformations = [
        f"tsam=={PINNED['tsam']} sdist file {WIDE}: 8,760 hourly rows (timestamps kept as given, "
        f"{w.index[0]} .. {w.index[-1]}, weight 1 h) with DE/FR/NL columns GHI (W/m2), T (deg C), "
        "Wind (m/s), Load",
        "demand.csv = the *_Load columns unchanged, read as MW (tsam gives no unit; DE peaks at "
        f"{w['DE_Load'].max():,.0f}, i.e. the data are scaled, not national loads in MW)",
        f"wind: hub-height speed v_h = v x ln({HUB_HEIGHT:g}/{ROUGHNESS:g}) / ln({MEASUREMENT_HEIGHT:g}/{ROUGHNESS:g}) "
        f"(logarithmic profile, roughness length {ROUGHNESS:g} m, measurement height {MEASUREMENT_HEIGHT:g} m assumed), "
        f"then the power curve of the {TURBINE} from windpowerlib=={PINNED['windpowerlib']} ({CURVES}, MIT), "
        "linearly interpolated and divided by rated power, 0 below the first and above the last point "
        "(25 m/s cut-out); no air-density or wake correction; rounded to 4 decimals",
        f"solar: horizontal modules, CF = GHI/1000 x (1 - {-PV_GAMMA} x (T_cell - 25)) x (1 - {PV_LOSSES}), "
        f"T_cell = T + ({PV_NOCT:g} - 20)/800 x GHI (NOCT model); gamma and losses are PVWatts v5 defaults "
        "(Dobos 2014, NREL/TP-6A20-62641); clipped to [0, 1]; rounded to 4 decimals",
        f"technologies per zone: onwind, solar, CCGT, OCGT (all extendable), battery = a store on its own bus plus "
        f"charger and discharger links; nuclear in FR only; costs from {TECHDATA}",
        "overnight_cost = investment x 1000 (EUR/kW -> EUR/MW, EUR/kWh -> EUR/MWh; lines: EUR/MW/km x length); "
        "fom_cost = FOM% x overnight cost per year; both rounded to 1e-6 EUR; lifetime as cited; annualised with "
        f"discount_rate {DISCOUNT_RATE} by the loader (System.fixed_cost)",
        "marginal_cost = cited VOM; fuel_cost (EUR/MWh_th) and efficiency give fuel_cost/efficiency per MWh_el",
        "battery: charger and discharger efficiency = sqrt(0.96) (the cited round-trip figure split evenly between "
        "the two directions); the cited inverter investment (160 EUR/kW) is split half/half between the charger "
        "and the discharger link so that a symmetric build pays the cited price; the store has no FOM (none cited)",
        "interconnectors DE-FR, DE-NL, FR-NL: transport model, lossless (efficiency 1), no existing capacity "
        "(the load data are scaled, so real NTCs would not fit), extendable at the HVAC overhead cost x length; "
        f"length = great-circle distance between Berlin, Paris and Amsterdam ({km}; no detour factor); FR-NL has no "
        "common border: the corridor stands for transit through Belgium",
        f"load shedding at voll = {VOLL:g} EUR/MWh (the model-energy example's price), bounded by demand",
    ]
    return {
        "name": NAME,
        "description": "DE/FR/NL transport model, 8,760 hours: wind, solar, CCGT, OCGT, FR nuclear, batteries "
                       "(energy and power sized separately), extendable interconnectors, load shedding.",
        "currency": "EUR",
        "discount_rate": DISCOUNT_RATE,
        "voll": VOLL,
        "policies": {"co2_cap": None, "co2_price": None},
        "snapshots": {"count": len(w), "resolution_hours": 1.0, "first": str(w.index[0]), "last": str(w.index[-1])},
        "scenarios": None,
        "source": {"weather_and_load": f"tsam=={PINNED['tsam']} sdist, {WIDE} (MIT), sha256 "
                                       f"{sha256(source('tsam') / WIDE)}",
                   "power_curve": f"windpowerlib=={PINNED['windpowerlib']} sdist, {CURVES} (MIT), turbine {TURBINE}",
                   "costs": TECHDATA,
                   "cost_items": [c["src"] for c in COSTS.values()] + [GAS["src"]]},
        "licence": "data derived from MIT-licensed tsam and windpowerlib files; cost figures cited with sources; "
                   "conversion by gridprox",
        "transformations": transformations,
        "files": table_files("buses", "carriers", "generators", "stores", "links", "lines", "snapshots", "demand",
                             "availability"),
    }


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--skip-full", action="store_true", help="do not solve the full year with PyPSA")
    p.add_argument("--keep-reference", action="store_true",
                   help="reuse the stored optima (only text changed; the data must be identical)")
    args = p.parse_args(argv)
    system = build_system()
    n_test = TEST_HORIZON[NAME]
    if args.keep_reference:
        stored = read_system(DATASETS / NAME)
        assert_same(system, replace(stored, meta=system.meta))
        optima = stored.reference["optima"]
    else:
        print("reference optima (PyPSA model built from this System):")
        optima = [optimum(f"first-{n_test}", to_pypsa(system.first(n_test)),
                          f"PyPSA network built by pypsa_network.to_pypsa(system.first({n_test}))", n_test)]
    if not (args.skip_full or args.keep_reference):  # HiGHS interior point + crossover: dual simplex takes far longer on 245k columns
        full = optimum("full", to_pypsa(system), "PyPSA network built by pypsa_network.to_pypsa(system)",
                       len(system.snapshots), solver_options=FULL_SOLVER)
        optima.insert(0, {**full, "solver_options": FULL_SOLVER})
    system.meta["reference"] = {
        "tool": tool_versions(), "solver": "network.optimize(solver_name='highs')", "command": COMMAND,
        "note": "objective in EUR/a; this system has no PyPSA original, so the references are PyPSA's optimum of "
                "the same model built from the System before it is written (the test rebuilds it from the CSVs)",
        "optima": optima,
    }
    write_dataset(system, README.format(optima=fmt_optima(optima), tool=tool_versions(),
                                        transformations="\n".join(f"{i}. {t}" for i, t in
                                                                  enumerate(system.meta["transformations"], 1)),
                                        costs=cost_table(system)))
    print(f"wrote datasets/{NAME}")


def cost_table(system: System) -> str:
    rows = ["| technology | investment | FOM %/a | VOM EUR/MWh | lifetime a | efficiency | source |",
            "|---|---|---|---|---|---|---|"]
    units = {"battery storage": "EUR/kWh", "HVAC overhead": "EUR/MW/km"}
    for tech, c in COSTS.items():
        rows.append(f"| {tech} | {c['investment']:g} {units.get(tech, 'EUR/kW')} | {c['fom']:g} | {c.get('vom', 0):g} | "
                    f"{c['lifetime']:g} | {c.get('efficiency', '-')} | {c['src']} |")
    return "\n".join(rows)


README = """# three-country

Germany, France and the Netherlands as three zones of a transport model over 8,760 hours:
extendable onshore wind, solar, CCGT and OCGT in every zone, nuclear in France, batteries with
separately sized energy (a store on its own bus) and power (charger and discharger links),
extendable interconnectors DE–FR, DE–NL, FR–NL, and load shedding at 2,000 EUR/MWh. Capital
costs are overnight costs annualised by the loader (discount rate 7 %, lifetimes as cited).

**Caveat on the weather and load data.** tsam's `test/data/wide.csv` is test data: its DE
columns equal tsam's single-site `docs/data/testdata.csv` (wind speed identical, load x 10)
and the FR/NL columns are scaled and shifted variants of it (correlations 0.87–0.99). It is
physically plausible hourly data with a realistic daily/seasonal shape, not national
statistics; the load is read as MW (DE peak about 6.4 GW).

## Source and licence

* Weather and load: tsam 4.1.1 source distribution (`pip download --no-deps --no-binary :all:
  tsam==4.1.1`), `test/data/wide.csv` — MIT licence (© Forschungszentrum Jülich GmbH (ICE-2)).
* Wind power curve: windpowerlib 0.2.2 source distribution, `windpowerlib/data/default_turbine_data/
  power_curves.csv`, turbine E-115/3000 — MIT licence (© oemof developer group).
* Costs: figures cited from PyPSA/technology-data `outputs/costs_2030.csv` (commit
  dac74c3c02bd0b7a358d2ff725bed15328ee7cc4), which compiles them from the sources named below.

{costs}

Gas fuel 20.1 EUR/MWh_th (BP 2019) and CO2 intensity 0.198 t/MWh_th; nuclear fuel 2.6 EUR/MWh_th
(Lazard v13.0), all from the same file.

## Transformations

{transformations}

## Reference optima

PyPSA's optimum of the same model, built from the System by
`datasets/energy-scripts/pypsa_network.py` (`to_pypsa`) and solved with
`network.optimize(solver_name="highs")` ({tool}); stored in `system.yaml` under
`reference.optima`. `first-N`: first N hours, objective weights rescaled to 8,760 h
(`System.first(N)`); `tests/test_pypsa_round_trip.py` rebuilds it from the CSV files.

{optima}
"""

if __name__ == "__main__":
    main()
