"""Expression trees with cvxpy's syntax: the base class, leaves, curvature and sign.

Nodes are immutable.  Each knows its shape, whether it holds variables or parameters, its
curvature (DCP rules restricted to piecewise-linear atoms) and how to turn itself into a
``Form`` (``_canon``) and into a number (``_numeric``).  Operators live here; the atom
classes live in ``affine`` and ``piecewise``.
"""
from __future__ import annotations

import builtins
import copy as _copy
import itertools
import math
import numbers
import warnings
from typing import Optional

import numpy as np
import scipy.sparse as sp

from ..errors import ModelingError, naming
from . import cvxtypes
from .form import Form

_ids = itertools.count(1)

# curvature
CONSTANT, AFFINE, CONVEX, CONCAVE, UNKNOWN = "CONSTANT", "AFFINE", "CONVEX", "CONCAVE", "UNKNOWN"
# sign
NONNEG, NONPOS, ZERO, UNKNOWN_SIGN = "NONNEGATIVE", "NONPOSITIVE", "ZERO", "UNKNOWN"
# monotonicity of a node in one argument
INCREASING, DECREASING, NONMONOTONE = "incr", "decr", "none"

_ALLOWED = {AFFINE: (CONSTANT, AFFINE), CONVEX: (CONSTANT, AFFINE, CONVEX),
            CONCAVE: (CONSTANT, AFFINE, CONCAVE)}
_FLIP = {CONVEX: CONCAVE, CONCAVE: CONVEX, AFFINE: AFFINE, CONSTANT: CONSTANT, UNKNOWN: UNKNOWN}
_STR_LIMIT = 200
# cvxpy's SPARSE_DENSITY_THRESHOLD: a sparse leaf this sparse is nudged towards ``value_sparse``
_SPARSE_DENSITY = 0.05
_PROJECTION_TOL = 1e-10     # cvxpy's GENERAL_PROJECTION_TOL: how far a leaf's value may lie off its sign/bounds
PRINT_EDGEITEMS, PRINT_THRESHOLD = 2, 5     # cvxpy's settings for printing a constant matrix


def _matrix_str(v: np.ndarray) -> str:
    """cvxpy's printing of an array: two decimals, long axes elided to their edge items."""
    return np.array2string(v, edgeitems=PRINT_EDGEITEMS, threshold=PRINT_THRESHOLD,
                           formatter={"float": lambda t: f"{t:.2f}"})


def sign_of(nonneg: bool, nonpos: bool) -> str:
    """cvxpy's sign from its (is nonnegative, is nonpositive) pair: both is zero."""
    return ZERO if nonneg and nonpos else NONNEG if nonneg else NONPOS if nonpos else UNKNOWN_SIGN


def curvature_satisfies(curv: str, want: str) -> bool:
    return curv in _ALLOWED[want]


def compose_curvature(own: str, curvs, monotonicity) -> str:
    """DCP's composition rule: an atom of curvature ``own`` over arguments of curvatures ``curvs``
    (``monotonicity(i)`` in argument i); used on curvatures and on log-log curvatures alike."""
    result = AFFINE
    for i, c in enumerate(curvs):
        if c in (CONSTANT, AFFINE):        # fits every monotonicity; no need to ask
            continue
        if c == UNKNOWN:
            return UNKNOWN
        mono = monotonicity(i)
        if mono == DECREASING:
            c = _FLIP[c]
        elif mono == NONMONOTONE:
            return UNKNOWN
        if own == AFFINE:
            if result not in (AFFINE, c):
                return UNKNOWN
            result = c
        elif c != own:
            return UNKNOWN
    return result if own == AFFINE else own


def _positive(value) -> bool:
    return value is not None and bool(np.all(dense(value) > 0))


def normalize_shape(shape) -> tuple:
    if shape is None:
        return ()
    if isinstance(shape, numbers.Integral):
        shape = (int(shape),)
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"invalid shape {shape}: negative dimension")
    return shape


def describe(what) -> str:
    """Error-message text given as a string or as a callable building it (so that the
    string of a large expression is only made when an error is raised)."""
    return what() if callable(what) else str(what)


