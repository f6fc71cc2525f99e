"""PyPSA networks in and out: ``System.from_pypsa``, ``System.to_pypsa`` and ``PlanningResult.to_pypsa``.

``from_pypsa`` reads a ``pypsa.Network`` (or a .nc / .h5 file) into a System whose planning LP is
the one ``n.optimize()`` solves (PyPSA 1.4's linear optimal power flow): buses, carriers,
generators, loads, storage units, stores, links (with bus2 / bus3), lines and transformers (with
their effective reactance, Kirchhoff's voltage law), a primary-energy CO2 limit, snapshot
weightings, extendable and fixed capacities, costs.  Every input attribute is accounted for: it
is read, or it is one that PyPSA's linear optimisation does not use (``IGNORED``), or it holds
its default; anything else raises ``UnsupportedPyPSAError`` naming component, name and attribute.
``to_pypsa`` builds the same problem in PyPSA; ``result_to_pypsa`` writes an optimum back into
a network in PyPSA's own attributes (``p_nom_opt``, ``generators_t.p``, ``buses_t.marginal_price``,
...), so that ``n.statistics`` reads it.
"""
from __future__ import annotations

import logging
import math
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import GridproxError
from .system import System, SystemDataError

__all__ = ["from_pypsa", "to_pypsa", "result_to_pypsa", "read_network", "UnsupportedPyPSAError", "SHEDDING"]
SHEDDING = "load shedding"
NETWORK_SUFFIXES = (".nc", ".h5", ".hdf5")


class UnsupportedPyPSAError(GridproxError, NotImplementedError):
    """A PyPSA network uses something gridprox does not model (never dropped silently)."""

    def __init__(self, component: str, name, attribute: str, problem: str):
        self.component, self.name, self.attribute = component, name, attribute
        where = f"{component} {name!r}" if name is not None else component
        super().__init__(f"{where}: {attribute} {problem}; gridprox does not model it")


# ---------------------------------------------------------------- what is read
# attributes read into the System, per PyPSA component (lines and transformers: through x_pu_eff)
_COSTS = {"capital_cost", "overnight_cost", "discount_rate", "fom_cost", "lifetime"}
READ = {
    "Bus": {"carrier"},
    "Carrier": {"co2_emissions", "color", "nice_name"},
    "Generator": {"bus", "carrier", "p_nom", "p_nom_extendable", "p_nom_min", "p_nom_max", "p_min_pu", "p_max_pu",
                  "marginal_cost", "efficiency", "ramp_limit_up", "ramp_limit_down"} | _COSTS,
    "Load": {"bus", "p_set"},
    "StorageUnit": {"bus", "carrier", "p_nom", "p_nom_extendable", "p_nom_min", "p_nom_max", "max_hours",
                    "efficiency_store", "efficiency_dispatch", "standing_loss", "cyclic_state_of_charge",
                    "state_of_charge_initial", "marginal_cost", "inflow", "state_of_charge_set"} | _COSTS,
    "Store": {"bus", "carrier", "e_nom", "e_nom_extendable", "e_nom_min", "e_nom_max", "standing_loss",
              "e_cyclic", "e_initial"} | _COSTS,
    "Link": {"bus0", "bus1", "bus2", "bus3", "efficiency", "efficiency2", "efficiency3", "carrier", "p_nom",
             "p_nom_extendable", "p_nom_min", "p_nom_max", "marginal_cost", "p_min_pu", "p_max_pu", "length"} | _COSTS,
    "Line": {"bus0", "bus1", "carrier", "s_nom", "s_nom_extendable", "s_nom_min", "s_nom_max", "s_max_pu", "x", "r",
             "type", "num_parallel", "length"} | _COSTS,
    "Transformer": {"bus0", "bus1", "s_nom", "s_nom_extendable", "s_nom_min", "s_nom_max", "s_max_pu", "x", "r",
                    "type", "num_parallel", "tap_ratio", "tap_side", "tap_position"} | _COSTS,
}
# attributes PyPSA's linear optimisation leaves unused (AC power flow set points, shunts, map
# coordinates, labels; build_year only matters with investment periods, which are refused)
IGNORED = {
    "Bus": {"v_nom", "type", "x", "y", "unit", "location", "v_mag_pu_set", "v_mag_pu_min", "v_mag_pu_max"},
    "Carrier": set(),
    "Generator": {"control", "type", "q_set", "weight", "build_year"},
    "Load": {"carrier", "type", "q_set"},
    "StorageUnit": {"control", "type", "q_set", "build_year"},
    "Store": {"type", "q_set", "build_year"},
    "Link": {"type", "terrain_factor", "build_year"},
    "Line": {"g", "b", "terrain_factor", "build_year"},
    "Transformer": {"g", "b", "build_year"},
}
_TABLES = {"Generator": "generators", "Load": "loads", "StorageUnit": "storage_units", "Store": "stores",
           "Link": "links", "Line": "lines", "Transformer": "transformers", "Bus": "buses", "Carrier": "carriers"}
