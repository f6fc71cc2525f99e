"""Generic proximal splitting over LinearOperators and prox maps: PDHG, ADMM,
linearised ADMM and half-quadratic splitting, batched on leading dims.

All four solve   min_x  f(x) + Σ_j g_j(K_j x)
where f is reached through its prox (PDHG, LADMM) or through an exact/CG
minimisation of f plus a quadratic in K_j x (ADMM, HQS), and each g_j through its
prox (or its conjugate's prox).  The first ``batch_ndim`` dims of x index
independent problems: residuals are measured per problem and each problem is
reported converged at its own first passing check.

Stopping tests (relative, as in OSQP/Boyd et al.):  a KKT residual r ∈ ∂F(x⁺)
computed from the iterates, compared against the size of the terms it cancels:
‖r‖ ≤ tol · max(‖first‖, ‖second‖) (+ atol).

On the CPU the thread count is tuned while the loop runs (``threads.py``), starting
where the previous solve of the process ended, else at torch's count (512² TV
deconvolution: 35.7 s at one thread, 18.2 s at two on the quiet 2-core machine);
torch's count is restored on return.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from .operators import LinearOperator
from .threads import ThreadTuner, start_threads


@dataclass
class ProxTerm:
    """g(K x): ``prox(v, t)`` = prox_{t g}(v); ``prox_conj(v, t)`` = prox_{t g*}(v)
    (Moreau's identity is used when it is None).  ``dual_step(y, x⁺, x, θ, σ, ρ)``,
    optional, is PDHG's whole dual step for this term fused (x̄, ỹ = prox_{σg*}(y + σKx̄),
    y ← y + ρ(ỹ − y) in place, returns Kᵀy; e.g. ``finite_diff.tv_dual_step``): used on the
    iterations that do not check, which need neither ỹ nor K x̄."""
    op: LinearOperator
    prox: Callable
    prox_conj: Callable | None = None
    dual_step: Callable | None = None

    def conj(self, v, t):
        if self.prox_conj is not None:
            return self.prox_conj(v, t)
        return v - t * self.prox(v / t, 1.0 / t)


@dataclass
class SplitResult:
    x: torch.Tensor
    iterations: torch.Tensor          # per problem: iterations at convergence (or the last)
    converged: torch.Tensor           # per problem
    primal_residual: torch.Tensor     # per problem, relative, at the returned x
    dual_residual: torch.Tensor
    method: str = ""
    history: list = field(default_factory=list)   # (iteration, max primal, max dual) per check
    extra: dict = field(default_factory=dict)      # final state: steps, penalties, duals

    @property
    def status(self) -> str:
        return "optimal" if bool(self.converged.all()) else "iteration_limit"


# --- helpers ----------------------------------------------------------------------

def batch_norms(parts: Sequence, bdims: int) -> torch.Tensor:
    """√(Σ ‖part‖²) per problem (summing over every dim after the first ``bdims``)."""
    total = None
    for p in parts:
        if not isinstance(p, torch.Tensor):
            continue
        s = torch.linalg.vector_norm(p.reshape(*p.shape[:bdims], -1), dim=-1) ** 2   # no |p|² temporary
        total = s if total is None else total + s
    return torch.sqrt(total)


def adjoint_sum(terms, ys):
    """Σ_j K_jᵀ y_j over the terms' operators."""
    out = terms[0].op.adjoint(ys[0])
    for t, y in zip(terms[1:], ys[1:]):
        out = out + t.op.adjoint(y)
    return out


