"""What a check measures, from sums over the rows of one PDHG step.

A check takes one step from (x, y) to (x̂, ŷ) and reduces it to the per-scenario sums of
``SUMS`` (the C kernel returns the same rows in the same order: plain_kernel.c's S_* enum,
checked by tests/test_native.py).  From them: the relative primal/dual residuals and gap of
(x̂, ŷ) in original units, as ``LinearProgram.residuals`` defines them (PDLP's ℓ2 relative
measures), and the fixed-point error that drives Halpern restarts."""
from __future__ import annotations

import torch

from .data import ScaledLP
from .state import Iterates

# r = A x̂ − clamp(A x̂, l_c, u_c), g = c − Aᵀŷ, g' = g − clamp(g, g_lo, g_hi) (scaled units)
SUMS = (
    "primal",      # Σ (r / d_row)²                 original-unit primal residual²
    "dual",        # Σ (g' / d_col)²                original-unit dual residual²
    "cx",          # Σ c x̂
    "y_bound",     # Σ ŷ · (ŷ > 0 ? l_c : u_c)     (0 at infinite bounds)
    "g_bound",     # Σ g · (g > 0 ? l_x : u_x)
    "dx",          # Σ (x̂ − x)²                     the step, for the fixed-point error
    "dy",          # Σ (ŷ − y)²
    "adx_dy",      # Σ (A x̄ − A x̂)(ŷ − y)
    "dx0",         # Σ (x̂ − x0)²                    movement from the Halpern anchor (restarts)
    "dy0",         # Σ (ŷ − y0)²
)
METRICS = ("primal", "dual", "gap", "primal_objective", "dual_objective")   # rows of a (5, W) metrics tensor


def vnorm(t: torch.Tensor) -> torch.Tensor:
    """ℓ2 norm of each column as a (1, W) row."""
    return torch.linalg.vector_norm(t, dim=0, keepdim=True)


def dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(0, keepdim=True)


class CheckSums:
    """The (len(SUMS), W) sums of a check, with each row by name as a (1, W) tensor."""

    def __init__(self, table: torch.Tensor):
        self.table = table

    def __getattr__(self, name: str) -> torch.Tensor:
        if name not in SUMS:
            raise AttributeError(name)
        i = SUMS.index(name)
        return self.table[i:i + 1]

    @classmethod
    def of(cls, s: Iterates, d: ScaledLP) -> "CheckSums":
        """From the step in ``s`` (XH, YH, AXB, AXH = A x̂, ATYH = Aᵀŷ written), with torch."""
        rows = {**_kkt_rows(s.XH, s.YH, s.AXH, s.ATYH, d),
                "dx": vnorm(s.XH - s.X) ** 2, "dy": vnorm(s.YH - s.Y) ** 2, "adx_dy": dot(s.AXB - s.AXH, s.YH - s.Y),
                "dx0": vnorm(s.XH - s.X0) ** 2, "dy0": vnorm(s.YH - s.Y0) ** 2}
        return cls(torch.cat([rows[name] for name in SUMS]))


def _kkt_rows(X, Y, AX, ATY, d: ScaledLP) -> dict:
    """The sums of SUMS that measure the point (X, Y) itself, not a step."""
    R = AX - torch.maximum(torch.minimum(AX, d.uc), d.lc)
    G = d.c - ATY
    Gr = G - torch.maximum(torch.minimum(G, d.g_hi), d.g_lo)
    return {"primal": vnorm(R / d.d_row) ** 2, "dual": vnorm(Gr / d.d_col) ** 2, "cx": dot(d.c, X),
            "y_bound": dot(Y, torch.where(Y > 0, d.lcz, d.ucz)), "g_bound": dot(G, torch.where(G > 0, d.lxz, d.uxz))}


def point_metrics(X, Y, AX, ATY, d: ScaledLP) -> torch.Tensor:
    """``metrics`` of a point that no step produced (a polished one), from A X and Aᵀ Y."""
    rows = _kkt_rows(X, Y, AX, ATY, d)
    zero = torch.zeros_like(rows["cx"])
    return metrics(CheckSums(torch.cat([rows.get(name, zero) for name in SUMS])), d)


def metrics(sums: CheckSums, d: ScaledLP) -> torch.Tensor:
    """(5, W): relative primal residual, dual residual, gap, primal and dual objective."""
    p_obj = sums.cx + d.cx_origin + d.c0
    d_obj = sums.y_bound + sums.g_bound + d.c0
    rel_p = sums.primal.sqrt() / (1 + d.bnorm)
    rel_d = sums.dual.sqrt() / (1 + d.cnorm)
    gap = relative_gap(p_obj, d_obj)
    return torch.cat([rel_p, rel_d, gap, p_obj, d_obj])


def relative_gap(p_obj: torch.Tensor, d_obj: torch.Tensor) -> torch.Tensor:
    """PDLP's relative duality gap of primal and dual objectives."""
    return (p_obj - d_obj).abs() / (1 + p_obj.abs() + d_obj.abs())


def fixed_point_error(sums: CheckSums, s: Iterates) -> torch.Tensor:
    """‖z − T z‖_P of the step, P = [[ω/η, Aᵀ], [A, 1/(ηω)]] (scaled by η)."""
    q = s.omega * sums.dx + sums.dy / s.omega + 2 * s.eta * sums.adx_dy
    return q.clamp(min=0).sqrt()
