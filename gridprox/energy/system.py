"""Energy-system data: the folder schema, its validation, and the in-memory ``System``.

A system is a folder holding ``system.yaml`` and CSV tables (``SCHEMA`` below is the single
source of truth; ``datasets/README.md`` documents it).  Component semantics follow PyPSA so
that a PyPSA network converts losslessly in both directions:

* capacities are decision variables only when ``*_extendable`` is true; the variable is the
  *total* capacity in ``[*_min, *_max]`` and ``p_nom``/``e_nom`` is then ignored (PyPSA); a
  non-extendable asset has the fixed capacity ``p_nom``/``e_nom`` and no cost in the objective;
* the yearly fixed cost per unit of capacity is ``overnight_cost * annuity(r, lifetime) +
  fom_cost`` when ``overnight_cost`` is given, else ``capital_cost + fom_cost`` (PyPSA 1.4
  ``periodized_cost``), see ``System.fixed_cost``;
* snapshot ``weight`` (h) weights operating costs and emissions, ``duration`` (h) is the time
  that storage integrates over (PyPSA's objective/generators vs stores weightings).

Errors name the file, the column and the row (CSV line and row label): ``SystemDataError``.
"""
from __future__ import annotations

import copy
import csv
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd
import yaml

from ..errors import GridproxError

REQUIRED = object()  # sentinel default: the column (and every cell in it) must be given
INFO_COLUMNS = ("description", "source", "note", "nice_name", "color", "unit", "x", "y", "length")


class SystemDataError(GridproxError, ValueError):
    """A system folder or in-memory System is malformed.  ``file``, ``column``, ``line`` (CSV
    line number, header = 1) and ``row`` (row label) locate the culprit where they apply."""

    def __init__(self, problem: str, file: Optional[str] = None, column: Optional[str] = None,
                 line: Optional[int] = None, row: Optional[str] = None):
        self.problem, self.file, self.column, self.line, self.row = problem, file, column, line, row
        where = [f"column {column!r}"] if column is not None else []
        if line is not None:
            where.append(f"line {line}")
        if row is not None:
            where.append(f"row {str(row)!r}")
        prefix = (file or "system") + (": " + ", ".join(where) if where else "")
        super().__init__(f"{prefix}: {problem}")


# --------------------------------------------------------------------------- schema
@dataclass(frozen=True)
class Column:
    name: str
    kind: str                      # "str" | "float" | "bool"
    default: object = REQUIRED
    unit: str = ""
    doc: str = ""
    lo: Optional[float] = None     # lower bound (inclusive unless lo_open)
    hi: Optional[float] = None     # upper bound (inclusive)
    lo_open: bool = False
    finite: bool = True            # +inf allowed when False
    nan_ok: bool = False           # NaN means "not given" (overnight_cost)
    ref: Optional[str] = None      # names must exist in this table ("buses", "carriers")


@dataclass(frozen=True)
class Table:
    name: str                      # attribute on System and default file stem
    doc: str
    columns: tuple
    optional: bool = True          # a missing file means an empty table

    @property
    def file(self) -> str:
        return self.name + ".csv"

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _investment(cap: str, unit: str, what: str) -> tuple:
    """Capacity bounds and the two ways of giving fixed costs, shared by every investable table."""
    per = f"currency/{unit}"
    return (
        Column(cap, "float", 0.0, unit, f"fixed {what} used when not extendable", lo=0),
        Column(f"{cap}_extendable", "bool", False, "", f"{what} is a decision variable"),
        Column(f"{cap}_min", "float", 0.0, unit, f"lower bound on the optimised {what}", lo=0),
        Column(f"{cap}_max", "float", math.inf, unit, f"upper bound on the optimised {what}",
               lo=0, finite=False),
        Column("capital_cost", "float", 0.0, per + "/a",
               "annualised investment cost (used when overnight_cost is empty)", lo=0),
        Column("overnight_cost", "float", math.nan, per,
               "overnight investment cost, annualised with discount_rate and lifetime", lo=0,
               nan_ok=True),
        Column("lifetime", "float", math.inf, "a", "economic lifetime", lo=0, lo_open=True,
               finite=False),
        Column("fom_cost", "float", 0.0, per + "/a", "fixed O&M added to the annualised cost", lo=0),
    )


_NAME = Column("name", "str", REQUIRED, "", "unique name (row label)")
_CARRIER = Column("carrier", "str", "", "", "technology / carrier; empty allowed", ref="carriers")

