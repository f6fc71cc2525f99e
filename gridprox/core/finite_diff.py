"""Forward-difference gradient with Neumann boundary, and its adjoint (−divergence).

∇x stacks one forward difference per differentiated axis along a new leading
component axis: (…, *shape) -> (…, ndim, *shape).  The last difference along each
axis is zero (Neumann), the convention of isotropic TV in ProxImaL, PyLops and
scikit-image.  Its Gram ∇ᵀ∇ is the Neumann Laplacian: diagonal in the cosine basis,
and close to the periodic Laplacian (diagonal in Fourier), which gives a good
preconditioner for conjugate gradients.
"""
from __future__ import annotations

import math

import torch

from .operators import LinearOperator


class Gradient(LinearOperator):
    """Forward differences over the last ``ndim`` dims of images of ``shape``."""

    def __init__(self, shape, ndim: int = 2):
        shape = tuple(int(s) for s in shape)
        if not 1 <= ndim <= len(shape):
            raise ValueError(f"Gradient: ndim={ndim} invalid for shape {shape}")
        super().__init__(shape, (ndim, *shape))
        self.ndim = ndim
        self.axes = tuple(range(len(shape) - ndim, len(shape)))  # within in_shape

    def forward(self, x):
        batch = self.batch_shape(x, self.in_shape, "forward")
        out = x.new_empty((*batch, *self.out_shape))
        off = len(batch)
        for i, a in enumerate(self.axes):
            n = self.in_shape[a]
            ax = off + a
            comp = out.select(off, i)
            _sub_into(comp.narrow(ax, 0, n - 1), x.narrow(ax, 1, n - 1), x.narrow(ax, 0, n - 1))
            comp.narrow(ax, n - 1, 1).zero_()
        return out

    def adjoint(self, y):
        """−div y, written in place: no zero-filled buffer, one pass per axis."""
        batch = self.batch_shape(y, self.out_shape, "adjoint")
        off = len(batch)
        out = None
        for i, a in enumerate(self.axes):
            n = self.in_shape[a]
            if n < 2:       # a length-1 axis has no differences
                continue
            ax = off + a
            g = y.select(off, i).narrow(ax, 0, n - 1)
            if out is None:  # out[0] = −g[0], out[j] = g[j−1] − g[j], out[n−1] = g[n−2]
                out = y.new_empty((*batch, *self.in_shape))
                _sub_into(out.narrow(ax, 1, n - 2), g.narrow(ax, 0, n - 2), g.narrow(ax, 1, n - 2))
                out.narrow(ax, 0, 1).copy_(-g.narrow(ax, 0, 1))
                out.narrow(ax, n - 1, 1).copy_(g.narrow(ax, n - 2, 1))
            else:
                out.narrow(ax, 1, n - 1).add_(g)
                out.narrow(ax, 0, n - 1).sub_(g)
        return y.new_zeros((*batch, *self.in_shape)) if out is None else out

    def norm_bound(self) -> float:
        """‖∇‖₂ exactly: √(Σ_axes 4 sin²(π(n−1)/(2n))), the top of the Neumann spectrum."""
        return math.sqrt(sum(4 * math.sin(math.pi * (n - 1) / (2 * n)) ** 2
                             for n in (self.in_shape[a] for a in self.axes)))

    def norm_estimate(self, *args, **kwargs) -> float:
        return self.norm_bound()

    def fourier_gram_approx(self, real: bool, dtype=torch.float64, device=None) -> torch.Tensor:
        """The periodic Laplacian's symbol Σ 4 sin²(πk/n): ∇ᵀ∇ up to boundary rows.

        Only a preconditioner: ``quadratic.py`` never uses it as an exact inverse."""
        H, W = self.in_shape[-2:]
        sym = torch.zeros((H, W // 2 + 1) if real else (H, W), dtype=dtype, device=device)
        for a in self.axes:
            n = self.in_shape[a]
            k = torch.arange(n, dtype=dtype, device=device)
            s = 4 * torch.sin(math.pi * k / n) ** 2
            if a == len(self.in_shape) - 1:
                sym = sym + (s[: W // 2 + 1] if real else s)
            elif a == len(self.in_shape) - 2:
                sym = sym + s[:, None]
            else:
                return None  # only the two Fourier axes are diagonalised
        return sym


def _sub_into(dst, a, b):
    """dst ← a − b without a temporary, unless autograd must see the subtraction."""
    if torch.is_grad_enabled() and (a.requires_grad or b.requires_grad):
        dst.copy_(a - b)
    else:
        torch.sub(a, b, out=dst)



def tv_dual_step(y: torch.Tensor, x_new: torch.Tensor, x: torch.Tensor, theta: float, sigma: float,
                 radius: float, relax: float = 1.0) -> torch.Tensor:
    """One PDHG dual step of isotropic TV, radius·Σ‖∇x‖₂, on images (..., H, W), y (..., 2, H, W):

        x̄ = x⁺ + θ(x⁺ − x);  ỹ = Π_{‖·‖₂ ≤ radius}(y + σ∇x̄) per pixel;  y ← y + ρ(ỹ − y) in place;

    returns Kᵀy = −div y.  The same iterates as the projection and relaxation done in
    turn (to rounding), in fewer passes and allocations: ρ folds into the projection's
    scale ρ·r/max(‖v‖, r) (no square root or division per pixel), y is updated in
    place, and Kᵀy⁺ is one adjoint instead of Kᵀỹ and a step.  Real, no autograd.
    Row blocks sized for L2 were measured slower in eager torch (per-op overhead;
    RESULTS, issue 29), so the whole image is one block."""
    H, W = x.shape[-2:]
    if y.shape[-3:] != (2, H, W) or y.dim() != x.dim() + 1 or radius <= 0:
        raise ValueError(f"tv_dual_step: y {tuple(y.shape)} for images {tuple(x.shape)}, radius {radius}")
    G = Gradient((H, W))
    v = G.forward(torch.lerp(x_new, x, -theta))
    v = torch.add(y, v, alpha=sigma, out=v)
    v0, v1 = v.unbind(-3)
    s = torch.mul(v0, v0).addcmul_(v1, v1).clamp_min_(radius * radius).rsqrt_().mul_(relax * radius)
    if relax == 1.0:
        torch.mul(v, s.unsqueeze(-3), out=y)
    else:
        y.mul_(1.0 - relax).addcmul_(v, s.unsqueeze(-3))
    return G.adjoint(y)