class Monitor:
    """Per-problem convergence bookkeeping shared by the four algorithms (and by loops
    written outside core, such as imaging's plug-and-play HQS): ``due(k)`` says whether
    iteration k checks, ``rel`` measures a relative residual, ``check`` records one and
    says when every problem has passed, ``result`` gives the SplitResult."""

    def __init__(self, x, bdims, tol, atol, max_iter, check_every, callback, method):
        self.bdims, self.tol, self.atol = bdims, tol, atol
        self.max_iter, self.check_every, self.callback = max_iter, max(1, check_every), callback
        bshape = x.shape[:bdims]
        self.best = x.detach().clone()
        self.done = torch.zeros(bshape, dtype=torch.bool, device=x.device)
        self.iters = torch.full(bshape, max_iter, dtype=torch.long, device=x.device)
        self.pres = torch.full(bshape, math.inf, dtype=torch.float64, device=x.device)
        self.dres = torch.full(bshape, math.inf, dtype=torch.float64, device=x.device)
        self.history: list = []
        self.method = method
        self.tuner, self.was_due = None, True       # the first timing includes the setup
        if x.device.type == "cpu" and torch.get_num_threads() > 1:
            most = torch.get_num_threads()
            self.tuner = ThreadTuner(most, start=start_threads(most))

    # iterations (counted from 1) that check besides every ``check_every``-th: the residual
    # balancing of the steps starts from the first one, not after check_every iterations of a
    # badly scaled τ/σ (RESULTS, "Early checks")
    EARLY = (1, 2, 4, 8)

    def _checks(self, n: int) -> bool:
        return n % self.check_every == 0 or n == self.max_iter or n in self.EARLY

    def due(self, k: int, tick: bool = True) -> bool:
        """Whether iteration k checks; called once per iteration (``tick``), so it also times them."""
        due = self._checks(k + 1)
        if not tick:
            return due
        if self.tuner is not None:
            self.tuner.tick(not self.was_due, 1)
        self.was_due = due
        return due

    def plain_block(self, k: int) -> int:
        """How many iterations from k on come before the next check (0 when k checks); they
        are to run as one block, timed from here."""
        nxt = min([(k // self.check_every + 1) * self.check_every, self.max_iter]
                  + [n for n in self.EARLY if n > k])
        block = nxt - 1 - k
        if block and self.tuner is not None:
            self.tuner.restart_clock()
        return block

    def block_done(self, count: int):
        """``count`` plain iterations ran as one block (``plain_block``); the next tick, the
        check's first part alone, is not timed as an iteration."""
        if self.tuner is not None:
            self.tuner.tick(True, 1, count)
        self.was_due = True

    def rel(self, res, scales):
        """(relative residual, pass flag) per problem."""
        num = batch_norms(res, self.bdims)
        den = torch.stack([batch_norms(s if isinstance(s, (list, tuple)) else [s], self.bdims)
                           for s in scales]).amax(0)
        return self.judge(num, den)

    def judge(self, num, den):
        """(relative residual, pass flag) per problem from the norms of a residual and of its scale."""
        ok = num <= self.tol * den + self.atol
        return (num / den.clamp_min(torch.finfo(num.dtype).tiny)).to(torch.float64), ok

    def check(self, k, x, p, d) -> bool:
        """Record residuals (p, d) = ((rel, ok), (rel, ok)); True when every problem passed."""
        (prel, pok), (drel, dok) = p, d
        new = (pok & dok) & ~self.done
        if self.bdims == 0:
            if bool(new):
                self.best = x.detach().clone()
        elif bool(new.any()):
            self.best[new] = x.detach()[new]
        live = ~self.done
        self.pres = torch.where(live, prel, self.pres)
        self.dres = torch.where(live, drel, self.dres)
        self.iters = torch.where(new, torch.full_like(self.iters, k + 1), self.iters)
        self.done = self.done | new
        self.history.append((k + 1, float(prel.max()), float(drel.max())))
        if self.callback is not None:
            self.callback(k + 1, x, float(prel.max()), float(drel.max()))
        return bool(self.done.all())

    def result(self, x, extra) -> SplitResult:
        if self.tuner is not None:       # torch's count is restored by @_restores_threads
            self.tuner.close()
        live = ~self.done
        if self.bdims == 0:
            out = self.best if bool(self.done) else x
        else:
            out = torch.where(live.reshape(*live.shape, *([1] * (x.dim() - self.bdims))), x, self.best)
        if x.requires_grad:  # differentiable callers want the live graph, not a detached copy
            out = x
        return SplitResult(out, self.iters, self.done.clone(), self.pres, self.dres,
                           self.method, self.history, extra)


def _restores_threads(solver):
    """torch's thread count as it was, however the solver exits (the tuner changes it)."""
    @functools.wraps(solver)
    def run(*args, **kwargs):
        before = torch.get_num_threads()
        try:
            return solver(*args, **kwargs)
        finally:
            torch.set_num_threads(before)
    return run


# --- PDHG -------------------------------------------------------------------------

@_restores_threads
def pdhg(prox_f: Callable, terms: Sequence[ProxTerm], x0: torch.Tensor, tau: float, sigma: float,
         max_iter: int = 1000, tol: float = 1e-5, atol: float = 0.0, batch_ndim: int = 0,
         strong_convexity: float = 0.0, adaptive: bool = True, check_every: int = 10,
         y0: Sequence[torch.Tensor] | None = None, callback=None, relax: float = 1.0,
         plain_iterations: Callable | None = None) -> SplitResult:
    """Chambolle–Pock for min f(x) + Σ g_j(K_j x): needs τσ‖K‖² ≤ 1 (‖K‖ of the stack).

    x̃ = prox_{τf}(x − τKᵀy);  x̄ = x̃ + θ(x̃ − x);  ỹ = prox_{σg*}(y + σKx̄).
    ``relax`` ρ ∈ (0, 2) then steps x⁺ = x + ρ(x̃ − x), y⁺ = y + ρ(ỹ − y) (Condat 2013;
    ρ = 1 is plain CP); residuals and the returned iterate are x̃, ỹ's.
    ``strong_convexity`` μ > 0 switches on the accelerated rule (CP 2011, Alg. 2:
    θ = 1/√(1+2μτ), τ ← θτ, σ ← σ/θ), O(1/k²), without relaxation.  ``adaptive``
    balances the primal and dual residuals by rescaling τ/σ at checks (τσ fixed;
    Goldstein et al. 2015), with the adaptation damped geometrically so that it dies out.
    ``plain_iterations(x, y, Kᵀy, τ, σ, θ, ρ, n)``, optional, runs the n iterations up to the
    next check at once, in place (a compiled kernel, e.g. ``tv_kernel.TVIterations``), or
    returns False to leave them to the loop below; its ``check(x, y, Kᵀy, τ, σ, θ)``, where
    it has one, is a check's step: (x̃, ỹ, Kᵀỹ, the squared norms of the residual test per
    image), or None to leave it to the loop.
    """
    if not 0.0 < relax < 2.0:
        raise ValueError(f"pdhg: relax must lie in (0, 2), got {relax}")
    if strong_convexity > 0:
        relax = 1.0
    terms = list(terms)
    x = x0
    y = [torch.zeros_like(t.op.forward(x)) for t in terms] if y0 is None else list(y0)
    KTy = adjoint_sum(terms, y)
    mon = Monitor(x, batch_ndim, tol, atol, max_iter, check_every, callback, "pdhg")
    alpha, theta = 0.5, 1.0
    # the terms' fused dual steps update y in place: y must be ours, not the caller's y0
    fused = strong_convexity == 0 and all(t.dual_step is not None for t in terms)
    if fused and y0 is not None:
        y = [yj.clone() for yj in y]
    if plain_iterations is not None and strong_convexity == 0:
        x, y = x.clone(), [yj.clone() for yj in y]       # advanced in place: not the caller's
    else:
        plain_iterations = None
    k = -1
    while k + 1 < max_iter:
        k += 1
        block = mon.plain_block(k) if plain_iterations is not None else 0
        if block and plain_iterations(x, y, KTy, tau, sigma, theta, relax, block):
            mon.block_done(block)
            k += block - 1
            continue
        checked = None
        if plain_iterations is not None and not block and getattr(plain_iterations, "check", None) is not None:
            checked = plain_iterations.check(x, y, KTy, tau, sigma, theta)
        if checked is not None:
            x_new, y_new, KTy_new, sums = checked
        else:
            x_new = prox_f(torch.add(x, KTy, alpha=-tau), tau)
            tau_used = tau
            if strong_convexity > 0:
                theta = 1.0 / math.sqrt(1.0 + 2.0 * strong_convexity * tau)
                tau, sigma = theta * tau, sigma / theta
            if fused and not x_new.requires_grad and not mon.due(k, tick=False):
                mon.due(k)
                kty = [t.dual_step(yj, x_new, x, theta, sigma, relax) for t, yj in zip(terms, y)]
                KTy = kty[0] if len(kty) == 1 else sum(kty)
                x = torch.lerp(x, x_new, relax) if relax != 1.0 else x_new
                continue
            # K x̄ with x̄ = x⁺ + θ(x⁺ − x): one operator application per term, none of K x⁺
            Kxbar = [t.op.forward(torch.lerp(x_new, x, -theta)) for t in terms]
            y_new = [t.conj(torch.add(yj, kb, alpha=sigma), sigma) for t, yj, kb in zip(terms, y, Kxbar)]
            KTy_new = adjoint_sum(terms, y_new)
        if mon.due(k):
            if checked is not None:
                p, d = _kernel_residuals(mon, sums, x.shape[:batch_ndim])
            else:
                p, d = _residuals(mon, terms, x, x_new, y, y_new, KTy, KTy_new, Kxbar, tau_used, sigma)
            stop = mon.check(k, x_new, p, d)
            if adaptive and strong_convexity == 0 and not stop:
                tau, sigma, alpha = _balanced(tau, sigma, alpha, p, d)
        else:
            stop = False
        if stop or k + 1 == max_iter:
            x, y = x_new, y_new
            break
        if relax != 1.0:   # Kᵀ is linear: Kᵀy⁺ by the same step, no adjoint
            x = torch.lerp(x, x_new, relax)
            y = [torch.lerp(yo, yn, relax) for yo, yn in zip(y, y_new)]
            KTy = torch.lerp(KTy, KTy_new, relax)
        else:
            x, y, KTy = x_new, y_new, KTy_new
    return mon.result(x, {"tau": tau, "sigma": sigma, "y": y})


def _residuals(mon: Monitor, terms, x, x_new, y, y_new, KTy, KTy_new, Kxbar, tau: float, sigma: float):
    """PDHG's relative primal and dual residuals at (x⁺, y⁺), from the step's own vectors."""
    xi = torch.sub(x, x_new).div_(tau).sub_(KTy)               # ∈ ∂f(x⁺)
    p = mon.rel([xi + KTy_new], [xi, KTy_new])
    Kx_new = [t.op.forward(x_new) for t in terms]
    zeta = [torch.sub(yo, yn).div_(sigma).add_(kb) for yo, yn, kb in zip(y, y_new, Kxbar)]   # ∈ ∂g*(y⁺)
    d = mon.rel([z - kn for z, kn in zip(zeta, Kx_new)], [zeta, Kx_new])
    return p, d


def _kernel_residuals(mon: Monitor, sums, batch_shape):
    """The same residuals from a kernel check's per-image sums of squares (6 per image: primal
    residual and its two scales, dual likewise), added per problem before the square root."""
    s = sums.reshape(*batch_shape, -1, 6).sum(-2).sqrt()
    return (mon.judge(s[..., 0], torch.maximum(s[..., 1], s[..., 2])),
            mon.judge(s[..., 3], torch.maximum(s[..., 4], s[..., 5])))


def _balanced(tau: float, sigma: float, alpha: float, p, d):
    """Residual balancing (Goldstein et al. 2015): τ/σ rescaled, τσ fixed, when one residual is
    twice the other; the step ``alpha`` shrinks each time, so the adaptation dies out."""
    ratio = float((p[0] / d[0].clamp_min(1e-300)).max())
    if ratio > 2.0:        # primal lags: larger primal steps
        return tau / (1 - alpha), sigma * (1 - alpha), alpha * 0.95
    if ratio < 0.5:
        return tau * (1 - alpha), sigma / (1 - alpha), alpha * 0.95
    return tau, sigma, alpha


# --- ADMM and linearised ADMM -----------------------------------------------------------

@_restores_threads
def admm(x_update: Callable, terms: Sequence[ProxTerm], x0: torch.Tensor, rho: float,
         max_iter: int = 1000, tol: float = 1e-5, atol: float = 0.0, batch_ndim: int = 0,
         adaptive: bool = True, check_every: int = 10, callback=None) -> SplitResult:
    """ADMM (scaled form) on  min f(x) + Σ g_j(z_j)  s.t.  K_j x = z_j.

    ``x_update(vs, rho, x_prev)`` returns argmin_x f(x) + ρ/2 Σ‖K_j x − v_j‖².
    Converges for any ρ > 0; ``adaptive`` applies residual balancing (Boyd et al.
    §3.4.1, ×2 when one residual exceeds 10× the other), only during the first half of
    the iterations so that ρ is eventually fixed.
    """
    terms = list(terms)
    x = x0
    z = [t.op.forward(x) for t in terms]
    u = [torch.zeros_like(zj) for zj in z]
    mon = Monitor(x, batch_ndim, tol, atol, max_iter, check_every, callback, "admm")
    for k in range(max_iter):
        x = x_update([zj - uj for zj, uj in zip(z, u)], rho, x)
        Kx = [t.op.forward(x) for t in terms]
        z_new = [t.prox(kx + uj, 1.0 / rho) for t, kx, uj in zip(terms, Kx, u)]
        u = [uj + kx - zn for uj, kx, zn in zip(u, Kx, z_new)]
        stop = False
        if mon.due(k):
            p = mon.rel([kx - zn for kx, zn in zip(Kx, z_new)], [Kx, z_new])
            s = rho * adjoint_sum(terms, [zn - zo for zn, zo in zip(z_new, z)])
            d = mon.rel([s], [rho * adjoint_sum(terms, u)])
            stop = mon.check(k, x, p, d)
            if adaptive and not stop and k < max_iter // 2:
                ratio = float((p[0] / d[0].clamp_min(1e-300)).max())
                if ratio > 10.0 or ratio < 0.1:
                    f = 2.0 if ratio > 10.0 else 0.5
                    rho *= f
                    u = [uj / f for uj in u]
        z = z_new
        if stop:
            break
    return mon.result(x, {"rho": rho, "y": [rho * uj for uj in u]})


@_restores_threads
def ladmm(prox_f: Callable, terms: Sequence[ProxTerm], x0: torch.Tensor, mu: float, lam: float,
          max_iter: int = 1000, tol: float = 1e-5, atol: float = 0.0, batch_ndim: int = 0,
          adaptive: bool = True, check_every: int = 10, callback=None) -> SplitResult:
    """Linearised ADMM (Parikh & Boyd 2014, §4.4.2): converges for 0 < μ ≤ λ/‖K‖².

    x⁺ = prox_{μf}(x − (μ/λ)Kᵀ(Kx − z + u));  z⁺ = prox_{λg}(Kx⁺ + u);  u⁺ = u + Kx⁺ − z⁺.
    It is PDHG with τ = μ, σ = 1/λ (Esser, Zhang & Chan 2010), so ``adaptive`` balances
    its residuals as ``pdhg`` does: μ and λ scaled together (μ/λ fixed), u = λy rescaled.
    """
    terms = list(terms)
    x = x0
    Kx = [t.op.forward(x) for t in terms]
    z = [kx.clone() for kx in Kx]
    u = [torch.zeros_like(zj) for zj in z]
    mon = Monitor(x, batch_ndim, tol, atol, max_iter, check_every, callback, "ladmm")
    alpha = 0.5
    for k in range(max_iter):
        g = adjoint_sum(terms, [kx - zj + uj for kx, zj, uj in zip(Kx, z, u)])
        x_new = prox_f(x - (mu / lam) * g, mu)
        Kx_new = [t.op.forward(x_new) for t in terms]
        z_new = [t.prox(kx + uj, lam) for t, kx, uj in zip(terms, Kx_new, u)]
        u = [uj + kx - zn for uj, kx, zn in zip(u, Kx_new, z_new)]
        stop = False
        if mon.due(k):
            p = mon.rel([kx - zn for kx, zn in zip(Kx_new, z_new)], [Kx_new, z_new])
            s = adjoint_sum(terms, [(kn - ko) - (zn - zo) for kn, ko, zn, zo
                                     in zip(Kx_new, Kx, z_new, z)]) / lam - (x_new - x) / mu
            d = mon.rel([s], [adjoint_sum(terms, u) / lam])
            stop = mon.check(k, x_new, p, d)
            # p is PDHG's dual residual and d its primal one: d lagging asks for a larger μ
            ratio = float((d[0] / p[0].clamp_min(1e-300)).max())
            if adaptive and not stop and (ratio > 2.0 or ratio < 0.5):
                f = 1.0 / (1.0 - alpha) if ratio > 2.0 else 1.0 - alpha
                mu, lam, alpha = mu * f, lam * f, alpha * 0.95
                u = [uj * f for uj in u]
        x, Kx, z = x_new, Kx_new, z_new
        if stop:
            break
    return mon.result(x, {"y": [uj / lam for uj in u]})


# --- half-quadratic splitting -------------------------------------------------------------

@_restores_threads
def hqs(x_update: Callable, terms: Sequence[ProxTerm], x0: torch.Tensor, beta0: float, beta_max: float,
        growth: float = 4.0, max_iter: int = 1000, tol: float = 1e-5, atol: float = 0.0,
        batch_ndim: int = 0, check_every: int = 5, inner_tol: float | None = None,
        momentum: bool = True, callback=None) -> SplitResult:
    """Half-quadratic splitting with continuation on β:
    z = prox_{g/β}(K y),  x⁺ = argmin f(x) + β/2‖Kx − z‖²,
    with y = x (plain HQS) or a FISTA extrapolation of x (``momentum``, restarted when
    the step turns against the previous one, reset at each β).  Each step minimises
    a majoriser of Φ_β(x) = f(x) + Σ e_β g(Kx) (e_β: Moreau envelope), so with
    momentum it is FISTA in the metric βKᵀK.  β grows by ``growth`` once
    ‖∇Φ_β‖ = ‖βKᵀ(z − prox_{g/β}(Kx⁺))‖ passes ``inner_tol`` relative, up to
    ``beta_max``; it stops there at ``tol``.  This is a penalty method: for g
    L-Lipschitz, F(x_β) − F* ≤ L²/(2β), so ``beta_max`` sets the accuracy.
    """
    terms = list(terms)
    inner_tol = tol if inner_tol is None else inner_tol
    x, y, beta, t_k = x0, x0, beta0, 1.0
    mon = Monitor(x, batch_ndim, tol, atol, max_iter, check_every, callback, "hqs")
    for k in range(max_iter):
        z = [t.prox(t.op.forward(y), 1.0 / beta) for t in terms]
        x_new = x_update(z, beta, y)
        stop = False
        if mon.due(k):
            Kx = [t.op.forward(x_new) for t in terms]
            z_new = [t.prox(kx, 1.0 / beta) for t, kx in zip(terms, Kx)]
            grad = beta * adjoint_sum(terms, [a - b for a, b in zip(z, z_new)])
            scales = [beta * adjoint_sum(terms, [kx - a for kx, a in zip(Kx, z)]),
                      beta * adjoint_sum(terms, [kx - b for kx, b in zip(Kx, z_new)])]
            at_max = beta >= beta_max
            mon.tol = tol if at_max else inner_tol
            g = mon.rel([grad], scales)
            coupling = mon.rel([kx - b for kx, b in zip(Kx, z_new)], [Kx, z_new])
            if at_max:  # the coupling ‖Kx − z‖ = O(1/β) is reported, not tested
                stop = mon.check(k, x_new, g, (coupling[0], g[1]))
            elif bool(g[1].all()):
                beta, t_k = min(beta * growth, beta_max), 1.0
                x, y = x_new, x_new
                continue
        if momentum:
            t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t_k * t_k))
            step = x_new - x
            restart = float((step * (y - x_new)).real.sum()) > 0  # gradient restart (O'Donoghue–Candès)
            if restart:
                t_k, t_next = 1.0, 1.0
            y = x_new + ((t_k - 1.0) / t_next) * step
            t_k = t_next
        else:
            y = x_new
        x = x_new
        if stop:
            break
    return mon.result(x, {"beta": beta})
