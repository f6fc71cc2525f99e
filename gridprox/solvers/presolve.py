"""A light presolve, undone exactly: the reductions that model exporters make cheap.

One pass, in this order, on a single LP or a batch sharing A's pattern:

1. empty rows: 0 must lie in [lc, uc] (else the scenario is infeasible); dropped, y = 0;
2. singleton rows  lc <= a·x_j <= uc  become bounds on x_j (PyPSA/linopy write every
   x >= 0 as such a row) and are dropped;
3. fixed columns (lx == ux after 2, in every scenario) are substituted into the row
   bounds and c0; columns left without entries are fixed at their cost-optimal bound.
   If that bound is infinite while the cost pulls towards it, the LP is dual infeasible:
   the column is fixed at a finite value, and the scenario is reported unbounded if the
   rest is feasible (infeasible otherwise); rows the removed columns leave with one entry
   become bounds as in 2;
4. rows left with only removed columns are checked like empty rows and dropped;
5. the rows and columns left are ordered so that the densest ones (a capacity variable
   in every hour's rows, a CO2 cap over every hour) are spread evenly among the others:
   a threaded CSR product splits its rows into equal-count blocks, and with a year's
   capacity columns all at the front one thread got 63% of Aᵀ's nonzeros (RESULTS, "C kernel").

``Presolved.postsolve`` maps a solution of the reduced LP back: x of removed columns
is their fixed value; a dropped singleton row gets the part of its column's reduced
cost that its bound absorbs (y = g_j / a where g = c − Aᵀy is the column's reduced cost
without the singleton rows and the row gave the binding bound); z = c − Aᵀy and the
residuals are measured on the original LP, so callers never see the presolved one.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np
import scipy.sparse as sp

from ..compile.lp import LinearProgram
from . import attach_solution
from . import result as st
from .result import Result

def _per_scenario(arr, B: int) -> np.ndarray:
    """A read-only (B, len) view of a per-scenario or shared vector."""
    arr = np.asarray(arr, dtype=float)
    return np.broadcast_to(arr, (B,) + arr.shape[-1:])


def _outside(value, lo, hi, tol):
    """value outside [lo, hi] by more than tol relative to the bound it crosses."""
    return (value < lo - tol * (1 + np.abs(lo))) | (value > hi + tol * (1 + np.abs(hi)))


def _label(names, i: int, kind: str) -> str:
    return f"{kind} {i}" + (f" ({names[i]})" if names is not None and i < len(names) else "")


@dataclass
class Presolved:
    """The reduced LP (over the scenarios still to solve) and what undoes the reduction."""

    lp: Optional[LinearProgram]       # None when presolve has settled every scenario
    original: LinearProgram
    rows: np.ndarray                  # original indices of the reduced LP's rows
    cols: np.ndarray                  # original indices of the reduced LP's columns
    x_removed: np.ndarray             # (B, n) values of removed columns
    lo_source: np.ndarray             # (B, n) singleton row giving x_j's binding lower bound, or -1
    hi_source: np.ndarray             # (B, n) same for the upper bound
    late_rows: np.ndarray             # the source rows that removed columns left single (step 3)
    verdicts: list                    # per scenario: None (solve it) or (status, message)
    dual_infeasible: list             # per scenario: None or the message naming the column
    live: np.ndarray                  # scenarios the reduced LP holds, in its batch order
    summary: str
    # a solver's status rule applied again on the original LP, where postsolve may have moved a
    # point's measures: (Result) -> status
    judge: Optional[Callable[[Result], str]] = None

    @property
    def single(self) -> bool:
        return not self.original.is_batch

    def map_warm_start(self, options: dict) -> dict:
        """Options with ``warm_start`` (a Result, a list of Results, or (x, y) arrays of the
        original LP, rows (B, n) / (B, m) for a batch) restricted to the reduced LP, and a
        streamed batch's ``coordinates`` to its scenarios."""
        coords = options.get("coordinates")
        if coords is not None and not self.single and np.ndim(coords) >= 1 and len(coords) > len(self.live):
            options = {**options, "coordinates": np.asarray(coords)[self.live]}
        start = options.get("warm_start")
        if start is None:
            return options
        weight = None                  # the PDHG primal weight rides along (Result.primal_weight)
        if isinstance(start, Result):
            start, weight = (start.x, start.y), start.primal_weight
        elif isinstance(start, (list, tuple)) and start and isinstance(start[0], Result):
            weight = [np.nan if r.primal_weight is None else r.primal_weight for r in start]
            start = (np.stack([r.x for r in start]), np.stack([r.y for r in start]))
        elif isinstance(start, (list, tuple)) and len(start) == 3:
            start, weight = start[:2], start[2]
        mapped = []
        for part, index in zip(start, (self.cols, self.rows)):
            part = np.asarray(part, dtype=float)
            if part.ndim == 2 and not self.single:
                part = part[self.live]
            mapped.append(part[..., index])
        if weight is not None:
            weight = np.asarray(weight, dtype=float).reshape(-1)
            mapped.append(weight[self.live] if weight.size > 1 and not self.single else weight)
        return {**options, "warm_start": tuple(mapped)}

    def postsolve(self, reduced) -> Result | list[Result]:
        """Results of the reduced LP (one, a list over ``live``, or None) -> results of the
        original LP, one per scenario."""
        if reduced is None:
            reduced = []
        elif isinstance(reduced, Result):
            reduced = [reduced]
        by_scenario = dict(zip(self.live.tolist(), reduced))
        out = [self._scenario_result(b, by_scenario.get(b)) for b in range(len(self.verdicts))]
        return out[0] if self.single else out

    def _scenario_result(self, b: int, r: Optional[Result]) -> Result:
        out = self._unreduced(b, r)
        status = out.status if self.judge is None else self.judge(out)
        if status != out.status:
            out.message += f"; {status} on the LP as given (its measures: {_measures(out.residuals)})"
            out.status = status
        return out

    def _unreduced(self, b: int, r: Optional[Result]) -> Result:
        if self.verdicts[b] is not None:
            status, message = self.verdicts[b]
            return Result(status=status, solver="presolve", message=message)
        lp = self.original.scenario(b) if not self.single else self.original
        if r is None:   # nothing left to solve: every column was removed
            r = Result(status=st.OPTIMAL, x=np.zeros(0), y=np.zeros(0), solver="presolve")
        out = Result(status=r.status, iterations=r.iterations, seconds=r.seconds, solver=r.solver,
                     message=(r.message + "; " if r.message else "") + self.summary,
                     primal_weight=r.primal_weight)
        if self.dual_infeasible[b] is not None:
            if r.status in st.SOLUTION_STATUSES:
                out.status = st.UNBOUNDED if r.status == st.OPTIMAL else st.UNBOUNDED_INACCURATE
                out.message += f"; {self.dual_infeasible[b]} and the rest is feasible"
                return out
        if r.x is None:
            return out
        x = self.x_removed[b].copy()
        x[self.cols] = r.x
        if r.y is None:
            return attach_solution(out, lp, x)
        y = np.zeros(lp.num_rows)
        y[self.rows] = r.y
        # a dropped row's dual takes the reduced cost its column's bound absorbed (y = g_j / a_ij);
        # the late rows first: their duals move the reduced costs of the fixed columns beside them,
        # which their own singleton rows absorb next
        sources = [(source, np.isin(source, self.late_rows)) for source in (self.lo_source[b], self.hi_source[b])]
        for late in (True, False):
            g = lp.c - lp.A.T @ y                   # reduced costs without the rows still to do
            for (source, is_late), side in zip(sources, (g > 0, g < 0)):
                j = np.flatnonzero(side & (source >= 0) & (is_late == late))
                if len(j):
                    y[source[j]] = g[j] / np.asarray(lp.A[source[j], j]).ravel()
        return attach_solution(out, lp, x, y)


