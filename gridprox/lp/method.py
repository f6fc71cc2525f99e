"""The method: a PDHG step, the reflected Halpern update, and restarts with a PID primal
weight (cuPDLPx's r²HPDHG; formulas in shared/notes/pdhg-lp.md).  Everything is batched:
(rows, W) iterates and (1, W) per-scenario scalars."""
from __future__ import annotations

import math

import torch

from ..core.sparse import SparseMatrixOperator
from .data import ScaledLP
from .measures import CheckSums, fixed_point_error
from .options import (PID_GAINS, RESTART_ARTIFICIAL, RESTART_NECESSARY, RESTART_SUFFICIENT,
                      WARM_WEIGHT_BAND)
from .state import Iterates


def set_steps(s: Iterates) -> None:
    """τ = η/ω, σ = ηω, and the negatives the step multiplies by."""
    s.tau = s.eta / s.omega
    s.sigma = s.eta * s.omega
    s.ntau, s.ninv_sigma = -s.tau, -1.0 / s.sigma


def step(s: Iterates, d: ScaledLP, A: SparseMatrixOperator) -> None:
    """x̂ = proj_X(x − τ(c − Aᵀy)) → XH, x̄ = 2x̂ − x → XB, A x̄ → AXB,
    ŷ = σ(proj_C(v) − v) with v = A x̄ − y/σ → YH."""
    A.rmatmat(s.Y, out=s.ATY)
    torch.sub(d.c, s.ATY, out=s.XH)
    torch.addcmul(s.X, s.XH, s.ntau, out=s.XH)
    clip(s.XH, d.lx, d.ux, out=s.XH)
    torch.lerp(s.X, s.XH, 2.0, out=s.XB)
    A.matmat(s.XB, out=s.AXB)
    torch.addcmul(s.AXB, s.Y, s.ninv_sigma, out=s.V)
    clip(s.V, d.lc, d.uc, out=s.YH)
    s.YH.sub_(s.V).mul_(s.sigma)


def advance(s: Iterates) -> None:
    """Halpern with full reflection: z ← z0 + w(2ẑ − z − z0), w = (k+1)/(k+2)."""
    w = (s.k + 1) / (s.k + 2)
    torch.lerp(s.Y, s.YH, 2.0, out=s.V)
    torch.lerp(s.X0, s.XB, w, out=s.X)
    torch.lerp(s.Y0, s.V, w, out=s.Y)
    s.k += 1


def clip(src, lo, hi, out):
    """clamp(src, lo, hi) into ``out``: one pass where the bounds have the operand's shape,
    a minimum and a maximum where they broadcast (torch's clamp is slower there)."""
    if lo.shape == src.shape and hi.shape == src.shape:
        return torch.clamp(src, lo, hi, out=out)
    torch.minimum(src, hi, out=out)
    return torch.maximum(out, lo, out=out)


def restart_due(s: Iterates, sums: CheckSums, age: torch.Tensor, check_every: int) -> torch.Tensor:
    """(1, W) mask of the columns to restart at this check: at the first check, when the
    fixed-point error fell enough (or fell some and rose since), or when the epoch is long."""
    fpe = fixed_point_error(sums, s)
    restart = ((age <= check_every) | (fpe <= RESTART_SUFFICIENT * s.fpe0)
               | ((fpe <= RESTART_NECESSARY * s.fpe0) & (fpe > s.fpe_prev))
               | (s.k >= RESTART_ARTIFICIAL * age))
    s.fpe_prev = torch.where(restart, torch.full_like(fpe, math.inf), fpe)
    return restart


def primal_weight(s: Iterates, restart: torch.Tensor, sums: CheckSums, metrics: torch.Tensor) -> torch.Tensor:
    """The PID update of log ω towards log(Δy/Δx) at restarting columns; a warm start's ω is
    kept for its first restarts unless the update moves it far."""
    dx, dy = sums.dx0.sqrt(), sums.dy0.sqrt()
    rel_p, rel_d = metrics[0:1], metrics[1:2]
    ratio = rel_d / rel_p.clamp_min(torch.finfo(rel_p.dtype).tiny)
    ok = (dx > 1e-16) & (dy > 1e-16) & (dx < 1e12) & (dy < 1e12) & (ratio > 1e-8) & (ratio < 1e8)
    err = torch.log(dy.clamp_min(1e-300)) - torch.log(dx.clamp_min(1e-300)) - torch.log(s.omega)
    kp, ki, smooth = PID_GAINS
    integral = smooth * s.pid_int + err
    new = torch.where(ok, s.omega * torch.exp(kp * err + ki * integral), s.omega_best)
    s.pid_int = torch.where(restart, torch.where(ok, integral, 0.0), s.pid_int)
    balance = torch.log10(ratio.clamp_min(1e-300)).abs()
    improved = restart & (balance < s.best_balance)
    s.best_balance = torch.where(improved, balance, s.best_balance)
    s.omega_best = torch.where(improved, s.omega, s.omega_best)
    keep = restart & (s.kept > 0) & ((new / s.omega).log().abs() < WARM_WEIGHT_BAND)
    s.pid_int = torch.where(keep, 0.0, s.pid_int)
    s.kept = torch.where(restart, (s.kept - 1).clamp(min=0), s.kept)
    return torch.where(keep, s.omega, new)


def restart(s: Iterates, mask: torch.Tensor, sums: CheckSums, metrics: torch.Tensor) -> None:
    """Restart the masked columns at the checked point (x̂, ŷ) with a new primal weight."""
    s.need_baseline = mask.clone()
    if not bool(mask.any()):
        return
    s.omega = torch.where(mask, primal_weight(s, mask, sums, metrics), s.omega)
    cols = torch.nonzero(mask[0]).flatten()
    for name, src in (("X", s.XH), ("Y", s.YH), ("X0", s.XH), ("Y0", s.YH)):
        s.set_columns(name, mask, cols, src)
    s.k = torch.where(mask, torch.zeros_like(s.k), s.k)
    set_steps(s)
