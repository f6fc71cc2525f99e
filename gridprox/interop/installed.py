"""cvxpy's ``installed_solvers()`` under ``import gridprox as cp``."""
from __future__ import annotations


def installed_solvers() -> list:
    """cvxpy's ``installed_solvers()``: gridprox's backends (upper case, as cvxpy names solvers),
    then every solver the installed cvxpy has, which ``solve(solver=...)`` reaches through it."""
    from .. import solvers
    names = [s.upper() for s in solvers.available_solvers() if s != "cvxpy"]
    if "gurobi" in solvers.available_solvers():
        try:
            import gurobipy  # noqa: F401
        except ImportError:
            names.remove("GUROBI")
    try:
        import cvxpy
        names += [n for n in cvxpy.installed_solvers() if n not in names]
    except ImportError:
        pass
    return names
