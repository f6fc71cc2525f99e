"""The planning LP, one function per component family (the pattern of PyPSA's
``optimization/constraints.py``): each adds its variables, named constraints and bus injections
to a ``Build``; ``build`` runs them in order.  ``model.py``'s docstring states the formulation.

The order of the calls in ``build`` fixes the order of the LP's columns and rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import modeling as gp
from ..errors import ModelingError
from .layout import Component, Time
from .network import angle_incidence, cycle_matrix
from .results import SINGULAR
from .system import COMPONENTS, TRANSMISSION_LIMITS, System

SHEDDING = "load shedding"
OPERATION_COSTS = {"generators": "generator_p", "storage_units": "storage_dispatch", "links": "link_p"}


@dataclass
class Build:
    """A model under construction: its data and what the builders have added so far."""

    system: System
    time: Time
    options: dict
    comp: dict                    # table -> Component (with its capacity Variable)
    buses: pd.Index
    emission_factor: np.ndarray   # t CO2 per MWh of each generator's output
    params: dict = field(default_factory=dict)        # Parameters by name
    vars: dict = field(default_factory=dict)
    cons: dict = field(default_factory=dict)          # named constraints, whose duals are read by name
    constraints: list = field(default_factory=list)   # every constraint, in order
    injections: list = field(default_factory=list)    # (T, N) terms of the bus balance
    shed_buses: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    emissions: Optional[object] = None                # (S,) tonnes per scenario, where generators emit
    objective: Optional[object] = None
    # horizon totals are divided by the horizon's hours: per-hour averages keep these rows on the
    # scale of the balances, which matters for PDHG's relative criteria
    row_scale: dict = field(default_factory=dict)

    @classmethod
    def start(cls, system: System, time: Time, options: dict) -> "Build":
        comp = {t: Component.build(t, getattr(system, t)) for t in COMPONENTS}
        factor = system.emission_factor().to_numpy(float) if len(comp["generators"]) else np.zeros(0)
        return cls(system, time, options, comp, system.buses.index, factor,
                   row_scale={"co2_cap": 1.0 / time.hours, "renewable_share": 1.0 / time.hours})

    @property
    def emits(self) -> bool:
        return bool(np.any(self.emission_factor > 0))

    def add(self, name: str, constraints) -> None:
        constraints = constraints if isinstance(constraints, list) else [constraints]
        self.cons[name] = constraints
        self.constraints.extend(constraints)

    def variable(self, name: str, columns: int, nonneg: bool = True):
        """A (snapshots, columns) Variable called ``name``."""
        self.vars[name] = gp.Variable((self.time.T, columns), nonneg=nonneg, name=name)
        return self.vars[name]

    def param(self, name: str, shape, nonneg: bool = False):
        self.params[name] = gp.Parameter(shape, name=name, nonneg=nonneg)
        return self.params[name]

    def incidence(self, bus_column: pd.Series) -> np.ndarray:
        """(K, N) 0/1 matrix: component k sits at bus n."""
        idx = self.buses.get_indexer(bus_column)
        K = np.zeros((len(idx), len(self.buses)))
        K[np.arange(len(idx)), idx] = 1.0
        return K

    def limit(self, x, table: str, cols: np.ndarray, coef, upper: bool) -> list:
        """x[:, j] <= coef[:, j] * capacity[cols[j]] (>= when not upper).  Extendable columns give
        rows; fixed ones (and zero coefficients) give variable bounds.  coef: array or Parameter."""
        comp = self.comp[table]
        pos = comp.pos[cols]
        param = not isinstance(coef, np.ndarray)
        out = []

        def sel(j):
            return coef[:, cols[j]] if param else coef[:, j]

        def rel(lhs, rhs):
            return lhs <= rhs if upper else lhs >= rhs

        ext, fix = np.flatnonzero(pos >= 0), np.flatnonzero(pos < 0)
        if ext.size and not param:
            zero = ~np.any(coef[:, ext] != 0, axis=0)
            if zero.any():
                out.append(rel(x[:, ext[zero]], 0.0))
            ext = ext[~zero]
        if ext.size:
            cap = gp.reshape(comp.cap[pos[ext]], (1, ext.size))
            out.append(rel(x[:, ext], gp.multiply(sel(ext), cap)))
        if fix.size:
            nominal = comp.nominal[cols[fix]][None, :]
            out.append(rel(x[:, fix], gp.multiply(sel(fix), nominal) if param else sel(fix) * nominal))
        return out

    def carry(self, level, standing_loss: pd.Series, cyclic: pd.Series, initial: pd.Series):
        """(previous level x standing efficiency, initial-level constant) for storage dynamics:
        cyclic assets wrap within each period, the others start each period from ``initial``."""
        tm = self.time
        decay = (1.0 - standing_loss.to_numpy(float))[None, :] ** tm.dur[:, None]
        cyc = cyclic.to_numpy(bool)
        keep = np.where(tm.first[:, None] & ~cyc[None, :], 0.0, 1.0)
        prev = gp.multiply(decay * keep, tm.shift() @ level)
        init = np.where(tm.first[:, None] & ~cyc[None, :], decay * initial.to_numpy(float)[None, :], 0.0)
        return prev, init


def build(system: System, time: Time, options: dict) -> Build:
    """The model's parts and its objective, built in the order that fixes the LP's layout."""
    b = Build.start(system, time, options)
    add_parameters(b)
    for table, add in (("generators", add_generators), ("storage_units", add_storage_units), ("stores", add_stores),
                       ("links", add_links), ("lines", add_lines)):
        if len(b.comp[table]):
            add(b, b.comp[table])
    add_shedding(b)
    add_balance(b)
    b.objective = objective(b)
    for add in (add_co2_cap, add_renewable_share, add_reserve_margin, add_build_limits, add_transmission_limits):
        add(b)
    return b


def add_parameters(b: Build) -> None:
    """The Parameters every input refills: profiles, costs, CO2 price and VOLL."""
    T, S = b.time.T, b.time.S
    b.param("demand", (T, len(b.buses)), nonneg=True)
    b.param("availability", (T, len(b.comp["generators"])), nonneg=True)
    for t in OPERATION_COSTS:
        if len(b.comp[t]):
            b.param(f"{SINGULAR[t]}_marginal_cost", (S, len(b.comp[t])))
    for t in COMPONENTS:
        if b.comp[t].cap is not None:
            b.param(f"{SINGULAR[t]}_fixed_cost", (len(b.comp[t].ext),), nonneg=True)
    if b.emits:
        b.param("co2_price", (S,), nonneg=True)
    if b.system.voll is not None:
        b.param("voll", (), nonneg=True)


def add_generators(b: Build, gen: Component) -> None:
    p = b.variable("generator_p", len(gen))
    b.add("generator_max", b.limit(p, "generators", np.arange(len(gen)), b.params["availability"], upper=True))
    # p_min_pu per snapshot (the static value where the system has no profile), tiled over scenarios
    pmin = np.tile(b.system.min_availability.to_numpy(float), (b.time.S, 1))
    if np.any(pmin > 0):
        sel = np.flatnonzero((pmin > 0).any(axis=0))
        b.add("generator_min", b.limit(p[:, sel], "generators", sel, pmin[:, sel], upper=False))
    b.injections.append(p @ b.incidence(gen.df["bus"]))
    if b.options["ramp_limits"]:
        add_ramps(b, gen, p)


def add_ramps(b: Build, gen: Component, p) -> None:
    """Ramp limits per hour times the snapshot duration, within each period."""
    tm = b.time
    for side, col in (("up", "ramp_limit_up"), ("down", "ramp_limit_down")):
        limit = gen.df[col].to_numpy(float)
        sel = np.flatnonzero(np.isfinite(limit))
        if sel.size == 0:
            continue
        rows = np.flatnonzero(~tm.first)
        step = (sp.eye(tm.T, format="csr") - tm.shift(keep_first=False))[rows]
        change = step @ p[:, sel]
        if side == "down":
            change = -change
        coef = tm.dur[rows][:, None] * limit[sel][None, :]
        b.add(f"ramp_{side}", b.limit(change, "generators", sel, coef, upper=True))


def add_storage_units(b: Build, su: Component) -> None:
    df, T = su.df, b.time.T
    sd = b.variable("storage_dispatch", len(su))
    sc = b.variable("storage_store", len(su))
    soc = b.variable("state_of_charge", len(su))
    cols, ones = np.arange(len(su)), np.ones((T, len(su)))
    b.add("storage_dispatch_max", b.limit(sd, "storage_units", cols, ones, upper=True))
    b.add("storage_store_max", b.limit(sc, "storage_units", cols, ones, upper=True))
    b.add("state_of_charge_max", b.limit(soc, "storage_units", cols, ones * df["max_hours"].to_numpy(float),
                                         upper=True))
    prev, init = b.carry(soc, df["standing_loss"], df["cyclic_state_of_charge"], df["state_of_charge_initial"])
    d = b.time.dur[:, None]
    level = prev + init + gp.multiply(d * df["efficiency_store"].to_numpy(float), sc) \
        - gp.multiply(d / df["efficiency_dispatch"].to_numpy(float), sd)
    inflow = np.tile(b.system.inflow.to_numpy(float), (b.time.S, 1))    # (T, units) MW, per snapshot
    wet = np.flatnonzero((inflow > 0).any(axis=0))
    if wet.size:        # inflow enters the level, less what is spilled (PyPSA: 0 <= spill <= inflow)
        spill = b.variable("storage_spill", wet.size)
        b.add("storage_spill_max", [spill <= inflow[:, wet]])
        pick = np.zeros((wet.size, len(su)))
        pick[np.arange(wet.size), wet] = 1.0
        level = level + d * inflow - gp.multiply(np.broadcast_to(d, (T, wet.size)), spill) @ pick
    b.add("state_of_charge", [soc == level])
    fixed = np.tile(b.system.state_of_charge_set.to_numpy(float), (b.time.S, 1))
    rows, cols = np.nonzero(~np.isnan(fixed))
    if rows.size:       # PyPSA's state_of_charge_set: the level is given at these snapshots
        b.add("state_of_charge_set", [soc[rows, cols] == fixed[rows, cols]])
    b.injections.append((sd - sc) @ b.incidence(df["bus"]))


def add_stores(b: Build, st: Component) -> None:
    df, T = st.df, b.time.T
    e = b.variable("store_e", len(st))
    b.add("store_max", b.limit(e, "stores", np.arange(len(st)), np.ones((T, len(st))), upper=True))
    prev, init = b.carry(e, df["standing_loss"], df["e_cyclic"], df["e_initial"])
    b.injections.append(gp.multiply(1.0 / b.time.dur[:, None], prev + init - e) @ b.incidence(df["bus"]))


def add_links(b: Build, lk: Component) -> None:
    df, T = lk.df, b.time.T
    q = b.variable("link_p", len(lk), nonneg=False)
    cols = np.arange(len(lk))
    for name, column, upper in (("link_max", "p_max_pu", True), ("link_min", "p_min_pu", False)):
        coef = np.broadcast_to(df[column].to_numpy(float), (T, len(lk)))
        b.add(name, b.limit(q, "links", cols, coef, upper=upper))
    eff = df["efficiency"].to_numpy(float)[:, None]
    ports = eff * b.incidence(df["bus1"]) - b.incidence(df["bus0"])
    for k in (2, 3):        # PyPSA multi-port links: bus_k receives efficiency_k * p (an empty bus_k: none)
        used = (df[f"bus{k}"] != "").to_numpy()
        if used.any():
            K = np.zeros_like(ports)
            K[used] = b.incidence(df[f"bus{k}"][used])
            ports = ports + df[f"efficiency{k}"].to_numpy(float)[:, None] * K
    b.injections.append(q @ ports)


def add_lines(b: Build, ln: Component) -> None:
    """A flow each way, each at most s_max_pu x capacity; lines with a reactance obey Kirchhoff's
    voltage law unless the model was built with ``power_flow="transport"``."""
    df, T = ln.df, b.time.T
    cols = np.arange(len(ln))
    usable = np.broadcast_to(df["s_max_pu"].to_numpy(float), (T, len(ln)))
    fwd = b.variable("line_forward", len(ln))
    bwd = b.variable("line_backward", len(ln))
    b.add("line_forward_max", b.limit(fwd, "lines", cols, usable, upper=True))
    b.add("line_backward_max", b.limit(bwd, "lines", cols, usable, upper=True))
    eff = df["efficiency"].to_numpy(float)[:, None]
    K0, K1 = b.incidence(df["bus0"]), b.incidence(df["bus1"])
    b.injections.append(fwd @ (eff * K1 - K0) + bwd @ (eff * K0 - K1))
    if b.options.get("power_flow", "kvl") == "kvl":
        add_kirchhoff(b, df, fwd - bwd)


def add_kirchhoff(b: Build, df: pd.DataFrame, flow) -> None:
    """Kirchhoff's voltage law on the lines that have a reactance, written as ``b.options["kvl"]``
    says ("cycles" or "angles", ``network``'s docstring); the reactance stays fixed when a line is
    extended, as in PyPSA."""
    x = df["x"].to_numpy(float)
    sel = np.flatnonzero(~np.isnan(x))
    if sel.size == 0:
        return
    lossy = sel[df["efficiency"].to_numpy(float)[sel] < 1]
    if lossy.size:
        raise ModelingError(f"line {df.index[lossy[0]]!r} has a reactance and efficiency < 1: Kirchhoff's "
                            f"voltage law here is lossless (give efficiency 1, or no x for a transport line)")
    pick = sp.csr_matrix((np.ones(sel.size), (sel, np.arange(sel.size))), shape=(len(df), sel.size))
    bus0, bus1 = b.buses.get_indexer(df["bus0"].iloc[sel]), b.buses.get_indexer(df["bus1"].iloc[sel])
    KIRCHHOFF[b.options.get("kvl", "cycles")](b, flow @ pick, x[sel], bus0, bus1)


def kirchhoff_cycles(b: Build, flow, x: np.ndarray, bus0: np.ndarray, bus1: np.ndarray) -> None:
    """Σ_l C[c, l] x_l f_l = 0 per independent cycle c (``network.cycle_matrix``), PyPSA's rows."""
    C = cycle_matrix(bus0, bus1, len(b.buses))
    if C.shape[0] == 0:
        return
    weighted = C.multiply(x[None, :]).tocsr()
    # each cycle's row divided by its largest reactance: the rows hold O(1) coefficients whatever
    # the per-unit base, which PDHG's scaling would otherwise have to undo
    weighted = sp.diags(1.0 / abs(weighted).max(axis=1).toarray().ravel()) @ weighted
    b.add("kirchhoff", [flow @ weighted.T.tocsr() == 0])


def kirchhoff_angles(b: Build, flow, x: np.ndarray, bus0: np.ndarray, bus1: np.ndarray) -> None:
    """(x_l / x̄) f_l = ψ_bus0 - ψ_bus1 per line, ψ = θ / x̄ a free variable per bus but the references
    (``network.angle_incidence``)."""
    D = angle_incidence(bus0, bus1, len(b.buses))
    # angles in units of the median reactance: O(1) coefficients whatever the per-unit base, as
    # the cycle rows' scaling
    scale = np.median(x)
    psi = b.variable("voltage_angle", D.shape[1], nonneg=False)
    b.add("kirchhoff", [flow @ sp.diags(x / scale).tocsr() - psi @ D.T.tocsr() == 0])


KIRCHHOFF = {"cycles": kirchhoff_cycles, "angles": kirchhoff_angles}


def add_shedding(b: Build) -> None:
    """Load shedding at VOLL, up to the demand of each bus that has some."""
    s = b.system
    if s.voll is None:
        return
    b.shed_buses = np.flatnonzero((s.demand.to_numpy(float) > 0).any(axis=0))
    if b.shed_buses.size:
        u = b.variable("shedding", b.shed_buses.size)
        b.add("shedding_max", [u <= b.params["demand"][:, b.shed_buses]])
        b.injections.append(u @ np.eye(len(b.buses))[b.shed_buses])


def add_balance(b: Build) -> None:
    """One balance per bus and snapshot; its dual over the snapshot weight is the price."""
    if not b.injections:
        raise ModelingError(f"system {b.system.name!r} has no generators, storage, links or lines")
    b.add("balance", [_total(b.injections) == b.params["demand"]])


def objective(b: Build):
    """The objective: investment (less the cost of capacity already there, as PyPSA), operation,
    CO2 at its price and shedding at VOLL, weighted by snapshot and scenario probability."""
    P, V, tm = b.params, b.vars, b.time
    terms = []
    for t in COMPONENTS:
        comp = b.comp[t]
        if comp.cap is not None:
            fc = P[f"{SINGULAR[t]}_fixed_cost"]
            terms.append(fc @ comp.cap)
            existing = comp.nominal[comp.ext]
            if np.any(existing):
                terms.append(-(fc @ existing))
    W = tm.weights()
    for t, vname in OPERATION_COSTS.items():
        if vname in V:
            terms.append(gp.sum(gp.multiply(W @ V[vname], P[f"{SINGULAR[t]}_marginal_cost"])))
    if b.emits:
        b.emissions = (tm.weights(probability=False) @ V["generator_p"]) @ b.emission_factor
        terms.append(gp.multiply(tm.prob, b.emissions) @ P["co2_price"])
    if "shedding" in V:
        terms.append(P["voll"] * gp.sum(W @ V["shedding"]))
    return _total(terms)


def add_co2_cap(b: Build) -> None:
    if b.system.policies.get("co2_cap") is None:
        return
    if not b.emits:
        raise ModelingError("co2_cap given but no generator emits CO2 (carriers.co2_emissions are all 0)")
    H = b.time.hours
    cap = b.param("co2_cap", (b.time.S,), nonneg=True)
    b.add("co2_cap", [b.emissions / H <= cap / H])


def add_renewable_share(b: Build) -> None:
    if b.system.policies.get("renewable_share") is None:
        return
    tm, gen = b.time, b.comp["generators"]
    target = b.param("renewable_target", (tm.S,), nonneg=True)
    carriers = renewable_carriers(b.system, b.options, b.emission_factor)
    re = np.flatnonzero(gen.df["carrier"].isin(carriers).to_numpy())
    if re.size == 0:
        raise ModelingError(f"renewable_share given but no generator has a renewable carrier "
                            f"({', '.join(carriers) or 'none'})")
    energy = gp.sum((tm.weights(probability=False) @ b.vars["generator_p"])[:, re], axis=1)
    b.add("renewable_share", [energy / tm.hours >= target / tm.hours])


def add_reserve_margin(b: Build) -> None:
    if b.system.policies.get("reserve_margin") is None:
        return
    requirement = b.param("reserve_requirement", (), nonneg=True)
    b.add("reserve_margin", [firm_capacity(b) >= requirement])


def add_build_limits(b: Build) -> None:
    """min_build / max_build: total capacity per carrier."""
    for kind in ("min_build", "max_build"):
        for carrier, value in (b.options[kind] or {}).items():
            total = carrier_capacity(b, carrier)
            b.add(f"{kind}:{carrier}", [total >= value if kind == "min_build" else total <= value])


def add_transmission_limits(b: Build) -> None:
    """PyPSA's transmission volume / cost limits: Σ length (or capital_cost) x capacity over the
    extendable lines and links of the listed carriers, against a constant."""
    for limit in b.system.transmission_limits:
        column = TRANSMISSION_LIMITS[limit["kind"]]
        terms = []
        for table in ("lines", "links"):
            comp = b.comp[table]
            if comp.cap is None:
                continue
            df = comp.df.iloc[comp.ext]
            coef = df[column].fillna(0.0).to_numpy(float) if column in df else np.zeros(len(df))
            coef = coef * df["carrier"].isin(limit["carriers"]).to_numpy()
            if np.any(coef):
                terms.append(coef @ comp.cap)
        if not terms:         # PyPSA adds no row either
            continue
        total, rhs, sense = _total(terms), float(limit["constant"]), limit.get("sense", "<=")
        row = total <= rhs if sense == "<=" else (total >= rhs if sense == ">=" else total == rhs)
        b.add(f"transmission_limit:{limit.get('name', limit['kind'])}", [row])


def renewable_carriers(system: System, options: dict, emission_factor: np.ndarray) -> list:
    """Carriers counted by renewable_share (option, else policies, else emission-free generators)."""
    given = options["renewable_carriers"] or system.policies.get("renewable_carriers")
    if given:
        return list(given)
    gen = system.generators
    clean = gen["carrier"][(emission_factor == 0) & (gen["carrier"] != SHEDDING).to_numpy()]
    return sorted(set(clean))


def firm_capacity(b: Build):
    """Capacity credit: generators at their availability in the peak-demand snapshot (the
    availability Parameter, so swept profiles move it; shedding excluded), storage units at
    full power, links into demand buses at efficiency."""
    s, availability = b.system, b.params["availability"]
    gen, su, lk = b.comp["generators"], b.comp["storage_units"], b.comp["links"]
    peak = int(np.argmax(s.demand.to_numpy(float).sum(axis=1)))
    total = su.capacity_expr(np.ones(len(su)))
    counted = (gen.df["carrier"] != SHEDDING).to_numpy() if len(gen) else np.zeros(0, bool)
    ext = np.flatnonzero(counted & (gen.pos >= 0))
    fix = np.flatnonzero(counted & (gen.pos < 0) & (gen.nominal > 0))
    if ext.size:
        total = total + gp.sum(gp.multiply(availability[peak, ext], gen.cap[gen.pos[ext]]))
    if fix.size:
        total = total + availability[peak, fix] @ gen.nominal[fix]
    if len(lk):
        demand_bus = (s.demand != 0).any().reindex(lk.df["bus1"]).to_numpy(bool)
        supply_bus = ~(s.demand != 0).any().reindex(lk.df["bus0"]).to_numpy(bool)
        total = total + lk.capacity_expr(lk.df["efficiency"].to_numpy(float) * (demand_bus & supply_bus))
    return total


def carrier_capacity(b: Build, carrier: str):
    """Total capacity of the components (not lines) of one carrier, as an expression."""
    found = [t for t in COMPONENTS if t != "lines" and (b.comp[t].df["carrier"] == carrier).any()]
    if not found:
        raise ModelingError(f"min/max build: no component has carrier {carrier!r}")
    return _total([b.comp[t].capacity_expr((b.comp[t].df["carrier"] == carrier).to_numpy(float)) for t in found])


def _total(terms: list):
    """terms[0] + terms[1] + ... in that order (the order fixes the LP's rows and columns)."""
    out = terms[0]
    for term in terms[1:]:
        out = out + term
    return out
