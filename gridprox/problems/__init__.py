"""Problem: an objective and constraints over gridprox.modeling, compiled by
gridprox.compile and solved by gridprox.solvers (the layer above all three, as cvxpy's
``problems/``)."""
from .problem import (COO_CANON_BACKEND, CPP_CANON_BACKEND, RUST_CANON_BACKEND, SCIPY_CANON_BACKEND,  # noqa: F401
                      SOLVER_NAMES, USER_LIMIT, Problem, Solution, SolverStats, resolve_solver)

globals().update(zip(SOLVER_NAMES, SOLVER_NAMES))      # cvxpy's solver-name constants: HIGHS = "HIGHS", ...
