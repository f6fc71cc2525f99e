"""PyPSA <-> gridprox System, in both directions, plus PyPSA's own optimum.

``to_pypsa(system, scenario=None | name | "stochastic")`` builds the same planning problem in
PyPSA from a gridprox System (tests/test_pypsa_round_trip.py and comparisons/planning.py use it);
``from_pypsa(network)`` converts a deterministic PyPSA network into a System, refusing any
attribute the gridprox schema cannot represent exactly (so a conversion is lossless or fails).
``pypsa_optimum(network)`` solves with HiGHS and returns objective, capacities and timings.

Run as a script to solve a bundled system with PyPSA::

    python datasets/energy-scripts/pypsa_network.py model-energy [--first N] [--scenario NAME|stochastic]
"""
from __future__ import annotations

import argparse
import logging
import math
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from gridprox.energy.system import SCHEMA, System  # noqa: E402

__all__ = ["to_pypsa", "from_pypsa", "pypsa_optimum"]
SHEDDING = "load shedding"


# --------------------------------------------------------------- System -> PyPSA
def _cost_attrs(system: System, df: pd.DataFrame) -> pd.DataFrame:
    """Capital-cost attributes as PyPSA 1.4 takes them (PyPSA does the annuity itself)."""
    out = pd.DataFrame({"capital_cost": df["capital_cost"], "fom_cost": df["fom_cost"]}, index=df.index)
    given = df["overnight_cost"].notna()
    if given.any():
        out["overnight_cost"] = df["overnight_cost"]
        out["discount_rate"] = np.where(given, system.discount_rate, np.nan)
        out["lifetime"] = df["lifetime"].where(given, np.inf)
    return out


def _capacity_attrs(df: pd.DataFrame, cap: str) -> pd.DataFrame:
    return df[[cap, f"{cap}_extendable", f"{cap}_min", f"{cap}_max"]]


def _ramp(system: System, limit: pd.Series) -> pd.Series:
    """gridprox ramp limits are per hour; PyPSA's are per snapshot (uniform durations only)."""
    if np.isinf(limit).all():
        return pd.Series(np.nan, index=limit.index)
    dur = system.snapshots["duration"].unique()
    if len(dur) != 1:
        raise NotImplementedError("ramp limits with non-uniform snapshot durations have no PyPSA equivalent")
    return (limit * dur[0]).where(np.isfinite(limit))


def _component_frames(system: System) -> dict[str, pd.DataFrame]:
    """Static PyPSA attributes per component, for one (deterministic) System."""
    co2_price = system.policies["co2_price"] or 0.0
    g = system.generators
    gens = pd.concat([g[["bus", "carrier"]], _capacity_attrs(g, "p_nom"), _cost_attrs(system, g)], axis=1)
    gens["marginal_cost"] = system.marginal_cost() + co2_price * system.emission_factor()
    gens["efficiency"] = g["efficiency"]
    gens["p_min_pu"], gens["p_max_pu"] = g["p_min_pu"], g["p_max_pu"]
    gens["ramp_limit_up"], gens["ramp_limit_down"] = _ramp(system, g["ramp_limit_up"]), _ramp(system, g["ramp_limit_down"])
    s = system.storage_units
    sus = pd.concat([s[["bus", "carrier"]], _capacity_attrs(s, "p_nom"), _cost_attrs(system, s),
                     s[["max_hours", "efficiency_store", "efficiency_dispatch", "standing_loss",
                        "cyclic_state_of_charge", "state_of_charge_initial", "marginal_cost"]]], axis=1)
    st = system.stores
    stores = pd.concat([st[["bus", "carrier"]], _capacity_attrs(st, "e_nom"), _cost_attrs(system, st),
                        st[["standing_loss", "e_cyclic", "e_initial"]]], axis=1)
    lk = system.links
    links = pd.concat([lk[["bus0", "bus1", "carrier", "efficiency"]], _capacity_attrs(lk, "p_nom"),
                       _cost_attrs(system, lk), lk[["marginal_cost", "p_min_pu", "p_max_pu"]]], axis=1)
    links = pd.concat([links, _line_links(system)])
    return {"Generator": gens, "StorageUnit": sus, "Store": stores, "Link": links}


