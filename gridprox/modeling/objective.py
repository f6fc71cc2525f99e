"""Minimize and Maximize: cvxpy's objectives, a scalar expression and a sense, with cvxpy's
arithmetic (objectives of one sense add, negation and negative scaling flip the sense)."""
from __future__ import annotations

import numbers

from ..errors import ModelingError, naming
from .affine import reshape
from .canon import find_culprit
from .expression import CONCAVE, CONVEX, as_expr


class Minimize:
    NAME = "minimize"

    def __init__(self, expr):
        expr = as_expr(expr)
        if expr.size != 1:
            raise ValueError(f"The '{self.NAME}' objective must resolve to a scalar.")     # cvxpy's words
        if expr.shape != ():
            expr = reshape(expr, (), "F")
        self.expr = expr
        self.args = (expr,)

    @property
    def value(self):
        v = self.expr.value
        return None if v is None else float(v)

    def __str__(self):
        return f"{self.NAME} {self.expr}"

    def __repr__(self):
        return f"{type(self).__name__}({self.expr!r})"

    def is_dcp(self, dpp: bool = False) -> bool:
        ok = find_culprit(self.expr, CONVEX if self.NAME == "minimize" else CONCAVE) is None
        return ok and self.expr.is_dpp() if dpp else ok

    def copy(self, args=None, id_objects=None):
        """cvxpy's ``copy``: the same sense over the same expression, or over ``args[0]``."""
        return type(self)(self.expr if args is None else args[0])

    @property
    def canonical_form(self):
        """cvxpy's (objective form to minimize, [rows]): a Maximize's form negated."""
        form, rows = self.expr.canonical_form
        return (-form if self.NAME == "maximize" else form), rows

    def is_dgp(self, dpp: bool = False) -> bool:
        if self.NAME == "minimize":
            return self.expr.is_log_log_convex(dpp)
        return self.expr.is_log_log_concave(dpp)

    # ------------------------------------------------------------ arithmetic
    def _flipped(self):
        return Minimize if isinstance(self, Maximize) else Maximize

    def __neg__(self):
        return self._flipped()(-self.expr)

    def __add__(self, other):
        if isinstance(other, numbers.Number) and other == 0:
            return self                         # so that sum([objectives]) works, as in cvxpy
        if not isinstance(other, Minimize):
            return NotImplemented
        if type(other) is not type(self):       # a convex plus a concave objective
            raise naming(ModelingError("Problem does not follow DCP rules."),
                         f"{self} + {other}: a minimization added to a maximization")
        return type(self)(self.expr + other.expr)

    __radd__ = __add__

    def __sub__(self, other):
        if not isinstance(other, Minimize):
            return NotImplemented
        return self + (-other)

    def __rsub__(self, other):
        if isinstance(other, numbers.Number) and other == 0:
            return -self
        return NotImplemented

    def __mul__(self, other):
        if not isinstance(other, numbers.Real) or isinstance(other, bool):
            return NotImplemented
        # a negative factor turns a minimization into a maximization, as in cvxpy
        sense = type(self) if other >= 0 else self._flipped()
        return sense(self.expr * float(other))

    __rmul__ = __mul__

    def __truediv__(self, other):
        if not isinstance(other, numbers.Real) or isinstance(other, bool):
            return NotImplemented
        return self * (1.0 / other)

    def is_dpp(self) -> bool:
        return self.is_dcp(dpp=True)

    def variables(self):
        return self.expr.variables()

    def parameters(self):
        return self.expr.parameters()


class Maximize(Minimize):
    NAME = "maximize"
