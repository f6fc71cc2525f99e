"""Piecewise-linear atoms, lowered to LP form by epigraph/hypograph variables.

``abs(e)`` becomes an auxiliary t with t >= e, t >= -e.  That is exact only where t is
pushed down (a convex atom minimised, or on the small side of <=); the DCP check in
``canon.check_dcp`` refuses every other use before any of this is built.  The sorted-sum atoms
(sum_largest, cvar, dotsort) add a free threshold variable: sum_largest(x, k) is
min_t k·t + Σ max(x − t, 0), exact under the same rule.  Non-linear cvxpy
atoms are present by name and refuse with ModelingError, so a non-LP script fails clearly.
"""
from __future__ import annotations

import builtins
import numbers

import numpy as np
import scipy.sparse as sp

from ..errors import ModelingError, naming
from . import affine as A
from .canon import DPPError
from . import form as F
from .expression import (AFFINE, CONCAVE, CONVEX, DECREASING, INCREASING, NONMONOTONE, NONNEG, NONPOS,
                         UNKNOWN_SIGN, Constant, Expression, Leaf, as_expr, broadcast_shapes, compose_curvature, dense,
                         evaluate, sign_of)


def _abs_monotonicity(arg):
    """cvxpy's sign-dependent rule for |.|-like atoms: increasing on a nonnegative argument,
    decreasing on a nonpositive one, so abs(pos(x)) is convex."""
    return INCREASING if arg.is_nonneg() else DECREASING if arg.is_nonpos() else NONMONOTONE


class _Epigraph(Expression):
    """An atom t = f(args) represented by an auxiliary t and linear inequalities:
    t >= piece for convex f, t <= piece for concave f (``_pieces`` gives them)."""

    def _pieces(self, ctx, t_form):
        """Forms g with the constraint t_side(g) <= 0 (already oriented)."""
        raise NotImplementedError

    def _canon(self, ctx):
        t = ctx.aux_variable(self, self.shape)
        tf = ctx.form(t)
        for g in self._pieces(ctx, tf):
            ctx.add_hidden(g, "le", self)
        return tf

    def _oriented(self, piece, bound):
        """piece <= bound for a convex atom, piece >= bound for a concave one, as '<= 0'."""
        return piece - bound if self._atom_curvature == CONVEX else bound - piece


class Abs(_Epigraph):
    _atom_curvature = CONVEX

    def __init__(self, arg):
        super().__init__([arg], arg.shape)

    def _monotonicity(self, i):
        return _abs_monotonicity(self.args[0])

    def _sign_rule(self):
        return NONNEG

    def _numeric(self, vals):
        return np.abs(dense(vals[0]))

    def _pieces(self, ctx, tf):
        x = ctx.form(self.args[0])
        return [x - tf, -x - tf]

    def _str(self, a):
        return f"abs({a[0]})"


class _Elementwise(_Epigraph):
    """maximum / minimum of several expressions with broadcasting."""

    _np = None
    _label = ""

    def __init__(self, *args):
        if len(args) == 1 and isinstance(args[0], (list, tuple)):
            args = tuple(args[0])
        if len(args) < 2:       # cvxpy's signature (arg1, arg2, *args), and its TypeError
            raise TypeError(f"{self._label}.__init__() missing 1 required positional argument: 'arg2'")
        args = [as_expr(a) for a in args]
        shape = broadcast_shapes(*(a.shape for a in args), context=f"{self._label}(...)")
        super().__init__(args, shape)

    def _numeric(self, vals):
        out = dense(vals[0])
        for v in vals[1:]:
            out = self._np(out, dense(v))
        return out

    def _pieces(self, ctx, tf):
        out = []
        for a in self.args:
            f = ctx.form(a)
            if a.shape != self.shape:
                f = f.gather(F.broadcast_index(a.shape, self.shape), self.shape)
            out.append(self._oriented(f, tf))
        return out

    def _str(self, a):
        return f"{self._label}({', '.join(str(x) for x in a)})"


class Maximum(_Elementwise):
    _log_log_atom = CONVEX
    _atom_curvature = CONVEX
    _np = staticmethod(np.maximum)
    _label = "maximum"

    def _sign_rule(self):
        # cvxpy's rule: one nonnegative argument makes the maximum nonnegative
        return sign_of(any(a.is_nonneg() for a in self.args), all(a.is_nonpos() for a in self.args))


class Minimum(_Elementwise):
    _log_log_atom = CONCAVE
    _atom_curvature = CONCAVE
    _np = staticmethod(np.minimum)
    _label = "minimum"

    def _sign_rule(self):
        return sign_of(all(a.is_nonneg() for a in self.args), any(a.is_nonpos() for a in self.args))


