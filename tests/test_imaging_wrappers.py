"""Wrappers, MRI, inpainting, data generators, DnCNN and plug-and-play: against cvxpy
(complex MRI and masked problems), against the image they started from, and errors."""
import numpy as np
import pytest
import torch

import imaging as im
from gridprox.core import Convolution
from gridprox.errors import ModelingError, SolverError

cp = pytest.importorskip("cvxpy")


pytestmark = pytest.mark.usefixtures("_one_thread")   # conftest.py


def psf5():
    t = np.arange(-2, 3)
    g = np.exp(-t ** 2 / 2.0)
    k = np.outer(g, g)
    return k / k.sum()


def blurred(n=24, seed=0):
    x = im.shepp_logan(n)
    b = Convolution(torch.tensor(psf5()), (n, n))(torch.tensor(x)).numpy()
    return x, b + 0.01 * np.random.default_rng(seed).standard_normal((n, n))


def cvx_tv(X, n):
    dx = cp.vstack([X[1:, :] - X[:-1, :], np.zeros((1, n))])
    dy = cp.hstack([X[:, 1:] - X[:, :-1], np.zeros((n, 1))])
    return cp.sum(cp.norm(cp.vstack([cp.vec(dx, order="C"), cp.vec(dy, order="C")]), 2, axis=0))


@pytest.mark.slow
def test_mri_tv_matches_cvxpy_complex():
    n, lam = 16, 5e-3
    x = im.shepp_logan(n)
    mask = im.radial_mask((n, n), accel=3)
    rng = np.random.default_rng(0)
    y = mask * (np.fft.fft2(x, norm="ortho") + 0.01 * (rng.standard_normal((n, n)) + 1j * rng.standard_normal((n, n))))
    F = np.fft.fft2(np.eye(n * n).reshape(n * n, n, n), norm="ortho").reshape(n * n, n * n).T
    X = cp.Variable((n, n), complex=True)
    rows = np.flatnonzero(mask.ravel())
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(F[rows] @ cp.vec(X, order="C") - y.ravel()[rows])
                                  + lam * cvx_tv(X, n)))
    prob.solve(solver="CLARABEL", tol_gap_rel=1e-10, tol_feas=1e-10, tol_gap_abs=1e-12)
    xr, p = im.mri_reconstruct(y, mask, lam, full_output=True, tol=1e-6)
    assert np.iscomplexobj(xr) and xr.shape == (n, n)
    assert abs(p.value - prob.value) <= 1e-4 * prob.value, (p.value, prob.value)


@pytest.mark.slow
def test_inpaint_matches_cvxpy():
    n, lam = 16, 0.02
    x = im.shepp_logan(n)
    m = (np.random.default_rng(1).random((n, n)) > 0.4).astype(float)
    X = cp.Variable((n, n))
    prob = cp.Problem(cp.Minimize(0.5 * cp.sum_squares(cp.multiply(m, X - x)) + lam * cvx_tv(X, n)))
    prob.solve(solver="CLARABEL", tol_gap_rel=1e-10, tol_feas=1e-10, tol_gap_abs=1e-12)
    for method in ("pdhg", "ladmm"):
        _, p = im.inpaint(x * m, m, lam, full_output=True, method=method, tol=1e-6)
        assert abs(p.value - prob.value) <= 1e-4 * prob.value, (method, p.value, prob.value)


