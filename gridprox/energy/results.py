"""PlanningResult: a solved capacity-expansion model as tidy pandas tables.

Tables (all tidy, one value column each, units in the column name):

- ``capacity``      zone, technology, kind, capacity, unit — optimal capacity
                    (kind: "generator" MW, "storage_power" MW, "storage_energy" MWh,
                    "link" MW of input power, zone = its input bus; "line" MW, zone
                    "from->to").  Assets of one zone and technology are summed.
- ``dispatch``      snapshot, zone, technology, power_mw — hourly injection into the zone
                    (generators and storage discharge positive, storage charging and
                    exports negative, "load shedding" its own technology).
- ``demand``        snapshot, zone, demand_mw.
- ``storage_level`` snapshot, zone, storage, energy_mwh.
- ``flows``         snapshot, line, flow_mw (positive from -> to).
- ``prices``        snapshot, zone, price — dual of the zone balance in currency/MWh
                    (already divided by the snapshot weight).
- ``emissions``     zone, technology, emissions_t — tonnes CO2 over the horizon (weighted).
- ``costs``         zone, technology, component, cost — component in capex, fom, opex,
                    fuel, co2, shedding; currency per year (weighted horizon).
- ``summary``       one row: objective, status, solver, solve_seconds, iterations,
                    primal_residual, dual_residual, gap, max_violation, total_emissions_t,
                    build_seconds, plus the scenario inputs.

Time tables of a two-stage stochastic model carry an extra ``scenario`` column (prices are
then conditional on the scenario: dual / (probability x weight)).  ``costs`` sums to the
objective except for PyPSA's constant (the cost of capacity already present on extendable
assets, which the objective subtracts).  ``technology`` is the carrier (the asset's name
when it has none; "transmission" for lines without a carrier).

The same answer as PyPSA users read it (``component_tables``): ``result.generators`` (indexed
by generator name, with ``p_nom_opt``), ``result.generators_t.p`` (snapshots x generators, MW),
likewise ``storage_units``, ``stores``, ``links``, ``lines``, ``buses_t.marginal_price`` and
``loads_t.p``; units in each frame's ``attrs``.  Values within the solve's accuracy of a
variable's bound (or of zero) are reported as that bound, prices within it of zero as zero.
"""
from __future__ import annotations

import math
import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import pandas as pd

TABLES = ("capacity", "dispatch", "demand", "storage_level", "flows", "prices", "emissions", "costs", "summary")
# PyPSA-shaped views (component_tables): static frames and their time series
COMPONENTS = ("buses", "generators", "storage_units", "stores", "links", "lines", "loads")


