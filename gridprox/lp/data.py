"""An LP batch as column-layout tensors, and its preconditioned form.

Column layout: vectors are (rows, W) with one column per scenario, so an iteration is one
sparse product with Aᵀ and one with A (SpMM).  Data shared by the batch are (rows, 1)."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields

import torch

from ..core.sparse import SparseMatrixOperator
from .options import INFINITE_BOUND
from .precondition import bound_objective_weights, precondition


@dataclass
class LPTensors:
    """min c·x + c0 s.t. lc <= A x <= uc, lx <= x <= ux, for B scenarios sharing A's pattern.

    A: SparseMatrixOperator (shared, or per-scenario values); c, lx, ux: (n, 1|B);
    lc, uc: (m, 1|B); c0: (B,) or (1,).  |bound| >= 1e20 is infinite."""

    A: SparseMatrixOperator
    c: torch.Tensor
    lc: torch.Tensor
    uc: torch.Tensor
    lx: torch.Tensor
    ux: torch.Tensor
    c0: torch.Tensor

    @property
    def batch_size(self) -> int:
        widths = {t.shape[-1] for t in (self.c, self.lc, self.uc, self.lx, self.ux, self.c0)}
        widths.add(self.A.batch_values)
        widths.discard(1)
        if len(widths) > 1:
            raise ValueError(f"LPTensors: batch widths disagree: {sorted(widths)}")
        return widths.pop() if widths else 1

    def checked(self) -> "LPTensors":
        """Shapes checked, NaN/inf and crossed bounds rejected with the culprit named, huge
        bounds -> ±inf (``solvers.solve_lp`` answers crossed bounds "infeasible" before this)."""
        m, n = self.A.shape
        for name, rows in {"c": n, "lc": m, "uc": m, "lx": n, "ux": n}.items():
            t = getattr(self, name)
            if t.dim() != 2 or t.shape[0] != rows:
                raise ValueError(f"LPTensors.{name} has shape {tuple(t.shape)}, expected ({rows}, 1 or B)")
            if torch.isnan(t).any():
                raise ValueError(f"LPTensors.{name} contains NaN")
        if not torch.isfinite(self.c).all() or not torch.isfinite(self.c0).all():
            raise ValueError("LPTensors.c / c0 must be finite")
        if not torch.isfinite(self.A.values).all():
            raise ValueError("LPTensors.A has a non-finite entry")
        lc = torch.where(self.lc <= -INFINITE_BOUND, -math.inf, self.lc)
        uc = torch.where(self.uc >= INFINITE_BOUND, math.inf, self.uc)
        lx = torch.where(self.lx <= -INFINITE_BOUND, -math.inf, self.lx)
        ux = torch.where(self.ux >= INFINITE_BOUND, math.inf, self.ux)
        for lo, hi, what in ((lc, uc, "row"), (lx, ux, "variable")):
            if (lo == math.inf).any() or (hi == -math.inf).any():
                raise ValueError(f"LPTensors: a {what} lower bound is +inf or an upper bound is -inf")
            if (lo > hi).any():
                raise ValueError(f"LPTensors: a {what} lower bound exceeds its upper bound (bounds inverted)")
        self.batch_size  # noqa: B018 - raises on disagreeing widths
        return LPTensors(self.A, self.c, lc, uc, lx, ux, self.c0.reshape(-1))


@dataclass(frozen=True)
class Scaling:
    """What depends on A alone: Ã = D_row A D_col (Ruiz, then Pock–Chambolle) and the step
    0.998/‖Ã‖₂; made once for the problems that share A (a solve and its polishing)."""

    A: SparseMatrixOperator
    d_row: torch.Tensor
    d_col: torch.Tensor
    eta: torch.Tensor            # (1,) or one per scenario's matrix values

    @classmethod
    def of(cls, A: SparseMatrixOperator, ruiz_iters: int, pc_alpha) -> "Scaling":
        A, d_row, d_col = precondition(A, ruiz_iters, pc_alpha)
        sv = A.singular_values()
        eta = torch.where(sv > 0, 0.998 / sv.clamp_min(torch.finfo(A.dtype).tiny), torch.ones_like(sv))
        return cls(A, d_row, d_col, eta)


@dataclass
class ScaledLP:
    """The preconditioned data of B scenarios (or of the columns gathered from them):
    Ã = D_row A D_col, c̃ = D_col c, bounds divided accordingly; each (rows, 1|W)."""

    c: torch.Tensor
    lc: torch.Tensor
    uc: torch.Tensor
    lx: torch.Tensor
    ux: torch.Tensor
    lxz: torch.Tensor            # bounds with 0 where infinite: dual objective terms
    uxz: torch.Tensor
    lcz: torch.Tensor
    ucz: torch.Tensor
    lx_fin: torch.Tensor
    ux_fin: torch.Tensor
    lc_fin: torch.Tensor
    uc_fin: torch.Tensor
    g_lo: torch.Tensor           # reduced costs that finite variable bounds absorb: clamp(g, g_lo, g_hi)
    g_hi: torch.Tensor
    c0: torch.Tensor             # (1, B)
    cx_origin: torch.Tensor      # (1, B) c·origin, the primal objective the iterates do not hold (origin.py)
    d_row: torch.Tensor
    d_col: torch.Tensor
    lx_orig: torch.Tensor        # unscaled variable bounds (results are clipped to them)
    ux_orig: torch.Tensor
    bnorm: torch.Tensor          # (1, B) ‖b‖, ‖c‖ of the relative criteria, original units
    cnorm: torch.Tensor
    omega0: torch.Tensor         # (1, B) initial primal weight θ_b/θ_c
    eta: torch.Tensor            # (1, B) step 0.998/‖Ã‖₂

    @classmethod
    def build(cls, lp: LPTensors, scaling: "Scaling", norms=None, weight_norms=None
              ) -> tuple["ScaledLP", SparseMatrixOperator]:
        """``norms``, ``weight_norms``: (‖b‖, ‖c‖), (B,) each, for the relative measures and for the
        initial primal weight where they are not ``lp``'s own (``solve``)."""
        A, d_row, d_col, eta = scaling.A, scaling.d_row, scaling.d_col, scaling.eta
        B, fdt = lp.batch_size, dict(dtype=A.dtype, device=A.device)
        zero = torch.zeros((), **fdt)
        c, lc, uc, lx, ux = d_col * lp.c, d_row * lp.lc, d_row * lp.uc, lp.lx / d_col, lp.ux / d_col
        fin = {k: torch.isfinite(v) for k, v in (("lx", lx), ("ux", ux), ("lc", lc), ("uc", uc))}
        row = lambda t: t.reshape(1, -1).expand(1, B).clone()  # noqa: E731
        theta_b, theta_c = bound_objective_weights(lp.c, lp.lc, lp.uc)
        tb, tc = bound_objective_weights(c, lc, uc)
        omega0 = (tb / tc).reshape(1, -1).expand(1, B)
        own_b, own_c = 1.0 / theta_b - 1.0, 1.0 / theta_c - 1.0
        bnorm, cnorm = (own_b, own_c) if norms is None else norms
        if weight_norms is not None:    # ω₀ ∝ (1 + ‖c‖)/(1 + ‖b‖): lp's own norms swapped for those given
            wb, wc = weight_norms
            omega0 = omega0 * (((1 + own_b) / (1 + wb)) * ((1 + wc) / (1 + own_c))).reshape(1, -1)
        data = cls(c=c, lc=lc, uc=uc, lx=lx, ux=ux,
                   lxz=torch.where(fin["lx"], lx, zero), uxz=torch.where(fin["ux"], ux, zero),
                   lcz=torch.where(fin["lc"], lc, zero), ucz=torch.where(fin["uc"], uc, zero),
                   lx_fin=fin["lx"], ux_fin=fin["ux"], lc_fin=fin["lc"], uc_fin=fin["uc"],
                   g_lo=torch.where(fin["ux"], -math.inf, zero), g_hi=torch.where(fin["lx"], math.inf, zero),
                   c0=row(lp.c0.to(dtype=A.dtype, device=A.device)), cx_origin=torch.zeros(1, B, **fdt),
                   d_row=d_row, d_col=d_col,
                   lx_orig=lp.lx, ux_orig=lp.ux, bnorm=row(bnorm), cnorm=row(cnorm),
                   omega0=omega0.clone(), eta=row(eta))
        return data, A

    def columns(self, ids: torch.Tensor, B: int) -> "ScaledLP":
        """The data of scenarios ``ids`` (shared (rows, 1) data as they are)."""
        return ScaledLP(**{f.name: gather(getattr(self, f.name), ids, B) for f in fields(self)})

    def write_columns(self, at: torch.Tensor, src: "ScaledLP", ids: torch.Tensor) -> None:
        """Columns ``at`` of these (gathered) data from scenarios ``ids`` of ``src``."""
        for f in fields(self):
            t = getattr(src, f.name)
            if t.shape[-1] != 1:
                getattr(self, f.name)[..., at] = t.index_select(t.dim() - 1, ids)


def gather(t: torch.Tensor, ids: torch.Tensor, B: int) -> torch.Tensor:
    """Columns ``ids`` of a (rows, 1|B) tensor; shared data, and all B in order, as they are."""
    if t.shape[-1] == 1 or ids.numel() == B:
        return t
    return t.index_select(t.dim() - 1, ids).contiguous()
