"""Reconstruction as a differentiable layer: ½‖A x − b‖² + λ·TV(x) solved by PDHG
(K = ∇, exact prox of the data term), differentiable in b, λ and the step sizes.

* ``mode="unrolled"``: a fixed number of PDHG iterations with one learnable step
  τ_k per iteration (σ_k = 1/(τ_k‖∇‖²), so every iteration keeps τσ‖K‖² = 1) and a
  learnable λ; backpropagation through all iterations (memory grows with them).
* ``mode="deq"``: PDHG run to its fixed point z* = T(z*) without a graph, then one
  differentiable application of T; the backward pass solves the adjoint fixed-point
  equation g = J_Tᵀ g + ∂L/∂z* by iteration (implicit function theorem), so memory
  does not depend on the number of forward iterations (Bai et al., NeurIPS 2019).

A must have a closed-form quadratic solve (convolution, Fourier sampling, masks,
identity); see gridprox.core.quadratic.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from gridprox.core import Gradient
from gridprox.core.prox import project_group_l2_ball
from gridprox.core.quadratic import QuadraticSolver


class TVReconstruction(nn.Module):
    def __init__(self, op, lam: float, mode: str = "unrolled", iters: int = 50, tol: float = 1e-7,
                 max_iter: int = 5000, backward_iters: int = 5000, backward_tol: float = 1e-6,
                 complex_: bool = False):
        super().__init__()
        if mode not in ("unrolled", "deq"):
            raise ValueError(f"mode must be 'unrolled' or 'deq', got {mode!r}")
        self.op, self.mode, self.iters, self.tol = op, mode, iters, tol
        self.max_iter, self.backward_iters, self.backward_tol = max_iter, backward_iters, backward_tol
        self.grad = Gradient(op.in_shape)
        self.knorm = self.grad.norm_bound()
        self.solver = QuadraticSolver([(op, 1.0)], shape=op.in_shape, real=not complex_)
        if not self.solver.closed_form:
            raise ValueError(f"TVReconstruction: {op!r} has no closed-form quadratic solve")
        self.log_lam = nn.Parameter(torch.tensor(math.log(lam), dtype=torch.float64))
        n_steps = iters if mode == "unrolled" else 1
        self.log_tau = nn.Parameter(torch.zeros(n_steps, dtype=torch.float64))
        self.forward_iterations = 0
        self.backward_iterations = 0

    def _step(self, x, y, atb, lam, tau):
        """One PDHG iteration (x first, then the dual with extrapolation)."""
        tau = tau / self.knorm
        sigma = 1.0 / (tau * self.knorm ** 2)
        v = x - tau * self.grad.adjoint(y)
        x_new = self.solver.solve(atb + v / tau, c=1.0 / tau)
        y_new = project_group_l2_ball(y + sigma * self.grad.forward(2 * x_new - x), lam, dim=-3)
        return x_new, y_new

    def forward(self, b: torch.Tensor) -> torch.Tensor:
        atb = self.op.adjoint(b)
        x = atb if atb.is_complex() == (not self.solver.real) else atb.real
        y = torch.zeros_like(self.grad.forward(x))
        lam = self.log_lam.exp()
        if self.mode == "unrolled":
            for k in range(self.iters):
                x, y = self._step(x, y, atb, lam, self.log_tau[k].exp())
            return x
        return self._deq(x.detach(), y, atb, lam, self.log_tau[0].exp())

    def _deq(self, x, y, atb, lam, tau):
        nx = x[0].numel() if x.dim() > len(self.op.in_shape) else x.numel()
        bshape = x.shape[: x.dim() - len(self.op.in_shape)]

        def pack(a, c):
            return torch.cat([a.reshape(*bshape, -1), c.reshape(*bshape, -1)], dim=-1)

        def T(z, atb_, lam_, tau_):
            xa = z[..., :nx].reshape(x.shape)
            ya = z[..., nx:].reshape(y.shape)
            return pack(*self._step(xa, ya, atb_, lam_, tau_))

        with torch.no_grad():
            z = pack(x, y)
            for k in range(self.max_iter):
                z_new = T(z, atb, lam, tau)
                done = float((z_new - z).norm()) <= self.tol * max(float(z_new.norm()), 1e-30)
                z = z_new
                if done:
                    break
            self.forward_iterations = k + 1
        z_star = T(z.detach(), atb, lam, tau)   # one differentiable step, attached to b, λ, τ
        if z_star.requires_grad:
            z0 = z_star.detach().requires_grad_()
            f0 = T(z0, atb.detach(), lam.detach(), tau.detach())
            layer = self

            def hook(g_out):
                g = g_out
                for it in range(layer.backward_iters):
                    g_new = torch.autograd.grad(f0, z0, g, retain_graph=True)[0] + g_out
                    if float((g_new - g).norm()) <= layer.backward_tol * max(float(g_new.norm()), 1e-30):
                        g = g_new
                        break
                    g = g_new
                layer.backward_iterations = it + 1
                return g

            z_star.register_hook(hook)
        return z_star[..., :nx].reshape(x.shape)
