"""Prox of sums of squares with linear operators: the linear solve of ADMM/HQS and the
exact data step of PDHG.

Solves   (Σ_i w_i K_iᵀK_i + ρ Σ_j P_jᵀP_j + c I) x = r
for a fixed "data" group (K_i, w_i) and a "penalty" group P_j whose weight ρ may
change between calls (ADMM penalty updates, HQS continuation).  The method is
decided once from the operators' structure:

* ``"spatial"``: every Gram is diagonal in pixel space (identity, masks, mosaics) —
  an elementwise division;
* ``"fourier"``: every Gram is diagonal in the 2-D Fourier basis (circular
  convolutions, Fourier sampling, identity) — one FFT pair;
* ``"cg"``: anything else, by conjugate gradients, preconditioned by the Fourier
  diagonal of a circulant approximation when every operator has one (Neumann
  gradients: the periodic Laplacian; masks: their mean).
"""
from __future__ import annotations

from typing import Sequence

import torch

from .convolution import Convolution
from .operators import Composition, Diagonal, Identity, LinearOperator, ScaledOperator


# --- structure analysis --------------------------------------------------------

def spatial_gram(op: LinearOperator):
    """Diagonal of KᵀK in pixel space (a tensor broadcasting to in_shape), or None."""
    if isinstance(op, Identity):
        return torch.tensor(1.0, dtype=torch.float64)
    if isinstance(op, ScaledOperator):
        g = spatial_gram(op.op)
        return None if g is None else op.scale ** 2 * g
    if hasattr(op, "spatial_gram"):
        return op.spatial_gram()
    if isinstance(op, Diagonal):
        return op.d.abs().to(torch.float64) ** 2
    if isinstance(op, Composition):
        g = spatial_gram(op.ops[0])
        for inner in op.ops[1:]:
            s = _spatial_symbol(inner)
            if g is None or s is None:
                return None
            g = g * s.abs().to(torch.float64) ** 2
        return g
    return None


def _spatial_symbol(op):
    if isinstance(op, Identity):
        return torch.tensor(1.0, dtype=torch.float64)
    if isinstance(op, ScaledOperator):
        s = _spatial_symbol(op.op)
        return None if s is None else op.scale * s
    if isinstance(op, Diagonal):
        return op.d
    return None


def _fourier_symbol(op, real, dtype, device):
    if isinstance(op, Identity):
        return torch.tensor(1.0, dtype=dtype, device=device)
    if isinstance(op, ScaledOperator):
        s = _fourier_symbol(op.op, real, dtype, device)
        return None if s is None else op.scale * s
    if isinstance(op, Convolution):
        return op.fourier_symbol(real, dtype, device)
    if isinstance(op, Composition):
        out = torch.tensor(1.0, dtype=dtype, device=device)
        for inner in op.ops:
            s = _fourier_symbol(inner, real, dtype, device)
            if s is None:
                return None
            out = out * s
        return out
    return None


def fourier_gram(op: LinearOperator, real: bool, dtype=torch.float64, device=None, approx: bool = False):
    """Diagonal of KᵀK in the 2-D Fourier basis over the last two dims (half grid when
    ``real``), or None.  With ``approx`` also accept circulant approximations (for
    preconditioning only)."""
    if isinstance(op, Identity):
        return torch.tensor(1.0, dtype=dtype, device=device)
    if isinstance(op, ScaledOperator):
        g = fourier_gram(op.op, real, dtype, device, approx)
        return None if g is None else op.scale ** 2 * g
    if hasattr(op, "fourier_gram"):
        g = op.fourier_gram(real, dtype, device)
        if g is not None:
            return g.to(dtype=dtype, device=device)
    if isinstance(op, Composition):
        g = fourier_gram(op.ops[0], real, dtype, device, approx)
        for inner in op.ops[1:]:
            s = _fourier_symbol(inner, real, dtype, device)
            if g is None or s is None:
                return None
            g = g * s.abs() ** 2
        return g
    if approx:
        if hasattr(op, "fourier_gram_approx"):
            return op.fourier_gram_approx(real, dtype, device)
        g = spatial_gram(op)
        if g is not None:  # a pixel-diagonal Gram: its mean is the best scalar circulant
            return g.mean().to(dtype=dtype, device=device)
    return None


# --- the solver -----------------------------------------------------------------

