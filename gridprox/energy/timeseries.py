"""Time resolution of a System: the first N snapshots, N-hour steps, or representative days.

Each function returns a new, validated ``System`` whose snapshot ``weight`` column still sums to
the hours the original horizon represents (so yearly costs stay comparable), whose ``duration``
is the real time each step lasts (what storage integrates over), and whose ``period`` label
groups snapshots that storage cycles within: one period for the first-N and resampled cases,
one period per representative day otherwise (the model wraps the state of charge per period).
"""
from __future__ import annotations

import re
import warnings
from typing import Optional, Union

import numpy as np
import pandas as pd

from .system import System, SystemDataError

__all__ = ["first_snapshots", "resample", "representative_days", "apply_resolution"]


def first_snapshots(system: System, n: int) -> System:
    """The first ``n`` snapshots, weights rescaled so they sum to the full horizon's hours."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise SystemDataError(f"hours must be a whole number of snapshots, got {n!r}")
    return system.first(int(n), rescale=True).validate()


def _step_hours(step: Union[str, int, float]) -> float:
    """'3h', '3H', '90min', '1d', 3 -> hours."""
    if isinstance(step, (int, float, np.integer, np.floating)) and not isinstance(step, bool):
        hours = float(step)
    else:
        text = str(step).strip().lower()
        match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(h|hours?|min|d|days?)?", text)
        if not match:
            raise SystemDataError(f"resample step {step!r} not understood; use e.g. '3h', '30min', '1d' or 3")
        value, unit = float(match.group(1)), match.group(2) or "h"
        hours = value * {"min": 1 / 60, "d": 24, "day": 24, "days": 24}.get(unit, 1.0)
    if not hours > 0:
        raise SystemDataError(f"resample step must be positive, got {step!r}")
    return hours


def resample(system: System, step: Union[str, int, float]) -> System:
    """Aggregate consecutive snapshots into steps of ``step`` hours (e.g. "3h").

    Each new step starts at the first snapshot of its block; demand and availability are
    duration-weighted means over the block, weight and duration are block sums (so the weights
    still sum to the horizon).  The step must be a whole multiple of the snapshot duration."""
    hours = _step_hours(step)
    snaps = system.snapshots
    if snaps["period"].nunique() > 1:
        raise SystemDataError("resample needs a single period (the snapshots already have representative "
                              "periods)", file="snapshots.csv", column="period")
    dur = snaps["duration"].to_numpy(float)
    ratio = hours / dur
    if not np.allclose(ratio, np.round(ratio), rtol=0, atol=1e-9) or np.any(np.round(ratio) < 1):
        raise SystemDataError(f"resample step {hours:g} h is not a whole multiple of the snapshot durations "
                              f"({', '.join(f'{d:g}' for d in np.unique(dur))} h)", file="snapshots.csv",
                              column="duration")
    elapsed = np.concatenate([[0.0], np.cumsum(dur)[:-1]])
    block = np.floor(elapsed / hours + 1e-9).astype(np.int64)
    first = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
    index = snaps.index[first]

    def mean(frame: pd.DataFrame) -> pd.DataFrame:
        if frame.shape[1] == 0:
            return pd.DataFrame(index=index)
        num = np.add.reduceat(frame.to_numpy(float) * dur[:, None], first, axis=0)
        den = np.add.reduceat(dur, first)[:, None]
        return pd.DataFrame(num / den, index=index, columns=frame.columns)

    out = system.copy()
    out.snapshots = pd.DataFrame({"weight": np.add.reduceat(snaps["weight"].to_numpy(float), first),
                                  "duration": np.add.reduceat(dur, first),
                                  "period": snaps["period"].to_numpy()[first]}, index=index)
    out.demand, out.availability = mean(system.demand), mean(system.availability)
    out.min_availability, out.inflow = mean(system.min_availability), mean(system.inflow)
    out.state_of_charge_set = _unset(system, index)
    return out.validate()


def _day_matrix(system: System):
    """(days, snapshots per day) layout of the snapshots: days are the 24-hour blocks counted
    from the first snapshot (calendar days when the data start at midnight; data kept in a
    shifted clock, like three-country's 23:30 start, still split into whole days)."""
    snaps = system.snapshots
    if snaps["period"].nunique() > 1:
        raise SystemDataError("representative days need a single period", file="snapshots.csv", column="period")
    duration = snaps["duration"].to_numpy(float)
    start = np.concatenate([[0.0], np.cumsum(duration)[:-1]])
    day = np.floor(start / 24.0 + 1e-9).astype(int)
    counts = pd.Series(1, index=day).groupby(level=0).sum()
    if counts.nunique() != 1 or not np.isclose(duration.sum(), 24.0 * len(counts)):
        short = counts[counts != counts.max()] if counts.nunique() != 1 else counts.iloc[-1:]
        raise SystemDataError(f"representative days need complete days of equal length; the day starting "
                              f"{snaps.index[np.argmax(day == short.index[0])]} has {short.iloc[0]} snapshots, "
                              f"others {counts.max()}", file="snapshots.csv", column="snapshot")
    return snaps.index[np.searchsorted(day, counts.index)], int(counts.iloc[0])


def representative_days(system: System, k: int, seed: int = 0) -> System:
    """``k`` representative days chosen by k-means on daily profiles, each weighted by the days
    of its cluster.

    Features per day: every bus's demand (divided by that bus's peak) and every time-varying
    availability profile, hour by hour.  The representative of a cluster is its medoid (the
    real day closest to the centroid), so each kept day is a chronologically consistent real
    day.  Its snapshots' weights are scaled by (weight of the cluster's days) / (weight of the
    day): the weights keep their total.  Storage is then cyclic within each day (``period``)."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise SystemDataError(f"rep_days must be a positive whole number, got {k!r}")
    dates, per_day = _day_matrix(system)
    n_days = len(dates)
    if k > n_days:
        raise SystemDataError(f"rep_days={k} but the horizon has only {n_days} complete days")
    demand = system.demand.loc[:, (system.demand != 0).any()]
    demand = demand / demand.max()
    avail = system.availability.loc[:, system.availability.nunique() > 1]
    features = pd.concat([demand, avail], axis=1).to_numpy(float)
    X = features.reshape(n_days, per_day * features.shape[1]) if features.size else np.zeros((n_days, 1))
    labels = _cluster(X, k, seed)
    weight = system.snapshots["weight"].to_numpy(float).reshape(n_days, per_day)
    day_weight = weight.sum(axis=1)
    keep, scale = [], {}
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        centre = X[members].mean(axis=0)
        medoid = members[np.argmin(((X[members] - centre) ** 2).sum(axis=1))]
        keep.append(medoid)
        scale[medoid] = day_weight[members].sum() / day_weight[medoid]
    keep = sorted(keep)
    rows = np.concatenate([np.arange(d * per_day, (d + 1) * per_day) for d in keep])
    index = system.snapshots.index[rows]
    out = system.copy()
    snaps = system.snapshots.iloc[rows].copy()
    snaps["weight"] = snaps["weight"].to_numpy() * np.repeat([scale[d] for d in keep], per_day)
    snaps["period"] = np.repeat([str(dates[d].date()) for d in keep], per_day)  # the day each block starts
    out.snapshots = snaps
    out.demand, out.availability = system.demand.loc[index].copy(), system.availability.loc[index].copy()
    out.min_availability, out.inflow = system.min_availability.loc[index].copy(), system.inflow.loc[index].copy()
    out.state_of_charge_set = _unset(system, index)
    return out.validate()


def _cluster(X: np.ndarray, k: int, seed: int) -> np.ndarray:
    """k-means labels (k-means++ start, fixed seed); empty clusters simply vanish."""
    if k == len(X):
        return np.arange(len(X))
    from scipy.cluster.vq import kmeans2

    centre, scale = X.mean(axis=0), X.std(axis=0)
    varies = scale > 1e-9 * np.maximum(1.0, np.abs(centre))   # round-off "variation" would dominate
    Xs = np.where(varies, (X - centre) / np.where(varies, scale, 1.0), 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "One of the clusters is empty": handled by np.unique
        _, labels = kmeans2(Xs, k, minit="++", iter=50, rng=np.random.default_rng(seed))
    return labels


def apply_resolution(system: System, hours: Optional[int] = None, resample_to=None,
                     rep_days: Optional[int] = None, seed: int = 0) -> System:
    """At most one of: the first ``hours`` snapshots, resampling, representative days."""
    given = [name for name, v in (("hours", hours), ("resample", resample_to), ("rep_days", rep_days))
             if v is not None]
    if len(given) > 1:
        raise SystemDataError(f"choose one time resolution option, got {', '.join(given)}")
    if hours is not None:
        return first_snapshots(system, hours)
    if resample_to is not None:
        return resample(system, resample_to)
    if rep_days is not None:
        return representative_days(system, rep_days, seed)
    return system


def _unset(system: System, index) -> pd.DataFrame:
    """No fixed state of charge on a new time grid: a level fixed at one hour has no meaning on
    averaged or sampled steps, so a system that fixes one is refused rather than loosened."""
    fixed = system.state_of_charge_set
    if fixed.notna().any().any():
        name = fixed.columns[fixed.notna().any().to_numpy()][0]
        raise SystemDataError("a fixed state of charge cannot be carried to another time resolution",
                              file="state_of_charge_set.csv", column=str(name))
    return pd.DataFrame(np.nan, index=index, columns=fixed.columns)
