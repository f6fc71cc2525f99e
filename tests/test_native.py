"""The C kernel of the plain PDHG iterations (gridprox/lp/native.py, plain_kernel.c):
the same iterates as the eager torch iteration, at every width it takes, with shared and
per-scenario data and long rows; solves through it equal eager solves; clean fallbacks."""
from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from gridprox import LinearProgram
from gridprox.lp import PDHGOptions, backends, native
from gridprox.lp.kernel_cache import SOURCE
from gridprox.lp.measures import SUMS, CheckSums, fixed_point_error, metrics
from gridprox.lp.schedule import AllAtOnce
from gridprox.lp.solver import _Solve
from gridprox.solvers.pdhg import solve_pdhg, to_tensors
from test_pdhg_helpers import capacity_expansion_lp, vertex_lp

needs_kernel = pytest.mark.skipif(native.unavailable() is not None,
                                  reason=f"C kernel unavailable: {native.unavailable()}")


def long_row_lp(seed: int = 0) -> LinearProgram:
    """Rows of 1-5 entries plus a dense row and two dense columns (longer than the SELL
    chunks take), 203 rows (not a multiple of 8), every kind of bound."""
    g = np.random.default_rng(seed)
    m, n = 203, 150
    A = sp.random(m, n, density=0.02, random_state=g, format="lil", data_rvs=g.standard_normal)
    A[np.arange(m), g.integers(0, n, m)] = 1.0
    A[7, :] = g.uniform(0.5, 1.5, n)
    A[:, 3] = g.uniform(0.5, 1.5, (m, 1))
    A[:, 111] = g.uniform(-1.5, -0.5, (m, 1))
    A = sp.csr_matrix(A)
    lc = np.where(g.random(m) < 0.3, -np.inf, g.uniform(-2, 0, m))
    uc = np.where(g.random(m) < 0.3, np.inf, lc + np.where(g.random(m) < 0.3, 0.0, g.uniform(0, 3, m)))
    uc = np.where(np.isinf(lc) & np.isinf(uc), 1.0, uc)
    lx = np.where(g.random(n) < 0.2, -np.inf, g.uniform(-1, 0, n))
    ux = np.where(g.random(n) < 0.2, np.inf, g.uniform(0, 2, n))
    return LinearProgram(c=g.standard_normal(n), A=A, lc=lc, uc=uc, lx=lx, ux=ux)


def batch(lp: LinearProgram, width: int, seed: int = 1) -> LinearProgram:
    """``width`` scenarios: c and the row upper bounds vary, the rest is shared (so the
    kernel sees both column strides)."""
    g = np.random.default_rng(seed)
    return LinearProgram.stack([dataclasses.replace(lp, c=lp.c * g.uniform(0.8, 1.2, lp.c.shape),
                                                    uc=lp.uc + g.uniform(0, 0.1, lp.uc.shape))
                                for _ in range(width)])


def solve_state(lp, dtype):
    """A solve set up on ``lp`` with the C kernel: (solve, its kernel, an eager backend)."""
    data = to_tensors(lp, "cpu", dtype).checked()
    p = _Solve(data, PDHGOptions(native=True), None, AllAtOnce(data.batch_size), None, None)
    assert isinstance(p.backend, backends.Native)
    return p, p.backend.kernel, backends.Eager()


