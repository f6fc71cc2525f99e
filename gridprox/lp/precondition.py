"""Diagonal preconditioners for a sparse matrix: Ruiz ℓ∞ equilibration and Pock–Chambolle.

Both return row/column scalings D1 (m, Bv), D2 (n, Bv) with  Ã = D1 A D2.  For an LP
the scaled problem is  c̃ = D2 c,  l̃c, ũc = D1 lc, D1 uc,  l̃x, ũx = lx / D2, ux / D2,
and a scaled solution maps back exactly by  x = D2 x̃,  y = D1 ỹ,  z = z̃ / D2.
A batch sharing A gets one scaling (Bv = 1); per-scenario matrices get one each.

Why: PDHG's progress depends on the conditioning of Ã; Ruiz equalises the largest entry
of every row and column (fast, robust to the 1e-8…1e8 coefficient ranges of energy
LPs), Pock–Chambolle (α = 1) then normalises the ℓ1 row/column sums so that the step
bound 1/‖Ã‖₂ is not set by a few heavy rows (cuPDLP/cuPDLPx defaults, PDLP notes §1.5).
"""
from __future__ import annotations

import torch

from ..core.sparse import SparseMatrixOperator, segment_reduce


def _safe_sqrt(norms: torch.Tensor) -> torch.Tensor:
    """sqrt of row/column norms with empty rows/columns left unscaled (factor 1)."""
    return torch.where(norms > 0, norms.sqrt(), torch.ones_like(norms))


def _ruiz_factors(op: SparseMatrixOperator, values: torch.Tensor, iters: int):
    m, n = op.shape
    d_row = torch.ones(m, values.shape[1], dtype=values.dtype, device=values.device)
    d_col = torch.ones(n, values.shape[1], dtype=values.dtype, device=values.device)
    for _ in range(iters):
        r = 1.0 / _safe_sqrt(segment_reduce(values, op.row, m, "amax"))
        c = 1.0 / _safe_sqrt(segment_reduce(values, op.col, n, "amax"))
        values = r[op.row] * values * c[op.col]
        d_row, d_col = d_row * r, d_col * c
    return values, d_row, d_col


def _pc_factors(op: SparseMatrixOperator, values: torch.Tensor, alpha: float):
    m, n = op.shape
    r = 1.0 / _safe_sqrt(segment_reduce(values, op.row, m, "sum", alpha))
    c = 1.0 / _safe_sqrt(segment_reduce(values, op.col, n, "sum", 2.0 - alpha))
    return r[op.row] * values * c[op.col], r, c


def ruiz(op: SparseMatrixOperator, iters: int = 10):
    """Ruiz ℓ∞ equilibration: ``iters`` passes dividing rows and columns by the square root
    of their largest |entry| (computed on the same matrix, applied together).
    Returns (scaled operator, D1, D2)."""
    values, d_row, d_col = _ruiz_factors(op, op.values, iters)
    return op.with_values(values), d_row, d_col


def pock_chambolle(op: SparseMatrixOperator, alpha: float = 1.0):
    """Pock–Chambolle diagonal scaling: rows by sqrt(Σ_j |a_ij|^α), columns by
    sqrt(Σ_i |a_ij|^(2−α)).  Returns (scaled operator, D1, D2)."""
    values, r, c = _pc_factors(op, op.values, alpha)
    return op.with_values(values), r, c


def precondition(op: SparseMatrixOperator, ruiz_iters: int = 10, pc_alpha: float | None = 1.0):
    """Ruiz (``ruiz_iters`` passes) then Pock–Chambolle (``pc_alpha``; None skips it).
    Returns (Ã, D1, D2) with Ã = D1 A D2; the scaled CSR pair is built once, at the end."""
    values, d_row, d_col = _ruiz_factors(op, op.values, ruiz_iters)
    if pc_alpha is not None:
        values, r, c = _pc_factors(op, values, pc_alpha)
        d_row, d_col = d_row * r, d_col * c
    return op.with_values(values), d_row, d_col


def bound_objective_weights(c: torch.Tensor, lc: torch.Tensor, uc: torch.Tensor):
    """θ_b = 1/(1+‖b‖₂), θ_c = 1/(1+‖c‖₂) per scenario (columns of (n, B) / (m, B) data),
    b = the finite row bounds with an equality counted once (cuPDLPx's bound/objective
    rescaling).  Scaling b by θ_b and c by θ_c is exactly equivalent to running PDHG with
    the primal weight multiplied by θ_b/θ_c (x̃ = θ_b x, ỹ = θ_c y, step products
    unchanged), which is how the LP solver applies it without copying shared data."""
    lo = torch.where(torch.isfinite(lc) & (lc != uc), lc, torch.zeros_like(lc))
    hi = torch.where(torch.isfinite(uc), uc, torch.zeros_like(uc))
    bnorm = torch.sqrt((lo ** 2).sum(0) + (hi ** 2).sum(0))
    return 1.0 / (1.0 + bnorm), 1.0 / (1.0 + torch.linalg.vector_norm(c, dim=0))
