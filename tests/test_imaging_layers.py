"""Differentiable reconstruction layers: unrolled and deep-equilibrium gradients against
central finite differences (float64)."""
import numpy as np
import pytest
import torch

from gridprox.core import Convolution
from imaging.layers import TVReconstruction


pytestmark = pytest.mark.usefixtures("_one_thread")   # conftest.py


def setup(n=10):
    g = torch.Generator().manual_seed(0)
    A = Convolution(torch.tensor(np.outer([1, 2, 1], [1, 2, 1]) / 16.0), (n, n))
    xt = torch.zeros(n, n, dtype=torch.float64)
    xt[3:7, 2:8] = 1
    b = A(xt) + 0.05 * torch.randn(n, n, generator=g, dtype=torch.float64)
    w = torch.randn(n, n, generator=g, dtype=torch.float64)
    d = torch.randn(n, n, generator=g, dtype=torch.float64)
    return A, b, w, d


def fd(f, h=1e-5):
    return (f(h) - f(-h)) / (2 * h)


@pytest.mark.slow
@pytest.mark.parametrize("mode, rtol", [("unrolled", 1e-6), ("deq", 1e-3)])
def test_gradients_match_finite_differences(mode, rtol):
    A, b, w, d = setup()
    layer = TVReconstruction(A, 0.05, mode=mode, iters=25, tol=1e-9, max_iter=50000, backward_tol=1e-7)
    if mode == "deq":
        with torch.no_grad():
            layer.log_tau[0] = -1.5  # τ = e^-1.5/‖∇‖: ~3x fewer PDHG iterations on this instance
    bb = b.clone().requires_grad_()
    (w * layer(bb)).sum().backward()

    def loss_at(shift_lam=0.0, shift_b=None, shift_tau=None):
        with torch.no_grad():
            layer.log_lam += shift_lam
            if shift_tau is not None:
                layer.log_tau[3] += shift_tau
            val = float((w * layer(b if shift_b is None else b + shift_b * d)).sum())
            layer.log_lam -= shift_lam
            if shift_tau is not None:
                layer.log_tau[3] -= shift_tau
        return val

    assert float(layer.log_lam.grad) == pytest.approx(fd(lambda h: loss_at(shift_lam=h)), rel=rtol, abs=1e-8)
    assert float((bb.grad * d).sum()) == pytest.approx(fd(lambda h: loss_at(shift_b=h)), rel=rtol, abs=1e-8)
    if mode == "unrolled":
        assert float(layer.log_tau.grad[3]) == pytest.approx(fd(lambda h: loss_at(shift_tau=h)), rel=rtol, abs=1e-9)
    else:  # the backward pass kept one PDHG step's graph, whatever the forward iteration count
        assert layer.forward_iterations > 100 and layer.backward_iterations > 1