_SERIES_OK = {("Generator", "p_max_pu"), ("Generator", "p_min_pu"), ("Load", "p_set"),   # series the System holds
              ("StorageUnit", "state_of_charge_set"), ("StorageUnit", "inflow")}


def read_network(network_or_path):
    """A pypsa.Network from a network (copied: topology is computed on it) or a .nc / .h5 file."""
    import pypsa

    logging.getLogger("pypsa").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        if isinstance(network_or_path, pypsa.Network):
            # PyPSA refuses to copy a network holding its solver's model; the copy needs none
            model = getattr(network_or_path, "_model", None)
            network_or_path._model = None
            try:
                return network_or_path.copy()
            finally:
                network_or_path._model = model
        path = Path(network_or_path)
        if not path.is_file():
            raise FileNotFoundError(f"PyPSA network file not found: {path}")
        if path.suffix.lower() not in NETWORK_SUFFIXES:
            raise ValueError(f"{path}: a PyPSA network file ends in {', '.join(NETWORK_SUFFIXES)}")
        return pypsa.Network(str(path))


def _default(attrs: pd.DataFrame, attr: str):
    return attrs.loc[attr, "default"] if attr in attrs.index else None


def _same(values: pd.Series, default) -> pd.Series:
    if isinstance(default, float) and math.isnan(default):
        return values.isna()
    if isinstance(default, (float, int, np.number)) and not isinstance(default, bool):
        numeric = pd.to_numeric(values, errors="coerce")
        return numeric == default
    return values.fillna(default) == default


def _static(n, component: str, attr: str) -> pd.Series:
    """One attribute per asset, refusing a time series that varies (the System holds it static)."""
    c = n.components[component]
    series = c.dynamic.get(attr) if attr in c.dynamic else None
    if series is None or series.shape[1] == 0 or (component, attr) in _SERIES_OK:
        return c.static[attr]
    varying = series.columns[(series.nunique() > 1).to_numpy()]
    if len(varying):
        raise UnsupportedPyPSAError(component, varying[0], attr, "varies in time")
    out = c.static[attr].copy()
    out[series.columns] = series.iloc[0]
    return out


def check_supported(n) -> None:
    """Refuse what the System cannot hold: scenarios, investment periods, components outside
    ``READ``, and any attribute outside ``READ`` and ``IGNORED`` set to a non-default value."""
    if getattr(n, "has_scenarios", False):
        raise UnsupportedPyPSAError("Network", None, "scenarios", "are set (stochastic network)")
    if len(n.investment_periods):
        raise UnsupportedPyPSAError("Network", None, "investment_periods", "are set (multi-period investment)")
    w = n.snapshot_weightings
    if not (w["objective"] == w["generators"]).all():
        raise UnsupportedPyPSAError("Network", None, "snapshot_weightings",
                                    "differ between objective and generators")
    for c in n.components:
        if c.name in ("SubNetwork", "LineType", "TransformerType", "Shape") or c.static.empty:
            continue
        if c.name not in READ and c.name != "GlobalConstraint":
            raise UnsupportedPyPSAError(c.name, c.static.index[0], "component", "is present")
        if c.name == "GlobalConstraint":
            continue
        inputs = c.defaults.index[c.defaults["status"].str.startswith("Input")]
        # columns a user added beyond PyPSA's attributes are ignored by PyPSA too, except a
        # link's further ports (bus4, efficiency4, ...)
        extra = [a for a in c.static.columns if a not in c.defaults.index and c.name == "Link"]
        for attr in [*inputs, *extra]:
            if attr in READ[c.name] or attr in IGNORED[c.name] or attr == "name":
                continue
            if c.name == "Link" and attr[:3] in ("bus", "eff") and attr[-1].isdigit() and int(attr[-1]) >= 4:
                values = c.static[attr]
                used = values.fillna("") != "" if attr.startswith("bus") else pd.Series(False, values.index)
                if used.any():
                    raise UnsupportedPyPSAError(c.name, values.index[used.argmax()], attr,
                                                "is set (gridprox links have at most bus3)")
                continue
            if attr not in c.static.columns:
                continue
            default = _default(c.defaults, attr)
            values = _static(n, c.name, attr) if attr in c.dynamic else c.static[attr]
            bad = ~_same(values, default)
            if bad.any():
                name = values.index[bad.to_numpy().argmax()]
                raise UnsupportedPyPSAError(c.name, name, attr, f"= {values[name]!r} (default {default!r})")
        for attr in c.dynamic:
            if attr in READ[c.name] and c.dynamic[attr].shape[1] and (c.name, attr) not in _SERIES_OK:
                _static(n, c.name, attr)          # raises for a series that varies


