"""Results shaped as PyPSA users read them: static tables indexed by component name
(``result.generators.p_nom_opt``) and time series as wide frames indexed by snapshot with one
column per component (``result.generators_t.p``), index names as PyPSA's, units in ``attrs``.

Names follow PyPSA: ``p_nom_opt`` (MW) for generators, storage units and links, ``e_nom_opt``
(MWh) for stores, ``s_nom_opt`` (MW) for lines; ``p`` is power injected into the bus (generators,
storage units, stores), ``p0``/``p1`` power withdrawn at a link's or line's bus0 / bus1 (so
``p1`` is negative where power arrives), ``marginal_price`` the bus price in currency/MWh.
A stochastic model's time index is (scenario, snapshot)."""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd

from .results import snap
from .system import CAPACITY

# PyPSA's class name of each table: the index name of its static and time-series frames
COMPONENT = {"buses": "Bus", "generators": "Generator", "storage_units": "StorageUnit", "stores": "Store",
             "links": "Link", "lines": "Line", "loads": "Load"}
OPT = {"generators": "p_nom_opt", "storage_units": "p_nom_opt", "stores": "e_nom_opt", "links": "p_nom_opt",
       "lines": "s_nom_opt"}
STATIC_COLUMNS = {"generators": ["bus", "carrier"], "storage_units": ["bus", "carrier", "max_hours"],
                  "stores": ["bus", "carrier"], "links": ["bus0", "bus1", "carrier", "efficiency"],
                  "lines": ["bus0", "bus1", "carrier"]}


