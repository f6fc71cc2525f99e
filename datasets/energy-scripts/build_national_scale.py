"""Build datasets/national-scale: calliope 0.7.0's "national_scale" example model (Apache-2.0),
its full year hourly (8,760 snapshots), translated into gridprox components; then PyPSA's
optimum of the first 336 hours of the same model (checked against gridprox's before writing).

    python datasets/energy-scripts/build_national_scale.py [--keep-reference]

The source is calliope's wheel (``pip download --no-deps --python-version 3.12
--only-binary=:all: calliope==0.7.0``; the package publishes no example data in its sdist),
read with ``zipfile``: calliope itself is neither installed nor run.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import io
import subprocess
import sys
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from build_common import DATASETS, assert_same, fmt_optima, optimum, table_files, tool_versions, write_dataset
from gridprox.energy.model import SHEDDING, CapacityExpansion
from gridprox.energy.system import System, read_system
from pypsa_network import to_pypsa
from sources import cache_dir, sha256

NAME = "national-scale"
COMMAND = "python datasets/energy-scripts/build_national_scale.py"
PACKAGE, VERSION = "calliope", "0.7.0"
WHEEL = f"{PACKAGE}-{VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "08e80d82a63c0e7ab3ca965db72538d80a29ee5f8277b0e5660727807c77fac5"
MODEL = "calliope/example_models/national_scale"
FILES = ("model.yaml", "model_config/techs.yaml", "model_config/locations.yaml",
         "data_tables/time_varying_params.csv", "data_tables/costs.csv")
HORIZON = 336                # hours of the stored reference optimum (the first two weeks)
KW = 1000.0                  # calliope's units are kW / kWh / USD; gridprox's MW / MWh: kW / 1000, USD/kW x 1000
FIELD_KW_PER_M2 = 1.0        # solar-field "capacity": 1 kW of heat per m2 at availability 1 (1 MW per 1,000 m2)
VOLL = 1e6                   # USD/MWh for unmet demand (calliope: bigM 1e6 USD/kWh; see transformations)
CSP_NODES = ["region1_1", "region1_2", "region1_3"]
PORT = "{} ac port"          # the two ends of the region1-region2 corridor (shared capacity, see below)


# ---------------------------------------------------------------- the source
def wheel() -> Path:
    """calliope's wheel in the sources cache (downloaded once), checked against the pinned sha256."""
    path = cache_dir() / WHEEL
    if not path.is_file():
        cache_dir().mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--python-version", "3.12",
                        "--only-binary=:all:", f"{PACKAGE}=={VERSION}", "-d", str(cache_dir())], check=True)
    if sha256(path) != WHEEL_SHA256:
        raise RuntimeError(f"{path}: sha256 {sha256(path)} is not the pinned {WHEEL_SHA256}")
    return path


def read_model() -> dict:
    """The example's YAML files (parsed), cost table and time series, straight from the wheel."""
    with zipfile.ZipFile(wheel()) as z:
        text = {f: z.read(f"{MODEL}/{f}").decode() for f in FILES}
        licence = z.read(f"{PACKAGE}-{VERSION}.dist-info/METADATA").decode()
    assert "License-Expression: Apache-2.0" in licence
    model = yaml.safe_load(text["model.yaml"])
    techs = yaml.safe_load(text["model_config/techs.yaml"])["techs"]
    nodes = yaml.safe_load(text["model_config/locations.yaml"])["nodes"]
    costs = pd.read_csv(io.StringIO(text["data_tables/costs.csv"]), index_col=0, skiprows=[1])
    rows = list(csv.reader(io.StringIO(text["data_tables/time_varying_params.csv"])))
    assert [r[0] for r in rows[:5]] == ["comment", "nodes", "techs", "inputs", "timesteps"]
    header = list(zip(rows[1][1:], rows[2][1:], rows[3][1:]))     # (node, tech, parameter)
    series = pd.DataFrame([[float(v) for v in r[1:]] for r in rows[5:]], columns=pd.MultiIndex.from_tuples(
        header, names=["node", "tech", "input"]), index=pd.DatetimeIndex(pd.to_datetime([r[0] for r in rows[5:]]),
                                                                        name="snapshot"))
    return {"model": model, "techs": techs, "nodes": nodes, "costs": costs, "series": series}