@dataclass
class PlanningResult:
    capacity: pd.DataFrame
    dispatch: pd.DataFrame
    demand: pd.DataFrame
    storage_level: pd.DataFrame
    flows: pd.DataFrame
    prices: pd.DataFrame
    emissions: pd.DataFrame
    costs: pd.DataFrame
    summary: pd.DataFrame
    currency: str = "EUR"
    model: Optional[object] = field(default=None, repr=False, compare=False)
    raw: Optional[object] = field(default=None, repr=False, compare=False)
    lp: Optional[object] = field(default=None, repr=False, compare=False)
    components: dict = field(default_factory=dict, repr=False, compare=False)

    # ----------------------------------------------------------------- access
    def _component(self, key: str):
        if key not in self.components:
            if not self.components:
                raise ValueError(f"{key} needs the solution (a result without one, or read from files written "
                                 f"without pypsa/, has none)")
            raise AttributeError(f"this model has no {key}")
        return self.components[key]
    @property
    def status(self) -> str:
        return str(self.summary["status"].iloc[0])

    @property
    def objective(self) -> float:
        return float(self.summary["objective"].iloc[0])

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLES}

    def sensitivity(self, param):
        """d(optimal objective)/d(param) by the envelope theorem (see
        ``gridprox.energy.sensitivity``): ``param`` is a model input name (``"co2_cap"``,
        ``"demand_scale"``, ``"gas_price"``, ...; a float), a Parameter name (``"demand"``;
        an array of its shape) or a gridprox Parameter.  The value carries ``.name``
        ("d objective / d co2_cap") and ``.unit`` ("EUR/t CO2")."""
        if self.model is None or self.raw is None or self.lp is None:
            raise ValueError("sensitivity needs the solved model (a PlanningResult read from files has none)")
        from .sensitivity import model_sensitivity
        value = model_sensitivity(self.model, self.raw, self.lp, param, self.inputs)
        label = param if isinstance(param, str) else param.name()
        return Sensitivity.of(value, f"d objective / d {label}", sensitivity_unit(label, self.currency))

    def to_frame(self, table: Optional[str] = None) -> pd.DataFrame:
        """The tidy long form: ``to_frame("dispatch")`` is the ``dispatch`` table (any of
        ``TABLES``); ``to_frame()`` every component time series in one frame ([scenario,]
        snapshot, component, name, attribute, value, unit), for plotting and sweeps."""
        if table is not None:
            if table not in TABLES:
                raise KeyError(f"no table {table!r}; tables: {', '.join(TABLES)}")
            return getattr(self, table)
        from .component_tables import long_form
        return long_form(self.components)

    @property
    def inputs(self) -> dict:
        return dict(self.summary.attrs.get("inputs", {}))

    def capacity_table(self, by_zone: bool = False) -> pd.DataFrame:
        """capacity pivoted to (kind, technology) x zone (MW / MWh) for printing.  ``by_zone``:
        columns are the buses with demand only, a storage or fuel bus's assets counted at the
        zone a link joins it to, and lines (which join zones) left out (``line_table``)."""
        cap = self.capacity
        if cap.empty:
            return pd.DataFrame()
        if by_zone:
            zones = self._zones()
            links = self.components.get("links")
            home = _homes(links, zones) if links is not None else {}
            cap = cap[cap["kind"] != "line"].assign(zone=lambda d: d["zone"].map(lambda z: home.get(z, z)))
        return cap.pivot_table(index=["kind", "technology"], columns="zone", values="capacity",
                               aggfunc="sum").fillna(0.0)

    def line_table(self) -> pd.Series:
        """Line capacities (MW) by line name, from the PyPSA-shaped ``lines`` (empty without lines)."""
        lines = self.components.get("lines")
        if lines is None or lines.empty:
            return pd.Series(dtype=float, name="s_nom_opt")
        return lines["s_nom_opt"]

    def _zones(self) -> list:
        d = self.demand
        return sorted(set(d.loc[d["demand_mw"] != 0, "zone"])) if len(d) else []

    # ----------------------------------------------------------------- output
    def to_pypsa(self, network):
        """Write this optimum into ``network`` (a pypsa.Network of the same system; in place, and
        returned): p_nom_opt / e_nom_opt / s_nom_opt, dispatch, state of charge, flows and
        ``buses_t.marginal_price``, so that ``network.statistics`` reads it (``pypsa_io``)."""
        from .pypsa_io import result_to_pypsa
        return result_to_pypsa(self, network)

    def to_csv(self, folder: str | os.PathLike) -> list[Path]:
        return self._write(folder, "csv")

    def to_parquet(self, folder: str | os.PathLike) -> list[Path]:
        return self._write(folder, "parquet")

    def _write(self, folder, fmt) -> list[Path]:
        """The tidy tables as ``{name}.{fmt}``; the PyPSA-shaped frames under ``pypsa/`` with
        PyPSA's CSV-folder names (``generators.csv``, ``generators-p.csv``, ...)."""
        from .component_tables import write_components
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        paths = write_components(self.components, folder / "pypsa", fmt) if self.components else []
        for name, df in self.tables().items():
            path = folder / f"{name}.{fmt}"
            if fmt == "csv":
                df.to_csv(path, index=False)
            else:
                df.to_parquet(path, index=False)
            paths.append(path)
        return paths

    @classmethod
    def read(cls, folder: str | os.PathLike) -> "PlanningResult":
        """Read tables written by to_csv/to_parquet (parquet preferred when both exist)."""
        folder = Path(folder)
        tables = {}
        for name in TABLES:
            pq, csv = folder / f"{name}.parquet", folder / f"{name}.csv"
            if pq.exists():
                tables[name] = pd.read_parquet(pq)
            elif csv.exists():
                tables[name] = pd.read_csv(csv, parse_dates=["snapshot"] if name in (
                    "dispatch", "demand", "storage_level", "flows", "prices") else None)
            else:
                raise FileNotFoundError(f"{folder} has no {name}.parquet or {name}.csv")
        from .component_tables import read_components
        return cls(**tables, components=read_components(folder / "pypsa"))

    # ----------------------------------------------------------------- printing
    def accuracy(self) -> dict:
        """How far the objective can be trusted (``objective_accuracy``): exact, relative error
        bound, and the worst absolute row violation with its constraint and unit where the
        solved model is at hand (None for a result read from files)."""
        s = self.summary.iloc[0]
        raw = self.raw
        residuals = dict(raw.residuals) if raw is not None and raw.residuals else {
            "primal": s.get("primal_residual", math.nan), "dual": s.get("dual_residual", math.nan),
            "gap": s.get("gap", math.nan)}
        out = objective_accuracy(str(s["status"]), str(s.get("solver", "")), float(s["objective"]), residuals)
        out["worst_row"] = None
        if raw is not None and raw.x is not None and self.lp is not None and self.model is not None:
            out["worst_row"] = worst_row(self.model, self.lp, raw.x)
        return out

    def report(self) -> str:
        """The printed summary (``gridprox solve``): status, the objective to the digits its
        accuracy supports, solver and why ``auto`` chose it, residuals, the worst row."""
        s = self.summary.iloc[0]
        acc = self.accuracy()
        status, solver = str(s["status"]), str(s.get("solver", ""))
        if acc["exact"]:
            kind = "exact: gap closed and every row met to rounding"
            why = "the feasibility tolerance"
        elif status == "optimal":
            kind = f"approximate: {solver}'s relative measures within its tolerance"
            why = "from its gap and residuals"
        elif status == "optimal_inaccurate":
            kind = "a limit stopped it with its measures not all within tolerance"
            why = "from its gap and residuals; not optimal"
        else:
            kind, why = "", "the last iterate, not a solution"
        obj = float(s["objective"])
        objective = (f"{objective_text(obj, acc['error'])} {self.currency}/a  (±{percent_text(acc['error'])} %: {why})"
                     if math.isfinite(obj) else f"none ({status})")
        lines = [f"status      {status}" + (f"  ({kind})" if kind else ""),
                 f"objective   {objective}",
                 f"solver      {solver}  ({_fmt(s.get('solve_seconds', math.nan), '.2f')} s, "
                 f"{s.get('iterations', '')} iterations)"]
        chosen = auto_reason(self.raw.message if self.raw is not None else "")
        if chosen:
            lines.append(f"chosen by   {chosen}")
        lines.append(f"residuals   primal {_fmt(s.get('primal_residual'), '.1e')}  dual "
                     f"{_fmt(s.get('dual_residual'), '.1e')}  gap {_fmt(s.get('gap'), '.1e')}  (relative)")
        worst = acc["worst_row"]
        if worst is not None:
            value, where, unit = worst
            lines.append(f"worst row   {value:.1e}{' ' + unit if unit else ''} off  ({where})" if value > 0
                         else "worst row   none violated")
        elif math.isfinite(float(s.get("max_violation", math.nan))):
            lines.append(f"violation   {float(s['max_violation']):.1e} at most (rows and bounds, absolute)")
        lines.append(f"emissions   {_fmt(s.get('total_emissions_t', math.nan), ',.0f')} t CO2")
        return "\n".join(lines)

    def __repr__(self) -> str:
        s = self.summary.iloc[0]
        obj = float(s["objective"])
        shown = objective_text(obj, self.accuracy()["error"]) if math.isfinite(obj) else "nan"
        return (f"PlanningResult(status={s['status']!r}, objective={shown} {self.currency}, "
                f"capacities={len(self.capacity)}, snapshots={self.prices['snapshot'].nunique() if len(self.prices) else 0})")


