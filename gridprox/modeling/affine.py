"""Affine atoms with cvxpy's names and numpy's broadcasting.

Each node turns the forms of its arguments into its own form with one sparse linear map
(``Form.gather`` for index-like maps, ``Form.lmul`` otherwise), never a loop over entries.
"""
from __future__ import annotations

import builtins
import math
import numbers
from types import GeneratorType
import warnings

import numpy as np
import scipy.sparse as sp
from numpy.lib.array_utils import normalize_axis_tuple

from ..errors import ModelingError, naming
from . import form as F
from .error import CvxpyDeprecationWarning
from .expression import (AFFINE, CONVEX, DECREASING, INCREASING, NONMONOTONE, NONNEG, NONPOS,
                         UNKNOWN_SIGN, ZERO, Constant, Expression, as_expr, broadcast_shapes, default_order, dense,
                         describe, sign_of)


def _sign_product(signs):
    if ZERO in signs:
        return ZERO
    if UNKNOWN_SIGN in signs:
        return UNKNOWN_SIGN
    # builtins.sum: this module's own ``sum`` (cvxpy's atom) would treat the generator as data
    return NONPOS if builtins.sum(s == NONPOS for s in signs) % 2 else NONNEG


def _sign_same(signs):
    signs = [s for s in signs if s != ZERO]
    if not signs:
        return ZERO
    return signs[0] if all(s == signs[0] for s in signs) else UNKNOWN_SIGN


def _is_int(a) -> bool:
    return isinstance(a, numbers.Integral) and not isinstance(a, (bool, np.bool_))


