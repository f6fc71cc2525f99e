"""Derivatives of an LP's optimal value: the envelope theorem through the duals.

For  min c·x + c0  s.t.  lc <= A x <= uc,  lx <= x <= ux  with every piece affine in the
Parameter vector θ (``ParametricProgram``), at an optimal primal-dual pair (x, y, z) in HiGHS's
convention (c = Aᵀy + z; y >= 0 at an active lower row bound, <= 0 at an upper one):

    d obj / dθ = (dc/dθ)ᵀ x + dc0/dθ + (dlc/dθ)ᵀ y⁺ + (duc/dθ)ᵀ y⁻ + (dlx/dθ)ᵀ z⁺ + (dux/dθ)ᵀ z⁻
                 − Σ_k (dA_k/dθ) y_{row k} x_{col k}

(y⁺ = max(y, 0), y⁻ = min(y, 0)).  Where the optimum is degenerate this is one element of the
subdifferential (the one the solver's duals pick).  ``lp_objective`` wraps a solve as a torch
autograd function with the same gradients for c, lc, uc, lx, ux.
"""
from __future__ import annotations

from typing import Mapping, Optional

import numpy as np

__all__ = ["theta_gradient", "parameter_gradient", "model_sensitivity", "lp_objective", "LPObjective"]


def _pull(piece, w: np.ndarray) -> np.ndarray:
    """Mᵀ w for a ParamAffine piece (zeros when it does not depend on θ)."""
    return piece.M.T @ w if piece.M is not None else 0.0


def theta_gradient(pp, lp, x, y, z=None) -> np.ndarray:
    """d(optimal objective)/dθ for the ParametricProgram ``pp`` at its LinearProgram ``lp``."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    z = lp.c - lp.A.T @ y if z is None else np.asarray(z, dtype=float)
    grad = np.zeros(pp.num_params)
    grad = grad + _pull(pp.c, x) + _pull(pp.c0, np.ones(1))
    # rows: the right-hand side is uc (and lc on equality rows)
    grad = grad + _pull(pp.rhs, np.where(pp.is_eq, y, np.minimum(y, 0.0)))
    grad = grad + _pull(pp.lx, np.maximum(z, 0.0)) + _pull(pp.ux, np.minimum(z, 0.0))
    if pp.A_data.M is not None:
        A = pp.A
        rows = np.repeat(np.arange(A.shape[0]), np.diff(A.indptr))
        grad = grad + pp.A_data.M.T @ (-y[rows] * x[A.indices])
    return grad


def parameter_gradient(pp, lp, result, param) -> np.ndarray:
    """d(optimal objective)/d(param) shaped like the Parameter (``param``: Parameter or name)."""
    _check(result)
    param = pp._param(param)
    g = theta_gradient(pp, lp, result.x, result.y, result.z)
    off = pp.param_offsets[param.id]
    return g[off:off + param.size].reshape(param.shape) * pp.sense


def _check(result):
    if result.x is None or result.y is None or not result.ok:
        raise ValueError(f"sensitivities need an optimal primal-dual solution; the solve ended {result.status!r}")


def model_sensitivity(model, result, lp, what, inputs: Optional[Mapping] = None):
    """Sensitivity of a CapacityExpansion optimum.

    ``what``: a model input name (``sweepable()``: "co2_cap", "demand_scale", "gas_price", ...)
    gives a float, by the chain rule through the (affine) map from inputs to Parameter values;
    a Parameter or a Parameter name ("demand", "availability", ...) gives an array of its shape."""
    pp = model.pp
    names = {p.name() for p in pp.parameters}
    inputs_known = model.sweepable()
    if not isinstance(what, str) or (what in names and what not in inputs_known):
        return parameter_gradient(pp, lp, result, what)
    if what not in inputs_known:
        raise KeyError(f"unknown input or Parameter {what!r}; inputs: {', '.join(model.sweepable())}; "
                       f"Parameters: {', '.join(sorted(names))}")
    if what == "scenario":
        raise ValueError("'scenario' is categorical: it has no derivative")
    _check(result)
    base = dict(inputs or {})
    lo = model.values_for({**base, what: 0.0})
    hi = model.values_for({**base, what: 1.0})
    g = theta_gradient(pp, lp, result.x, result.y, result.z)
    total = 0.0
    for p, v1 in hi.items():
        slope = np.asarray(v1, dtype=float) - np.asarray(lo[p], dtype=float)
        if np.any(slope):
            off = pp.param_offsets[p.id]
            total += float(g[off:off + p.size] @ slope.ravel())
    return total * pp.sense


# ------------------------------------------------------------------ torch layer
def _torch():
    import torch
    return torch


class LPObjective:
    """torch.autograd.Function: optimal value of an LP (or a batch) with gradients
    x (c), y⁺ (lc), y⁻ (uc), z⁺ (lx), z⁻ (ux).  Built lazily so importing this module
    does not import torch."""

    _fn = None

    @classmethod
    def function(cls):
        if cls._fn is None:
            torch = _torch()

            class _Fn(torch.autograd.Function):
                @staticmethod
                def forward(ctx, c, lc, uc, lx, ux, A, solve):
                    from ..compile.lp import LinearProgram
                    arrays = [t.detach().cpu().double().numpy() for t in (c, lc, uc, lx, ux)]
                    lp = LinearProgram(arrays[0], A, *arrays[1:])
                    res = solve(lp)
                    results = res if isinstance(res, list) else [res]
                    for r in results:
                        _check(r)
                    X = np.stack([r.x for r in results])
                    Y = np.stack([r.y for r in results])
                    Z = np.stack([r.z if r.z is not None else lp.scenario(k).c - A.T @ r.y
                                  for k, r in enumerate(results)]) if lp.is_batch else \
                        (results[0].z if results[0].z is not None else lp.c - A.T @ results[0].y)[None]
                    obj = np.array([r.objective for r in results])
                    like = dict(dtype=c.dtype, device=c.device)
                    ctx.batched = c.dim() == 2
                    ctx.save_for_backward(*(torch.as_tensor(a, **like) for a in (X, Y, Z)))
                    out = torch.as_tensor(obj, **like)
                    return out if ctx.batched else out[0]

                @staticmethod
                def backward(ctx, g):
                    X, Y, Z = ctx.saved_tensors
                    g = g.reshape(-1, 1)
                    grads = [g * X, g * Y.clamp(min=0), g * Y.clamp(max=0), g * Z.clamp(min=0), g * Z.clamp(max=0)]
                    if not ctx.batched:
                        grads = [t[0] for t in grads]
                    return (*grads, None, None)

            cls._fn = _Fn
        return cls._fn


def lp_objective(c, lc, uc, lx, ux, A, solver: str = "highs", **options):
    """Optimal value of  min c·x  s.t.  lc <= A x <= uc, lx <= x <= ux  as a differentiable torch
    function of (c, lc, uc, lx, ux); a leading batch dimension on all five gives a batch of
    values.  A is a scipy sparse matrix (not differentiated).  Infinite bounds get zero
    gradient; infeasible or unbounded LPs raise ValueError."""
    from ..solvers import solve_lp
    torch = _torch()
    tensors = [t if isinstance(t, torch.Tensor) else torch.as_tensor(np.asarray(t, dtype=float))
               for t in (c, lc, uc, lx, ux)]

    def solve(lp):
        return solve_lp(lp, solver=solver, **options)

    return LPObjective.function().apply(*tensors, A, solve)
