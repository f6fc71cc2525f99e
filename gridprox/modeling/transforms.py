"""cvxpy's ``cp.transforms`` that stay linear programs: ``indicator``."""
from __future__ import annotations

import numpy as np

from .expression import CONVEX, INCREASING, NONMONOTONE, Expression
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
