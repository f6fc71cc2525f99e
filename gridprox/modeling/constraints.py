"""Constraints with cvxpy's classes and dual-sign convention.

Every constraint is held as ``expr == 0`` (Equality, Zero) or ``expr <= 0`` (Inequality,
NonPos, NonNeg), with ``expr`` an expression node.  cvxpy's duals are the multipliers of
exactly these forms in the Lagrangian  f + Σ λ·expr  (λ >= 0 for inequalities), so both
``a <= b`` and ``a >= b`` report non-negative duals.
"""
from __future__ import annotations

import copy as _copy
import itertools
import warnings

import numpy as np

from ..errors import ModelingError
from .affine import Add, Neg
from .canon import find_culprit
from .error import CvxpyDeprecationWarning
from .expression import AFFINE, CONVEX, Expression, Labelled, Variable, as_expr, broadcast_shapes

_ids = itertools.count(1)


class Constraint(Labelled):
    """Base class; ``kind`` is "eq" (expr == 0) or "le" (expr <= 0)."""

    kind = "eq"

    def __init__(self, args, expr: Expression):
        self.args = tuple(args)
        self.expr = expr
        self.id = next(_ids)
        self._dual_value = None
        self._dual_variable = None

    @property
    def shape(self):
        return self.expr.shape

    @property
    def size(self):
        return self.expr.size

    @property
    def dcp_want(self) -> str:
        return AFFINE if self.kind == "eq" else CONVEX

    def is_dcp(self, dpp: bool = False) -> bool:
        ok = find_culprit(self.expr, self.dcp_want) is None
        return ok and self.is_dpp() if dpp else ok

    # --------------------------------------------------------------- duals
    @property
    def dual_value(self):
        if self._dual_variable is not None:       # cvxpy's: the value of its dual variable, which may be set
            v = self._dual_variable.value
            return None if v is None else (float(v) if v.ndim == 0 else v)
        return self._dual_value

    @property
    def dual_variables(self):
        """cvxpy's list of dual variables: one, of the constraint's shape, valued as ``dual_value``."""
        if self._dual_variable is None:
            self._dual_variable = Variable(self.shape, name=f"dual{self.id}")
            self._dual_variable._aux = True
            self._dual_variable._value = self._dual_array()
        return [self._dual_variable]

    def _dual_array(self):
        return None if self._dual_value is None else np.asarray(self._dual_value, dtype=float).reshape(self.shape)

    def save_dual_value(self, value):
        if value is None:
            self._dual_value = None
        else:
            arr = np.asarray(value, dtype=float).reshape(self.shape)
            self._dual_value = float(arr) if arr.ndim == 0 else arr
        if self._dual_variable is not None:
            self._dual_variable._value = self._dual_array()

    # --------------------------------------------------------------- values
    @property
    def residual(self):
        """How far each entry is from holding (0 where satisfied); None without values."""
        v = self.expr.value
        if v is None:
            return None
        return np.abs(v) if self.kind == "eq" else np.maximum(v, 0.0)

    def violation(self):
        return self.residual

    def value(self, tolerance: float = 1e-8) -> bool:
        res = self.residual
        if res is None:
            raise ValueError(f"constraint {self} has no value: its variables have none")
        return bool(np.all(res <= tolerance))

    def variables(self):
        return self.expr.variables()

    def name(self) -> str:
        return str(self)

    def __str__(self):
        # cvxpy shows a constraint's label before it: "non_negative: x >= 0"
        return self._text() if self._user_label is None else f"{self._user_label}: {self._text()}"

    def format_labeled(self) -> str:
        return str(self)

    def is_dpp(self) -> bool:
        return self.expr.is_dpp()

    def is_dgp(self, dpp: bool = False) -> bool:
        """cvxpy's DGP test: lhs <= rhs with lhs log-log convex and rhs log-log concave, lhs == rhs
        with both log-log affine (gridprox only reports it: geometric programs are not LPs)."""
        if len(self.args) != 2:
            return False
        lhs, rhs = self.args
        if self.kind == "eq":
            return lhs.is_log_log_affine(dpp) and rhs.is_log_log_affine(dpp)
        return lhs.is_log_log_convex(dpp) and rhs.is_log_log_concave(dpp)

    def parameters(self):
        return self.expr.parameters()

    def __repr__(self):
        return f"{type(self).__name__}({self})"

    def copy(self, args=None, id_objects=None):
        """cvxpy's ``copy``: a new constraint of this type over the same arguments, or over ``args``,
        keeping the id (cvxpy's copies answer to the same dual)."""
        new = type(self)(*(self.args if args is None else args))
        new.id = self.id
        return new

    def __deepcopy__(self, memo):
        # cvxpy's identities: copy.copy keeps the id (the default), a deep copy is a new constraint
        new = object.__new__(type(self))
        memo[id(self)] = new
        for key, val in self.__dict__.items():
            setattr(new, key, _copy.deepcopy(val, memo))
        new.id = next(_ids)
        return new

    def __bool__(self):
        # cvxpy's words: x <= y <= 1 asks Python for the truth of x <= y
        raise TypeError("Cannot evaluate the truth value of a constraint or chain constraints, e.g., 1 >= x >= 0.")