# ------------------------------------------------------------- PyPSA -> System
def from_pypsa(network_or_path, name: str | None = None, meta: dict | None = None) -> System:
    """The planning problem of a PyPSA network as a System (see the module docstring)."""
    n = read_network(network_or_path)
    check_supported(n)
    meta = dict(meta or {})
    meta.setdefault("name", name or n.name or (Path(network_or_path).stem if not _is_network(network_or_path)
                                                 else "pypsa"))
    rate = _discount_rate(n)
    if rate is not None:
        meta["discount_rate"] = rate
    buses = pd.DataFrame({"carrier": n.buses["carrier"].replace("", "AC")})
    carriers = pd.DataFrame({"co2_emissions": n.carriers["co2_emissions"].astype(float)})
    for info in ("nice_name", "color"):
        if info in n.carriers and (n.carriers[info].fillna("") != "").any():
            carriers[info] = n.carriers[info].fillna("")
    tables = {"buses": buses, "carriers": carriers, "generators": _generators(n),
              "storage_units": _storage_units(n), "stores": _stores(n), "links": _links(n), "lines": _lines(n)}
    used = sorted({c for t in ("generators", "storage_units", "stores", "links", "lines")
                   for c in tables[t].get("carrier", pd.Series(dtype=str)).fillna("")} - set(carriers.index) - {""})
    if used:       # PyPSA lets a component name an undeclared carrier; the System wants it declared
        carriers = pd.concat([carriers, pd.DataFrame({"co2_emissions": 0.0}, index=pd.Index(used))])
        tables["carriers"] = carriers
    policies, limits = _global_constraints(n, tables)
    if policies:
        meta["policies"] = policies
    if limits:
        meta["transmission_limits"] = limits
    w = n.snapshot_weightings
    snapshots = pd.DataFrame({"weight": w["objective"].to_numpy(float), "duration": w["stores"].to_numpy(float),
                              "period": "0"}, index=pd.DatetimeIndex(_times(n.snapshots), name="snapshot"))
    loads = n.get_switchable_as_dense("Load", "p_set") if len(n.loads) else pd.DataFrame(index=n.snapshots)
    demand = loads.T.groupby(n.loads["bus"]).sum().T.reindex(columns=buses.index, fill_value=0.0)
    negative = (loads < 0).any()
    if negative.any():
        raise UnsupportedPyPSAError("Load", negative.index[negative.argmax()], "p_set",
                                    "< 0 (a negative load; model it as a generator)")
    profiles = {ts: (n.get_switchable_as_dense("Generator", attr) if len(n.generators) else
                     pd.DataFrame(index=n.snapshots)).astype(float)
                for ts, attr in (("availability", "p_max_pu"), ("min_availability", "p_min_pu"))}
    demand.index = profiles["availability"].index = profiles["min_availability"].index = snapshots.index
    for key, df in tables.items():
        df.index = pd.Index(df.index.astype(str), name="name")
        df.columns.name = None
    for ts, attr in (("state_of_charge_set", "state_of_charge_set"), ("inflow", "inflow")):
        profiles[ts] = (n.get_switchable_as_dense("StorageUnit", attr) if len(n.storage_units) else
                        pd.DataFrame(index=n.snapshots)).astype(float).set_axis(snapshots.index)
    return System(name=str(meta["name"]), snapshots=snapshots, demand=demand.astype(float), meta=meta,
                  **profiles, **tables).validate()


