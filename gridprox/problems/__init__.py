"""Problem: an objective and constraints over gridprox.modeling, compiled by
gridprox.compile and solved by gridprox.solvers (the layer above all three, as cvxpy's
``problems/``)."""
from .problem import (CLARABEL, COO_CANON_BACKEND, CPP_CANON_BACKEND, ECOS, GLPK, GUROBI, HIGHS, OSQP,  # noqa: F401
                      PDLP, RUST_CANON_BACKEND, SCIPY, SCIPY_CANON_BACKEND, SCS, SOLVER_NAMES, USER_LIMIT, Problem,
                      Solution, SolverStats, resolve_solver)
