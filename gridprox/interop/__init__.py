"""Interoperation with cvxpy (importing this package imports cvxpy)."""
from .cvxpy_solver import CVXPY_PDHG, GridproxPDHG  # noqa: F401
