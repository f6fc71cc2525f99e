"""The iterates and per-scenario method state of the columns in the iteration.

Every field is (rows, W) or (1, W) with W the columns iterating now; per-scenario fields
are kept, dropped or overwritten column by column as scenarios enter and leave, scratch is
reallocated when W changes.  ``plain=True`` marks what a plain iteration reads or writes in
place (a CUDA graph keeps those at fixed addresses)."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Optional

import torch

from .data import ScaledLP
from .options import WARM_WEIGHT_RESTARTS

COLUMN = {"kind": "column"}
COLUMN_PLAIN = {"kind": "column", "plain": True}
SCRATCH_N = {"kind": "scratch", "rows": "n", "plain": True}
SCRATCH_M = {"kind": "scratch", "rows": "m", "plain": True}


@dataclass
class Iterates:
    X: torch.Tensor = field(metadata=COLUMN_PLAIN)             # Halpern iterate (x, y)
    Y: torch.Tensor = field(metadata=COLUMN_PLAIN)
    X0: torch.Tensor = field(metadata=COLUMN_PLAIN)            # Halpern anchor: the last restart point
    XOFF: torch.Tensor = field(metadata=COLUMN)                # origin X, X0, XH are measured from (origin.py)
    Y0: torch.Tensor = field(metadata=COLUMN_PLAIN)
    k: torch.Tensor = field(metadata=COLUMN_PLAIN)             # iterations since the last restart
    eta: torch.Tensor = field(metadata=COLUMN)                 # step
    omega: torch.Tensor = field(metadata=COLUMN)               # primal weight
    omega_point: torch.Tensor = field(metadata=COLUMN)         # the ω that produced the checked point
    omega_best: torch.Tensor = field(metadata=COLUMN)          # ω at the best primal/dual balance so far
    best_balance: torch.Tensor = field(metadata=COLUMN)
    pid_int: torch.Tensor = field(metadata=COLUMN)             # PID integral
    kept: torch.Tensor = field(metadata=COLUMN)                # restarts left that keep a warm start's ω
    fpe0: torch.Tensor = field(metadata=COLUMN)                # fixed-point error after the last restart
    fpe_prev: torch.Tensor = field(metadata=COLUMN)            # ... at the last check
    need_baseline: torch.Tensor = field(metadata=COLUMN)       # restarted at the last check
    pinf_count: torch.Tensor = field(metadata=COLUMN)          # consecutive certifying checks
    dinf_count: torch.Tensor = field(metadata=COLUMN)
    best_score: torch.Tensor = field(metadata=COLUMN)          # best checked point (for limit statuses)
    best_metrics: torch.Tensor = field(metadata=COLUMN)
    XBEST: torch.Tensor = field(metadata=COLUMN)
    YBEST: torch.Tensor = field(metadata=COLUMN)
    born: torch.Tensor = field(metadata=COLUMN)                # iteration the scenario entered at
    polish_at: torch.Tensor = field(metadata=COLUMN)           # iterations in before the next polish (polish.py)
    XPOL: torch.Tensor = field(metadata=COLUMN)                # the polished x' and y' that passed their own
    YPOL: torch.Tensor = field(metadata=COLUMN)                # side's tests, the cheapest and the highest:
    pol_bounds: torch.Tensor = field(metadata=COLUMN)          # (2, W) their objectives (+inf / -inf: none yet)
    ids: torch.Tensor = field(metadata=COLUMN)                 # scenario of each column
    tau: Optional[torch.Tensor] = None                         # steps τ = η/ω, σ = ηω and their
    sigma: Optional[torch.Tensor] = field(default=None, metadata={"plain": True})   # negatives
    ntau: Optional[torch.Tensor] = field(default=None, metadata={"plain": True})
    ninv_sigma: Optional[torch.Tensor] = field(default=None, metadata={"plain": True})
    XH: Optional[torch.Tensor] = field(default=None, metadata=SCRATCH_N)   # x̂ of the last step
    XB: Optional[torch.Tensor] = field(default=None, metadata=SCRATCH_N)   # x̄ = 2x̂ − x
    ATY: Optional[torch.Tensor] = field(default=None, metadata=SCRATCH_N)  # Aᵀy
    ATYH: Optional[torch.Tensor] = field(default=None, metadata=SCRATCH_N)  # Aᵀŷ (checks)
    YH: Optional[torch.Tensor] = field(default=None, metadata=SCRATCH_M)   # ŷ
    V: Optional[torch.Tensor] = field(default=None, metadata=SCRATCH_M)
    AXB: Optional[torch.Tensor] = field(default=None, metadata=SCRATCH_M)  # A x̄
    AXH: Optional[torch.Tensor] = field(default=None, metadata=SCRATCH_M)  # A x̂ (checks)

    @property
    def W(self) -> int:
        return self.ids.numel()

    @classmethod
    def fresh(cls, X, Y, weight, data: ScaledLP, ids: torch.Tensor, iteration: int) -> "Iterates":
        """New columns for scenarios ``ids`` (``data`` gathered for them) started at scaled
        (X, Y), with a given primal weight relative to ω₀ where finite and positive."""
        k, fdt = ids.numel(), dict(dtype=X.dtype, device=X.device)
        ok = torch.isfinite(weight) & (weight > 0)
        X = torch.maximum(torch.minimum(X, data.ux), data.lx).contiguous()
        Y = project_dual(Y, data.lc_fin, data.uc_fin).contiguous()
        omega = torch.where(ok, weight * data.omega0, data.omega0)
        row = lambda v: torch.full((1, k), v, **fdt)  # noqa: E731
        return cls(X=X, Y=Y, X0=X.clone(), Y0=Y.clone(), XOFF=torch.zeros_like(X), k=row(0.0),
                   eta=data.eta.expand(1, k).clone(),
                   omega=omega, omega_point=data.omega0.expand(1, k).clone(), omega_best=omega.clone(),
                   best_balance=row(math.inf), pid_int=row(0.0),
                   kept=torch.where(ok, float(WARM_WEIGHT_RESTARTS), 0.0).to(**fdt),
                   fpe0=row(math.inf), fpe_prev=row(math.inf),
                   need_baseline=torch.zeros(1, k, dtype=torch.bool, device=X.device),
                   pinf_count=row(0.0), dinf_count=row(0.0), best_score=row(math.inf),
                   best_metrics=torch.full((5, k), math.nan, **fdt), XBEST=X.clone(), YBEST=Y.clone(),
                   born=row(float(iteration)), polish_at=row(0.0), XPOL=X.clone(), YPOL=Y.clone(),
                   pol_bounds=torch.cat([row(math.inf), row(-math.inf)]), ids=ids)

    def point(self) -> torch.Tensor:
        """x̂ in the scaled problem's own coordinates (the iterates are relative to XOFF)."""
        return self.XH + self.XOFF

    def point0(self) -> torch.Tensor:
        """The iterate x in the same coordinates."""
        return self.X + self.XOFF

    def columns(self):
        return [f.name for f in fields(self) if f.metadata.get("kind") == "column"]

    def plain_slots(self):
        """The fields a plain iteration touches in place (for CUDA-graph replay)."""
        return [f.name for f in fields(self) if f.metadata.get("plain")]

    def append(self, new: "Iterates") -> None:
        for name in self.columns():
            setattr(self, name, torch.cat([getattr(self, name), getattr(new, name)], dim=-1))

    def replace_columns(self, at: torch.Tensor, new: "Iterates") -> None:
        """Columns ``at`` from ``new`` (a state sharing a tensor with another is cloned first)."""
        written = set()
        for name in self.columns():
            t = getattr(self, name)
            if t.data_ptr() in written:
                t = t.clone()
                setattr(self, name, t)
            written.add(t.data_ptr())
            t[..., at] = getattr(new, name)

    def keep(self, cols: torch.Tensor) -> None:
        for name in self.columns():
            t = getattr(self, name)
            setattr(self, name, t.index_select(t.dim() - 1, cols).contiguous())

    def allocate_scratch(self, m: int, n: int) -> None:
        for f in fields(self):
            if f.metadata.get("kind") == "scratch":
                rows = m if f.metadata["rows"] == "m" else n
                setattr(self, f.name, torch.empty(rows, self.W, dtype=self.X.dtype, device=self.X.device))

    def set_columns(self, name: str, mask: torch.Tensor, cols: torch.Tensor, src: torch.Tensor) -> None:
        """Columns ``cols`` (= where ``mask``) of ``name`` from ``src``: in place when few (one
        restarting scenario of 16 need not rewrite all 16), else by a where."""
        dst = getattr(self, name)
        if 4 * cols.numel() < self.W:
            dst[:, cols] = src[:, cols]
        else:
            setattr(self, name, torch.where(mask, src, dst))


def project_dual(Y, lc_fin, uc_fin):
    """Onto the dual sign cone: y <= 0 without a finite lower row bound, y >= 0 without a
    finite upper one (y = 0 on free rows)."""
    Y = torch.where(lc_fin, Y, Y.clamp(max=0.0))
    return torch.where(uc_fin, Y, Y.clamp(min=0.0))
