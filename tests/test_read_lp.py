"""read_lp on real LP files (tests/data/README.md says where each comes from), solved
by solve_lp and compared with the optima published for them."""
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import gridprox as gp
from gridprox import LinearProgram, ModelingError
from gridprox.solvers import solve_lp

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name,shape,optimum", [
    ("sc50a.mps", (50, 48), -6.4575077059e+01),    # Netlib
    ("kb2.mps", (43, 41), -1.7499001299e+03),      # Netlib
    ("plan.lp", (8, 7), 296.2166065),              # GLPK example, CPLEX LP format
])
def test_real_files_reach_published_optimum(name, shape, optimum):
    lp = gp.read_lp(DATA / name)
    assert isinstance(lp, LinearProgram) and lp.shape == shape
    assert len(lp.var_names) == shape[1] and len(lp.row_names) == shape[0]
    res = solve_lp(lp, solver="highs")
    assert res.status == "optimal"
    assert res.objective == pytest.approx(optimum, rel=1e-9)
    assert res.residuals["primal"] < 1e-9 and res.residuals["dual"] < 1e-9
    # an independent solver (Clarabel, interior point) through the cvxpy backend agrees
    ref = solve_lp(lp, solver="cvxpy", cvxpy_solver="CLARABEL")
    assert ref.objective == pytest.approx(optimum, rel=1e-6)


def test_names_and_data_of_a_known_row():
    lp = gp.read_lp(DATA / "sc50a.mps")
    i = lp.row_names.index("ROW00004")                    # " E  ROW00004": COL00004 - COL00005 = 0
    j4, j5 = lp.var_names.index("COL00004"), lp.var_names.index("COL00005")
    row = lp.A[i].toarray().ravel()
    assert row[j4] == 1.0 and row[j5] == -1.0 and np.count_nonzero(row) == 2
    assert lp.lc[i] == lp.uc[i] == 0.0
    k = lp.row_names.index("ROW00001")                    # " L  ROW00001", RHS 170
    assert lp.lc[k] == -np.inf and lp.uc[k] == 170.0
    assert lp.c[j4] == -1.0 and np.all(lp.lx == 0) and np.all(np.isinf(lp.ux))


def test_maximisation_is_negated_with_a_warning():
    # murtagh.mps is a maximisation whose fixed-MPS file cannot say so
    with pytest.warns(UserWarning, match="maximises"):
        lp = gp.read_lp(DATA / "murtagh.mps", sense="max")
    res = solve_lp(lp)
    assert res.status == "optimal" and -res.objective == pytest.approx(126.057, abs=5e-4)
    assert solve_lp(gp.read_lp(DATA / "murtagh.mps")).status == "unbounded"   # read as written: min


def test_objsense_of_an_lp_file(tmp_path):
    f = tmp_path / "max.lp"
    f.write_text("Maximize\n obj: 3 x + 2 y + 1\nSubject To\n c1: x + y <= 4\n c2: x + 3 y <= 6\n"
                 "Bounds\n 0 <= x <= 3\nEnd\n")
    with pytest.warns(UserWarning, match="maximises"):
        lp = gp.read_lp(f)
    np.testing.assert_allclose(lp.c, [-3.0, -2.0])
    assert lp.c0 == -1.0
    assert solve_lp(lp).objective == pytest.approx(-(3 * 3 + 2 * 1 + 1))


def test_integer_columns_refused_or_relaxed():
    with pytest.raises(ModelingError, match=r"2 integer columns \(X2, X3\).*relax_integrality"):
        gp.read_lp(DATA / "samp2.mps")
    lp = gp.read_lp(DATA / "samp2.mps", relax_integrality=True)
    # the same LP typed in from the file: min 3x1 + 7x2 - x3 + x4, rows G 1, 8, 5
    A = sp.csr_matrix([[2.0, -1.0, 1.0, -1.0], [1.0, -1.0, -6.0, 4.0], [5.0, 3.0, 0.0, 1.0]])
    ref = LinearProgram(c=[3.0, 7.0, -1.0, 1.0], A=A, lc=[1.0, 8.0, 5.0], uc=[np.inf] * 3,
                        lx=[0.0, 2.0, 0.0, 3.0], ux=[4.0, 5.0, 1.0, 8.0])
    np.testing.assert_array_equal(lp.A.toarray(), A.toarray())
    for field in ("c", "lc", "uc", "lx", "ux"):
        np.testing.assert_array_equal(getattr(lp, field), getattr(ref, field), err_msg=field)


def test_bad_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.mps"):
        gp.read_lp(tmp_path / "nope.mps")
    bad = tmp_path / "bad.mps"
    bad.write_text("this is not an MPS file\n")
    with pytest.raises(ValueError, match="could not parse"):
        gp.read_lp(bad)
    with pytest.raises(ValueError, match="sense"):
        gp.read_lp(DATA / "kb2.mps", sense="maximise")
