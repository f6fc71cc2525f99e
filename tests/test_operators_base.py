"""Base LinearOperator machinery: composition, sums, scaling, adjoints, norm estimate."""
import pytest
import torch

from gridprox.core import Diagonal, Identity, LinearOperator


class Dense(LinearOperator):
    def __init__(self, M):
        super().__init__(M.shape[1], M.shape[0])
        self.M = M

    def forward(self, x):
        return x @ self.M.T

    def adjoint(self, y):
        return y @ self.M


def test_composition_sum_scale_adjoint_and_norm():
    g = torch.Generator().manual_seed(0)
    M1 = torch.randn(5, 4, generator=g, dtype=torch.float64)
    M2 = torch.randn(4, 3, generator=g, dtype=torch.float64)
    K = Dense(M1) @ Dense(M2)
    x = torch.randn(2, 3, generator=g, dtype=torch.float64)  # a batch of 2
    torch.testing.assert_close(K(x), x @ (M1 @ M2).T)
    assert K.adjoint_error() < 1e-12
    S = 2.0 * Dense(M1) - Dense(M1)
    torch.testing.assert_close(S(torch.ones(4, dtype=torch.float64)), M1 @ torch.ones(4, dtype=torch.float64))
    assert K.norm_estimate(iters=500, tol=1e-12) == pytest.approx(float(torch.linalg.matrix_norm(M1 @ M2, 2)), rel=1e-6)
    assert K.T.T is K


def test_shape_mismatch_message():
    with pytest.raises(ValueError, match="cannot compose"):
        Dense(torch.ones(2, 3)) @ Dense(torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"expected \(\.\.\., 3\)"):
        Identity(3)(torch.ones(4))


def test_diagonal():
    d = torch.tensor([1.0, -3.0, 2.0], dtype=torch.float64)
    D = Diagonal(d)
    assert D.adjoint_error() < 1e-14 and D.norm_estimate() == 3.0
