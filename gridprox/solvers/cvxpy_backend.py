"""Backend "cvxpy": a LinearProgram rebuilt as a cvxpy problem and solved by any solver
cvxpy has installed (HiGHS, Clarabel, SCS, Gurobi, ...).

Rows are split by kind: equalities ``A x == b``, lower rows ``A x >= lc`` and upper
rows ``A x <= uc`` (a ranged row is in both).  cvxpy's duals are mapped back to
HiGHS's convention: y = +dual of the ``>=`` part − dual of the ``<=`` part, and
y = −dual for an equality (cvxpy reports equality duals with the opposite sign).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..compile.lp import LinearProgram
from ..errors import SolverError
from . import result as st
from .result import Result
from . import SolverInputError, attach_solution, check_common_options

# cvxpy's status strings are gridprox's, except its one limit status
_LIMIT = {"user_limit": st.ITERATION_LIMIT}


@dataclass
class RowKinds:
    """Boolean row masks: equalities, rows with a finite lower side, rows with a finite
    upper side (a ranged row is in ``lower`` and ``upper``; a free row in neither)."""

    eq: np.ndarray
    lower: np.ndarray
    upper: np.ndarray


def row_kinds(lp: LinearProgram) -> RowKinds:
    """Split a single LP's rows for modelling layers that only know ==, >=, <=."""
    eq = lp.lc == lp.uc
    return RowKinds(eq=eq, lower=~eq & np.isfinite(lp.lc), upper=~eq & np.isfinite(lp.uc))


def duals_from_parts(kinds: RowKinds, eq, lower, upper) -> np.ndarray:
    """HiGHS-convention y from the duals of the == / >= / <= parts, each given as
    d obj / d rhs (so >= 0 for >=, <= 0 for <=); absent parts are None."""
    y = np.zeros(kinds.eq.shape[0])
    for mask, d in ((kinds.eq, eq), (kinds.lower, lower), (kinds.upper, upper)):
        if d is not None:
            y[mask] += np.asarray(d, dtype=float)
    return y


def _default_solver(installed: list[str]) -> str:
    for name in ("HIGHS", "CLARABEL"):
        if name in installed:
            return name
    raise SolverError(f"solver 'cvxpy' needs HIGHS or CLARABEL installed in cvxpy (installed: {installed})")


_CHECKED: dict = {}      # repr of (solver, options) -> None when a trial solve accepted them


def _solver_name(cvxpy_solver) -> str:
    import cvxpy as cp

    installed = cp.installed_solvers()
    if cvxpy_solver is not None and not isinstance(cvxpy_solver, str):
        raise SolverInputError(f"cvxpy: option cvxpy_solver={cvxpy_solver!r} must be a cvxpy solver name "
                               f"({', '.join(installed)})")
    name = (cvxpy_solver or _default_solver(installed)).upper()
    if name not in installed:
        raise SolverInputError(f"cvxpy solver {cvxpy_solver!r} is not installed; installed: {', '.join(installed)}")
    return name


def citation(cvxpy_solver: str) -> str:
    """cvxpy's BibTeX record of one of its solvers ("" when it has none, or the cvxpy is older
    than its citation records)."""
    try:
        from cvxpy.utilities.citations import CITATION_DICT
    except ImportError:
        return ""

    return CITATION_DICT.get(str(cvxpy_solver).upper(), "")


def check_options(lp=None, cvxpy_solver: str | None = None, verbose: bool = False, **solver_options) -> None:
    """Raise SolverInputError when ``solve_cvxpy`` would refuse these options: the solver is
    installed, gridprox's common rules hold, and a one-variable LP solved with exactly these
    options raises nothing (cvxpy hands unknown keywords to the solver, which fails in its own
    way: TypeError, ValueError, OverflowError...).  Accepted combinations are remembered."""
    import cvxpy as cp

    check_common_options("cvxpy", {"verbose": verbose, **solver_options})
    name = _solver_name(cvxpy_solver)
    try:
        key = repr((name, sorted(solver_options.items())))
    except Exception:  # noqa: BLE001 - an option without a repr is checked each time
        key = None
    if key is not None and key in _CHECKED:
        return
    x = cp.Variable(1, bounds=[np.zeros(1), np.full(1, 2.0)])
    trial = cp.Problem(cp.Minimize(cp.sum(x)), [x >= 1])
    try:
        trial.solve(solver=name, **solver_options)
    except cp.error.SolverError:
        pass                 # the solver ran: the options were taken
    except Exception as exc:  # noqa: BLE001 - how each solver refuses an option differs
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise SolverInputError(f"cvxpy/{name} refused option(s) {sorted(solver_options)}: {text}") from None
    if key is not None:
        if len(_CHECKED) > 256:
            _CHECKED.clear()
        _CHECKED[key] = None


def build_cvxpy(lp: LinearProgram):
    """The cvxpy Problem of a single LP; returns (problem, x, constraints by kind)."""
    import cvxpy as cp

    kinds = row_kinds(lp)
    x = cp.Variable(lp.num_vars, bounds=[lp.lx, lp.ux])
    cons = {}
    if kinds.eq.any():
        cons["eq"] = lp.A[kinds.eq] @ x == lp.lc[kinds.eq]
    if kinds.lower.any():
        cons["lower"] = lp.A[kinds.lower] @ x >= lp.lc[kinds.lower]
    if kinds.upper.any():
        cons["upper"] = lp.A[kinds.upper] @ x <= lp.uc[kinds.upper]
    problem = cp.Problem(cp.Minimize(lp.c @ x + float(lp.c0)), list(cons.values()))
    return problem, x, cons, kinds


def solve_cvxpy(lp: LinearProgram, cvxpy_solver: str | None = None, verbose: bool = False,
                **solver_options) -> Result:
    """Solve one LP through cvxpy with ``cvxpy_solver`` (default HIGHS, else CLARABEL);
    other keywords go to ``cvxpy.Problem.solve`` unchanged."""
    import cvxpy as cp

    if lp.is_batch:
        raise SolverError("solve_cvxpy takes a single LP; solve_lp loops over a batch")
    check_options(lp, cvxpy_solver, verbose, **solver_options)
    name = _solver_name(cvxpy_solver)
    problem, x, cons, kinds = build_cvxpy(lp)
    start = time.perf_counter()
    try:
        problem.solve(solver=name, verbose=verbose, **solver_options)
    except cp.error.SolverError as exc:
        return Result(status=st.SOLVER_ERROR, solver=f"cvxpy/{name}", message=str(exc),
                      seconds=time.perf_counter() - start)
    stats = problem.solver_stats
    out = Result(status=_LIMIT.get(problem.status, problem.status), solver=f"cvxpy/{name}",
                 seconds=stats.solve_time if stats.solve_time is not None else time.perf_counter() - start,
                 iterations=int(stats.num_iters or 0), message=f"cvxpy status {problem.status}")
    if out.status not in st.ALL_STATUSES:
        out.status, out.message = st.SOLVER_ERROR, f"unexpected cvxpy status {problem.status!r}"
    if x.value is None:
        return out
    y = None
    if all(c.dual_value is not None for c in cons.values()):
        # cvxpy's duals are >= 0 for both inequality kinds and -d obj/d rhs for equalities
        part = {k: np.asarray(c.dual_value) for k, c in cons.items()}
        y = duals_from_parts(kinds, eq=-part["eq"] if "eq" in part else None, lower=part.get("lower"),
                             upper=-part["upper"] if "upper" in part else None)
    return attach_solution(out, lp, x.value, y)
