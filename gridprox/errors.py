"""Exceptions raised to users.  Each message names the culprit."""


class GridproxError(Exception):
    """Base class of gridprox's own errors."""


class ModelingError(GridproxError, ValueError):
    """The model is not a linear program (a product of variables, a concave atom
    minimised, a strict inequality, ...).  The message names the expression."""


class SolverError(GridproxError, RuntimeError):
    """A backend is unavailable or cannot take this problem (not installed, licence
    too small, unknown option).  Not raised for infeasible/unbounded problems: those
    are statuses."""


class KernelCacheWarning(UserWarning):
    """The compiled-kernel cache was refused or a cached library failed its checks (it is
    rebuilt, built privately, or the solver stays on torch).  The message names the path and why."""


class LPFileError(ModelingError):
    """An LP or MPS file is malformed.  ``path`` and ``line`` (1-based; None for the whole
    file) locate the problem; the message says what it is."""

    def __init__(self, message: str, path: str = "", line=None):
        super().__init__(message)
        self.path, self.line = path, line


def naming(exc: Exception, culprit: str) -> Exception:
    """``exc``, whose message is cvxpy's own words, with ``culprit`` as a note under it (PEP 678):
    code that matches cvxpy's messages works unchanged, and every traceback still names the culprit."""
    if hasattr(exc, "add_note"):
        exc.add_note(culprit)
    else:                                   # Python 3.10 has no notes: the culprit joins the message
        exc.args = (f"{exc.args[0]} ({culprit})", *exc.args[1:])
    return exc
