"""Problem: compile an objective and run PDHG, ADMM, linearised ADMM or HQS on it.

    x = im.Variable(b.shape)
    prob = im.Problem(im.sum_squares(im.conv(x, psf) - b) + lam * im.tv(x) + im.nonneg(x))
    prob.solve(method="pdhg")                # -> objective; x.value holds the image

After ``solve``: ``prob.value`` (objective; a tensor per problem when batched),
``prob.status`` ("optimal" when every problem passed the relative primal/dual residual
tests, else "iteration_limit"), ``prob.iterations``, ``prob.residuals`` (relative
primal, dual), ``prob.result`` (the core ``SplitResult``, with the residual history)
and ``prob.info`` (the compiler's choices: method, linear-solve kind, steps, ‖K‖).
``x.value`` is a numpy array unless a constant of the objective was a torch tensor.

Default tolerances (``DEFAULT_TOL``) stop where the peers' defaults stop, with at least
their quality: on 512² cameraman TV deblurring and denoising, 1e-2 on the relative
residuals leaves an objective gap of ~1e-3 (scikit-image's ``denoise_tv_chambolle``
stops at 4.5e-3, DeepInverse's 100-iteration ADMM at ~3e-2; comparisons/RESULTS.md,
Imaging, "Defaults").  HQS's tol sets its final penalty (gap ≲ tol·F), hence 1e-3.
A solve that ends at ``max_iter`` before its tolerance warns (``IterationLimitWarning``);
plug-and-play loops run a fixed schedule and do not.
"""
from __future__ import annotations

import math
import warnings

import torch

from gridprox.core import Identity
from gridprox.core import splitting as S
from gridprox.core.device import resolve_device, resolve_dtype
from gridprox.core.tv_kernel import tv_pdhg_iterations
from gridprox.errors import ModelingError, SolverError

from .compiler import compile_terms, norm_bound, quadratic_solver
from .expressions import as_tensor

METHODS = ("pdhg", "admm", "ladmm", "hqs")
DEFAULT_TOL = {"pdhg": 1e-2, "admm": 1e-2, "ladmm": 1e-2, "hqs": 1e-3}
# PDHG's over-relaxation: ~1.7x fewer iterations to a given objective on TV deblurring and denoising
PDHG_RELAX = 1.9
PNP_TOL = 1e-5  # plug-and-play: the fixed-point change that ends a loop early (ADMM/PDHG: at least 1e-4)


class IterationLimitWarning(UserWarning):
    """A solve stopped at max_iter before its tolerance: the result is the last iterate."""
DPIR_BALANCE = 0.23  # DPIR's data/prior balance: penalty = 0.23 (σ_n/σ_k)² × data weight (Zhang et al. 2021)


