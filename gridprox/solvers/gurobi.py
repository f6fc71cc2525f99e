"""Backend "gurobi": one LinearProgram solved by Gurobi through gurobipy's matrix API.

Only when gurobipy imports and its licence admits the size: the pip-installed
licence stops at 2000 variables and 2000 constraints, and the error then says so
with the LP's sizes.  Gurobi's Pi is d objective / d rhs, which for a minimisation
is HiGHS's row-dual sign (>= 0 on active >= rows); its RC is c − AᵀPi.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..compile.lp import LinearProgram
from ..errors import SolverError
from . import SolverInputError, attach_solution, check_common_options
from . import result as st
from .cvxpy_backend import duals_from_parts, row_kinds
from .result import Result

METHODS = {"choose": -1, "simplex": 1, "ipm": 2}
SIZE_LIMIT_ERRNO = 10010  # gurobipy's "model too large for size-limited license"

_env = None


def _gurobipy():
    try:
        import gurobipy
    except ImportError as exc:
        raise SolverError("solver 'gurobi' needs gurobipy (pip install gurobipy) and a Gurobi licence") from exc
    return gurobipy


def _environment(gp):
    """One quiet Gurobi environment per process (starting one checks the licence)."""
    global _env
    if _env is None:
        try:
            env = gp.Env(empty=True)
            env.setParam("OutputFlag", 0)
            env.start()
        except gp.GurobiError as exc:
            raise SolverError(f"Gurobi licence unavailable: {exc}") from exc
        _env = env
    return _env


def _status_map(GRB) -> dict:
    s = GRB.Status
    return {s.OPTIMAL: st.OPTIMAL, s.SUBOPTIMAL: st.OPTIMAL_INACCURATE, s.INFEASIBLE: st.INFEASIBLE,
            s.UNBOUNDED: st.UNBOUNDED, s.INF_OR_UNBD: st.INFEASIBLE_OR_UNBOUNDED,
            s.ITERATION_LIMIT: st.ITERATION_LIMIT, s.TIME_LIMIT: st.TIME_LIMIT}


def _params(method, tol, time_limit, threads, verbose, gurobi_params) -> dict:
    """Gurobi parameters for ``solve_gurobi``'s options (gridprox's common rules checked)."""
    if not isinstance(method, str) or method not in METHODS:
        raise SolverInputError(f"Gurobi method {method!r} unknown; choose one of {sorted(METHODS)}")
    check_common_options("gurobi", {"tol": tol, "time_limit": time_limit, "threads": threads, "verbose": verbose,
                                    **gurobi_params})
    params = {"OutputFlag": int(bool(verbose)), "Method": METHODS[method]}
    if tol is not None:
        params.update(FeasibilityTol=tol, OptimalityTol=tol, BarConvTol=tol)
    if time_limit is not None:
        params["TimeLimit"] = time_limit
    if threads is not None:
        params["Threads"] = threads
    params.update(gurobi_params)
    return params


def _set_params(gp, model, params: dict) -> None:
    for name, value in params.items():
        try:
            model.setParam(name, value.item() if isinstance(value, np.generic) else value)
        except (gp.GurobiError, TypeError, ValueError) as exc:
            raise SolverInputError(f"gurobi: Gurobi rejected parameter {name}={value!r}: {exc}") from None


def check_options(lp=None, method: str = "choose", tol: float | None = None, time_limit: float | None = None,
                  threads: int | None = None, verbose: bool = False, **gurobi_params) -> None:
    """Raise SolverInputError when ``solve_gurobi`` would refuse these options: each parameter
    is set on a scratch model (an unknown name or a value out of Gurobi's range is refused
    there); SolverError when gurobipy or its licence is missing.  Solves nothing."""
    params = _params(method, tol, time_limit, threads, verbose, gurobi_params)
    gp = _gurobipy()
    model = gp.Model(env=_environment(gp))
    try:
        _set_params(gp, model, params)
    finally:
        model.dispose()


def solve_gurobi(lp: LinearProgram, method: str = "choose", tol: float | None = None,
                 time_limit: float | None = None, threads: int | None = None,
                 verbose: bool = False, **gurobi_params) -> Result:
    """Solve one LP with Gurobi.  method: "simplex" (dual simplex) | "ipm" (barrier with
    crossover) | "choose"; tol sets FeasibilityTol, OptimalityTol and BarConvTol; any other
    keyword is a raw Gurobi parameter (``Presolve=0``)."""
    gp = _gurobipy()
    GRB = gp.GRB
    if lp.is_batch:
        raise SolverError("solve_gurobi takes a single LP; solve_lp loops over a batch")
    params = _params(method, tol, time_limit, threads, verbose, gurobi_params)
    kinds = row_kinds(lp)
    model = gp.Model(env=_environment(gp))
    try:
        _set_params(gp, model, params)

        x = model.addMVar(lp.num_vars, lb=lp.lx, ub=lp.ux)
        rows = sp.vstack([lp.A[kinds.eq], lp.A[kinds.lower], lp.A[kinds.upper]], format="csr")
        sense = np.concatenate([np.full(kinds.eq.sum(), "="), np.full(kinds.lower.sum(), ">"),
                                np.full(kinds.upper.sum(), "<")])
        rhs = np.concatenate([lp.lc[kinds.eq], lp.lc[kinds.lower], lp.uc[kinds.upper]])
        constrs = model.addMConstr(rows, x, sense, rhs) if rows.shape[0] else None
        model.setObjective(lp.c @ x + float(lp.c0), GRB.MINIMIZE)
        try:
            model.optimize()
        except gp.GurobiError as exc:
            if exc.errno == SIZE_LIMIT_ERRNO:
                raise SolverError(
                    f"LP too large for this Gurobi licence: {lp.num_vars} variables and "
                    f"{rows.shape[0]} constraints ({lp.num_rows} rows); the size-limited pip "
                    f"licence allows 2000 of each") from exc
            raise SolverError(f"Gurobi failed: {exc}") from exc

        status = _status_map(GRB).get(model.Status, st.SOLVER_ERROR)
        out = Result(status=status, iterations=int(model.IterCount + model.BarIterCount),
                     seconds=model.Runtime, solver="gurobi", message=f"Gurobi status {model.Status}")
        if model.SolCount == 0 or status not in st.SOLUTION_STATUSES + st.LIMIT_STATUSES:
            return out
        y = None
        if constrs is not None and status in st.SOLUTION_STATUSES:
            pi = constrs.Pi
            ne, nl = kinds.eq.sum(), kinds.lower.sum()
            y = duals_from_parts(kinds, eq=pi[:ne], lower=pi[ne:ne + nl], upper=pi[ne + nl:])
        elif status in st.SOLUTION_STATUSES:
            y = np.zeros(0)
        return attach_solution(out, lp, x.X, y)
    finally:
        model.dispose()