def _homes(links: pd.DataFrame, zones) -> dict:
    """{bus without demand: the zone a link joins it to} (a battery's bus -> its country)."""
    zones, home = set(zones), {}
    for b0, b1 in zip(links["bus0"], links["bus1"]):
        if b0 in zones and b1 not in zones:
            home.setdefault(b1, b0)
        elif b1 in zones and b0 not in zones:
            home.setdefault(b0, b1)
    return home


def _component_property(key: str):
    doc = (f"``{key}``: PyPSA-shaped " + ("time series by attribute (wide, snapshot x name)" if key.endswith("_t")
                                          else "static results, indexed by component name"))
    return property(lambda self: self._component(key), doc=doc)


for _key in COMPONENTS:
    for _name in (_key, f"{_key}_t"):
        if not hasattr(PlanningResult, _name):      # the long tables keep their names
            setattr(PlanningResult, _name, _component_property(_name))


class Sensitivity(float):
    """A scalar sensitivity with its ``name`` and ``unit`` (still a float)."""

    name: str = ""
    unit: str = ""

    @classmethod
    def of(cls, value, name: str, unit: str):
        if np.ndim(value) == 0:
            out = cls(float(value))
        else:
            out = np.asarray(value, dtype=float).view(SensitivityArray)
        out.name, out.unit = name, unit
        return out

    def __repr__(self) -> str:
        return f"{self.name} = {float(self):.6g} {self.unit}"


class SensitivityArray(np.ndarray):
    """An array sensitivity (one entry per entry of a Parameter) with ``name`` and ``unit``."""

    name: str = ""
    unit: str = ""

    def __array_finalize__(self, obj):
        self.name, self.unit = getattr(obj, "name", ""), getattr(obj, "unit", "")