class QuadraticSolver:
    """(Σ w_i K_iᵀK_i + ρ Σ P_jᵀP_j + c I) x = r on images of ``shape`` (leading batch
    dims of r pass through).  ``real``: x is real (rfft grid) rather than complex."""

    def __init__(self, data: Sequence[tuple[LinearOperator, float]], penalty: Sequence[LinearOperator] = (),
                 shape=None, real: bool = True, dtype=torch.float64, device=None,
                 cg_tol: float = 1e-10, cg_maxiter: int = 500):
        self.data, self.penalty = list(data), list(penalty)
        ops = [K for K, _ in self.data] + self.penalty
        if shape is None:
            if not ops:
                raise ValueError("QuadraticSolver: give shape= when there are no operators")
            shape = ops[0].in_shape
        self.shape, self.real, self.dtype, self.device = tuple(shape), real, dtype, device
        for K in ops:
            if K.in_shape != self.shape:
                raise ValueError(f"QuadraticSolver: operator {K!r} takes {K.in_shape}, not {self.shape}")
        self.cg_tol, self.cg_maxiter = cg_tol, cg_maxiter
        self.dims = tuple(range(-len(self.shape), 0))
        self.mode, self.d_data, self.d_pen = self._decide(approx=False)
        self.precond = None
        if self.mode == "cg":
            kind, dd, dp = self._decide(approx=True)
            self.precond = (dd, dp) if kind == "fourier" else None
        self.cg_iterations = 0  # total CG iterations used, for reporting

    def _decide(self, approx: bool):
        """(mode, data diagonal, penalty diagonal) for the first basis that works."""
        def total(grams, weights):
            out = torch.zeros((), dtype=self.dtype, device=self.device)
            for g, w in zip(grams, weights):
                out = out + w * g.to(dtype=self.dtype, device=self.device)
            return out

        wts = [float(w) for _, w in self.data]
        if not approx:
            sg = [spatial_gram(K) for K, _ in self.data]
            sp = [spatial_gram(P) for P in self.penalty]
            if all(g is not None for g in sg + sp):
                return "spatial", total(sg, wts), total(sp, [1.0] * len(sp))
        if len(self.shape) >= 2:
            fg = [fourier_gram(K, self.real, self.dtype, self.device, approx) for K, _ in self.data]
            fp = [fourier_gram(P, self.real, self.dtype, self.device, approx) for P in self.penalty]
            if all(g is not None for g in fg + fp):
                return "fourier", total(fg, wts), total(fp, [1.0] * len(fp))
        return "cg", None, None

    @property
    def closed_form(self) -> bool:
        return self.mode != "cg"

    def gram(self, x: torch.Tensor, rho=0.0, c=0.0) -> torch.Tensor:
        """(Σ w KᵀK + ρ Σ PᵀP + c I) x."""
        out = c * x
        for K, w in self.data:
            out = out + w * K.adjoint(K.forward(x))
        for P in self.penalty:
            out = out + rho * P.adjoint(P.forward(x))
        return out

    def _fourier_divide(self, r, denom):
        if self.real:
            return torch.fft.irfft2(torch.fft.rfft2(r) / denom, s=r.shape[-2:])
        return torch.fft.ifft2(torch.fft.fft2(r) / denom)

    def solve(self, r: torch.Tensor, rho=0.0, c=0.0, x0: torch.Tensor | None = None, tol: float | None = None):
        """x solving the system; ``x0`` warm-starts CG, ``tol`` overrides its relative tolerance."""
        if self.mode == "spatial":
            return r / (self.d_data + rho * self.d_pen + c)
        if self.mode == "fourier":
            return self._fourier_divide(r, self.d_data + rho * self.d_pen + c)
        return self._cg(r, rho, c, x0, self.cg_tol if tol is None else tol)

    def prox(self, v: torch.Tensor, t: float, r) -> torch.Tensor:
        """solve(r + v/t, c=1/t): the prox of t·(½xᵀGx − rᵀx) at v (G the data Gram);
        pixel-diagonal Grams as (v + t r)/(t d + 1), two passes over the image."""
        if self.mode == "spatial":
            out = v + t * r if isinstance(r, (int, float)) else torch.add(v, r, alpha=t)
            return out.div_(t * self.d_data + 1.0)
        return self.solve(r + v / t, c=1.0 / t)

    def _cg(self, r, rho, c, x0, tol):
        def dot(a, b):
            return (a.conj() * b).real.sum(dim=self.dims, keepdim=True) if a.is_complex() \
                else (a * b).sum(dim=self.dims, keepdim=True)

        if self.precond is not None:
            denom = self.precond[0] + rho * self.precond[1] + c
            M = lambda v: self._fourier_divide(v, denom)  # noqa: E731
        else:
            M = lambda v: v  # noqa: E731
        x = torch.zeros_like(r) if x0 is None else x0.clone()
        res = r - self.gram(x, rho, c) if x0 is not None else r.clone()
        z = M(res)
        p = z.clone()
        rz = dot(res, z)
        bnorm = torch.sqrt(dot(r, r)).clamp_min(torch.finfo(r.real.dtype).tiny)
        for it in range(self.cg_maxiter):
            if bool((torch.sqrt(dot(res, res)) <= tol * bnorm).all()):
                break
            Ap = self.gram(p, rho, c)
            pAp = dot(p, Ap)
            alpha = torch.where(pAp > 0, rz / torch.where(pAp > 0, pAp, 1.0), 0.0)
            x = x + alpha * p
            res = res - alpha * Ap
            z = M(res)
            rz_new = dot(res, z)
            beta = torch.where(rz > 0, rz_new / torch.where(rz > 0, rz, 1.0), 0.0)
            p = z + beta * p
            rz = rz_new
            self.cg_iterations += 1
        return x

    def rhs(self, bs: Sequence[torch.Tensor | None]) -> torch.Tensor | float:
        """Σ w_i K_iᵀ b_i for the data offsets b_i (None for 0)."""
        out = 0.0
        for (K, w), b in zip(self.data, bs):
            if b is not None:
                out = out + w * K.adjoint(b)
        return out


def prox_sum_squares_op(v: torch.Tensor, t, op: LinearOperator, b=None, weight: float = 1.0,
                        **solver_kwargs) -> torch.Tensor:
    """prox of t·(weight/2)‖K u − b‖² at v: (w KᵀK + I/t) u = w Kᵀb + v/t, by the
    cheapest exact method the operator admits (see module docstring)."""
    solver = QuadraticSolver([(op, weight)], shape=op.in_shape, real=not v.is_complex(),
                             dtype=v.real.dtype, device=v.device, **solver_kwargs)
    return solver.solve(solver.rhs([b]) + v / t, c=1.0 / t)