SCHEMA = {t.name: t for t in (
    Table("buses", "zones / nodes with an energy balance", (
        _NAME, Column("carrier", "str", "electricity", "", "energy carrier of the bus (informational)"),
    ), optional=False),
    Table("carriers", "technology / fuel properties", (
        _NAME,
        Column("co2_emissions", "float", 0.0, "t/MWh_th",
               "CO2 per MWh of primary energy; a generator emits co2_emissions / efficiency per MWh_el",
               lo=0),
    )),
    Table("generators", "dispatchable and variable generators", (
        _NAME, Column("bus", "str", REQUIRED, "", "bus it injects into", ref="buses"), _CARRIER,
        *_investment("p_nom", "MW", "power capacity"),
        Column("marginal_cost", "float", 0.0, "currency/MWh_el", "variable O&M and other costs", lo=0),
        Column("fuel_cost", "float", 0.0, "currency/MWh_th", "fuel price; adds fuel_cost / efficiency", lo=0),
        Column("efficiency", "float", 1.0, "MWh_el/MWh_th", "fuel-to-electricity efficiency", lo=0,
               lo_open=True),
        Column("p_min_pu", "float", 0.0, "per unit", "minimum output per unit of capacity", lo=0, hi=1),
        Column("p_max_pu", "float", 1.0, "per unit", "availability when availability.csv has no column",
               lo=0, hi=1),
        Column("ramp_limit_up", "float", math.inf, "per unit/h",
               "max increase per hour per unit of capacity (inf: none)", lo=0, lo_open=True, finite=False),
        Column("ramp_limit_down", "float", math.inf, "per unit/h",
               "max decrease per hour per unit of capacity (inf: none)", lo=0, lo_open=True, finite=False),
    )),
    Table("storage_units", "PyPSA StorageUnit: one power rating for charge and discharge, energy = max_hours * power", (
        _NAME, Column("bus", "str", REQUIRED, "", "bus it charges from and discharges to", ref="buses"), _CARRIER,
        *_investment("p_nom", "MW", "power capacity"),
        Column("max_hours", "float", 1.0, "h", "energy capacity per unit of power capacity", lo=0, lo_open=True),
        Column("efficiency_store", "float", 1.0, "per unit", "charging efficiency", lo=0, hi=1, lo_open=True),
        Column("efficiency_dispatch", "float", 1.0, "per unit", "discharging efficiency", lo=0, hi=1,
               lo_open=True),
        Column("standing_loss", "float", 0.0, "per unit/h", "share of the state of charge lost per hour",
               lo=0, hi=1),
        Column("cyclic_state_of_charge", "bool", True, "", "state of charge at the end equals the start"),
        Column("state_of_charge_initial", "float", 0.0, "MWh", "initial state of charge if not cyclic", lo=0),
        Column("marginal_cost", "float", 0.0, "currency/MWh", "cost per MWh discharged", lo=0),
        Column("inflow", "float", 0.0, "MW", "natural inflow into the storage (hydro); what does not fit is spilled",
               lo=0),
    )),
    Table("stores", "PyPSA Store: energy only; power flows through links (e.g. electrolysis/turbine)", (
        _NAME, Column("bus", "str", REQUIRED, "", "bus it exchanges energy with", ref="buses"), _CARRIER,
        *_investment("e_nom", "MWh", "energy capacity"),
        Column("standing_loss", "float", 0.0, "per unit/h", "share of the energy lost per hour", lo=0, hi=1),
        Column("e_cyclic", "bool", True, "", "energy at the end equals the start"),
        Column("e_initial", "float", 0.0, "MWh", "initial energy if not cyclic", lo=0),
    )),
    Table("links", "PyPSA Link: a converter from bus0 to bus1 (bus1 receives efficiency * p0)", (
        _NAME, Column("bus0", "str", REQUIRED, "", "input bus", ref="buses"),
        Column("bus1", "str", REQUIRED, "", "output bus", ref="buses"), _CARRIER,
        Column("efficiency", "float", 1.0, "per unit", "output per unit of input", lo=0, lo_open=True),
        *(col for k in (2, 3) for col in (
            Column(f"bus{k}", "str", "", "", f"further output bus (PyPSA multi-port link); empty: none",
                   ref="buses"),
            Column(f"efficiency{k}", "float", 1.0, "per unit",
                   f"bus{k} receives efficiency{k} * input (negative: it is drawn from bus{k})"))),
        *_investment("p_nom", "MW", "input power capacity"),
        Column("marginal_cost", "float", 0.0, "currency/MWh", "cost per MWh of input", lo=0),
        Column("p_min_pu", "float", 0.0, "per unit", "min input per unit of capacity (-1: reversible)",
               lo=-1, hi=1),
        Column("p_max_pu", "float", 1.0, "per unit", "max input per unit of capacity", lo=0, hi=1),
    )),
    Table("lines", "lines and transformers: |flow| <= s_max_pu * capacity; with a reactance x, Kirchhoff's "
                   "voltage law (linearised power flow), else a transport model", (
        _NAME, Column("bus0", "str", REQUIRED, "", "from bus (positive flow bus0 -> bus1)", ref="buses"),
        Column("bus1", "str", REQUIRED, "", "to bus", ref="buses"), _CARRIER,
        *_investment("p_nom", "MW", "transfer capacity"),
        Column("efficiency", "float", 1.0, "per unit", "share of the sent power that arrives (both directions)",
               lo=0, hi=1, lo_open=True),
        Column("x", "float", math.nan, "per unit",
               "series reactance (PyPSA's x_pu_eff; r_pu_eff on DC buses), fixed when the capacity is "
               "extended; empty: a transport-model line outside Kirchhoff's voltage law", lo=0, lo_open=True,
               nan_ok=True),
        Column("s_max_pu", "float", 1.0, "per unit", "usable share of the capacity", lo=0),
    )),
    Table("scenarios", "named scenarios with weights (probabilities for a two-stage stochastic model)", (
        Column("name", "str", REQUIRED, "", "scenario name"),
        Column("weight", "float", 1.0, "", "probability / weight", lo=0),
    )),
    Table("scenario_overrides", "per-scenario values replacing one cell of a component table or a policy", (
        Column("scenario", "str", REQUIRED, "", "scenario name (scenarios.csv)", ref="scenarios"),
        Column("table", "str", REQUIRED, "", "generators, storage_units, stores, links, lines, carriers or policies"),
        Column("name", "str", REQUIRED, "", "row name in that table (policy name for policies)"),
        Column("column", "str", REQUIRED, "", "numeric column in that table (value for policies)"),
        Column("value", "float", REQUIRED, "", "the value in that column's unit", nan_ok=False),
    )),
)}
COMPONENTS = ("generators", "storage_units", "stores", "links", "lines")
CAPACITY = {"generators": "p_nom", "storage_units": "p_nom", "stores": "e_nom", "links": "p_nom", "lines": "p_nom"}

SNAPSHOTS = Table("snapshots", "time steps in order", (
    Column("snapshot", "str", REQUIRED, "", "ISO timestamp (row label)"),
    Column("weight", "float", REQUIRED, "h", "hours represented: weights operating cost and emissions",
           lo=0, lo_open=True),
    Column("duration", "float", math.nan, "h", "hours elapsed, used by storage (default: weight)",
           lo=0, lo_open=True, nan_ok=True),
    Column("period", "str", "0", "", "representative period label (storage is cyclic per period)"),
), optional=False)
TIME_SERIES = {
    "demand": ("buses", Column("demand", "float", 0.0, "MW", "demand per bus (column = bus name)", lo=0)),
    "availability": ("generators", Column("availability", "float", 1.0, "per unit",
                                          "p_max_pu per generator (column = generator name)", lo=0, hi=1)),
    "min_availability": ("generators", Column("min_availability", "float", 0.0, "per unit",
                                              "p_min_pu per generator (column = generator name)", lo=0, hi=1)),
    "state_of_charge_set": ("storage_units", Column(
        "state_of_charge_set", "float", math.nan, "MWh",
        "state of charge fixed at these snapshots (column = storage unit name; empty: free)", lo=0, nan_ok=True)),
    "inflow": ("storage_units", Column("inflow", "float", 0.0, "MW",
                                       "natural inflow per storage unit (column = storage unit name)", lo=0)),
}
# the (table, static column) a missing series column takes
_STATIC = {"availability": ("generators", "p_max_pu"), "min_availability": ("generators", "p_min_pu"),
           "inflow": ("storage_units", "inflow")}