def eager_and_native(lp, dtype, iterations=40):
    """(eager, native) iterates after the same plain iterations from the same state."""
    p, kernel, eager = solve_state(lp, dtype)
    s = p.s
    eager.run(s, p.d, p.A, 5)               # leave the zero start, with a non-trivial k
    start = (s.X.clone(), s.Y.clone(), s.k.clone())
    eager.run(s, p.d, p.A, iterations)
    done = (s.X.clone(), s.Y.clone(), s.k.clone())
    s.X.copy_(start[0]), s.Y.copy_(start[1]), s.k.copy_(start[2])
    # runs of 1 (first and last iteration at once), of many (x rebuilt from x̄ and x0 in between)
    kernel.run(s, p.d, 1)
    kernel.run(s, p.d, iterations // 2 - 1)
    kernel.run(s, p.d, iterations - iterations // 2)
    return done, (s.X, s.Y, s.k)


@needs_kernel
@pytest.mark.parametrize("make", [lambda: vertex_lp(30, 45, 3), long_row_lp], ids=["vertex", "long-rows"])
@pytest.mark.parametrize("width", [1, 2, 3, 4, 6, 7, 8, 12, 16, 20])  # 20: the runtime-width loop
def test_kernel_iterates_equal_eager(make, width):
    lp = make() if width == 1 else batch(make(), width)
    (Xe, Ye, ke), (Xn, Yn, kn) = eager_and_native(lp, torch.float64)
    assert torch.equal(ke, kn)
    scale = max(float(Xe.abs().max()), float(Ye.abs().max()), 1.0)
    assert float((Xe - Xn).abs().max()) <= 1e-11 * scale
    assert float((Ye - Yn).abs().max()) <= 1e-11 * scale


@needs_kernel
@pytest.mark.parametrize("width", [1, 16])
def test_kernel_float32(width):
    lp = long_row_lp(2) if width == 1 else batch(long_row_lp(2), width)
    (Xe, Ye, _), (Xn, Yn, _) = eager_and_native(lp, torch.float32, iterations=10)
    scale = max(float(Xe.abs().max()), float(Ye.abs().max()), 1.0)
    assert float((Xe - Xn).abs().max()) <= 1e-4 * scale
    assert float((Ye - Yn).abs().max()) <= 1e-4 * scale


def test_sell_layout_holds_every_entry():
    """The SELL-8 arrays plus the long rows' CSR entries rebuild the matrix exactly."""
    lp = long_row_lp(3)
    A = sp.csr_matrix(lp.A)
    csr = torch.sparse_csr_tensor(torch.tensor(A.indptr, dtype=torch.int32),
                                  torch.tensor(A.indices, dtype=torch.int32), torch.tensor(A.data), A.shape)
    S = native.SellMatrix(csr)
    dense = np.zeros(A.shape)
    C = S.CHUNK
    for c in range(len(S.width)):
        for k in range(int(S.width[c])):
            for r in range(C):
                e = int(S.ptr[c]) + C * k + r
                if c * C + r < A.shape[0]:
                    dense[c * C + r, int(S.col[e])] += float(S.val[e])
    for i in np.flatnonzero(S.is_long.numpy()):
        dense[i, A.indices[A.indptr[i]:A.indptr[i + 1]]] += A.data[A.indptr[i]:A.indptr[i + 1]]
    np.testing.assert_array_equal(dense, A.toarray())
    assert S.is_long.sum() == 1 and S.has_long.sum() == 1


@needs_kernel
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-6), ("float32", 1e-3)])
def test_solves_through_the_kernel_equal_eager_solves(dtype, tol):
    lp = capacity_expansion_lp(1, 168)
    fast = solve_pdhg(lp, tol=tol, dtype=dtype, native=True)
    slow = solve_pdhg(lp, tol=tol, dtype=dtype, native=False)
    assert fast.status == slow.status == "optimal"
    assert fast.objective == pytest.approx(slow.objective, rel=10 * tol)
    if dtype == "float64":                   # same arithmetic up to rounding: same restarts
        assert fast.iterations == slow.iterations
        np.testing.assert_allclose(fast.x, slow.x, rtol=1e-6, atol=1e-6 * np.abs(slow.x).max())


@needs_kernel
def test_batched_solve_through_the_kernel():
    lp = batch(vertex_lp(40, 60, 5), 5)
    fast = solve_pdhg(lp, tol=1e-6, native=True)
    slow = solve_pdhg(lp, tol=1e-6, native=False)
    for f, s in zip(fast, slow):
        assert f.status == s.status == "optimal" and f.iterations == s.iterations
        assert f.objective == pytest.approx(s.objective, rel=1e-8)