def broadcast_shapes(*shapes, context="") -> tuple:
    """numpy broadcasting; the error names every shape (and the expression)."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        where = f" in {describe(context)}" if context else ""
        # numpy's words first (cvxpy shows numpy's error), then the expression
        raise ValueError("operands could not be broadcast together with shapes "
                         + " ".join(str(tuple(s)) for s in shapes) + where) from None


def postorder(root: "Expression", descend=None, done=()):
    """Nodes of the DAG under ``root`` with children before parents, each once; nodes in
    ``done`` (ids) are skipped and ``descend(node)`` False makes a node a leaf of the walk.
    Iterative, so a deep chain built in a Python loop cannot overflow the stack."""
    seen, out, stack = set(), [], [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            out.append(node)
            continue
        if node.id in seen or node.id in done:
            continue
        seen.add(node.id)
        stack.append((node, True))
        if descend is None or descend(node):
            stack.extend((a, False) for a in reversed(node.args) if a.id not in seen)
    return out


def fold(root: "Expression", leaf, combine, memo: Optional[dict] = None):
    """Bottom-up over the DAG under ``root``: ``leaf(node)`` at leaves, ``combine(node,
    results of its args)`` elsewhere; ``memo`` (id -> result) is filled and reused."""
    memo = {} if memo is None else memo
    for node in postorder(root, done=memo):
        memo[node.id] = combine(node, [memo[a.id] for a in node.args]) if node.args else leaf(node)
    return memo[root.id]


def evaluate(root: "Expression", leaf_value, memo: Optional[dict] = None):
    """Numeric value of ``root`` given ``leaf_value(leaf)``; None when a leaf has none."""
    return fold(root, leaf_value,
                lambda node, vals: None if any(v is None for v in vals) else node._numeric(vals), memo)


def dense(value):
    """A numeric value as a float ndarray (sparse constants are densified)."""
    if sp.issparse(value):
        return value.toarray()
    return np.asarray(value, dtype=float)


def check_finite(arr, what: str, allow=None):
    """Raise ValueError naming ``what`` and the first bad index on NaN/inf."""
    data = arr.data if sp.issparse(arr) else np.asarray(arr, dtype=float)
    bad = np.isnan(data) if allow == "inf" else ~np.isfinite(data)
    if np.any(bad):
        if sp.issparse(arr):
            coo = arr.tocoo()
            k = int(np.flatnonzero(bad)[0])
            loc, val = (int(coo.row[k]), int(coo.col[k])), coo.data[k]
        else:
            loc = np.unravel_index(int(np.flatnonzero(bad.ravel())[0]), data.shape)
            val = data[loc] if data.ndim else float(data)
            loc = tuple(int(i) for i in loc)
        raise ValueError(f"{what} contains {val} at index {loc if loc else '()'}; "
                         "data must be finite")


NESTED_LIST_WARNING = ("Initializing a Constant with a nested list is undefined behavior. "
                       "Consider using a numpy array instead.")


def refuse_complex(value, what):
    """Complex data is refused by name: casting it to float would drop the imaginary part."""
    if np.iscomplexobj(value.data if sp.issparse(value) else value):
        raise ModelingError(f"{what} is complex: gridprox models real linear programs only")


def from_list(value):
    """A Python list as cvxpy reads it: transposed, so ``[[1, 2], [3, 4]]`` gives the columns
    [1, 2] and [3, 4] (with cvxpy's warning for nested lists); other values unchanged."""
    if not isinstance(value, list):
        return value
    if any(isinstance(v, list) for v in value):
        warnings.warn(NESTED_LIST_WARNING, UserWarning, stacklevel=3)
    return np.asarray(value, dtype=float).T


# cvxpy's messages for numpy functions on expressions, word for word (cvxpy's tests match them)
NUMPY_UFUNC_ERROR = """
You're calling a NumPy function on a CVXPY expression. This is prone to causing
errors or code that doesn't behave as expected. Consider using one of the
functions documented here: https://www.cvxpy.org/tutorial/functions/index.html
"""
INPLACE_MUTATION_ERROR = """
You're trying to mutate a CVXPY expression inplace. This is prone to errors or
code that doesn't behave as expected. Consider alternatives. For example, replace
    x += 1
with
    x = x + 1
"""
ABS_ERROR = """
You're calling the built-in abs function on a CVXPY expression. This is not
supported. Consider using the abs function provided by CVXPY.
"""
# ``array (op) expression``: numpy hands the expression the operation, which it builds reflected
_REFLECTED = {np.add: "__radd__", np.subtract: "__rsub__", np.multiply: "__rmul__", np.divide: "__rtruediv__",
              np.matmul: "__rmatmul__", np.power: "__rpow__", np.left_shift: "__rlshift__",
              np.right_shift: "__rrshift__", np.equal: "__eq__", np.less_equal: "__ge__",
              np.greater_equal: "__le__", np.less: "__gt__", np.greater: "__lt__"}

LIST_OF_EXPRESSIONS = ("The input must be a single CVXPY Expression, not a list. "
                       "Combine Expressions using atoms such as bmat, hstack, and vstack.")


ORDER_WARNING = ("\n    You didn't specify the order of the FUNC_NAME expression. The default order\n    used in "
                 "CVXPY is Fortran ('F') order. This default will change to match NumPy's\n    default order "
                 "('C') in a future version of CVXPY.\n    To suppress this warning, please specify the order "
                 "explicitly.\n    ")


def default_order(order, name, before, after):
    """cvxpy's column-major default for reshape/vec/flatten, with its FutureWarning when unnamed
    and the order changes the result (not for a vector made a row or column)."""
    if order is None:
        if builtins.sum(n > 1 for n in before) > 1 or builtins.sum(n > 1 for n in after) > 1:
            warnings.warn(ORDER_WARNING.replace("FUNC_NAME", name), FutureWarning, stacklevel=4)
        return "F"
    return order


def as_expr(obj) -> "Expression":
    if isinstance(obj, Expression):
        return obj
    if isinstance(obj, list) and any(isinstance(v, Expression) for v in obj):
        raise ValueError(LIST_OF_EXPRESSIONS)
    return Constant(obj)


class Labelled:
    """cvxpy's labels: a name shown instead of an expression's formula, or before a constraint."""

    # not ``_label``: atoms keep their own names there (maximum, pos, upper_tri)
    _user_label = None

    @property
    def label(self):
        return self._user_label

    @label.setter
    def label(self, value):
        self._user_label = None if value is None else str(value)

    @label.deleter
    def label(self):
        self._user_label = None

    def set_label(self, label):
        self.label = label
        return self

    _showing_labels = False     # set while format_labeled prints: every labelled subexpression shows its label

    def format_labeled(self) -> str:
        """cvxpy's: the label, else the formula with each labelled part shown by its label."""
        if self._user_label is not None:
            return self._user_label
        outer, Labelled._showing_labels = Labelled._showing_labels, True
        try:
            return str(self)
        finally:
            Labelled._showing_labels = outer


class Expression(Labelled):
    """Base of every modelling expression (cvxpy's ``Expression``)."""

    __array_priority__ = 100

    def __array_ufunc__(self, ufunc, method, *args, **kwargs):
        """cvxpy's rule: ``array (op) expression`` is the expression's reflected operator; an
        in-place update of the array, or any other numpy function, is refused."""
        reflected = _REFLECTED.get(ufunc)
        if reflected is not None and len(args) == 2 and args[1] is self:
            if not kwargs:
                return getattr(self, reflected)(args[0])
            out = kwargs.get("out")
            if set(kwargs) == {"out"} and isinstance(out, tuple) and len(out) == 1 and out[0] is args[0]:
                raise RuntimeError(INPLACE_MUTATION_ERROR)
        raise RuntimeError(NUMPY_UFUNC_ERROR)
    _prec = 100                     # printing precedence (atoms bind tightest)

    def __init__(self, args, shape):
        self.args = tuple(args)
        self.shape = normalize_shape(shape)
        self.id = next(_ids)
        self._has_vars = any(a._has_vars for a in self.args)
        self._has_params = any(a._has_params for a in self.args)
        self._curv = self._curvature()
        self._sign_cache = None

    # ------------------------------------------------------- node interface
    def _numeric(self, vals):
        raise NotImplementedError

    def _canon(self, ctx) -> Form:
        raise NotImplementedError

    def _str(self, a) -> str:
        raise NotImplementedError

    def _monotonicity(self, i: int) -> str:
        """How this node moves with argument i (affine maps and atoms override)."""
        return INCREASING

    _atom_curvature = AFFINE        # AFFINE for linear maps, CONVEX/CONCAVE for atoms

    def is_incr(self, idx: int) -> bool:
        """cvxpy's: is this node increasing in argument ``idx``?"""
        return self._monotonicity(idx) == INCREASING

    def is_decr(self, idx: int) -> bool:
        return self._monotonicity(idx) == DECREASING

    # ------------------------------------------------------------ curvature
    def _curvature(self) -> str:
        if not self._has_vars:
            return CONSTANT
        return compose_curvature(self._atom_curvature, [a._curv for a in self.args], self._monotonicity)

    # cvxpy's log-log (DGP) analysis: this atom's log-log curvature (AFFINE, CONVEX, CONCAVE; None: not a
    # DGP atom) and its monotonicity there.  Products and quotients are log-log affine, sums log-log convex.
    _log_log_atom = None

    def _log_log_monotonicity(self, i: int) -> str:
        return INCREASING

    def log_log_curvature_of(self, dpp: bool = False) -> str:
        def leaf(n):
            return "UNKNOWN" if n.size == 0 else n._leaf_log_log(dpp)

        return fold(self, leaf, lambda n, curvs: n._log_log_combine(curvs))

    def _log_log_combine(self, curvs) -> str:
        if self._log_log_atom is None:
            return CONSTANT if not (self._has_vars or self._has_params) and _positive(self.value) else UNKNOWN
        if all(c == CONSTANT for c in curvs):
            return CONSTANT
        return compose_curvature(self._log_log_atom, curvs, self._log_log_monotonicity)

    def _leaf_log_log(self, dpp):
        return UNKNOWN

    @property
    def log_log_curvature(self) -> str:
        c = self.log_log_curvature_of()
        return c if c == UNKNOWN else f"LOG-LOG {c}"

    def is_log_log_constant(self) -> bool:
        return self.log_log_curvature_of() == CONSTANT

    def is_log_log_affine(self, dpp: bool = False) -> bool:
        return self.log_log_curvature_of(dpp) in (CONSTANT, AFFINE)

    def is_log_log_convex(self, dpp: bool = False) -> bool:
        return self.log_log_curvature_of(dpp) in (CONSTANT, AFFINE, CONVEX)

    def is_log_log_concave(self, dpp: bool = False) -> bool:
        return self.log_log_curvature_of(dpp) in (CONSTANT, AFFINE, CONCAVE)

    def is_dgp(self, dpp: bool = False) -> bool:
        return self.log_log_curvature_of(dpp) != UNKNOWN

    @property
    def curvature(self) -> str:
        return self._curv

    def is_constant(self) -> bool:
        return not self._has_vars

    def is_affine(self) -> bool:
        return self._curv in (CONSTANT, AFFINE)

    def is_convex(self) -> bool:
        return self._curv in (CONSTANT, AFFINE, CONVEX)

    def is_concave(self) -> bool:
        return self._curv in (CONSTANT, AFFINE, CONCAVE)

    def is_dcp(self) -> bool:
        return self._curv != UNKNOWN

    # ----------------------------------------------------------------- sign
    def _sign_rule(self) -> str:
        """Sign of a parameter-dependent constant node; UNKNOWN unless overridden."""
        return UNKNOWN_SIGN

    @property
    def sign(self) -> str:
        if self._sign_cache is None:
            # cvxpy's sign rules: -pos(x) is nonpositive, so abs(-pos(x)) is convex; only a
            # constant leaf is judged by its value (Constant(1) + Constant(-1) is UNKNOWN, as in cvxpy)
            if self._has_vars or self.args:
                self._sign_cache = self._sign_rule()
            elif not self._has_params:
                v = dense(self.value)
                self._sign_cache = (ZERO if not np.any(v) else NONNEG if np.all(v >= 0)
                                    else NONPOS if np.all(v <= 0) else UNKNOWN_SIGN)
            else:
                self._sign_cache = self._sign_rule()
        return self._sign_cache

    def is_nonneg(self) -> bool:
        return self.sign in (NONNEG, ZERO)

    def is_nonpos(self) -> bool:
        return self.sign in (NONPOS, ZERO)

    def is_zero(self) -> bool:
        return self.sign == ZERO

    def is_psd(self) -> bool:
        """Known positive semidefinite (a numeric matrix, diag of a nonnegative vector)."""
        return False

    def is_nsd(self) -> bool:
        return False

    def is_symmetric(self) -> bool:
        """cvxpy's default: only a scalar is known symmetric (a numeric matrix is checked)."""
        return self.size == 1

    def is_hermitian(self) -> bool:
        return self.is_symmetric()          # gridprox expressions are real

    def is_skew_symmetric(self) -> bool:
        return False

    # --------------------------------------------------------------- shape
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def is_scalar(self) -> bool:
        return self.size == 1

    # --------------------------------------------------------------- value
    @property
    def value(self):
        if self.size == 0:          # nothing to wait for: an empty expression's value is empty (cvxpy)
            return np.zeros(self.shape)
        v = evaluate(self, lambda leaf: leaf._leaf_value())
        return None if v is None else dense(v)

    @property
    def domain(self) -> list:
        """cvxpy's: the constraints under which the expression is finite (its leaves' signs and
        bounds; every atom gridprox lowers is finite everywhere)."""
        return [con for arg in self.args for con in arg.domain]

    def variables(self):
        return [n for n in postorder(self) if isinstance(n, Variable)]

    def parameters(self):
        return [n for n in postorder(self) if isinstance(n, Parameter)]

    def atoms(self):
        return sorted({type(n).__name__ for n in postorder(self) if n.args})

    def constants(self):
        return [n for n in postorder(self) if isinstance(n, Constant)]

    def is_dpp(self) -> bool:
        """cvxpy's DPP test: here, whether the expression canonicalises (parameters affine)."""
        try:
            cvxtypes.canon_context()().form(self)
        except ModelingError:
            return False
        return self.is_dcp()

    def get_bounds(self):
        """cvxpy's ``get_bounds``: (lower, upper) arrays of this shape that hold for every value
        the expression can take, from its leaves' bounds and signs (see ``bounds``)."""
        return cvxtypes.get_bounds()(self)

    def is_pwl(self) -> bool:
        return self.is_dcp()          # every DCP expression of gridprox is piecewise linear

    @property
    def grad(self):
        """cvxpy's ``grad``: {variable: sparse (variable.size, self.size) Jacobian transpose} at
        the variables' values, entries in Fortran order as cvxpy's; None for a variable without
        a value.  Affine expressions: exact.  Piecewise-linear atoms: central differences, exact
        wherever the function is differentiable (it is linear around the point); at a kink, the
        average of the one-sided slopes.  Not DCP: refused."""
        if not self.is_dcp():
            raise ModelingError(f"grad of {self}: the expression is not DCP, so gridprox gives it no gradient")
        if not self.is_affine():
            return self._difference_grad()
        ctx = cvxtypes.canon_context()()
        form = ctx.form(self)
        out = {}
        for var in self.variables():
            if var._value is None:
                out[var] = None
                continue
            if ctx.aux:      # an atom lowered through auxiliary variables (cumsum): columns by unit steps, exact as affine
                jac = self._unit_step_jacobian(var)
            else:
                jac = self._form_jacobian(form, var)
            out[var] = self._to_cvxpy_order(jac, var)
        return out

    def _difference_grad(self):
        out = {}
        for var in self.variables():
            if var._value is None:
                out[var] = None
                continue
            base = np.asarray(var._value, dtype=float)
            cols = []
            try:
                for k in range(var.size):
                    h = 1e-6 * max(1.0, abs(base.flat[k]))
                    step = np.zeros(var.size)
                    step[k] = h
                    var._value = base + step.reshape(var.shape)
                    up = np.ravel(self.value)
                    var._value = base - step.reshape(var.shape)
                    cols.append((up - np.ravel(self.value)) / (2 * h))
            finally:
                var._value = base
            jac = sp.csr_matrix(np.column_stack(cols)) if cols else sp.csr_matrix((self.size, 0))
            out[var] = self._to_cvxpy_order(jac, var)
        return out

    def _to_cvxpy_order(self, jac, var):
        """A C-order Jacobian (self.size, var.size) as cvxpy's grad: transposed, Fortran order."""
        rows = np.arange(self.size).reshape(self.shape, order="F").ravel(order="C") if self.shape else [0]
        cols = np.arange(var.size).reshape(var.shape, order="F").ravel(order="C") if var.shape else [0]
        jt = sp.csr_matrix(jac)[np.argsort(rows)][:, np.argsort(cols)]
        return sp.csc_matrix(jt.T)

    def _unit_step_jacobian(self, var):
        base = var._value
        f0 = np.ravel(self.value)
        cols = []
        try:
            for k in range(var.size):
                step = np.zeros(var.size)
                step[k] = 1.0
                var._value = base + step.reshape(var.shape)
                cols.append(np.ravel(self.value) - f0)
        finally:
            var._value = base
        return sp.csr_matrix(np.column_stack(cols)) if cols else sp.csr_matrix((self.size, 0))

    def _form_jacobian(self, form, var):
        """d self / d var (C order) from the canonical form's blocks."""
        jac = sp.csr_matrix((self.size, var.size))
        if var.id in form.var:
            jac = jac + form.var[var.id]
        for (vid, pid), T in form.pvar.items():    # coefficients affine in a Parameter: at its value
            if vid == var.id:
                theta = next(p for p in self.parameters() if p.id == pid).value
                if theta is None:
                    raise ModelingError(f"grad of {self}: Parameter {pid} has no value")
                jac = jac + T @ sp.kron(sp.identity(var.size), np.reshape(theta, (-1, 1)))
        return jac

    # ------------------------------------------------------------- printing
    def _fmt(self, child: "Expression", prec: int) -> str:
        s = str(child)
        return f"({s})" if child._prec < prec else s

    def __str__(self) -> str:
        if Labelled._showing_labels and self._user_label is not None:
            return self._user_label
        try:
            s = self._str(self.args)
        except RecursionError:                 # a chain thousands of levels deep
            return f"<{type(self).__name__} expression of shape {self.shape}>"
        return s if len(s) <= _STR_LIMIT else s[:_STR_LIMIT - 3] + "..."

    def name(self) -> str:
        return str(self)

    def __repr__(self) -> str:
        return f"Expression({self._curv}, {self.sign if not self._has_vars else 'UNKNOWN'}, {self.shape})"

    __hash__ = object.__hash__

    # ----------------------------------------------------------- operators
    def __add__(self, other):
        other = as_expr(other)
        return self if self._absorbs(other) else cvxtypes.add_expr()([self, other])

    def __radd__(self, other):
        other = as_expr(other)
        return self if self._absorbs(other) else cvxtypes.add_expr()([other, self])

    def _absorbs(self, other) -> bool:
        """cvxpy folds ``x + 0`` to x itself: a nonempty zero constant that does not broadcast x
        to a larger shape."""
        if not (isinstance(other, Constant) and other.size > 0 and other.is_zero()):
            return False
        try:
            return np.broadcast_shapes(self.shape, other.shape) == self.shape
        except ValueError:          # mismatched shapes: Add gives cvxpy's error
            return False

    def __sub__(self, other):
        return cvxtypes.add_expr()([self, -as_expr(other)])

    def __rsub__(self, other):
        return cvxtypes.add_expr()([as_expr(other), -self])

    def __neg__(self):
        return cvxtypes.neg_expr()(self)

    def __pos__(self):
        return self

    def __mul__(self, other):
        return cvxtypes.star()(self, as_expr(other))

    def __rmul__(self, other):
        return cvxtypes.star()(as_expr(other), self)

    def __matmul__(self, other):
        return cvxtypes.matmul_expr()(self, as_expr(other))

    def __rmatmul__(self, other):
        return cvxtypes.matmul_expr()(as_expr(other), self)

    def __truediv__(self, other):
        return cvxtypes.div_expr()(self, as_expr(other))

    def __rtruediv__(self, other):
        return cvxtypes.div_expr()(as_expr(other), self)

    def __pow__(self, power):
        if isinstance(power, numbers.Number) and power == 1:
            return self
        if not self._has_vars and isinstance(power, numbers.Number):   # of numbers a number, of Parameters
            return cvxtypes.atom("power")(self, power)                  # a number at each solve
        raise ModelingError(f"({self}) ** {power} is not linear: gridprox models linear programs only")

    def __rpow__(self, base):
        if not self._has_vars and not self._has_params and isinstance(base, numbers.Number):
            return Constant(float(base) ** dense(self.value))
        raise ModelingError(f"{base} ** ({self}) is not linear: gridprox models linear programs only")

    def _psd(self, other, op):
        raise ModelingError(f"{self} {op} {other}: a semidefinite (PSD) constraint is not linear; gridprox "
                            "models linear programs only")

    def __rshift__(self, other):
        self._psd(as_expr(other), ">>")

    def __rrshift__(self, other):
        as_expr(other)._psd(self, ">>")

    def __lshift__(self, other):
        self._psd(as_expr(other), "<<")

    def __rlshift__(self, other):
        as_expr(other)._psd(self, "<<")

    def __abs__(self):
        raise TypeError(ABS_ERROR)      # as cvxpy: abs(x) is cp.abs(x), not the builtin

    def __getitem__(self, key):
        return cvxtypes.index()(self, key)

    @property
    def T(self):
        return self if self.ndim < 2 else cvxtypes.transpose()(self)

    def __le__(self, other):
        return cvxtypes.inequality_constr()(self, as_expr(other))

    def __ge__(self, other):
        return cvxtypes.inequality_constr()(as_expr(other), self)

    def __eq__(self, other):
        return cvxtypes.equality_constr()(self, as_expr(other))

    def __lt__(self, other):
        raise ModelingError(f"strict inequality {self} < {as_expr(other)} is not allowed; use <=")

    def __gt__(self, other):
        raise ModelingError(f"strict inequality {self} > {as_expr(other)} is not allowed; use >=")

    # ------------------------------------------------------ copies (cvxpy's identities)
    def _fresh(self, new):
        new.id = next(_ids)
        new.__dict__.pop("_aux_var", None)     # an atom's auxiliary variable belongs to one node
        return new

    def __copy__(self):
        # a leaf copies to itself (it is the variable); any other node to a new node with a new id
        if not self.args:
            return self
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.args = tuple(list(self.args))      # equal, not the same object (cvxpy's copies build a new list)
        return self._fresh(new)

    def __deepcopy__(self, memo):
        new = object.__new__(type(self))
        memo[id(self)] = new
        for key, val in self.__dict__.items():
            setattr(new, key, _copy.deepcopy(val, memo))
        return self._fresh(new)

    def copy(self, args=None, id_objects=None):
        """cvxpy's ``copy``: a leaf is itself, another node a new node over the same arguments, or
        over ``args`` (the node built again by its constructor, with ``get_data()``)."""
        if args is None or not self.args:
            return _copy.copy(self)
        if len(args) != len(self.args):
            raise ValueError(f"{self}.copy(args=...): {len(self.args)} arguments expected, got {len(args)}")
        return self._rebuild([as_expr(a) for a in args])

    @property
    def canonical_form(self):
        """cvxpy's (affine expression, [constraints]): this node's linear form over the variables
        (and its atoms' auxiliary ones) and the rows those atoms add, as (form, "eq"/"le", atom)."""
        ctx = cvxtypes.canon_context()()
        return ctx.form(self), list(ctx.hidden)

    def _supports_cpp(self) -> bool:
        """cvxpy's hook for its C++ canonicalisation backend (gridprox has one compiler: only a
        subclass that says False changes what ``solve(canon_backend=...)`` accepts)."""
        return True

    def get_data(self):
        """cvxpy's ``get_data``: the constructor's arguments other than the expressions (None when
        it takes expressions only)."""
        return None

    def _rebuild(self, args):
        """This node's constructor over new arguments; nodes whose constructor is not
        ``type(self)(*args, *get_data())`` override it."""
        return type(self)(*args, *(self.get_data() or ()))

    # ------------------------------------------------------ cvxpy methods
    def sum(self, axis=None, keepdims=False):
        return cvxtypes.sum_expr()(self, axis=axis, keepdims=keepdims)

    def flatten(self, order=None):
        return cvxtypes.vec()(self, order=default_order(order, "flatten", self.shape, (self.size,)))

    def reshape(self, shape, order=None):
        return cvxtypes.reshape()(self, shape, order=order)

    # cvxpy's methods naming atoms (the non-LP ones are numbers on numbers, else refused)
    def max(self, axis=None, *, keepdims=False):
        return cvxtypes.atom("max")(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, *, keepdims=False):
        return cvxtypes.atom("min")(self, axis=axis, keepdims=keepdims)

    def ptp(self, axis=None, *, keepdims=False):
        return cvxtypes.atom("ptp")(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, *, keepdims=False):
        return cvxtypes.atom("mean")(self, axis=axis, keepdims=keepdims)

    def std(self, axis=None, *, ddof=0, keepdims=False):
        return cvxtypes.atom("std")(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def var(self, *, ddof=0):
        return cvxtypes.atom("var")(self, ddof=ddof)

    def prod(self, axis=None, *, keepdims=False):
        return cvxtypes.atom("prod")(self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis=0):
        return cvxtypes.atom("cumsum")(self, axis=axis)

    def trace(self):
        return cvxtypes.atom("trace")(self)

    def conj(self):
        return self                 # real expressions only

    conjugate = conj



class Leaf(Expression):
    """Variables, parameters and constants."""

    def __init__(self, shape):
        super().__init__((), shape)

    def _leaf_value(self):
        raise NotImplementedError

    def _numeric(self, vals):  # pragma: no cover - leaves are valued by _leaf_value
        return self._leaf_value()


_LP_FORBIDDEN_ATTRS = ("integer", "boolean", "PSD", "NSD", "symmetric", "hermitian", "complex", "imag")
# cvxpy's leaves whose other entries are structural zeros: a Variable holds an LP column per
# stored entry only (cvxpy's ``_reduced_size``)
_STRUCTURAL_ATTRS = ("sparsity", "diag")
# attributes that only restrict a Parameter's value: data to an LP (boolean and integer also as cvxpy's
# index lists, restricting those entries)
_VALUE_ATTRS = ("boolean", "integer", "symmetric")
# cvxpy's attribute names, all present in ``attributes`` as in cvxpy (False when off)
_ALL_ATTRS = ("nonneg", "nonpos", "pos", "neg", "complex", "imag", "symmetric", "diag", "PSD", "NSD",
              "hermitian", "boolean", "integer", "sparsity", "bounds")


def _value_attr(key, given, shape):
    """A Parameter's boolean / integer / symmetric attribute as cvxpy stores it: True, or (boolean,
    integer) the list of index tuples given, checked against ``shape``."""
    if not isinstance(given, (list, tuple)) or not given or key == "symmetric":
        return bool(given)
    try:
        np.ravel_multi_index(_listed(given), shape)
    except (TypeError, ValueError):
        raise ValueError(f"{key}={given!r}: expected True or a list of index tuples within shape {shape}") from None
    return given


def _listed(indices) -> tuple:
    """numpy's index arrays of a list of index tuples."""
    return tuple(np.asarray(indices, dtype=int).reshape(len(indices), -1).T)


def _same_pattern(coo, sparse_idx) -> bool:
    """Whether a canonical (duplicates summed) COO array stores exactly a leaf's entries."""
    return len(coo.coords) == len(sparse_idx) and all(np.array_equal(a, b) for a, b in zip(coo.coords, sparse_idx))


def _bound_operand(value, shape, what, leaf=None):
    """A bound given as None, a number/array (±inf allowed), or a Parameter or expression of
    Parameters (``-u``, ``p + 1``: the compiler refills it from their values at each solve).
    A sparse or diagonal ``leaf`` takes cvxpy's narrower set: numbers, and for a sparse one
    scipy arrays of its own pattern."""
    if value is None:
        return value
    structural = leaf is not None and leaf._stored is not None
    if sp.issparse(value):          # cvxpy's words and rules
        if getattr(leaf, "sparse_idx", None) is None:
            raise naming(ValueError("Sparse bounds are only supported for sparse variables."), what)
        if value.shape != shape:
            raise naming(ValueError("Sparse bounds must have the same shape as the variable."),
                         f"{what}: shape {value.shape}, not {shape}")
        coo = sp.coo_array(value)
        coo.sum_duplicates()
        if not _same_pattern(coo, leaf.sparse_idx):
            raise naming(ValueError("Sparse bounds must have the same sparsity pattern as the sparse variable."), what)
        if np.isnan(coo.data).any():
            raise naming(ValueError("np.nan is not feasible as lower or upper bound."), what)
        return coo.astype(float)
    if structural and isinstance(value, Expression):
        raise naming(ValueError("Expression bounds are not yet supported for sparse or diagonal variables."),
                     f"{what}: {value}")
    if structural and np.ndim(value) > 0:
        raise naming(ValueError("Dense array bounds are not supported for sparse or diagonal variables. Use scalar "
                                "bounds instead."), what)
    if isinstance(value, Expression) and value._has_vars:        # cvxpy's words
        raise naming(ValueError("Parametric bounds must not depend on Variables. Use Parameters or numeric values "
                                "instead."), f"{what}: {value}")
    if isinstance(value, Expression) and value._has_params:
        if value.shape != shape and np.broadcast_shapes(value.shape, shape) != shape:
            raise ValueError(f"{what}: {value} has shape {value.shape}, which does not broadcast to {shape}")
        return value
    if isinstance(value, Expression):
        value = dense(value.value)
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":     # integer bounds stay integers, as in cvxpy (its repr shows 0, not 0.00)
        arr = arr.astype(float)
    try:
        np.broadcast_to(arr, shape)
    except ValueError:
        raise naming(ValueError("Bounds should be None, scalars, or arrays with the same dimensions as the "
                                "variable/parameter."), f"{what}: shape {arr.shape}, not {shape}") from None
    if np.isnan(arr).any():
        raise naming(ValueError("np.nan is not feasible as lower or upper bound."), what)
    return arr


def _check_numeric_bounds(lo, hi, shape, what, structural=False):
    """cvxpy's refusals of numeric bounds no value can meet, in its words, then the first entry
    at fault (a Parameter bound is checked at each solve: crossed, the status is infeasible).
    ``structural``: the leaf has structural zeros, which a number bound must allow."""
    if isinstance(lo, Expression) or isinstance(hi, Expression):
        return
    given = (lo, hi)
    if sp.issparse(lo) or sp.issparse(hi):      # the stored entries only (off them both bounds hold 0)
        shape = (lo if sp.issparse(lo) else hi).data.shape
        lo, hi = (b.data if sp.issparse(b) else b for b in (lo, hi))
    lo, hi = np.broadcast_to(lo, shape), np.broadcast_to(hi, shape)
    for bad, words in ((hi == -np.inf, "-np.inf is not feasible as an upper bound."),
                       (lo == np.inf, "np.inf is not feasible as a lower bound."),
                       (hi < lo, "Invalid bounds: some upper bounds are less than corresponding lower bounds.")):
        if np.any(bad):
            at = np.unravel_index(int(np.flatnonzero(bad)[0]), shape) if shape else ()
            raise naming(ValueError(words), f"{what}, entry {tuple(int(i) for i in at)}")
    # a number bound of a sparse or diagonal leaf must allow its structural zeros (cvxpy's words)
    for b, bad, side in zip(given, (np.greater, np.less), ("lower bound for a sparse or diagonal variable must be "
                                                           "<= 0", "upper bound for a sparse or diagonal variable "
                                                           "must be >= 0")):
        if structural and not sp.issparse(b) and bad(float(b), 0):
            raise naming(ValueError(f"Scalar {side}, since the structurally zero entries are fixed at 0."),
                         f"{what}: {float(b):g}")


class _NamedLeaf(Leaf):
    """What Variable and Parameter share: a name, sign attributes and a checked value."""

    _kind = ""
    _prefix = ""          # cvxpy's default names: var12, param13

    def __init__(self, shape, name, nonneg, nonpos, kwargs, forbidden):
        super().__init__(shape)
        # pos / neg: strictly signed in cvxpy's DGP; in an LP, as in cvxpy's DCP, nonneg / nonpos
        pos, neg = bool(kwargs.pop("pos", False)), bool(kwargs.pop("neg", False))
        square = [k for k in ("PSD", "NSD", "symmetric", "diag", "hermitian") if kwargs.get(k)]
        # cvxpy's checks of these attributes come before gridprox refuses them, in its words
        if square and (len(self.shape) < 2 or self.shape[-2] != self.shape[-1]):
            raise ValueError(f"Invalid dimensions {self.shape}. Must be a square matrix.")
        sparsity = kwargs.get("sparsity")
        sparse = sparsity is not None and sparsity is not False and len(sparsity) > 0
        if sparse:
            if self.shape == ():
                raise ValueError("Indices should have 0 dimensions.")
            pattern = sp.coo_array((np.empty(len(sparsity[0])), sparsity), shape=self.shape)   # scipy's index errors
        if len(square) + sparse > 1:
            raise ValueError("A CVXPY Variable cannot have more than one of the following attributes: "
                             "['diag', 'symmetric', 'PSD', 'NSD', 'hermitian', 'sparsity']")
        diag = "diag" in square
        if (sparse or diag) and (pos or neg):
            raise ValueError(f"Cannot combine {['pos'] if pos else ['neg']} with {['sparsity'] if sparse else ['diag']}. "
                             "Sparsity and diag attributes force zeros, which contradicts strict "
                             "positivity/negativity.")
        # cvxpy's sparse_idx (its canonical coordinates), and the flat C-order positions of the
        # entries a sparse or diagonal leaf holds (None: all of them)
        self.sparse_idx = self._stored = None
        if sparse:
            pattern.sum_duplicates()
            self.sparse_idx = tuple(pattern.coords)
            self._stored = np.ravel_multi_index(self.sparse_idx, self.shape)
        elif diag and len(self.shape) == 2:
            self._stored = np.arange(self.shape[0]) * (self.shape[0] + 1)
        elif diag:
            raise ModelingError(f"{self._kind} attribute diag=True of shape {self.shape}: gridprox takes diagonal "
                                "matrices of two dimensions")
        for key, val in kwargs.items():
            # an attribute is off when None, False or an empty index list (cvxpy's); others count as given
            if val is None or (isinstance(val, (bool, np.bool_, list, tuple)) and not val):
                continue
            if key in _STRUCTURAL_ATTRS + _VALUE_ATTRS and key not in forbidden:
                continue
            if key in forbidden:
                raise ModelingError(f"{self._kind} attribute {key}={val!r} is not supported: gridprox models "
                                    "continuous linear programs")
            raise TypeError(f"{self._kind}() got an unexpected keyword argument {key!r}")
        self._name = name
        self.attributes = dict.fromkeys(_ALL_ATTRS, False)
        self.attributes.update(nonneg=bool(nonneg) or pos, nonpos=bool(nonpos) or neg, pos=pos, neg=neg,
                               sparsity=sparsity if sparse else None, diag=diag, bounds=None,
                               **{k: _value_attr(k, kwargs[k], self.shape) for k in _VALUE_ATTRS
                                  if kwargs.get(k) is not None and k not in forbidden})
        self._value = None

    def name(self) -> str:
        return self._name if self._name is not None else f"{self._prefix}{self.id}"

    def _str(self, a):
        return self.name()

    @property
    def _columns(self) -> int:
        """The entries this leaf holds (a Variable's LP columns): cvxpy's ``_reduced_size``."""
        return self.size if self._stored is None else len(self._stored)

    @property
    def _reduced_size(self) -> int:
        """cvxpy's: the entries that determine the leaf (a symmetric Parameter's upper triangle)."""
        return self.shape[-1] * (self.shape[-1] + 1) // 2 if self.attributes["symmetric"] else self._columns

    @property
    def _has_dim_reducing_attr(self) -> bool:
        return self._stored is not None or bool(self.attributes["symmetric"])

    def _entries(self, full) -> np.ndarray:
        """The stored entries (flat, C order) of an array of this shape, or broadcast to it."""
        flat = np.broadcast_to(dense(full), self.shape).ravel()
        return flat if self._stored is None else flat[self._stored]

    def _from_entries(self, x) -> np.ndarray:
        """This shape's array from its stored entries (the others zero)."""
        if self._stored is None:
            return np.asarray(x).reshape(self.shape)
        out = np.zeros(self.size)
        out[self._stored] = x
        return out.reshape(self.shape)

    def _leaf_value(self):
        return self._value

    def is_symmetric(self) -> bool:      # cvxpy's: a scalar, a diagonal leaf or a symmetric Parameter
        return self.size == 1 or bool(self.attributes["diag"] or self.attributes["symmetric"])

    @property
    def value(self):
        if self._value is not None and self.sparse_idx is not None:     # cvxpy's nudge, and its dense copy
            warnings.warn("Reading from a sparse CVXPY expression via `.value` is discouraged. Use `.value_sparse` "
                          "instead", RuntimeWarning, stacklevel=2)
            return self._value.copy()
        if self._value is not None and self.attributes["diag"]:           # cvxpy's: a scipy dia array
            return sp.diags_array([np.diagonal(self._value).copy()], offsets=[0])
        return self._value

    @property
    def value_sparse(self):
        """cvxpy's: the value as a scipy COO array (a sparse leaf's stored entries)."""
        if self._value is None:
            return None
        if self.sparse_idx is None:
            return sp.coo_array(self._value)
        return sp.coo_array((self._value[self.sparse_idx], self.sparse_idx), shape=self.shape)

    @value_sparse.setter
    def value_sparse(self, val):
        if isinstance(val, sp.spmatrix):
            val = sp.coo_array(val)
        if not isinstance(val, sp.coo_array):
            raise naming(ValueError(f"Invalid type for assigning value_sparse. Received: {type(val)} Expected "
                                        "scipy.sparse.coo_array."), f"{self._kind} {self.name()!r}")
        val = val.copy()
        val.sum_duplicates()
        if self.sparse_idx is not None and not _same_pattern(val, self.sparse_idx):
            raise naming(ValueError(f"Invalid sparsity pattern {val.coords} for {self._kind} value."), repr(self.name()))
        self._value = self.checked(val.toarray())

    def checked(self, value, leading=()) -> np.ndarray:
        """``value`` as a float array of shape leading + self.shape, refused (naming this
        leaf) when its shape is wrong, it holds NaN/inf, or it breaks nonneg/nonpos."""
        refuse_complex(value, f"value of {self._kind} {self.name()!r}")
        arr = np.array(dense(value), dtype=float)
        want = tuple(leading) + self.shape
        if arr.shape != want:
            if arr.size != math.prod(want) or self._kind == "Parameter":
                raise naming(ValueError(f"Invalid dimensions {arr.shape} for {self._kind} value."),
                             f"{self.name()!r} has shape {self.shape}" + (f" (expected {want})" if leading else ""))
            arr = arr.reshape(want)
        # a Parameter may hold ±inf, as in cvxpy (x <= p with p = inf is no bound); the LP refuses
        # an infinite coefficient or a bound on the wrong side by name
        check_finite(arr, f"value of {self._kind} {self.name()!r}", allow="inf" if self._kind == "Parameter" else None)
        if self._stored is not None and np.any(np.delete(arr.reshape(*leading, -1), self._stored, axis=-1)):
            what = "diagonal" if self.sparse_idx is None else "zero outside of sparsity pattern"
            raise naming(ValueError(f"{self._kind} value must be {what}."), repr(self.name()))
        # cvxpy's test: the value is its own projection onto the sign or bounds (inf where both are inf)
        proj = self.project(arr)
        with np.errstate(invalid="ignore"):
            off = (arr != proj) & (np.abs(arr - proj) > _PROJECTION_TOL)
        if np.any(off):
            attrs = self.attributes
            what = next(w for k, w in (("pos", "positive"), ("nonneg", "nonnegative"), ("neg", "negative"),
                                       ("nonpos", "nonpositive"), ("bounds", "in bounds"), ("boolean", "boolean"),
                                       ("integer", "integer"), ("symmetric", "symmetric")) if attrs[k] is not None
                        and attrs[k] is not False)
            where = f" at index {tuple(np.argwhere(off)[0].tolist())}" if arr.ndim else ""
            raise naming(ValueError(f"{self._kind} value must be {what}."), f"{self.name()!r} is {arr[off][0]:g}{where}")
        return arr

    @value.setter
    def value(self, val):
        if val is not None and self.sparse_idx is not None and len(self._stored) <= _SPARSE_DENSITY * self.size:
            warnings.warn("Writing to a sparse CVXPY expression via `.value` is discouraged. Use `.value_sparse` "
                          "instead", RuntimeWarning, stacklevel=2)
        self._value = None if val is None else self.checked(from_list(val))

    def project(self, val):
        """cvxpy's projection of ``val`` onto this leaf's sign or numeric bounds (its rules: with
        more than one attribute, or bounds holding Parameters, ``val`` comes back as is)."""
        val = np.real(np.asarray(from_list(val), dtype=float))
        attrs = self.attributes
        if len(self._stated_attributes()) > 1:
            return val
        if attrs["nonpos"] or attrs["neg"]:
            return np.minimum(val, 0.0)
        if attrs["nonneg"] or attrs["pos"]:
            return np.maximum(val, 0.0)
        if self.bounds is not None and not any(isinstance(b, Expression) for b in self.bounds):
            return np.clip(val, *(b.toarray() if sp.issparse(b) else b for b in self.bounds))
        for key, rule in (("boolean", lambda v: np.round(np.clip(v, 0.0, 1.0))), ("integer", np.round)):
            if attrs[key] is not False:
                at = ... if attrs[key] is True else (..., *_listed(attrs[key]))    # every entry, or those listed
                val = val.copy()
                val[at] = rule(val[at])
                return val
        if attrs["symmetric"]:
            return (val + np.swapaxes(val, -2, -1)) / 2
        return val

    def _leaf_log_log(self, dpp):
        # a positive variable is log-log affine; a positive Parameter log-log constant (affine under DPP)
        if not self.attributes["pos"]:
            return UNKNOWN
        return AFFINE if self._kind == "Variable" or dpp else CONSTANT

    @property
    def domain(self) -> list:
        """cvxpy's: this leaf's sign and bounds as constraints (entries with an infinite bound left out)."""
        out = [self >= 0] if self.attributes["nonneg"] else []     # pos sets nonneg here
        if self.attributes["nonpos"]:
            out.append(self <= 0)
        for upper, b in zip((False, True), self.bounds or ()):
            if not isinstance(b, Expression):
                free = np.inf if upper else -np.inf
                if not np.any(np.asarray(b) != free):
                    continue
                if np.ndim(b) and self.ndim:
                    mask = np.broadcast_to(b, self.shape) != free
                    out.append(self[mask] <= b[mask] if upper else self[mask] >= b[mask])
                    continue
            out.append(self <= b if upper else self >= b)
        return out

    def _stated_attributes(self) -> dict:
        """The attributes given, as cvxpy records them (pos sets nonneg here too, not in cvxpy)."""
        attrs = self.attributes
        implied = {"nonneg": attrs["pos"], "nonpos": attrs["neg"]}
        return {k: v for k, v in attrs.items() if v is not None and v is not False and not implied.get(k)}

    def _has_lower_bounds(self) -> bool:
        return self._has_bound(0, "nonneg", -np.inf)

    def _has_upper_bounds(self) -> bool:
        return self._has_bound(1, "nonpos", np.inf)

    def _has_bound(self, side, sign, free) -> bool:
        """cvxpy's test: a sign attribute, a Parameter bound, or a finite entry on that side."""
        if self.attributes[sign]:
            return True
        b = (self.bounds or (None, None))[side]
        return b is not None and (isinstance(b, Expression) or bool(np.any(np.asarray(b) != free)))

    def save_value(self, val):
        """cvxpy's unchecked setter (what a solver writes back)."""
        if val is None:
            self._value = None
            return
        arr = np.asarray(dense(val), dtype=float)       # one number fills the leaf, as in cvxpy
        self._value = np.broadcast_to(arr, self.shape).copy() if arr.size == 1 else arr.reshape(self.shape)

    def __repr__(self):
        # cvxpy's layout: Variable((2,), x, nonneg=True, bounds=(0, 10)); a Parameter's repr has no name
        parts = [str(self.shape)] + ([self.name()] if self._kind == "Variable" else [])
        parts += [f"{k}=True" for k, v in self._stated_attributes().items() if v is True]
        if self.sparse_idx is not None:
            parts.append(f"sparsity={self.attributes['sparsity']}")
        if self.bounds is not None:
            lo, hi = (str(b) if isinstance(b, Expression) else _matrix_str(b.toarray() if sp.issparse(b) else np.asarray(b))
                      for b in self.bounds)
            parts.append(f"bounds=({lo}, {hi})")
        return f"{self._kind}({', '.join(parts)})"


class Variable(_NamedLeaf):
    """A decision variable: ``Variable(shape=(), name=None, *, nonneg, nonpos, bounds)``."""

    _kind, _prefix = "Variable", "var"

    def __init__(self, shape=(), name: Optional[str] = None, var_id=None, *, nonneg: bool = False,
                 nonpos: bool = False, bounds=None, value=None, **kwargs):
        if var_id is not None:      # cvxpy's alias of another Variable; each Variable here is its own one
            raise ModelingError(f"Variable(var_id={var_id!r}): a Variable object standing for another one (cvxpy's "
                                "var_id) is not supported; use that Variable itself")
        super().__init__(shape, name, nonneg, nonpos, kwargs, _LP_FORBIDDEN_ATTRS)
        self._has_vars = True
        self._curv = AFFINE
        label = f"bounds of Variable {self}"
        if bounds is not None:
            if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
                raise naming(ValueError("Bounds should be a list of two items."), f"{label}: {bounds!r}")
            bounds = [_bound_operand(b, self.shape, label, self) for b in bounds]
            # a missing side is unbounded, held as a 0-d ±inf (cvxpy's representation)
            bounds = [np.array(-np.inf) if bounds[0] is None else bounds[0],
                      np.array(np.inf) if bounds[1] is None else bounds[1]]
            _check_numeric_bounds(*bounds, self.shape, label, structural=self._stored is not None)
        self.bounds = bounds
        self.attributes["bounds"] = bounds
        self._aux = False
        if value is not None:       # cvxpy's initial value (a warm start there; kept until a solve here)
            self.value = value

    def _canon(self, ctx):
        ctx.register(self)
        return Form.variable(self.id, self.shape, self._stored)

    def get_bounds(self):
        lo, hi = super().get_bounds()
        if self.bounds is not None and any(sp.issparse(b) for b in self.bounds):    # cvxpy keeps them sparse
            return tuple(sp.coo_array((self._entries(b), self.sparse_idx), shape=self.shape) for b in (lo, hi))
        return lo, hi


    def _sign_rule(self):
        return NONNEG if self.attributes["nonneg"] else NONPOS if self.attributes["nonpos"] else UNKNOWN_SIGN

    def is_nonneg(self) -> bool:
        return self.attributes["nonneg"]

    def is_nonpos(self) -> bool:
        return self.attributes["nonpos"]


class Parameter(_NamedLeaf):
    """A constant whose value can change between solves without recompiling."""

    _kind, _prefix = "Parameter", "param"

    def __init__(self, shape=(), name: Optional[str] = None, value=None, id=None, *,
                 nonneg: bool = False, nonpos: bool = False, bounds=None, **kwargs):
        # boolean, integer and symmetric only restrict the value
        super().__init__(shape, name, nonneg, nonpos, kwargs,
                         tuple(k for k in kwargs if k not in _STRUCTURAL_ATTRS + _VALUE_ATTRS))
        self._has_params = True
        self._curv = CONSTANT
        # cvxpy's Parameter bounds: numbers or arrays (±inf allowed) that every value must respect
        if bounds is not None:
            if len(bounds) != 2:
                raise ValueError(f"bounds of Parameter {self}: expected [lower, upper], got {bounds!r}")
            label = f"bounds of Parameter {self}"
            bounds = [_bound_operand(b, self.shape, label) for b in bounds]
            if any(isinstance(b, Parameter) for b in bounds):
                raise naming(ValueError("Parameter bounds must be numeric, not CVXPY Expressions. Parametric bounds "
                                        "are only supported on Variables."), label)
            # as a Variable's: a missing side a 0-d ±inf, a given side as given (cvxpy's representation)
            bounds = [np.array(side * np.inf) if b is None else b for side, b in zip((-1, 1), bounds)]
        self.bounds = bounds
        self.attributes["bounds"] = bounds
        if value is not None:
            self.value = value

    def _sign_rule(self):     # a boolean Parameter is nonnegative (cvxpy's sign; not one with listed entries)
        nonneg = self.attributes["nonneg"] or self.attributes["boolean"] is True
        return NONNEG if nonneg else NONPOS if self.attributes["nonpos"] else UNKNOWN_SIGN

    def _canon(self, ctx):
        ctx.register(self)
        return Form.parameter(self.id, self.shape)


class CallbackParam(Parameter):
    """cvxpy's Parameter whose value is ``callback()``, read at each solve: a product of Parameters
    written as one keeps the problem DPP (``CallbackParam(lambda: p.value * q.value)``)."""

    def __init__(self, callback, shape=(), **kwargs):
        self._callback = callback
        super().__init__(shape, **kwargs)

    def _leaf_value(self):
        return self.value

    @property
    def value(self):
        val = self._callback()
        return None if val is None else self.checked(from_list(val))

    @value.setter
    def value(self, val):
        raise naming(NotImplementedError("Cannot set the value of a CallbackParam."), repr(self.name()))


class Constant(Leaf):
    """Numeric data (numpy arrays, numbers, scipy.sparse matrices)."""

    def __init__(self, value, name: Optional[str] = None):
        if isinstance(value, Constant):
            value = value._value
        if not isinstance(value, Expression):
            refuse_complex(value, f"constant {name or ''}".rstrip())
        if sp.issparse(value):
            val = sp.csr_matrix(value, dtype=float, copy=True)      # the caller's matrix may change
        else:
            if isinstance(value, Expression):
                raise TypeError(f"Constant() of an expression {value}")
            try:
                val = np.array(from_list(value), dtype=float)     # a copy: the caller's array may change
            except (TypeError, ValueError):
                raise TypeError(f"cannot use {type(value).__name__} {value!r} in an expression") from None
        super().__init__(val.shape)
        check_finite(val, f"constant{' ' + name if name else ''} of shape {val.shape}")
        self._value = val
        self._name = name
        self._curv = CONSTANT

    def _leaf_value(self):
        return self._value

    def _leaf_log_log(self, dpp):
        return CONSTANT if _positive(self._value) else UNKNOWN

    @property
    def value(self):
        # cvxpy keeps a sparse constant sparse, as a csc_array whatever format it was given in
        return sp.csc_array(self._value) if sp.issparse(self._value) else self._value

    def _semidefinite(self, sign) -> bool:
        """A symmetric matrix whose eigenvalues, times ``sign``, are >= -1e-10 (cvxpy's tolerance)."""
        if self.ndim != 2 or self.shape[0] != self.shape[1]:
            return False
        A = sign * dense(self._value)
        return bool(self.is_symmetric() and np.linalg.eigvalsh((A + A.T) / 2)[0] >= -1e-10)

    def is_psd(self) -> bool:
        return self._semidefinite(1.0)

    def _square_matching(self, sign) -> bool:
        """A square matrix equal to ``sign`` times its transpose (numpy's tolerance, as is_psd)."""
        if self.ndim != 2 or self.shape[0] != self.shape[1]:
            return False
        v = dense(self._value)
        return bool(np.allclose(v, sign * v.T))

    def is_symmetric(self) -> bool:
        return self.size == 1 or self._square_matching(1.0)

    def is_skew_symmetric(self) -> bool:
        return self._square_matching(-1.0)

    def is_nsd(self) -> bool:
        return self._semidefinite(-1.0)

    def _str(self, a):
        if self._name:
            return self._name
        v = self._value
        if sp.issparse(v):
            return f"Constant{self.shape}"
        # cvxpy's printing: numpy's str of the value (2.0, [1. 2.]), a matrix of several rows
        # with two decimals and its middle rows elided
        if v.ndim == 2 and "\n" in str(v):
            return _matrix_str(v)
        return str(v)

    def __repr__(self):
        return f"Constant(CONSTANT, {self.sign}, {self.shape})"      # cvxpy's repr
