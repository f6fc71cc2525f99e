"""Low precision: the primal iterates measured from the last restart point.

In float32 a column whose x_j is large stops moving once its step τ|g_j| falls below half
an ulp of x_j (2⁻²⁵|x_j|): x̂_j rounds back to x_j, its rows' residuals and duals stay put
and g_j stays where it is.  PDLP's ℓ2 measures are met long before, but a zero-cost column
whose reduced cost must reach tol·(1 + its own scale) waited for that for hundreds of
thousands of iterations (RESULTS, "float32 and the per-row test").  So at each restart the
anchor becomes the origin: the iterates hold only the deviation from it (small near a
solution, so float32 resolves small steps again) and the bounds the iterations see are
shifted by it, computed in float64 (iterative refinement's residual).  Exact arithmetic takes
the same steps; float64 iterates never move the origin."""
from __future__ import annotations

from dataclasses import replace

import torch

from ..core.sparse import SparseMatrixOperator
from .data import ScaledLP
from .state import Iterates


def move_origin(s: Iterates, mask: torch.Tensor) -> None:
    """Columns ``mask`` take their anchor x0 as the new origin; X and X0 are rewritten
    relative to it (X0 to the part of x0 float32 cannot hold in XOFF, about zero)."""
    off = s.XOFF.double()
    x0 = off + s.X0.double()
    origin = x0.to(s.X.dtype)
    rel = lambda t: torch.where(mask, (off + t.double() - origin.double()).to(t.dtype), t).contiguous()  # noqa: E731
    s.X, s.X0 = rel(s.X), rel(s.X0)
    s.XOFF = torch.where(mask, origin, s.XOFF)


def shifted(d: ScaledLP, origin: torch.Tensor, A64: SparseMatrixOperator) -> ScaledLP:
    """The data the iterations see with x measured from ``origin`` (n, W): variable bounds
    less the origin, row bounds less A·origin (in float64, then rounded), and c·origin, the
    primal objective's part the iterates no longer hold.  The dual objective's bounds
    (lcz, ..., uxz) stay the problem's own."""
    off = origin.double()
    A_off = A64.matmat(off)
    less = lambda bound, by: (bound.double() - by).to(origin.dtype).contiguous()  # noqa: E731
    cx = (d.c.double() * off).sum(0, keepdim=True)
    return replace(d, lx=less(d.lx, off), ux=less(d.ux, off), lc=less(d.lc, A_off), uc=less(d.uc, A_off),
                   cx_origin=cx.to(origin.dtype))