# d(objective, currency/a) / d(input): the unit of each model input's derivative
_SENSITIVITY_UNITS = {"co2_cap": "{c}/t CO2", "co2_price": "t CO2", "voll": "MWh", "demand_scale": "{c}/a",
                      "renewable_share": "{c}/a", "reserve_margin": "{c}/a", "demand": "{c}/MW"}


def sensitivity_unit(name: str, currency: str) -> str:
    """The unit of d(objective)/d(``name``): currency/t CO2 for the CO2 cap, MWh_th for a fuel
    price (the fuel burnt), MWh for a marginal cost, currency/a per unit otherwise."""
    unit = _SENSITIVITY_UNITS.get(name)
    if unit is None:
        if name.endswith("_price"):
            unit = "MWh_th"
        elif name.endswith("_marginal_cost"):
            unit = "MWh"
        else:
            unit = "{c}/a per unit of " + name
    return unit.format(c=currency)


# ------------------------------------------------------------------ honest digits
EXACT_SOLVERS = ("highs", "gurobi")
FEASIBILITY_TOL = 1e-7   # HiGHS's and Gurobi's default primal and dual feasibility tolerance
VERTEX_GAP = 1e-11       # a simplex or crossover vertex closes the gap to rounding; an interior point does not
VERTEX_ROW = 1e-9        # and leaves each row and column within far less than any iterative tolerance
# units of the energy model's rows (after undoing row_scale); the other rows are powers, in MW
ROW_UNITS = {"co2_cap": "t CO2", "renewable_share": "MWh", "state_of_charge": "MWh", "state_of_charge_max": "MWh",
             "store_max": "MWh"}


def objective_accuracy(status: str, solver: str, objective: float, residuals: dict) -> dict:
    """{"exact": optimal with the gap closed to rounding and every row and column within 1e-9 of its
    scale (a simplex or crossover vertex; without row_rel/col_rel, as read from files, only
    HiGHS's or Gurobi's), "error": a relative bound on the objective's error}.  Exact answers
    are good to the feasibility tolerance; others to the largest of gap_abs / |objective| and
    their relative primal, dual and per-row measures (an infeasible point's objective can be
    further off than its gap says)."""
    scale = max(abs(objective), 1.0) if math.isfinite(objective) else 1.0
    get = lambda k: float(residuals.get(k, math.nan) if residuals.get(k) is not None else math.nan)  # noqa: E731
    gap_abs = get("gap_abs")
    gap_rel = gap_abs / scale if math.isfinite(gap_abs) else 2.0 * get("gap")   # gap ~ gap_abs / (2 |obj|)
    rows = [get("row_rel"), get("col_rel")]
    closed = (all(v <= VERTEX_ROW for v in rows) if all(math.isfinite(v) for v in rows)
              else solver in EXACT_SOLVERS)
    exact = status == "optimal" and get("gap") <= VERTEX_GAP and closed
    measures = [v for v in (gap_rel, get("primal"), get("dual"), get("row_rel")) if math.isfinite(v)]
    error = FEASIBILITY_TOL if exact else max(measures + [FEASIBILITY_TOL])
    if not measures and not exact:
        error = math.nan
    return {"exact": exact, "error": error}


def objective_text(value: float, error: float) -> str:
    """``value`` rounded to the digit where its error (``error`` relative) lies, with thousands
    separators: 8,078,135,675.45 at 1e-4 reads 8,078,100,000."""
    if not math.isfinite(value):
        return "nan"
    if not math.isfinite(error) or error <= 0:
        return f"{value:,.6g}"
    digit = math.floor(math.log10(error * max(abs(value), 1.0)))
    if value != 0:                   # at least the leading digit
        digit = min(digit, math.floor(math.log10(abs(value))))
    if digit >= 0:
        return f"{round(value, -digit):,.0f}"
    places = min(-digit, 12)
    return f"{round(value, places):,.{places}f}"


def percent_text(error: float) -> str:
    """A relative error as a percentage with one significant digit, rounded up: 1.2e-4 -> '0.02'."""
    if not math.isfinite(error) or error <= 0:
        return "?"
    p = error * 100.0
    exp = math.floor(math.log10(p))
    lead = math.ceil(p / 10.0 ** exp - 1e-9)
    if lead >= 10:
        lead, exp = 1, exp + 1
    return f"{lead * 10.0 ** exp:.{max(0, -exp)}f}"


def auto_reason(message: str) -> str:
    """'auto: highs (why)' from a Result message that ``solver="auto"`` prefixed, else '', with
    the simplex's start ("HiGHS's simplex from the 24 h grid") and the winner where solvers raced
    ('...; concurrent: ipm first (simplex stopped)')."""
    parts = (message or "").split("; ")
    if not parts[0].startswith("auto:"):
        return ""
    return "; ".join([parts[0]] + [p for p in parts[1:] if p.startswith(("HiGHS's simplex from", "concurrent:"))])


