"""``CVXPY_PDHG``: gridprox's PDHG as a cvxpy solver, so an unchanged cvxpy LP runs on it:

    problem.solve(solver=gridprox.CVXPY_PDHG)                 # or CVXPY_PDHG()
    problem.solve(solver=gridprox.CVXPY_PDHG, tol=1e-6, device="cuda")

cvxpy hands a conic solver  min c·x + d  s.t.  A x + b ∈ K  with K = Zero × NonNeg and
bounds on x.  That is a LinearProgram with rows  -b <= A x <= -b  (Zero) and
-b <= A x  (NonNeg); cvxpy's dual for those rows is the LP's row dual in HiGHS's
convention unchanged (>= 0 at an active NonNeg row).  Keyword arguments of
``solve`` go to ``gridprox.solve_lp``; ``gridprox_solver="highs"`` picks another
gridprox backend (the tests use it to check the plumbing on its own).
"""
from __future__ import annotations

import numpy as np
import cvxpy.settings as s
from cvxpy.constraints import NonNeg, Zero
from cvxpy.error import SolverError
from cvxpy.reductions.solution import Solution, failure_solution
from cvxpy.reductions.solvers import utilities
from cvxpy.reductions.solvers.conic_solvers.conic_solver import ConicSolver

from .. import solvers
from ..compile.lp import LinearProgram
from ..solvers import result as st

# gridprox status -> cvxpy status (the strings are cvxpy's except the limit statuses)
_STATUS = {st.ITERATION_LIMIT: s.USER_LIMIT, st.TIME_LIMIT: s.USER_LIMIT}


def _bounds(bounds, n: int, fill: float) -> np.ndarray:
    return np.full(n, fill) if bounds is None else np.asarray(bounds, dtype=float)


class GridproxPDHG(ConicSolver):
    """cvxpy ConicSolver that solves LPs with ``gridprox.solve_lp`` (PDHG by default).

    An instance is callable and returns a fresh instance, so the exported
    ``CVXPY_PDHG`` works both as ``solver=CVXPY_PDHG`` and ``solver=CVXPY_PDHG()``."""

    MIP_CAPABLE = False
    BOUNDED_VARIABLES = True
    SUPPORTED_CONSTRAINTS = [Zero, NonNeg]
    CONSTRAINTS = "constraints"

    def __call__(self) -> "GridproxPDHG":
        return type(self)()

    def name(self) -> str:
        return "GRIDPROX_PDHG"

    def import_solver(self) -> None:
        """cvxpy's installed-check: this class is part of gridprox, so nothing is missing."""

    def cite(self, data) -> str:
        return "gridprox (restarted, preconditioned PDHG for LP, after PDLP and cuPDLPx)"

    def apply(self, problem):
        """The LinearProgram of cvxpy's cone program, and what maps the answer back."""
        # cvxpy's solver check can miss cones that a reduction adds later (DGP's pf_eigenvalue
        # brings exponential cones): refuse them as cvxpy refuses a solver, not with a TypeError
        other = sorted({type(con).__name__ for con in problem.constraints if not isinstance(con, (Zero, NonNeg))})
        if other:
            raise SolverError(f"The solver {self.name()} cannot solve this problem: its cone program has "
                              f"{', '.join(other)} constraints, and gridprox solves linear programs only.")
        if not problem.formatted:
            problem = self.format_constraints(problem, None)
        c, d, A, b = problem.apply_parameters()
        n = A.shape[1]
        num_eq = problem.cone_dims.zero
        lower = -np.asarray(b, dtype=float)
        upper = np.concatenate([lower[:num_eq], np.full(lower.size - num_eq, np.inf)])
        lp = LinearProgram(c=c, A=A, lc=lower, uc=upper, lx=_bounds(problem.lower_bounds, n, -np.inf),
                           ux=_bounds(problem.upper_bounds, n, np.inf), c0=float(np.asarray(d).item()))
        constr_map = problem.constr_map
        inverse = {self.VAR_ID: problem.x.id, self.CONSTRAINTS: constr_map[Zero] + constr_map[NonNeg]}
        return {"lp": lp, s.PARAM_PROB: problem, self.DIMS: problem.cone_dims}, inverse

    def solve_via_data(self, data, warm_start: bool, verbose: bool, solver_opts, solver_cache=None):
        """Solve with ``solve_lp``; with cvxpy's ``warm_start`` (its default), PDHG starts
        from this problem's previous solution when the LP has the same size."""
        opts = dict(solver_opts)
        backend = opts.pop("gridprox_solver", "pdhg")
        if verbose:
            opts.setdefault("verbose", True)
        lp = data["lp"]
        previous = solver_cache.get(self.name()) if solver_cache is not None else None
        if (warm_start and backend == "pdhg" and "warm_start" not in opts and previous is not None
                and previous.x is not None and previous.y is not None
                and previous.x.shape == (lp.num_vars,) and previous.y.shape == (lp.num_rows,)):
            opts["warm_start"] = previous
        result = solvers.solve_lp(lp, solver=backend, **opts)
        if solver_cache is not None:
            solver_cache[self.name()] = result
        return result

    def invert(self, solution, inverse_data):
        """gridprox Result -> cvxpy Solution (value includes cvxpy's offset via c0)."""
        status = _STATUS.get(solution.status, solution.status)
        attr = {s.SOLVE_TIME: solution.seconds, s.NUM_ITERS: solution.iterations,
                s.EXTRA_STATS: solution}
        if status not in s.SOLUTION_PRESENT or solution.x is None:
            if status in s.SOLUTION_PRESENT:
                status = s.SOLVER_ERROR
            return failure_solution(status, attr)
        primal = {inverse_data[self.VAR_ID]: solution.x}
        dual = {}
        if solution.y is not None:
            dual = utilities.get_dual_values(solution.y, utilities.extract_dual_value,
                                             inverse_data[self.CONSTRAINTS])
        return Solution(status, solution.objective, primal, dual, attr)


CVXPY_PDHG = GridproxPDHG()
