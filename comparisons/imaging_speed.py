"""imaging beside its peers on the reference problems of shared/notes/imaging.md §6.

    python comparisons/imaging_speed.py [--part deconv,denoise,pnp,mri,defaults,periter] [--quick]

A  TV deconvolution: cameraman 512², circular Gaussian blur (σ 1.6, 11x11), noise 0.01,
   min ½‖k∗x − y‖² + 1e-3·TV(x)            (F* ≈ 16.805968)
B  TV denoising (ROF): cameraman + 0.1 noise, min ½‖x − y‖² + 0.08·TV(x)   (F* ≈ 1593.7596)
C  CS-MRI 4x/8x (Cartesian, radial) of cameraman and Shepp–Logan at 256², TV vs PnP.
D  deblurring (problem A's data): converged TV vs plug-and-play DnCNN.
defaults  A and B (and 4x MRI) with every solver as a new user calls it: no tolerance, no
   iteration count, no target; one thread, float64 for all (numpy in).  Times are the
   median and range of --repeats runs; objectives and PSNR are of the returned image.
periter  B at scikit-image's defaults: ms per iteration, iterations and time to its objective, both
   at their defaults; gridprox on torch and on its C kernel in turn (--rounds), one run.

Every objective is evaluated afterwards in float64 numpy by the same function, on
snapshots that each solver hands to a callback (the callback's time is excluded), or,
for solvers without one (scikit-image, PyProximal's TV prox), on a ladder of runs with
growing iteration counts.  The target is the best objective any peer reached, plus
1e-4 relative; each peer's time is compared with gridprox's time to the same
objective level (the target, or the peer's best if it never got there).
Peers: PyProximal (PrimalDual with an exact FFT prox of the data term, as in the notes;
FGP TV prox), scikit-image (denoise_tv_chambolle), DeepInverse when importable (PDCP for A,
TVDenoiser for B; optional: it pulls torchvision, so it lives in a separate venv, see RESULTS.md).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))     # `imaging` from a checkout

import numpy as np  # noqa: E402
import torch  # noqa: E402

import imaging as im  # noqa: E402
from imaging.data import cartesian_mask, radial_mask, shepp_logan  # noqa: E402
from imaging.wrappers import PNP_DEFAULTS, PNP_MODELS  # noqa: E402

F_A_REF, F_B_REF = 16.805968, 1593.7596
METHODS = ("pdhg",)  # the default; admm/hqs need CG for the Neumann ∇ (all four are checked in the tests)
LAM_A, LAM_B = 1e-3, 0.08


# ---------------------------------------------------------------- the problems (numpy)
def gaussian_psf(sigma=1.6, radius=5):
    return im.gaussian_psf(sigma, 2 * radius + 1)


def otf_of(k, shape):
    pad = np.zeros(shape)
    pad[:k.shape[0], :k.shape[1]] = k
    return np.fft.fft2(np.roll(pad, (-(k.shape[0] // 2), -(k.shape[1] // 2)), axis=(0, 1)))


def grad(v):
    gv, gh = np.zeros_like(v), np.zeros_like(v)
    gv[:-1] = v[1:] - v[:-1]
    gh[:, :-1] = v[:, 1:] - v[:, :-1]
    return gv, gh


def tv(v):
    gv, gh = grad(v)
    return float(np.sqrt(gv ** 2 + gh ** 2).sum())


class Setup:
    def __init__(self):
        self.x = im.load_image("cameraman")
        self.k = gaussian_psf()
        self.otf = otf_of(self.k, self.x.shape)
        self.y = self.A(self.x) + 0.01 * np.random.default_rng(0).standard_normal(self.x.shape)
        self.y2 = self.x + 0.10 * np.random.default_rng(1).standard_normal(self.x.shape)
        assert abs(self.y[0, 0] - 0.588143495111) < 1e-9 and abs(self.y2[0, 0] - 0.818872144697) < 1e-9

    def A(self, v):
        return np.real(np.fft.ifft2(np.fft.fft2(v) * self.otf))

    def F_A(self, v):
        v = np.asarray(v, dtype=np.float64)
        return 0.5 * float(np.sum((self.A(v) - self.y) ** 2)) + LAM_A * tv(v)

    def F_B(self, v):
        v = np.asarray(v, dtype=np.float64)
        return 0.5 * float(np.sum((v - self.y2) ** 2)) + LAM_B * tv(v)


def to_np(v):
    return v.detach().cpu().double().numpy() if isinstance(v, torch.Tensor) else np.asarray(v, np.float64)


# ---------------------------------------------------------------- traces
class Trace:
    """Snapshots (solver time, iteration, image) with the callback's own time excluded."""

    def __init__(self, every=10):
        self.every, self.snaps, self.t0, self.excluded, self.n = every, [], None, 0.0, 0

    def start(self):
        self.t0, self.excluded, self.n, self.snaps = time.perf_counter(), 0.0, 0, []

    def __call__(self, x, it=None):
        t = time.perf_counter()
        self.n += 1
        it = self.n if it is None else it
        if it % self.every == 0:
            self.snaps.append((t - self.t0 - self.excluded, it, to_np(x).copy()))
        self.excluded += time.perf_counter() - t

    def curve(self, F):
        return [(t, it, F(x), x) for t, it, x in self.snaps]