# ---------------------------------------------------------------- the translation
def build_system(src: dict | None = None) -> System:
    src = src or read_model()
    techs, nodes, costs, ts = src["techs"], src["nodes"], src["costs"], src["series"]
    defs = src["model"]["data_definitions"]
    rate, lifetime = defs["cost_interest_rate"]["data"], {t: float(techs[t]["lifetime"]) for t in
                                                          ("ccgt", "csp", "battery", "region1_to_region2")}
    assert src["model"]["config"]["build"]["ensure_feasibility"] and rate == 0.10
    assert set(nodes) == {"region1", "region2", *CSP_NODES}
    assert set(nodes["region1"]["techs"]) == {"demand_power", "ccgt"} and set(nodes["region2"]["techs"]) == {
        "demand_power", "battery"}
    ccgt, csp, bat, ac = techs["ccgt"], techs["csp"], techs["battery"], techs["region1_to_region2"]
    assert csp["source_unit"] == "per_area" and csp["include_storage"] and ac["link_to"] == "region2"

    def invest(tech: str, usd_per_kw: float) -> dict:
        return {"overnight_cost": round(usd_per_kw * KW, 6), "lifetime": lifetime[tech]}

    index = ts.index
    gens, links, stores, lines, avail = [], [], [], [], {}
    # CCGT at region1: node flow_cap_max 30,000 kW (the tech's 40,000 and the systemwide 100,000 are then slack)
    ccgt_cap = nodes["region1"]["techs"]["ccgt"]["flow_cap_max"]
    assert ccgt_cap <= min(ccgt["flow_cap_max"], ccgt["flow_cap_max_systemwide"])
    gens.append(dict(name="region1 ccgt", bus="region1", carrier="ccgt", p_nom_extendable=True,
                     p_nom_max=ccgt_cap / KW, fuel_cost=costs.loc["ccgt", "cost_source_use"] * KW,
                     efficiency=ccgt["flow_out_eff"], ramp_limit_up=ccgt["flow_ramping"],
                     ramp_limit_down=ccgt["flow_ramping"], **invest("ccgt", costs.loc["ccgt", "cost_flow_cap"])))
    # CSP: solar field (area) -> receiver (source_cap) -> heat store (storage_cap) -> turbine (flow_cap)
    eta = csp["flow_out_eff"] * csp["flow_out_parasitic_eff"]
    turbine_per_flow_cap = round(csp["flow_out_parasitic_eff"] / eta, 12)  # heat input capacity per kW of flow_cap
    for node in CSP_NODES:
        field, heat = f"{node} csp field", f"{node} csp heat"
        resource = ts[(node, "csp", "source_use_max")]
        avail[field] = resource.to_numpy() / FIELD_KW_PER_M2
        gens.append(dict(name=field, bus=field, carrier="csp field", p_nom_extendable=True,
                         **invest("csp", costs.loc["csp", "cost_area_use"] / FIELD_KW_PER_M2)))
        links.append(dict(name=f"{node} csp receiver", bus0=field, bus1=heat, carrier="csp receiver",
                          efficiency=1.0, p_nom_extendable=True, **invest("csp", costs.loc["csp", "cost_source_cap"])))
        stores.append(dict(name=f"{node} csp storage", bus=heat, carrier="csp storage", e_nom_extendable=True,
                           e_nom_max=csp["storage_cap_max"] / KW, standing_loss=csp["storage_loss"],
                           **invest("csp", costs.loc["csp", "cost_storage_cap"])))
        links.append(dict(name=f"{node} csp turbine", bus0=heat, bus1=node, carrier="csp turbine",
                          efficiency=round(eta, 12), p_nom_extendable=True,
                          p_nom_max=round(csp["flow_cap_max"] * turbine_per_flow_cap / KW, 9),
                          marginal_cost=round(costs.loc["csp", "cost_flow_out"] * KW * eta, 9),
                          **invest("csp", costs.loc["csp", "cost_flow_cap"] / turbine_per_flow_cap)))
        # free lossless transmission to region1; 10 MW (csp's flow_cap_max) is never reached: the node's
        # only source is its csp, which delivers at most flow_cap_max x parasitic efficiency = 9 MW
        lines.append(dict(name=f"region1_to_{node}", bus0="region1", bus1=node, carrier="free transmission",
                          p_nom=csp["flow_cap_max"] / KW))
    # battery at region2: a store on its own bus, costless charger / discharger at the tech's flow_cap_max
    battery = "region2 battery"
    stores.append(dict(name=battery, bus=battery, carrier="battery", e_nom_extendable=True,
                       standing_loss=bat["storage_loss"], **invest("battery", costs.loc["battery", "cost_storage_cap"])))
    links.append(dict(name="region2 battery charger", bus0="region2", bus1=battery, carrier="battery charger",
                      efficiency=bat["flow_in_eff"], p_nom=bat["flow_cap_max"] / KW))
    links.append(dict(name="region2 battery discharger", bus0=battery, bus1="region2", carrier="battery discharger",
                      efficiency=bat["flow_out_eff"], p_nom=bat["flow_cap_max"] / bat["flow_out_eff"] / KW))
    # region1-region2: one capacity for both directions, sent power <= capacity, 15 % lost on arrival
    cap = ac["flow_cap_max"] / KW
    links.append(dict(name="region1_to_region2", bus0=PORT.format("region1"), bus1=PORT.format("region2"),
                      carrier="ac transmission", efficiency=1.0, p_min_pu=-1.0, p_nom_extendable=True, p_nom_max=cap,
                      **invest("region1_to_region2", costs.loc["region1_to_region2", "cost_flow_cap"])))
    for node in ("region1", "region2"):
        links.append(dict(name=f"{node} ac send", bus0=node, bus1=PORT.format(node), carrier="ac port",
                          efficiency=1.0, p_nom=cap))
        links.append(dict(name=f"{node} ac receive", bus0=PORT.format(node), bus1=node, carrier="ac port",
                          efficiency=ac["flow_out_eff"], p_nom=cap,
                          marginal_cost=round(costs.loc["region1_to_region2", "cost_flow_out"] * KW
                                              * ac["flow_out_eff"], 9)))

    carrier_names = ["ccgt", "csp field", "csp receiver", "csp storage", "csp turbine", "battery", "battery charger",
                     "battery discharger", "ac transmission", "ac port", "free transmission"]
    carriers = pd.DataFrame({"co2_emissions": 0.0}, index=pd.Index(carrier_names, name="name"))
    bus_rows = ([("region1", "electricity"), ("region2", "electricity")]
                + [(n, "electricity") for n in CSP_NODES]
                + [(f"{n} csp field", "csp field") for n in CSP_NODES] + [(f"{n} csp heat", "heat") for n in CSP_NODES]
                + [(battery, "battery"), (PORT.format("region1"), "electricity"),
                   (PORT.format("region2"), "electricity")])
    buses = pd.DataFrame({"carrier": [c for _, c in bus_rows]}, index=pd.Index([b for b, _ in bus_rows], name="name"))
    demand = pd.DataFrame({n: np.round(ts[(n, "demand_power", "sink_use_equals")].to_numpy() / KW, 9)
                           for n in ("region1", "region2")}, index=index).reindex(columns=buses.index, fill_value=0.0)
    named = {k: pd.DataFrame(v).set_index("name") for k, v in (("generators", gens), ("links", links),
                                                              ("stores", stores), ("lines", lines))}
    named["generators"] = named["generators"].fillna({"fuel_cost": 0.0, "efficiency": 1.0, "p_nom_max": np.inf,
                                                      "ramp_limit_up": np.inf, "ramp_limit_down": np.inf})
    named["links"] = named["links"].fillna({"p_nom_extendable": False, "p_nom": 0.0, "p_nom_max": np.inf,
                                            "marginal_cost": 0.0, "p_min_pu": 0.0,
                                            "lifetime": np.inf}).infer_objects()
    named["stores"] = named["stores"].fillna({"e_nom_max": np.inf})
    for df in (carriers, *named.values()):
        df.index.name = "name"
    availability = pd.DataFrame(avail, index=index).reindex(columns=named["generators"].index, fill_value=1.0)
    snapshots = pd.DataFrame({"weight": 1.0}, index=index)
    storage_units = pd.DataFrame({"bus": pd.Series(dtype=object)}, index=pd.Index([], name="name"))
    return System(name=NAME, buses=buses, carriers=carriers, storage_units=storage_units, snapshots=snapshots,
                  demand=demand, availability=availability, meta=meta(src), **named).validate()