@pytest.mark.slow
def test_types_batches_channels_and_dtypes():
    x, b = blurred()
    k = psf5()
    ref = im.deconvolve(b, k, 1e-3, tol=1e-7)
    assert isinstance(ref, np.ndarray) and ref.dtype == np.float64
    # a batch of 2 images x 3 channels: each (image, channel) is its own problem
    bb = torch.tensor(np.stack([np.stack([b, 2 * b, b])] * 2), dtype=torch.float64)
    out, p = im.deconvolve(bb, k, 1e-3, tol=1e-7, full_output=True)
    assert isinstance(out, torch.Tensor) and out.shape == (2, 3, 24, 24)
    assert p.iterations.shape == (2, 3) and bool(p.result.converged.all())
    np.testing.assert_allclose(out[1, 0].numpy(), ref, atol=2e-4)
    # a problem scaled by 2 (data 2b, weight 2λ) has solution 2x: channel 1 used λ, so compare objective form
    out32 = im.deconvolve(torch.tensor(b, dtype=torch.float32), k, 1e-3, tol=1e-4)
    assert out32.dtype == torch.float32
    assert float(np.abs(out32.numpy() - ref).max()) < 2e-2


def test_clear_errors():
    x, b = blurred()
    bad = b.copy()
    bad[3, 4] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        im.deconvolve(bad, psf5(), 1e-3)
    with pytest.raises(ValueError, match="does not fit"):
        im.deconvolve(b, np.ones((30, 3)) / 90, 1e-3)
    with pytest.raises(ValueError, match="mask"):
        im.inpaint(b, np.ones((5, 5)), 1e-3)
    with pytest.raises(SolverError, match="unknown"):
        im.denoise_tv(b, 0.1, method="newton")
    v, w = im.Variable((4, 4)), im.Variable((4, 4))
    with pytest.raises(ModelingError, match="one Variable"):
        im.Problem(im.sum_squares(v - 1.0) + im.tv(w)).solve()
    with pytest.raises(ModelingError, match="shape"):
        im.sum_squares(im.conv(v, np.ones((3, 3))) - np.ones((5, 4)))


def test_phantom_and_masks():
    ph = im.shepp_logan(128)
    assert ph.shape == (128, 128) and ph.min() == 0.0 and ph.max() == 1.0
    assert ph[64, 64] == pytest.approx(0.2) and ph[0, 0] == 0.0  # centre: 1.0 − 0.8 (Toft's intensities)
    assert ph[64, 40] == 0.0  # inside the left dark ellipse: 1.0 − 0.8 − 0.2
    for accel in (4, 8):
        c = im.cartesian_mask((128, 128), accel)
        assert c.mean() == pytest.approx(1 / accel, abs=1 / 128) and c[0, 0] == 1.0
        assert (c == c[:, :1]).all()  # whole phase-encode lines
        r = im.radial_mask((128, 128), accel=accel)
        assert 1 / accel <= r.mean() < 1.15 / accel and r[0, 0] == 1.0


def test_dncnn_weights_denoise():
    x = im.load_image("cameraman")[128:256, 128:256]
    y = x + 0.1 * np.random.default_rng(1).standard_normal(x.shape)
    model = im.pretrained_dncnn()
    with torch.no_grad():
        d = model(torch.tensor(y, dtype=torch.float32)[None, None], 0.1)[0, 0].double().numpy()
    assert im.psnr(d, x) > im.psnr(y, x) + 6.0  # ~20 dB noisy -> ~28 dB, as SCICO's original


@pytest.mark.slow
def test_dncnn17n_weights_denoise():
    """The default PnP denoiser for deblurring (SCICO's 17-layer DnCNN-17N, converted) loads with its
    17 layers and denoises at the small noise levels PnP ends at."""
    model = im.pretrained_dncnn(im.wrappers.PNP_MODELS["deconvolve"])
    assert len(model.blocks) == 15 and model.sigma_input
    x = im.load_image("astronaut_gray")[100:228, 200:328]
    for s, gain in ((0.02, 3.0), (0.1, 6.0)):
        y = x + s * np.random.default_rng(1).standard_normal(x.shape)
        with torch.no_grad():
            d = model(torch.tensor(y, dtype=torch.float32)[None, None], s)[0, 0].double().numpy()
        assert im.psnr(d, x) > im.psnr(y, x) + gain, (s, im.psnr(d, x), im.psnr(y, x))


