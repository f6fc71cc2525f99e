"""HiGHS's presolve in front of another solver (``solve_lp(lp, "pdhg", presolve="highs")``).

Each LP (each scenario of a batch) is presolved by HiGHS; the reduced LP is solved by the named
backend; the reduced primal-dual point is handed back to HiGHS's postsolve, which maps x, the
row duals and the reduced costs to the original LP.  The Result is then measured by gridprox on
the original LP (``attach_solution``), so its residuals and status are the original's.  Postsolve
can spread a reduced row's error over the rows it removed: a PDHG point that met tol on the
reduced LP but misses it on the original is resumed on the reduced LP at a tighter tol
(``REFINE_ROUNDS``).  Warm starts are refused: HiGHS offers no map of a point into its reduced LP.

A batch: HiGHS presolves per LP, so scenarios that differ only in c or bounds may be reduced
differently.  Reduced scenarios that share A (shape, pattern and values) are stacked and solved
as one batch; the others are solved in groups of equal A (one by one at worst).
"""
from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp

from ..compile.lp import LinearProgram
from ..errors import SolverError
from . import result as st
from .result import Result

# options that describe the original LP's scenarios and cannot be carried through the reduction
_UNMAPPED = ("warm_start", "coordinates")
# times PDHG may resume on a reduced LP whose postsolved point missed tol (``_refined``)
REFINE_ROUNDS = 2


class _Reduced:
    """One single LP presolved by HiGHS: the Highs instance (kept for its postsolve), the
    reduced LP (None when presolve decided the LP or left nothing to solve) and the seconds."""

    def __init__(self, lp: LinearProgram):
        from .highs import _build, _highspy

        highspy = _highspy()
        t0 = time.perf_counter()
        self.original = lp
        self.h = _build(lp)
        self.h.presolve()
        self.status = self.h.getModelPresolveStatus()
        P = highspy.HighsPresolveStatus
        self.verdict = {P.kInfeasible: st.INFEASIBLE,
                        P.kUnboundedOrInfeasible: st.INFEASIBLE_OR_UNBOUNDED}.get(self.status)
        if self.verdict is None and self.status not in (P.kReduced, P.kReducedToEmpty, P.kNotReduced, P.kTimeout):
            raise SolverError(f"HiGHS presolve failed ({self.status.name})")
        self.lp = None
        if self.status in (P.kReduced, P.kTimeout):
            self.lp = _as_linear_program(self.h.getPresolvedLp())
        elif self.status == P.kNotReduced:
            self.lp = lp
        self.empty = self.status == P.kReducedToEmpty
        self.seconds = time.perf_counter() - t0

    @property
    def summary(self) -> str:
        m, n = self.original.shape
        if self.empty:
            return f"HiGHS presolve: {m} rows x {n} columns reduced to empty"
        if self.lp is None:
            return f"HiGHS presolve: {self.verdict}"
        r, k = self.lp.shape
        return f"HiGHS presolve: {m} x {n} -> {r} x {k}, {self.original.A.nnz} -> {self.lp.A.nnz} nonzeros"

    def postsolve(self, x, y, z):
        """The reduced point (x, y, z) mapped to the original LP by HiGHS: (x, y) or None when
        HiGHS refuses it."""
        from .highs import _highspy

        highspy = _highspy()
        sol = highspy.HighsSolution()
        if self.status == highspy.HighsPresolveStatus.kNotReduced:
            return x, y
        reduced = self.lp
        sol.col_value = np.asarray(x, dtype=float)
        sol.row_value = reduced.A @ sol.col_value if reduced is not None else np.zeros(0)
        sol.row_dual = np.asarray(y, dtype=float)
        sol.col_dual = np.asarray(z, dtype=float)
        sol.value_valid = sol.dual_valid = True
        if self.h.postsolve(sol) == highspy.HighsStatus.kError:
            return None
        out = self.h.getSolution()
        return np.asarray(out.col_value, dtype=float), np.asarray(out.row_dual, dtype=float)


def _as_linear_program(model) -> LinearProgram:
    """A HighsLp (HiGHS's reduced LP, minimisation) as a gridprox LinearProgram."""
    from .highs import _highspy

    highspy = _highspy()
    m, n = model.num_row_, model.num_col_
    a = model.a_matrix_
    parts = (np.asarray(a.value_, dtype=float), np.asarray(a.index_), np.asarray(a.start_))
    if a.format_ == highspy.MatrixFormat.kRowwise:
        A = sp.csr_matrix(parts, shape=(m, n))
    else:
        A = sp.csc_matrix(parts, shape=(m, n)).tocsr()
    A.sort_indices()
    sign = -1.0 if model.sense_ == highspy.ObjSense.kMaximize else 1.0
    return LinearProgram(c=sign * np.asarray(model.col_cost_, dtype=float), A=A,
                         lc=np.asarray(model.row_lower_, dtype=float), uc=np.asarray(model.row_upper_, dtype=float),
                         lx=np.asarray(model.col_lower_, dtype=float), ux=np.asarray(model.col_upper_, dtype=float),
                         c0=sign * float(model.offset_))