def meta(src: dict) -> dict:
    ts, techs, costs = src["series"], src["techs"], src["costs"]
    csp, bat = techs["csp"], techs["battery"]
    eta = csp["flow_out_eff"] * csp["flow_out_parasitic_eff"]
    ratio = csp["flow_out_parasitic_eff"] / eta
    transformations = [
        f"source: {PACKAGE}=={VERSION} wheel, folder {MODEL}/ (model.yaml, model_config/techs.yaml, "
        "model_config/locations.yaml, data_tables/costs.csv, data_tables/time_varying_params.csv); read as "
        "data, calliope is not run. The whole year is used (the example's config.init.subset of 2005-01-01 "
        f"to 2005-01-05 is not applied): {len(ts):,} hourly timesteps {ts.index[0]} .. {ts.index[-1]}, weight 1 h",
        "units: calliope's kW / kWh become MW / MWh (divided by 1000), costs per kW / kWh are multiplied by "
        "1000 (USD/MW, USD/MWh); the currency stays USD; objective in USD/a",
        "investment: calliope annualises cost_investment with cost_interest_rate 0.10 and lifetime 25 a "
        "(r (1 + r)^n / ((1 + r)^n - 1), annualisation weight 1 for the full year): stored as overnight_cost "
        "and lifetime 25, annualised by the loader with discount_rate 0.1 (System.fixed_cost); no fixed O&M",
        "demand.csv = sink_use_equals of demand_power at region1 and region2 / 1000 (MW); all other buses have "
        "no demand",
        "ccgt (region1): extendable generator, p_nom_max = the node's flow_cap_max 30,000 kW = 30 MW "
        "(the tech's 40,000 kW and flow_cap_max_systemwide 100,000 kW are then never binding: region1 is the only "
        "ccgt node, so the systemwide cap is dropped without loss); efficiency = flow_out_eff 0.5, fuel_cost = "
        "cost_source_use 0.02 USD/kWh of fuel = 20 USD/MWh_th (40 USD/MWh_el); overnight cost 750 USD/kW; "
        "flow_ramping 0.8 per hour -> ramp_limit_up = ramp_limit_down = 0.8 (not across the first snapshot, "
        "as calliope's ramping constraints)",
        "csp (region1_1, region1_2, region1_3), one chain per node, exact: (1) solar field = an extendable "
        f"generator on the bus '<node> csp field' with availability = the node's source_use_max (kWh of heat per "
        f"m2 per hour, max {ts.xs('source_use_max', level='input', axis=1).to_numpy().max():.4f}) and capacity "
        f"in MW = area_use / 1000 m2 ({FIELD_KW_PER_M2:g} kW per m2), overnight cost cost_area_use 200 USD/m2 = "
        "200,000 USD/MW; (2) receiver = a link field -> '<node> csp heat', efficiency 1 (source_eff), capacity = "
        "source_cap, overnight cost cost_source_cap 200 USD/kW; together source_use <= min(resource x area, "
        f"source_cap) as in calliope; (3) heat store, e_nom_max = storage_cap_max {csp['storage_cap_max']:,} kWh, "
        f"standing_loss = storage_loss {csp['storage_loss']} per hour, cyclic (calliope's cyclic_storage default), "
        f"overnight cost 50 USD/kWh; (4) turbine = a link heat -> node, efficiency = flow_out_eff x "
        f"flow_out_parasitic_eff = {csp['flow_out_eff']} x {csp['flow_out_parasitic_eff']} = {eta:g}; calliope "
        f"bounds the delivered flow_out by {csp['flow_out_parasitic_eff']} x flow_cap, so the link's (heat input) "
        f"capacity is {ratio:g} x flow_cap: p_nom_max = {ratio:g} x 10,000 kW = {ratio * 10:g} MW and overnight "
        f"cost = 1000 USD/kW / {ratio:g} = {1000 / ratio:g} USD/kW (flow_cap = turbine capacity / {ratio:g}); "
        f"marginal_cost = cost_flow_out 0.002 USD/kWh delivered x {eta:g} = {2 * eta:g} USD per MWh of heat",
        "csp simplification: flow_cap_per_storage_cap_max 1 (flow_cap <= storage_cap, in kW per kWh) has no "
        "gridprox equivalent and is dropped (checked slack at the reference optimum, see reference.note)",
        "battery (region2): a store on the bus 'region2 battery' (extendable, overnight cost cost_storage_cap "
        "200 USD/kWh, storage_loss 0, cyclic) with a charger link (efficiency flow_in_eff 0.95, fixed p_nom = "
        "flow_cap_max 1 MW) and a discharger link (efficiency flow_out_eff 0.95, fixed p_nom = 1 MW / 0.95 of "
        "storage energy, i.e. 1 MW delivered); calliope's flow_cap carries no cost, so fixing it at its maximum "
        "changes no optimum; flow_cap_per_storage_cap_max 4 (flow_cap <= 4 x storage_cap) is dropped: at hourly "
        "steps a store of E MWh can move at most 1.05 E MW, so it never binds on flows that are not simultaneous "
        "charge and discharge (pure losses)",
        "region1_to_region2 (AC, flow_out_eff 0.85, flow_cap_max 10,000 kW, cost_flow_cap 200 USD/kW charged "
        "half at each end, cost_flow_out 0.002 USD/kWh): calliope gives both directions one capacity that bounds "
        "the sent (and the delivered) power; gridprox's extendable lossy line says exactly that, but "
        "pypsa_network.to_pypsa cannot convert one (PyPSA's two one-way links would need a shared-capacity "
        "constraint), so, for the reference, it is built exactly from links: a reversible lossless link 'region1_to_region2' between the buses 'region1 ac port' "
        "and 'region2 ac port' (p_min_pu -1, extendable to 10 MW, overnight cost 200 USD/kW: its capacity is "
        "calliope's flow_cap) and at each end a lossless 'ac send' link (node -> port) and an 'ac receive' link "
        "(port -> node, efficiency 0.85, marginal cost 0.002 USD/kWh delivered x 0.85 = 1.7 USD/MWh sent), these "
        "four fixed at 10 MW (never binding); simultaneous flows both ways are netted on the shared link "
        "(calliope allows them; they only lose energy)",
        "region1_to_region1_1/2/3 (free_transmission: lossless, no cost, no capacity limit): lossless transport "
        "lines, fixed p_nom 10 MW = csp flow_cap_max, never binding (each node's only source, its csp, delivers "
        "at most 0.9 x 10 MW)",
        f"unmet demand (calliope's ensure_feasibility, bigM 1e6 USD/kWh = 1e9 USD/MWh) -> gridprox's load "
        f"shedding at voll = {VOLL:,.0f} USD/MWh (1e3 USD/kWh), bounded by each bus's demand: 1e9 next to the "
        "smallest cost (0.72 USD/MWh) spans more than PDHG's 1e9 limit; any value far above the cost of serving "
        "(about 1e5 USD/MWh for a peak hour at the annualised ccgt cost) gives the same optimum wherever demand "
        "can be met. Calliope's unused_supply (a costed sink) is not modelled: every source here can be "
        "curtailed",
        "not translated (not part of the base model): scenarios.yaml's overrides and the cluster_days table",
    ]
    return {
        "name": NAME,
        "description": "calliope's national-scale example, full year hourly: two demand regions, ccgt, three "
                       "concentrating-solar plants with heat storage, a battery, a lossy AC corridor "
                       "and load shedding (USD, MW).",
        "currency": "USD",
        "discount_rate": float(src["model"]["data_definitions"]["cost_interest_rate"]["data"]),
        "voll": VOLL,
        "policies": {"co2_cap": None, "co2_price": None},
        "snapshots": {"count": len(ts), "resolution_hours": 1.0, "first": str(ts.index[0]),
                      "last": str(ts.index[-1])},
        "scenarios": None,
        "source": {"model": f"{PACKAGE}=={VERSION} wheel ({WHEEL}, sha256 {WHEEL_SHA256}), {MODEL}/ "
                            "(Apache-2.0, (c) Calliope contributors)",
                   "fetch": f"pip download --no-deps --python-version 3.12 --only-binary=:all: {PACKAGE}=={VERSION}",
                   "files": {f: sha256_of(f) for f in FILES},
                   "time_series": "time_varying_params.csv: CSP heat output per m2 of solar field from 2005 "
                                  "HelioClim DNI (Gauche et al. 2011 plant model); demand from modified IIASA "
                                  "GAINS data (Amann et al. 2011), as the file's comments say"},
        "licence": "Apache-2.0 (calliope's example model); modified: translated to gridprox tables as listed "
                   "under transformations",
        "transformations": transformations,
        "files": table_files("buses", "carriers", "generators", "stores", "links", "lines", "snapshots", "demand",
                             "availability"),
    }