def _line_links(system: System) -> pd.DataFrame:
    """Transport-model lines as reversible PyPSA links (lossless) or two one-way links (lossy, fixed)."""
    ln = system.lines
    if ln.empty:
        return pd.DataFrame()
    lossy = ln["efficiency"] < 1
    if (lossy & ln["p_nom_extendable"]).any():
        raise NotImplementedError("extendable lossy lines need a shared capacity of two PyPSA links; not built here")
    base = pd.concat([ln[["bus0", "bus1", "carrier", "efficiency"]], _capacity_attrs(ln, "p_nom"),
                      _cost_attrs(system, ln)], axis=1)
    base["marginal_cost"], base["p_max_pu"] = 0.0, 1.0
    base["p_min_pu"] = np.where(lossy, 0.0, -1.0)
    back = base[lossy].rename(columns={"bus0": "bus1", "bus1": "bus0"}).rename(index=lambda x: f"{x} reverse")
    return pd.concat([base, back[base.columns]])


def to_pypsa(system: System, scenario: str | None = None):
    """The planning problem of ``system`` as a pypsa.Network.

    scenario: None (base data), a scenario name (its overrides applied), or "stochastic" (a
    two-stage stochastic network: shared capacities, per-scenario operation, scenario weights)."""
    import pypsa

    if scenario not in (None, "stochastic"):
        system = system.scenario(scenario)
    if (system.snapshots["period"] != system.snapshots["period"].iloc[0]).any():
        raise NotImplementedError("representative periods (cyclic storage per period) are not built in PyPSA here")
    for key in ("renewable_share", "reserve_margin"):
        if system.policies[key] is not None:
            raise NotImplementedError(f"policy {key} is not built in PyPSA here")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return _build(pypsa.Network(name=system.name), system, scenario)


def _build(n, system: System, scenario):
    n.set_snapshots(system.snapshots.index)
    n.snapshot_weightings = pd.DataFrame({"objective": system.snapshots["weight"],
                                          "generators": system.snapshots["weight"],
                                          "stores": system.snapshots["duration"]})
    carriers = system.carriers
    n.add("Carrier", carriers.index, co2_emissions=carriers["co2_emissions"])
    bus_carriers = sorted(set(system.buses["carrier"]) - set(carriers.index) - {""})
    if bus_carriers:  # informational in gridprox; PyPSA wants them declared
        n.add("Carrier", bus_carriers)
    n.add("Bus", system.buses.index, carrier=system.buses["carrier"])
    frames = _component_frames(system)
    for comp, df in frames.items():
        if len(df):
            n.add(comp, df.index, **{c: df[c] for c in df.columns})
    avail = system.availability
    if len(avail.columns):
        n.generators_t.p_max_pu = avail.copy()
    demand = system.demand.loc[:, (system.demand != 0).any()]
    n.add("Load", demand.columns, bus=demand.columns, p_set=demand)
    if system.voll is not None and len(demand.columns):
        peak = demand.max()
        names = [f"{bus} {SHEDDING}" for bus in demand.columns]
        if SHEDDING not in n.carriers.index:
            n.add("Carrier", SHEDDING)
        n.add("Generator", names, bus=demand.columns, carrier=SHEDDING, p_nom=peak.values,
              marginal_cost=system.voll, p_max_pu=(demand / peak).set_axis(names, axis=1))
    if system.policies["co2_cap"] is not None:
        n.add("GlobalConstraint", "co2_cap", type="primary_energy", carrier_attribute="co2_emissions",
              sense="<=", constant=system.policies["co2_cap"])
    if scenario == "stochastic":
        _make_stochastic(n, system)
    return n


def _make_stochastic(n, system: System):
    """Set PyPSA scenarios and write each scenario's static attributes into its rows."""
    if system.scenarios.empty:
        raise ValueError(f"system {system.name!r} has no scenarios")
    if (system.scenario_overrides["table"] == "policies").any():
        raise NotImplementedError("per-scenario policies are not built in PyPSA here")
    n.set_scenarios(system.scenarios["weight"].to_dict())
    for name in system.scenarios.index:
        for comp, df in _component_frames(system.scenario(name)).items():
            if len(df):
                static = n.c[comp].static if hasattr(n, "c") else n.df(comp)
                for col in df.columns:
                    static.loc[(name, list(df.index)), col] = df[col].values


