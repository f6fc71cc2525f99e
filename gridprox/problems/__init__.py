"""Problem: an objective and constraints over gridprox.modeling, compiled by
gridprox.compile and solved by gridprox.solvers (the layer above all three, as cvxpy's
``problems/``)."""
from .problem import (CLARABEL, ECOS, GLPK, GUROBI, HIGHS, OSQP, PDLP, SCIPY, SCS,  # noqa: F401
                      SOLVER_NAMES, Problem, SolverStats, resolve_solver)