class Series(dict):
    """A component's time series by attribute, readable as attributes (``generators_t.p``), as
    PyPSA's ``n.generators_t``."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no time series {name!r}; available: {', '.join(self) or 'none'}") from None

    def __repr__(self) -> str:
        return f"Series({', '.join(f'{k}: {v.shape[0]}x{v.shape[1]}' for k, v in self.items())})"


def _time_index(tm) -> pd.Index:
    if tm.S > 1:
        return pd.MultiIndex.from_arrays([np.asarray(tm.blocks, dtype=object)[tm.block],
                                          np.tile(tm.index.to_numpy(), tm.S)], names=["scenario", "snapshot"])
    return pd.DatetimeIndex(tm.index, name="snapshot")


def _wide(data, index, names, component: str, unit: str, error: float = 0.0) -> pd.DataFrame:
    # derived series (a store's injection from its level's steps) carry rounding: snapped to zero
    df = pd.DataFrame(snap(data, error), index=index, columns=pd.Index(list(map(str, names)), name=component))
    df.attrs["unit"] = unit
    return df


def _static(table: str, comp, values) -> pd.DataFrame:
    df = comp.df
    cols = [c for c in STATIC_COLUMNS[table] if c in df]
    out = df[cols].copy()
    out.index = pd.Index(df.index.astype(str), name=COMPONENT[table])
    nominal = CAPACITY[table]
    out[f"{nominal}_extendable"] = df[f"{nominal}_extendable"].to_numpy(bool)
    out[OPT[table]] = comp.capacity(values) + 0.0
    unit = "MWh" if table == "stores" else "MW"
    out.attrs["units"] = {OPT[table]: unit, **({"max_hours": "h"} if "max_hours" in cols else {})}
    return out


def component_tables(model, values: Mapping, prices: np.ndarray, currency: str, error: float = 0.0) -> dict:
    """{"generators": static frame, "generators_t": Series, ...} for the solved ``values``
    (``prices``: (T, buses) in currency/MWh, already divided by the snapshot weight; ``error``:
    the answer's relative accuracy, within which derived series are reported as zero)."""
    tm, V, comp = model.time, model.vars, model.comp
    index = _time_index(tm)
    wide = lambda data, names, component, unit: _wide(data, index, names, component, unit, error)  # noqa: E731
    out: dict = {}
    for table, c in comp.items():
        out[table] = _static(table, c, values)
        out[f"{table}_t"] = Series()
    name = lambda table: comp[table].df.index  # noqa: E731
    if "generator_p" in V:
        out["generators_t"]["p"] = wide(values[V["generator_p"]], name("generators"), "Generator", "MW")
    if "storage_dispatch" in V:
        sd, sc = values[V["storage_dispatch"]], values[V["storage_store"]]
        ts = out["storage_units_t"]
        ts["p"] = wide(sd - sc, name("storage_units"), "StorageUnit", "MW")
        ts["p_dispatch"] = wide(sd, name("storage_units"), "StorageUnit", "MW")
        ts["p_store"] = wide(sc, name("storage_units"), "StorageUnit", "MW")
        ts["state_of_charge"] = wide(values[V["state_of_charge"]], name("storage_units"), "StorageUnit",
                                      "MWh")
    if "store_e" in V:
        out["stores_t"]["e"] = wide(values[V["store_e"]], name("stores"), "Store", "MWh")
        out["stores_t"]["p"] = wide(store_injection(model, values), name("stores"), "Store", "MW")
    if "link_p" in V:
        df, q = comp["links"].df, values[V["link_p"]]
        lt = out["links_t"]
        lt["p0"] = wide(q, name("links"), "Link", "MW")
        lt["p1"] = wide(-q * df["efficiency"].to_numpy(float), name("links"), "Link", "MW")
        for k in range(2, 10):   # multi-port links: p2, ... for the links with a bus2, ... (as PyPSA)
            if f"bus{k}" in df and f"efficiency{k}" in df:
                has = (df[f"bus{k}"].fillna("").astype(str) != "").to_numpy()
                if has.any():
                    lt[f"p{k}"] = wide(-q[:, has] * df[f"efficiency{k}"].to_numpy(float)[has], name("links")[has],
                                       "Link", "MW")
    if "line_forward" in V:
        df = comp["lines"].df
        fwd, bwd = values[V["line_forward"]], values[V["line_backward"]]
        eff = df["efficiency"].to_numpy(float) if "efficiency" in df else np.ones(len(df))
        out["lines_t"]["p0"] = wide(fwd - eff * bwd, name("lines"), "Line", "MW")
        out["lines_t"]["p1"] = wide(bwd - eff * fwd, name("lines"), "Line", "MW")
    elif "line_p" in V:     # a linearised power flow: one signed flow, lossless
        p = values[V["line_p"]]
        out["lines_t"]["p0"] = wide(p, name("lines"), "Line", "MW")
        out["lines_t"]["p1"] = wide(-p, name("lines"), "Line", "MW")
    buses = model.buses
    bt = out["buses_t"] = Series()
    bt["marginal_price"] = wide(prices, buses, "Bus", f"{currency}/MWh")
    if "shedding" in V:
        shed = np.zeros((tm.T, len(buses)))
        shed[:, model.shed_buses] = values[V["shedding"]]
        bt["load_shedding"] = wide(shed, buses, "Bus", "MW")
    demand = np.asarray(model.params["demand"].value, dtype=float)
    loaded = np.flatnonzero((demand != 0).any(axis=0))
    # one load per bus with demand, named by its bus (PyPSA-Eur's convention)
    out["loads_t"] = Series(p=_wide(demand[:, loaded], index, np.asarray(buses)[loaded], "Load", "MW"))
    return out


def store_injection(model, values) -> np.ndarray:
    """(T, stores) power a store gives to its bus (MW; negative while it charges)."""
    tm, df = model.time, model.comp["stores"].df
    e = values[model.vars["store_e"]]
    decay = (1.0 - df["standing_loss"].to_numpy(float))[None, :] ** tm.dur[:, None]
    first = tm.first[:, None] & ~df["e_cyclic"].to_numpy(bool)[None, :]
    prev = np.where(first, df["e_initial"].to_numpy(float)[None, :], e[tm.prev])
    return (decay * prev - e) / tm.dur[:, None]


def long_form(tables: dict) -> pd.DataFrame:
    """Every time series of ``tables`` as one tidy frame: [scenario,] snapshot, component, name,
    attribute, value, unit (for plotting libraries and sweeps that want one long table)."""
    frames = []
    for key, series in tables.items():
        if not key.endswith("_t"):
            continue
        component = COMPONENT[key[:-2]]
        for attribute, wide in series.items():
            if wide.shape[1] == 0:
                continue
            long = wide.rename_axis(columns="name").stack().rename("value").reset_index()
            long.insert(len(long.columns) - 2, "component", component)
            long.insert(len(long.columns) - 1, "attribute", attribute)
            long["unit"] = wide.attrs.get("unit", "")
            frames.append(long)
    cols = ["snapshot", "component", "name", "attribute", "value", "unit"]
    if not frames:
        return pd.DataFrame(columns=cols)
    out = pd.concat(frames, ignore_index=True)
    return out[[c for c in ["scenario"] + cols if c in out]]


# ------------------------------------------------------------------ files
def write_components(tables: dict, folder, fmt: str) -> list:
    """The PyPSA-shaped frames as PyPSA's CSV folder names them (``generators.csv``,
    ``generators-p.csv``, ...; parquet alike) plus ``units.csv`` (component, attribute, unit)."""
    from pathlib import Path
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths, units = [], []
    for key, value in tables.items():
        frames = value.items() if key.endswith("_t") else [(None, value)]
        for attribute, df in frames:
            stem = key[:-2] + f"-{attribute}" if attribute else key
            path = folder / f"{stem}.{fmt}"
            if fmt == "csv":
                df.to_csv(path)
            else:
                df.to_parquet(path)
            paths.append(path)
            found = {attribute: df.attrs["unit"]} if attribute else df.attrs.get("units", {})
            units += [(key, a, u) for a, u in found.items()]
    path = folder / "units.csv"
    pd.DataFrame(units, columns=["table", "attribute", "unit"]).to_csv(path, index=False)
    return paths + [path]


def read_components(folder) -> dict:
    """Frames written by ``write_components`` (parquet preferred), {} where there are none."""
    from pathlib import Path
    folder = Path(folder)
    if not (folder / "units.csv").is_file():
        return {}
    units = pd.read_csv(folder / "units.csv", keep_default_na=False)
    out: dict = {}
    for table in COMPONENT:
        for key, attrs in ((table, None), (f"{table}_t", units.loc[units["table"] == f"{table}_t", "attribute"])):
            names = [None] if attrs is None else list(attrs)
            for attribute in names:
                stem = table + (f"-{attribute}" if attribute else "")
                df = _read_frame(folder, stem, static=attribute is None)
                if df is not None and attribute is not None:
                    df.columns.name = COMPONENT[table]       # a CSV header keeps the index name only
                if df is None:
                    continue
                if attribute is None:
                    rows = units[(units["table"] == table)]
                    df.attrs["units"] = dict(zip(rows["attribute"], rows["unit"]))
                    out[key] = df
                else:
                    df.attrs["unit"] = str(units.loc[(units["table"] == key) & (units["attribute"] == attribute),
                                                     "unit"].iloc[0])
                    out.setdefault(key, Series())[attribute] = df
        if table in out:
            out.setdefault(f"{table}_t", Series())
    return out


def _read_frame(folder, stem: str, static: bool):
    pq, csv = folder / f"{stem}.parquet", folder / f"{stem}.csv"
    if pq.exists():
        return pd.read_parquet(pq)
    if not csv.exists():
        return None
    head = pd.read_csv(csv, nrows=0)
    if static:
        return pd.read_csv(csv, index_col=0)
    index = [c for c in ("scenario", "snapshot") if c in head.columns]
    return pd.read_csv(csv, index_col=index, parse_dates=["snapshot"])