class _Reduction(_Epigraph):
    """max / min over an axis (or all entries)."""

    _np = None
    _label = ""

    def __init__(self, arg, axis=None, keepdims=False):
        arg = as_expr(arg)
        self.axis, self.keepdims = axis, bool(keepdims)
        self._axes, self._kept, shape = A.reduced_shape(arg.shape, axis, keepdims,
                                                            lambda: f"{self._label}({arg})")
        super().__init__([arg], shape)

    def get_data(self):
        return [self.axis, self.keepdims]

    def _numeric(self, vals):
        return self._np(dense(vals[0]), axis=self._axes, keepdims=self.keepdims)

    def _sign_rule(self):
        return _sign_of_arg(self.args)

    def _pieces(self, ctx, tf):
        arg = self.args[0]
        t_full = tf.reshape(self._kept).gather(F.broadcast_index(self._kept, arg.shape), arg.shape)
        return [self._oriented(ctx.form(arg), t_full)]

    def _str(self, a):
        extra = "" if self.axis is None else f", axis={self.axis}"
        return f"{self._label}({a[0]}{extra})"


class Max(_Reduction):
    _log_log_atom = CONVEX
    _atom_curvature = CONVEX
    _np = staticmethod(np.max)
    _label = "max"


class Min(_Reduction):
    _log_log_atom = CONCAVE
    _atom_curvature = CONCAVE
    _np = staticmethod(np.min)
    _label = "min"


class _Composite(Expression):
    """An atom defined through others (pos, neg, norm1, norm_inf): its own name and DCP
    rule, the lowering of its definition.  ``kwargs`` are its cvxpy keyword arguments."""

    def __init__(self, label, args, impl, curvature, mono, kwargs=None, numeric=None, sign=NONNEG):
        self._label, self._impl, self._mono = label, impl, mono
        self._given = dict(kwargs or {})        # as called: copy(args=...) calls the atom again with them
        self._kwargs = {k: v for k, v in self._given.items() if v is not None and v is not False}
        self._atom_curvature = curvature
        self._direct, self._sign_of = numeric, sign
        super().__init__(args, impl.shape)

    def _monotonicity(self, i):
        # mono is a fixed rule, or a callable of the arguments (sign-dependent rules)
        return self._mono(self.args) if callable(self._mono) else self._mono

    def _numeric(self, vals):
        # an atom whose lowering has auxiliary variables (sum_largest's t) is evaluated directly
        if self._direct is not None:
            return dense(self._direct(*[dense(v) for v in vals]))
        return dense(_eval_impl(self, vals))

    def get_data(self):
        return list(self._given.values()) or None

    def _rebuild(self, args):
        # the atom's function (pos, sum_largest, dotsort, ...) builds its lowering over the new arguments
        return globals()[self._label](*args, **self._given)

    def _canon(self, ctx):
        return ctx.form(self._impl)

    def _sign_rule(self):
        return self._sign_of(self.args) if callable(self._sign_of) else self._sign_of

    def _str(self, a):
        extra = "".join(f", {k}={v}" for k, v in self._kwargs.items())
        return f"{self._label}({', '.join(str(x) for x in a)}{extra})"


class _Aux(Leaf):
    """A free auxiliary variable inside an atom's lowering (sum_largest's threshold t): it
    becomes one of the compile's auxiliary variables and has no value of its own."""

    def __init__(self, shape):
        super().__init__(shape)
        self._has_vars = True
        self._curv = AFFINE

    def _leaf_value(self):
        return None

    def _canon(self, ctx):
        return ctx.form(ctx.aux_variable(self, self.shape))

    def _str(self, a):
        return f"aux{self.id}"


class Cummax(_Epigraph):
    """cummax along an axis: t >= x and t non-decreasing along the axis."""

    _atom_curvature = CONVEX

    def __init__(self, arg, axis=0):
        nd = arg.ndim or 1          # this module's max is cvxpy's atom, not the builtin
        if not isinstance(axis, (int, np.integer)) or not -nd <= axis < nd:
            raise ValueError(f"cummax({arg}): axis must be an integer axis of the expression, got {axis!r}")
        self.axis = int(axis) % nd
        super().__init__([arg], arg.shape)

    def get_data(self):
        return [self.axis]

    def _sign_rule(self):
        return self.args[0].sign

    def _numeric(self, vals):
        v = dense(vals[0])
        return np.maximum.accumulate(v, axis=self.axis) if v.ndim else v

    def _pieces(self, ctx, tf):
        x = ctx.form(self.args[0])
        if self.ndim == 0 or self.shape[self.axis] < 2:
            return [x - tf]
        step = F.along_axis(self.shape, self.axis, -F.diff_matrix(self.shape[self.axis]))
        return [x - tf, tf.lmul(step, (step.shape[0],))]

    def _str(self, a):
        return f"cummax({a[0]}, axis={self.axis})"