_MISSING = {"demand": "no demand", "state_of_charge_set": "a free state of charge (as empty cells)"}
POLICIES = {
    "co2_cap": "t CO2 per horizon (sum of weighted emissions)",
    "co2_price": "currency/t CO2, added to generator costs",
    "renewable_share": "minimum share of weighted demand met by carriers listed in policies.renewable_carriers",
    "reserve_margin": "planning reserve margin over peak demand (fraction)",
}
# limits on transmission expansion, as PyPSA's global constraints of these types: Σ over extendable
# lines and links of the carriers, of length (volume, MW km) or capital_cost (cost) x capacity
TRANSMISSION_LIMITS = {"volume": "length", "cost": "capital_cost"}
YAML_KEYS = ("name", "description", "currency", "discount_rate", "voll", "policies", "transmission_limits", "snapshots",
             "scenarios", "files", "source", "licence", "transformations", "reference")


def _follow_static(system: "System", table: str, name: str, column: str, value: float) -> None:
    """Before ``table``'s static ``column`` of ``name`` becomes ``value``: a series filled from that
    static value (``_STATIC``, not a profile of its own) takes the new value too."""
    for ts, source in _STATIC.items():
        series = getattr(system, ts)
        if source == (table, column) and (series[name] == getattr(system, table).loc[name, column]).all():
            series[name] = value


def schema_markdown() -> str:
    """The file/column reference of datasets/README.md, generated from SCHEMA (kept in sync by a test)."""
    out = []
    for spec in (*SCHEMA.values(), SNAPSHOTS):
        out += [f"#### `{spec.file}` — {spec.doc}{'' if spec.optional else ' (required)'}", "",
                "| column | type | default | unit | meaning |", "|---|---|---|---|---|"]
        for c in spec.columns:
            default = "required" if c.default is REQUIRED else ("empty" if c.default != c.default else repr(c.default))
            ref = f" (must name a row of {c.ref}.csv)" if c.ref else ""
            out.append(f"| `{c.name}` | {c.kind} | {default} | {c.unit} | {c.doc}{ref} |")
        out.append("")
    for ts, (ref, col) in TIME_SERIES.items():
        out += [f"#### `{ts}.csv` — {col.doc}{' (required)' if ts == 'demand' else ''}", "",
                f"First column `snapshot` (the timestamps of snapshots.csv, same order), then one column per "
                f"row of {ref}.csv; unit {col.unit}; values "
                f"{'in [0, 1]' if col.hi == 1 else '>= 0'}; missing columns mean "
                f"{_MISSING.get(ts) or 'the static ' + _STATIC[ts][1]}.", ""]
    return "\n".join(out)


def annuity(rate: float, lifetime) -> np.ndarray:
    """Capital recovery factor r / (1 - (1 + r)^-n); 1/n at r = 0 and max(r, 0) for n = inf."""
    n = np.asarray(lifetime, dtype=float)
    r = float(rate)
    if r == 0.0:
        return np.where(np.isinf(n), 0.0, 1.0 / n)
    with np.errstate(over="ignore", divide="ignore"):
        finite = r / (1.0 - (1.0 + r) ** (-n))
    return np.where(np.isinf(n), max(r, 0.0), finite)