@pytest.mark.slow
def test_pnp_beats_tv_on_held_out_image():
    """Deblurring a crop of the astronaut (not in DnCNN's training set): PnP-HQS with the
    shipped DnCNN-6N (cycled flips/rotations, iterates clipped; the default schedule) beats
    TV at its best weight of a small sweep by the issue's 1 dB.  6N, not the deblurring
    default 17N (+0.2 dB more here), keeps the test fast: 17N costs ~4x per call."""
    x = im.load_image("astronaut_gray")[100:228, 200:328]
    t = np.arange(-5, 6)
    g = np.exp(-t ** 2 / (2 * 1.6 ** 2))
    k = np.outer(g, g) / np.outer(g, g).sum()
    b = Convolution(torch.tensor(k), x.shape)(torch.tensor(x)).numpy()
    b = b + 0.01 * np.random.default_rng(0).standard_normal(x.shape)
    tv_best = max(im.psnr(im.deconvolve(b, k, lam, tol=1e-4), x) for lam in (5e-4, 1e-3))
    xp, p = im.deconvolve(b, k, prior="pnp", sigma=0.01, model=im.pretrained_dncnn("dncnn6N"), full_output=True)
    assert im.psnr(xp, x) > tv_best + 1.0, (im.psnr(xp, x), tv_best)
    r = p.result.extra["fixed_point_residuals"]
    assert len(r) == 12 and r[-1] < 0.05 and float(xp.min()) >= 0.0 and float(xp.max()) <= 1.0


@pytest.mark.parametrize("method", ["admm", "pdhg"])
def test_pnp_admm_pdhg_keep_no_graph(method):
    """The pretrained weights require grad: a PnP loop that is not differentiated must not
    build an autograd graph through every denoiser call (100 PnP-ADMM iterations on three
    256² images ran out of 23 GB before the loop ran under no_grad)."""
    x = im.load_image("astronaut_gray")[100:132, 200:232]
    b = Convolution(torch.tensor(psf5()), x.shape)(torch.tensor(x)).numpy()
    model = im.pretrained_dncnn("dncnn6N")
    assert any(p.requires_grad for p in model.parameters())
    xt = torch.tensor(b, dtype=torch.float32)
    out = im.deconvolve(xt, psf5(), prior="pnp", sigma=0.01, model=model, method=method, max_iter=5)
    assert out.grad_fn is None and not out.requires_grad
    assert im.psnr(out.numpy(), x) > im.psnr(b, x)


@pytest.mark.slow
def test_mri_pnp_default_admm_beats_hqs_and_tv():
    """Radial 4x CS-MRI of a 128² cameraman (never used to choose settings): the wrapper's
    default PnP (ADMM, 100 iterations, denoiser at 2·sigma) beats its PnP-HQS loop and TV
    by the issue's 2 dB."""
    n = 128
    x = im.load_image("cameraman").reshape(n, 4, n, 4).mean(axis=(1, 3))   # 4x4 block means
    m = im.radial_mask((n, n), accel=4)
    rng = np.random.default_rng(2)
    y = m * (np.fft.fft2(x, norm="ortho") + 0.01 * (rng.standard_normal((n, n))
                                                     + 1j * rng.standard_normal((n, n))) / np.sqrt(2))
    tv = im.psnr(np.abs(im.mri_reconstruct(y, m, 3e-3, tol=1e-5, max_iter=3000)), x)
    xa, p = im.mri_reconstruct(y, m, prior="pnp", sigma=0.01, full_output=True)
    hqs = im.psnr(np.abs(im.mri_reconstruct(y, m, prior="pnp", sigma=0.01, method="hqs")), x)
    admm = im.psnr(np.abs(xa), x)
    assert p.info["method"] == "admm" and p.info["sigma"] == pytest.approx(0.02)
    assert admm > hqs + 1.0 and admm > tv + 2.0, (admm, hqs, tv)     # measured: 32.79, 30.44, 29.71