# --------------------------------------------------------------- PyPSA -> System
_UNSUPPORTED = {
    "generators": {"committable": False, "p_nom_mod": 0.0, "marginal_cost_quadratic": 0.0, "sign": 1.0,
                   "active": True, "e_sum_min": -math.inf, "e_sum_max": math.inf, "start_up_cost": 0.0,
                   "shut_down_cost": 0.0, "stand_by_cost": 0.0, "build_year": 0},
    "storage_units": {"p_min_pu": -1.0, "p_max_pu": 1.0, "inflow": 0.0, "spill_cost": 0.0, "p_nom_mod": 0.0,
                      "marginal_cost_storage": 0.0, "marginal_cost_quadratic": 0.0, "sign": 1.0, "active": True,
                      "cyclic_state_of_charge_per_period": False, "build_year": 0},
    "stores": {"e_min_pu": 0.0, "e_max_pu": 1.0, "marginal_cost": 0.0, "marginal_cost_storage": 0.0,
               "marginal_cost_quadratic": 0.0, "e_nom_mod": 0.0, "sign": 1.0, "active": True, "build_year": 0},
    "links": {"committable": False, "marginal_cost_quadratic": 0.0, "p_nom_mod": 0.0, "active": True,
              "stand_by_cost": 0.0, "delay": 0, "build_year": 0},
    "loads": {"sign": -1.0, "active": True},
}
_VARYING_OK = {"generators": {"p_max_pu"}, "loads": {"p_set"}}


def _check_supported(n):
    for comp in ("lines", "transformers", "shunt_impedances", "global_constraints"):
        if len(getattr(n, comp)):
            raise NotImplementedError(f"network has {comp}; not representable in the gridprox schema")
    if len(n.investment_periods):
        raise NotImplementedError("multi-period investment networks are not representable")
    for comp, defaults in _UNSUPPORTED.items():
        df = getattr(n, comp)
        for attr, value in defaults.items():
            if attr in df and len(df) and not (df[attr] == value).all():
                raise NotImplementedError(f"{comp}.{attr} != {value!r}: not representable")
        series = getattr(n, comp + "_t")
        for attr in series.keys():
            frame = series[attr]
            if frame.shape[1] and attr not in _VARYING_OK.get(comp, set()) and not _is_output(comp, attr):
                raise NotImplementedError(f"time-varying {comp}.{attr} is not representable")
    if "bus2" in n.links and (n.links["bus2"].fillna("") != "").any():
        raise NotImplementedError("multi-output links are not representable")
    w = n.snapshot_weightings
    if not (w["objective"] == w["generators"]).all():
        raise NotImplementedError("objective and generator weightings differ")


def _is_output(comp: str, attr: str) -> bool:
    return attr in {"p", "q", "p0", "p1", "e", "state_of_charge", "p_dispatch", "p_store", "spill", "mu_upper",
                    "mu_lower", "marginal_price", "status", "mu_ramp_limit_up", "mu_ramp_limit_down",
                    "mu_energy_balance", "mu_state_of_charge_set", "v_ang", "v_mag_pu", "p_nom_opt"}


def _costs(df: pd.DataFrame) -> pd.DataFrame:
    out = df[["capital_cost", "fom_cost"]].copy()
    out["overnight_cost"] = df["overnight_cost"] if "overnight_cost" in df else np.nan
    out["lifetime"] = df["lifetime"].where(out["overnight_cost"].notna(), np.inf)
    return out