def sha256_of(member: str) -> str:
    with zipfile.ZipFile(wheel()) as z:
        return hashlib.sha256(z.read(f"{MODEL}/{member}")).hexdigest()


# ---------------------------------------------------------------- checks and writing
def gridprox_check(system: System, reference: dict) -> dict:
    """gridprox's optimum of the same horizon equals PyPSA's (1e-9 relative); its load shedding (MWh)."""
    result = CapacityExpansion(system, hours=HORIZON).solve(solver="highs")
    rel = abs(result.objective - reference["objective"]) / abs(reference["objective"])
    print(f"  gridprox: objective {result.objective!r}, relative gap to PyPSA {rel:.2e}")
    if result.status != "optimal" or rel > 1e-9:
        raise RuntimeError(f"gridprox {result.status} {result.objective!r} vs PyPSA {reference['objective']!r}")
    d = result.dispatch
    shed = d[d["technology"] == SHEDDING]
    return {"gap": rel, "shed_mwh": float(shed["power_mw"].sum()) if len(shed) else 0.0}   # 1-h snapshots


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--keep-reference", action="store_true",
                   help="reuse the stored optimum (only text changed; the data must be identical)")
    args = p.parse_args(argv)
    src = read_model()
    system = build_system(src)
    if args.keep_reference:
        stored = read_system(DATASETS / NAME)
        reference = stored.meta["reference"]
        assert_same(system, replace(stored, meta=system.meta))       # the data, not the text, must match
    else:
        print("reference optimum (PyPSA model built from this System):")
        optima = [optimum(f"first-{HORIZON}", to_pypsa(system.first(HORIZON)),
                          f"PyPSA network built by pypsa_network.to_pypsa(system.first({HORIZON}))", HORIZON)]
        check = gridprox_check(system, optima[0])
        reference = {
            "tool": tool_versions(), "solver": "network.optimize(solver_name='highs')", "command": COMMAND,
            "note": "objective in USD/a (weights of the first 336 h rescaled to 8,760 h); calliope's own optimum "
                    "is not reproduced here (calliope is not run), the reference is PyPSA's optimum of the same "
                    "model built from the System before it is written; gridprox's CapacityExpansion(system, "
                    f"hours={HORIZON}).solve('highs') reached it to {check['gap']:.1e} (relative) at build time. "
                    + check_note(src, optima[0], check),
            "optima": optima,
        }
    system.meta["reference"] = reference
    write_dataset(system, README.format(optima=fmt_optima(reference["optima"]), tool=reference["tool"],
                                        note=reference["note"], size=size_line(system),
                                        transformations="\n".join(f"{i}. {t}" for i, t in
                                                                  enumerate(system.meta["transformations"], 1))))
    print(f"wrote datasets/{NAME}")