# ---------------------------------------------------------------------- the System
@dataclass
class System:
    """A validated energy system: component tables (pandas, indexed by name) and time series.

    Units: MW, MWh, hours, tonnes CO2, ``currency`` (per year for fixed costs).  ``demand`` and
    ``availability`` are full (snapshots x buses) and (snapshots x generators) frames: buses
    without demand hold zeros, generators without a profile hold their static ``p_max_pu``;
    ``min_availability`` likewise holds ``p_min_pu`` per snapshot and ``inflow`` each storage unit's
    inflow (filled from the static column when not given)."""

    name: str
    buses: pd.DataFrame
    carriers: pd.DataFrame
    generators: pd.DataFrame
    storage_units: pd.DataFrame
    stores: pd.DataFrame
    links: pd.DataFrame
    lines: pd.DataFrame
    snapshots: pd.DataFrame
    demand: pd.DataFrame
    availability: pd.DataFrame
    scenarios: pd.DataFrame = field(default_factory=lambda: _empty("scenarios"))
    min_availability: Optional[pd.DataFrame] = None   # None: every generator's static p_min_pu
    state_of_charge_set: Optional[pd.DataFrame] = None  # None: no state of charge is fixed
    inflow: Optional[pd.DataFrame] = None             # None: every storage unit's static inflow
    scenario_overrides: pd.DataFrame = field(default_factory=lambda: _empty("scenario_overrides"))
    meta: dict = field(default_factory=dict)
    path: Optional[Path] = None
    _lines: dict = field(default_factory=dict, repr=False, compare=False)  # table -> {row: CSV line}

    def __post_init__(self):
        for name in SCHEMA:
            setattr(self, name, _complete(name, getattr(self, name)))
        snaps = self.snapshots.copy()
        if "weight" not in snaps:
            raise SystemDataError("missing column (required)", file="snapshots.csv", column="weight")
        if "duration" not in snaps:
            snaps["duration"] = snaps["weight"]
        snaps["period"] = snaps["period"].astype(str) if "period" in snaps else "0"
        self.snapshots = snaps
        for ts, (table, column) in _STATIC.items():
            if getattr(self, ts) is None:
                static = getattr(self, table)[column].to_numpy(float)
                setattr(self, ts, pd.DataFrame(np.tile(static, (len(snaps), 1)), index=snaps.index,
                                               columns=getattr(self, table).index))
        if self.state_of_charge_set is None:
            self.state_of_charge_set = pd.DataFrame(np.nan, index=snaps.index, columns=self.storage_units.index)
        for name in ("snapshots", *TIME_SERIES):  # one time resolution everywhere
            frame = getattr(self, name)
            if isinstance(frame.index, pd.DatetimeIndex) and frame.index.unit != "ns":
                frame.index = frame.index.as_unit("ns")

    # ------------------------------------------------------------------ metadata
    @property
    def currency(self) -> str:
        return str(self.meta.get("currency", "EUR"))

    @property
    def description(self) -> str:
        return str(self.meta.get("description", "")).strip()

    @property
    def discount_rate(self) -> Optional[float]:
        return self.meta.get("discount_rate")

    @property
    def voll(self) -> Optional[float]:
        """Value of lost load (currency/MWh): when set, shedding u ∈ [0, demand] at every bus."""
        return self.meta.get("voll")

    @property
    def policies(self) -> dict:
        return {k: (self.meta.get("policies") or {}).get(k) for k in (*POLICIES, "renewable_carriers")}

    @property
    def transmission_limits(self) -> list:
        """Limits on transmission expansion ({name, kind, carriers, sense, constant}; ``TRANSMISSION_LIMITS``)."""
        return [dict(limit) for limit in self.meta.get("transmission_limits") or []]

    @property
    def reference(self) -> dict:
        return dict(self.meta.get("reference") or {})

    @property
    def weights(self) -> pd.Series:
        return self.snapshots["weight"]

    # ------------------------------------------------------------ derived data
    def fixed_cost(self, table: str) -> pd.Series:
        """Yearly fixed cost per unit of capacity (currency/MW/a or /MWh/a) of one component table."""
        df = getattr(self, table)
        given = df["overnight_cost"].notna()
        cost = df["capital_cost"].astype(float).copy()
        if given.any():
            ann = annuity(self.discount_rate if self.discount_rate is not None else math.nan,
                          df.loc[given, "lifetime"])
            cost[given] = df.loc[given, "overnight_cost"] * ann
        return (cost + df["fom_cost"]).rename("fixed_cost")

    def marginal_cost(self) -> pd.Series:
        """Generator cost per MWh_el without CO2: marginal_cost + fuel_cost / efficiency."""
        g = self.generators
        return (g["marginal_cost"] + g["fuel_cost"] / g["efficiency"]).rename("marginal_cost")

    def emission_factor(self) -> pd.Series:
        """Generator emissions in t CO2 per MWh_el: carrier co2_emissions / efficiency."""
        g = self.generators
        co2 = g["carrier"].map(self.carriers["co2_emissions"]).fillna(0.0).astype(float)
        return (co2 / g["efficiency"]).rename("emission_factor")

    # ------------------------------------------------------------ PyPSA
    @classmethod
    def from_pypsa(cls, network_or_path, name: Optional[str] = None) -> "System":
        """A ``pypsa.Network`` (or a .nc / .h5 file) as a System with the same planning problem;
        an attribute gridprox does not model raises ``UnsupportedPyPSAError`` (``pypsa_io``)."""
        from .pypsa_io import from_pypsa
        return from_pypsa(network_or_path, name=name)

    def to_pypsa(self, scenario: Optional[str] = None):
        """This system's planning problem as a ``pypsa.Network`` (``pypsa_io.to_pypsa``)."""
        from .pypsa_io import to_pypsa
        return to_pypsa(self, scenario)

    # ------------------------------------------------------------ transforms
    def scenario(self, name: str) -> "System":
        """This system with one scenario's overrides applied (the scenario table is kept)."""
        if name not in self.scenarios.index:
            raise SystemDataError(f"unknown scenario {name!r}; scenarios: {', '.join(self.scenarios.index)}",
                                  file="scenarios.csv")
        out = self.copy()
        rows = self.scenario_overrides[self.scenario_overrides["scenario"] == name]
        for _, r in rows.iterrows():
            if r["table"] == "policies":
                out.meta.setdefault("policies", {})[r["name"]] = float(r["value"])
            else:
                _follow_static(out, r["table"], r["name"], r["column"], float(r["value"]))
                getattr(out, r["table"]).loc[r["name"], r["column"]] = float(r["value"])
        out.meta["scenario"] = name
        return out

    def first(self, n: int, rescale: bool = True) -> "System":
        """The first ``n`` snapshots; with ``rescale`` the weights are scaled so that they still
        sum to the full horizon's hours (durations are unchanged), keeping annual costs comparable."""
        if not 1 <= n <= len(self.snapshots):
            raise SystemDataError(f"first(n) needs 1 <= n <= {len(self.snapshots)}, got {n}")
        out = self.copy()
        keep = self.snapshots.index[:n]
        out.snapshots = self.snapshots.loc[keep].copy()
        if rescale:
            out.snapshots["weight"] *= self.weights.sum() / out.snapshots["weight"].sum()
        for ts in TIME_SERIES:
            setattr(out, ts, getattr(self, ts).loc[keep].copy())
        return out

    def copy(self) -> "System":
        return replace(self, **{f: getattr(self, f).copy() for f in (*SCHEMA, "snapshots", *TIME_SERIES)},
                       meta=copy.deepcopy(self.meta))

    def describe(self) -> dict:
        techs = set()
        for t in ("generators", "storage_units", "stores", "links"):
            techs |= set(getattr(self, t)["carrier"]) - {""}
        zones = int((self.demand != 0).any().sum())  # buses with demand; storage/hydrogen buses are not zones
        return {"name": self.name, "description": self.description, "zones": zones, "buses": len(self.buses),
                "snapshots": len(self.snapshots), "hours": float(self.weights.sum()),
                "technologies": len(techs), "generators": len(self.generators),
                "storage_units": len(self.storage_units), "stores": len(self.stores),
                "links": len(self.links), "lines": len(self.lines), "scenarios": len(self.scenarios)}

    def __repr__(self) -> str:
        d = self.describe()
        return (f"System({self.name!r}: {d['zones']} zones, {d['buses']} buses, {d['snapshots']} snapshots, "
                f"{d['generators']} generators, {d['storage_units']} storage units, {d['stores']} stores, "
                f"{d['links']} links, {d['lines']} lines, {d['scenarios']} scenarios)")

    # ------------------------------------------------------------ validation
    def validate(self) -> "System":
        """Check values, references and time indices of the in-memory data; returns self."""
        _check_meta(self.meta)
        for name, spec in SCHEMA.items():
            _check_values(spec, getattr(self, name), self._lines.get(name))
        _check_values(SNAPSHOTS, self.snapshots, self._lines.get("snapshots"))
        if not self.snapshots.index.is_monotonic_increasing or self.snapshots.index.has_duplicates:
            raise SystemDataError("snapshots must be strictly increasing", file="snapshots.csv",
                                  column="snapshot")
        if len(self.snapshots) == 0:
            raise SystemDataError("no snapshots", file="snapshots.csv")
        for ts, (ref, col) in TIME_SERIES.items():
            frame = getattr(self, ts)
            _check_index(ts + ".csv", frame.index, self.snapshots.index)
            _check_series(ts + ".csv", frame, col, getattr(self, ref).index, ref)
        _check_references(self)
        _check_costs(self)
        _check_overrides(self)
        return self

    # ------------------------------------------------------------ writing
    def to_folder(self, folder) -> Path:
        """Write system.yaml and the CSV tables (compact: default-valued columns and constant
        profiles equal to the static p_max_pu are left out)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in ({t.file for t in SCHEMA.values()} | {t + ".csv" for t in TIME_SERIES}):
            (folder / stale).unlink(missing_ok=True)  # a table left over from an older write would be read back
        for name, spec in SCHEMA.items():
            df = getattr(self, name)
            if df.empty:
                continue
            keep = [c.name for c in spec.columns if c.name == df.index.name or (c.name in df.columns and (
                c.default is REQUIRED or c.name in _ALWAYS_WRITTEN or not _all_default(df[c.name], c.default)))]
            extra = [c for c in df.columns if c in INFO_COLUMNS and c not in keep]   # lines' x is data
            out = (df.reset_index() if df.index.name == "name" else df)[[*keep, *extra]]
            out.to_csv(folder / spec.file, index=False)
        snaps = self.snapshots.copy()
        if (snaps["duration"] == snaps["weight"]).all():
            snaps = snaps.drop(columns="duration")
        if (snaps["period"] == "0").all():
            snaps = snaps.drop(columns="period")
        snaps.to_csv(folder / "snapshots.csv", date_format="%Y-%m-%d %H:%M:%S")
        self.demand.loc[:, (self.demand != 0).any()].to_csv(folder / "demand.csv",
                                                            date_format="%Y-%m-%d %H:%M:%S")
        for ts, (table, column) in _STATIC.items():
            frame, static = getattr(self, ts), getattr(self, table)[column]
            varying = [g for g in frame.columns if not (frame[g] == static[g]).all()]
            if varying:
                frame[varying].to_csv(folder / f"{ts}.csv", date_format="%Y-%m-%d %H:%M:%S")
        fixed = self.state_of_charge_set.loc[:, self.state_of_charge_set.notna().any()]
        if fixed.shape[1]:
            fixed.to_csv(folder / "state_of_charge_set.csv", date_format="%Y-%m-%d %H:%M:%S")
        with open(folder / "system.yaml", "w") as fh:
            yaml.safe_dump(self.meta, fh, sort_keys=False, allow_unicode=True, width=100)
        return folder


_ALWAYS_WRITTEN = {"carrier", "co2_emissions", "p_nom", "e_nom", "p_nom_extendable", "e_nom_extendable",
                   "capital_cost", "marginal_cost", "efficiency", "weight", "max_hours", "efficiency_store",
                   "efficiency_dispatch", "cyclic_state_of_charge", "e_cyclic"}


def _all_default(series: pd.Series, default) -> bool:
    if isinstance(default, float) and math.isnan(default):
        return bool(series.isna().all())
    return bool((series == default).all())


def _complete(table: str, df: pd.DataFrame) -> pd.DataFrame:
    """Add schema columns that are missing, with their defaults (for Systems built in memory)."""
    schema = [c for c in SCHEMA[table].columns if c.name != df.index.name]
    df = df.copy()
    for c in schema:
        if c.name in df.columns:
            if c.kind == "float" and df[c.name].dtype != float:   # ints in memory: edits may write floats
                df[c.name] = pd.to_numeric(df[c.name], errors="coerce").astype(float)
            continue
        if c.default is REQUIRED:
            raise SystemDataError("missing column (required)", file=SCHEMA[table].file, column=c.name)
        df[c.name] = pd.Series([c.default] * len(df), index=df.index, dtype=_DTYPES[c.kind])
    order = [c.name for c in schema]
    return df[order + [c for c in df.columns if c not in order]]


def _empty(table: str) -> pd.DataFrame:
    spec = SCHEMA[table]
    cols = {c.name: pd.Series(dtype=_DTYPES[c.kind]) for c in spec.columns}
    df = pd.DataFrame(cols)
    return df.set_index("name") if "name" in cols and table != "scenario_overrides" else df


_DTYPES = {"str": object, "float": float, "bool": bool}


# ------------------------------------------------------------------- reading
def read_system(folder) -> System:
    """Read and validate a system folder (system.yaml + CSV tables)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"system folder not found: {folder}")
    yml = folder / "system.yaml"
    if not yml.is_file():
        raise SystemDataError("missing system.yaml", file=str(yml))
    _inside(folder, "system.yaml", "system.yaml")
    try:
        meta = yaml.safe_load(yml.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SystemDataError(f"not valid YAML: {_yaml_problem(exc)}", file="system.yaml") from None
    except UnicodeDecodeError as exc:
        raise SystemDataError(f"not UTF-8 text (byte {exc.start})", file="system.yaml") from None
    _check_meta(meta)
    files = {**{t: SCHEMA[t].file for t in SCHEMA}, "snapshots": "snapshots.csv",
             **{t: t + ".csv" for t in TIME_SERIES}, **(meta.get("files") or {})}
    for name, file in files.items():      # every table, named in files: or not, stays in the folder
        _inside(folder, file, "system.yaml" if name in (meta.get("files") or {}) else file,
                "files." + name if name in (meta.get("files") or {}) else None)
    lines, tables = {}, {}
    for name, spec in SCHEMA.items():
        path = folder / files[name]
        if not path.is_file():
            if not spec.optional:
                raise SystemDataError("required file is missing", file=files[name])
            tables[name] = _empty(name)
            continue
        tables[name], lines[name] = _parse_table(spec, path, files[name])
    tables["carriers"] = _complete_carriers(tables, files["carriers"])
    snaps, snap_lines = _parse_table(SNAPSHOTS, folder / files["snapshots"], files["snapshots"])
    snapshots = _snapshot_frame(snaps, files["snapshots"], list(snap_lines.values()))
    lines["snapshots"] = dict(zip(snapshots.index, snap_lines.values()))
    series = {}
    for ts, (ref, col) in TIME_SERIES.items():
        path = folder / files[ts]
        if not path.is_file():
            if ts == "demand":
                raise SystemDataError("required file is missing", file=files[ts])
            raw = pd.DataFrame(index=snapshots.index)
        else:
            raw = _parse_series(path, files[ts], snapshots.index, tables[ref].index, ref, col)
        series[ts] = raw
    profiles = {}
    for ts, (table, column) in _STATIC.items():
        frame = series[ts].reindex(columns=tables[table].index)
        static = pd.Series(tables[table][column], dtype=float)
        profiles[ts] = (frame.fillna(static) if len(frame.columns) else frame).astype(float)
    demand = series["demand"].reindex(columns=tables["buses"].index, fill_value=0.0)
    fixed = series["state_of_charge_set"].reindex(columns=tables["storage_units"].index).astype(float)
    system = System(name=str(meta.get("name", folder.name)), snapshots=snapshots, demand=demand.astype(float),
                    meta=meta, path=folder, _lines=lines, state_of_charge_set=fixed, **profiles, **tables)
    return system.validate()


def _inside(folder: Path, file: str, where: str, column: Optional[str] = None):
    """Refuse a table path that leads out of the system folder (absolute, ``..``, or a symbolic
    link to elsewhere): its content must not be read, nor shown in an error."""
    try:
        real = (folder / file).resolve()
    except (OSError, ValueError, RuntimeError) as exc:       # a NUL byte, a symbolic-link loop
        raise SystemDataError(f"{file!r} is not a usable path ({type(exc).__name__})", file=where,
                              column=column) from None
    if not real.is_relative_to(folder.resolve()):
        raise SystemDataError(f"{file!r} leads outside the system folder; tables must be files inside it",
                              file=where, column=column)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error on one line: the problem and where (PyYAML's message spans several)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or type(exc).__name__
    return " ".join(f"{problem} (line {mark.line + 1}, column {mark.column + 1})".split()) if mark else \
        " ".join(str(problem).split())


def _read_cells(path: Path, file: str):
    """Header, data rows (stripped strings) and their CSV line numbers; ragged rows are errors."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                raise SystemDataError("empty file (no header line)", file=file)
            header = [h.strip() for h in header]
            rows, lines = [], []
            for row in reader:
                if not row or all(not c.strip() for c in row):
                    continue
                if len(row) != len(header):
                    label = row[0].strip() if row else ""
                    if len(row) < len(header):
                        problem = (f"has {len(row)} fields but the header has {len(header)}: "
                                   "no value for this column (malformed CSV)")
                        col = header[len(row)]
                    else:
                        problem = (f"has {len(row)} fields but the header has {len(header)}: "
                                   "extra field after this last column (malformed CSV)")
                        col = header[-1]
                    raise SystemDataError(problem, file=file, column=col, line=reader.line_num, row=label)
                rows.append([c.strip() for c in row])
                lines.append(reader.line_num)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise SystemDataError(f"malformed CSV: {exc}", file=file) from None
    dup = [h for h in header if header.count(h) > 1]
    if dup:
        raise SystemDataError("duplicate column in header", file=file, column=dup[0], line=1)
    return header, rows, lines


def _parse_table(spec: Table, path: Path, file: str):
    """Text -> typed DataFrame indexed by the first column; returns (frame, {row: line})."""
    header, rows, lines = _read_cells(path, file)
    known = {c.name for c in spec.columns}
    for h in header:
        if h not in known and h not in INFO_COLUMNS:
            raise SystemDataError(f"unknown column; {spec.name} columns are: {', '.join(sorted(known))}",
                                  file=file, column=h, line=1)
    key = spec.columns[0].name
    cells = pd.DataFrame(rows, columns=header, dtype=object)
    labels = cells[key] if key in cells else pd.Series([""] * len(rows))
    out = {}
    for col in spec.columns:
        if col.name not in cells:
            if col.default is REQUIRED:
                raise SystemDataError(f"missing column (required; present: {', '.join(header)})",
                                      file=file, column=col.name)
            out[col.name] = [col.default] * len(rows)
            continue
        out[col.name] = _convert(col, cells[col.name], labels, lines, file)
    for extra in (h for h in header if h in INFO_COLUMNS and h not in out):
        out[extra] = cells[extra].tolist()
    df = pd.DataFrame(out)
    if spec.name == "scenario_overrides":
        return df, dict(zip(range(len(df)), lines))
    dup = df[key].duplicated()
    if dup.any():
        i = int(np.argmax(dup.values))
        raise SystemDataError("duplicate name", file=file, column=key, line=lines[i], row=df[key].iloc[i])
    return df.set_index(key), dict(zip(df[key], lines))


_TRUE, _FALSE = {"true", "1", "yes", "t"}, {"false", "0", "no", "f"}
_NAN_TEXT = {"nan", "na", "n/a", "null", "none"}


def _convert(col: Column, raw: pd.Series, labels, lines, file):
    """One text column -> typed values; empty cells take the default (or fail if required)."""
    empty = raw.str.len() == 0
    if empty.any() and col.default is REQUIRED:
        i = int(np.argmax(empty.values))
        raise SystemDataError("missing value (required)", file=file, column=col.name, line=lines[i],
                              row=labels.iloc[i])
    if col.kind == "str":
        return raw.where(~empty, col.default).tolist()
    if col.kind == "bool":
        low = raw.str.lower()
        bad = ~(low.isin(_TRUE) | low.isin(_FALSE) | empty)
        if bad.any():
            i = int(np.argmax(bad.values))
            raise SystemDataError(f"not a boolean: {raw.iloc[i]!r} (use True/False)", file=file, column=col.name,
                                  line=lines[i], row=labels.iloc[i])
        return [col.default if e else (v in _TRUE) for v, e in zip(low, empty)]
    values = pd.to_numeric(raw.where(~empty), errors="coerce")
    bad = values.isna() & ~empty & ~raw.str.lower().isin(_NAN_TEXT)
    if bad.any():
        i = int(np.argmax(bad.values))
        raise SystemDataError(f"not a number: {raw.iloc[i]!r}", file=file, column=col.name, line=lines[i],
                              row=labels.iloc[i])
    return values.where(~empty, col.default).astype(float).tolist()


def _snapshot_frame(snaps: pd.DataFrame, file: str, lines: list) -> pd.DataFrame:
    index = _parse_times(pd.Series(snaps.index), file, lines)
    out = snaps.copy()
    out.index = index
    out["duration"] = out["duration"].fillna(out["weight"])
    out["period"] = out["period"].astype(str)
    return out[["weight", "duration", "period"]]


def _parse_times(labels: pd.Series, file: str, lines) -> pd.DatetimeIndex:
    times = pd.to_datetime(labels, errors="coerce", format="ISO8601")
    bad = times.isna()
    if bad.any():
        i = int(np.argmax(bad.values))
        raise SystemDataError(f"not a timestamp: {labels.iloc[i]!r}", file=file, column="snapshot",
                              line=lines[i], row=labels.iloc[i])
    return pd.DatetimeIndex(times, name="snapshot")


def _parse_series(path: Path, file: str, snapshots: pd.DatetimeIndex, names: pd.Index, ref: str,
                  spec: Column) -> pd.DataFrame:
    """A wide time-series file: 'snapshot' then one column per bus/generator (empty cells are
    errors, except in a series whose empty value means "not set")."""
    header, rows, lines = _read_cells(path, file)
    if header[0] != "snapshot":
        raise SystemDataError("the first column must be 'snapshot'", file=file, column=header[0], line=1)
    for h in header[1:]:
        if h not in names:
            raise SystemDataError(f"unknown {_singular(ref)} {h!r}; {ref}.csv defines: "
                                  f"{', '.join(map(str, names))}", file=file, column=h, line=1)
    cells = pd.DataFrame(rows, columns=header, dtype=object)
    index = _parse_times(cells["snapshot"], file, lines)
    _check_index(file, index, snapshots)
    col = Column("value", "float", spec.default if spec.nan_ok else REQUIRED)
    data = {h: _convert(replace(col, name=h), cells[h], cells["snapshot"], lines, file) for h in header[1:]}
    return pd.DataFrame(data, index=index, dtype=float)


def _complete_carriers(tables: dict, file: str) -> pd.DataFrame:
    """Without carriers.csv every referenced carrier is added with zero emissions."""
    carriers = tables["carriers"]
    if len(carriers):
        return carriers
    used = sorted({c for t in COMPONENTS for c in tables[t]["carrier"] if c})
    return pd.DataFrame({"co2_emissions": 0.0}, index=pd.Index(used, name="name"))


# ---------------------------------------------------------------- value checks
def _check_meta(meta: dict):
    if not isinstance(meta, dict):
        raise SystemDataError("system.yaml must be a mapping", file="system.yaml")
    for key in meta:
        if key not in YAML_KEYS and key != "scenario":
            raise SystemDataError(f"unknown key; allowed: {', '.join(YAML_KEYS)}", file="system.yaml", column=key)
    if "name" not in meta:
        raise SystemDataError("missing key", file="system.yaml", column="name")
    for key in ("name", "description", "currency"):
        if key in meta and not isinstance(meta[key], (str, int, float, type(None))):
            raise SystemDataError(f"must be text, got {_kind(meta[key])}", file="system.yaml", column=key)
    for key in ("policies", "files", "reference", "snapshots", "scenarios", "source"):
        if meta.get(key) is not None and not isinstance(meta[key], dict):
            raise SystemDataError(f"must be a mapping (key: value lines), got {_kind(meta[key])}",
                                  file="system.yaml", column=key)
    for key in ("discount_rate", "voll"):
        v = meta.get(key)
        if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise SystemDataError(f"must be a non-negative number or null, got {v!r}", file="system.yaml", column=key)
    policies = meta.get("policies") or {}
    for key, v in policies.items():
        if key == "renewable_carriers":
            if not isinstance(v, list) or not all(isinstance(c, str) for c in v):
                raise SystemDataError("must be a list of carriers", file="system.yaml", column=f"policies.{key}")
            continue
        if key not in POLICIES:
            raise SystemDataError(f"unknown policy; known: {', '.join(POLICIES)}", file="system.yaml",
                                  column=f"policies.{key}")
        if v is not None and not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
            raise SystemDataError(f"must be a non-negative number or null, got {v!r}", file="system.yaml",
                                  column="policies." + key)
    if not isinstance(meta.get("transmission_limits") or [], list):
        raise SystemDataError(f"must be a list, got {_kind(meta['transmission_limits'])}", file="system.yaml",
                              column="transmission_limits")
    for i, limit in enumerate(meta.get("transmission_limits") or []):
        where = f"transmission_limits[{i}]"
        if not isinstance(limit, dict) or set(limit) - {"name", "kind", "carriers", "sense", "constant"}:
            raise SystemDataError("must be a mapping of name, kind, carriers, sense, constant", file="system.yaml",
                                  column=where)
        if limit.get("kind") not in TRANSMISSION_LIMITS:
            raise SystemDataError(f"kind must be one of {', '.join(TRANSMISSION_LIMITS)}", file="system.yaml",
                                  column=where + ".kind")
        if limit.get("sense", "<=") not in ("<=", ">=", "=="):
            raise SystemDataError("sense must be <=, >= or ==", file="system.yaml", column=where + ".sense")
        carriers = limit.get("carriers")
        if not isinstance(carriers, list) or not all(isinstance(c, str) for c in carriers):
            raise SystemDataError("must be a list of carriers", file="system.yaml", column=where + ".carriers")
        v = limit.get("constant")
        if not (isinstance(v, (int, float)) and math.isfinite(v)):
            raise SystemDataError(f"must be a number, got {v!r}", file="system.yaml", column=where + ".constant")
    files = meta.get("files") or {}
    for key, file in files.items():
        if key not in (*SCHEMA, "snapshots", *TIME_SERIES):
            raise SystemDataError("unknown table in files", file="system.yaml", column=f"files.{key}")
        if not isinstance(file, str) or not file.strip():
            raise SystemDataError(f"must be a file name, got {_kind(file)}", file="system.yaml", column="files." + key)
        if Path(file).is_absolute() or ".." in Path(file).parts:
            raise SystemDataError(f"{file!r} must be a path inside the system folder (not absolute, no '..')",
                                  file="system.yaml", column="files." + key)


def _kind(value) -> str:
    """What a YAML value is, for an error message (not its content)."""
    return {list: "a list", dict: "a mapping", str: "text", bool: "true/false"}.get(type(value), type(value).__name__)


def _range_problems(col: Column, v: np.ndarray) -> list:
    """(mask, message) pairs for the values of one float column (any shape)."""
    out = [] if col.nan_ok else [(np.isnan(v), "NaN value")]
    ok = ~np.isnan(v)
    if col.finite:
        out.append((ok & np.isinf(v), "must be finite, got {}"))
    if col.lo == 0 and col.hi == 1 and not col.lo_open:
        return out + [(ok & ((v < 0) | (v > 1)), "outside [0, 1]: {}")]
    if col.lo is not None:
        if col.lo_open:
            out.append((ok & (v <= col.lo), f"must be > {col.lo:g}, got {{}}"))
        elif col.lo == 0:
            out.append((ok & (v < 0), "negative value {}"))
        else:
            out.append((ok & (v < col.lo), f"must be >= {col.lo:g}, got {{}}"))
    if col.hi is not None:
        out.append((ok & (v > col.hi), f"must be <= {col.hi:g}, got {{}}"))
    return out


def _check_values(spec: Table, df: pd.DataFrame, lines: Optional[dict]):
    """Ranges and NaN of typed columns; names the culprit's line when the data came from a file."""
    for col in spec.columns:
        if col.kind != "float" or col.name not in df.columns:
            continue
        v = pd.to_numeric(df[col.name], errors="coerce").to_numpy(dtype=float)
        for mask, problem in _range_problems(col, v):
            if mask.any():
                i = int(np.argmax(mask))
                label = df.index[i]
                raise SystemDataError(problem.format(v[i]), file=spec.file, column=col.name,
                                      line=(lines or {}).get(label), row=str(label))


def _check_index(file: str, index: pd.DatetimeIndex, snapshots: pd.DatetimeIndex):
    """A time series must carry exactly the snapshots of snapshots.csv, in order."""
    n = min(len(index), len(snapshots))
    diff = np.flatnonzero(index[:n] != snapshots[:n])
    if len(diff):
        i = int(diff[0])
        raise SystemDataError(f"time index does not match snapshots.csv: expected {snapshots[i]}",
                              file=file, column="snapshot", line=i + 2, row=str(index[i]))
    if len(index) != len(snapshots):
        i = n
        missing = f"missing snapshot {snapshots[i]}" if len(index) < len(snapshots) else f"extra snapshot {index[i]}"
        raise SystemDataError(f"time index does not match snapshots.csv ({len(index)} rows vs {len(snapshots)}): "
                              f"{missing}", file=file, column="snapshot", line=i + 2)


def _check_series(file: str, frame: pd.DataFrame, col: Column, names: pd.Index, ref: str):
    unknown = [c for c in frame.columns if c not in names]
    if unknown:
        raise SystemDataError(f"unknown {_singular(ref)} {unknown[0]!r}; {ref}.csv defines: "
                              f"{', '.join(map(str, names))}", file=file, column=str(unknown[0]), line=1)
    v = frame.to_numpy(dtype=float)
    for mask, problem in _range_problems(col, v):
        if mask.any():
            i, j = np.argwhere(mask)[0]
            raise SystemDataError(problem.format(v[i, j]), file=file, column=str(frame.columns[j]),
                                  line=int(i) + 2, row=str(frame.index[i]))


def _singular(table: str) -> str:
    return {"buses": "bus"}.get(table, table[:-1])


def _check_references(system: System):
    targets = {"buses": system.buses.index, "carriers": system.carriers.index,
               "scenarios": system.scenarios.index}
    for name, spec in SCHEMA.items():
        df = getattr(system, name)
        lines = system._lines.get(name) or {}
        for col in spec.columns:
            if col.ref is None or col.name not in df.columns:
                continue
            allowed = set(targets[col.ref])
            values = df[col.name]
            bad = ~values.isin(allowed) & ~((values == "") & (col.default == ""))   # optional: empty allowed
            if bad.any():
                i = int(np.argmax(bad.values))
                label = df.index[i]
                raise SystemDataError(f"unknown {_singular(col.ref)} {values.iloc[i]!r}; "
                                      f"{col.ref}.csv defines: {', '.join(map(str, targets[col.ref]))}",
                                      file=spec.file, column=col.name, line=lines.get(label), row=str(label))


def _check_costs(system: System):
    for table in COMPONENTS:
        df, cap = getattr(system, table), CAPACITY[table]
        lines = system._lines.get(table) or {}
        file = SCHEMA[table].file
        bad = df[f"{cap}_min"] > df[f"{cap}_max"]
        if bad.any():
            label = df.index[int(np.argmax(bad.values))]
            raise SystemDataError(f"{cap}_min > {cap}_max", file=file, column=f"{cap}_min",
                                  line=lines.get(label), row=str(label))
        needs_rate = df["overnight_cost"].notna()
        if needs_rate.any() and system.discount_rate is None:
            label = df.index[int(np.argmax(needs_rate.values))]
            raise SystemDataError("overnight_cost needs discount_rate in system.yaml", file=file,
                                  column="overnight_cost", line=lines.get(label), row=str(label))


def _check_overrides(system: System):
    ov, lines = system.scenario_overrides, system._lines.get("scenario_overrides") or {}
    file = SCHEMA["scenario_overrides"].file
    for i, r in enumerate(ov.itertuples(index=False)):
        line = lines.get(i)
        if r.table == "policies":
            if r.name not in POLICIES or r.column != "value":
                raise SystemDataError(f"policy overrides need name in {', '.join(POLICIES)} and column 'value'",
                                      file=file, column="name", line=line, row=str(i))
            if r.value < 0:
                raise SystemDataError(f"negative value {r.value}", file=file, column="value", line=line, row=str(i))
            continue
        if r.table not in (*COMPONENTS, "carriers"):
            raise SystemDataError(f"unknown table {r.table!r}", file=file, column="table", line=line, row=str(i))
        spec, df = SCHEMA[r.table], getattr(system, r.table)
        if r.name not in df.index:
            raise SystemDataError(f"no row {r.name!r} in {spec.file}", file=file, column="name", line=line, row=str(i))
        numeric = {c.name: c for c in spec.columns if c.kind == "float"}
        if r.column not in numeric:
            raise SystemDataError(f"{r.column!r} is not a numeric column of {spec.file}", file=file,
                                  column="column", line=line, row=str(i))
        probe = pd.DataFrame({r.column: [r.value]}, index=[r.name])
        try:
            _check_values(Table(spec.name, "", (numeric[r.column],)), probe, None)
        except SystemDataError as exc:
            raise SystemDataError(f"{exc.problem} (for {spec.file} column {r.column!r})", file=file,
                                  column="value", line=line, row=str(i)) from None
