"""cvxpy's ``cp.error`` namespace (``except cp.error.SolverError``), on gridprox's exceptions.

gridprox refuses every non-LP model with ModelingError, so cvxpy's DCP, DGP and DQCP errors
are that one class under their cvxpy names.
"""
from ..errors import ModelingError, SolverError  # noqa: F401
from .canon import DPPError, ParameterError  # noqa: F401

DCPError = DGPError = DQCPError = ModelingError


class CvxpyDeprecationWarning(DeprecationWarning):
    """cvxpy's warning for its deprecated spellings (conv, NonPos(expr), ``*`` as a matrix product)."""


__all__ = ["SolverError", "DCPError", "DGPError", "DQCPError", "DPPError", "ParameterError",
           "CvxpyDeprecationWarning"]
