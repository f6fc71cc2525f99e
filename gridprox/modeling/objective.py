"""Minimize and Maximize: cvxpy's objectives, a scalar expression and a sense."""
from __future__ import annotations

from .affine import reshape
from .canon import find_culprit
from .expression import CONCAVE, CONVEX, as_expr


class Minimize:
    NAME = "minimize"

    def __init__(self, expr):
        expr = as_expr(expr)
        if expr.size != 1:
            raise ValueError(f"the objective must be a scalar, got {expr} of shape {expr.shape}")
        if expr.shape != ():
            expr = reshape(expr, ())
        self.expr = expr
        self.args = (expr,)

    @property
    def value(self):
        v = self.expr.value
        return None if v is None else float(v)

    def __str__(self):
        return f"{self.NAME} {self.expr}"

    def __repr__(self):
        return f"{type(self).__name__}({self.expr})"

    def is_dcp(self) -> bool:
        return find_culprit(self.expr, CONVEX if self.NAME == "minimize" else CONCAVE) is None


class Maximize(Minimize):
    NAME = "maximize"
