"""Defaults as a new user meets them: every method stops at its default tolerance without
warning, an iteration limit that ends a solve early warns, and x.value comes back in the
data's array type."""
import warnings

import numpy as np
import pytest
import torch

import imaging as im

pytestmark = pytest.mark.usefixtures("_one_thread")   # conftest.py


def problem(n=64, kind=np.asarray):
    truth = im.load_image("cameraman")[200:200 + n, 200:200 + n]
    psf = im.gaussian_psf(1.6, 11)
    b = im.blur(truth, psf) + 0.01 * np.random.default_rng(0).standard_normal(truth.shape)
    x = im.Variable(b.shape)
    return x, im.Problem(0.5 * im.sum_squares(im.conv(x, kind(psf)) - kind(b)) + 1e-3 * im.tv(x)), truth, b


@pytest.mark.parametrize("method", im.METHODS)
def test_every_method_stops_at_its_default_tolerance_without_warning(method):
    x, prob, truth, b = problem()
    with warnings.catch_warnings():
        warnings.simplefilter("error", im.IterationLimitWarning)
        prob.solve(method=method)
    assert prob.status == "optimal" and prob.info["tol"] == im.DEFAULT_TOL[method]
    assert prob.iterations < 500, prob.iterations   # ladmm ran into its 5000 before residual balancing
    assert im.psnr(x.value, truth) > im.psnr(b, truth) + 1.0


def test_iteration_limit_warns():
    x, prob, _, _ = problem(32)
    with pytest.warns(im.IterationLimitWarning, match="iteration limit"):
        prob.solve(method="pdhg", max_iter=3)
    assert prob.status == "iteration_limit"


def test_value_in_the_data_array_type():
    x, prob, _, b = problem(32)
    prob.solve()
    assert isinstance(x.value, np.ndarray) and x.value.dtype == np.float64 and x.value.shape == b.shape
    x, prob, _, _ = problem(32, kind=torch.as_tensor)
    prob.solve()
    assert isinstance(x.value, torch.Tensor)
    out = im.denoise_tv(b, 0.05)
    assert isinstance(out, np.ndarray)
    assert isinstance(im.denoise_tv(torch.as_tensor(b, dtype=torch.float32), 0.05), torch.Tensor)