class Problem:
    def __init__(self, objective, variable=None):
        self.objective, self.variable = objective, variable
        self.value = self.status = self.iterations = self.residuals = self.result = None
        self.info: dict = {}

    # ------------------------------------------------------------------------------
    def solve(self, method: str = "pdhg", tol: float | None = None, max_iter: int | None = None, dtype=None,
              device=None, x0=None, step_ratio: float = 1.0, rho: float | None = None,
              adaptive: bool = True, accelerate: bool = False, check_every: int = 10,
              cg_tol: float | None = None, callback=None, relax: float = PDHG_RELAX):
        """Solve; returns the objective (float, or a per-problem tensor when batched).

        ``tol`` the relative residual test (default ``DEFAULT_TOL[method]``; PnP:
        ``PNP_TOL``); ``cg_tol`` the relative tolerance of the conjugate-gradient
        solves of ADMM/HQS (default tol/10, at most 1e-4: warm-started, so inexact
        solves cost no accuracy at the outer tolerance).

        ``step_ratio`` ω sets τ = ω/‖K‖, σ = 1/(ω‖K‖) (PDHG; LADMM: μ = τ, λ = 1/σ);
        ``relax`` ρ ∈ (0, 2) over-relaxes PDHG's steps (not PnP's; 1 is plain
        Chambolle–Pock); ``rho`` the initial ADMM penalty (default 1) or the first HQS β;
        ``adaptive`` residual balancing of τ/σ (PDHG) or ρ (ADMM), at each check: every
        ``check_every``-th iteration and at iterations 1, 2, 4 and 8, where ``callback(k, x,
        primal, dual)`` is called too; ``accelerate`` uses
        the O(1/k²) PDHG rule when the data term is strongly convex (its iterates reach
        a low objective sooner, but its dual converges slowly, so the residual test
        may need many more iterations)."""
        if method not in METHODS:
            raise SolverError(f"method {method!r} unknown: use one of {', '.join(METHODS)}")
        dev = resolve_device(device or "auto")
        dt = resolve_dtype(dtype, dev)
        var, xdtype, terms = compile_terms(self.objective, self.variable, dt, dev)
        # x.value in the data's array type: a tensor when any constant (or x0) was one
        self._torch_out = any("torch" in c.term.expr.kinds for c in terms if c.term.expr is not None) \
            or isinstance(x0, torch.Tensor)
        bd = var.batch_ndim
        quads = [c for c in terms if c.term.kind == "sum_squares"]
        others = [c for c in terms if c.term.kind != "sum_squares"]
        pnp = [c for c in others if c.term.kind == "denoiser"]
        if len(pnp) > 1:
            raise ModelingError("at most one denoiser_prior per Problem")
        if tol is None:
            tol = PNP_TOL if pnp else DEFAULT_TOL[method]
        if cg_tol is None:
            cg_tol = 1e-8 if pnp else min(0.1 * tol, 1e-4)
        x = self._initial(var, xdtype, dev, quads, x0)
        self.info = {"method": method, "dtype": str(dt), "device": str(dev)}
        kw = dict(tol=tol, batch_ndim=bd, check_every=check_every, callback=callback)

        if pnp:
            with pnp[0].term.params["prior"].grad_mode(x):    # no autograd graph unless differentiated
                res = self._solve_pnp(method, var, x, quads, others, pnp[0], max_iter, dt, dev, cg_tol, kw)
        elif method in ("pdhg", "ladmm"):
            f_prox, psi, mu, pixel = self._prox_split(var, quads, others, dt, dev)
            knorm = math.sqrt(sum(norm_bound(c.op) ** 2 for c in psi))
            tau, sigma = step_ratio / knorm, 1.0 / (step_ratio * knorm)
            mu = mu if accelerate else 0.0
            self.info.update(norm_K=knorm, tau=tau, sigma=sigma, strong_convexity=mu)
            pt = [c.as_prox_term() for c in psi]
            if method == "pdhg":
                # pixel-diagonal data + TV alone: the plain iterations as one compiled sweep each
                plain = (tv_pdhg_iterations(x, *pixel, psi[0].w) if pixel is not None and not mu and len(pt) == 1
                         and pt[0].dual_step is not None else None)
                self.info["tv_kernel"] = plain is not None
                res = S.pdhg(f_prox, pt, x, tau, sigma, max_iter=max_iter or 5000, strong_convexity=mu,
                             adaptive=adaptive, relax=relax, plain_iterations=plain, **kw)
            else:
                res = S.ladmm(f_prox, pt, x, mu=tau, lam=1.0 / sigma, max_iter=max_iter or 5000,
                              adaptive=adaptive, **kw)
        else:
            if not others:
                raise ModelingError("nothing to split: the objective has only sums of squares")
            solver = quadratic_solver(quads, [c.op for c in others], var, dt, dev, cg_tol=cg_tol)
            rhs0 = solver.rhs([c.b for c in quads])
            self.info["linear_solve"] = solver.mode + ("+fourier-preconditioner" if solver.precond else "")

            def x_update(vs, r, x_prev):
                rhs = rhs0 + r * S.adjoint_sum([c.as_prox_term() for c in others], vs)
                return solver.solve(rhs, rho=r, x0=x_prev)

            pt = [c.as_prox_term() for c in others]
            if method == "admm":
                res = S.admm(x_update, pt, x, rho or 1.0, max_iter=max_iter or 5000, adaptive=adaptive, **kw)
            else:
                lip2 = sum(c.lipschitz() ** 2 for c in others if not c.term.is_indicator)
                f0 = float(self._objective(terms, x, bd).abs().max())
                beta_max = min(max(lip2 / (2 * tol * max(f0, 1e-12)), 1.0), 1e9)
                self.info.update(beta_max=beta_max)
                res = S.hqs(x_update, pt, x, rho or 1e-2 * beta_max ** 0.5, beta_max, max_iter=max_iter or 2000,
                            inner_tol=max(tol, 1e-3), **{**kw, "check_every": 1})
            self.info["cg_iterations"] = solver.cg_iterations
        self.info["tol"] = tol
        out = self._finish(var, terms, res)
        if not pnp and self.status != "optimal":
            warnings.warn(f"imaging: {method} stopped at its iteration limit ({int(res.iterations.max())}) before "
                          f"tol={tol:g} (relative residuals {float(res.primal_residual.max()):.1e} / "
                          f"{float(res.dual_residual.max()):.1e}); raise max_iter or loosen tol",
                          IterationLimitWarning, stacklevel=2)
        if not self._torch_out:
            var.value = var.value.detach().cpu().numpy()
        return out

    # ------------------------------------------------------------------------------
    @staticmethod
    def _initial(var, xdtype, dev, quads, x0):
        if x0 is not None:
            x = as_tensor(x0, "x0").to(device=dev, dtype=xdtype)
            if tuple(x.shape) != var.shape:
                raise ModelingError(f"x0 has shape {tuple(x.shape)}, the variable {var.shape}")
            return x
        x = torch.zeros(var.shape, dtype=xdtype, device=dev)
        if quads and quads[0].b is not None:   # back-projected data: Kᵀb, a cheap start
            kb = quads[0].op.adjoint(quads[0].b)
            x = x + (kb if not kb.is_complex() or x.is_complex() else kb.real)
        return x

    @staticmethod
    def _prox_split(var, quads, others, dt, dev):
        """f and Ψ for PDHG/LADMM: f = Ω when its solve is closed form (with its strong
        convexity μ when its Gram is well bounded below), else a term on the identity; and
        (r, d) when f = Σ ½ d x² − r x pixel by pixel (else None)."""
        if quads:
            solver = quadratic_solver(quads, [], var, dt, dev)
            if solver.closed_form:
                rhs0 = solver.rhs([c.b for c in quads])
                d = solver.d_data.expand(1) if solver.d_data.dim() == 0 else solver.d_data
                mu = float(d.min()) if float(d.min()) > 1e-3 * float(d.max()) else 0.0
                pixel = (rhs0, solver.d_data) if solver.mode == "spatial" else None
                return (lambda v, t: solver.prox(v, t, rhs0)), list(others), mu, pixel
            others = list(quads) + list(others)
        for i, c in enumerate(others):
            if isinstance(c.op, Identity) and len(others) > 1:
                return c.prox, others[:i] + others[i + 1:], 0.0, None
        return (lambda v, t: v), list(others), 0.0, (0.0, 0.0)

    def _solve_pnp(self, method, var, x, quads, others, pnp, max_iter, dt, dev, cg_tol, kw):
        """Plug-and-play: the denoiser is the prior's prox.  HQS follows DPIR's schedule
        (σ_k log-spaced from the prior's sigma_max down to sigma, penalty
        0.23 (σ/σ_k)² × data weight); ADMM and PDHG keep σ and that penalty fixed."""
        prior = pnp.term.params["prior"]
        if len(others) > 1 or not quads:
            raise ModelingError("plug-and-play needs sums of squares plus one denoiser_prior, nothing else")
        solver = quadratic_solver(quads, [Identity(var.image_shape)], var, dt, dev, cg_tol=cg_tol)
        rhs0 = solver.rhs([c.b for c in quads])
        data_w = 2.0 * max(c.w for c in quads)
        rho = DPIR_BALANCE * data_w
        self.info.update(linear_solve=solver.mode, rho=rho, sigma=prior.sigma)

        def x_update(vs, r, x_prev):
            return solver.solve(rhs0 + r * vs[0], rho=r, x0=x_prev)

        if method == "hqs":
            return prior.hqs(x_update, x, rho, max_iter or 16, kw["tol"], kw["batch_ndim"], kw["callback"])
        term = S.ProxTerm(Identity(var.image_shape), lambda v, t: prior.prox(v))
        kw = {**kw, "tol": max(kw["tol"], 1e-4)}
        if method == "admm":
            return S.admm(x_update, [term], x, rho, max_iter=max_iter or 30, adaptive=False, **kw)
        if method in ("pdhg", "ladmm"):
            f_prox = lambda v, t: solver.solve(rhs0 + v / t, rho=0.0, c=1.0 / t)  # noqa: E731
            if not solver.closed_form:
                raise ModelingError("PnP-PDHG needs a data term with a closed-form prox; use method='admm'")
            return S.pdhg(f_prox, [term], x, 1.0 / rho, rho, max_iter=max_iter or 30, adaptive=False, **kw)
        raise SolverError(f"method {method!r} does not take a denoiser_prior")

    @staticmethod
    def _objective(terms, x, bd):
        return sum(c.value(x) for c in terms)

    def _finish(self, var, terms, res):
        x = res.x
        for c in terms:  # make simple constraints on x itself hold exactly
            if c.term.is_indicator and isinstance(c.op, Identity):
                x = c.prox(x, 1.0)
        res.x = x
        val = self._objective(terms, x, var.batch_ndim)
        self.result, self.status = res, res.status
        self.iterations = res.iterations if var.batch_ndim else int(res.iterations)
        pr, dr = res.primal_residual, res.dual_residual
        self.residuals = (pr, dr) if var.batch_ndim else (float(pr), float(dr))
        self.info["max_violation"] = max((c.violation(x) for c in terms), default=0.0)
        var.value = x
        self.value = val if var.batch_ndim else float(val)
        return self.value