def first_at(curve, level):
    """(time, iteration, objective, image) of the first point at or below ``level``."""
    for p in curve:
        if p[2] <= level:
            return p
    return None


def timed(run, repeats):
    """(median time, min, max, last output) of ``repeats`` calls of run()."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), min(times), max(times), out


def ladder(run, counts, F):
    """Runs of a solver with growing iteration counts: a curve without a callback."""
    out = []
    for n in counts:
        t, _, _, x = timed(lambda: run(n), 1)
        out.append((t, n, F(x), to_np(x)))
    return out


# ---------------------------------------------------------------- peers
def pyproximal_primaldual(S, data: str, niter: int):
    """PyProximal PrimalDual(K = ∇ forward differences, L21 dual, exact data prox)."""
    import pylops
    import pyproximal

    shape = S.x.shape
    Grad = pylops.Gradient(dims=shape, edge=False, kind="forward", dtype="float64")
    lam = LAM_A if data == "deconv" else LAM_B

    class FFTL2(pyproximal.ProxOperator):
        """½‖k∗x − y‖² with its prox in closed form by FFT (as the notes' user prox)."""

        def __init__(self, otf, y):
            super().__init__(None, False)
            self.otf, self.H2, self.Hy = otf, np.abs(otf) ** 2, np.conj(otf) * np.fft.fft2(y)

        def __call__(self, x):
            return 0.5 * float(np.sum((np.real(np.fft.ifft2(np.fft.fft2(x.reshape(shape)) * self.otf)) - S.y) ** 2))

        def prox(self, x, tau):
            v = np.fft.fft2(x.reshape(shape))
            return np.real(np.fft.ifft2((v + tau * self.Hy) / (1 + tau * self.H2))).ravel()

    proxf = FFTL2(S.otf, S.y) if data == "deconv" else pyproximal.L2(b=S.y2.ravel())
    proxg = pyproximal.L21(ndim=2, sigma=lam)
    L = np.sqrt(8.0)
    tau, mu = (1.0, 1.0 / 8.0) if data == "deconv" else (1.0 / L, 1.0 / L)  # the notes' steps
    tr = Trace(10)
    x0 = (S.y if data == "deconv" else S.y2).ravel().copy()
    tr.start()
    pyproximal.optimization.primaldual.PrimalDual(proxf, proxg, Grad, x0=x0, tau=tau, mu=mu, theta=1.0,
                                                  **({} if niter is None else {"niter": niter}),
                                                  callback=lambda x: tr(x.reshape(shape)))
    return tr


def deepinv_available():
    try:
        import deepinv  # noqa: F401
        return True
    except Exception:  # noqa: BLE001 - any import failure means "not available"
        return False


def deepinv_pdcp(S, niter: int):
    """DeepInverse PDCP (Chambolle–Pock, its Algorithm 1) on problem A, set up as PyProximal's PrimalDual:
    K = ∇ (TVDenoiser.nabla: forward differences, Neumann, as ours), L12Prior on ∇x (isotropic TV) by
    its dual projection, L2() = ½‖k∗x − y‖² with BlurFFT's exact prox; τ = 1, σ = 1/8, x0 = y.
    Iterates reach the Trace through a custom metric (its own time excluded); the residual norm that
    compute_metrics adds per iteration is counted as DeepInverse's."""
    tr = Trace(10)
    run = lambda n: _deepinv_pdcp_run(S, max_iter=n, compute_metrics=True,  # noqa: E731
                                      custom_metrics={"trace": lambda m, x_prev, x: tr(x[0]) or 0.0})
    run(2)  # warm-up, as gridprox's
    tr.start()
    run(niter)
    return tr


def _deepinv_pdcp_run(S, **kw):
    """DeepInverse PDCP on problem A as ``deepinv_pdcp`` sets it up; ``kw`` go to PDCP (its own
    defaults otherwise: 100 iterations) and ``compute_metrics`` to the call."""
    import deepinv as dinv
    from deepinv.models import TVDenoiser

    metrics = kw.pop("compute_metrics", False)
    y = torch.tensor(S.y, dtype=torch.float32)[None, None]
    physics = dinv.physics.BlurFFT(img_size=(1, *S.x.shape), filter=torch.tensor(S.k, dtype=torch.float32)[None, None])
    model = dinv.optim.PDCP(K=TVDenoiser.nabla, K_adjoint=TVDenoiser.nabla_adjoint,
                            data_fidelity=dinv.optim.data_fidelity.L2(), prior=dinv.optim.prior.L12Prior(),
                            lambda_reg=LAM_A, stepsize=1.0, stepsize_dual=1.0 / 8.0, g_first=True, **kw)
    init = {"est": (y.clone(), y.clone(), torch.zeros(*y.shape, 2))}
    with torch.no_grad():
        return model(y, physics, init=init, compute_metrics=metrics)


def deepinv_pdcp_default(S):
    """PDCP at its default iteration count (100), the steps set as ``deepinv_pdcp``'s (its default
    σ = 1 diverges with K = ∇, ‖∇‖² = 8); the final image."""
    return _deepinv_pdcp_run(S)[0, 0]


def deepinv_tv_denoiser(S, n=None):
    """DeepInverse TVDenoiser (over-relaxed Condat–Chambolle–Pock, τ 0.01, ρ 1.99) for
    ½‖x − y‖² + ths·TV(x): n iterations exactly (crit 0), or its defaults (crit 1e-5, at
    most 1000) when n is None."""
    from deepinv.models import TVDenoiser

    y = torch.tensor(S.y2, dtype=torch.float32)[None, None]
    model = TVDenoiser(ths=LAM_B) if n is None else TVDenoiser(ths=LAM_B, crit=0.0, n_it_max=n)
    with torch.no_grad():
        return model(y)[0, 0]


# ---------------------------------------------------------------- gridprox
GP_DTYPE = [torch.float32]  # --dtype: gridprox's precision in parts deconv/denoise (the numpy peers run float64)


def gridprox_trace(S, data: str, max_iter: int, dtype=None, **kw):
    dtype = dtype or GP_DTYPE[0]
    tr = Trace(1)
    b = torch.tensor(S.y if data == "deconv" else S.y2, dtype=dtype)
    cb = lambda k, x, p, d: tr(x, k)  # noqa: E731
    solve = im.deconvolve if data == "deconv" else im.denoise_tv
    with warnings.catch_warnings():   # the traces end at their iteration limits on purpose
        warnings.simplefilter("ignore", im.IterationLimitWarning)
        solve(b, *((S.k, LAM_A) if data == "deconv" else (LAM_B,)), max_iter=2, **kw)  # warm-up, as skimage's below
        tr.start()
        if data == "deconv":
            im.deconvolve(b, S.k, LAM_A, tol=1e-9, max_iter=max_iter, callback=cb, **kw)
        else:
            im.denoise_tv(b, LAM_B, tol=1e-9, max_iter=max_iter, callback=cb, **kw)
    return tr


# ---------------------------------------------------------------- report
def compare(S, name, F, Fref, gp_curves, peer_curves):
    best_peer = min(min(p[2] for p in c) for c in peer_curves.values())
    target = best_peer * (1 + 1e-4)
    print(f"\n## {name}: reference optimum {Fref:.6f}; best peer objective {best_peer:.6f}; "
          f"target (best peer + 1e-4 rel.) {target:.6f}")
    print(f"| solver | iterations | time (s) | objective | rel. gap to F* | PSNR (dB) | time ratio peer/gridprox |")
    print("|---|---|---|---|---|---|---|")
    rows = []
    for gname, gc in gp_curves.items():
        p = first_at(gc, target)
        last = gc[-1]
        q = p or last
        rows.append((gname, q, "reached target" if p else "did NOT reach target"))
    for pname, pc in peer_curves.items():
        best = min(pc, key=lambda r: r[2])
        level = max(target, best[2])
        q = first_at(pc, level)
        ratios = []
        for gname, gc in gp_curves.items():
            g = first_at(gc, level)
            ratios.append(f"{q[0] / g[0]:.1f}x vs {gname}" if g else f"n/a ({gname} did not reach)")
        rows.append((pname, q, "; ".join(ratios) + ("" if level == target else f" (at the peer's best {level:.6f})")))
    for rname, (t, it, f, x), note in rows:
        print(f"| {rname} | {it} | {t:.2f} | {f:.6f} | {(f - Fref) / Fref:.1e} | {im.psnr(x, S.x):.3f} | {note} |")


def run_deconv(S, quick):
    gp = {f"gridprox {m} ({str(GP_DTYPE[0])[6:]})": gridprox_trace(S, "deconv", 400 if quick else 800, method=m).curve(S.F_A)
          for m in METHODS}
    peers = {}
    peers["PyProximal PrimalDual + FFT prox"] = pyproximal_primaldual(S, "deconv", 500 if quick else 1000).curve(S.F_A)
    if deepinv_available():
        peers["DeepInverse PDCP (float32)"] = deepinv_pdcp(S, 500 if quick else 1000).curve(S.F_A)
    else:
        print("DeepInverse: not importable (optional; it pulls torchvision and a CUDA torch) - skipped")
    compare(S, "A: TV deconvolution, cameraman 512²", S.F_A, F_A_REF, gp, peers)


def run_denoise(S, quick):
    from skimage.restoration import denoise_tv_chambolle
    import pyproximal

    gp = {f"gridprox {m} ({str(GP_DTYPE[0])[6:]})": gridprox_trace(S, "denoise", 300 if quick else 600, method=m).curve(S.F_B)
          for m in METHODS}
    counts = [100, 200, 400] if quick else [100, 200, 400, 800, 1600]
    peers = {"scikit-image denoise_tv_chambolle (eps=0)":
             ladder(lambda n: denoise_tv_chambolle(S.y2, weight=LAM_B, eps=0.0, max_num_iter=n), counts, S.F_B)}
    denoise_tv_chambolle(S.y2, weight=LAM_B)   # warm-up
    t, _, _, d = timed(lambda: denoise_tv_chambolle(S.y2, weight=LAM_B), 1)
    peers["scikit-image denoise_tv_chambolle (defaults)"] = [(t, "auto", S.F_B(d), d)]

    def fgp(n):
        return pyproximal.TV(dims=S.x.shape, sigma=LAM_B, niter=n, rtol=0.0).prox(S.y2.ravel(), 1.0).reshape(S.x.shape)
    peers["PyProximal TV prox (FGP)"] = ladder(fgp, [50, 100, 200] if quick else [50, 100, 200, 400, 800], S.F_B)
    peers["PyProximal PrimalDual"] = pyproximal_primaldual(S, "denoise", 500 if quick else 1000).curve(S.F_B)
    if deepinv_available():
        deepinv_tv_denoiser(S, 2)  # warm-up
        dcounts = counts if quick else [100, 200, 300, 400, 500, 600, 800, 1200]  # finer: it has no callback
        peers["DeepInverse TVDenoiser (float32)"] = ladder(lambda n: deepinv_tv_denoiser(S, n), dcounts, S.F_B)
        t, _, _, d = timed(lambda: deepinv_tv_denoiser(S), 1)
        peers["DeepInverse TVDenoiser (defaults)"] = [(t, "auto", S.F_B(to_np(d)), to_np(d))]
    else:
        print("DeepInverse: not importable (optional) - skipped")
    compare(S, "B: TV denoising (ROF), cameraman 512²", S.F_B, F_B_REF, gp, peers)


def run_pnp(S, quick):
    print("\n## D: deblurring, problem A's data: TV (converged) vs plug-and-play")
    ttv, _, _, xtv = timed(lambda: im.deconvolve(S.y, S.k, LAM_A, tol=1e-5, max_iter=3000), 1)
    print("| method | PSNR (dB) | time (s) |\n|---|---|---|")
    print(f"| TV λ=1e-3 (pdhg, tol 1e-5) | {im.psnr(xtv, S.x):.3f} | {ttv:.1f} |")
    for label, model in pnp_models():
        t, _, _, (xp, p) = timed(lambda: im.deconvolve(S.y, S.k, prior="pnp", model=model, sigma=0.01,
                                                       full_output=True), 1)
        r = p.result.extra["fixed_point_residuals"]
        print(f"| PnP-HQS {label} ({p.iterations} it., last fixed-point residual {r[-1]:.1e}) | "
              f"{im.psnr(xp, S.x):.3f} | {t:.1f} |")


def peer(name):
    """The module, or None with a line saying it is absent."""
    try:
        return __import__(name, fromlist=["_"])
    except Exception as e:  # noqa: BLE001 - any import failure means "absent"
        print(f"{name}: not importable here ({type(e).__name__}) - its rows are skipped")
        return None


def run_defaults(S, quick, repeats=3):
    """Every solver at its defaults (no tolerance, iteration count or target given)."""
    reps = 1 if quick else repeats
    rows = []

    def row(problem, name, F, Fref, run, dtype=None):
        """A solver at its defaults; for a peer (``dtype`` its precision), also gridprox PDHG's time,
        in the same precision, to the objective the peer stopped at: its shortest run (``max_iter=n``)
        that reaches it, timed as the peer is."""
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            t, lo, hi, x = timed(run, reps)
        x = to_np(x)
        note = "; ".join(sorted({str(i.message).split(";")[0] for i in w}))
        if dtype is not None:
            hit = gridprox_to(problem, F, F(x), dtype)
            note = (f"gridprox pdhg ({str(dtype)[6:]}, `max_iter={hit[1]}`) reaches this objective in {hit[0]:.2f} s: "
                    f"**{t / hit[0]:.1f}x**" if hit else "gridprox pdhg did not reach it in 3,000 it.")
        rows.append((problem, name, t, lo, hi, (F(x) - Fref) / Fref, im.psnr(x, S.x), note))

    def gridprox_to(problem, F, level, dtype):
        """(median time, n) of the fewest PDHG iterations whose output is at or below ``level``."""
        b = torch.tensor(S.y if problem == "A" else S.y2, dtype=dtype)
        # tol out of the way, so that n iterations run where the peer stopped tighter than the default tol
        solve = (lambda n: im.deconvolve(b, S.k, LAM_A, max_iter=n, tol=1e-12)) if problem == "A" else (
            lambda n: im.denoise_tv(b, LAM_B, max_iter=n, tol=1e-12))
        with warnings.catch_warnings():      # these runs end at their iteration limits on purpose
            warnings.simplefilter("ignore", im.IterationLimitWarning)
            solve(2)                          # warm-up
            for n in [*range(1, 31), *range(40, 401, 10), *range(450, 3001, 50)]:
                if F(to_np(solve(n))) <= level:
                    return timed(lambda: solve(n), reps)[0], n
        return None

    # A: TV deconvolution (gridprox's four methods and the wrapper; PyProximal's PrimalDual as the notes set it up)
    for m in im.METHODS:
        row("A", f"gridprox `deconvolve(y, k, 1e-3, method='{m}')`", S.F_A, F_A_REF,
            lambda m=m: im.deconvolve(S.y, S.k, LAM_A, method=m))
    x = im.Variable(S.y.shape)
    prob = im.Problem(0.5 * im.sum_squares(im.conv(x, S.k) - S.y) + LAM_A * im.tv(x))
    row("A", "gridprox `Problem(...).solve()`", S.F_A, F_A_REF, lambda: (prob.solve(), x.value)[1])
    if peer("pyproximal") is not None:
        row("A", "PyProximal `PrimalDual` (niter default 10; exact FFT prox, τ 1, μ 1/8)", S.F_A, F_A_REF,
            lambda: pyproximal_primaldual(S, "deconv", None).snaps[-1][2], torch.float64)
    # B: ROF denoising
    for m in im.METHODS:
        row("B", f"gridprox `denoise_tv(y, 0.08, method='{m}')`", S.F_B, F_B_REF,
            lambda m=m: im.denoise_tv(S.y2, LAM_B, method=m))
    y32 = S.y2.astype(np.float32)
    row("B", "gridprox `denoise_tv(y, 0.08)`, y float32", S.F_B, F_B_REF, lambda: im.denoise_tv(y32, LAM_B))
    if peer("skimage") is not None:
        from skimage.restoration import denoise_tv_chambolle
        row("B", "scikit-image `denoise_tv_chambolle(y, weight=0.08)`", S.F_B, F_B_REF,
            lambda: denoise_tv_chambolle(S.y2, weight=LAM_B), torch.float64)
        row("B", "scikit-image `denoise_tv_chambolle(y, weight=0.08)`, y float32", S.F_B, F_B_REF,
            lambda: denoise_tv_chambolle(y32, weight=LAM_B), torch.float32)
    pp = peer("pyproximal")
    if pp is not None:
        row("B", "PyProximal `TV(dims, sigma=0.08).prox(y, 1)` (FGP, its default niter)", S.F_B, F_B_REF,
            lambda: pp.TV(dims=S.x.shape, sigma=LAM_B).prox(S.y2.ravel(), 1.0).reshape(S.x.shape), torch.float64)
    if not deepinv_available():
        print("deepinv: not importable here - its rows are skipped (optional: it pulls torchvision)")
    else:
        row("A", "DeepInverse `PDCP` (max_iter default 100; τ 1, σ 1/8) (float32)", S.F_A, F_A_REF,
            lambda: deepinv_pdcp_default(S), torch.float32)
        row("B", "DeepInverse `TVDenoiser(ths=0.08)` (float32)", S.F_B, F_B_REF, lambda: deepinv_tv_denoiser(S),
            torch.float32)
    print("\n## Defaults: cameraman 512², every solver as called with no tolerance or iteration count")
    print("| problem | solver | time (s), median [range] | rel. gap to F* | PSNR (dB) | warnings; peer time / gridprox time "
          "to the peer's objective |")
    print("|---|---|---|---|---|---|")
    for p, name, t, lo, hi, gap, ps, note in sorted(rows, key=lambda r: r[0]):     # A, then B
        print(f"| {p} | {name} | {t:.2f} [{lo:.2f}-{hi:.2f}] | {gap:.1e} | {ps:.3f} | {note} |")
    # 4x Cartesian MRI of the 512² image, TV at the wrapper's defaults
    m = cartesian_mask(S.x.shape, 4)
    rng = np.random.default_rng(2)
    y = m * (np.fft.fft2(S.x, norm="ortho") + 0.01 * (rng.standard_normal(S.x.shape)
                                                      + 1j * rng.standard_normal(S.x.shape)) / np.sqrt(2))
    t, lo, hi, xm = timed(lambda: im.mri_reconstruct(y, m, 3e-3), reps)
    print(f"| MRI cart x4 | gridprox `mri_reconstruct(y, mask, 3e-3)` | {t:.2f} [{lo:.2f}-{hi:.2f}] | - | "
          f"{im.psnr(np.abs(xm), S.x):.3f} (zero-filled {im.psnr(np.abs(np.fft.ifft2(y, norm='ortho')), S.x):.3f}) | |")


# the wrappers' defaults (deblurring, MRI); --models changes the list
MODELS = [PNP_MODELS["deconvolve"], PNP_MODELS["mri_reconstruct"]]
ROWS: list = []  # --rows: the C rows to run ("image mask" labels), all when empty


def pnp_models():
    out = []
    for name in MODELS:
        try:
            out.append((name, im.pretrained_dncnn(name)))
        except FileNotFoundError:
            print(f"DnCNN weights {name!r} not found - skipped")
    return out


def run_mri(S, quick):
    from skimage.transform import resize

    n = 256
    images = {"cameraman 256": resize(S.x, (n, n), order=1, anti_aliasing=True),
              "Shepp-Logan 256": shepp_logan(n)}
    masks = {"cart x4": cartesian_mask((n, n), 4), "cart x8": cartesian_mask((n, n), 8),
             "radial x4": radial_mask((n, n), accel=4), "radial x8": radial_mask((n, n), accel=8)}
    if quick:
        masks = {k: v for k, v in masks.items() if "x4" in k}
    models = pnp_models()
    print("\n## C: CS-MRI 256², k-space noise 0.01 (orthonormal FFT), PSNR of |x| (dB)")
    method = PNP_DEFAULTS["mri_reconstruct"][0].upper()
    print("| image | mask | sampled | zero-filled | TV λ=3e-3 | " + " | ".join(f"PnP-{method} {m}" for m, _ in models)
          + " | time TV / PnP (s) |")
    print("|---" * (6 + len(models)) + "|")
    rng = np.random.default_rng(2)
    noise = 0.01 * (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))) / np.sqrt(2)
    for iname, x in images.items():
        for mname, m in masks.items():
            if ROWS and f"{iname} {mname}" not in ROWS:
                continue
            y = m * (np.fft.fft2(x, norm="ortho") + noise)
            zf = np.fft.ifft2(y, norm="ortho")
            ttv, _, _, xt = timed(lambda: im.mri_reconstruct(y, m, 3e-3, tol=1e-5, max_iter=3000), 1)
            cells, tp = [], 0.0
            for _, model in models:
                tp, _, _, xp = timed(lambda: im.mri_reconstruct(y, m, prior="pnp", model=model, sigma=0.01), 1)
                cells.append(f"{im.psnr(np.abs(xp), x):.2f}")
            print(f"| {iname} | {mname} | {m.mean():.3f} | {im.psnr(np.abs(zf), x):.2f} | "
                  f"{im.psnr(np.abs(xt), x):.2f} | " + " | ".join(cells) + f" | {ttv:.1f} / {tp:.1f} |", flush=True)