def _measures(residuals: dict) -> str:
    keys = ("primal", "dual", "gap", "row_rel", "col_rel")
    return ", ".join(f"{k} {residuals[k]:.1e}" for k in keys if k in residuals)


# a row or column with more than this many times the mean nonzeros (and at least
# SPREAD_MIN) is spread by step 5
SPREAD_FACTOR, SPREAD_MIN = 32.0, 64


def _spread(counts: np.ndarray) -> np.ndarray:
    """An order of range(len(counts)) with the entries that have the most nonzeros placed
    at even intervals among the others (whose order is kept), so that equal-count
    contiguous blocks carry similar numbers of nonzeros."""
    k = len(counts)
    heavy = np.flatnonzero(counts > max(SPREAD_FACTOR * counts.mean(), SPREAD_MIN)) if k else np.zeros(0, int)
    if not len(heavy):
        return np.arange(k)
    light = np.setdiff1d(np.arange(k), heavy)
    at = ((np.arange(len(heavy)) + 0.5) * len(light) / len(heavy)).astype(int)
    return np.insert(light, at, heavy)


def presolve(lp: LinearProgram, tol: float = 1e-9) -> Presolved:
    """Reduce ``lp`` (single or batch, validated) as described in the module docstring.

    ``tol`` is the relative slack allowed before a bound conflict counts as infeasible."""
    A = sp.csr_matrix(lp.A)
    m, n = A.shape
    B = lp.batch_size or 1
    vals = lp.A_values if lp.A_values is not None else A.data[None, :]     # (B or 1, nnz)
    c, lx, ux = (_per_scenario(a, B) for a in (lp.c, lp.lx, lp.ux))
    lc, uc = _per_scenario(lp.lc, B), _per_scenario(lp.uc, B)
    c0 = np.broadcast_to(np.asarray(lp.c0, dtype=float), (B,)).copy()
    verdicts: list = [None] * B
    scen = np.arange(B)[:, None]

    def fail(index, bad, what, names, kind):
        """Scenarios where ``bad`` (B, len(index)) holds are infeasible; name the culprit."""
        for b, k in zip(*np.nonzero(bad)):
            if verdicts[b] is None:
                verdicts[b] = (st.INFEASIBLE, f"presolve: {_label(names, index[k], kind)} {what}")

    # 1. empty rows
    row_nnz = np.diff(A.indptr)
    empty = row_nnz == 0
    er = np.flatnonzero(empty)
    fail(er, _outside(0.0, lc[:, er], uc[:, er], tol), "has no entries and its bounds exclude 0",
         lp.row_names, "row")

    # 2. singleton rows -> bounds (a row whose one value is 0 in some scenario stays a row)
    lo_source, hi_source = np.full((B, n), -1), np.full((B, n), -1)

    def to_bounds(srows, entries, lo, hi):
        """Rows ``srows`` with one entry each (``entries``) left: their bounds become bounds on
        its column, and the rows whose bound binds are recorded (postsolve's duals); the rows
        whose entry is 0 in some scenario stay.  (rows, tightened lo, tightened hi)."""
        a = vals[:, entries]
        ok = (a != 0).all(axis=0)
        srows, a, scols = srows[ok], a[:, ok], A.indices[entries[ok]]
        with np.errstate(invalid="ignore"):
            lo_implied = np.where(a > 0, lc[:, srows], uc[:, srows]) / a
            hi_implied = np.where(a > 0, uc[:, srows], lc[:, srows]) / a
        new_lo, new_hi = lo.copy(), hi.copy()
        np.maximum.at(new_lo, (scen, scols[None, :]), lo_implied)
        np.minimum.at(new_hi, (scen, scols[None, :]), hi_implied)
        for source, implied, bound, orig in ((lo_source, lo_implied, new_lo, lo), (hi_source, hi_implied, new_hi, hi)):
            bs, ks = np.nonzero((implied == bound[:, scols]) & (implied != orig[:, scols]))
            source[bs, scols[ks]] = srows[ks]
        fail(np.arange(n), _outside(new_lo, -np.inf, new_hi, tol),
             "has bounds that cross once its singleton rows are applied", lp.var_names, "column")
        return srows, new_lo, np.maximum(new_hi, new_lo)   # crossings within tol: fix at the lower one

    srows = np.flatnonzero(row_nnz == 1)
    srows, lo, hi = to_bounds(srows, A.indptr[srows], lx, ux)

    # 3. fixed columns and columns without entries in the remaining rows
    keep_row = ~empty
    keep_row[srows] = False
    row_of = np.repeat(np.arange(m), row_nnz)
    in_kept = np.zeros(n, dtype=bool)
    in_kept[A.indices[keep_row[row_of]]] = True
    live = np.array([v is None for v in verdicts])
    fixed = (lo[live] == hi[live]).all(axis=0) if live.any() else np.zeros(n, dtype=bool)
    x_removed = np.zeros((B, n))
    x_removed[:, fixed] = lo[:, fixed]
    emptycol = ~in_kept & ~fixed
    best = np.where(c > 0, lo, np.where(c < 0, hi, np.clip(0.0, lo, hi)))
    finite = np.clip(0.0, lo, hi)
    x_removed[:, emptycol] = np.where(np.isfinite(best), best, finite)[:, emptycol]
    dual_infeasible: list = [None] * B
    for b, j in zip(*np.nonzero(~np.isfinite(best) & emptycol[None, :])):
        if dual_infeasible[b] is None:
            dual_infeasible[b] = (f"presolve: {_label(lp.var_names, j, 'column')} has cost {c[b, j]:g} "
                                  "and no entries in the rows, towards an infinite bound")
    removed = fixed | emptycol
    c0 += (c[:, removed] * x_removed[:, removed]).sum(axis=1)
    sel = np.flatnonzero(keep_row[row_of] & removed[A.indices])    # entries of removed columns
    if len(sel):
        to_row = sp.csr_matrix((np.ones(len(sel)), (row_of[sel], np.arange(len(sel)))), shape=(m, len(sel)))
        activity = (to_row @ (vals[:, sel] * x_removed[:, A.indices[sel]]).T).T   # (B, m)
        lc, uc = lc - activity, uc - activity

    # 3b. rows that the removed columns left with one entry become bounds too (a fixed capacity's
    # availability rows p_t <= p_max_pu_t·P)
    kept_entries = keep_row[row_of] & ~removed[A.indices]
    kept_per_row = np.bincount(row_of[kept_entries], minlength=m)
    late = np.flatnonzero(keep_row & (kept_per_row == 1))
    if len(late):
        entry = np.flatnonzero(kept_entries & np.isin(row_of, late))         # one per row, in row order
        late, lo, hi = to_bounds(late, entry, lo, hi)
        keep_row[late] = False
        srows = np.concatenate([srows, late])
        kept_entries = keep_row[row_of] & ~removed[A.indices]
        kept_per_row = np.bincount(row_of[kept_entries], minlength=m)

    # 4. rows left with removed columns only
    emptied = keep_row & (kept_per_row == 0)
    er = np.flatnonzero(emptied)
    fail(er, _outside(0.0, lc[:, er], uc[:, er], tol),
         "has only fixed columns and its bounds exclude their value", lp.row_names, "row")
    keep_row &= ~emptied

    rows, cols = np.flatnonzero(keep_row), np.flatnonzero(~removed)
    # 5. the densest rows and columns spread over the index range (emptied rows hold no kept entry)
    rows = rows[_spread(kept_per_row[rows])]
    cols = cols[_spread(np.bincount(A.indices[kept_entries], minlength=n)[cols])]
    in_order = bool(np.all(np.diff(rows) > 0) and np.all(np.diff(cols) > 0))
    live = np.flatnonzero([v is None for v in verdicts])
    summary = (f"presolve removed {m - len(rows)} of {m} rows ({len(srows)} singleton, {empty.sum()} empty) "
               f"and {n - len(cols)} of {n} columns ({fixed.sum()} fixed)")
    reduced = None
    if len(rows) == m and len(cols) == n and len(live) == B and not len(srows) and in_order:
        reduced = lp                                       # nothing to remove or reorder
    elif len(live) and len(cols):
        ids = A.copy()
        ids.data = np.arange(1, A.nnz + 1, dtype=float)   # entry numbers survive the slicing
        ids = ids[rows][:, cols]
        ids.sort_indices()
        order = ids.indices, ids.indptr, ids.data.astype(int) - 1
        A_red = sp.csr_matrix((A.data[order[2]], order[0], order[1]), shape=ids.shape)
        every = len(live) == B

        def pick(arr, idx):       # np.take along the columns: ~6x faster than arr[np.ix_(live, idx)]
            if not lp.is_batch:
                return arr[0][idx]
            return np.take(arr if every else arr[live], idx, axis=1)
        reduced = LinearProgram(
            c=pick(c, cols), A=A_red, lc=pick(lc, rows), uc=pick(uc, rows), lx=pick(lo, cols),
            ux=pick(hi, cols), c0=c0[live] if lp.is_batch else float(c0[0]),
            A_values=vals[np.ix_(live, order[2])] if lp.A_values is not None else None,
            var_names=None if lp.var_names is None else [lp.var_names[j] for j in cols],
            row_names=None if lp.row_names is None else [lp.row_names[i] for i in rows])
    return Presolved(lp=reduced, original=lp, rows=rows, cols=cols, x_removed=x_removed,
                     lo_source=lo_source, hi_source=hi_source, late_rows=late, verdicts=verdicts,
                     dual_infeasible=dual_infeasible, live=live, summary=summary)