def _eval_impl(node, vals):
    """The definition evaluated with the arguments' values already known."""
    leaf_vals = {a.id: v for a, v in zip(node.args, vals)}

    def leaf_value(leaf):
        return leaf_vals[leaf.id] if leaf.id in leaf_vals else leaf._leaf_value()
    memo = dict(leaf_vals)
    return evaluate(node._impl, leaf_value, memo=memo)


# ------------------------------------------------------------------ functions
def abs(x):  # noqa: A001 - cvxpy's name
    return Abs(as_expr(x))


def maximum(*args):
    return Maximum(*args)


def minimum(*args):
    return Minimum(*args)


def _axis_error(name, pairwise, word):
    """cvxpy's message (its text exactly) for an expression given as max/min's axis."""
    return (f'\n\n    The second argument to "{name}" was a cvxpy Expression, when it should have\n'
            f'    been an int or None. This is probably a result of calling "cp.{name}" when you\n'
            f'    should call "cp.{pairwise}". The difference is that cp.{name} represents the\n'
            f'    {word} entry in a single vector or matrix, while cp.{pairwise} represents\n'
            f'    the entry-wise {name} of a sequence of arguments that all have the same shape.\n\n    ')


def max(x, axis=None, keepdims=False):  # noqa: A001
    if isinstance(axis, Expression):
        raise ValueError(max.__EXPR_AXIS_ERROR__)
    return Max(x, axis, keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    if isinstance(axis, Expression):
        raise ValueError(min.__EXPR_AXIS_ERROR__)
    return Min(x, axis, keepdims)


max.__EXPR_AXIS_ERROR__ = _axis_error("max", "maximum", "maximum")
min.__EXPR_AXIS_ERROR__ = _axis_error("min", "minimum", "minimum")


def pos(x):
    x = as_expr(x)
    return _Composite("pos", [x], Maximum(x, 0.0), CONVEX, INCREASING)


def neg(x):
    x = as_expr(x)
    return _Composite("neg", [x], Maximum(-x, 0.0), CONVEX, DECREASING)


def _abs_rule(args):
    return _abs_monotonicity(args[0])


def norm1(x, axis=None, keepdims=False):
    x = as_expr(x)
    return _Composite("norm1", [x], A.Sum(Abs(x), axis, keepdims), CONVEX, _abs_rule,
                      {"axis": axis, "keepdims": keepdims})


def norm_inf(x, axis=None, keepdims=False):
    x = as_expr(x)
    return _Composite("norm_inf", [x], Max(Abs(x), axis, keepdims), CONVEX, _abs_rule,
                      {"axis": axis, "keepdims": keepdims})


def norm(x, p=2, axis=None, keepdims=False):
    x = as_expr(x)
    is_inf = _is_inf(p)
    if axis is None and x.ndim == 2:
        if p == 1 or is_inf:
            # a matrix's 1- and inf-norms are the induced ones (numpy, cvxpy): the largest column
            # or row sum of |x|, not the entrywise norm1/norm_inf; cvxpy ignores keepdims here
            impl = Max(A.Sum(Abs(x), 1 if is_inf else 0), None, False)
            return _Composite("norm", [x], impl, CONVEX, _abs_rule, {"p": "inf" if is_inf else 1})
    elif axis is not None and str(p).lower() in ("fro", "nuc"):
        raise ValueError(f"The axis parameter is not supported for the '{p}' norm, which is defined over a "
                         "whole matrix. Use norm(x, 2, axis=...) for the 2-norm along an axis.")
    elif p == 1 or x.is_scalar():        # cvxpy: every p-norm of one entry is its absolute value
        return norm1(x, axis, keepdims)
    elif is_inf:
        return norm_inf(x, axis, keepdims)
    elif isinstance(p, str) and p.lower() != "fro":
        raise RuntimeError(f"Unsupported norm option {p} for non-matrix.")
    if not x._has_vars:
        return _not_lp("norm")(x, p, axis=axis, keepdims=keepdims)
    raise ModelingError(f"norm({as_expr(x)}, {p}): only the 1- and inf-norms are linear-programming "
                        "representable; gridprox models linear programs only")


# ------------------------------------------------ sorted-sum atoms (cvxpy's LP-representable ones)
def _sign_of_arg(args):
    return args[0].sign


def _largest_sums(v, k, axes, shape):
    """Sum of the k largest entries over ``axes`` (a fractional k adds that share of the next)."""
    v = np.moveaxis(np.asarray(v, dtype=float), axes, tuple(range(-len(axes), 0)))
    v = -np.sort(-v.reshape(v.shape[:v.ndim - len(axes)] + (-1,)), axis=-1)
    whole = int(np.floor(k))
    out = v[..., :whole].sum(axis=-1)
    if whole < v.shape[-1]:
        out = out + (k - whole) * v[..., whole]
    return np.reshape(out, shape)


def _check_k(k):
    if not isinstance(k, (int, float, np.integer, np.floating)) or not k > 0:
        raise ValueError("Second argument must be a positive number.")      # cvxpy's words
    return k


def _sum_largest_lp(x, k, axis, keepdims):
    """min over t of k·t + Σ max(x − t, 0), t one per reduced slice: exact where the atom is
    pushed down, as the DCP check guarantees."""
    axes, kept, shape = A.reduced_shape(x.shape, axis, keepdims, lambda: f"sum_largest({x})")
    t = _Aux(kept)
    body = k * t + A.Sum(Maximum(x - t, 0.0), axes, True)
    return (body if kept == shape else A.Reshape(body, shape, "C")), axes, shape


def sum_largest(x, k, axis=None, keepdims=False):
    x = as_expr(x)
    k = _check_k(k)
    impl, axes, shape = _sum_largest_lp(x, k, axis, keepdims)
    return _Composite("sum_largest", [x], impl, CONVEX, INCREASING, {"k": k, "axis": axis, "keepdims": keepdims},
                      numeric=lambda v: _largest_sums(v, k, axes, shape), sign=_sign_of_arg)


def sum_smallest(x, k, axis=None, keepdims=False):
    x = as_expr(x)
    k = _check_k(k)
    impl, axes, shape = _sum_largest_lp(-x, k, axis, keepdims)
    return _Composite("sum_smallest", [x], -impl, CONCAVE, INCREASING, {"k": k, "axis": axis, "keepdims": keepdims},
                      numeric=lambda v: -_largest_sums(-v, k, axes, shape), sign=_sign_of_arg)


def cvar(x, beta):
    """Mean of the (1 − beta) share of largest entries: sum_largest(x, k) / k, k = (1 − beta)·size."""
    x = as_expr(x)
    if x.ndim != 1:
        raise ValueError(f"cvar({x}, {beta}): cvxpy's cvar takes a 1-d expression, got shape {x.shape}")
    if not 0 <= beta < 1:
        raise ValueError(f"cvar({x}, {beta}): beta must be in [0, 1)")
    k = (1 - beta) * x.size
    impl, axes, shape = _sum_largest_lp(x, k, None, False)
    return _Composite("cvar", [x], impl / k, CONVEX, INCREASING, {"beta": beta},
                      numeric=lambda v: _largest_sums(v, k, axes, shape) / k, sign=_sign_of_arg)


def dotsort(X, W):
    """<sort(vec(X)), sort(vec(W))>, W constant and zero-padded: with w sorted descending it is
    Σ_k (w_k − w_{k+1})·sum_largest(X, k) + w_n·sum(X), nonnegative weights on convex terms."""
    X, W = as_expr(X), as_expr(W)
    if W._has_vars:
        raise naming(ModelingError("The W argument must be constant."), f"dotsort({X}, {W})")
    if W.size > X.size:
        raise naming(ValueError("The size of of W must be less or equal to the size of X."),
                     f"dotsort({X}, {W}): {W.size} > {X.size}")
    if W._has_params:
        impl = _dotsort_assignment_lp(X, W)
    else:
        w = -np.sort(-np.concatenate([dense(W.value).ravel(), np.zeros(X.size - W.size)]))
        impl = w[-1] * A.Sum(X, None, False)
        for k in np.flatnonzero(w[:-1] - w[1:]):
            impl = impl + (w[k] - w[k + 1]) * _sum_largest_lp(X, k + 1, None, False)[0]
    mono = INCREASING if W.is_nonneg() else DECREASING if W.is_nonpos() else NONMONOTONE
    return _Composite("dotsort", [X, W], impl, CONVEX, mono, numeric=_sorted_dot, sign=UNKNOWN_SIGN)


def _sorted_dot(xv, wv):
    return float(np.sort(xv.ravel()) @ np.sort(np.concatenate([wv.ravel(), np.zeros(xv.size - wv.size)])))


def _dotsort_assignment_lp(X, W):
    """dotsort with Parameter weights, whose order is unknown when compiling: the dual of the
    assignment LP, min over u, v of Σu + Σv + Σ_ij max(x_i w_j − u_i − v_j, 0) (exact: its dual
    is max Σ x_i w_j P_ij over doubly stochastic P, a permutation at a vertex).  The n − m zero
    weights of the padding share one column v0, counted n − m times."""
    n, m = X.size, W.size
    x, w = A.reshape(A.vec(X, "C"), (n, 1), "C"), A.reshape(A.vec(W, "C"), (1, m), "C")
    u, v = _Aux((n, 1)), _Aux((1, m))
    impl = A.Sum(u, None, False) + A.Sum(v, None, False) + A.Sum(Maximum(A.multiply(x, w) - u - v, 0.0), None, False)
    if n > m:
        v0 = _Aux(())
        impl = impl + (n - m) * (v0 + A.Sum(Maximum(-u - v0, 0.0), None, False))
    return impl


def scalene(x, alpha, beta):
    """alpha·pos(x) + beta·neg(x) elementwise (alpha, beta >= 0, as cvxpy asks)."""
    x = as_expr(x)
    if not (alpha >= 0 and beta >= 0):
        raise ValueError(f"scalene({x}, {alpha}, {beta}): alpha and beta must be nonnegative")
    return _Composite("scalene", [x], alpha * pos(x) + beta * neg(x), CONVEX, _abs_rule,
                      {"alpha": alpha, "beta": beta})


def ptp(x, axis=None, keepdims=False):
    x = as_expr(x)
    return _Composite("ptp", [x], Max(x, axis, keepdims) - Min(x, axis, keepdims), CONVEX, NONMONOTONE,
                      {"axis": axis, "keepdims": keepdims})


def cummax(x, axis=0):
    return Cummax(as_expr(x), axis)


def _is_inf(p):
    return (isinstance(p, str) and p.lower() == "inf") or p == np.inf


def _entr(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(x > 0, -x * np.log(np.where(x > 0, x, 1)), np.where(x == 0, 0.0, -np.inf))


def _huber(x, M=1):
    a = np.abs(x)
    return np.where(a <= M, x ** 2, 2 * M * a - M ** 2)


def _flat_norm(x, p=2, axis=None, keepdims=False, **_):
    p = np.inf if _is_inf(p) else float(p)
    ax = tuple(range(np.ndim(x))) if axis is None else axis
    if p == np.inf:
        return np.max(np.abs(x), axis=ax, keepdims=keepdims)
    return np.sum(np.abs(x) ** p, axis=ax, keepdims=keepdims) ** (1 / p)


def _np_norm(x, p, axis, keepdims):
    """cvxpy's norm of numbers: a matrix's 2-norm is its largest singular value (numpy's too);
    more than two dimensions without an axis are flattened."""
    p = np.inf if _is_inf(p) else p
    if np.ndim(x) > 2 and axis is None:
        x = np.ravel(x)
    return np.linalg.norm(x, p, axis, keepdims)


def _geo_mean(x, p=None, max_denom=1024, approx=True, axis=None, keepdims=False):
    """Weighted geometric mean of each slice over ``axis`` (the weights run along the slice)."""
    x = np.asarray(x, dtype=float)
    axes, _, shape = A.reduced_shape(x.shape, axis, keepdims, "geo_mean")
    slices = np.moveaxis(x, axes, tuple(range(x.ndim - len(axes), x.ndim)))
    slices = slices.reshape(slices.shape[:x.ndim - len(axes)] + (-1,))
    w = np.ones(slices.shape[-1]) if p is None else np.ravel(np.asarray(p, dtype=float))
    return np.reshape(np.prod(slices ** (w / w.sum()), axis=-1), shape)


def _symmetric(X):
    """cvxpy's check on the matrix (or stack of matrices) of an eigenvalue atom's value."""
    X = np.asarray(X, dtype=float)
    if not np.allclose(X, np.swapaxes(X, -1, -2)):
        raise ValueError("Input matrix was not Hermitian/symmetric.")
    return X


def _eig_sum(X, k, largest):
    """Sum of the k largest (smallest) eigenvalues of each matrix; a fractional k adds that
    share of the next one, as cvxpy's lambda_sum_largest."""
    w = np.linalg.eigvalsh(_symmetric(X))
    w = w[..., ::-1] if largest else w
    whole = int(np.floor(k))
    out = w[..., :whole].sum(axis=-1)
    if whole < w.shape[-1]:
        out = out + (k - whole) * w[..., whole]
    return out


def _geo_mean_weights(n, p=None, max_denom=1024):
    """cvxpy's ``geo_mean.w``: the weights p / sum(p) as fractions (exact for integer weights)."""
    from fractions import Fraction
    if p is None:
        return (Fraction(1, n),) * n
    p = [Fraction(v) if isinstance(v, (numbers.Integral, Fraction)) else Fraction(float(v)) for v in np.ravel(p)]
    total = builtins.sum(p)
    w = [v / total for v in p]
    if builtins.max(v.denominator for v in w) > max_denom:
        w = [v.limit_denominator(max_denom) for v in w]
    return tuple(w)


def _square_arg(x, message):
    shape = as_expr(x).shape
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(message)


def _subsystems(name):
    def check(X, dims, axis=0):
        shape = as_expr(X).shape
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"{name} only supports 2-d square arrays.")
        if int(np.prod(dims)) != shape[0]:
            raise ValueError("Dimension of system doesn't correspond to dimension of subsystems.")
    return check


def _std_axis(x, axis=None, keepdims=False, ddof=0):
    if isinstance(axis, (tuple, list)):
        raise ValueError("cp.std doesn't yet support tuple axis values.")


# cvxpy's argument checks of non-LP atoms, in its words: run before folding or refusing, so a
# script gets cvxpy's error for a malformed call whatever its arguments hold
_ARG_CHECKS = {
    "lambda_sum_largest": lambda X, *_, **__: _square_arg(X, "First argument must be a square matrix."),
    "lambda_sum_smallest": lambda X, *_, **__: _square_arg(X, "First argument must be a square matrix."),
    "partial_trace": _subsystems("partial_trace"),
    "partial_transpose": _subsystems("partial_transpose"),
    "std": _std_axis,
}


# the non-LP atoms of numeric constants are numbers (cvxpy folds exp(1) * x into an affine
# expression); each entry computes cvxpy's value with numpy from the arguments' values
_CONSTANT_VALUE = {
    "square": lambda x: x ** 2,
    "sum_squares": lambda x: np.sum(x ** 2),
    "quad_form": lambda x, P: float(np.ravel(x) @ P @ np.ravel(x)),
    "quad_over_lin": lambda x, y: np.sum(x ** 2) / y,
    "power": lambda x, p, *_, **__: x ** float(p),
    "sqrt": np.sqrt, "exp": np.exp, "log": np.log, "log1p": np.log1p, "entr": _entr, "huber": _huber,
    "log_sum_exp": lambda x, axis=None, keepdims=False: _log_sum_exp(x, axis, keepdims),
    "inv_pos": lambda x: 1 / x,
    "kl_div": lambda x, y: x * np.log(x / y) - x + y,
    "rel_entr": lambda x, y: x * np.log(x / y),
    "norm2": lambda x, axis=None, keepdims=False: _np_norm(x, 2, axis, keepdims),
    "norm": lambda x, p=2, axis=None, keepdims=False: _np_norm(x, p, axis, keepdims),
    "pnorm": _flat_norm,
    "geo_mean": _geo_mean,
    "harmonic_mean": lambda x: np.size(x) / np.sum(1 / x),
    "lambda_max": lambda X: np.linalg.eigvalsh(_symmetric(X))[..., -1],
    "lambda_min": lambda X: np.linalg.eigvalsh(_symmetric(X))[..., 0],
    "lambda_sum_largest": lambda X, k=1: _eig_sum(X, k, True),
    "lambda_sum_smallest": lambda X, k=1: _eig_sum(X, k, False),
    "log_det": lambda X: np.linalg.slogdet(_symmetric(X))[1],
    "psd_wrap": lambda X: X,            # cvxpy's promise that X is PSD; Constant.is_psd checks it
    "sigma_max": lambda X: np.linalg.norm(X, 2),
    "normNuc": lambda X: np.linalg.norm(X, "nuc"),
    "matrix_frac": lambda x, P: float(np.trace(np.reshape(x, (len(P), -1)).T
                                              @ np.linalg.solve(P, np.reshape(x, (len(P), -1))))),   # tr(XᵀP⁻¹X)
    "logistic": lambda x: np.logaddexp(0, x),
    "xexp": lambda x: x * np.exp(x),
    "cumprod": lambda x, axis=0: np.cumprod(x, axis=axis),
    "prod": lambda x, axis=None, keepdims=False: np.prod(x, axis=axis, keepdims=keepdims),
    "std": lambda x, axis=None, keepdims=False, ddof=0: np.std(x, axis=axis, keepdims=keepdims, ddof=ddof),
    "var": lambda x, axis=None, keepdims=False, ddof=0: np.var(x, axis=axis, keepdims=keepdims, ddof=ddof),
}


def _log_sum_exp(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _numeric_constant(a):
    return isinstance(a, (numbers.Number, np.ndarray, list, str)) or sp.issparse(a) or (
        isinstance(a, Expression) and not a._has_vars and not a._has_params)


def _variable_free(a):
    return _numeric_constant(a) or (isinstance(a, Expression) and not a._has_vars)


class ParameterAtom(Expression):
    """A non-LP atom of numbers and Parameters only (exp(p), norm(p), p ** 1.2): a number once
    the Parameters hold values, but not affine in them, so a problem using it is not DPP and
    is compiled again at each solve with the values of then (cvxpy's way)."""

    def __init__(self, label, fold, args, kwargs):
        self._label, self._fold, self._kwargs = label, fold, kwargs
        self._static = [a if isinstance(a, str) else None for a in args]      # 'fro', 'inf': stay as given
        exprs = [as_expr(a) for a in args if not isinstance(a, str)]
        with np.errstate(all="ignore"):                                      # the shape from placeholder ones
            shape = np.shape(self._call([np.ones(e.shape) for e in exprs]))
        super().__init__(exprs, shape)

    def _call(self, vals):
        given = iter(vals)
        return self._fold(*[s if s is not None else next(given) for s in self._static], **self._kwargs)

    def get_data(self):
        return [self._label, self._fold, self._kwargs]

    def _log_log_combine(self, curvs):
        # x ** p of a log-log affine x is log-log affine (cvxpy's DGP power), whatever the sign of p
        if self._label != "power" or self.args[1]._has_params:
            return super()._log_log_combine(curvs)
        p = float(dense(self.args[1].value))
        return compose_curvature(AFFINE, curvs[:1], lambda i: INCREASING if p > 0 else DECREASING)

    def _rebuild(self, args):
        given = iter(args)
        return ParameterAtom(self._label, self._fold, [s if s is not None else next(given) for s in self._static],
                             self._kwargs)

    def _numeric(self, vals):
        return dense(self._call([dense(v) for v in vals]))

    def _canon(self, ctx):
        raise DPPError(f"{self}: a non-linear function of Parameters is not affine in them (not DPP); "
                       "the problem is compiled again at each solve with the Parameters' values")

    def _str(self, a):
        return f"{self._label}({', '.join(str(x) for x in a)})"


def divide(lhs, rhs):
    """``lhs / rhs``: by a number a linear map; by an expression of Parameters the product with
    1/rhs, a number at each solve (not DPP, as in cvxpy)."""
    lhs, rhs = as_expr(lhs), as_expr(rhs)
    if rhs._has_params and not rhs._has_vars:
        return A.Multiply(lhs, ParameterAtom("reciprocal", np.reciprocal, (rhs,), {}))
    return A.Div(lhs, rhs)


def _not_lp(name):
    def atom(x, *args, **kwargs):
        shown = repr(x) if isinstance(x, str) else as_expr(x) if not isinstance(x, (list, tuple)) else "..."
        if name in _ARG_CHECKS:
            _ARG_CHECKS[name](x, *args, **kwargs)
        fold = _CONSTANT_VALUE.get(name)
        if fold is not None and _numeric_constant(x) and all(_numeric_constant(a) for a in args):
            vals = [a if isinstance(a, str) else dense(as_expr(a).value) for a in (x, *args)]
            out = Constant(fold(*vals, **kwargs), name=f"{name}({shown})")
            if name == "geo_mean" and kwargs.get("axis") is None:      # cvxpy's weights attribute
                out.w = _geo_mean_weights(as_expr(x).size, *args, **{k: v for k, v in kwargs.items()
                                                                      if k == "max_denom"})
            return out
        if fold is not None and _variable_free(x) and all(_variable_free(a) for a in args):
            try:
                return ParameterAtom(name, fold, (x, *args), kwargs)
            except (ValueError, np.linalg.LinAlgError):     # no shape from placeholder values: refused below
                pass
        raise ModelingError(f"{name}({shown}) is not linear: gridprox models linear programs only")
    atom.__name__ = name
    atom.__doc__ = f"cvxpy's {name}: not an LP atom (a number on numeric constants), else ModelingError."
    return atom


NON_LP_ATOMS = ("square", "sum_squares", "quad_form", "quad_over_lin", "power", "sqrt", "exp", "log",
                "entr", "log_sum_exp", "huber", "inv_pos", "kl_div", "rel_entr", "norm2", "pnorm",
                "geo_mean", "harmonic_mean", "lambda_max", "lambda_min", "log_det", "sigma_max",
                "normNuc", "matrix_frac", "logistic", "xexp", "log1p", "tv", "mixed_norm",
                "cumprod", "prod", "std", "var", "lambda_sum_largest", "lambda_sum_smallest", "perspective",
                "pf_eigenvalue", "eye_minus_inv", "gen_lambda_max", "condition_number", "dist_ratio",
                "diff_pos", "one_minus_pos", "loggamma", "log_normcdf", "tr_inv", "von_neumann_entr",
                "quantum_rel_entr", "quantum_cond_entr", "inv_prod", "resolvent", "suppfunc", "length",
                "ceil", "floor", "sign", "gmatmul", "psd_wrap", "symmetric_wrap", "hermitian_wrap",
                "skew_symmetric_wrap", "partial_trace", "partial_transpose", "einsum")
for _name in NON_LP_ATOMS:
    globals()[_name] = _not_lp(_name)
del _name
# cvxpy's atom classes of those functions, by their class names (cp.QuadForm(x, P), cp.Power(x, 1))
ATOM_CLASS_NAMES = {"QuadForm": "quad_form", "Pnorm": "pnorm_class", "PnormApprox": "pnorm_class", "Power": "power",
                    "PowerApprox": "power", "Prod": "prod", "GeoMean": "geo_mean", "GeoMeanApprox": "geo_mean",
                    "MatrixFrac": "matrix_frac"}


# cvxpy atoms that are linear for some arguments: those cases are lowered, the rest refused
_refuse_pnorm, _refuse_power, _refuse_tv, _refuse_mixed_norm = pnorm, power, tv, mixed_norm   # noqa: F821
_refuse_quad_form = quad_form   # noqa: F821


def quad_form(x, P, assume_PSD=False):  # noqa: F811
    """cvxpy's checks and its linear case: with x constant, x.T @ P @ x is affine in P."""
    x, P = as_expr(x), as_expr(P)
    if P.ndim != 2 or P.shape[0] != P.shape[1] or builtins.max(x.shape, (1,))[0] != P.shape[0]:
        raise ValueError("Invalid dimensions for arguments to quad_form.")      # cvxpy's words
    if not x._has_vars:
        return x.T @ P @ x
    if P._has_vars:
        raise naming(ValueError("At least one argument to quad_form must be non-variable."), f"quad_form({x}, {P})")
    if not (P._has_params or assume_PSD or P.is_psd() or P.is_nsd()):     # neither convex nor concave
        raise naming(ModelingError("Problem does not follow DCP rules."),
                     " ".join(f"quad_form({x}, {P}): P is indefinite; and gridprox models linear programs only".split()))
    return _refuse_quad_form(x, P)


def pnorm_class(x, p=2, axis=None, keepdims=False, max_denom=1024):
    """cvxpy's Pnorm class, which leaves p = 1 and inf to norm1 and norm_inf: never linear."""
    if p == 1 or _is_inf(p):        # cvxpy's words
        raise ModelingError("Use the norm1 class to instantiate a one norm." if p == 1 else
                            "Use the norm_inf class to instantiate an infinity norm.")
    return _refuse_pnorm(x, p, axis=axis, keepdims=keepdims)


def pnorm(x, p=2, axis=None, keepdims=False, max_denom=1024, approx=True):  # noqa: F811
    if p == 1:
        return norm1(x, axis, keepdims)
    if _is_inf(p):
        return norm_inf(x, axis, keepdims)
    return _refuse_pnorm(x, p, axis=axis, keepdims=keepdims)


def power(x, p, max_denom=1024, approx=True):  # noqa: F811
    if isinstance(p, numbers.Number) and p == 1:     # cvxpy's power(x, 1) is x, affine
        return as_expr(x)
    return _refuse_power(x, p)


def tv(value, *args):  # noqa: F811
    """1-d total variation Σ |x[i+1] − x[i]|; the matrix forms are second-order cone atoms."""
    x = as_expr(value)
    if args or x.ndim != 1:
        raise ModelingError(f"tv({x}{', ...' if args else ''}) is not linear (only the 1-d total variation "
                            "is): gridprox models linear programs only")
    return norm1(x[1:] - x[:-1])


def mixed_norm(X, p=2, q=1):  # noqa: F811
    """norm(norm(X, p, axis=1), q): linear for p, q in {1, inf}."""
    X = as_expr(X)
    lp = {1: norm1, "inf": norm_inf}
    p_key, q_key = ("inf" if _is_inf(v) else v for v in (p, q))
    if p_key not in lp or q_key not in lp:
        raise ModelingError(f"mixed_norm({X}, {p}, {q}) is not linear (only p, q in {{1, inf}} are): "
                            "gridprox models linear programs only")
    return lp[q_key](lp[p_key](X, 1))


# gridprox's expressions are real: cvxpy's real(x) and conj(x) are x, imag(x) is zero
def real(x):
    return as_expr(x)


def conj(x):
    return as_expr(x)


def imag(x):
    x = as_expr(x)
    return Constant(np.zeros(x.shape))