def worst_row(model, lp, x) -> tuple[float, str, str]:
    """(violation, where, unit) of the row of ``lp`` that x violates most, in the model's units
    (row_scale undone): ``where`` names the constraint and the entry, e.g. 'balance[17, 0]'."""
    ax = lp.A @ np.asarray(x, dtype=float)
    viol = np.maximum(lp.lc - ax, 0) + np.maximum(ax - lp.uc, 0)
    if not viol.size:
        return 0.0, "", ""
    i = int(np.argmax(viol))
    for name, cons in model.cons.items():
        for con in cons:
            start, size = model.pp.row_maps.get(con.id, (-1, 0))
            if start <= i < start + size:
                entry = np.unravel_index(i - start, con.shape) if con.shape else ()
                label = f"{name}[{', '.join(str(int(k)) for k in entry)}]" if entry else name
                scale = model.row_scale.get(name, 1.0)
                unit = ROW_UNITS.get(name, "" if name.startswith(("min_build", "max_build")) else "MW")
                return float(viol[i] / scale), label, unit
    return float(viol[i]), f"row {i}", ""


def _fmt(v, spec=".6g") -> str:
    try:
        return format(float(v), spec)
    except (TypeError, ValueError):
        return str(v)



# ------------------------------------------------------------------ building from a solution
COLUMNS = {
    "capacity": ["zone", "technology", "kind", "capacity", "unit"],
    "dispatch": ["snapshot", "zone", "technology", "power_mw"],
    "demand": ["snapshot", "zone", "demand_mw"],
    "storage_level": ["snapshot", "zone", "storage", "energy_mwh"],
    "flows": ["snapshot", "line", "flow_mw"],
    "prices": ["snapshot", "zone", "price"],
    "emissions": ["zone", "technology", "emissions_t"],
    "costs": ["zone", "technology", "component", "cost"],
}
TIDY_UNITS = {"dispatch": {"power_mw": "MW"},   # capacity has its unit column
              "demand": {"demand_mw": "MW"}, "storage_level": {"energy_mwh": "MWh"}, "flows": {"flow_mw": "MW"},
              "prices": {"price": "{c}/MWh"}, "emissions": {"emissions_t": "t CO2"}, "costs": {"cost": "{c}/a"}}
SINGULAR = {"generators": "generator", "storage_units": "storage_unit", "stores": "store", "links": "link",
            "lines": "line"}
_UNITS = {"generator": "MW", "storage_power": "MW", "storage_energy": "MWh", "link": "MW", "line": "MW"}


def technologies(df: pd.DataFrame, default: str | None = None) -> np.ndarray:
    """Carrier per asset, else ``default``, else the asset's name."""
    carrier = df["carrier"].astype(str).to_numpy() if "carrier" in df else np.full(len(df), "")
    fallback = np.full(len(df), default) if default is not None else df.index.astype(str).to_numpy()
    return np.where(carrier != "", carrier, fallback)


def max_violation(lp, x) -> float:
    """Largest absolute violation of rows and bounds at x (original units)."""
    ax = lp.A @ x
    parts = [lp.lc - ax, ax - lp.uc, lp.lx - x, x - lp.ux]
    return float(max(np.max(p, initial=0.0) for p in parts))


_LAYOUTS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()   # model -> _capacity_layout


def _capacity_layout(model):
    """What capacity_frame needs besides the solved values, made once per model: the
    (component, multiplier) parts in order, the group of each of their rows and the
    groups' (zone, technology, kind, unit).  A sweep builds one table per scenario, so a
    groupby per call would dominate each sweep row.  Cached per model in _LAYOUTS."""
    layout = _LAYOUTS.get(model)
    if layout is not None:
        return layout
    parts, frames = [], []
    for table, comp in model.comp.items():
        if not len(comp):
            continue
        df = comp.df
        tech = technologies(df, "transmission" if table == "lines" else None)
        if table == "lines":
            zone, kinds = (df["bus0"] + "->" + df["bus1"]).to_numpy(), [("line", 1.0)]
        elif table == "links":
            zone, kinds = df["bus0"].to_numpy(), [("link", 1.0)]
        elif table == "storage_units":
            zone, kinds = df["bus"].to_numpy(), [("storage_power", 1.0),
                                                 ("storage_energy", df["max_hours"].to_numpy(float))]
        else:
            zone, kinds = df["bus"].to_numpy(), [("generator" if table == "generators" else "storage_energy", 1.0)]
        for kind, factor in kinds:
            parts.append((comp, factor))
            frames.append(pd.DataFrame({"zone": zone, "technology": tech, "kind": kind, "unit": _UNITS[kind]}))
    keys = ["zone", "technology", "kind", "unit"]
    if frames:
        grouped = pd.concat(frames, ignore_index=True).groupby(keys, sort=False)
        first = grouped.size().reset_index()
        group, groups = grouped.ngroup().to_numpy(), {k: first[k].to_numpy() for k in keys}
    else:
        group, groups = np.zeros(0, dtype=int), {}
    layout = _LAYOUTS[model] = (parts, group, groups)
    return layout