def check_note(src: dict, ref: dict, check: dict) -> str:
    """Whether calliope's dropped csp ratio constraint holds at the reference optimum, and the shedding."""
    caps = ref["capacities"]
    eff = src["techs"]["csp"]["flow_out_eff"]      # flow_cap per MW of turbine (heat input) capacity
    parts = []
    for n in CSP_NODES:
        flow_cap, storage_cap = caps[f"links/{n} csp turbine"] * eff, caps[f"stores/{n} csp storage"]
        parts.append(f"{n} {flow_cap:.4f} MW <= {storage_cap:.4f} MWh" + ("" if flow_cap <= storage_cap + 1e-9
                                                                             else " VIOLATED"))
    return ("csp flow_cap (= turbine capacity x flow_out_eff) against storage_cap at the reference optimum "
            "(calliope's flow_cap_per_storage_cap_max 1, dropped): " + "; ".join(parts)
            + f". Load shed over the {HORIZON} h: {check['shed_mwh']:.6g} MWh.")


def size_line(system: System) -> str:
    d = system.describe()
    return (f"{d['buses']} buses, {d['generators']} generators, {d['stores']} stores, {d['links']} links, "
            f"{d['lines']} lines, {d['snapshots']:,} hourly snapshots")


README = """# national-scale

calliope 0.7.0's **national_scale** example model (Apache-2.0) over its full year, hourly
(8,760 snapshots of 2005), translated into gridprox's tables ({size}).
Two demand regions:
region1 (a combined-cycle gas turbine, up to 30 MW, ramping 0.8 of capacity per hour) and region2
(a battery); three concentrating-solar plants (solar field, receiver, heat storage, turbine)
at region1_1..3, connected to region1 by free lossless lines; a lossy (85 %) AC corridor
region1–region2 with one capacity for both directions; unmet demand as load shedding.
Capacities are all optimised (greenfield); investment costs are annualised at 10 % over 25 years,
as calliope does. Money in USD, power in MW (calliope's kW / 1000).

## Source and licence

* calliope 0.7.0 wheel (`pip download --no-deps --python-version 3.12 --only-binary=:all:
  calliope==0.7.0`, sha256 `{sha}`), folder `calliope/example_models/national_scale/`:
  `model.yaml`, `model_config/techs.yaml`, `model_config/locations.yaml`,
  `data_tables/costs.csv`, `data_tables/time_varying_params.csv` (CSP heat output per m2 from
  2005 HelioClim DNI; demand from modified IIASA GAINS data, as the file says).
* Licence: Apache License 2.0, © Calliope contributors. This folder is a modified derivative:
  every change is listed below. calliope itself is not run; its YAML and CSV files are read.

## Transformations

{transformations}

## Reference optimum

PyPSA's optimum of the same model, built from the System by
`datasets/energy-scripts/pypsa_network.py` (`to_pypsa`) and solved with
`network.optimize(solver_name="highs")` ({tool}); stored in `system.yaml` under
`reference.optima` with the optimal capacities. `first-336`: the first 336 hours (two weeks of
January), objective weights rescaled to 8,760 h (`System.first(336)`).

{note}

{optima}

Rebuild with `python datasets/energy-scripts/build_national_scale.py` (downloads the wheel into
the sources cache; needs `pypsa==1.4.0`).
""".replace("{sha}", WHEEL_SHA256)

if __name__ == "__main__":
    main()
