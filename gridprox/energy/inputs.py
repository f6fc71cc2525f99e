"""Named model inputs: ``{"co2_cap": 1e6, "gas_price": 40, "wind_capex": 9e5, ...}`` edit a copy of
the System and become values of the model's Parameters, so a new input value never recompiles.

A name is a policy, ``demand_scale``, ``voll``, ``scenario`` or a carrier (spaces as ``_``) with a
suffix: ``_capex``, ``_price`` (fuel), ``_marginal_cost`` or ``_availability_scale``."""
from __future__ import annotations

import copy
import math
from typing import Mapping

import numpy as np

from ..errors import ModelingError
from .builders import SHEDDING
from .results import SINGULAR
from .system import COMPONENTS, System
from .timeseries import apply_resolution

POLICY_INPUTS = ("co2_cap", "co2_price", "renewable_share", "reserve_margin")   # system.yaml policies
POLICY_ROWS = {"co2_cap": "co2_cap", "renewable_share": "renewable_target",      # policy -> Parameter of
               "reserve_margin": "reserve_requirement"}                           # the constraint it adds
# columns a scenario may change without changing the LP's structure (they only feed Parameters)
_COST_COLUMNS = {"capital_cost", "overnight_cost", "fom_cost", "lifetime"}
PARAMETER_COLUMNS = {
    "generators": _COST_COLUMNS | {"marginal_cost", "fuel_cost"},
    "storage_units": _COST_COLUMNS | {"marginal_cost"},
    "stores": set(_COST_COLUMNS),
    "links": _COST_COLUMNS | {"marginal_cost"},
    "lines": set(_COST_COLUMNS),
    "carriers": set(),
    "policies": set(POLICY_INPUTS),
}
_META_INPUTS = frozenset((*POLICY_INPUTS, "voll"))     # inputs that edit System.meta only
_SUFFIXES = (("_price", ("generators",)), ("_marginal_cost", ("generators", "storage_units", "links")),
             ("_capex", COMPONENTS))


class InputEditor:
    """The named inputs of one built model: which exist, the Systems they make, their Parameter values."""

    def __init__(self, model):
        self.model = model
        self._names = None          # fixed by the system: found once
        self._own_costs = None      # per-unit costs of the model's own systems, read on first refill

    def names(self) -> list:
        if self._names is None:
            self._names = self._find_names()
        return list(self._names)

    def _find_names(self) -> list:
        m = self.model
        s, gen = m.system, m.system.generators
        names = ["demand_scale"]
        if np.any(m.emission_factor > 0):
            names += ["co2_cap", "co2_price"]
        names += ["renewable_share", "reserve_margin"]
        if s.voll is not None:
            names.append("voll")
        if not m.options["stochastic"] and not s.scenarios.empty:
            names.append("scenario")
        names += [f"{key(c)}_price" for c in sorted(set(gen.loc[gen["fuel_cost"] > 0, "carrier"]))]
        for t in ("generators", "storage_units", "links"):
            names += [f"{key(c)}_marginal_cost" for c in sorted(set(getattr(s, t)["carrier"])) if c]
        for t in COMPONENTS:
            comp = m.comp[t]
            names += [f"{key(c)}_capex" for c in sorted(set(comp.df["carrier"].iloc[comp.ext])) if c]
        names += [f"{key(c)}_availability_scale" for c in sorted(set(gen["carrier"])) if c and c != SHEDDING]
        return list(dict.fromkeys(names))

    def apply(self, inputs: Mapping):
        """Systems (one per block) and the demand scale with ``inputs`` applied."""
        m = self.model
        systems, scale, edits = m.systems, 1.0, []
        known = set(self.names())
        for name, value in inputs.items():
            if name not in known:
                raise KeyError(f"unknown input {name!r}; sweepable: {', '.join(sorted(known))}")
            if name == "scenario":
                systems = [self._scenario(str(value))]
            elif name == "demand_scale":
                scale = number(name, value)
                if scale < 0:
                    raise ValueError(f"input 'demand_scale' must be non-negative, got {value!r}")
            else:
                edits.append((name, number(name, value)))
        if edits:
            meta_only = all(name in _META_INPUTS for name, _ in edits)
            systems = [with_own_meta(s) if meta_only else s.copy() for s in systems]
            for s in systems:
                for name, value in edits:
                    edit(s, name, value)
        return systems, scale

    def _scenario(self, name: str) -> System:
        """The source system at the model's resolution and policies, with scenario ``name`` applied."""
        m, opts = self.model, self.model.options
        check_overrides(m.system, [name])
        base = apply_resolution(m.source, opts["hours"], opts["resample"], opts["rep_days"], seed=opts["seed"])
        base = base.copy() if base is m.source else base
        base.meta["policies"] = dict(m.system.meta["policies"])
        return base.scenario(name)

    def missing_rows(self, systems: list) -> list:
        """Policies these systems set for which the model has no constraint (a sibling model built
        with them can take these inputs); a constraint that some system leaves unset is an error."""
        missing = []
        for policy, param in POLICY_ROWS.items():
            wanted = [s.policies.get(policy) is not None for s in systems]
            if any(wanted) and param not in self.model.params:
                missing.append(policy)
            if param in self.model.params and not all(wanted):
                raise ModelingError(f"this model has a {policy} constraint; every scenario needs a {policy} value")
        return missing

    def values(self, inputs: Mapping) -> dict:
        """{Parameter: value} for named inputs; the rest keep the data's values."""
        systems, scale = self.apply(inputs)
        missing = self.missing_rows(systems)
        if missing:
            name = missing[0]
            raise ModelingError(f"this model was built without a {name} constraint, so input {name!r} has no "
                                f"Parameter to fill; build CapacityExpansion(system, {name}=...) (sweep does this "
                                f"by itself)")
        params = self.model.params
        return {params[k]: v for k, v in self._values(systems, scale).items() if k in params}

    def _costs(self, system: System) -> dict:
        """Per-unit costs and profiles of a system.  One that shares its tables with one of the
        model's own (an input that changed only a policy, as in most sweeps) reuses that one's."""
        if self._own_costs is None:
            self._own_costs = [(s, read_costs(s)) for s in self.model.systems]
        for base, costs in self._own_costs:
            if all(getattr(system, t) is getattr(base, t) for t in (*COMPONENTS, "demand", "availability")):
                return costs
        return read_costs(system)

    def _values(self, systems: list, scale: float) -> dict:
        m, tm = self.model, self.model.time
        S = tm.S
        costs = [self._costs(s) for s in systems]
        demand = np.tile(costs[0]["demand"] * scale, (S, 1))
        out = {"demand": demand, "availability": np.tile(costs[0]["availability"], (S, 1))}
        for name in ("generator_marginal_cost", "storage_unit_marginal_cost", "link_marginal_cost"):
            if name in costs[0]:
                out[name] = np.stack([c[name] for c in costs])
        for t in COMPONENTS:
            ext = m.comp[t].ext
            if ext.size:
                name = f"{SINGULAR[t]}_fixed_cost"
                out[name] = sum(p * c[name][ext] for p, c in zip(tm.prob, costs))
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