def _is_network(obj) -> bool:
    return not isinstance(obj, (str, os.PathLike))


def _times(snapshots: pd.Index) -> pd.DatetimeIndex:
    """PyPSA snapshots as timestamps (a network built without dates gets hourly ones from 2000)."""
    if isinstance(snapshots, pd.DatetimeIndex):
        return snapshots
    if pd.api.types.is_numeric_dtype(snapshots):     # step numbers, not times
        return pd.date_range("2000-01-01", periods=len(snapshots), freq="h")
    try:
        return pd.DatetimeIndex(pd.to_datetime(snapshots))
    except (TypeError, ValueError):
        return pd.date_range("2000-01-01", periods=len(snapshots), freq="h")


def _discount_rate(n):
    """The one discount rate of the assets that give an overnight cost (the System holds one)."""
    rates = []
    for comp in ("generators", "storage_units", "stores", "links", "lines", "transformers"):
        df = getattr(n, comp)
        if "overnight_cost" in df and "discount_rate" in df:
            rates.append(df.loc[df["overnight_cost"].notna(), "discount_rate"])
    rates = pd.concat(rates).dropna() if rates else pd.Series(dtype=float)
    if rates.nunique() > 1:
        raise UnsupportedPyPSAError("Network", None, "discount_rate", "differs between assets")
    return float(rates.iloc[0]) if len(rates) else None


def _costs(df: pd.DataFrame) -> pd.DataFrame:
    out = df[["capital_cost", "fom_cost"]].astype(float)
    out["overnight_cost"] = df["overnight_cost"].astype(float) if "overnight_cost" in df else np.nan
    out["lifetime"] = df["lifetime"].astype(float).where(out["overnight_cost"].notna(), np.inf)
    return out


def _capacity(df: pd.DataFrame, src: str, dst: str) -> pd.DataFrame:
    return pd.DataFrame({dst: df[src].astype(float), f"{dst}_extendable": df[f"{src}_extendable"].astype(bool),
                         f"{dst}_min": df[f"{src}_min"].astype(float), f"{dst}_max": df[f"{src}_max"].astype(float)})


def _generators(n) -> pd.DataFrame:
    g = n.generators
    out = pd.concat([g[["bus", "carrier"]], _capacity(g, "p_nom", "p_nom"), _costs(g)], axis=1)
    for attr in ("marginal_cost", "efficiency"):
        out[attr] = _static(n, "Generator", attr).astype(float)
    out["p_min_pu"], out["p_max_pu"] = g["p_min_pu"].astype(float), g["p_max_pu"].astype(float)
    out["fuel_cost"] = 0.0
    for attr in ("ramp_limit_up", "ramp_limit_down"):
        ramp = _static(n, "Generator", attr).astype(float)
        out[attr] = math.inf
        if ramp.notna().any():      # PyPSA's is per snapshot, gridprox's per hour of duration
            dur = n.snapshot_weightings["stores"].unique()
            if len(dur) != 1:
                raise UnsupportedPyPSAError("Generator", ramp.index[ramp.notna().argmax()], attr,
                                            "is set while snapshot durations differ")
            out[attr] = (ramp / float(dur[0])).fillna(math.inf)
    return out


def _storage_units(n) -> pd.DataFrame:
    su = n.storage_units
    out = pd.concat([su[["bus", "carrier"]], _capacity(su, "p_nom", "p_nom"), _costs(su)], axis=1)
    for attr in ("max_hours", "efficiency_store", "efficiency_dispatch", "standing_loss", "state_of_charge_initial",
                 "marginal_cost", "inflow"):
        out[attr] = _static(n, "StorageUnit", attr).astype(float)
    out["cyclic_state_of_charge"] = su["cyclic_state_of_charge"].astype(bool)
    return out


def _stores(n) -> pd.DataFrame:
    st = n.stores
    out = pd.concat([st[["bus", "carrier"]], _capacity(st, "e_nom", "e_nom"), _costs(st)], axis=1)
    out["standing_loss"] = _static(n, "Store", "standing_loss").astype(float)
    out["e_cyclic"], out["e_initial"] = st["e_cyclic"].astype(bool), st["e_initial"].astype(float)
    return out


