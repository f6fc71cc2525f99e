"""Pictures of planning results and sweeps (matplotlib, written as PNG and SVG).

Every figure takes the tidy tables of ``gridprox.energy.results.PlanningResult`` or a
sweep DataFrame, has a title and units, and colours each technology the same way
everywhere (``tech_color``).
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
    "load shedding": "#111111", "shedding": "#111111", "imports": "#bab0ac", "exports": "#bab0ac",
}
_PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
            "#9c755f", "#bab0ac"]


def tech_color(name: str) -> str:
    """A fixed colour per technology name (known carriers first, then a stable hash)."""
    key = str(name).lower()
    if key in _COLORS:
        return _COLORS[key]
    for known, color in _COLORS.items():
        if known in key:
            return color
    return _PALETTE[int(hashlib.md5(key.encode()).hexdigest(), 16) % len(_PALETTE)]


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


def capacity_mix(capacity: pd.DataFrame, title: str = "Optimal capacity"):
    """Stacked bars per zone: generator, storage and conversion-link power (MW); storage energy
    (MWh) beside. Lines join zones, so they are not stacked in a zone's bar."""
    plt = _plt()
    power = capacity[capacity["kind"].isin(["generator", "storage_power", "link"])]
    energy = capacity[capacity["kind"] == "storage_energy"]
    ncols = 2 if not energy.empty else 1
    fig, axes = plt.subplots(1, ncols, figsize=(5 + 3 * ncols, 4.5), squeeze=False)
    for ax, df, unit in zip(axes[0], (power, energy), ("GW", "GWh")):
        table = df.pivot_table(index="zone", columns="technology", values="capacity", aggfunc="sum").fillna(0) / 1e3
        _stacked_bars(ax, table)
        ax.set_ylabel(f"capacity [{unit}]")
        ax.set_title(f"{title} — {'power' if unit == 'GW' else 'storage energy'}")
    fig.tight_layout()
    return fig


def _stacked_bars(ax, table: pd.DataFrame):
    bottom = np.zeros(len(table))
    for tech in table.columns:
        vals = table[tech].to_numpy()
        ax.bar(table.index.astype(str), vals, bottom=bottom, label=tech, color=tech_color(tech))
        bottom += vals
    if len(table.columns):
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def dispatch_week(dispatch: pd.DataFrame, demand: pd.DataFrame, storage_level: Optional[pd.DataFrame] = None,
                  zone: Optional[str] = None, start=None, days: int = 7, title: Optional[str] = None):
    """Dispatch stack of one zone over ``days`` from ``start`` (default: the first week),
    with the demand line and, below, the storage levels."""
    plt = _plt()
    zone = zone if zone is not None else sorted(dispatch["zone"].unique())[0]
    d = dispatch[dispatch["zone"] == zone]
    snaps = pd.Index(sorted(d["snapshot"].unique()))
    t0 = pd.Timestamp(start) if start is not None else snaps[0]
    window = snaps[(snaps >= t0) & (snaps < t0 + pd.Timedelta(days=days))]
    wide = d[d["snapshot"].isin(window)].pivot_table(index="snapshot", columns="technology",
                                                     values="power_mw", aggfunc="sum").fillna(0) / 1e3
    has_storage = storage_level is not None and not storage_level.empty
    fig, axes = plt.subplots(2 if has_storage else 1, 1, figsize=(11, 6 if has_storage else 4.5), sharex=True,
                             squeeze=False, gridspec_kw={"height_ratios": [3, 1]} if has_storage else None)
    ax = axes[0, 0]
    pos, neg = wide.clip(lower=0), wide.clip(upper=0)
    order = [c for c in wide.columns if pos[c].sum() > 0] + [c for c in wide.columns if pos[c].sum() <= 0]
    ax.stackplot(wide.index, *[pos[c] for c in order], labels=order, colors=[tech_color(c) for c in order], step="post")
    if (neg < 0).any().any():
        ax.stackplot(wide.index, *[neg[c] for c in order], colors=[tech_color(c) for c in order], step="post")
    dem = demand[(demand["zone"] == zone) & demand["snapshot"].isin(window)].sort_values("snapshot")
    ax.step(dem["snapshot"], dem["demand_mw"] / 1e3, where="post", color="black", lw=1.5, label="demand")
    ax.set_ylabel("power [GW]")
    ax.set_title(title or f"Dispatch in {zone}, {days} days from {t0:%Y-%m-%d}")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    if has_storage:
        ax2 = axes[1, 0]
        s = storage_level[(storage_level["zone"] == zone) & storage_level["snapshot"].isin(window)]
        for name, g in s.groupby("storage"):
            g = g.sort_values("snapshot")
            ax2.plot(g["snapshot"], g["energy_mwh"] / 1e3, color=tech_color(name), label=name)
        ax2.set_ylabel("storage [GWh]")
        ax2.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


def price_duration(prices: pd.DataFrame, currency: str = "EUR", title: str = "Price duration curve"):
    """Zone prices sorted from high to low against the share of hours."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for zone, g in prices.groupby("zone"):
        p = np.sort(g["price"].to_numpy())[::-1]
        ax.plot(np.linspace(0, 100, len(p)), p, label=str(zone))
    ax.set_xlabel("share of snapshots [%]")
    ax.set_ylabel(f"price [{currency}/MWh]")
    ax.set_yscale("symlog", linthresh=100)
    ax.set_title(title)
    ax.grid(alpha=0.3)
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
    paths = save(capacity_mix(result.capacity), folder / "capacity_mix")
    paths += save(dispatch_week(result.dispatch, result.demand, result.storage_level), folder / "dispatch_week")
    if not result.prices.empty:
        paths += save(price_duration(result.prices, currency=result.currency), folder / "price_duration")
    return paths
