"""The LinearProgram / Result contracts every backend builds on."""
import numpy as np
import pytest
import scipy.sparse as sp

from gridprox import LinearProgram, Result


def small_lp():
    A = sp.csr_matrix(np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 2.0]]))
    return LinearProgram(c=[1.0, 2.0, 0.5], A=A, lc=[1.0, -np.inf], uc=[np.inf, 4.0],
                         lx=[0, 0, 0], ux=[np.inf, 3.0, np.inf], c0=1.5)


def test_shapes_and_objective():
    lp = small_lp()
    assert lp.shape == (2, 3) and not lp.is_batch
    assert lp.objective([1.0, 0.0, 0.0]) == pytest.approx(2.5)


def test_stack_and_scenario_roundtrip():
    lp1, lp2 = small_lp(), small_lp()
    lp2.c = lp2.c * 2
    batch = LinearProgram.stack([lp1, lp2])
    assert batch.batch_size == 2 and batch.A_values is None
    np.testing.assert_allclose(batch.scenario(1).c, lp2.c)
    np.testing.assert_allclose(batch.objective(np.ones((2, 3))), [lp1.objective(np.ones(3)), lp2.objective(np.ones(3))])


def test_stack_with_varying_matrix_values():
    lp1, lp2 = small_lp(), small_lp()
    lp2.A = lp2.A * 3.0
    batch = LinearProgram.stack([lp1, lp2])
    assert batch.A_values.shape == (2, 4)
    np.testing.assert_allclose(batch.scenario(1).A.toarray(), lp2.A.toarray())
    np.testing.assert_allclose(batch.matvec(np.ones((2, 3)))[1], lp2.A @ np.ones(3))


def test_stack_rejects_other_pattern():
    lp2 = small_lp()
    lp2.A = sp.csr_matrix(np.eye(2, 3))
    with pytest.raises(ValueError, match="sparsity pattern"):
        LinearProgram.stack([small_lp(), lp2])


def test_shape_errors_name_the_field():
    with pytest.raises(ValueError, match=r"LinearProgram.c has length 2, expected 3"):
        LinearProgram(c=[1, 2], A=sp.csr_matrix((2, 3)), lc=[0, 0], uc=[1, 1], lx=[0] * 3, ux=[1] * 3)


@pytest.mark.parametrize("field,value,match", [
    ("c", [1.0, np.nan, 0.0], r"LinearProgram.c has a non-finite value: c at index 1"),
    ("lc", [np.inf, -np.inf], r"lc is \+inf"),
    ("lx", [0.0, 5.0, 0.0], r"bounds inverted \(lx > ux\): lx at index 1"),
])
def test_validate_names_culprit(field, value, match):
    lp = small_lp()
    setattr(lp, field, np.asarray(value))
    with pytest.raises(ValueError, match=match):
        lp.validate()


def test_residuals_at_known_optimum():
    # min x0 + 2 x1 + 0.5 x2 + 1.5 s.t. x0 + x1 >= 1, x1 + 2 x2 <= 4: x = (1, 0, 0), y0 = 1
    lp = small_lp()
    r = lp.residuals([1.0, 0.0, 0.0], [1.0, 0.0])
    assert r["primal"] == 0 and r["dual"] == pytest.approx(0) and r["gap"] == pytest.approx(0)
    r_bad = lp.residuals([0.0, 0.0, 0.0], [1.0, 0.0])
    assert r_bad["max_row_violation"] == pytest.approx(1.0)


def test_result_repr_and_ok():
    r = Result(status="optimal", objective=1.0, residuals={"primal": 1e-9, "dual": 0.0, "gap": 0.0})
    assert r.ok and "optimal" in repr(r)
    assert not Result(status="infeasible").ok
