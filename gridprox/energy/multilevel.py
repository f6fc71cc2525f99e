"""Multilevel time warm start: solve a CapacityExpansion on coarse time grids first and start
PDHG on the model's own grid from the prolonged coarse solution.

Each coarse level is the same System at the model's resolution, resampled to N-hour steps
(``timeseries.resample``) and built with the same options, so its LP has the same columns and
rows per snapshot.  ``Prolongation`` maps a coarse solution to the next finer grid:

* primal: capacities and other static columns copied; flows (dispatch, store, link and line
  flows, shedding) repeated over the fine snapshots a coarse step covers; storage levels
  (``state_of_charge``, ``store_e``) interpolated across the step from the level the step
  starts at (the previous step's, or the initial level for a non-cyclic first step);
* dual (HiGHS's convention: a per-snapshot row's dual is weight x price): per-snapshot rows
  split over the fine snapshots by weight; storage dynamics rows (coefficients in hours) copied
  at the same weight per hour; level limits and ramp rows on the fine snapshot that ends / starts
  the coarse step; horizon-wide rows (CO2 cap, renewable share, reserve, build limits) copied.

On data that are constant within each coarse step (and without ramp limits or standing losses)
the prolonged coarse optimum is the fine optimum (tests/test_multilevel.py).  A bad start only
costs iterations: the fine solve's own termination test judges the answer.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Mapping, Optional, Sequence

import numpy as np
import scipy.sparse as sp

from .timeseries import _step_hours, apply_resolution

__all__ = ["Prolongation", "MultilevelStart", "coarse_steps", "coarse_model", "multilevel_start", "highs_start"]

# storage levels: variable -> (component table, cyclic column, initial-level column)
LEVELS = {"state_of_charge": ("storage_units", "cyclic_state_of_charge", "state_of_charge_initial"),
          "store_e": ("stores", "e_cyclic", "e_initial")}
# how a per-snapshot row's dual moves to the fine grid; any other per-snapshot row is split by weight
ROW_RULES = {"state_of_charge": "rate", "state_of_charge_max": "end", "store_max": "end",
             "ramp_up": "start", "ramp_down": "start"}
DEFAULT_STEPS = (24.0, 6.0)
# HiGHS's simplex starts from one daily grid: a chain of levels (24 h then 6 h) or a finer single
# one (8 h) was slower on the planning LPs measured (RESULTS, "The simplex from a daily grid")
HIGHS_STEPS = (24.0,)


def coarse_steps(model, levels=True) -> list:
    """The coarse steps in hours, coarsest first, for ``multilevel=levels`` (True: 24 h and 6 h
    where coarser than the model's snapshots).  Raises ValueError where the model's time axis
    cannot be coarsened (representative days, several periods) or a step does not fit it."""
    snaps = model.system.snapshots
    if model.options["rep_days"] is not None or snaps["period"].nunique() > 1:
        raise ValueError("multilevel needs one period of consecutive snapshots; this model has "
                         f"{snaps['period'].nunique()} periods (representative days): coarse steps would "
                         "mix days that are not neighbours")
    dur = snaps["duration"].to_numpy(float)
    if levels is True:
        steps = [h for h in DEFAULT_STEPS if h > dur.max() and np.allclose(h / dur, np.round(h / dur))]
    else:
        if isinstance(levels, (str, int, float)):
            levels = [levels]
        steps = [_step_hours(s) for s in levels]
        bad = [s for s in steps if not (s > dur.max() and np.allclose(s / dur, np.round(s / dur)))]
        if bad:
            raise ValueError(f"multilevel steps {', '.join(f'{s:g} h' for s in bad)} are not whole multiples "
                             f"coarser than the model's snapshots ({', '.join(f'{d:g}' for d in np.unique(dur))} h)")
        if steps != sorted(steps, reverse=True) or len(set(steps)) != len(steps):
            raise ValueError(f"multilevel steps must go from coarse to fine, got {levels}")
    if not steps:
        raise ValueError(f"no multilevel step is coarser than the model's {dur.max():g} h snapshots")
    if sum(dur) < 2 * steps[0]:
        raise ValueError(f"the horizon ({sum(dur):g} h) is shorter than two {steps[0]:g} h steps")
    return steps


def coarse_model(model, step: float):
    """``model``'s System at its resolution, resampled to ``step`` hours, with the same options."""
    o = model.options
    base = apply_resolution(model.source, o["hours"], o["resample"], o["rep_days"], seed=o["seed"])
    return type(model)(base, **{**o, "hours": None, "resample": f"{step:g}h", "rep_days": None})


class Prolongation:
    """The linear maps x_fine = P x_coarse + p0 and y_fine = Q y_coarse between two models of one
    System on nested time grids (every coarse step a run of whole fine snapshots)."""

    def __init__(self, coarse, fine):
        self.coarse, self.fine = coarse, fine
        tc, tf = coarse.time, fine.time
        if tc.S != tf.S:
            raise ValueError("multilevel: coarse and fine models have different scenario blocks")
        T0c, T0f = tc.T // tc.S, tf.T // tf.S
        start = np.searchsorted(tc.index[:T0c], tf.index[:T0f], side="right") - 1
        if np.any(start < 0):
            raise ValueError("multilevel: the coarse grid starts after the fine one")
        self.parent = np.tile(start, tf.S) + np.repeat(np.arange(tf.S) * T0c, T0f)
        par = self.parent
        self.is_start = np.r_[True, par[1:] != par[:-1]]
        self.is_end = np.r_[par[1:] != par[:-1], True]
        # elapsed share of its coarse step at the end of each fine snapshot
        block_dur = np.bincount(par, weights=tf.dur, minlength=tc.T)
        run = np.cumsum(tf.dur) - np.repeat(np.cumsum(block_dur) - block_dur, np.bincount(par, minlength=tc.T))
        self.frac = run / block_dur[par]
        self.P, self.p0 = self._primal()
        self.Q = self._dual()

    # ---------------------------------------------------------------- primal
    def _columns(self, model):
        """Variables of ``model``'s LP in column order, with their first column."""
        pp = model.pp
        return [(v, pp.var_offsets[v.id]) for v in pp.variables]

    def _primal(self):
        fine, coarse = self.fine, self.coarse
        fcols, ccols = self._columns(fine), self._columns(coarse)
        if len(fcols) != len(ccols):
            raise ValueError("multilevel: coarse and fine LPs have different variables")
        time_vars = {id(v) for v in fine.vars.values()}
        names = {id(v): k for k, v in fine.vars.items()}
        rows, cols, vals = [], [], []
        p0 = np.zeros(fine.pp.shape[1])
        tc, tf = coarse.time, fine.time
        for (vf, of), (vc, oc) in zip(fcols, ccols):
            if vf.name() != vc.name():
                raise ValueError(f"multilevel: variable {vf.name()!r} has no coarse counterpart ({vc.name()!r})")
            if id(vf) not in time_vars:
                if vf.shape != vc.shape:
                    raise ValueError(f"multilevel: variable {vf.name()!r} has shape {vf.shape} fine, {vc.shape} coarse")
                idx = np.arange(vf.size)
                rows.append(of + idx), cols.append(oc + idx), vals.append(np.ones(vf.size))
                continue
            k = vf.shape[1]
            fgrid = of + np.arange(tf.T * k).reshape(tf.T, k)
            cgrid = oc + np.arange(tc.T * k).reshape(tc.T, k)
            here = cgrid[self.parent]
            level = LEVELS.get(names[id(vf)])
            if level is None:        # a flow: the coarse step's value in each of its snapshots
                rows.append(fgrid.ravel()), cols.append(here.ravel()), vals.append(np.ones(fgrid.size))
                continue
            table, cyclic_col, initial_col = level
            df = fine.comp[table].df
            cyclic, initial = df[cyclic_col].to_numpy(bool), df[initial_col].to_numpy(float)
            frac = np.broadcast_to(self.frac[:, None], fgrid.shape)
            from_initial = tc.first[self.parent][:, None] & ~cyclic[None, :]
            before = cgrid[tc.prev[self.parent]]
            rows.append(fgrid.ravel()), cols.append(here.ravel()), vals.append(frac.ravel())
            keep = ~from_initial
            rows.append(fgrid[keep]), cols.append(before[keep]), vals.append((1 - frac)[keep])
            p0[fgrid[from_initial]] = ((1 - frac) * initial[None, :])[from_initial]
        P = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(fine.pp.shape[1], coarse.pp.shape[1]))
        return P, p0

    # ---------------------------------------------------------------- dual
    def _dual(self):
        fine, coarse = self.fine, self.coarse
        tc, tf = coarse.time, fine.time
        rate_f, rate_c = tf.w / tf.dur, tc.w / tc.dur
        factor = {"split": tf.w / tc.w[self.parent], "rate": rate_f / rate_c[self.parent],
                  "end": self.is_end.astype(float), "start": self.is_start.astype(float)}
        rows, cols, vals = [], [], []
        for name, cons in fine.cons.items():
            other = coarse.cons.get(name, [])
            if len(other) != len(cons):
                raise ValueError(f"multilevel: constraint {name!r} has {len(cons)} parts fine, {len(other)} coarse")
            for cf, cc in zip(cons, other):
                if (cf.id in fine.pp.row_maps) != (cc.id in coarse.pp.row_maps):
                    raise ValueError(f"multilevel: constraint {name!r} is rows on one grid, bounds on the other")
                if cf.id not in fine.pp.row_maps:
                    continue
                (rf, nf), (rc, nc) = fine.pp.row_maps[cf.id], coarse.pp.row_maps[cc.id]
                sf, sc = _snapshots(cf.shape, nf, tf), _snapshots(cc.shape, nc, tc)
                if sf is None or sc is None:        # horizon-wide rows: the same dual
                    if nf != nc:
                        raise ValueError(f"multilevel: constraint {name!r} has {nf} rows fine, {nc} coarse")
                    rows.append(rf + np.arange(nf)), cols.append(rc + np.arange(nc)), vals.append(np.ones(nf))
                    continue
                k = nf // len(sf)
                if nc // len(sc) != k:
                    raise ValueError(f"multilevel: constraint {name!r} has {k} columns fine, {nc // len(sc)} coarse")
                where = np.full(tc.T, -1)
                where[sc] = np.arange(len(sc))
                src = where[self.parent[sf]]
                f = factor[ROW_RULES.get(name, "split")][sf]
                ok = (src >= 0) & (f != 0)
                r = rf + (np.flatnonzero(ok)[:, None] * k + np.arange(k)).ravel()
                c = rc + (src[ok][:, None] * k + np.arange(k)).ravel()
                rows.append(r), cols.append(c), vals.append(np.repeat(f[ok], k))
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(fine.pp.shape[0], coarse.pp.shape[0]))

    def __call__(self, x: np.ndarray, y: np.ndarray):
        """(x, y) on the fine grid from (x, y) on the coarse one; (B, n) batches row by row."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        return (self.P @ x.T).T + self.p0, (self.Q @ y.T).T


def _snapshots(shape, size: int, tm) -> Optional[np.ndarray]:
    """The snapshots a constraint's rows run over (all, or all but each period's first, as the
    ramp rows), or None for a constraint without a time axis."""
    if len(shape) == 0 or size % max(shape[0], 1):
        return None
    if shape[0] == tm.T:
        return np.arange(tm.T)
    if shape[0] == tm.T - int(tm.first.sum()):
        return np.flatnonzero(~tm.first)
    return None


@dataclass
class MultilevelStart:
    """A start for a model's LP (one or a batch) from its coarse levels: for PDHG,
    ``warm_start`` is (x, y, primal_weight) for ``solve_lp``, ``stages`` the iterations and
    seconds of each level; for HiGHS, ``highs`` is the ``solvers.coarse_start.CoarseStart``
    its simplex runs from; ``message`` says what was done (or why a cold start)."""

    x: Optional[np.ndarray] = None
    y: Optional[np.ndarray] = None
    primal_weight: Optional[np.ndarray] = None
    highs: object = None
    stages: dict = field(default_factory=dict)
    message: str = ""

    @property
    def warm_start(self):
        return None if self.x is None else (self.x, self.y, self.primal_weight)


def multilevel_start(model, scenarios: Optional[Sequence[Mapping]] = None, levels=True, tol: float = 1e-3,
                     device="auto", **solver_opts) -> MultilevelStart:
    """Solve ``model`` on each coarse level (``coarse_steps``) with PDHG to ``tol`` on PDLP's
    ℓ2 measures (``each_row=False``: a coarse answer only has to be near the fine one), each
    started from the one before, and prolong the last to ``model``'s grid.  ``scenarios``: a list of input dicts
    (the start is then for ``model.batch(scenarios)``); None: ``model.inputs``, one LP.
    ``levels=True`` falls back to no start (message says why) where the model has no coarse
    grid; explicit steps that do not fit raise ValueError."""
    from ..solvers import solve_lp

    try:
        steps = coarse_steps(model, levels)
    except ValueError as exc:
        if levels is not True:
            raise
        return MultilevelStart(message=f"multilevel: cold start ({exc})")
    inputs = [model.inputs] if scenarios is None else list(scenarios)
    start, prev, stages = None, None, {}
    for step in steps + [None]:
        t0 = time.perf_counter()
        level = model if step is None else coarse_model(model, step)
        if prev is not None:
            x, y = Prolongation(prev, level)(*start[:2])
            start = (x, y, start[2])
        if step is None:
            break
        lp = level.batch(inputs) if scenarios is not None else level.lp(model.inputs)
        res = solve_lp(lp, solver="pdhg", tol=tol, device=device, warm_start=start,
                       **{"each_row": False, **solver_opts})
        res = res if isinstance(res, list) else [res]
        if any(r.x is None for r in res):
            return MultilevelStart(stages=stages, message=f"multilevel: cold start (the {step:g}h level is "
                                   f"{', '.join(sorted({r.status for r in res}))})")
        x = np.stack([r.x for r in res])
        y = np.stack([r.y for r in res])
        weight = np.array([np.nan if r.primal_weight is None else r.primal_weight for r in res])
        start = (x, y, weight) if scenarios is not None else (x[0], y[0], weight)
        stages[f"level {step:g}h"] = {"iterations": int(max(r.iterations for r in res)),
                                      "seconds": time.perf_counter() - t0,
                                      "status": sorted({r.status for r in res}),
                                      "snapshots": level.time.T}
        prev = level
    x, y, weight = start
    text = " -> ".join(f"{s:g}h" for s in steps)
    return MultilevelStart(x=x, y=y, primal_weight=weight, stages=stages,
                           message=f"multilevel start {text} -> {model.time.T} snapshots")


def highs_start(model, levels=True):
    """The start ``solve(solver="highs", multilevel=levels)`` runs HiGHS's simplex from
    (``solvers.coarse_start``): ``model`` on one coarser grid (True: HIGHS_STEPS) and the
    prolongation of its optimum to ``model``'s grid, built when the solver first asks.  Raises
    ValueError where the time axis cannot be coarsened or ``levels`` is not one step that fits it."""
    from ..solvers.coarse_start import CoarseStart

    steps = coarse_steps(model, HIGHS_STEPS if levels is True else levels)
    if len(steps) != 1:
        raise ValueError(f"HiGHS starts from one coarse grid; multilevel={levels!r} gives {len(steps)}")

    def make():
        coarse = coarse_model(model, steps[0])
        return coarse.lp(model.inputs), Prolongation(coarse, model)
    return CoarseStart(make, f"the {steps[0]:g} h grid")