def capacity_frame(model, values) -> pd.DataFrame:
    """Capacity table from solved variable values (see the module docstring)."""
    parts, group, groups = _capacity_layout(model)
    if not parts:
        return pd.DataFrame(columns=COLUMNS["capacity"])
    raw = np.concatenate([comp.capacity(values) * factor for comp, factor in parts])
    columns = {**groups, "capacity": np.bincount(group, weights=raw, minlength=len(groups["zone"]))}
    return pd.DataFrame({name: columns[name] for name in COLUMNS["capacity"]})


def capacity_columns(capacity: pd.DataFrame) -> dict:
    """cap_{zone}/{technology} (MW) and cap_{zone}/{technology}_mwh (storage energy) for sweep rows."""
    out = {}
    for r in capacity.itertuples(index=False):
        suffix = "_mwh" if r.kind == "storage_energy" else ""
        key = f"cap_{r.zone}/{r.technology}{suffix}"
        out[key] = out.get(key, 0.0) + float(r.capacity)
    return out


def generator_emissions(model, values) -> np.ndarray:
    """(G,) tonnes over the weighted horizon (expected value for a stochastic model)."""
    if "generator_p" not in model.vars:
        return np.zeros(0)
    return (model.time.w @ values[model.vars["generator_p"]]) * model.emission_factor


def _long(model, data: np.ndarray, columns: dict, name: str, aggregate: bool = True) -> pd.DataFrame:
    """(T, K) values -> tidy rows (snapshot [, scenario], per-asset columns, value ``name``)."""
    tm = model.time
    T, K = data.shape
    frame = {"snapshot": np.repeat(np.tile(tm.index.to_numpy(), tm.S), K)}
    if tm.S > 1:
        frame["scenario"] = np.repeat(np.asarray(tm.blocks, dtype=object)[tm.block], K)
    for col, per_asset in columns.items():
        frame[col] = np.tile(np.asarray(per_asset, dtype=object), T)
    frame[name] = data.reshape(-1) + 0.0          # + 0.0: no "-0.0" in printed tables
    df = pd.DataFrame(frame)
    keys = [c for c in df.columns if c != name]
    if aggregate and df.duplicated(keys).any():
        df = df.groupby(keys, as_index=False, sort=False)[name].sum()
    return df


def _concat(frames: list, columns: list, stochastic: bool) -> pd.DataFrame:
    cols = columns[:1] + (["scenario"] if stochastic and columns[0] == "snapshot" else []) + columns[1:]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def _time_tables(model, values, prices, error: float = 0.0) -> dict:
    tm, V, comp = model.time, model.vars, model.comp
    buses = model.buses.to_numpy()
    stoch = tm.S > 1
    dispatch, levels = [], []
    if "generator_p" in V:
        df = comp["generators"].df
        dispatch.append(_long(model, values[V["generator_p"]], {"zone": df["bus"], "technology": technologies(df)},
                              "power_mw"))
    if "storage_dispatch" in V:
        df = comp["storage_units"].df
        net = values[V["storage_dispatch"]] - values[V["storage_store"]]
        dispatch.append(_long(model, net, {"zone": df["bus"], "technology": technologies(df)}, "power_mw"))
        levels.append(_long(model, values[V["state_of_charge"]], {"zone": df["bus"], "storage": df.index}, "energy_mwh"))
    if "store_e" in V:
        from .component_tables import store_injection
        df = comp["stores"].df
        e = values[V["store_e"]]
        inj = store_injection(model, values)
        dispatch.append(_long(model, inj, {"zone": df["bus"], "technology": technologies(df)}, "power_mw"))
        levels.append(_long(model, e, {"zone": df["bus"], "storage": df.index}, "energy_mwh"))
    if "link_p" in V:
        df = comp["links"].df
        q = values[V["link_p"]]
        tech = technologies(df)
        dispatch.append(_long(model, -q, {"zone": df["bus0"], "technology": tech}, "power_mw"))
        dispatch.append(_long(model, q * df["efficiency"].to_numpy(float), {"zone": df["bus1"], "technology": tech},
                              "power_mw"))
    flows = []
    if "line_forward" in V:
        df = comp["lines"].df
        fwd, bwd = values[V["line_forward"]], values[V["line_backward"]]
        eff = df["efficiency"].to_numpy(float)
        tech = technologies(df, "transmission")
        dispatch.append(_long(model, eff * bwd - fwd, {"zone": df["bus0"], "technology": tech}, "power_mw"))
        dispatch.append(_long(model, eff * fwd - bwd, {"zone": df["bus1"], "technology": tech}, "power_mw"))
        flows.append(_long(model, fwd - bwd, {"line": df.index}, "flow_mw"))
    if "shedding" in V:
        dispatch.append(_long(model, values[V["shedding"]], {"zone": buses[model.shed_buses],
                                                             "technology": ["load shedding"] * len(model.shed_buses)},
                              "power_mw"))
    demand = model.params["demand"].value
    dispatch = _concat(dispatch, COLUMNS["dispatch"], stoch).groupby(
        ["snapshot", "scenario", "zone", "technology"] if stoch else ["snapshot", "zone", "technology"],
        as_index=False, sort=False)["power_mw"].sum()
    dispatch["power_mw"] = snap(dispatch["power_mw"].to_numpy(), error)   # sums of injections carry rounding
    return {
        "dispatch": dispatch,
        "demand": _concat([_long(model, demand, {"zone": buses}, "demand_mw")], COLUMNS["demand"], stoch),
        "storage_level": _concat(levels, COLUMNS["storage_level"], stoch),
        "flows": _concat(flows, COLUMNS["flows"], stoch),
        "prices": _concat([_long(model, prices, {"zone": buses}, "price")], COLUMNS["prices"], stoch),
    }


