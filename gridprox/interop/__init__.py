"""Interoperation with cvxpy: ``from_cvxpy`` / ``to_cvxpy`` and a cvxpy solver class.

The solver class subclasses cvxpy's, so it (and cvxpy) is imported when first asked for:
``Problem`` imports ``cvxpy_export`` on every ``import gridprox``."""


def __getattr__(name):
    if name in ("CVXPY_PDHG", "GridproxPDHG"):
        from . import cvxpy_solver
        return getattr(cvxpy_solver, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
