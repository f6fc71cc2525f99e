"""The modelling language: one image Variable, affine expressions of it built from
linear operators, and the convex (or plug-and-play) terms of an objective.

Conventions (stated once, used everywhere):
* ``sum_squares(e)`` is ‖e‖² without a ½, as in cvxpy and ProxImaL; the wrappers in
  ``imaging.wrappers`` write ½‖·‖² as ``0.5 * sum_squares(...)``.
* ``tv(x)`` is isotropic: Σ_pixels √(dx² + dy²), forward differences, Neumann
  boundary (the last difference is zero), over the last two dims of the image;
  leading dims (channels) are summed over.
* A ``Variable(shape, batch_ndim=k)`` holds k leading dims of independent problems;
  operators act on the remaining image dims.
* ``x.value`` comes back in the array type of the data: a torch tensor when any constant
  of the objective (data, psf, mask) was a tensor, else a numpy array.
"""
from __future__ import annotations

import numbers

import numpy as np
import torch

from gridprox.core import Identity, LinearOperator, ScaledOperator
from gridprox.core.convolution import Convolution
from gridprox.core.finite_diff import Gradient
from gridprox.core.fourier import FourierSampling, Mask, Mosaic
from gridprox.core.operators import Composition, SumOperator
from gridprox.errors import ModelingError


def kind_of(a) -> str:
    """"torch" for tensors, "numpy" for everything else (arrays, lists, scalars)."""
    return "torch" if isinstance(a, torch.Tensor) else "numpy"


def as_tensor(a, what: str) -> torch.Tensor:
    """numpy/tensor/scalar -> tensor, refusing NaN/inf with a message naming ``what``."""
    t = torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a)
    if t.is_floating_point() or t.is_complex():
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"{what} contains NaN or inf")
    return t


class Variable:
    """The unknown image, of ``shape`` = (*batch, *image) with ``batch_ndim`` batch dims."""

    def __init__(self, shape, batch_ndim: int = 0, complex: bool = False, name: str = "x"):
        self.shape = tuple(int(s) for s in shape)
        if not 0 <= batch_ndim < len(self.shape):
            raise ModelingError(f"Variable {name}: batch_ndim={batch_ndim} leaves no image dims in {self.shape}")
        self.batch_ndim, self.complex, self.name = batch_ndim, complex, name
        self.value = None

    @property
    def image_shape(self):
        return self.shape[self.batch_ndim:]

    @property
    def batch_shape(self):
        return self.shape[: self.batch_ndim]

    def expr(self) -> "Expression":
        return Expression(self, Identity(self.image_shape), None, frozenset())

    # arithmetic goes through the expression
    def __sub__(self, o): return self.expr() - o
    def __rsub__(self, o): return o - self.expr()
    def __add__(self, o): return self.expr() + o
    __radd__ = __add__
    def __mul__(self, o): return self.expr() * o
    __rmul__ = __mul__
    def __neg__(self): return -self.expr()

    def __repr__(self):
        return f"Variable({self.name}, shape={self.shape}, batch_ndim={self.batch_ndim})"


class Expression:
    """op(x) − offset, with op a LinearOperator on the image dims; ``kinds`` the array
    types ("numpy", "torch") of the constants it was built from."""

    def __init__(self, var: Variable, op: LinearOperator, offset, kinds=frozenset()):
        self.var, self.op, self.offset, self.kinds = var, op, offset, frozenset(kinds)

    @property
    def shape(self):
        return self.var.batch_shape + self.op.out_shape

    def value(self, x: torch.Tensor) -> torch.Tensor:
        y = self.op.forward(x)
        return y if self.offset is None else y - self.offset.to(dtype=y.dtype if not self.offset.is_complex()
                                                                 else self.offset.dtype, device=y.device)

    def _with_offset(self, b, sign: float) -> "Expression":
        kinds = self.kinds | {kind_of(b)}
        b = as_tensor(b, "the constant in an expression")
        if b.dim() and tuple(b.shape) not in (tuple(self.op.out_shape), tuple(self.shape)):
            raise ModelingError(f"constant of shape {tuple(b.shape)} does not match expression of shape "
                                f"{self.shape} (or {self.op.out_shape} broadcast over the batch)")
        off = -sign * b if self.offset is None else self.offset - sign * b
        return Expression(self.var, self.op, off, kinds)

    def __sub__(self, o):
        if isinstance(o, (Expression, Variable)):
            return self + (-1.0) * o
        return self._with_offset(o, -1.0)

    def __rsub__(self, o):
        return (-1.0) * self + o

    def __add__(self, o):
        if isinstance(o, Variable):
            o = o.expr()
        if isinstance(o, Expression):
            if o.var is not self.var:
                raise ModelingError("expressions of different Variables cannot be added: one variable per Problem")
            off = self.offset if o.offset is None else (o.offset if self.offset is None else self.offset + o.offset)
            return Expression(self.var, SumOperator([self.op, o.op]), off, self.kinds | o.kinds)
        return self._with_offset(o, +1.0)

    __radd__ = __add__

    def __mul__(self, s):
        if not isinstance(s, numbers.Real):
            raise ModelingError(f"an expression can be multiplied by a real scalar only, not {type(s).__name__}")
        return Expression(self.var, ScaledOperator(self.op, float(s)),
                          None if self.offset is None else float(s) * self.offset, self.kinds)

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1.0

    def compose(self, outer: LinearOperator, constant=None) -> "Expression":
        """outer(op(x) − b) = (outer∘op)(x) − outer(b); ``constant``: the array outer was built from."""
        off = None if self.offset is None else outer.forward(self.offset)
        kinds = self.kinds if constant is None else self.kinds | {kind_of(constant)}
        return Expression(self.var, Composition([outer, self.op]), off, kinds)