def test_native_option_is_checked():
    with pytest.raises(ValueError, match="PDHGOptions.native"):
        solve_pdhg(vertex_lp(10, 15, 0), native="yes")


def _c_enum(first: str) -> list[str]:
    """The names of plain_kernel.c's enum that starts with ``first``."""
    source = SOURCE.read_text()
    body = re.search(r"enum\s*\{\s*(" + first + r"[^}]*)\}", source).group(1)
    return [name.strip() for name in body.split(",")]


def test_kernel_layouts_match_python():
    """The C enums of the data and of the check's sums list the Python names in their order."""
    assert _c_enum("D_C") == ["D_" + n.upper().replace("_", "") for n in native.PlainKernel.DATA] + ["ND"]
    assert _c_enum("S_PRIMAL") == ["S_" + n.upper() for n in SUMS] + ["NSUM"]


@pytest.mark.slow
@pytest.mark.parametrize("env", [{"GRIDPROX_NATIVE": "0"}, {"CC": "/nonexistent/cc"}], ids=["disabled", "no-compiler"])
def test_without_the_kernel_solves_stay_eager(env, tmp_path):
    """No kernel (disabled, or no compiler; a fresh cache so nothing built before is found):
    solves run eagerly and give the same answer; native=True says why it cannot."""
    script = (
        "import numpy as np, pytest\n"
        "from gridprox.lp import native\n"
        "from gridprox.solvers.pdhg import solve_pdhg\n"
        "from test_pdhg_helpers import vertex_lp\n"
        "lp = vertex_lp(20, 30, 4)\n"
        "r = solve_pdhg(lp, tol=1e-6)\n"
        "assert r.status == 'optimal', r.status\n"
        "assert native.unavailable() is not None\n"
        "with pytest.raises(RuntimeError, match='C kernel does not apply'):\n"
        "    solve_pdhg(lp, native=True)\n"
        "print(native.unavailable())\n")
    environment = dict(os.environ, GRIDPROX_CACHE=str(tmp_path), **env)
    done = subprocess.run([sys.executable, "-c", script], cwd=os.path.dirname(__file__), env=environment,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert ("GRIDPROX_NATIVE=0" if "GRIDPROX_NATIVE" in env else "nonexistent") in done.stdout


@needs_kernel
@pytest.mark.parametrize("make", [lambda: vertex_lp(30, 45, 3), long_row_lp], ids=["vertex", "long-rows"])
@pytest.mark.parametrize("width", [1, 2, 4, 5, 8, 16])
def test_kernel_check_equals_eager_check(make, width):
    """The kernel's check step writes the eager step's x̂, x̄, A x̄, ŷ, A x̂ and Aᵀŷ, and its
    sums equal the eager ones, hence the same metrics and fixed-point error."""
    lp = make() if width == 1 else batch(make(), width)
    p, kernel, eager = solve_state(lp, torch.float64)
    s = p.s
    eager.run(s, p.d, p.A, 7)
    names = ("XH", "XB", "AXB", "YH", "AXH", "ATYH")
    want_sums = eager.check(s, p.d, p.A)
    want = {name: getattr(s, name).clone() for name in names}
    for name in names:
        getattr(s, name).zero_()
    sums = CheckSums(kernel.check(s, p.d))
    for name in names:
        np.testing.assert_allclose(getattr(s, name).numpy(), want[name].numpy(), rtol=1e-12, atol=1e-12,
                                   err_msg=name)
    for name in SUMS:
        np.testing.assert_allclose(getattr(sums, name).numpy(), getattr(want_sums, name).numpy(),
                                   rtol=1e-9, atol=1e-13, err_msg=name)
    np.testing.assert_allclose(metrics(sums, p.d).numpy(), metrics(want_sums, p.d).numpy(), rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(fixed_point_error(sums, s).numpy(), fixed_point_error(want_sums, s).numpy(),
                               rtol=1e-7)