@contextlib.contextmanager
def tv_kernel(on: bool):
    """PDHG's plain iterations on the C kernel (gridprox/core/tv_kernel.c) where it applies, or on torch."""
    import imaging.problem as P
    saved = P.tv_pdhg_iterations
    if not on:
        P.tv_pdhg_iterations = lambda *a: None
    try:
        yield
    finally:
        P.tv_pdhg_iterations = saved


def run_periter(S, quick, repeats, rounds=2):
    """B at scikit-image's default stop, per precision: per-iteration times (best of `repeats`, from 10 and 50
    iterations), gridprox's fewest iterations to scikit-image's default objective, and both at their defaults;
    gridprox on torch and on the C kernel in turn, `rounds` times, scikit-image timed again in each round."""
    from skimage.restoration import denoise_tv_chambolle as sk

    def best(f, n):   # fastest of n calls, and the output
        return timed(f, n)[1::2]

    print("| precision | round | code | gridprox ms/it | scikit-image ms/it | gridprox it. to sk objective | time (s) | "
          "objective | sk defaults (s) | sk objective | ratio at sk objective | gridprox defaults (s) | "
          "objective | ratio at defaults |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for dt in (np.float64, np.float32):
        y = S.y2.astype(dt)
        gp = lambda **kw: im.denoise_tv(y, LAM_B, **kw)  # noqa: E731
        gp(max_iter=2)
        for r in range(1, rounds + 1):
            sd, rs = best(lambda: sk(y, weight=LAM_B), repeats)
            target = S.F_B(rs)
            s10, _ = best(lambda: sk(y, weight=LAM_B, eps=0, max_num_iter=10), repeats)
            s50, _ = best(lambda: sk(y, weight=LAM_B, eps=0, max_num_iter=50), repeats)
            for code, on in (("torch", False), ("C kernel", True)):
                with tv_kernel(on), warnings.catch_warnings():
                    warnings.simplefilter("ignore", im.IterationLimitWarning)
                    n = next(n for n in range(5, 200) if S.F_B(gp(tol=1e-12, max_iter=n)) <= target)
                    g10, _ = best(lambda: gp(tol=1e-12, max_iter=10), repeats)
                    g50, _ = best(lambda: gp(tol=1e-12, max_iter=50), repeats)
                    th, rh = best(lambda: gp(tol=1e-12, max_iter=n), repeats)
                    td, rd = best(gp, repeats)
                print(f"| {np.dtype(dt).name} | {r} | {code} | {(g50 - g10) / 0.04:.2f} | {(s50 - s10) / 0.04:.2f} | "
                      f"{n} | {th:.3f} | {S.F_B(rh):.3f} | {sd:.3f} | {target:.3f} | {sd / th:.2f}x | {td:.3f} | "
                      f"{S.F_B(rd):.3f} | {sd / td:.2f}x |", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", default="deconv,denoise,pnp,mri")
    ap.add_argument("--quick", action="store_true", help="shorter runs (a smoke test)")
    ap.add_argument("--repeats", type=int, default=3, help="runs per row of part 'defaults' (median, range)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                    help="gridprox's precision in parts deconv and denoise (float64 = the numpy peers')")
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="torch threads (default: all cores, torch's own default; imaging's solvers tune their "
                         "count within it as they run, gridprox.core.threads; numpy peers stay single-threaded)")
    ap.add_argument("--models", default=",".join(MODELS),
                    help="DnCNN weights (names in imaging/weights) for the PnP parts D and C")
    ap.add_argument("--rows", default="",
                    help="only these C rows, comma-separated 'image mask' labels (e.g. 'cameraman 256 radial x4')")
    ap.add_argument("--no-fused-tv", action="store_true",
                    help="PDHG's TV dual step done in turn, not fused (finite_diff.tv_dual_step): for A/B timings")
    ap.add_argument("--no-tv-kernel", action="store_true",
                    help="PDHG's plain iterations on torch, not the C kernel (gridprox/core/tv_kernel.c), in "
                         "every part (part periter runs both in turn without it)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of part periter (torch, then C kernel, each)")
    args = ap.parse_args()
    if args.no_fused_tv:
        from imaging.compiler import CompiledTerm
        CompiledTerm._fused_dual_step = lambda self: None
    if args.no_tv_kernel:
        tv_kernel(False).__enter__()
    MODELS[:] = args.models.split(",")
    GP_DTYPE[0] = getattr(torch, args.dtype)
    ROWS[:] = [r.strip() for r in args.rows.split(",") if r.strip()]
    torch.set_num_threads(args.threads)
    print(f"# imaging comparisons, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{platform.processor() or platform.machine()}, torch {torch.__version__} "
          f"({torch.get_num_threads()} threads){', TV dual step unfused' if args.no_fused_tv else ''}"
          f"{', TV kernel off' if args.no_tv_kernel else ''}")
    t = time.perf_counter()
    a = np.random.default_rng(0).standard_normal((512, 512))
    for _ in range(20):
        np.fft.ifft2(np.fft.fft2(a))
    print(f"calibration: numpy 512² complex FFT pair {1e3 * (time.perf_counter() - t) / 20:.1f} ms")
    S = Setup()
    parts = {"deconv": run_deconv, "denoise": run_denoise, "pnp": run_pnp, "mri": run_mri,
             "defaults": lambda S, quick: run_defaults(S, quick, args.repeats),
             "periter": lambda S, quick: run_periter(S, quick, args.repeats, args.rounds)}
    for p in args.part.split(","):
        parts[p](S, args.quick)


if __name__ == "__main__":
    main()
