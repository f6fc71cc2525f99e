"""The imaging modelling language against cvxpy (Clarabel) on small TV problems:
every method reaches cvxpy's optimum within 1e-4 relative."""
import numpy as np
import pytest
import scipy.sparse as sp

import imaging as im
from gridprox.errors import ModelingError, SolverError


pytestmark = pytest.mark.usefixtures("_one_thread")   # conftest.py

cp = pytest.importorskip("cvxpy")
N = 32


def circulant(k, n):
    """Sparse matrix of circular convolution with a centred kernel on n×n images (row-major)."""
    idx = np.arange(n * n).reshape(n, n)
    rows, cols, vals = [], [], []
    for a in range(k.shape[0]):
        for c in range(k.shape[1]):
            rows.append(idx.ravel())
            cols.append(np.roll(idx, (a - k.shape[0] // 2, c - k.shape[1] // 2), (0, 1)).ravel())
            vals.append(np.full(n * n, k[a, c]))
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), (n * n, n * n))


def cvx_tv(X, n):
    dx = cp.vstack([X[1:, :] - X[:-1, :], np.zeros((1, n))])
    dy = cp.hstack([X[:, 1:] - X[:, :-1], np.zeros((n, 1))])
    return cp.sum(cp.norm(cp.vstack([cp.vec(dx, order="C"), cp.vec(dy, order="C")]), 2, axis=0))


def cvx_solve(expr, constraints=()):
    prob = cp.Problem(cp.Minimize(expr), list(constraints))
    prob.solve(solver="CLARABEL", tol_gap_rel=1e-10, tol_gap_abs=1e-12, tol_feas=1e-10)
    return prob.value


def gaussian_psf(radius=2, s=1.0):
    t = np.arange(-radius, radius + 1)
    g = np.exp(-t ** 2 / (2 * s ** 2))
    k = np.outer(g, g)
    return k / k.sum()


def truth(n=N, seed=0):
    x = np.zeros((n, n))
    x[6:20, 8:26] = 0.8
    x[14:29, 3:12] = 0.4
    yy, xx = np.mgrid[:n, :n]
    x += 0.5 * (((yy - 22) ** 2 + (xx - 22) ** 2) < 30)
    return x


@pytest.fixture(scope="module")
def deconv():
    rng = np.random.default_rng(0)
    k = gaussian_psf()
    M = circulant(k, N)
    b = (M @ truth().ravel()).reshape(N, N) + 0.02 * rng.standard_normal((N, N))
    lam = 2e-3
    X = cp.Variable((N, N))
    fstar = cvx_solve(0.5 * cp.sum_squares(M @ cp.vec(X, order="C") - b.ravel()) + lam * cvx_tv(X, N))
    fnn = cvx_solve(0.5 * cp.sum_squares(M @ cp.vec(X, order="C") - b.ravel()) + lam * cvx_tv(X, N), [X >= 0])
    return k, b, lam, fstar, fnn


@pytest.fixture(scope="module")
def denoise():
    rng = np.random.default_rng(1)
    b = truth() + 0.1 * rng.standard_normal((N, N))
    lam = 0.08
    X = cp.Variable((N, N))
    return b, lam, cvx_solve(0.5 * cp.sum_squares(X - b) + lam * cvx_tv(X, N))


@pytest.mark.slow
@pytest.mark.parametrize("method", im.METHODS)
def test_tv_deconvolution_matches_cvxpy(deconv, method):
    k, b, lam, fstar, _ = deconv
    x = im.Variable(b.shape)
    prob = im.Problem(0.5 * im.sum_squares(im.conv(x, k) - b) + lam * im.tv(x))
    val = prob.solve(method=method, tol=1e-5, max_iter=20000)
    assert prob.status == "optimal"
    assert abs(val - fstar) <= 1e-4 * abs(fstar), (method, val, fstar, prob.iterations)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["pdhg", "admm", "ladmm"])
def test_tv_deconvolution_with_nonneg_matches_cvxpy(deconv, method):
    k, b, lam, _, fnn = deconv
    x = im.Variable(b.shape)
    prob = im.Problem(0.5 * im.sum_squares(im.conv(x, k) - b) + lam * im.tv(x) + im.nonneg(x))
    val = prob.solve(method=method, tol=1e-5, max_iter=20000)
    assert prob.status == "optimal" and float(x.value.min()) >= 0.0
    assert abs(val - fnn) <= 1e-4 * abs(fnn), (method, val, fnn, prob.iterations)


@pytest.mark.slow
@pytest.mark.parametrize("method", im.METHODS)
def test_tv_denoising_matches_cvxpy(denoise, method):
    b, lam, fstar = denoise
    x = im.Variable(b.shape)
    prob = im.Problem(0.5 * im.sum_squares(x - b) + lam * im.tv(x))
    val = prob.solve(method=method, tol=1e-5, max_iter=20000)
    assert prob.status == "optimal"
    assert abs(val - fstar) <= 1e-4 * abs(fstar), (method, val, fstar, prob.iterations)


def test_tv_denoising_and_inpainting_on_the_c_kernel_match_cvxpy(denoise):
    """PDHG's plain iterations on the TV kernel (gridprox/core/tv_kernel.c, where a C compiler
    is found): ROF and inpainting (a pixel-map data term) reach cvxpy's optimum."""
    import shutil
    if shutil.which("cc") is None:
        pytest.skip("no C compiler: PDHG runs on torch alone")
    b, lam, fstar = denoise
    mask = (np.random.default_rng(2).random(b.shape) > 0.3).astype(float)
    X = cp.Variable(b.shape)
    f_inpaint = cvx_solve(0.5 * cp.sum_squares(cp.multiply(mask, X - b)) + lam * cvx_tv(X, N))
    for data, want in ((lambda x: 0.5 * im.sum_squares(x - b), fstar),
                       (lambda x: 0.5 * im.sum_squares(im.mask(x, mask) - mask * b), f_inpaint)):
        x = im.Variable(b.shape)
        prob = im.Problem(data(x) + lam * im.tv(x))
        val = prob.solve(method="pdhg", tol=1e-6, max_iter=20000)
        assert prob.info["tv_kernel"] and prob.status == "optimal"
        assert abs(val - want) <= 1e-5 * abs(want), (val, want, prob.iterations)


@pytest.mark.parametrize("kernel", [True, False])
@pytest.mark.parametrize("channels", [2, 3])
def test_tv_of_channels_inside_the_image_matches_admm(channels, kernel, monkeypatch):
    """TV of a (C, H, W) image with no batch dims: its gradient's component axis comes before the
    channels, not the (…, 2, H, W) layout of the fused dual step and the C kernel, which must not
    be used (with C = 3 the fused step raised; with C = 2 it projected the wrong pairs)."""
    import imaging.problem
    if not kernel:
        monkeypatch.setattr(imaging.problem, "tv_pdhg_iterations", lambda *a: None)
    b = np.random.default_rng(3).random((channels, 16, 12))
    values = []
    for method in ("pdhg", "admm"):
        x = im.Variable(b.shape)
        prob = im.Problem(0.5 * im.sum_squares(x - b) + 0.1 * im.tv(x))
        values.append(prob.solve(method=method, tol=1e-8, max_iter=20000))
        assert prob.status == "optimal"
    assert abs(values[0] - values[1]) <= 1e-6 * abs(values[1]), values