def _cost_frames(model, values) -> tuple[pd.DataFrame, pd.DataFrame]:
    """emissions and costs tables (currency per weighted horizon; expected values if stochastic)."""
    tm, V, comp, P = model.time, model.vars, model.comp, model.params
    systems, _ = model.editor.apply(model.inputs)
    W = tm.weights()
    prob = tm.prob
    cost_rows, emis_rows = [], []

    def add(zone, tech, component, cost):
        cost_rows.append(pd.DataFrame({"zone": zone, "technology": tech, "component": component, "cost": cost}))

    for table, c in comp.items():
        if c.cap is None:
            continue
        df = c.df.iloc[c.ext]
        fixed = P[f"{SINGULAR[table]}_fixed_cost"].value
        fom = sum(p * getattr(s, table)["fom_cost"].to_numpy(float)[c.ext] for p, s in zip(prob, systems))
        cap = values[c.cap]
        zone = (df["bus0"] if table in ("links", "lines") else df["bus"]).to_numpy()
        tech = technologies(df, "transmission" if table == "lines" else None)
        add(zone, tech, "capex", (fixed - fom) * cap)
        add(zone, tech, "fom", fom * cap)
    if "generator_p" in V:
        df = comp["generators"].df
        energy = W @ values[V["generator_p"]]                       # (S, G)
        mc = np.stack([s.generators["marginal_cost"].to_numpy(float) for s in systems])
        fuel = np.stack([(s.generators["fuel_cost"] / s.generators["efficiency"]).to_numpy(float) for s in systems])
        tech = technologies(df)
        shed = (df["carrier"] == "load shedding").to_numpy()
        add(df["bus"].to_numpy(), tech, np.where(shed, "shedding", "opex"), (energy * mc).sum(axis=0))
        add(df["bus"].to_numpy(), tech, "fuel", (energy * fuel).sum(axis=0))
        tonnes = energy * model.emission_factor                     # (S, G)
        if "co2_price" in P:
            add(df["bus"].to_numpy(), tech, "co2", (tonnes * P["co2_price"].value[:, None]).sum(axis=0))
        emis_rows.append(pd.DataFrame({"zone": df["bus"].to_numpy(), "technology": tech,
                                       "emissions_t": tonnes.sum(axis=0)}))
    for table, var in (("storage_units", "storage_dispatch"), ("links", "link_p")):
        if var in V:
            df = comp[table].df
            mc = P[f"{SINGULAR[table]}_marginal_cost"].value
            add((df["bus"] if table == "storage_units" else df["bus0"]).to_numpy(), technologies(df), "opex",
                ((W @ values[V[var]]) * mc).sum(axis=0))
    if "shedding" in V:
        zone = model.buses.to_numpy()[model.shed_buses]
        add(zone, "load shedding", "shedding", float(P["voll"].value) * (W @ values[V["shedding"]]).sum(axis=0))
    costs = pd.concat(cost_rows, ignore_index=True) if cost_rows else pd.DataFrame(columns=COLUMNS["costs"])
    costs = costs[costs["cost"] != 0].groupby(["zone", "technology", "component"], as_index=False,
                                              sort=False)["cost"].sum()
    emissions = (pd.concat(emis_rows, ignore_index=True).groupby(["zone", "technology"], as_index=False,
                                                                 sort=False)["emissions_t"].sum()
                 if emis_rows else pd.DataFrame(columns=COLUMNS["emissions"]))
    return emissions[COLUMNS["emissions"]], costs[COLUMNS["costs"]]