def _links(n) -> pd.DataFrame:
    lk = n.links
    out = pd.concat([lk[["bus0", "bus1", "carrier"]], _capacity(lk, "p_nom", "p_nom"), _costs(lk)], axis=1)
    for attr in ("efficiency", "marginal_cost", "p_min_pu", "p_max_pu"):
        out[attr] = _static(n, "Link", attr).astype(float)
    for k in (2, 3):
        out[f"bus{k}"] = lk[f"bus{k}"].fillna("") if f"bus{k}" in lk else ""
        out[f"efficiency{k}"] = _static(n, "Link", f"efficiency{k}").astype(float) if f"efficiency{k}" in lk else 1.0
    if "length" in lk and (lk["length"] != 0).any():
        out["length"] = lk["length"].astype(float)
    return out


def _lines(n) -> pd.DataFrame:
    """Lines and transformers, each with the weight PyPSA's cycle constraints give it: x_pu_eff
    in AC sub-networks, r_pu_eff in DC ones (``Network.cycle_matrix(apply_weights=True)``)."""
    if not len(n.lines) and not len(n.transformers):
        return pd.DataFrame(columns=["bus0", "bus1"], index=pd.Index([], name="name"))
    n.calculate_dependent_values()
    frames = []
    for component, df in (("Line", n.lines), ("Transformer", n.transformers)):
        if df.empty:
            continue
        out = pd.concat([df[["bus0", "bus1"]], _capacity(df, "s_nom", "p_nom"), _costs(df)], axis=1)
        out["carrier"] = df["carrier"] if "carrier" in df else ""
        out["s_max_pu"] = _static(n, component, "s_max_pu").astype(float)
        ac = n.buses["carrier"].reindex(df["bus0"]).to_numpy() == "AC"
        out["x"] = np.where(ac, df["x_pu_eff"].astype(float), df["r_pu_eff"].astype(float))
        if component == "Line" and (df["length"] != 0).any():
            out["length"] = df["length"].astype(float)
        frames.append(out)
    if len(frames) == 2:      # PyPSA names lines and transformers apart; one table needs one name each
        frames[1].index = [transformer_name(t, frames[0].index) for t in frames[1].index]
    lines = pd.concat(frames)
    zero = ~(lines["x"] > 0)
    if zero.any():
        raise UnsupportedPyPSAError("Line", lines.index[zero.argmax()], "x", "is 0 (no impedance for Kirchhoff's law)")
    return lines


def transformer_name(name: str, lines: pd.Index) -> str:
    """A transformer's row name in the System's lines table (suffixed where a line has its name)."""
    return f"{name} (transformer)" if name in lines else str(name)


_LIMIT_TYPES = {"transmission_volume_expansion_limit": "volume", "transmission_expansion_cost_limit": "cost"}


def _global_constraints(n, tables: dict) -> tuple[dict, list]:
    """Policies and transmission limits of PyPSA's global constraints: a primary-energy CO2 limit
    becomes co2_cap, transmission volume / cost limits ``transmission_limits``."""
    policies, limits = {}, []
    gc = n.global_constraints
    for name, row in gc.iterrows():
        for attr in ("bus", "investment_period"):          # per-bus or per-period limits: not modelled
            if attr in row and pd.notna(row[attr]) and row[attr] != "":
                raise UnsupportedPyPSAError("GlobalConstraint", name, attr, f"= {row[attr]!r} (default empty)")
        if row["type"] in _LIMIT_TYPES:
            carriers = [c.strip() for c in re.sub(r"[\[\]\(\)]", "", str(row["carrier_attribute"])).split(",")]
            limits.append({"name": str(name), "kind": _LIMIT_TYPES[row["type"]], "carriers": carriers,
                           "sense": str(row["sense"]), "constant": float(row["constant"])})
            continue
        if row["type"] != "primary_energy":
            raise UnsupportedPyPSAError("GlobalConstraint", name, "type", f"= {row['type']!r}")
        if row["carrier_attribute"] != "co2_emissions" or row["sense"] != "<=":
            raise UnsupportedPyPSAError("GlobalConstraint", name, "carrier_attribute/sense",
                                        f"= {row['carrier_attribute']!r} {row['sense']!r} (only co2_emissions <=)")
        if "co2_cap" in policies:
            raise UnsupportedPyPSAError("GlobalConstraint", name, "type", "is a second primary_energy limit")
        emitting = set(n.carriers.index[n.carriers["co2_emissions"] != 0])
        for comp, cyclic in (("storage_units", "cyclic_state_of_charge"), ("stores", "e_cyclic")):
            df = tables[comp]
            bad = df["carrier"].isin(emitting) & ~df[cyclic]
            if bad.any():   # PyPSA counts their net energy drawn; the System's cap counts generators only
                raise UnsupportedPyPSAError(comp, bad.index[bad.argmax()], "carrier",
                                            f"emits CO2 in the limit {name!r} while not cyclic")
        if tables["generators"]["carrier"].isin(emitting).any():  # else PyPSA adds no row either
            policies["co2_cap"] = float(row["constant"])
    return policies, limits


