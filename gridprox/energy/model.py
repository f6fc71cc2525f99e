"""CapacityExpansion: the planning LP of a ``System`` in gridprox syntax, compiled once.

The formulation follows PyPSA 1.4's linear optimal power flow exactly (so the ``model-energy``
optimum equals ``network.optimize()``'s), with the transport model for lines:

* capacities: one variable per extendable asset (total capacity in ``[*_min, *_max]``); fixed
  assets have ``p_nom`` / ``e_nom``.  Investment cost ``fixed_cost * capacity`` for extendable
  assets; like PyPSA's default objective, the cost of the ``p_nom`` already present on an
  extendable asset is subtracted as a constant (zero for greenfield data);
* generators: ``p_min_pu * cap <= p[t] <= availability[t] * cap``, cost ``w[t] * (marginal_cost +
  fuel_cost / efficiency + co2_price * emission_factor)``;
* storage units (PyPSA StorageUnit): dispatch and store in ``[0, cap]``, ``soc <= max_hours * cap``,
  ``soc[t] = (1 - standing_loss)^d[t] soc[t-1] + d[t] (eta_store store[t] - dispatch[t] / eta_dispatch)``
  with ``d`` the snapshot duration, cyclic within each period (or starting from the initial level);
* stores (PyPSA Store): ``e <= cap``, injection ``((1 - standing_loss)^d e[t-1] - e[t]) / d``;
* links: ``p_min_pu * cap <= p <= p_max_pu * cap``, bus0 gives ``p``, bus1 gets ``efficiency * p``;
* lines: a flow each way in ``[0, cap]``, the receiving bus gets ``efficiency`` times it;
* load shedding at ``voll`` where the system gives one: ``0 <= shed <= demand`` per bus;
* one balance per bus and snapshot (its dual / weight is the price), and the options: CO2 cap
  (dual = CO2 price) or CO2 price, renewable share, planning reserve margin, min/max build per
  carrier, ramp limits (per hour, times the duration, within each period).

Every input a user sweeps is a ``gridprox.Parameter`` (demand, availability, marginal and fuel
costs, fixed costs, CO2 cap and price, VOLL, renewable target, reserve requirement), so a sweep
refills numbers and never recompiles.  With ``stochastic=True`` a system's scenarios become a
two-stage stochastic model (shared capacities, one operation block per scenario weighted by its
probability), PyPSA's ``set_scenarios`` semantics.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import modeling as gp
from ..errors import ModelingError
from .results import SINGULAR as _SINGULAR
from .system import CAPACITY, COMPONENTS, System, SystemDataError
from ..sweep.neighbours import WarmStarts, coordinates, stream_plan
from .timeseries import apply_resolution

__all__ = ["CapacityExpansion", "SHEDDING"]

SHEDDING = "load shedding"
POLICY_ROWS = ("co2_cap", "renewable_share", "reserve_margin")   # inputs that add constraints
# columns a scenario may change without changing the LP's structure (they only feed Parameters)
_COST_COLUMNS = {"capital_cost", "overnight_cost", "fom_cost", "lifetime"}
POLICY_INPUTS = ("co2_cap", "co2_price", "renewable_share", "reserve_margin")   # system.yaml policies
PARAMETER_COLUMNS = {
    "generators": _COST_COLUMNS | {"marginal_cost", "fuel_cost"},
    "storage_units": _COST_COLUMNS | {"marginal_cost"},
    "stores": set(_COST_COLUMNS),
    "links": _COST_COLUMNS | {"marginal_cost"},
    "lines": set(_COST_COLUMNS),
    "carriers": set(),
    "policies": set(POLICY_INPUTS),
}


# ----------------------------------------------------------------------------- time
@dataclass
class _Time:
    """Snapshots of the LP: ``S`` blocks (scenarios; 1 when deterministic) of the system's
    snapshots.  ``w``: objective weight (probability x weight), ``dur``: duration, ``prev``:
    previous snapshot cyclic within the period, ``first``: first snapshot of its period."""

    index: pd.DatetimeIndex
    blocks: list
    prob: np.ndarray
    w: np.ndarray
    dur: np.ndarray
    prev: np.ndarray
    first: np.ndarray
    block: np.ndarray

    @classmethod
    def build(cls, system: System, blocks: Sequence[str], prob: Sequence[float]) -> "_Time":
        snaps = system.snapshots
        T0, S = len(snaps), len(blocks)
        codes = pd.factorize(snaps["period"])[0]
        first0 = np.r_[True, codes[1:] != codes[:-1]]
        if len(np.unique(codes)) != int(first0.sum()):
            raise SystemDataError("each period's snapshots must be consecutive", file="snapshots.csv",
                                  column="period")
        starts = np.flatnonzero(first0)
        ends = np.r_[starts[1:], T0] - 1
        prev0 = np.arange(T0) - 1
        prev0[starts] = ends
        prob = np.asarray(prob, dtype=float)
        offset = np.repeat(np.arange(S) * T0, T0)
        return cls(index=snaps.index, blocks=list(blocks), prob=prob,
                   w=np.concatenate([p * snaps["weight"].to_numpy(float) for p in prob]),
                   dur=np.tile(snaps["duration"].to_numpy(float), S), prev=np.tile(prev0, S) + offset,
                   first=np.tile(first0, S), block=np.repeat(np.arange(S), T0))

    @property
    def T(self) -> int:
        return len(self.w)

    @property
    def S(self) -> int:
        return len(self.blocks)

    def shift(self, keep_first: np.ndarray | bool = True) -> sp.csr_matrix:
        """R with (R @ x)[t] = x[prev[t]]; rows of first snapshots are dropped where not keep_first."""
        rows = np.arange(self.T)
        keep = np.ones(self.T, bool) if keep_first is True else ~self.first
        return sp.csr_matrix((np.ones(int(keep.sum())), (rows[keep], self.prev[keep])), shape=(self.T, self.T))

    @property
    def w0(self) -> np.ndarray:
        """Snapshot weights without the scenario probability."""
        return self.w / self.prob[self.block]

    @property
    def hours(self) -> float:
        """Hours one block represents (sum of its weights)."""
        return float(self.w0.sum() / self.S)

    def weights(self, probability: bool = True) -> sp.csr_matrix:
        """W (S, T): W[s, t] = w[t] on block s's snapshots (weighted sums per scenario), with
        or without the scenario probability."""
        w = self.w if probability else self.w0
        return sp.csr_matrix((w, (self.block, np.arange(self.T))), shape=(self.S, self.T))


# ------------------------------------------------------------------------ components
@dataclass
class _Component:
    """One component table: which rows are extendable, their capacity variable, fixed capacities."""

    table: str
    df: pd.DataFrame
    ext: np.ndarray            # row positions of extendable assets
    pos: np.ndarray            # row -> position in ``cap`` (-1 for fixed assets)
    cap: Optional[object]      # gridprox Variable (len(ext),) or None
    nominal: np.ndarray        # p_nom / e_nom column (capacity of fixed assets)

    @classmethod
    def build(cls, table: str, df: pd.DataFrame) -> "_Component":
        col = CAPACITY[table]
        extendable = df[f"{col}_extendable"].to_numpy(bool) if len(df) else np.zeros(0, bool)
        ext = np.flatnonzero(extendable)
        pos = np.full(len(df), -1)
        pos[ext] = np.arange(ext.size)
        cap = None
        if ext.size:
            lo = df[f"{col}_min"].to_numpy(float)[ext]
            hi = df[f"{col}_max"].to_numpy(float)[ext]
            cap = gp.Variable(ext.size, name=f"{_SINGULAR[table]}_{col}", bounds=[lo, hi])
        return cls(table, df, ext, pos, cap, df[col].to_numpy(float) if len(df) else np.zeros(0))

    @property
    def names(self) -> pd.Index:
        return self.df.index

    def __len__(self):
        return len(self.df)

    def capacity(self, values: Mapping) -> np.ndarray:
        """Capacities of all rows from solved variable values."""
        out = self.nominal.copy()
        if self.cap is not None:
            out[self.ext] = values[self.cap]
        return out

    def capacity_expr(self, coef: np.ndarray):
        """Σ_rows coef[row] * capacity[row] as an expression (fixed rows give a constant)."""
        const = float(coef[self.pos < 0] @ self.nominal[self.pos < 0]) if len(self) else 0.0
        if self.cap is None or not np.any(coef[self.ext]):
            return gp.Constant(const)
        return coef[self.ext] @ self.cap + const


def _as_list(x) -> list:
    return [x] if isinstance(x, str) else list(x)


# ----------------------------------------------------------------------------- model
class CapacityExpansion:
    """The planning LP of ``system``; see the module docstring for the formulation.

    Time resolution (at most one): ``hours`` (first N snapshots, weights rescaled to the full
    horizon), ``resample`` ("3h": N-hour steps), ``rep_days`` (K representative days by k-means,
    storage cyclic per day).  Policies (``None`` keeps the system's ``policies``): ``co2_cap``
    (t over the horizon), ``co2_price`` (currency/t), ``renewable_share`` (of weighted demand,
    met by ``renewable_carriers``; default: generator carriers without emissions, shedding
    excluded), ``reserve_margin`` (capacity credit at the peak-demand snapshot >= (1 + margin) x
    peak demand), ``ramp_limits`` (use the generators' ramp columns), ``min_build`` /
    ``max_build`` ({carrier: total capacity}).  ``scenario`` applies one of the system's
    scenarios; ``stochastic=True`` builds the two-stage stochastic model over all of them.
    """

    def __init__(self, system: System, hours: Optional[int] = None, resample=None, rep_days: Optional[int] = None,
                 co2_cap: Optional[float] = None, co2_price: Optional[float] = None,
                 renewable_share: Optional[float] = None, reserve_margin: Optional[float] = None,
                 ramp_limits: bool = True, renewable_carriers: Optional[Sequence[str]] = None,
                 min_build: Optional[Mapping[str, float]] = None, max_build: Optional[Mapping[str, float]] = None,
                 scenario: Optional[str] = None, stochastic: bool = False, seed: int = 0):
        if not isinstance(system, System):
            raise TypeError(f"CapacityExpansion expects a gridprox System, got {type(system).__name__}")
        self.options = dict(hours=hours, resample=resample, rep_days=rep_days, co2_cap=co2_cap,
                            co2_price=co2_price, renewable_share=renewable_share, reserve_margin=reserve_margin,
                            ramp_limits=ramp_limits, renewable_carriers=renewable_carriers, min_build=min_build,
                            max_build=max_build, scenario=scenario, stochastic=stochastic, seed=seed)
        self.source = system
        t0 = time.perf_counter()
        base = apply_resolution(system, hours, resample, rep_days, seed=seed)
        if base is system:       # never write our options into the caller's System
            base = system.copy()
        policies = dict(base.meta.get("policies") or {})
        for key in POLICY_INPUTS:
            value = self.options[key]
            if value is not None:
                if not (isinstance(value, (int, float, np.number)) and math.isfinite(value) and value >= 0):
                    raise ValueError(f"{key} must be a non-negative number, got {value!r}")
                policies[key] = float(value)
        base.meta["policies"] = policies
        if stochastic and scenario is not None:
            raise ValueError("choose scenario=NAME (one deterministic scenario) or stochastic=True, not both")
        if stochastic:
            if base.scenarios.empty:
                raise ValueError(f"stochastic=True but system {system.name!r} has no scenarios")
            names = list(base.scenarios.index)
            prob = base.scenarios["weight"].to_numpy(float)
            if not np.isclose(prob.sum(), 1.0):
                raise ValueError(f"scenario weights must sum to 1 for a stochastic model, got {prob.sum():g}")
            self._check_overrides(base, names)
            self.systems = [base.scenario(s) for s in names]
        else:
            names, prob = ["base" if scenario is None else scenario], [1.0]
            if scenario is not None:
                base = base.scenario(scenario)
            self.systems = [base]
        self._own_costs = None       # per-unit costs of self.systems, read once on first refill
        self.system = base
        self.time = _Time.build(base, names, prob)
        self.inputs: dict = {}
        self._build()
        self.build_seconds = time.perf_counter() - t0

    # ---------------------------------------------------------------- structure
    @staticmethod
    def _check_overrides(system: System, names) -> None:
        """Scenario overrides may only touch columns that feed Parameters."""
        ov = system.scenario_overrides
        ov = ov[ov["scenario"].isin(names)]
        for r in ov.itertuples(index=False):
            column = r.name if r.table == "policies" else r.column
            if column not in PARAMETER_COLUMNS.get(r.table, set()):
                raise ModelingError(
                    f"scenario {r.scenario!r} overrides {r.table}.{column} ({r.name}), which changes the LP's "
                    f"structure; scenarios here may change {', '.join(sorted(PARAMETER_COLUMNS[r.table] or {'-'}))}. "
                    f"Build CapacityExpansion(system, scenario={r.scenario!r}) instead")

    def _build(self):
        s, tm = self.system, self.time
        T, S = tm.T, tm.S
        buses = s.buses.index
        self.buses = buses
        self.comp = {t: _Component.build(t, getattr(s, t)) for t in COMPONENTS}
        gen, su, st, lk, ln = (self.comp[t] for t in COMPONENTS)
        self.params: dict = {}
        par = self._param
        P = {}     # this build's Parameters by name
        P["demand"] = par("demand", (T, len(buses)), nonneg=True)
        P["availability"] = par("availability", (T, len(gen)), nonneg=True)
        for t in ("generators", "storage_units", "links"):
            if len(self.comp[t]):
                P[f"{_SINGULAR[t]}_marginal_cost"] = par(f"{_SINGULAR[t]}_marginal_cost", (S, len(self.comp[t])))
        for t in COMPONENTS:
            if self.comp[t].cap is not None:
                P[f"{_SINGULAR[t]}_fixed_cost"] = par(f"{_SINGULAR[t]}_fixed_cost", (len(self.comp[t].ext),),
                                                      nonneg=True)
        self.emission_factor = s.emission_factor().to_numpy(float) if len(gen) else np.zeros(0)
        emits = bool(np.any(self.emission_factor > 0))
        pol = s.policies
        if emits:
            P["co2_price"] = par("co2_price", (S,), nonneg=True)
        if s.voll is not None:
            P["voll"] = par("voll", (), nonneg=True)

        V, C = {}, {}          # variables and named constraints
        cons = []
        W = tm.weights()

        def add(name, constraints):
            constraints = _as_list(constraints) if not isinstance(constraints, list) else constraints
            C[name] = constraints
            cons.extend(constraints)

        # ---- generators
        inj = []               # (T, N) injections into the buses
        if len(gen):
            p = V["generator_p"] = gp.Variable((T, len(gen)), nonneg=True, name="generator_p")
            cols = np.arange(len(gen))
            add("generator_max", self._limit(p, "generators", cols, P["availability"], upper=True))
            pmin = gen.df["p_min_pu"].to_numpy(float)
            if np.any(pmin > 0):
                sel = np.flatnonzero(pmin > 0)
                add("generator_min", self._limit(p[:, sel], "generators", sel,
                                                 np.broadcast_to(pmin[sel], (T, sel.size)), upper=False))
            inj.append(p @ self._incidence(gen.df["bus"]))
            if self.options["ramp_limits"]:
                self._ramps(p, V, add)
        # ---- storage units
        if len(su):
            df = su.df
            sd = V["storage_dispatch"] = gp.Variable((T, len(su)), nonneg=True, name="storage_dispatch")
            sc = V["storage_store"] = gp.Variable((T, len(su)), nonneg=True, name="storage_store")
            soc = V["state_of_charge"] = gp.Variable((T, len(su)), nonneg=True, name="state_of_charge")
            cols, ones = np.arange(len(su)), np.ones((T, len(su)))
            add("storage_dispatch_max", self._limit(sd, "storage_units", cols, ones, upper=True))
            add("storage_store_max", self._limit(sc, "storage_units", cols, ones, upper=True))
            add("state_of_charge_max", self._limit(soc, "storage_units", cols,
                                                   ones * df["max_hours"].to_numpy(float), upper=True))
            prev, init = self._carry(soc, df["standing_loss"], df["cyclic_state_of_charge"],
                                     df["state_of_charge_initial"])
            d = tm.dur[:, None]
            add("state_of_charge", [soc == prev + init
                                    + gp.multiply(d * df["efficiency_store"].to_numpy(float), sc)
                                    - gp.multiply(d / df["efficiency_dispatch"].to_numpy(float), sd)])
            inj.append((sd - sc) @ self._incidence(df["bus"]))
        # ---- stores
        if len(st):
            df = st.df
            e = V["store_e"] = gp.Variable((T, len(st)), nonneg=True, name="store_e")
            add("store_max", self._limit(e, "stores", np.arange(len(st)), np.ones((T, len(st))), upper=True))
            prev, init = self._carry(e, df["standing_loss"], df["e_cyclic"], df["e_initial"])
            inj.append(gp.multiply(1.0 / tm.dur[:, None], prev + init - e) @ self._incidence(df["bus"]))
        # ---- links
        if len(lk):
            df = lk.df
            q = V["link_p"] = gp.Variable((T, len(lk)), name="link_p")
            cols = np.arange(len(lk))
            add("link_max", self._limit(q, "links", cols, np.broadcast_to(df["p_max_pu"].to_numpy(float),
                                                                          (T, len(lk))), upper=True))
            add("link_min", self._limit(q, "links", cols, np.broadcast_to(df["p_min_pu"].to_numpy(float),
                                                                          (T, len(lk))), upper=False))
            eff = df["efficiency"].to_numpy(float)[:, None]
            inj.append(q @ (eff * self._incidence(df["bus1"]) - self._incidence(df["bus0"])))
        # ---- lines (transport model, a flow each way)
        if len(ln):
            df = ln.df
            cols, ones = np.arange(len(ln)), np.ones((T, len(ln)))
            fwd = V["line_forward"] = gp.Variable((T, len(ln)), nonneg=True, name="line_forward")
            bwd = V["line_backward"] = gp.Variable((T, len(ln)), nonneg=True, name="line_backward")
            add("line_forward_max", self._limit(fwd, "lines", cols, ones, upper=True))
            add("line_backward_max", self._limit(bwd, "lines", cols, ones, upper=True))
            eff = df["efficiency"].to_numpy(float)[:, None]
            K0, K1 = self._incidence(df["bus0"]), self._incidence(df["bus1"])
            inj.append(fwd @ (eff * K1 - K0) + bwd @ (eff * K0 - K1))
        # ---- load shedding at VOLL
        self.shed_buses = np.zeros(0, dtype=int)
        if s.voll is not None:
            shed_buses = np.flatnonzero((s.demand.to_numpy(float) > 0).any(axis=0))
            self.shed_buses = shed_buses
            if shed_buses.size:
                u = V["shedding"] = gp.Variable((T, shed_buses.size), nonneg=True, name="shedding")
                add("shedding_max", [u <= P["demand"][:, shed_buses]])
                inj.append(u @ np.eye(len(buses))[shed_buses])
        if not inj:
            raise ModelingError(f"system {s.name!r} has no generators, storage, links or lines")
        balance = inj[0]
        for term in inj[1:]:
            balance = balance + term
        add("balance", [balance == P["demand"]])

        # ---- objective
        cost = []
        for t in COMPONENTS:
            comp = self.comp[t]
            if comp.cap is not None:
                fc = P[f"{_SINGULAR[t]}_fixed_cost"]
                cost.append(fc @ comp.cap)
                existing = comp.nominal[comp.ext]
                if np.any(existing):          # PyPSA subtracts the cost of capacity already there
                    cost.append(-(fc @ existing))
        opex_vars = {"generators": "generator_p", "storage_units": "storage_dispatch", "links": "link_p"}
        for t, vname in opex_vars.items():
            if vname in V:
                cost.append(gp.sum(gp.multiply(W @ V[vname], P[f"{_SINGULAR[t]}_marginal_cost"])))
        W0 = tm.weights(probability=False)
        if emits:
            emissions = (W0 @ V["generator_p"]) @ self.emission_factor      # (S,) tonnes per scenario
            cost.append(gp.multiply(tm.prob, emissions) @ P["co2_price"])
        if "shedding" in V:
            cost.append(P["voll"] * gp.sum(W @ V["shedding"]))
        objective = cost[0]
        for term in cost[1:]:
            objective = objective + term

        # ---- policies (horizon totals are divided by the horizon's hours: per-hour averages keep
        # these rows on the scale of the balances, which matters for PDHG's relative criteria)
        H = tm.hours
        self.row_scale = {"co2_cap": 1.0 / H, "renewable_share": 1.0 / H}
        if pol.get("co2_cap") is not None:
            if not emits:
                raise ModelingError("co2_cap given but no generator emits CO2 (carriers.co2_emissions are all 0)")
            P["co2_cap"] = par("co2_cap", (S,), nonneg=True)
            add("co2_cap", [emissions / H <= P["co2_cap"] / H])
        if pol.get("renewable_share") is not None:
            P["renewable_target"] = par("renewable_target", (S,), nonneg=True)
            re = np.flatnonzero(gen.df["carrier"].isin(self.renewable_carriers()).to_numpy())
            if re.size == 0:
                raise ModelingError(f"renewable_share given but no generator has a renewable carrier "
                                    f"({', '.join(self.renewable_carriers()) or 'none'})")
            add("renewable_share", [gp.sum((W0 @ V["generator_p"])[:, re], axis=1) / H >= P["renewable_target"] / H])
        if pol.get("reserve_margin") is not None:
            P["reserve_requirement"] = par("reserve_requirement", (), nonneg=True)
            add("reserve_margin", [self._firm_capacity(P["availability"]) >= P["reserve_requirement"]])
        for kind, limits in (("min_build", self.options["min_build"]), ("max_build", self.options["max_build"])):
            for carrier, value in (limits or {}).items():
                total = self._carrier_capacity(carrier)
                add(f"{kind}:{carrier}", [total >= value if kind == "min_build" else total <= value])

        self.vars, self.cons, self.params = V, C, P
        self.problem = gp.Problem(gp.Minimize(objective), cons)
        self._base_values = self.values_for({})
        self.set_inputs({})
        self.pp = self.problem.parametric          # compile once

    def _param(self, name, shape, nonneg=False):
        return gp.Parameter(shape, name=name, nonneg=nonneg)

    def _incidence(self, bus_column: pd.Series) -> np.ndarray:
        """(K, N) 0/1 matrix: component k sits at bus n."""
        idx = self.buses.get_indexer(bus_column)
        K = np.zeros((len(idx), len(self.buses)))
        K[np.arange(len(idx)), idx] = 1.0
        return K

    def _limit(self, x, table: str, cols: np.ndarray, coef, upper: bool) -> list:
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

    def _carry(self, level, standing_loss: pd.Series, cyclic: pd.Series, initial: pd.Series):
        """(previous level x standing efficiency, initial-level constant) for storage dynamics:
        cyclic assets wrap within each period, the others start each period from ``initial``."""
        tm = self.time
        decay = (1.0 - standing_loss.to_numpy(float))[None, :] ** tm.dur[:, None]
        cyc = cyclic.to_numpy(bool)
        keep = np.where(tm.first[:, None] & ~cyc[None, :], 0.0, 1.0)
        prev = gp.multiply(decay * keep, tm.shift() @ level)
        init = np.where(tm.first[:, None] & ~cyc[None, :], decay * initial.to_numpy(float)[None, :], 0.0)
        return prev, init

    def _ramps(self, p, V, add):
        gen, tm = self.comp["generators"], self.time
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
            add(f"ramp_{side}", self._limit(change, "generators", sel, coef, upper=True))

    def renewable_carriers(self) -> list:
        """Carriers counted by renewable_share (option, else policies, else emission-free generators)."""
        given = self.options["renewable_carriers"] or self.system.policies.get("renewable_carriers")
        if given:
            return list(given)
        gen = self.system.generators
        clean = gen["carrier"][(self.emission_factor == 0) & (gen["carrier"] != SHEDDING).to_numpy()]
        return sorted(set(clean))

    def _peak(self, demand: np.ndarray) -> int:
        return int(np.argmax(demand.sum(axis=1)))

    def _firm_capacity(self, availability):
        """Capacity credit: generators at their availability in the peak-demand snapshot (the
        availability Parameter, so swept profiles move it; shedding excluded), storage units at
        full power, links into demand buses at efficiency."""
        s = self.system
        gen, su, lk = self.comp["generators"], self.comp["storage_units"], self.comp["links"]
        peak = self._peak(s.demand.to_numpy(float))
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

    def _carrier_capacity(self, carrier: str):
        found = [t for t in COMPONENTS if t != "lines" and (self.comp[t].df["carrier"] == carrier).any()]
        if not found:
            raise ModelingError(f"min/max build: no component has carrier {carrier!r}")
        total = None
        for t in found:
            expr = self.comp[t].capacity_expr((self.comp[t].df["carrier"] == carrier).to_numpy(float))
            total = expr if total is None else total + expr
        return total

    # ---------------------------------------------------------------- parameters
    def sweepable(self) -> list:
        """Names ``sweep`` accepts: policies, ``demand_scale``, ``voll``, ``<carrier>_capex``
        (overnight cost where the data give one, else annualised capital cost, currency per unit
        of capacity), ``<carrier>_price`` (fuel, currency/MWh_th), ``<carrier>_marginal_cost``
        (currency/MWh), ``<carrier>_availability_scale`` (multiplies that carrier's generator
        profiles: a windier or duller year), and ``scenario`` for systems with scenarios
        (deterministic models).  Carrier names use ``_`` for spaces; every value is >= 0."""
        names = getattr(self, "_sweepable", None)     # fixed by the system: found once (each
        if names is None:                             # sweep scenario asks twice, ~1.3 ms a call)
            names = self._sweepable = self._find_sweepable()
        return list(names)

    def _find_sweepable(self) -> list:
        s = self.system
        names = ["demand_scale"]
        if np.any(self.emission_factor > 0):
            names += ["co2_cap", "co2_price"]
        names += ["renewable_share", "reserve_margin"]
        if s.voll is not None:
            names.append("voll")
        if not self.options["stochastic"] and not s.scenarios.empty:
            names.append("scenario")
        gen = s.generators
        names += [f"{_key(c)}_price" for c in sorted(set(gen.loc[gen["fuel_cost"] > 0, "carrier"]))]
        for t in ("generators", "storage_units", "links"):
            names += [f"{_key(c)}_marginal_cost" for c in sorted(set(getattr(s, t)["carrier"])) if c]
        for t in COMPONENTS:
            comp = self.comp[t]
            names += [f"{_key(c)}_capex" for c in sorted(set(comp.df["carrier"].iloc[comp.ext])) if c]
        names += [f"{_key(c)}_availability_scale" for c in sorted(set(gen["carrier"])) if c and c != SHEDDING]
        return list(dict.fromkeys(names))

    def _apply_inputs(self, inputs: Mapping):
        """Systems (one per block) and the demand scale with ``inputs`` applied."""
        systems = self.systems
        known = set(self.sweepable())
        scale = 1.0
        edits = []
        for name, value in inputs.items():
            if name not in known:
                raise KeyError(f"unknown input {name!r}; sweepable: {', '.join(sorted(known))}")
            if name == "scenario":
                self._check_overrides(self.system, [value])
                base = apply_resolution(self.source, self.options["hours"], self.options["resample"],
                                        self.options["rep_days"], seed=self.options["seed"])
                base = base.copy() if base is self.source else base
                base.meta["policies"] = dict(self.system.meta["policies"])
                systems = [base.scenario(str(value))]
            elif name == "demand_scale":
                scale = _number(name, value)
                if scale < 0:
                    raise ValueError(f"input 'demand_scale' must be non-negative, got {value!r}")
            else:
                edits.append((name, _number(name, value)))
        if edits:
            meta_only = all(name in _META_INPUTS for name, _ in edits)
            systems = [_with_own_meta(s) if meta_only else s.copy() for s in systems]
            for s in systems:
                for name, value in edits:
                    _edit(s, name, value)
        return systems, scale

    def values_for(self, inputs: Mapping) -> dict:
        """{Parameter: value} for named inputs (see ``sweepable``); the rest keep the data's values."""
        systems, scale = self._apply_inputs(inputs)
        for name in POLICY_ROWS:
            wanted = [s.policies.get(name) is not None for s in systems]
            key = {"co2_cap": "co2_cap", "renewable_share": "renewable_target",
                   "reserve_margin": "reserve_requirement"}[name]
            if any(wanted) and key not in self.params:
                raise _NeedsRebuild(name)
            if key in self.params and not all(wanted):
                raise ModelingError(f"this model has a {name} constraint; every scenario needs a {name} value")
        return {self.params[k]: v for k, v in self._values(systems, scale).items() if k in self.params}

    def _costs(self, system: System) -> dict:
        """Per-unit costs and profiles read off a system's tables.  A system that shares its
        tables with one of this model's own (an input that changed only a policy, as in most
        sweeps) reuses that one's, computed once: a refill then costs no pandas work."""
        if self._own_costs is None:
            self._own_costs = [(s, _read_costs(s)) for s in self.systems]
        for base, costs in self._own_costs:
            if all(getattr(system, t) is getattr(base, t) for t in (*COMPONENTS, "demand", "availability")):
                return costs
        return _read_costs(system)

    def _values(self, systems: list, scale: float) -> dict:
        tm = self.time
        S = tm.S
        costs = [self._costs(s) for s in systems]
        demand = np.tile(costs[0]["demand"] * scale, (S, 1))
        out = {"demand": demand, "availability": np.tile(costs[0]["availability"], (S, 1))}
        for key in ("generator_marginal_cost", "storage_unit_marginal_cost", "link_marginal_cost"):
            if key in costs[0]:
                out[key] = np.stack([c[key] for c in costs])
        for t in COMPONENTS:
            ext = self.comp[t].ext
            if ext.size:
                key = f"{_SINGULAR[t]}_fixed_cost"
                out[key] = sum(p * c[key][ext] for p, c in zip(tm.prob, costs))
        s0 = systems[0]
        pol = [s.policies for s in systems]
        out["co2_price"] = np.array([p.get("co2_price") or 0.0 for p in pol])
        out["co2_cap"] = np.array([p.get("co2_cap") if p.get("co2_cap") is not None else np.nan for p in pol])
        if s0.voll is not None:
            out["voll"] = np.array(float(s0.voll))
        weighted = np.bincount(tm.block, weights=tm.w0 * demand.sum(axis=1), minlength=S)
        out["renewable_target"] = np.array([(p.get("renewable_share") or 0.0) for p in pol]) * weighted
        margin = max((p.get("reserve_margin") or 0.0) for p in pol)
        out["reserve_requirement"] = np.array((1.0 + margin) * demand.sum(axis=1).max())
        return out

    def set_inputs(self, inputs: Mapping) -> "CapacityExpansion":
        """Set the Parameters for named inputs (e.g. ``{"co2_cap": 1e6}``); ``solve`` uses them."""
        for p, v in self.values_for(inputs).items():
            p.value = v
        self.inputs = dict(inputs)
        return self

    def parameter(self, name: str):
        """The gridprox Parameter called ``name`` (see ``self.params``)."""
        if name not in self.params:
            raise KeyError(f"no Parameter {name!r}; parameters: {', '.join(self.params)}")
        return self.params[name]

    def dual(self, name: str, result, lp) -> list:
        """Duals of the constraints called ``name`` in HiGHS's convention (d objective / d right-hand
        side; a balance's dual is weight x price), one array per constraint, shaped like it."""
        y = np.asarray(result.y, dtype=float)
        z = None if result.z is None else np.asarray(result.z, dtype=float)
        out = []
        for con in self.cons[name]:
            if con.id in self.pp.row_maps:
                start, size = self.pp.row_maps[con.id]
                dual = y[start:start + size]
            else:
                if z is None:
                    z = lp.c - lp.A.T @ y
                dual = -self.pp.bound_maps[con.id].dual(z)
            out.append(dual.reshape(con.shape) * self.row_scale.get(name, 1.0))
        return out

    def describe(self) -> dict:
        """Sizes for the CLI: zones, snapshots, technologies, description, LP shape."""
        info = self.system.describe()
        m, n = self.pp.shape
        return {"zones": info["zones"], "snapshots": self.time.T, "technologies": info["technologies"],
                "description": info["description"], "variables": n, "constraints": m,
                "nonzeros": int(self.pp.A.nnz)}

    # ---------------------------------------------------------------- solving
    def lp(self, inputs: Optional[Mapping] = None):
        """The LinearProgram at the current inputs (or ``inputs`` on top of the data)."""
        if inputs is None:
            return self.pp.lp()
        return self.pp.lp(self.values_for(inputs))

    def batch(self, scenarios: Sequence[Mapping]):
        """One batched LinearProgram for a list of input dicts (A shared where it does not vary)."""
        lp = self.pp.batch([self.values_for(s) for s in scenarios])
        if lp.A_values is not None and np.array_equal(lp.A_values, np.broadcast_to(lp.A_values[:1], lp.A_values.shape)):
            from dataclasses import replace
            lp = replace(lp, A=sp.csr_matrix((lp.A_values[0].copy(), lp.A.indices, lp.A.indptr), shape=lp.A.shape),
                         A_values=None)
        return lp

    def solve(self, solver: str = "pdhg", tol: float = 1e-4, device="auto", inputs: Optional[Mapping] = None,
              **solver_opts):
        """Solve and return a PlanningResult.  ``tol`` is PDHG's relative KKT tolerance; HiGHS,
        Gurobi and cvxpy keep their own (tighter) defaults unless given in ``solver_opts``."""
        from ..solvers import solve_lp
        from .results import planning_result

        if inputs is not None:
            model = self._model_for([inputs])
            if model is not self:  # a policy row these inputs need is missing: solve a sibling with it
                return model.solve(solver, tol, device, inputs, **solver_opts)
            self.set_inputs(inputs)
        lp = self.pp.lp()
        res = solve_lp(lp, solver=solver, **_solver_options(solver, tol, device, solver_opts))
        return planning_result(self, res, lp, self.inputs)

    def sweep(self, spec, product: bool = True, batch_size: int = 16, out=None, executor=None,
              progress: bool = True, solver: str = "pdhg", tol: float = 1e-4, device="auto",
              warm_start: bool = True, resume: bool = True, **solver_opts) -> pd.DataFrame:
        """Solve every scenario of ``spec`` (``{"co2_cap": [...], ...}`` or a list of dicts);
        one row per scenario: inputs, status, objective, ``cap_{zone}/{technology}``,
        total_emissions_t, residuals, message.  Compiled once; PDHG iterates ``batch_size``
        scenarios at once, streaming blocks of neighbouring scenarios (``stream_plan``): as
        one finishes, the waiting one nearest to it enters, started from the solved ones
        near it; HiGHS solves the scenarios in that order in one instance, each from the
        last one's basis (where a scenario's optimum is not unique, that may be another
        optimal vertex than a cold solve finds: same objective, other capacities);
        results are written to ``out`` as blocks finish and a rerun resumes
        (``gridprox.sweep.run_sweep``)."""
        from ..sweep import expand, run_sweep

        scenarios = expand(spec, product=product)
        model = self._model_for(scenarios)
        solve_batch = SweepBatch(model, solver=solver, tol=tol, device=device, warm_start=warm_start,
                                 solver_opts=solver_opts, width=batch_size)
        plan = None
        if warm_start and solver == "pdhg":
            plan = stream_plan(scenarios, batch_size)
        elif warm_start and solver == "highs":           # sorted, so neighbours follow each other
            plan = stream_plan(scenarios, batch_size, waves=1)
        return run_sweep(solve_batch, scenarios, batch_size=batch_size, executor=executor, out=out,
                         resume=resume, progress=progress, plan=plan)

    def _model_for(self, scenarios: Sequence[Mapping]) -> "CapacityExpansion":
        """This model, or a sibling with the policy rows the scenarios need."""
        extra = {}
        for sc in scenarios:
            try:
                self.values_for(sc)
            except _NeedsRebuild as need:
                name = need.args[0]
                if name in sc:
                    extra.setdefault(name, float(sc[name]))
                else:
                    systems, _ = self._apply_inputs(sc)
                    extra.setdefault(name, float(systems[0].policies[name]))
        if not extra:
            return self
        return CapacityExpansion(self.source, **{**self.options, **extra})

    def verify(self, tol: float = 1e-4, device="auto", gurobi_max_size: int = 2000) -> dict:
        """Solve with PDHG and HiGHS (and Gurobi when the LP is small enough for its size-limited
        licence); compare objectives and residuals.  passed: PDHG optimal and within ``tol``."""
        from ..solvers import solve_lp

        lp = self.pp.lp()
        m, n = lp.A.shape
        lines = [f"{self.system.name}: {n} variables, {m} constraints, {lp.A.nnz} nonzeros, {self.time.T} snapshots"]
        runs = {"pdhg": dict(tol=tol, device=device), "highs": {}}
        if max(m, n) <= gurobi_max_size:
            runs["gurobi"] = {}
        results = {}
        for name, opts in runs.items():
            try:
                results[name] = solve_lp(lp, solver=name, **opts)
            except Exception as exc:  # noqa: BLE001 - a missing optional solver is a line, not a crash
                lines.append(f"{name:<7} not run: {' '.join(str(exc).split())}")
        ref = results.get("highs")
        passed = ref is not None and ref.status == "optimal" and "pdhg" in results
        for name, r in results.items():
            gap = abs(r.objective - ref.objective) / max(1.0, abs(ref.objective)) if ref is not None else math.nan
            res = r.residuals
            lines.append(f"{name:<7} {r.status:<20} objective {r.objective:,.6f}  rel. gap to HiGHS {gap:.2e}  "
                         f"residuals primal {res.get('primal', math.nan):.1e} dual {res.get('dual', math.nan):.1e} "
                         f"gap {res.get('gap', math.nan):.1e}  {r.seconds:.2f} s")
            if name == "pdhg":
                passed = passed and r.status == "optimal" and gap <= tol
        return {"passed": bool(passed), "lines": lines, "results": results}

    def __repr__(self) -> str:
        m, n = self.pp.shape
        return (f"CapacityExpansion({self.system.name!r}: {self.time.T} snapshots, {len(self.buses)} buses, "
                f"{n} variables, {m} constraints)")


class _NeedsRebuild(ModelingError):
    """An input needs a policy row this model was built without (``args[0]``: the policy);
    ``sweep`` catches it and builds the sibling model once."""

    def __str__(self) -> str:
        name = self.args[0]
        return (f"this model was built without a {name} constraint, so input {name!r} has no Parameter to "
                f"fill; build CapacityExpansion(system, {name}=...) (sweep does this by itself)")


def _key(carrier: str) -> str:
    return str(carrier).replace(" ", "_")


def _number(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"input {name!r} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"input {name!r} must be finite, got {value!r}")
    return v


def _read_costs(system: System) -> dict:
    out = {"demand": system.demand.to_numpy(float), "availability": system.availability.to_numpy(float)}
    if len(system.generators):
        out["generator_marginal_cost"] = system.marginal_cost().to_numpy(float)
    for t in ("storage_units", "links"):
        if len(getattr(system, t)):
            out[f"{_SINGULAR[t]}_marginal_cost"] = getattr(system, t)["marginal_cost"].to_numpy(float)
    for t in COMPONENTS:
        out[f"{_SINGULAR[t]}_fixed_cost"] = system.fixed_cost(t).to_numpy(float)
    return out


_META_INPUTS = frozenset((*POLICY_INPUTS, "voll"))     # inputs that edit System.meta only


def _with_own_meta(system: System) -> System:
    """A System sharing ``system``'s tables (never edited by meta-only inputs) with its own meta."""
    out = copy.copy(system)
    out.meta = copy.deepcopy(system.meta)
    return out


def _edit(system: System, name: str, value: float) -> None:
    """Apply one named input to a System copy (tables, profiles or policies)."""
    if value < 0:
        raise ValueError(f"input {name!r} must be non-negative, got {value}")
    if name in POLICY_INPUTS:
        system.meta.setdefault("policies", {})[name] = value
        return
    if name.endswith("_availability_scale"):
        carrier = name[: -len("_availability_scale")]
        gens = system.generators.index[system.generators["carrier"].map(_key) == carrier]
        system.availability[gens] = system.availability[gens] * value
        return
    if name == "voll":
        system.meta["voll"] = value
        return
    for suffix, tables in (("_price", ("generators",)), ("_marginal_cost", ("generators", "storage_units", "links")),
                           ("_capex", COMPONENTS)):
        if not name.endswith(suffix):
            continue
        carrier = name[: -len(suffix)]
        for t in tables:
            df = getattr(system, t)
            rows = df["carrier"].map(_key) == carrier
            if not rows.any():
                continue
            if suffix == "_price":
                df.loc[rows, "fuel_cost"] = value
            elif suffix == "_marginal_cost":
                df.loc[rows, "marginal_cost"] = value
            else:
                overnight = rows & df["overnight_cost"].notna()
                df.loc[overnight, "overnight_cost"] = value
                df.loc[rows & ~overnight, "capital_cost"] = value
        return
    raise KeyError(name)


def _solver_options(solver: str, tol: float, device, opts: dict) -> dict:
    if solver == "pdhg":
        return {"tol": tol, "device": device, **opts}
    return dict(opts)


# ---------------------------------------------------------------------------- sweeps
_MODEL_CACHE: dict = {}


class SweepBatch:
    """The picklable batch solver ``run_sweep`` calls: inputs -> one row per scenario.

    It carries the source System and the model options; in another process (a Dask worker)
    the model is rebuilt once and cached, in this process the given model is used as is.
    PDHG streams a batch through ``width`` columns (warm-started, from the scenarios solved
    before in this process and in the batch, unless ``warm_start=False``: then the batch is
    one plain cold batch); other solvers go scenario by scenario, HiGHS in one instance
    that starts each scenario from the last one's basis (``HighsSession``) unless
    ``warm_start=False``."""

    def __init__(self, model: CapacityExpansion, solver="pdhg", tol=1e-4, device="auto", warm_start=True,
                 solver_opts=None, width=None):
        self.source, self.options = model.source, dict(model.options)
        self.solver, self.tol, self.device = solver, tol, device
        self.warm_start, self.solver_opts, self.width = warm_start, dict(solver_opts or {}), width
        self._model = model
        self._key = f"{id(self)}-{time.time_ns()}"
        self._solved = WarmStarts()
        self._session = None          # the HighsSession of this process (solver "highs")

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_model"], state["_solved"], state["_session"] = None, WarmStarts(), None
        return state

    def model(self) -> CapacityExpansion:
        if self._model is None:
            if self._key not in _MODEL_CACHE:
                _MODEL_CACHE.clear()
                _MODEL_CACHE[self._key] = CapacityExpansion(self.source, **self.options)
            self._model = _MODEL_CACHE[self._key]
        return self._model

    reports_progress = True      # run_sweep passes progress=: scenarios count as they finish

    def __call__(self, scenarios: list, progress=None) -> list:
        from ..solvers import solve_lp, solve_lp_sequence
        from ..solvers.highs import HighsSession
        from .results import sweep_row

        model = self.model()
        opts = _solver_options(self.solver, self.tol, self.device, self.solver_opts)
        if self.solver != "pdhg":
            lps = [model.lp(s) for s in scenarios]
            hot = self.solver == "highs" and self.warm_start
            if hot and self._session is None:
                self._session = HighsSession(**opts)
            results = []
            for one in lps:
                results += (solve_lp_sequence([one], "highs", session=self._session) if hot
                            else [solve_lp(one, solver=self.solver, **opts)])
                if progress is not None:
                    progress(1)
            return [sweep_row(model, r, one) for r, one in zip(results, lps)]
        if progress is not None:
            opts["on_finish"] = progress
        lp = model.batch(scenarios)
        if self.warm_start:
            if self._solved:
                # the first scenarios of the stream start from the nearest solved before, x and
                # y only (a neighbour's final primal weight measured worse than the default
                # there: 4 neighbouring caps, three-country, f32: 3264/3840/1920/4416 iterations
                # from (x, y), 15296/3840/1664/10560 with the weight carried, 12-14k cold)
                starts = [self._solved.nearest(sc) for sc in scenarios]
                opts["warm_start"] = (np.stack([r.x for r in starts]), np.stack([r.y for r in starts]))
            if self.width is not None and len(scenarios) > 1:
                opts.update(width=self.width, coordinates=coordinates(scenarios))
        results = solve_lp(lp, solver="pdhg", **opts)
        lps = list(lp.scenarios())
        self._solved.add(scenarios, results)
        return [sweep_row(model, r, one) for r, one in zip(results, lps)]