def summary_row(model, result, lp, values) -> dict:
    """The summary / sweep-row fields shared by single solves and sweeps."""
    has_x = values is not None
    res = result.residuals or {}
    return {"objective": float(result.objective) if has_x else math.nan, "status": result.status,
            "solver": result.solver, "solve_seconds": float(result.seconds), "iterations": int(result.iterations),
            "primal_residual": res.get("primal", math.nan), "dual_residual": res.get("dual", math.nan),
            "gap": res.get("gap", math.nan),
            "max_violation": max_violation(lp, result.x) if has_x else math.nan,
            "total_emissions_t": float(generator_emissions(model, values).sum()) if has_x else math.nan}


def _solution(model, result, lp=None):
    if result.x is None or result.status in ("infeasible", "infeasible_inaccurate", "unbounded",
                                             "unbounded_inaccurate", "infeasible_or_unbounded"):
        return None
    values = model.pp.variable_values(np.asarray(result.x, dtype=float))
    if lp is None:
        return values
    return clean_values(model, lp, values, solution_error(result))


def solution_error(result) -> float:
    """The relative accuracy of ``result`` (``objective_accuracy``'s error bound)."""
    obj = float(result.objective) if result.objective is not None else math.nan
    error = objective_accuracy(str(result.status), str(result.solver), obj, result.residuals or {})["error"]
    return error if math.isfinite(error) else FEASIBILITY_TOL


def snap(values: np.ndarray, error: float, lo=None, hi=None) -> np.ndarray:
    """``values`` with entries within ``error`` x (the largest magnitude among them, at least 1)
    of a finite bound ``lo``/``hi`` or of zero set to it: solver noise (0.000447 MW, -3e-5
    EUR/MWh) is not an answer, and the answer is only that accurate."""
    v = np.array(values, dtype=float)
    if not v.size:
        return v
    eps = error * max(1.0, float(np.nanmax(np.abs(v))))
    for bound in (lo, hi, 0.0):
        if bound is None:
            continue
        b = np.broadcast_to(np.asarray(bound, dtype=float), v.shape)
        near = np.isfinite(b) & (np.abs(v - b) <= eps)
        v[near] = b[near]
    return v + 0.0


def clean_values(model, lp, values: dict, error: float) -> dict:
    """Each variable's values snapped to its bounds (``snap``), the variable as the scale."""
    out = {}
    lx, ux = np.asarray(lp.lx, dtype=float), np.asarray(lp.ux, dtype=float)
    for var, value in values.items():
        off = model.pp.var_offsets[var.id]
        lo, hi = (b[off:off + value.size].reshape(value.shape) for b in (lx, ux))
        out[var] = snap(value, error, lo, hi)
    return out


def planning_result(model, result, lp, inputs: dict) -> PlanningResult:
    """A PlanningResult for one solved LP of ``model`` (empty tables when there is no solution)."""
    from .component_tables import component_tables
    values = _solution(model, result, lp)
    summary = pd.DataFrame([{**summary_row(model, result, lp, values), "build_seconds": model.build_seconds,
                             **{k: v for k, v in inputs.items()}}])
    summary.attrs["inputs"] = dict(inputs)
    components = {}
    if values is None:
        tables = {name: pd.DataFrame(columns=cols) for name, cols in COLUMNS.items()}
    else:
        emissions, costs = _cost_frames(model, values)
        error = solution_error(result)
        prices = snap(model.dual("balance", result, lp)[0] / model.time.w[:, None], error)
        tables = {"capacity": capacity_frame(model, values), **_time_tables(model, values, prices, error),
                  "emissions": emissions, "costs": costs}
        components = component_tables(model, values, prices, model.system.currency, error)
    currency = model.system.currency
    for name, units in TIDY_UNITS.items():     # the bare value columns say their unit in attrs
        tables[name].attrs["units"] = {col: unit.format(c=currency) for col, unit in units.items()}
    return PlanningResult(**tables, summary=summary, currency=currency, model=model, raw=result, lp=lp,
                          components=components)


def sweep_row(model, result, lp) -> dict:
    """One sweep-table row: status, objective, residuals, cap_{zone}/{technology}, emissions, message."""
    values = _solution(model, result, lp)
    row = summary_row(model, result, lp, values)
    if values is not None:
        row.update(capacity_columns(capacity_frame(model, values)))
    row["message"] = result.message
    return row