def check_overrides(system: System, names) -> None:
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


def key(carrier: str) -> str:
    """A carrier's name in input names."""
    return str(carrier).replace(" ", "_")


def number(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"input {name!r} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"input {name!r} must be finite, got {value!r}")
    return v


def read_costs(system: System) -> dict:
    out = {"demand": system.demand.to_numpy(float), "availability": system.availability.to_numpy(float)}
    if len(system.generators):
        out["generator_marginal_cost"] = system.marginal_cost().to_numpy(float)
    for t in ("storage_units", "links"):
        if len(getattr(system, t)):
            out[f"{SINGULAR[t]}_marginal_cost"] = getattr(system, t)["marginal_cost"].to_numpy(float)
    for t in COMPONENTS:
        out[f"{SINGULAR[t]}_fixed_cost"] = system.fixed_cost(t).to_numpy(float)
    return out


def with_own_meta(system: System) -> System:
    """A System sharing ``system``'s tables (never edited by meta-only inputs) with its own meta."""
    out = copy.copy(system)
    out.meta = copy.deepcopy(system.meta)
    return out


def edit(system: System, name: str, value: float) -> None:
    """Apply one named input to a System copy (tables, profiles or policies)."""
    if value < 0:
        raise ValueError(f"input {name!r} must be non-negative, got {value}")
    if name in POLICY_INPUTS:
        system.meta.setdefault("policies", {})[name] = value
    elif name == "voll":
        system.meta["voll"] = value
    elif name.endswith("_availability_scale"):
        carrier = name[: -len("_availability_scale")]
        gens = system.generators.index[system.generators["carrier"].map(key) == carrier]
        system.availability[gens] = system.availability[gens] * value
    else:
        for suffix, tables in _SUFFIXES:
            if name.endswith(suffix):
                return _edit_costs(system, name[: -len(suffix)], suffix, tables, value)
        raise KeyError(name)


def _edit_costs(system: System, carrier: str, suffix: str, tables, value: float) -> None:
    for t in tables:
        df = getattr(system, t)
        rows = df["carrier"].map(key) == carrier
        if not rows.any():
            continue
        if suffix == "_price":
            df.loc[rows, "fuel_cost"] = value
        elif suffix == "_marginal_cost":
            df.loc[rows, "marginal_cost"] = value
        else:       # capex: the overnight cost where the data give one, else the annualised one
            overnight = rows & df["overnight_cost"].notna()
            df.loc[overnight, "overnight_cost"] = value
            df.loc[rows & ~overnight, "capital_cost"] = value
