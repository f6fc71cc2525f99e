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


# Hand-computed measures at points that are not optimal (small_lp: ‖b‖ = ‖(1, 0, 0, 4)‖ = √17 over
# the finite row bounds, ‖c‖ = √5.25).  Each case is also checked against tests/kkt.py, which
# recomputes them without gridprox.
NOT_OPTIMAL = {
    # x = (0.5, 0, 3): row 0 short by 0.5, row 1 over by 2.  y = (2, -0.25): c − Aᵀy = (−1, 0.25, 1);
    # x0 has no upper bound, so its −1 is dual residual.  p = 3.5, d = 1·2 + 4·(−0.25) + 1.5 = 2.5.
    "infeasible_both": ([0.5, 0.0, 3.0], [2.0, -0.25],
                        dict(primal=np.sqrt(4.25) / (1 + np.sqrt(17)), max_row_violation=2.0,
                             dual=1 / (1 + np.sqrt(5.25)), primal_objective=3.5, dual_objective=2.5, gap=1 / 7)),
    # the optimal x with y of the wrong sign on both rows (row 0 has no upper bound, row 1 no
    # lower): y's sign-feasible part is 0, so z = c and d = c0 = 1.5; the wrong part counts in
    # the dual residual as ‖Aᵀ(−1, 0.5)‖ = ‖(−1, −0.5, 1)‖ = 1.5.
    "wrong_sign_y": ([1.0, 0.0, 0.0], [-1.0, 0.5],
                     dict(primal=0.0, dual=1.5 / (1 + np.sqrt(5.25)), primal_objective=2.5, dual_objective=1.5,
                          gap=1 / 5)),
    # the optimal (x, y) plus y1 = 0.3 > 0 on row 1, which has only an upper bound: projecting y
    # would hide it (dual 0, gap 0); ‖Aᵀ(0, 0.3)‖ = ‖(0, 0.3, 0.6)‖ = √0.45.
    "optimum_plus_wrong_sign": ([1.0, 0.0, 0.0], [1.0, 0.3],
                                dict(primal=0.0, dual=np.sqrt(0.45) / (1 + np.sqrt(5.25)), primal_objective=2.5,
                                     dual_objective=2.5, gap=0.0)),
    # feasible x = (1, 1, 0) (p = 4.5) with y = 0: z = c ≥ 0 is absorbed by the lower bounds, d = c0
    "feasible_zero_dual": ([1.0, 1.0, 0.0], [0.0, 0.0],
                           dict(primal=0.0, dual=0.0, primal_objective=4.5, dual_objective=1.5, gap=3 / 7)),
}


@pytest.mark.parametrize("case", sorted(NOT_OPTIMAL))
def test_residuals_at_points_that_are_not_optimal(case):
    from kkt import kkt_measures

    x, y, want = NOT_OPTIMAL[case]
    lp = small_lp()
    got = lp.residuals(x, y)
    mine = kkt_measures(lp, x, y)
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-15), (key, got[key], value)
        assert mine[key] == pytest.approx(value, abs=1e-15), (key, mine[key], value)


def test_a_wrongly_signed_y_is_never_optimal():
    """The optimal x with the optimal y's sign flipped on an active row: dual infeasible, and
    the measures say so (a y projected onto its sign domain first would read as y = 0)."""
    lp = small_lp()
    ok = lp.residuals([1.0, 0.0, 0.0], [1.0, 0.0])
    flipped = lp.residuals([1.0, 0.0, 0.0], [-1.0, 0.0])
    assert ok["dual"] == pytest.approx(0) and ok["gap"] == pytest.approx(0)
    assert flipped["dual"] == pytest.approx(np.sqrt(2) / (1 + np.sqrt(5.25)))   # ‖Aᵀ(−1, 0)‖ = ‖(−1, −1, 0)‖
    assert flipped["gap"] > 0.1


def test_result_repr_and_ok():
    r = Result(status="optimal", objective=1.0, residuals={"primal": 1e-9, "dual": 0.0, "gap": 0.0})
    assert r.ok and "optimal" in repr(r)
    assert not Result(status="infeasible").ok