# ------------------------------------------------------------- System -> PyPSA
def _cost_attrs(system: System, df: pd.DataFrame) -> pd.DataFrame:
    """Capital-cost attributes as PyPSA 1.4 takes them (PyPSA does the annuity itself)."""
    out = pd.DataFrame({"capital_cost": df["capital_cost"], "fom_cost": df["fom_cost"]}, index=df.index)
    given = df["overnight_cost"].notna()
    if given.any():
        out["overnight_cost"] = df["overnight_cost"]
        out["discount_rate"] = np.where(given, system.discount_rate, np.nan)
        out["lifetime"] = df["lifetime"].where(given, np.inf)
    return out


def _capacity_attrs(df: pd.DataFrame, cap: str, to: str | None = None) -> pd.DataFrame:
    out = df[[cap, f"{cap}_extendable", f"{cap}_min", f"{cap}_max"]]
    return out.rename(columns=lambda c: c.replace(cap, to)) if to else out


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
                        "cyclic_state_of_charge", "state_of_charge_initial", "marginal_cost", "inflow"]]], axis=1)
    st = system.stores
    stores = pd.concat([st[["bus", "carrier"]], _capacity_attrs(st, "e_nom"), _cost_attrs(system, st),
                        st[["standing_loss", "e_cyclic", "e_initial"]]], axis=1)
    lk = system.links
    links = pd.concat([lk[["bus0", "bus1", "carrier", "efficiency"]], _capacity_attrs(lk, "p_nom"),
                       _cost_attrs(system, lk), lk[["marginal_cost", "p_min_pu", "p_max_pu"]]], axis=1)
    for k in (2, 3):
        if (lk[f"bus{k}"] != "").any():
            links[f"bus{k}"], links[f"efficiency{k}"] = lk[f"bus{k}"], lk[f"efficiency{k}"]
    if "length" in lk:           # an information column, read by transmission volume limits
        links["length"] = lk["length"].astype(float).fillna(0.0)
    ln = system.lines
    kvl = ln["x"].notna()
    lines = pd.concat([ln.loc[kvl, ["bus0", "bus1", "carrier", "s_max_pu"]],
                       _capacity_attrs(ln[kvl], "p_nom", "s_nom"), _cost_attrs(system, ln[kvl])], axis=1)
    # x and r both carry the weight: PyPSA's cycle law reads x on AC buses and r on the others,
    # and its lossless optimisation reads r nowhere else (buses keep v_nom = 1, so x_pu = x)
    lines["x"] = lines["r"] = ln.loc[kvl, "x"]
    if "length" in ln:
        lines["length"] = ln.loc[kvl, "length"].astype(float).fillna(0.0)
    links = pd.concat([links, _line_links(system, ln[~kvl])])
    return {"Generator": gens, "StorageUnit": sus, "Store": stores, "Link": links, "Line": lines}


