"""Pictures of planning results and sweeps (matplotlib, written as PNG and SVG).

Every figure takes the tidy tables of ``gridprox.energy.results.PlanningResult`` or a
sweep DataFrame, has a title and units, and colours each technology the same way
everywhere (``tech_color``).  Capacity is what generates: consumers (electrolysis, battery
chargers) are drawn below zero and load shedding apart from the bars; storage buses and their
links are shown at the zone they serve; imports are named by the neighbour they come from.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Iterable, Optional, Sequence

import numpy as np
import pandas as pd

_COLORS = {
    "wind": "#3b8bc2", "onwind": "#3b8bc2", "offwind": "#1f5f8b", "solar": "#f4c430",
    "gas": "#d2691e", "ocgt": "#e08c4b", "ccgt": "#b85a1b", "lignite": "#6b4f3a", "coal": "#4a4a4a",
    "nuclear": "#a05fc4", "hydro": "#2a9d8f", "biomass": "#6a994e",
    "battery": "#e15759", "battery storage": "#e15759", "hydrogen": "#8fb9c8",
    "hydrogen storage": "#8fb9c8", "electrolysis": "#76b7b2", "turbine": "#59a14f",
    "battery charger": "#f1a340", "battery discharger": "#b2182b",
    "load shedding": "#111111", "shedding": "#111111", "imports": "#bab0ac", "exports": "#bab0ac",
}
# a neighbour's imports: greys and muted tones, told apart from the generating technologies
_NEIGHBOUR = ["#8c8c8c", "#5f6b7a", "#b3a58f", "#7a8f7a", "#a07f8f", "#c9c9c9", "#4d4d4d"]
_PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
            "#9c755f", "#bab0ac"]


def tech_color(name: str) -> str:
    """A fixed colour per technology name (known carriers first, then a stable hash)."""
    key = str(name).lower()
    if key.startswith("imports from "):
        return _NEIGHBOUR[_hash(key) % len(_NEIGHBOUR)]
    if key in _COLORS:
        return _COLORS[key]
    for known in sorted(_COLORS, key=len, reverse=True):    # "battery discharger" before "battery"
        if known in key:
            return _COLORS[known]
    return _PALETTE[_hash(key) % len(_PALETTE)]


def _hash(key: str) -> int:
    return int(hashlib.md5(key.encode()).hexdigest(), 16)


def _plt():
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    return plt


def save(fig, path_stem: str | Path, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Write ``fig`` as PATH_STEM.png and PATH_STEM.svg; returns the paths."""
    stem = Path(path_stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        p = stem.with_suffix(f".{fmt}")
        fig.savefig(p, dpi=120, bbox_inches="tight")
        out.append(p)
    _plt().close(fig)
    return out


def capacity_mix(capacity: pd.DataFrame, title: str = "Optimal capacity", zones: Optional[Sequence[str]] = None,
                 home: Optional[dict] = None, peak_shedding: Optional[pd.Series] = None):
    """Stacked bars per zone: generating power (generators, storage discharge, links that deliver
    into the zone) above zero, consumers (links that draw from the zone: electrolysis, battery
    chargers) below zero, in GW; storage energy (GWh) beside.  ``zones``: the buses with demand
    (default: every zone in the table); ``home``: {storage or fuel bus: the zone it serves}
    (``zone_homes``); load shedding is not capacity: its peak (``peak_shedding``, MW by zone) is
    drawn as a marker apart from the bars.  Lines join zones, so they are not stacked."""
    plt = _plt()
    home = home or {}
    zones = set(zones) if zones is not None else set(capacity["zone"]) - set(home)
    df = capacity.copy()
    shedding = df["technology"].str.lower().isin(["load shedding", "shedding"])
    consumer = (df["kind"] == "link") & df["zone"].isin(zones)
    df["zone"] = df["zone"].map(lambda z: home.get(z, z))
    power = df[df["kind"].isin(["generator", "storage_power", "link"]) & ~shedding]
    producers, consumers = power[~consumer.loc[power.index]], power[consumer.loc[power.index]]
    energy = df[df["kind"] == "storage_energy"]
    ncols = 2 if not energy.empty else 1
    fig, axes = plt.subplots(1, ncols, figsize=(5 + 3 * ncols, 4.5), squeeze=False)
    order = sorted(set(power["zone"]) | set(energy["zone"]) | set(peak_shedding.index if peak_shedding is not None
                                                                  else []), key=lambda z: (z not in zones, str(z)))
    ax = axes[0, 0]
    _stacked_bars(ax, _by_zone(producers, order), sign=1.0)
    _stacked_bars(ax, _by_zone(consumers, order), sign=-1.0, suffix=" (consumes)")
    if not consumers.empty:
        ax.axhline(0.0, color="black", lw=0.8)
    if peak_shedding is not None and (peak_shedding > 0).any():
        shed = peak_shedding[peak_shedding > 0] / 1e3
        ax.scatter([order.index(z) + 0.45 for z in shed.index], shed.to_numpy(), marker="v", color="black",
                   zorder=3, label="peak load shedding")
    ax.set_ylabel("power [GW]" + ("  (consumers below 0)" if not consumers.empty else ""))
    ax.set_title(f"{title} — power")
    if energy.size:
        _stacked_bars(axes[0, 1], _by_zone(energy, order), sign=1.0)
        axes[0, 1].set_ylabel("storage energy [GWh]")
        axes[0, 1].set_title(f"{title} — storage energy")
    for a in axes[0]:
        a.set_xticks(range(len(order)), [str(z) for z in order])
        if a.get_legend_handles_labels()[0]:
            a.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig


def _by_zone(df: pd.DataFrame, order: list) -> pd.DataFrame:
    """zone x technology capacity in G-units (GW, GWh), zones in ``order`` (all of them)."""
    if df.empty:
        return pd.DataFrame(index=order)
    table = df.pivot_table(index="zone", columns="technology", values="capacity", aggfunc="sum") / 1e3
    return table.reindex(order).fillna(0.0)


def _stacked_bars(ax, table: pd.DataFrame, sign: float = 1.0, suffix: str = ""):
    bottom = np.zeros(len(table))
    x = np.arange(len(table))
    for tech in table.columns:
        vals = sign * table[tech].to_numpy()
        if not np.any(vals):
            continue
        ax.bar(x, vals, bottom=bottom, width=0.6, label=f"{tech}{suffix}", color=tech_color(tech))
        bottom += vals


def zone_homes(links: pd.DataFrame, zones: Sequence[str]) -> dict:
    """{bus without demand: the zone a link joins it to} (a battery's or hydrogen's bus -> its
    country), from a links frame with bus0 and bus1 (``PlanningResult.links``)."""
    from .energy.results import _homes
    return _homes(links, zones)


def with_imports(result) -> pd.DataFrame:
    """``result.dispatch`` with the flows of lines and of links between two zones replaced by
    one technology per neighbour, "imports from FR" (negative while exporting to it)."""
    dispatch = result.dispatch
    comps = getattr(result, "components", None) or {}
    if "scenario" in dispatch:      # a stochastic model's flows differ per scenario: kept by carrier
        return dispatch
    zones = set(result.demand.loc[result.demand["demand_mw"] != 0, "zone"]) if len(result.demand) else set()
    rows, carriers = [], set()
    for key in ("lines", "links"):
        static, series = comps.get(key), comps.get(f"{key}_t", {})
        if static is None or "p0" not in series or "p1" not in series:
            continue
        joins = static[static["bus0"].isin(zones) & static["bus1"].isin(zones)]
        for name, b0, b1 in zip(joins.index, joins["bus0"], joins["bus1"]):
            for zone, other, p in ((b0, b1, "p0"), (b1, b0, "p1")):
                rows.append(pd.DataFrame({"snapshot": series[p].index.get_level_values("snapshot"), "zone": zone,
                                          "technology": f"imports from {other}",
                                          "power_mw": -series[p][name].to_numpy()}))
        carrier = joins["carrier"].astype(str) if "carrier" in joins else pd.Series("", index=joins.index)
        carriers |= set(np.where(carrier != "", carrier, "transmission" if key == "lines" else joins.index))
    if not rows:
        return dispatch
    kept = dispatch[~(dispatch["zone"].isin(zones) & dispatch["technology"].isin(carriers))]
    imports = pd.concat(rows, ignore_index=True).groupby(["snapshot", "zone", "technology"], as_index=False,
                                                          sort=False)["power_mw"].sum()
    return pd.concat([kept, imports], ignore_index=True)


def dispatch_week(dispatch: pd.DataFrame, demand: pd.DataFrame, storage_level: Optional[pd.DataFrame] = None,
                  zone: Optional[str] = None, start=None, days: int = 7, title: Optional[str] = None,
                  home: Optional[dict] = None):
    """Dispatch stack of one zone (default: the one with the most demand) over ``days`` from
    ``start`` (default: the first week), consumption below zero, with the demand line and,
    below, the levels of the storage at the zone or at a bus ``home`` maps to it."""
    plt = _plt()
    home = home or {}
    if zone is None:
        totals = demand.groupby("zone")["demand_mw"].sum() if len(demand) else pd.Series(dtype=float)
        zone = totals.idxmax() if len(totals) and totals.max() > 0 else sorted(dispatch["zone"].unique())[0]
    d = dispatch[dispatch["zone"] == zone]
    snaps = pd.Index(sorted(d["snapshot"].unique()))
    t0 = pd.Timestamp(start) if start is not None else snaps[0]
    window = snaps[(snaps >= t0) & (snaps < t0 + pd.Timedelta(days=days))]
    wide = d[d["snapshot"].isin(window)].pivot_table(index="snapshot", columns="technology",
                                                     values="power_mw", aggfunc="sum").fillna(0) / 1e3
    wide = wide.loc[:, (wide != 0).any()]
    s = pd.DataFrame()
    if storage_level is not None and not storage_level.empty:
        served = storage_level["zone"].map(lambda z: home.get(z, z)) == zone
        s = storage_level[served & storage_level["snapshot"].isin(window)]
        s = s[s.groupby("storage")["energy_mwh"].transform(lambda v: (v != 0).any())]
    has_storage = not s.empty
    fig, axes = plt.subplots(2 if has_storage else 1, 1, figsize=(11, 6 if has_storage else 4.5), sharex=True,
                             squeeze=False, gridspec_kw={"height_ratios": [3, 1]} if has_storage else None)
    ax = axes[0, 0]
    pos, neg = wide.clip(lower=0), wide.clip(upper=0)
    up = [c for c in wide.columns if pos[c].sum() > 0]
    down = [c for c in wide.columns if neg[c].sum() < 0]
    if up:
        ax.stackplot(wide.index, *[pos[c] for c in up], labels=up, colors=[tech_color(c) for c in up], step="post")
    if down:      # a technology already labelled above zero keeps one legend entry
        ax.stackplot(wide.index, *[neg[c] for c in down], colors=[tech_color(c) for c in down], step="post",
                     labels=[c if c not in up else f"_{c}" for c in down])
    if down:
        ax.axhline(0.0, color="black", lw=0.8)
    dem = demand[(demand["zone"] == zone) & demand["snapshot"].isin(window)].sort_values("snapshot")
    if len(dem):
        ax.step(dem["snapshot"], dem["demand_mw"] / 1e3, where="post", color="black", lw=1.5, label="demand")
    ax.set_ylabel("power [GW]" + ("  (consumption below 0)" if down else ""))
    ax.set_title(title or f"Dispatch in {zone}, {days} days from {t0:%Y-%m-%d}")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if has_storage:
        ax2 = axes[1, 0]
        for name, g in s.groupby("storage"):
            g = g.sort_values("snapshot")
            ax2.plot(g["snapshot"], g["energy_mwh"] / 1e3, color=tech_color(name), label=name)
        ax2.set_ylabel("storage [GWh]")
        ax2.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def price_duration(prices: pd.DataFrame, currency: str = "EUR", title: str = "Price duration curve"):
    """Zone prices sorted from high to low against the share of snapshots, on a linear axis.
    Scarcity prices (load shedding at VOLL) would flatten the rest: where the top price is more
    than three times the 98th percentile, the axis stops above the latter and the top is written."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    tops = []
    for zone, g in prices.groupby("zone"):
        p = np.sort(g["price"].to_numpy(float))[::-1]
        ax.plot(np.linspace(0, 100, len(p)), p, label=str(zone))
        tops.append(p)
    ax.set_xlabel("share of snapshots [%]")
    ax.set_ylabel(f"price [{currency}/MWh]")
    ax.set_xlim(0, 100)
    if tops:
        every = np.concatenate(tops)
        high, top, low = float(np.percentile(every, 98)), float(every.max()), float(min(every.min(), 0.0))
        if high > 0 and top > 3 * high:
            ax.set_ylim(low, 1.25 * high)
            share = 100.0 * float(np.mean(every > 1.25 * high))
            ax.text(0.98, 0.95, f"off the axis: {share:.1f} % of snapshots, up to {top:,.0f} {currency}/MWh",
                    transform=ax.transAxes, ha="right", va="top", fontsize=8)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    fig.tight_layout()
    return fig


_AXIS_UNITS = {"co2_cap": "t CO2/a", "co2_price": "{c}/t CO2", "demand_scale": "x base demand",
               "renewable_share": "share", "reserve_margin": "share", "voll": "{c}/MWh"}


def _axis_label(name: str, currency: str) -> str:
    """A sweep input with its unit, where the name says it (``gas_price`` -> currency/MWh_th)."""
    unit = _AXIS_UNITS.get(name)
    if unit is None and name.endswith("_price"):
        unit = "{c}/MWh_th"
    elif unit is None and name.endswith("_marginal_cost"):
        unit = "{c}/MWh"
    return f"{name} [{unit.format(c=currency)}]" if unit else name


def _scaled(values, unit: str) -> tuple[float, str]:
    """(divisor, label) that keeps the largest value between 1 and 1000: MW, GW, TW / EUR, kEUR, ..."""
    peak = float(np.nanmax(np.abs(np.asarray(values, dtype=float)), initial=0.0))
    prefixes = [(1.0, ""), (1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T")]
    if unit in ("MW", "MWh"):  # already mega: step to G, T
        prefixes = [(1.0, "M"), (1e3, "G"), (1e6, "T")]
        unit = unit[1:]
    divisor, prefix = prefixes[0]
    for d, p in prefixes:
        if peak >= d:
            divisor, prefix = d, p
    if unit not in ("W", "Wh") and prefix == "G":
        prefix = "bn "
    return divisor, f"{prefix}{unit}"


def sweep_tradeoff(sweep: pd.DataFrame, x: str, y: str = "objective", hue: Optional[str] = None,
                   capacity_columns: Optional[Iterable[str]] = None, currency: str = "EUR",
                   title: Optional[str] = None):
    """Trade-off curve of a sweep (``y`` against ``x``, one line per ``hue`` value) and,
    below, the power-capacity mix along the sweep (at the first ``hue`` value) from the
    ``capacity_columns`` (default: the "cap_" columns in MW; storage energy "_mwh" left out)."""
    plt = _plt()
    ok = sweep[sweep["status"].isin(["optimal", "optimal_inaccurate"])] if "status" in sweep else sweep
    caps = list(capacity_columns) if capacity_columns is not None else [
        c for c in sweep if str(c).startswith("cap_") and not str(c).endswith("_mwh")]
    fig, axes = plt.subplots(2 if caps else 1, 1, figsize=(8, 7 if caps else 4.5), squeeze=False, sharex=True)
    ax = axes[0, 0]
    div, unit = _scaled(ok[y], currency) if y == "objective" else (1.0, "")
    groups = ok.groupby(hue) if hue else [(None, ok)]
    for key, g in groups:
        g = g.sort_values(x)
        ax.plot(g[x], g[y] / div, marker="o", label=f"{_axis_label(hue, currency)} = {key:g}" if hue else None)
    ax.set_ylabel(f"total cost [{unit}/a]" if y == "objective" else y)
    ax.set_title(title or f"{'Total cost' if y == 'objective' else y} along the sweep of {x}")
    ax.grid(alpha=0.3)
    if hue:
        ax.legend(fontsize=8)
    if caps:
        ax2 = axes[1, 0]
        first = ok[ok[hue] == sorted(ok[hue].unique())[0]] if hue else ok
        first = first.sort_values(x)
        div, unit = _scaled(first[caps].sum(axis=1), "MW")
        ax2.stackplot(first[x], *[first[c] / div for c in caps], labels=[c[4:] for c in caps],
                      colors=[tech_color(c[4:].split("/")[-1]) for c in caps])
        ax2.set_ylabel(f"capacity [{unit}]")
        ax2.set_title(f"capacity mix{f' at {hue} = {first[hue].iloc[0]:g}' if hue and len(first) else ''}",
                      fontsize=10)
        ax2.grid(alpha=0.3)
        ax2.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[-1, 0].set_xlabel(_axis_label(x, currency))
    fig.tight_layout()
    return fig


def plot_result(result, folder: str | Path) -> list[Path]:
    """All standard pictures of a PlanningResult into ``folder``."""
    folder = Path(folder)
    comps = getattr(result, "components", None) or {}
    demand = result.demand
    zones = sorted(set(demand.loc[demand["demand_mw"] != 0, "zone"])) if len(demand) else None
    home = zone_homes(comps["links"], zones) if "links" in comps and zones else {}
    dispatch = with_imports(result)
    shed = dispatch[dispatch["technology"].str.lower() == "load shedding"]
    peak = (shed.groupby(["zone", "snapshot"])["power_mw"].sum().groupby("zone").max() if len(shed)
            else None)
    paths = save(capacity_mix(result.capacity, zones=zones, home=home, peak_shedding=peak), folder / "capacity_mix")
    paths += save(dispatch_week(dispatch, demand, result.storage_level, home=home), folder / "dispatch_week")
    if not result.prices.empty:
        prices = result.prices[result.prices["zone"].isin(zones)] if zones else result.prices
        paths += save(price_duration(prices, currency=result.currency), folder / "price_duration")
    return paths