def _expr(e) -> Expression:
    if isinstance(e, Variable):
        return e.expr()
    if isinstance(e, Expression):
        return e
    raise ModelingError(f"expected a Variable or an expression of one, got {type(e).__name__}")


# --- linear atoms -------------------------------------------------------------------------

def conv(e, psf) -> Expression:
    """Circular convolution with ``psf`` (centred at (kh//2, kw//2)) over the last two dims."""
    e = _expr(e)
    return e.compose(Convolution(as_tensor(psf, "psf").to(torch.float64), e.op.out_shape), psf)


def grad(e) -> Expression:
    """Forward differences over the last two dims (Neumann); components on a new axis 0."""
    e = _expr(e)
    return e.compose(Gradient(e.op.out_shape))


def mask(e, m) -> Expression:
    """Pixelwise mask (inpainting), broadcast over leading image dims."""
    e = _expr(e)
    return e.compose(Mask(as_tensor(m, "mask").to(torch.float64), e.op.out_shape), m)


def fourier_sample(e, m, compact: bool = False) -> Expression:
    """Masked orthonormal 2-D FFT (single-coil MRI), mask in unshifted FFT order."""
    e = _expr(e)
    return e.compose(FourierSampling(as_tensor(m, "k-space mask").to(torch.float64), e.op.out_shape,
                                     compact=compact, real_input=not e.var.complex), m)


def mosaic(e, pattern) -> Expression:
    """Colour filter array (C, H, W) -> (H, W)."""
    e = _expr(e)
    return e.compose(Mosaic(as_tensor(pattern, "mosaic pattern")), pattern)


def linop(e, op: LinearOperator) -> Expression:
    """Any user LinearOperator (forward/adjoint) applied to an expression."""
    e = _expr(e)
    if op.in_shape != e.op.out_shape:
        raise ModelingError(f"operator takes {op.in_shape} but the expression has image shape {e.op.out_shape}")
    return e.compose(op)


# --- terms -----------------------------------------------------------------------------

class Term:
    """weight · φ(expr) for φ in {sum_squares, norm1, group_norm1, nonneg, box, denoiser}."""

    kinds = ("sum_squares", "norm1", "group_norm1", "nonneg", "box", "denoiser")

    def __init__(self, kind: str, expr: Expression | None, weight: float = 1.0, **params):
        assert kind in self.kinds
        self.kind, self.expr, self.weight, self.params = kind, expr, float(weight), params

    @property
    def is_indicator(self):
        return self.kind in ("nonneg", "box")

    def __mul__(self, s):
        if not isinstance(s, numbers.Real) or s < 0:
            raise ModelingError(f"a term can be scaled by a nonnegative real only, not {s!r}")
        return Term(self.kind, self.expr, self.weight * float(s), **self.params)

    __rmul__ = __mul__

    def __add__(self, o):
        return Objective([self]) + o

    __radd__ = __add__

    def __repr__(self):
        return f"{self.weight:g}*{self.kind}"


class Objective:
    """A sum of terms."""

    def __init__(self, terms):
        self.terms = list(terms)

    def __add__(self, o):
        if isinstance(o, Term):
            return Objective(self.terms + [o])
        if isinstance(o, Objective):
            return Objective(self.terms + o.terms)
        if isinstance(o, numbers.Real) and o == 0:
            return self
        raise ModelingError(f"cannot add {type(o).__name__} to an objective: add terms such as sum_squares(...)")

    __radd__ = __add__

    def __mul__(self, s):
        return Objective([t * s for t in self.terms])

    __rmul__ = __mul__


def sum_squares(e) -> Term:
    """‖e‖² (no ½; cvxpy's and ProxImaL's convention)."""
    return Term("sum_squares", _expr(e))


def norm1(e) -> Term:
    return Term("norm1", _expr(e))


def group_norm1(e, axis: int = 0) -> Term:
    """Σ_groups ‖e_g‖₂, a group being a slice along image-axis ``axis`` of the expression."""
    return Term("group_norm1", _expr(e), axis=axis)


def tv(e) -> Term:
    """Isotropic total variation (see module docstring)."""
    return group_norm1(grad(e), axis=0)


def nonneg(e) -> Term:
    return Term("nonneg", _expr(e))


def box(e, lower, upper) -> Term:
    return Term("box", _expr(e), lower=float(lower), upper=float(upper))
