"""gridprox.core.sparse and gridprox.lp.precondition against scipy / dense algebra."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from gridprox.lp.precondition import bound_objective_weights, pock_chambolle, precondition, ruiz
from gridprox.core.sparse import SparseMatrixOperator


def random_csr(m, n, seed, density=0.3):
    g = np.random.default_rng(seed)
    A = sp.random(m, n, density=density, random_state=g, format="csr", data_rvs=g.standard_normal)
    A.sort_indices()
    return A


def test_forward_adjoint_and_column_layout_match_scipy():
    A = random_csr(30, 20, 0)
    op = SparseMatrixOperator.from_csr(A.indptr, A.indices, A.data, A.shape)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4, 20, generator=g, dtype=torch.float64)
    y = torch.randn(4, 30, generator=g, dtype=torch.float64)
    np.testing.assert_allclose(op(x).numpy(), (A @ x.numpy().T).T, atol=1e-13)
    np.testing.assert_allclose(op.adjoint(y).numpy(), (A.T @ y.numpy().T).T, atol=1e-13)
    out = torch.empty(30, 4, dtype=torch.float64)
    res = op.matmat(x.T.contiguous(), out=out)
    assert res.data_ptr() == out.data_ptr()
    np.testing.assert_allclose(out.numpy(), A @ x.numpy().T, atol=1e-13)
    assert op.adjoint_error() < 1e-14
    assert op.norm_estimate(tol=1e-10) == pytest.approx(np.linalg.norm(A.toarray(), 2), rel=1e-6)


def test_batched_values_are_one_matrix_per_scenario():
    A = random_csr(12, 9, 1)
    g = np.random.default_rng(2)
    V = g.standard_normal((3, A.nnz))
    op = SparseMatrixOperator.from_csr(A.indptr, A.indices, V, A.shape)
    X = torch.as_tensor(g.standard_normal((9, 3)))
    Y = torch.as_tensor(g.standard_normal((12, 3)))
    AX, ATY = op.matmat(X), op.rmatmat(Y)
    sv = op.singular_values(tol=1e-10)
    for k in range(3):
        Ak = A.copy()
        Ak.data = V[k]
        np.testing.assert_allclose(AX[:, k].numpy(), Ak @ X[:, k].numpy(), atol=1e-13)
        np.testing.assert_allclose(ATY[:, k].numpy(), Ak.T @ Y[:, k].numpy(), atol=1e-13)
        assert float(sv[k]) == pytest.approx(np.linalg.norm(Ak.toarray(), 2), rel=1e-6)
    sub = op.select(torch.tensor([2, 0]))
    np.testing.assert_allclose(sub.matmat(X[:, [2, 0]]).numpy(), AX[:, [2, 0]].numpy(), atol=1e-13)


def test_ruiz_and_pock_chambolle_equilibrate_and_are_exact_diagonal_scalings():
    A = random_csr(40, 25, 3)
    A = sp.diags(10.0 ** np.random.default_rng(4).uniform(-4, 4, 40)) @ A     # badly scaled rows
    A = sp.csr_matrix(A)
    op = SparseMatrixOperator.from_csr(A.indptr, A.indices, A.data, A.shape)
    scaled, d1, d2 = ruiz(op, 30)
    dense = np.abs(scaled.A.to_dense().numpy())
    nz_rows, nz_cols = dense.max(1) > 0, dense.max(0) > 0
    np.testing.assert_allclose(dense.max(1)[nz_rows], 1.0, atol=1e-3)
    np.testing.assert_allclose(dense.max(0)[nz_cols], 1.0, atol=1e-3)
    expect = np.diag(d1[:, 0].numpy()) @ A.toarray() @ np.diag(d2[:, 0].numpy())
    np.testing.assert_allclose(scaled.A.to_dense().numpy(), expect, rtol=1e-12, atol=1e-300)
    pc, r, c = pock_chambolle(op, 1.0)
    dense = np.abs(pc.A.to_dense().numpy())
    # after PC(α=1) every row sum and column sum of |a| is at most 1 ... and ‖Ã‖₂ <= 1
    assert np.linalg.norm(dense, 2) <= 1 + 1e-12
    full, D1, D2 = precondition(op, 10, 1.0)
    np.testing.assert_allclose(full.AT.to_dense().numpy(),
                               (np.diag(D1[:, 0].numpy()) @ A.toarray() @ np.diag(D2[:, 0].numpy())).T,
                               rtol=1e-12, atol=1e-300)


def test_empty_rows_and_columns_keep_unit_scaling():
    A = sp.csr_matrix(np.array([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 8.0]]))
    op = SparseMatrixOperator.from_csr(A.indptr, A.indices, A.data, A.shape)
    _, d1, d2 = precondition(op)
    assert float(d1[0, 0]) == 1.0 and float(d2[1, 0]) == 1.0
    assert torch.isfinite(d1).all() and torch.isfinite(d2).all()


def test_bound_objective_weights_count_equalities_once():
    c = torch.tensor([[3.0], [4.0]])
    lc = torch.tensor([[2.0], [-np.inf], [1.0]])
    uc = torch.tensor([[2.0], [5.0], [np.inf]])
    tb, tc = bound_objective_weights(c, lc, uc)
    assert float(tc) == pytest.approx(1 / 6)
    assert float(tb) == pytest.approx(1 / (1 + np.sqrt(4 + 25 + 1)))