def _difference(lhs, rhs, op):
    broadcast_shapes(lhs.shape, rhs.shape, context=lambda: f"{lhs} {op} {rhs}")
    return Add([lhs, Neg(rhs)])


class Equality(Constraint):
    """lhs == rhs."""

    kind = "eq"

    def __init__(self, lhs, rhs):
        lhs, rhs = as_expr(lhs), as_expr(rhs)
        super().__init__((lhs, rhs), _difference(lhs, rhs, "=="))

    def _text(self):
        return f"{self.args[0]} == {self.args[1]}"


class Inequality(Constraint):
    """lhs <= rhs (``a >= b`` is ``Inequality(b, a)``, as in cvxpy)."""

    kind = "le"

    def __init__(self, lhs, rhs):
        lhs, rhs = as_expr(lhs), as_expr(rhs)
        super().__init__((lhs, rhs), _difference(lhs, rhs, "<="))

    def _text(self):
        return f"{self.args[0]} <= {self.args[1]}"


class Cone(Constraint):
    """cvxpy's base of cone constraints (Zero, NonNeg, NonPos here; the others are not LPs)."""

    @property
    def dual_residual(self):
        """How far the dual is from its cone (0 where it is in it); None without a dual."""
        d = self._dual_array()
        if d is None:
            return None
        return np.zeros_like(d) if self.kind == "eq" else np.maximum(-d, 0.0)


class Zero(Cone):
    """expr == 0."""

    kind = "eq"

    def __init__(self, expr):
        expr = as_expr(expr)
        super().__init__((expr,), expr)

    def _text(self):
        return f"{self.args[0]} == 0"


class NonPos(Cone):
    """expr <= 0 (deprecated in cvxpy when written out: x <= 0 or NonNeg(-x))."""

    kind = "le"

    def __init__(self, expr):
        warnings.warn('Explicitly invoking "NonPos(expr)" to a create a constraint is deprecated. Please use '
                      'operator overloading or "NonNeg(-expr)" instead.', CvxpyDeprecationWarning, stacklevel=2)
        expr = as_expr(expr)
        super().__init__((expr,), expr)

    def _text(self):
        return f"{self.args[0]} <= 0"


class NonNeg(Cone):
    """expr >= 0 (dual >= 0, as cvxpy's NonNeg)."""

    kind = "le"

    def __init__(self, expr):
        expr = as_expr(expr)
        super().__init__((expr,), Neg(expr))

    def _text(self):
        return f"{self.args[0]} >= 0"


# cvxpy's cone constraints, present by name so that a conic script fails with ModelingError
NON_LP_CONSTRAINTS = {"SOC": "second-order cone", "ExpCone": "exponential cone", "PSD": "semidefinite",
                      "PowCone3D": "power cone", "PowConeND": "power cone", "PowCone3DApprox": "power cone",
                      "RelEntrConeQuad": "relative entropy cone", "OpRelEntrConeQuad": "operator relative entropy cone",
                      "FiniteSet": "finite-set (mixed-integer)"}


def _not_lp_constraint(name, kind):
    # a class (not a function), so that cvxpy code testing isinstance(con, SOC) runs unchanged
    def __init__(self, *args, **kwargs):
        shown = ", ".join(str(as_expr(a)) if isinstance(a, (Expression, np.ndarray, int, float)) else "..."
                          for a in args)
        article = "an" if kind[0] in "aeiou" else "a"
        raise ModelingError(f"{name}({shown}) is {article} {kind} constraint, not a linear one: gridprox models "
                            "linear programs only")
    doc = f"cvxpy's {name}: a {kind} constraint, refused with ModelingError."
    return type(name, (Cone,), {"__init__": __init__, "__doc__": doc, "__module__": __name__})


for _name, _kind in NON_LP_CONSTRAINTS.items():
    globals()[_name] = _not_lp_constraint(_name, _kind)
del _name, _kind
