"""cvxpy's ``cp.transforms`` that stay linear programs: ``indicator``, ``linearize`` (and
``partial_optimize``, which builds on Problem and is attached by the package)."""
from __future__ import annotations

import numpy as np

from .affine import reshape, vec
from .expression import CONVEX, INCREASING, NONMONOTONE, Constant, Expression, as_expr
from .form import Form


class Indicator(Expression):
    """0 where every constraint holds, +inf elsewhere (cvxpy's ``transforms.indicator``): in a
    problem its constraints are added, and it contributes nothing to the objective."""

    _atom_curvature = CONVEX

    def __init__(self, constraints, err_tol=1e-3):
        self._constraints = list(constraints)
        self._err_tol = err_tol
        super().__init__([c.expr for c in self._constraints], ())

    def _monotonicity(self, i):
        # the indicator of g <= 0 grows with g (so g may be convex); of g == 0, g must be affine
        return INCREASING if self._constraints[i].kind == "le" else NONMONOTONE

    def _sign_rule(self):
        return "NONNEGATIVE"

    def get_data(self):
        return [self._err_tol]

    def _rebuild(self, args):
        raise ValueError(f"{self}.copy(args=...): an indicator is built from constraints; call indicator again")

    def _numeric(self, vals):
        return 0.0 if all(c.value(self._err_tol) for c in self._constraints) else np.inf

    def _canon(self, ctx):
        for c in self._constraints:
            ctx.add_hidden(ctx.form(c.expr), c.kind, self)
        return Form.constant(np.zeros(()))

    def _str(self, a):
        return f"indicator([{', '.join(str(c) for c in self._constraints)}])"


def indicator(constraints, err_tol=1e-3):
    return Indicator(constraints, err_tol)


def linearize(expr):
    """cvxpy's ``linearize``: the first-order expansion of ``expr`` at its variables' current values
    (below a convex expression, above a concave one, equal there); an affine expression is itself,
    and None where a variable has no gradient (a kink's gradient is the one ``grad`` picks)."""
    expr = as_expr(expr)
    if expr.is_affine():
        return expr
    tangent = expr.value
    if tangent is None:         # cvxpy's words
        raise ValueError("Cannot linearize non-affine expression with missing variable values.")
    tangent = Constant(tangent)
    grads = expr.grad
    for var in expr.variables():
        g = grads[var]
        if g is None:
            return None
        step = Constant(g).T @ vec(var - var.value, order="F")      # grad is (var.size, expr.size)
        tangent = tangent + reshape(step, expr.shape, order="F")
    return tangent