def from_pypsa(n, name: str, meta: dict) -> System:
    """A deterministic PyPSA network as a System; raises NotImplementedError for anything lossy."""
    _check_supported(n)
    rates = pd.concat([getattr(n, c)["discount_rate"] for c in ("generators", "storage_units", "stores", "links")
                       if "discount_rate" in getattr(n, c)]).dropna().unique()
    if len(rates) > 1:
        raise NotImplementedError("several discount rates")
    meta = dict(meta)
    if len(rates):
        meta["discount_rate"] = float(rates[0])
    buses = pd.DataFrame({"carrier": n.buses["carrier"].replace("", "electricity")})
    carriers = pd.DataFrame({"co2_emissions": n.carriers["co2_emissions"].astype(float)})
    for info in ("nice_name", "color"):
        if info in n.carriers and (n.carriers[info].fillna("") != "").any():
            carriers[info] = n.carriers[info].fillna("")
    g = n.generators
    ramp = {k: (g[k] / _uniform_duration(n)).fillna(math.inf) for k in ("ramp_limit_up", "ramp_limit_down")}
    gens = pd.concat([g[["bus", "carrier", "p_nom", "p_nom_extendable", "p_nom_min", "p_nom_max"]], _costs(g),
                      g[["marginal_cost", "efficiency", "p_min_pu", "p_max_pu"]]], axis=1)
    gens["fuel_cost"] = 0.0
    gens = gens.assign(**ramp)
    su = n.storage_units
    sus = pd.concat([su[["bus", "carrier", "p_nom", "p_nom_extendable", "p_nom_min", "p_nom_max"]], _costs(su),
                     su[["max_hours", "efficiency_store", "efficiency_dispatch", "standing_loss",
                         "cyclic_state_of_charge", "state_of_charge_initial", "marginal_cost"]]], axis=1)
    st = n.stores
    stores = pd.concat([st[["bus", "carrier", "e_nom", "e_nom_extendable", "e_nom_min", "e_nom_max"]], _costs(st),
                        st[["standing_loss", "e_cyclic", "e_initial"]]], axis=1)
    lk = n.links
    links = pd.concat([lk[["bus0", "bus1", "carrier", "efficiency", "p_nom", "p_nom_extendable", "p_nom_min",
                           "p_nom_max"]], _costs(lk), lk[["marginal_cost", "p_min_pu", "p_max_pu"]]], axis=1)
    w = n.snapshot_weightings
    snapshots = pd.DataFrame({"weight": w["objective"].astype(float), "duration": w["stores"].astype(float),
                              "period": "0"}, index=pd.DatetimeIndex(n.snapshots, name="snapshot"))
    loads = n.loads_t.p_set.reindex(columns=n.loads.index)
    loads = loads.fillna(n.loads["p_set"]) if len(loads.columns) else loads
    loads = loads.reindex(n.snapshots).fillna(n.loads["p_set"]) if len(n.loads) else loads
    demand = loads.T.groupby(n.loads["bus"]).sum().T.reindex(columns=buses.index, fill_value=0.0)
    demand.index = snapshots.index
    avail = n.generators_t.p_max_pu.reindex(columns=g.index).fillna(g["p_max_pu"])
    avail.index = snapshots.index
    tables = {"buses": buses, "carriers": carriers, "generators": gens, "storage_units": sus, "stores": stores,
              "links": links, "lines": _empty_like("lines")}
    for key, df in tables.items():
        df.index = pd.Index(df.index.astype(str), name="name")
        df.columns.name = None
    return System(name=name, snapshots=snapshots, demand=demand.astype(float), availability=avail.astype(float),
                  meta=meta, **tables).validate()


def _uniform_duration(n) -> float:
    d = n.snapshot_weightings["stores"].unique()
    return float(d[0]) if len(d) == 1 else math.nan


def _empty_like(table: str) -> pd.DataFrame:
    cols = [c.name for c in SCHEMA[table].columns if c.name != "name"]
    return pd.DataFrame(columns=cols, index=pd.Index([], name="name"))


# ---------------------------------------------------------------- solving
def pypsa_optimum(n, solver_options: dict | None = None) -> dict:
    """Solve with HiGHS; objective, status, capacities and timings (build+solve, solver only)."""
    import pypsa

    logging.getLogger("linopy").setLevel(logging.WARNING)
    logging.getLogger("pypsa").setLevel(logging.WARNING)
    options = {"output_flag": False, **(solver_options or {})}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        status, condition = n.optimize(solver_name="highs", solver_options=options, progress=False)
    total = time.perf_counter() - t0
    model = n.model
    highs = getattr(model, "solver_model", None)
    caps = {}
    for comp, attr in (("generators", "p_nom_opt"), ("storage_units", "p_nom_opt"), ("stores", "e_nom_opt"),
                       ("links", "p_nom_opt")):
        df = getattr(n, comp)
        for idx, v in df[attr].items():
            caps[f"{comp}/{idx if isinstance(idx, str) else '/'.join(idx)}"] = float(v)
    return {"status": status, "condition": condition, "objective": float(n.objective),
            "pypsa_version": pypsa.__version__, "seconds_total": total,
            "seconds_solver": float(highs.getRunTime()) if hasattr(highs, "getRunTime") else math.nan,
            "variables": int(model.nvars), "constraints": int(model.ncons), "capacities": caps}


def main(argv=None):
    from gridprox.datasets import load_system

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("system")
    p.add_argument("--first", type=int, help="first N snapshots (weights rescaled to the full horizon)")
    p.add_argument("--scenario", help="scenario name or 'stochastic'")
    args = p.parse_args(argv)
    system = load_system(args.system)
    if args.first:
        system = system.first(args.first)
    res = pypsa_optimum(to_pypsa(system, args.scenario))
    print(f"{system.name}: status {res['status']} ({res['condition']}), objective {res['objective']!r}, "
          f"{res['variables']} variables, {res['constraints']} constraints, "
          f"{res['seconds_total']:.1f} s total, {res['seconds_solver']:.1f} s in HiGHS (PyPSA {res['pypsa_version']})")
    for k, v in res["capacities"].items():
        print(f"  {k:<40} {v:,.4f}")


if __name__ == "__main__":
    main()