def solve_highs_presolved(lp: LinearProgram, solver: str, options: dict):
    """``lp`` (single or batch) presolved by HiGHS, the reduced LPs solved by ``solver`` through
    ``solve_lp`` (gridprox's own presolve off) with ``options``, the points postsolved by
    HiGHS.  One Result per scenario (a Result for a single LP), measured on the original LP;
    ``stages`` holds the presolve, solve and postsolve seconds.  "optimal" from the inner
    solver stays optimal only if the original LP's residuals are within ``tol`` too."""
    from . import SolverInputError

    unmapped = [k for k in _UNMAPPED if options.get(k) is not None]
    if unmapped:
        raise SolverInputError(f"presolve='highs': {', '.join(unmapped)} describe the original LP and cannot be "
                               "mapped through HiGHS's presolve; use presolve=True or False")
    singles = lp.scenarios()
    reduced = [_Reduced(s) for s in singles]
    inner: list = [None] * len(singles)
    for group in _groups(reduced):
        sub = reduced[group[0]].lp if len(group) == 1 else LinearProgram.stack([reduced[k].lp for k in group])
        t0 = time.perf_counter()
        out = _solve_inner(sub, solver, options)
        share = (time.perf_counter() - t0) / len(group)
        for k, r in zip(group, out if isinstance(out, list) else [out]):
            inner[k] = (r, share)
    results = [_refined(reduced[k], inner[k], solver, options) for k in range(len(singles))]
    return results if lp.is_batch else results[0]


def _refined(red: _Reduced, inner, solver: str, options: dict) -> Result:
    """``_finish``; then, where PDHG's point met tol on the reduced LP but not after postsolve
    (postsolve spreads a reduced row's error over the rows it removed), PDHG resumed from it at
    a tol tighter by twice the miss, at most REFINE_ROUNDS times within the time limit."""
    out, miss = _finish(red, inner, solver, options)
    if solver != "pdhg" or miss is None:
        return out
    res, spent = inner
    tight = options.get("tol") or 1e-4
    limit = options.get("time_limit")
    for round_ in range(1, REFINE_ROUNDS + 1):
        left = None if limit is None else limit - out.seconds
        if miss is None or (left is not None and left <= 0):
            break
        tight = max(tight / (2 * miss), 1e-12)
        t0 = time.perf_counter()
        more = _solve_inner(red.lp, solver, {**options, "tol": tight, "warm_start": res,
                                             **({} if left is None else {"time_limit": left})})
        spent += time.perf_counter() - t0
        more.iterations += res.iterations
        more.seconds += res.seconds
        res = more
        out, miss = _finish(red, (res, spent), solver, options)
        out.message += f"; PDHG resumed {round_} time(s) on the reduced LP, to tol {tight:.2g}, for tol after postsolve"
    return out


def _solve_inner(lp: LinearProgram, solver: str, options: dict):
    from . import solve_lp

    return solve_lp(lp, solver=solver, presolve=False, **options)


def _groups(reduced: list) -> list[list[int]]:
    """Indices of the scenarios with a reduced LP to solve, grouped by equal A."""
    groups: dict = {}
    for k, r in enumerate(reduced):
        if r.lp is None:
            continue
        A = r.lp.A
        key = (A.shape, A.indptr.tobytes(), A.indices.tobytes(), A.data.tobytes())
        groups.setdefault(key, []).append(k)
    return list(groups.values())


def _finish(red: _Reduced, inner, solver: str, options: dict) -> tuple[Result, float | None]:
    """Scenario's Result on its original LP, and by how many times tol its postsolved point
    misses tol where the inner solver called it optimal (None: no miss)."""
    from . import _settle, attach_solution

    lp = red.original
    if red.verdict is not None:
        out = Result(status=red.verdict, solver=f"highs-presolve+{solver}", seconds=red.seconds,
                     message=red.summary, stages={"highs_presolve": {"seconds": red.seconds}})
        return _settle(lp, out, options), None
    stages = {"highs_presolve": {"seconds": red.seconds}}
    if red.empty:   # HiGHS solved it: postsolve an empty point
        res = Result(status=st.OPTIMAL, x=np.zeros(0), y=np.zeros(0), z=np.zeros(0))
        inner_seconds, label = 0.0, "highs-presolve"
    else:
        res, inner_seconds = inner
        stages[solver] = {"iterations": res.iterations, "seconds": res.seconds}
        label = f"highs-presolve+{res.solver or solver}"
    out = Result(status=res.status, iterations=res.iterations, solver=label,
                 message="; ".join(s for s in (res.message, red.summary) if s), stages=stages)
    out.seconds = red.seconds + inner_seconds
    if res.x is None:     # a certificate or no point: the reduced LP's verdict holds for the original
        if res.status in (st.INFEASIBLE, st.UNBOUNDED, st.INFEASIBLE_OR_UNBOUNDED):
            out.message += "; status of the reduced LP"
        return out, None
    t0 = time.perf_counter()
    z = res.z if res.z is not None else (red.lp.c - red.lp.A.T @ res.y if res.y is not None else None)
    y = res.y if res.y is not None else np.zeros(red.lp.num_rows if red.lp is not None else 0)
    mapped = red.postsolve(res.x, y, z if z is not None else np.zeros_like(res.x))
    seconds = time.perf_counter() - t0
    stages["postsolve"] = {"seconds": seconds}
    out.seconds += seconds
    if mapped is None:
        out.status = st.SOLVER_ERROR
        out.message += "; HiGHS's postsolve refused the point"
        return out, None
    x, y_orig = mapped
    attach_solution(out, lp, x, y_orig if res.y is not None else None)
    tol = options.get("tol") or (1e-4 if solver == "pdhg" else None)
    if out.status == st.OPTIMAL and tol is not None and out.y is not None:
        measures = ("primal", "dual", "gap") + (("row_rel", "col_rel") if solver == "pdhg"
                                               and options.get("each_row", True) else ())
        worst = max(measures, key=lambda key: out.residuals[key])
        if out.residuals[worst] > tol * (1 + 1e-6):
            out.status = st.OPTIMAL_INACCURATE
            out.message += f"; after postsolve {worst} is {out.residuals[worst]:.2g} > tol on the original LP"
            return out, out.residuals[worst] / tol
    return out, None