def _line_links(system: System, ln: pd.DataFrame) -> pd.DataFrame:
    """Transport-model lines as reversible PyPSA links (lossless) or two one-way links (lossy, fixed)."""
    if ln.empty:
        return pd.DataFrame()
    lossy = ln["efficiency"] < 1
    if (lossy & ln["p_nom_extendable"]).any():
        raise NotImplementedError("extendable lossy lines need a shared capacity of two PyPSA links; not built here")
    base = pd.concat([ln[["bus0", "bus1", "carrier", "efficiency"]], _capacity_attrs(ln, "p_nom"),
                      _cost_attrs(system, ln)], axis=1)
    base["marginal_cost"], base["p_max_pu"] = 0.0, ln["s_max_pu"]
    if "length" in ln:
        base["length"] = ln["length"].astype(float).fillna(0.0)
    base["p_min_pu"] = np.where(lossy, 0.0, -ln["s_max_pu"])
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
    logging.getLogger("pypsa").setLevel(logging.WARNING)
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
    for comp, df in _component_frames(system).items():
        if len(df):
            n.add(comp, df.index, **{c: df[c] for c in df.columns})
    avail = system.availability
    if len(avail.columns):
        n.generators_t.p_max_pu = avail.copy()
    fixed = system.state_of_charge_set.loc[:, system.state_of_charge_set.notna().any()]
    if fixed.shape[1]:
        n.storage_units_t.state_of_charge_set = fixed.copy()
    for series, table, dynamic, attr in ((system.min_availability, "generators", n.generators_t, "p_min_pu"),
                                         (system.inflow, "storage_units", n.storage_units_t, "inflow")):
        static = getattr(system, table)[attr]
        varying = [c for c in series.columns if not (series[c] == static[c]).all()]
        if varying:       # written where it varies; elsewhere PyPSA's static value says it
            dynamic[attr] = series[varying].copy()
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
    kinds = {kind: pypsa_type for pypsa_type, kind in _LIMIT_TYPES.items()}
    for limit in system.transmission_limits:
        n.add("GlobalConstraint", limit["name"], type=kinds[limit["kind"]], sense=limit.get("sense", "<="),
              carrier_attribute=",".join(limit["carriers"]), constant=limit["constant"])
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
                static = n.c[comp].static
                for col in df.columns:
                    static.loc[(name, list(df.index)), col] = df[col].values


# ------------------------------------------------------------- result -> PyPSA
# gridprox table -> (PyPSA components that may hold its rows, optimum attribute there)
_WRITE = {"generators": (("generators",), "p_nom_opt"), "storage_units": (("storage_units",), "p_nom_opt"),
          "stores": (("stores",), "e_nom_opt"), "links": (("links",), "p_nom_opt"),
          "lines": (("lines", "transformers", "links"), None)}
_OPT_NAME = {"lines": "s_nom_opt", "transformers": "s_nom_opt", "links": "p_nom_opt"}


def result_to_pypsa(result, network):
    """Write ``result``'s optimum into ``network`` (in place; also returned): capacities
    (``p_nom_opt``, ``e_nom_opt``, ``s_nom_opt``), dispatch (``generators_t.p``, ``storage_units_t.p``
    and its parts, ``stores_t.e`` / ``p``, ``links_t.p0`` / ``p1`` / ..., ``lines_t.p0`` / ``p1``),
    ``buses_t.marginal_price`` and ``loads_t.p``, matched by component name; gridprox lines written
    to PyPSA as links (transport model) land in ``links``.  A deterministic result only."""
    tables = result.components
    if not tables:
        raise ValueError("to_pypsa needs the solution (a result read from files has none)")
    index = tables["buses_t"]["marginal_price"].index
    if isinstance(index, pd.MultiIndex):
        raise NotImplementedError("writing a stochastic result into a PyPSA network is not supported")
    snapshots = network.snapshots
    if len(snapshots) != len(index):
        raise ValueError(f"the network has {len(snapshots)} snapshots, the result {len(index)}: solve the same horizon")

    def put(component: str, attr: str, frame: pd.DataFrame):
        static = getattr(network, component)
        cols = [c for c in frame.columns if c in static.index]
        if cols:
            getattr(network, component + "_t")[attr] = frame[cols].set_axis(snapshots, axis=0).rename_axis(
                columns=None)

    for table, (targets, opt) in _WRITE.items():
        for target in targets:
            static = getattr(network, target)
            rows = pd.Index(static.index.astype(str))
            if target == "transformers":
                rows = pd.Index([transformer_name(t, network.lines.index) for t in rows])
            found = rows.isin(tables[table].index)
            if not found.any():
                continue
            col = opt or _OPT_NAME[target]
            ours = tables[table].loc[rows[found], col if table != "lines" else "s_nom_opt"]
            static.loc[static.index[found], col] = ours.to_numpy()
            for attr, frame in tables[f"{table}_t"].items():
                frame = frame.reindex(columns=rows[found]).set_axis(static.index[found], axis=1)
                put(target, attr, frame)
    put("buses", "marginal_price", tables["buses_t"]["marginal_price"])
    if len(network.loads):
        network.loads_t["p"] = network.get_switchable_as_dense("Load", "p_set")
    return network
