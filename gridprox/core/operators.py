"""Linear operators: the one abstraction that LP solvers and imaging solvers share.

An operator maps tensors of shape (*batch, *in_shape) to (*batch, *out_shape); any
number of leading batch dimensions pass through.  Subclasses implement
``forward`` and ``adjoint``; everything else (composition, sums, scaling, norm
estimation, adjoint checks) is written once here.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch


def _shape(s) -> tuple[int, ...]:
    return (int(s),) if isinstance(s, int) else tuple(int(v) for v in s)


class LinearOperator:
    """A linear map K with forward (K x) and adjoint (Kᵀ y).

    ``in_shape``/``out_shape`` exclude batch dimensions.  ``dtype``/``device`` are those
    of the operator's own data (None when it has none).
    """

    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]

    def __init__(self, in_shape, out_shape):
        self.in_shape = _shape(in_shape)
        self.out_shape = _shape(out_shape)

    # --- to implement -------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    # --- conveniences -------------------------------------------------------
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x)

    @property
    def T(self) -> "LinearOperator":
        return AdjointOperator(self)

    def to(self, device=None, dtype=None) -> "LinearOperator":
        """A copy of the operator with its data on ``device`` / in ``dtype`` (no-op by default)."""
        return self

    def batch_shape(self, x: torch.Tensor, shape: tuple[int, ...], what: str) -> tuple[int, ...]:
        """Leading batch dims of x, after checking its trailing dims equal ``shape``."""
        k = len(shape)
        if tuple(x.shape[x.dim() - k:]) != shape or x.dim() < k:
            raise ValueError(
                f"{type(self).__name__}.{what}: input has shape {tuple(x.shape)}, "
                f"expected (..., {', '.join(map(str, shape))})")
        return tuple(x.shape[: x.dim() - k])

    def __matmul__(self, other: "LinearOperator") -> "LinearOperator":
        if isinstance(other, LinearOperator):
            return Composition([self, other])
        return NotImplemented

    def __add__(self, other: "LinearOperator") -> "LinearOperator":
        if isinstance(other, LinearOperator):
            return SumOperator([self, other])
        return NotImplemented

    def __sub__(self, other: "LinearOperator") -> "LinearOperator":
        if isinstance(other, LinearOperator):
            return SumOperator([self, ScaledOperator(other, -1.0)])
        return NotImplemented

    def __mul__(self, scalar: float) -> "LinearOperator":
        if isinstance(scalar, (int, float)):
            return ScaledOperator(self, float(scalar))
        return NotImplemented

    __rmul__ = __mul__

    def __neg__(self) -> "LinearOperator":
        return ScaledOperator(self, -1.0)

    # --- analysis -----------------------------------------------------------
    def norm_estimate(self, iters: int = 100, tol: float = 1e-6, seed: int = 0,
                      dtype=torch.float64, device=None) -> float:
        """‖K‖₂ by power iteration on KᵀK from a seeded Gaussian start.

        Stops when the estimate changes by less than ``tol`` relative.  The estimate
        approaches ‖K‖₂ from below; callers that need a safe step multiply by a margin.
        """
        gen = torch.Generator(device="cpu").manual_seed(seed)
        v = torch.randn(self.in_shape, generator=gen, dtype=dtype).to(device or self.device or "cpu")
        v = v / v.norm()
        sigma = 0.0
        for _ in range(iters):
            w = self.adjoint(self.forward(v))
            lam = float(w.norm())
            if lam == 0.0:
                return 0.0
            v = w / lam
            new = math.sqrt(lam)
            if abs(new - sigma) <= tol * new:
                return new
            sigma = new
        return sigma

    def adjoint_error(self, seed: int = 0, dtype=torch.float64, device=None) -> float:
        """|⟨Kx, y⟩ − ⟨x, Kᵀy⟩| / (‖Kx‖‖y‖) on random x, y: ~1e-16 for a correct adjoint."""
        gen = torch.Generator(device="cpu").manual_seed(seed)
        dev = device or self.device or "cpu"
        x = torch.randn(self.in_shape, generator=gen, dtype=dtype).to(dev)
        y = torch.randn(self.out_shape, generator=gen, dtype=dtype).to(dev)
        Kx, Kty = self.forward(x), self.adjoint(y)
        lhs = torch.sum(Kx * y) if not Kx.is_complex() else torch.vdot(Kx.flatten(), y.flatten()).real
        rhs = torch.sum(x * Kty) if not x.is_complex() else torch.vdot(x.flatten(), Kty.flatten()).real
        scale = float(Kx.norm() * y.norm()) or 1.0
        return float(abs(lhs - rhs)) / scale

    @property
    def device(self):
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(in={self.in_shape}, out={self.out_shape})"


class AdjointOperator(LinearOperator):
    def __init__(self, op: LinearOperator):
        super().__init__(op.out_shape, op.in_shape)
        self.op = op

    def forward(self, x):
        return self.op.adjoint(x)

    def adjoint(self, y):
        return self.op.forward(y)

    @property
    def T(self):
        return self.op

    @property
    def device(self):
        return self.op.device

    def to(self, device=None, dtype=None):
        return AdjointOperator(self.op.to(device, dtype))


class Composition(LinearOperator):
    """K = K_0 K_1 ... K_{p-1} (applied right to left)."""

    def __init__(self, ops: Sequence[LinearOperator]):
        flat: list[LinearOperator] = []
        for op in ops:
            flat.extend(op.ops if isinstance(op, Composition) else [op])
        for left, right in zip(flat, flat[1:]):
            if left.in_shape != right.out_shape:
                raise ValueError(f"cannot compose {left!r} after {right!r}: "
                                 f"shapes {left.in_shape} and {right.out_shape} differ")
        super().__init__(flat[-1].in_shape, flat[0].out_shape)
        self.ops = flat

    def forward(self, x):
        for op in reversed(self.ops):
            x = op.forward(x)
        return x

    def adjoint(self, y):
        for op in self.ops:
            y = op.adjoint(y)
        return y

    @property
    def device(self):
        return next((op.device for op in self.ops if op.device is not None), None)

    def to(self, device=None, dtype=None):
        return Composition([op.to(device, dtype) for op in self.ops])


class SumOperator(LinearOperator):
    """K = K_0 + K_1 + ... (all with the same shapes)."""

    def __init__(self, ops: Sequence[LinearOperator]):
        flat: list[LinearOperator] = []
        for op in ops:
            flat.extend(op.ops if isinstance(op, SumOperator) else [op])
        for op in flat[1:]:
            if (op.in_shape, op.out_shape) != (flat[0].in_shape, flat[0].out_shape):
                raise ValueError(f"cannot add {flat[0]!r} and {op!r}: shapes differ")
        super().__init__(flat[0].in_shape, flat[0].out_shape)
        self.ops = flat

    def forward(self, x):
        out = self.ops[0].forward(x)
        for op in self.ops[1:]:
            out = out + op.forward(x)
        return out

    def adjoint(self, y):
        out = self.ops[0].adjoint(y)
        for op in self.ops[1:]:
            out = out + op.adjoint(y)
        return out

    @property
    def device(self):
        return next((op.device for op in self.ops if op.device is not None), None)

    def to(self, device=None, dtype=None):
        return SumOperator([op.to(device, dtype) for op in self.ops])


class ScaledOperator(LinearOperator):
    """K = a · K_0 for a real scalar a."""

    def __init__(self, op: LinearOperator, scale: float):
        super().__init__(op.in_shape, op.out_shape)
        self.op, self.scale = op, float(scale)

    def forward(self, x):
        return self.scale * self.op.forward(x)

    def adjoint(self, y):
        return self.scale * self.op.adjoint(y)

    @property
    def device(self):
        return self.op.device

    def to(self, device=None, dtype=None):
        return ScaledOperator(self.op.to(device, dtype), self.scale)


class Identity(LinearOperator):
    def __init__(self, shape):
        super().__init__(shape, shape)

    def forward(self, x):
        self.batch_shape(x, self.in_shape, "forward")
        return x

    def adjoint(self, y):
        return self.forward(y)

    def norm_estimate(self, *args, **kwargs) -> float:
        return 1.0


class Diagonal(LinearOperator):
    """K x = d ⊙ x elementwise, with d of shape ``in_shape`` (real or complex)."""

    def __init__(self, d: torch.Tensor):
        d = torch.as_tensor(d)
        super().__init__(tuple(d.shape), tuple(d.shape))
        self.d = d

    def forward(self, x):
        self.batch_shape(x, self.in_shape, "forward")
        return self.d * x

    def adjoint(self, y):
        self.batch_shape(y, self.out_shape, "adjoint")
        return (self.d.conj() if self.d.is_complex() else self.d) * y

    def norm_estimate(self, *args, **kwargs) -> float:
        return float(self.d.abs().max()) if self.d.numel() else 0.0

    @property
    def device(self):
        return self.d.device

    def to(self, device=None, dtype=None):
        d = self.d.to(device=device) if device is not None else self.d
        if dtype is not None and not d.is_complex():
            d = d.to(dtype)
        return Diagonal(d)