def _normalize_axis(axis, ndim, what):
    """Sorted non-negative axes; numpy's errors (its AxisError, as cvxpy raises it)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if _is_int(axis) else tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        if not _is_int(a):
            raise ValueError(f"{describe(what)}: axis {a!r} is not an integer")
        if not -ndim <= a < ndim:
            raise np.exceptions.AxisError(int(a), ndim)
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{describe(what)}: repeated axis")
    return tuple(sorted(out))


def reduced_shape(shape, axis, keepdims, what):
    """(axes, shape with the axes kept as 1, result shape) of a reduction over ``axis``."""
    axes = _normalize_axis(axis, len(shape), what)
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    return axes, kept, kept if keepdims else tuple(n for i, n in enumerate(shape) if i not in axes)


# ------------------------------------------------------------------- add / neg
class Add(Expression):
    """Sum of expressions with broadcasting (cvxpy's AddExpression)."""

    _prec = 30
    _log_log_atom = CONVEX           # a posynomial

    def __init__(self, args):
        flat = []
        for a in args:
            flat.extend(a.args if isinstance(a, Add) else (a,))
        shape = broadcast_shapes(*(a.shape for a in flat),
                                 context=lambda: " + ".join(str(a) for a in flat[:4]))
        super().__init__(flat, shape)

    def _rebuild(self, args):
        return Add(args)

    def _numeric(self, vals):
        out = dense(vals[0])
        for v in vals[1:]:
            out = out + dense(v)
        return out

    def _canon(self, ctx):
        total = None
        for a in self.args:
            f = ctx.form(a)
            f = f.gather(F.broadcast_index(a.shape, self.shape), self.shape) if a.shape != self.shape else f
            total = f if total is None else total + f
        return total

    def _sign_rule(self):
        return _sign_same([a.sign for a in self.args])

    def _str(self, a):
        parts = [self._fmt(a[0], 30)]
        for x in a[1:]:
            if isinstance(x, Neg):
                parts.append(" - " + self._fmt(x.args[0], 31))
            else:
                parts.append(" + " + self._fmt(x, 30))
        return "".join(parts)


class Neg(Expression):
    _prec = 50

    def __init__(self, arg):
        super().__init__([arg], arg.shape)

    def _monotonicity(self, i):
        return DECREASING

    def _numeric(self, vals):
        return -dense(vals[0])

    def _canon(self, ctx):
        return -ctx.form(self.args[0])

    def _sign_rule(self):
        s = self.args[0].sign
        return {NONNEG: NONPOS, NONPOS: NONNEG}.get(s, s)

    def _str(self, a):
        return "-" + self._fmt(a[0], 51)


# -------------------------------------------------------------------- products
def _refuse_variable_product(a, b, op, words=None):
    """Refuse a product of two variable expressions, naming it as it would print; with cvxpy's
    ``words`` where cvxpy refuses it too (kron), the product as a note under them."""
    if a._has_vars and b._has_vars:
        text = f"{op}({a}, {b})" if op.isalpha() else f"{a._fmt(a, 40)} {op} {b._fmt(b, 41)}"
        why = "a product of two expressions that both contain variables is not linear; gridprox models " \
              "linear programs only"
        raise naming(ModelingError(words), f"{text}: {why}") if words else ModelingError(f"{text}: {why}")


def _scale_operands(a, b):
    """cvxpy's elementwise product with one size-1 side is a scaling of the other side and
    keeps that side's shape ((1, 1) times (3,) is (3,), not numpy's (1, 3)): the size-1
    side becomes a scalar."""
    if a.size == 1 and b.size != 1 and a.shape != ():
        a = AsScalar(a)
    elif b.size == 1 and a.size != 1 and b.shape != ():
        b = AsScalar(b)
    return a, b


def _factor_monotonicity(factor):
    """Monotonicity in the non-constant argument of a product with constant ``factor``."""
    s = factor.sign
    return INCREASING if s in (NONNEG, ZERO) else DECREASING if s == NONPOS else NONMONOTONE


class Multiply(Expression):
    """Elementwise product with broadcasting; one side must be variable-free."""

    _prec = 40
    _op = "*"
    _log_log_atom = AFFINE           # a product of monomials is one

    def __init__(self, lhs, rhs):
        lhs, rhs = _scale_operands(as_expr(lhs), as_expr(rhs))
        _refuse_variable_product(lhs, rhs, self._op)
        shape = broadcast_shapes(lhs.shape, rhs.shape, context=lambda: f"multiply({lhs}, {rhs})")
        super().__init__([lhs, rhs], shape)

    def _monotonicity(self, i):
        other = self.args[1 - i]
        return INCREASING if other._has_vars else _factor_monotonicity(other)

    def _numeric(self, vals):
        return dense(vals[0]) * dense(vals[1])

    def _factor_form(self, ctx, factor):
        return ctx.form(factor)

    def _canon(self, ctx):
        lhs, rhs = self.args
        # the factor is the variable-free side (the parameter-free one when both are)
        if lhs._has_vars or (not rhs._has_vars and lhs._has_params and not rhs._has_params):
            expr, factor = lhs, rhs
        else:
            expr, factor = rhs, lhs
        fe = self._broadcast(ctx.form(expr), expr.shape)
        ff = self._broadcast(self._factor_form(ctx, factor), factor.shape)
        return fe.mul_by(ff)

    def _broadcast(self, f, shape):
        return f if shape == self.shape else f.gather(F.broadcast_index(shape, self.shape), self.shape)

    def _sign_rule(self):
        return _sign_product([a.sign for a in self.args])

    def _str(self, a):
        return f"{self._fmt(a[0], 40)} {self._op} {self._fmt(a[1], 41)}"


class Div(Multiply):
    """``expr / c`` with c a numeric constant (division by a Parameter is not affine in it)."""

    _op = "/"
    _prec = 39      # below * and /: a quotient inside a product or quotient is parenthesised, as cvxpy prints

    def _log_log_monotonicity(self, i):
        return INCREASING if i == 0 else DECREASING

    def __init__(self, lhs, rhs):
        lhs, rhs = as_expr(lhs), as_expr(rhs)
        broadcast_shapes(lhs.shape, rhs.shape, context=lambda: f"Incompatible shapes for division "
                                                              f"({lhs.shape} / {rhs.shape}): {lhs} / {rhs}")
        if rhs._has_vars:
            raise ModelingError(f"{lhs._fmt(lhs, 40)} / {rhs._fmt(rhs, 41)}: dividing by an expression "
                                "with variables is not linear")
        if rhs._has_params:
            raise ModelingError(f"{lhs} / {rhs}: dividing by a Parameter is not affine in the parameter; "
                                f"multiply by a Parameter holding 1/{rhs} instead")
        if np.any(dense(rhs.value) == 0):
            raise ValueError(f"{lhs} / {rhs}: division by zero")
        super().__init__(lhs, rhs)

    def _monotonicity(self, i):
        return _factor_monotonicity(self.args[1]) if i == 0 else NONMONOTONE

    def _numeric(self, vals):
        return dense(vals[0]) / dense(vals[1])

    def _canon(self, ctx):
        lhs, rhs = self.args
        fe = self._broadcast(ctx.form(lhs), lhs.shape)
        recip = np.broadcast_to(1.0 / dense(ctx.numeric(rhs)), self.shape)
        return fe.scale(recip.ravel())

    def _sign_rule(self):
        return _sign_product([a.sign for a in self.args])


def _as_matrices(a, b):
    """numpy's matmul operands as stacks of matrices: a 1-d left side is a row, a 1-d right
    side a column (their unit axes are dropped from the result)."""
    return (1,) + a if len(a) == 1 else a, b + (1,) if len(b) == 1 else b


def _matmul_shape(a, b):
    """numpy's matmul shape (batch axes broadcast), cvxpy's errors."""
    if a == () or b == ():
        raise ValueError("Scalar operands are not allowed, use '*' instead")
    a2, b2 = _as_matrices(a, b)
    try:
        if a2[-1] != b2[-2]:
            raise ValueError
        batch = tuple(np.broadcast_shapes(a2[:-2], b2[:-2]))
    except ValueError:
        raise ValueError(f"Incompatible dimensions {a} {b}") from None
    return batch + a2[-2:-1] * (len(a) > 1) + b2[-1:] * (len(b) > 1)


def _as_sparse2d(M):
    """A numeric constant (1-d/2-d, dense or sparse) as a CSR matrix with 2 dims."""
    if sp.issparse(M):
        return sp.csr_matrix(M)
    M = np.asarray(M, dtype=float)
    return sp.csr_matrix(M.reshape(1, -1) if M.ndim == 1 else M)


class MatMul(Expression):
    """Matrix product ``a @ b`` (cvxpy's MulExpression); one side must be variable-free."""

    _prec = 40
    _log_log_atom = CONVEX           # sums of products

    def __init__(self, lhs, rhs):
        lhs, rhs = as_expr(lhs), as_expr(rhs)
        _refuse_variable_product(lhs, rhs, "@")
        shape = _matmul_shape(lhs.shape, rhs.shape)
        super().__init__([lhs, rhs], shape)

    def _monotonicity(self, i):
        other = self.args[1 - i]
        return INCREASING if other._has_vars else _factor_monotonicity(other)

    def _numeric(self, vals):
        a, b = vals
        out = a @ b
        return dense(out)

    def _canon(self, ctx):
        a, b = self.args
        if a.ndim > 2 or b.ndim > 2:                        # stacks of matrices
            return self._bilinear(ctx)
        if not a._has_vars and not a._has_params:          # constant @ expr
            M = _as_sparse2d(ctx.numeric(a))
            fb = ctx.form(b)
            n = b.shape[1] if b.ndim == 2 else 1
            L = M if n == 1 else sp.kron(M, sp.identity(n, format="csr"), format="csr")
            return fb.lmul(L, self.shape)
        if not b._has_vars and not b._has_params:          # expr @ constant
            Mv = ctx.numeric(b)
            M = _as_sparse2d(Mv.T if (sp.issparse(Mv) or np.ndim(Mv) == 2) else Mv)  # (n, k) or (1, k)
            fa = ctx.form(a)
            m = a.shape[0] if a.ndim == 2 else 1
            L = M if m == 1 else sp.kron(sp.identity(m, format="csr"), M, format="csr")
            return fa.lmul(L, self.shape)
        return self._bilinear(ctx)

    def _bilinear(self, ctx):
        """The product entry by entry: both sides broadcast to (batch, m, k, n), multiplied
        elementwise (a constant or parameter-affine factor on the variable side), summed over
        k.  Behind parameter products and stacks of matrices."""
        a, b = self.args
        sa, sb = _as_matrices(a.shape, b.shape)
        batch = tuple(np.broadcast_shapes(sa[:-2], sb[:-2]))
        (m, k), n = sa[-2:], sb[-1]
        full = batch + (m, k, n)
        left, right = sa[:-2] + (m, k, 1), sb[:-2] + (1, k, n)
        fa = ctx.form(a).reshape(left).gather(F.broadcast_index(left, full), full)
        fb = ctx.form(b).reshape(right).gather(F.broadcast_index(right, full), full)
        if a._has_vars or (not b._has_vars and a._has_params and not b._has_params):
            prod = fa.mul_by(fb)
        else:
            prod = fb.mul_by(fa)
        return prod.lmul(F.sum_map(full, (len(full) - 2,)), self.shape)

    def _sign_rule(self):
        return _sign_product([a.sign for a in self.args])

    def _str(self, a):
        return f"{self._fmt(a[0], 40)} @ {self._fmt(a[1], 41)}"


def star(a, b):
    """cvxpy's ``*``: elementwise when either side is a scalar, or has one entry and the
    inner dimensions do not fit a matrix product; else matrix product (with cvxpy's warning)."""
    if a.shape == () or b.shape == () or (a.shape[-1] != b.shape[0] and (a.size == 1 or b.size == 1)):
        return Multiply(a, b)
    msg = ("This use of ``*`` has resulted in matrix multiplication. Use ``@`` for matrix "
           "multiplication or ``multiply`` for elementwise multiplication.")
    warnings.warn(msg, UserWarning, stacklevel=3)
    warnings.warn(msg, CvxpyDeprecationWarning, stacklevel=3)      # cvxpy gives both
    return MatMul(a, b)


def multiply(a, b):
    return Multiply(as_expr(a), as_expr(b))


def matmul(a, b):
    return MatMul(as_expr(a), as_expr(b))


# --------------------------------------------------------- index-like maps
class _GatherMap(Expression):
    """A single-argument node whose form is a gather of its argument's entries."""

    _log_log_atom = AFFINE

    def __init__(self, arg, shape):
        super().__init__([arg], shape)

    def _gather_index(self):
        raise NotImplementedError

    def _canon(self, ctx):
        return ctx.form(self.args[0]).gather(self._gather_index(), self.shape)

    def _sign_rule(self):
        return self.args[0].sign


def _key_str(key, shape):
    """An index as cvxpy prints it: a key of integers and slices is resolved axis by axis against
    ``shape`` as cvxpy's key_utils does (``x[:-1]`` of 100 entries prints ``x[0:99]``, an integer its
    non-negative value, missing axes ``0:n``); index arrays, new axes and ellipses as written."""
    keys = key if isinstance(key, tuple) else (key,)
    if len(keys) <= len(shape) and all(
            isinstance(k, slice) or (isinstance(k, (int, np.integer)) and not isinstance(k, (bool, np.bool_)))
            for k in keys):
        return ", ".join(_axis_str(k, n) for k, n in zip(keys + (slice(None),) * (len(shape) - len(keys)), shape))
    parts = []
    for k in keys:
        if isinstance(k, slice):
            s = "" if k.start is None else str(k.start)
            s += ":" + ("" if k.stop is None else str(k.stop))
            if k.step is not None:
                s += f":{k.step}"
            parts.append(s)
        elif k is None:
            parts.append("None")
        elif k is Ellipsis:
            parts.append("...")
        elif isinstance(k, (np.ndarray, list)):
            parts.append(_short_sequence(k))
        else:
            parts.append(str(k))
    return ", ".join(parts)


def _axis_str(k, n: int) -> str:
    """One axis of ``_key_str``: cvxpy's format_slice, then its slice_to_str (a slice whose first
    step reaches its stop prints as that single index, also for negative steps, as cvxpy does)."""
    def wrap(i, neg_step=False):
        return i + n if i < 0 and not (neg_step and i == -1) else i
    if isinstance(k, slice):
        step = 1 if k.step is None else int(k.step)
        if step > 0:
            start = min(max(wrap(0 if k.start is None else int(k.start)), 0), n)
            stop = min(max(wrap(n if k.stop is None else int(k.stop)), 0), n)
        else:
            start = min(max(wrap(n - 1 if k.start is None else int(k.start)), -1), n - 1)
            stop = min(max(wrap(-n - 1 if k.stop is None else int(k.stop), True), -1), n - 1)
    else:
        start, stop, step = wrap(int(k)), wrap(int(k)) + 1, 1
    if start + step >= stop:
        return str(start)
    return f"{start}:{stop}" + (f":{step}" if step != 1 else "")


def _short_sequence(seq, most=6):
    """cvxpy's printing of an index list: its first and last three entries around '...'."""
    if len(seq) > most:
        return str(seq[:most // 2])[:-1] + ", ..., " + str(seq[-(most // 2):])[1:]
    return str(seq)


def _index_error(err, key):
    """numpy's IndexError for ``key`` in cvxpy's words."""
    keys = key if isinstance(key, tuple) else (key,)
    text = str(err)
    ends = [e for k in keys if isinstance(k, slice) for e in (k.start, k.stop, k.step)]
    if any(isinstance(k, (float, np.floating)) for k in keys + tuple(ends)):
        return IndexError("float is an invalid index type.")
    if text.startswith("too many indices"):
        return IndexError("Too many indices for expression.")
    if text.startswith("index ") and "out of bounds" in text:
        return IndexError(f"Index {text[len('index '):]}.")
    return IndexError(text)         # numpy's own words, as cvxpy passes them on


class Index(_GatherMap):
    """``expr[key]`` with numpy's semantics (ints, slices, boolean and integer arrays)."""

    def __init__(self, arg, key):
        if isinstance(key, Expression):
            raise ModelingError(f"{arg}[{key}]: indexing with an expression is not supported")
        self.key = key
        try:
            self._idx = F.flat_index(arg.shape)[key]
        except (IndexError, TypeError) as e:          # numpy: a float in a slice is a TypeError
            raise _index_error(e, key) from None
        super().__init__(arg, np.shape(self._idx))

    def get_data(self):
        return [self.key]

    def _gather_index(self):
        return self._idx

    def _numeric(self, vals):
        v = vals[0]
        return dense(v)[self.key]

    def _str(self, a):
        return f"{self._fmt(a[0], 100)}[{_key_str(self.key, self.args[0].shape)}]"


class Transpose(_GatherMap):
    def __init__(self, arg, axes=None):
        self.axes = None if axes is None else tuple(int(x) % arg.ndim for x in axes)
        shape = np.empty(arg.shape, dtype=bool).transpose(self.axes).shape if arg.ndim else ()
        super().__init__(arg, shape)

    def get_data(self):
        return [self.axes]

    def _gather_index(self):
        return F.flat_index(self.args[0].shape).transpose(self.axes)

    def _numeric(self, vals):
        return np.transpose(dense(vals[0]), self.axes)

    def _str(self, a):
        return f"{self._fmt(a[0], 100)}.T" if self.axes is None else f"transpose({a[0]}, {self.axes})"


class Reshape(_GatherMap):
    """cvxpy's reshape: column-major ('F') by default, 'C' accepted."""

    def __init__(self, arg, shape, order="F"):
        order = "F" if order is None else str(order).upper()
        if order not in ("F", "C"):
            raise ValueError(f"reshape order must be 'F' or 'C', got {order!r}")
        self.order = order
        new = _infer_shape(tuple(shape), arg.size)
        if math.prod(new) != arg.size:
            raise ValueError(f"Invalid reshape dimensions {new}.")
        super().__init__(arg, new)

    def get_data(self):
        return [self.shape, self.order]

    def _gather_index(self):
        return F.flat_index(self.args[0].shape).reshape(self.shape, order=self.order)

    def _numeric(self, vals):
        return np.reshape(dense(vals[0]), self.shape, order=self.order)

    def _str(self, a):
        return f"reshape({a[0]}, {self.shape}, order={self.order!r})"


def _infer_shape(shape, size):
    """``shape`` with its one -1 filled in; cvxpy's checks and exceptions (AssertionError
    included: cvxpy's tests expect it)."""
    if -1 not in shape:
        return shape
    assert shape.count(-1) == 1, "Only one dimension can be -1."
    if len(shape) == 1:
        return (size,)
    known = [d for d in shape if d != -1]
    assert all(d >= 0 for d in known), "Specified dimension must be nonnegative."
    # a zero among the known sizes leaves nothing to fill: the size check then refuses it
    fill, rest = divmod(size, math.prod(known)) if math.prod(known) else (0, 0)
    if rest:
        raise ValueError(f"Cannot reshape expression of size {size} into shape {shape}.")
    return tuple(int(fill) if d == -1 else d for d in shape)


class AsScalar(Reshape):
    """A one-entry expression of any shape as a scalar, where cvxpy reads it as one (a
    scaling factor, a promoted operand); it prints as its argument."""

    def __init__(self, arg):
        super().__init__(arg, ())
        self._prec = arg._prec

    def get_data(self):
        return None

    def _str(self, a):
        return str(a[0])


def reshape(expr, shape, order=None):
    expr = as_expr(expr)
    if isinstance(shape, numbers.Integral):
        shape = (int(shape),)
    return Reshape(expr, tuple(shape), default_order(order, "reshape", expr.shape, shape))


def vec(expr, order=None):
    expr = as_expr(expr)
    order = default_order(order, "vec", expr.shape, (expr.size,))
    return Reshape(expr, (expr.size,), order)


def transpose(expr, axes=None):
    expr = as_expr(expr)
    return Transpose(expr, axes) if expr.ndim >= 2 else expr


def broadcast_to(expr, shape):
    expr = as_expr(expr)
    shape = (int(shape),) if isinstance(shape, numbers.Integral) else tuple(shape)
    np.broadcast_to(np.empty(expr.shape, dtype=bool), shape)     # numpy's check and error, as cvxpy's
    return Add([expr, Constant(np.zeros(shape))]) if shape != expr.shape else expr


# ------------------------------------------------------------- linear maps
class Sum(Expression):
    _log_log_atom = CONVEX

    def __init__(self, arg, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, bool(keepdims)
        self._axes, _, shape = reduced_shape(arg.shape, axis, keepdims, lambda: f"sum({arg})")
        super().__init__([arg], shape)

    def get_data(self):
        return [self.axis, self.keepdims]

    def _numeric(self, vals):
        return np.sum(dense(vals[0]), axis=self._axes, keepdims=self.keepdims)

    def _canon(self, ctx):
        return ctx.form(self.args[0]).lmul(F.sum_map(self.args[0].shape, self._axes), self.shape)

    def _sign_rule(self):
        return self.args[0].sign

    def _str(self, a):
        return f"Sum({a[0]}, {self.axis}, {self.keepdims})"       # cvxpy's printing


def sum(expr, axis=None, keepdims=False):  # noqa: A001 - cvxpy's name
    if isinstance(expr, GeneratorType):        # cvxpy sums a generator's items as a list's
        expr = list(expr)
    if isinstance(expr, (list, tuple)):
        return builtins.sum(expr[1:], expr[0]) if expr else Constant(0.0)
    expr = as_expr(expr)
    if expr.ndim == 0 and _is_int(axis) and axis in (0, -1):
        axis = None                 # numpy (and cvxpy) accept axis 0 and -1 of a scalar
    try:
        return Sum(expr, axis, keepdims)
    except ValueError as e:         # a bad axis: cvxpy's wording around numpy's
        raise ValueError(f"Invalid arguments for cp.sum: {e}") from e


class Diff(Expression):
    """k-th order differences along an axis (cvxpy's diff)."""

    def __init__(self, arg, k=1, axis=0):
        self.k = int(k)
        self.axis = _normalize_axis(axis, arg.ndim, lambda: f"diff({arg})")[0] if arg.ndim else 0
        if self.k < 0 or arg.ndim == 0 or arg.shape[self.axis] <= self.k:
            raise ValueError(f"Must have k >= 0 and X must have < k elements along axis (diff({arg}, k={k}) "
                             f"of shape {arg.shape} along axis {axis})")
        shape = list(arg.shape)
        shape[self.axis] -= self.k
        super().__init__([arg], tuple(shape))

    def _monotonicity(self, i):
        return NONMONOTONE

    def get_data(self):
        return [self.k, self.axis]

    def _numeric(self, vals):
        return np.diff(dense(vals[0]), n=self.k, axis=self.axis)

    def _canon(self, ctx):
        n = self.args[0].shape[self.axis]
        D = sp.identity(n, format="csr")
        for j in range(self.k):
            D = F.diff_matrix(n - j) @ D
        return ctx.form(self.args[0]).lmul(F.along_axis(self.args[0].shape, self.axis, D), self.shape)

    def _str(self, a):
        return f"diff({a[0]}{'' if self.k == 1 else f', k={self.k}'}{'' if self.axis == 0 else f', axis={self.axis}'})"


def diff(expr, k=1, axis=0):
    return Diff(as_expr(expr), k, axis)


class Cumsum(Expression):
    """Cumulative sum.  With variables it becomes an auxiliary Y with D·Y = X (D bidiagonal),
    as cvxpy does, so the matrix stays sparse: a dense triangle would be T²/2 entries."""

    def __init__(self, arg, axis=0):
        if arg.ndim == 0 and axis is not None:
            warnings.warn("cumsum on 0-dimensional arrays currently returns a scalar, but in a future CVXPY "
                          "version it will return a 1-element array to match numpy.cumsum behavior. "
                          "Additionally, only axis=0, axis=-1, or axis=None will be valid for 0D arrays.",
                          FutureWarning, stacklevel=3)      # cvxpy's warning, word for word
        if axis is None:            # flattened in C order, as numpy and cvxpy do
            arg = vec(arg, order="C")
            axis = 0
        self.axis = _normalize_axis(axis, arg.ndim, lambda: f"cumsum({arg})")[0] if arg.ndim else 0
        super().__init__([arg], arg.shape)
        self._aux = None

    def get_data(self):
        return [self.axis]

    def _numeric(self, vals):
        v = dense(vals[0])
        return np.cumsum(v, axis=self.axis) if v.ndim else v

    def _canon(self, ctx):
        arg = self.args[0]
        fx = ctx.form(arg)
        if arg.ndim == 0:
            return fx
        n = arg.shape[self.axis]
        if not arg._has_vars:
            tri = sp.csr_matrix(np.tril(np.ones((n, n))))
            return fx.lmul(F.along_axis(arg.shape, self.axis, tri), self.shape)
        y = ctx.aux_variable(self, self.shape)
        D = F.along_axis(self.shape, self.axis, F.cumsum_inverse(n))
        ctx.add_hidden(ctx.form(y).lmul(D, self.shape) - fx, "eq", self)
        return ctx.form(y)

    def _sign_rule(self):
        return self.args[0].sign

    def _str(self, a):
        return f"cumsum({a[0]}{'' if self.axis == 0 else f', axis={self.axis}'})"


def cumsum(expr, axis=0):
    return Cumsum(as_expr(expr), axis)


class Trace(Expression):
    def __init__(self, arg):
        if arg.ndim != 2 or arg.shape[0] != arg.shape[1]:
            raise ValueError("Argument to trace must have ndim >= 2 with equal last two dimensions.")
        super().__init__([arg], ())

    def _numeric(self, vals):
        return np.trace(dense(vals[0]))

    def _canon(self, ctx):
        n = self.args[0].shape[0]
        L = sp.csr_matrix((np.ones(n), (np.zeros(n, dtype=np.int64), np.arange(n) * (n + 1))), shape=(1, n * n))
        return ctx.form(self.args[0]).lmul(L, ())

    def _str(self, a):
        return f"trace({a[0]})"


def trace(expr):
    expr = as_expr(expr)
    if type(expr) is MatMul:        # cvxpy's rewrite: trace(A @ B) = sum(A * B.T), a Sum, not a Trace
        return Sum(Multiply(expr.args[0], Transpose(expr.args[1])))
    return Trace(expr)


class Diag(Expression):
    """Vector -> matrix with it on diagonal k, or matrix -> its diagonal k (cvxpy's diag)."""

    def __init__(self, arg, k=0):
        self.k = int(k)
        if arg.ndim == 1:
            n = arg.shape[0] + builtins.abs(self.k)
            shape = (n, n)
        elif arg.ndim == 2 and arg.shape[0] == arg.shape[1]:
            if builtins.abs(self.k) >= builtins.max(arg.shape[0], 1):
                raise ValueError(f"diag({arg}, k={self.k}): offset out of range for shape {arg.shape}")
            shape = (arg.shape[0] - builtins.abs(self.k),)
        else:
            raise ValueError("Argument to diag must be a 1-d array or 2-d square array.")
        super().__init__([arg], shape)

    def get_data(self):
        return [self.k]

    def is_psd(self) -> bool:
        return self.args[0].ndim == 1 and self.k == 0 and self.args[0].is_nonneg()

    def is_nsd(self) -> bool:
        return self.args[0].ndim == 1 and self.k == 0 and self.args[0].is_nonpos()

    def _positions(self, n):
        """C-order positions of diagonal k in an n × n matrix."""
        i = np.arange(n - builtins.abs(self.k))
        return (i + builtins.max(-self.k, 0)) * n + i + builtins.max(self.k, 0)

    def _canon(self, ctx):
        f = ctx.form(self.args[0])
        if self.args[0].ndim == 2:
            return f.gather(self._positions(self.args[0].shape[0]), self.shape)
        n = self.shape[0]
        return f.lmul(F.scatter_map(self._positions(n), n * n), self.shape)

    def _numeric(self, vals):
        return np.diag(dense(vals[0]), self.k)

    def _sign_rule(self):
        # cvxpy asks a numeric matrix whether it is PSD; its diagonal's own sign says at least as much
        if self.args[0].ndim == 2 and not (self.args[0]._has_vars or self.args[0]._has_params):
            v = dense(self.value)
            return sign_of(bool(np.all(v >= 0)), bool(np.all(v <= 0)))
        return self.args[0].sign

    def _str(self, a):
        return f"diag({a[0]}{f', k={self.k}' if self.k else ''})"


def diag(expr, k=0):
    return Diag(as_expr(expr), k)


class LinearMap(Expression):
    """A fixed sparse linear map of one argument's entries that cvxpy names as an atom
    (upper_tri, vec_to_upper_tri, convolve): ``args_out`` and ``kwargs`` rebuild it in cvxpy."""

    def __init__(self, label, arg, L, shape, export_args=None, kwargs=None):
        self._label, self._L = label, sp.csr_matrix(L)
        self._export_args = export_args if export_args is not None else [arg]
        self._kwargs = kwargs or {}
        super().__init__([arg], shape)

    def get_data(self):
        return [self._label, self._L, self.shape]

    def _rebuild(self, args):
        # the map is fixed by the argument's shape: another shape needs the atom built anew
        old, new = self.args[0], args[0]
        if new.shape != old.shape:
            raise ModelingError(f"{self}.copy(args=...): {self._label} over an argument of shape {new.shape} "
                                f"instead of {old.shape} is not supported; call {self._label} again")
        return LinearMap(self._label, new, self._L, self.shape,
                         [new if e is old else e for e in self._export_args], self._kwargs)

    def _canon(self, ctx):
        return ctx.form(self.args[0]).lmul(self._L, self.shape)

    def _numeric(self, vals):
        return (self._L @ dense(vals[0]).ravel()).reshape(self.shape)

    def _sign_rule(self):
        # a map with nonnegative (nonpositive) weights keeps (flips) the argument's sign
        if np.all(self._L.data >= 0):
            return self.args[0].sign
        if np.all(self._L.data <= 0):
            return _sign_product([NONPOS, self.args[0].sign])
        return UNKNOWN_SIGN

    def _str(self, a):
        inner = ", ".join(str(x) for x in self._export_args)
        return f"{self._label}({inner}{''.join(f', {k}={v}' for k, v in self._kwargs.items())})"


def upper_tri(expr):
    """The strictly upper-triangular entries of a square matrix, row by row, as a column."""
    expr = as_expr(expr)
    if expr.ndim != 2 or expr.shape[0] != expr.shape[1]:
        raise ValueError("Argument to upper_tri must have ndim >= 2 with equal last two dimensions.")
    n = expr.shape[0]
    rows, cols = np.triu_indices(n, 1)
    pos = rows * n + cols
    L = sp.csr_matrix((np.ones(pos.size), (np.arange(pos.size), pos)), shape=(pos.size, n * n))
    # a column, as cvxpy's expression is (its .value alone comes back 1-d)
    return LinearMap("upper_tri", expr, L, (pos.size, 1))


def vec_to_upper_tri(expr, strict=False):
    """The inverse of upper_tri: a vector filled row by row into an upper-triangular matrix
    (diagonal included unless ``strict``)."""
    expr = as_expr(expr)
    m = expr.size
    off = 1 if strict else 0
    n = int(round((np.sqrt(8 * m + 1) - 1) / 2)) + off     # m = n(n+1)/2, or n(n-1)/2 if strict
    if expr.ndim > 1 and expr.shape[0] != 1:       # a row vector is read as a vector, as cvxpy does
        raise ValueError("The input must be a vector.")
    if (n - off) * (n - off + 1) // 2 != m:
        raise ValueError("The size of the vector must be a triangular number.")
    rows, cols = np.triu_indices(n, off)
    L = F.scatter_map(rows * n + cols, n * n)
    return LinearMap("vec_to_upper_tri", expr, L, (n, n), kwargs={"strict": True} if strict else None)


class ParamConvolution(Expression):
    """A convolution whose kernel holds Parameters: cvxpy's problem is then not DPP, so it is
    canonicalised with the Parameters' values, compiled again at each solve."""

    def __init__(self, label, c, x, shape):
        self._label = label
        super().__init__([c, x], shape)

    def _rebuild(self, args):
        return _convolution(self._label, *args, constant_first=True)

    def _monotonicity(self, i):
        return _factor_monotonicity(self.args[0]) if i == 1 else INCREASING

    def _sign_rule(self):
        return _sign_product([a.sign for a in self.args])

    def _numeric(self, vals):
        return np.convolve(dense(vals[0]).ravel(), dense(vals[1]).ravel()).reshape(self.shape)

    def _canon(self, ctx):
        if not ctx.freeze_params:
            raise F.ParameterProductError
        c, x = self.args
        return ctx.form(x).lmul(_toeplitz(dense(ctx.numeric(c)).ravel(), x.size), self.shape)

    def _str(self, a):
        return f"{self._label}({a[0]}, {a[1]})"


def _toeplitz(kernel, n):
    """The (n + k - 1) x n matrix of the full convolution with ``kernel`` (k entries)."""
    return sp.diags([np.full(n, v) for v in kernel], [-i for i in range(kernel.size)], shape=(n + kernel.size - 1, n))


def _convolution(label, a, b, constant_first):
    """Full 1-d convolution with one variable-free side: a Toeplitz matrix on the other (built at
    each solve when that side holds Parameters)."""
    a, b = as_expr(a), as_expr(b)
    c, x = (a, b) if not a._has_vars or constant_first else (b, a)
    if c._has_vars:       # cvxpy's words (convolve here takes the constant on either side)
        raise naming(ModelingError("The first argument to conv must be constant."),
                     f"{label}({a}, {b}): {'the first is not' if constant_first else 'neither is'} constant")
    # cvxpy's checks and words: convolve takes scalars and 1-d arrays, the deprecated conv also
    # column vectors (n, 1), and then gives a column
    if label == "convolve" and (a.ndim > 1 or b.ndim > 1):
        raise naming(ValueError("The arguments to conv must be scalar or 1D."), f"{label}({a}, {b})")
    column = any(e.ndim == 2 for e in (a, b))
    if label == "conv" and any(e.ndim > 2 or (e.ndim == 2 and min(e.shape) != 1) for e in (a, b)):
        raise naming(ValueError("The arguments to conv must resolve to a 1-d array"), f"{label}({a}, {b})")
    shape = (x.size + c.size - 1, 1) if column else (x.size + c.size - 1,)
    # shown and exported constant first, the only order cvxpy accepts
    if c._has_params:
        return ParamConvolution(label, c, x, shape)
    return LinearMap(label, x, _toeplitz(dense(c.value).ravel(), x.size), shape, export_args=[c, x])


def convolve(a, b):
    return _convolution("convolve", a, b, constant_first=False)


def conv(a, b):
    warnings.warn("conv is deprecated. Use convolve instead.", CvxpyDeprecationWarning, stacklevel=2)   # cvxpy's
    return _convolution("conv", a, b, constant_first=True)


def squeeze(expr, axis=None):
    expr = as_expr(expr)
    axes = [i for i, n in enumerate(expr.shape) if n == 1] if axis is None else \
        [axis] if _is_int(axis) else list(axis)
    for a in axes:
        if not -expr.ndim <= a < expr.ndim:
            raise ValueError(f"Axis {a} is out of bounds for array of dimension {expr.ndim}.")
        if expr.shape[a] != 1:
            raise ValueError(f"Cannot squeeze axis {a % expr.ndim} with size {expr.shape[a]}.")
    drop = {a % expr.ndim for a in axes}
    return Reshape(expr, tuple(n for i, n in enumerate(expr.shape) if i not in drop), "C")


def permute_dims(expr, axes):
    return transpose(expr, axes)


def moveaxis(expr, source, destination):
    """numpy's moveaxis as a transpose: the moved axes placed, the others kept in order
    (numpy's own checks, so its errors word for word, as cvxpy's)."""
    expr = as_expr(expr)
    src = normalize_axis_tuple(source, expr.ndim, "source")
    dst = normalize_axis_tuple(destination, expr.ndim, "destination")
    if len(src) != len(dst):
        raise ValueError("`source` and `destination` arguments must have the same number of elements")
    order = [i for i in range(expr.ndim) if i not in src]
    for d, s_ in sorted(zip(dst, src)):
        order.insert(d, s_)
    return Transpose(expr, tuple(order))


def _normalize_axes_list(axes, ndim, what):
    axes = [axes] if isinstance(axes, numbers.Integral) else list(axes)
    if any(not -ndim <= a < ndim for a in axes):
        raise ValueError(f"{what}: axis out of range for a {ndim}-d expression: {axes}")
    return [int(a) % ndim for a in axes]


def swapaxes(expr, axis1, axis2):
    expr = as_expr(expr)
    axes = list(range(expr.ndim))
    axis1, axis2 = _normalize_axes_list([axis1, axis2], expr.ndim, "swapaxes")
    axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
    return Transpose(expr, tuple(axes))


# ----------------------------------------------------------------- stacking
class Concatenate(Expression):
    """numpy.concatenate of expressions along ``axis`` (behind hstack and vstack)."""

    _log_log_atom = AFFINE

    def __init__(self, args, axis=0, label="concatenate", shown=None):
        args = [as_expr(a) for a in args]
        if not args:
            raise ValueError(f"{label}() needs at least one expression")
        self._stack = label       # not ``label``: that is cvxpy's user label (Labelled)
        self._shown = shown or args         # what the user stacked (hstack lifts vectors to rows)
        nd = args[0].ndim
        self.axis = _normalize_axis(axis, nd, label)[0] if nd else 0
        for a in args:
            if a.ndim != nd or any(x != y for i, (x, y) in enumerate(zip(a.shape, args[0].shape)) if i != self.axis):
                raise ValueError(f"{label}: shapes " + ", ".join(str(b.shape) for b in args)
                                 + f" do not match outside axis {self.axis}")
        shape = list(args[0].shape)
        shape[self.axis] = builtins.sum(a.shape[self.axis] for a in args)
        super().__init__(args, tuple(shape))

    def get_data(self):
        return [self.axis]

    def _rebuild(self, args):
        return Concatenate(args, self.axis, self._stack)

    def _numeric(self, vals):
        return np.concatenate([dense(v) for v in vals], axis=self.axis)

    def _canon(self, ctx):
        pos = F.flat_index(self.shape)
        total, start = None, 0
        for a in self.args:
            n = a.shape[self.axis]
            sl = [slice(None)] * len(self.shape)
            sl[self.axis] = slice(start, start + n)
            start += n
            f = ctx.form(a).lmul(F.scatter_map(pos[tuple(sl)], pos.size), self.shape)
            total = f if total is None else total + f
        return total

    def _sign_rule(self):
        return _sign_same([a.sign for a in self.args])

    def _str(self, a):
        # cvxpy's names: Hstack(x, y), Vstack(x, y), Concatenate(x, y, 0)
        inner = ", ".join(str(x) for x in self._shown)
        if self._stack == "concatenate":
            return f"Concatenate({inner}, {self.axis})"
        return f"{self._stack.capitalize()}({inner})"


def _at_least(expr, nd):
    expr = as_expr(expr)
    return expr if expr.ndim >= nd else Reshape(expr, (1,) * (nd - expr.ndim) + expr.shape, "C")


def hstack(args):
    shown = [as_expr(a) for a in args]
    args = [_at_least(a, 1) for a in shown]
    return Concatenate(args, axis=1 if args[0].ndim >= 2 else 0, label="hstack", shown=shown)


def vstack(args):
    shown = [as_expr(a) for a in args]
    return Concatenate([_at_least(a, 2) for a in shown], axis=0, label="vstack", shown=shown)


def stack(arrays, axis=0):
    """numpy's stack: every argument gains a unit axis at ``axis``, then they are joined."""
    arrays = [as_expr(a) for a in arrays]
    if not arrays:
        raise ValueError("stack() needs at least one expression")
    nd = arrays[0].ndim + 1
    if not -nd <= axis < nd:
        raise ValueError(f"stack: axis {axis} out of range for {nd}-d result")
    axis %= nd
    return Concatenate([Reshape(a, a.shape[:axis] + (1,) + a.shape[axis:], "C") for a in arrays], axis, "stack",
                       arrays)


def promote(expr, shape):
    return broadcast_to(expr, shape)


def concatenate(args, axis=0):
    if axis is None:            # numpy: the arguments flattened (C order), then joined
        return Concatenate([vec(a, "C") for a in args], axis=0, label="concatenate", shown=[as_expr(a) for a in args])
    return Concatenate(args, axis=axis)


def bmat(block_lists):
    # numpy.block's promotion, as cvxpy's: a scalar block is 1 × 1, a vector block a row
    return vstack([hstack([_at_least(b, 2) for b in row]) for row in block_lists])


class Kron(Expression):
    """Kronecker product with one variable-free side: a sparse linear map when that side is
    numeric, an entrywise product with parameter-affine coefficients when it holds Parameters."""

    def __init__(self, lhs, rhs):
        lhs, rhs = as_expr(lhs), as_expr(rhs)
        _refuse_variable_product(lhs, rhs, "kron", "At least one argument to kron must be constant.")
        if lhs.ndim != 2 or rhs.ndim != 2:
            raise ValueError(f"kron({lhs}, {rhs}): both arguments must be 2-d, got {lhs.shape} and {rhs.shape}")
        shape = (lhs.shape[0] * rhs.shape[0], lhs.shape[1] * rhs.shape[1])
        super().__init__([lhs, rhs], shape)

    def _monotonicity(self, i):
        return _factor_monotonicity(self.args[1 - i]) if not self.args[1 - i]._has_vars else INCREASING

    def _sign_rule(self):
        return _sign_product([a.sign for a in self.args])

    def _numeric(self, vals):
        return np.kron(dense(vals[0]), dense(vals[1]))

    def _canon(self, ctx):
        lhs, rhs = self.args
        if lhs._has_params or rhs._has_params:
            return self._entrywise(ctx)
        left = not lhs._has_vars
        C = sp.coo_matrix(ctx.numeric(lhs if left else rhs))
        m, n = rhs.shape              # the multiplier of the row/column index of lhs's entries
        expr_shape = rhs.shape if left else lhs.shape
        a, b = np.divmod(np.arange(expr_shape[0] * expr_shape[1]), expr_shape[1])
        ci, cj, cv = (x[:, None] for x in (C.row, C.col, C.data))
        if left:   # out[i*m + a, j*n + b] = C[i, j] X[a, b]
            rows, cols = ci * m + a, cj * n + b
        else:      # out[a*m + i, b*n + j] = X[a, b] C[i, j]
            rows, cols = a * m + ci, b * n + cj
        out_pos = (rows * self.shape[1] + cols).ravel()
        in_pos = np.broadcast_to(np.arange(a.size), rows.shape).ravel()
        L = sp.csr_matrix((np.broadcast_to(cv, rows.shape).ravel(), (out_pos, in_pos)),
                          shape=(self.size, a.size))
        return ctx.form(rhs if left else lhs).lmul(L, self.shape)

    def _entrywise(self, ctx):
        """out[i*m + a, j*n + b] = lhs[i, j] * rhs[a, b]: both sides spread over the output and
        multiplied entry by entry (the variable side by the parameter-affine one)."""
        lhs, rhs = self.args
        q, (m, n) = lhs.shape[1], rhs.shape
        r, c = np.divmod(np.arange(self.size), self.shape[1])
        fl = ctx.form(lhs).gather((r // m) * q + c // n, self.shape)
        fr = ctx.form(rhs).gather((r % m) * n + c % n, self.shape)
        left_is_expr = lhs._has_vars or (not rhs._has_vars and not rhs._has_params)
        return fl.mul_by(fr) if left_is_expr else fr.mul_by(fl)

    def _str(self, a):
        return f"kron({a[0]}, {a[1]})"


def kron(a, b):
    return Kron(a, b)


def dot(a, b):
    """Inner product of two vectors (flattened), cvxpy's vdot/scalar_product."""
    a, b = as_expr(a), as_expr(b)
    return Sum(Multiply(vec(a, "F"), vec(b, "F")))


vdot = scalar_product = dot


def outer(a, b):
    a, b = as_expr(a), as_expr(b)
    for name, v in (("x", a), ("y", b)):
        if v.ndim > 1:
            raise ValueError(f"{name} must be a 1-d array.")
    return MatMul(Reshape(a, (a.size, 1), "C"), Reshape(b, (1, b.size), "C"))


def mean(expr, axis=None, keepdims=False):
    expr = as_expr(expr)
    s = Sum(expr, axis, keepdims)
    return Div(s, Constant(expr.size / max(s.size, 1)))
