"""Adversarial statuses and inputs (issue 26, part 2), generated cases on every installed backend.

- Options are checked for name, type and range before any work (before gridprox's presolve,
  which may settle a whole LP without calling the backend): a SolverInputError (both a
  SolverError and a ValueError), one line naming the option, raised with the backend and the
  presolve replaced by functions that fail the test if they are reached.
- Warm starts of the wrong length, the wrong batch size, a wrong number of Results, or with
  NaN/inf are refused before solving, naming the expected and the given shapes.
- Absurd magnitudes (|c| or |A| >= 1e20) are refused up front naming the entry; a badly scaled
  but solvable LP warns once for PDHG; the bundled systems trigger neither.
- Crossed bounds: status "infeasible" for that scenario (single LPs, batches, Parameters refilled
  past each other and back), the other scenarios optimal and equal to HiGHS; limits are statuses.
"""
from __future__ import annotations

import dataclasses
import random
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

import gridprox as gp
import gridprox.solvers as solvers
import gridprox.solvers.presolve as presolve_module
from gridprox import datasets
from gridprox.compile.lp import LinearProgram
from gridprox.energy import CapacityExpansion
from gridprox.errors import SolverError
from gridprox.solvers import BadScalingWarning, SolverInputError, solve_lp
from gridprox.solvers import result as st

from energy_toy import toy_system

RNG = random.Random(26)


def _gurobi_ok() -> bool:
    try:
        return solve_lp(_tiny(), solver="gurobi").status == "optimal"
    except SolverError:
        return False


def _tiny(names: bool = False) -> LinearProgram:
    """min x0 + 2 x1  s.t.  x0 + x1 >= 1,  0 <= x <= 5  (optimum 1 at x = (1, 0))."""
    return LinearProgram(c=np.array([1.0, 2.0]), A=sp.csr_matrix(np.array([[1.0, 1.0]])), lc=np.array([1.0]),
                         uc=np.array([np.inf]), lx=np.zeros(2), ux=np.full(2, 5.0),
                         var_names=["build[wind]", "build[gas]"] if names else None,
                         row_names=["balance[z1]"] if names else None)


def _bounds_only() -> LinearProgram:
    """No rows: gridprox's presolve settles it without calling the backend."""
    return LinearProgram(c=np.array([1.0, -1.0]), A=sp.csr_matrix((0, 2)), lc=np.zeros(0), uc=np.zeros(0),
                         lx=np.zeros(2), ux=np.full(2, 3.0))


def _random_lp(seed: int, m: int = 4, n: int = 6) -> LinearProgram:
    """A small feasible, bounded LP (x >= 0 boxed, rows A x >= b with b from a feasible point)."""
    r = np.random.default_rng(seed)
    A = sp.random(m, n, density=0.6, random_state=r, format="csr") + sp.eye(m, n, format="csr")
    x0 = r.uniform(0.5, 1.5, n)
    return LinearProgram(c=r.uniform(0.5, 2.0, n), A=sp.csr_matrix(A), lc=A @ x0 - 0.1, uc=np.full(m, np.inf),
                         lx=np.zeros(n), ux=np.full(n, 10.0))


BACKENDS = ["pdhg", "highs", "cvxpy"] + (["gurobi"] if _gurobi_ok() else [])


@pytest.fixture
def no_work(monkeypatch):
    """The backend and the presolve fail the test if reached: errors must come before them."""
    def reached(*args, **kwargs):
        raise AssertionError("solve_lp reached a backend or the presolve with invalid input")
    monkeypatch.setattr(solvers, "_backend", reached)
    monkeypatch.setattr(presolve_module, "presolve", reached)


def _one_line_error(exc_info, *fragments):
    msg = str(exc_info.value)
    assert isinstance(exc_info.value, SolverError) and isinstance(exc_info.value, ValueError)
    assert "\n" not in msg and len(msg) < 400, msg
    for f in fragments:
        assert f in msg, (f, msg)


# ------------------------------------------------------------------ 1. options
NAN, INF = float("nan"), float("inf")
BAD_VALUES = {
    "tol": [INF, -INF, 0, 0.0, -1e-4, NAN, "1e-4", 1.5, 1, True, [1e-4], np.float64(NAN)],
    "max_iter": [10.5, -5, 0, NAN, INF, "10", True, 1e3, np.float64(100.0)],
    "time_limit": [-1, 0, -INF, NAN, "60", True, np.float64(NAN)],
    "threads": [0, -1, 2.5, "4", NAN, True],
    "verbose": ["yes", 2, NAN, 0.5],
}
MISSPELLED = ["tolerance", "maxiter", "time_limt", "thread", "tol_", "devcie"]


COMMON = [(name, v) for name, values in BAD_VALUES.items() for v in values]


@pytest.mark.parametrize("solver", BACKENDS)
@pytest.mark.parametrize("name,value", COMMON, ids=[f"{n}={v!r}" for n, v in COMMON])
def test_bad_common_option_refused_before_any_work(no_work, solver, name, value):
    for lp in (_tiny(), _bounds_only()):
        for presolve in (None, True):
            with pytest.raises(SolverInputError) as exc:
                solve_lp(lp, solver=solver, presolve=presolve, **{name: value})
            _one_line_error(exc, name)


@pytest.mark.parametrize("solver", BACKENDS)
@pytest.mark.parametrize("name", MISSPELLED)
def test_misspelled_option_refused_even_when_presolve_settles_the_lp(no_work, solver, name):
    with pytest.raises(SolverInputError) as exc:
        solve_lp(_bounds_only(), solver=solver, presolve=True, **{name: 1})
    _one_line_error(exc, name)


PDHG_BAD = [("check_every", 1), ("check_every", 8.0), ("ruiz_iters", -1), ("pc_alpha", 0), ("pc_alpha", NAN),
            ("infeasibility_tol", -1.0), ("infeasibility_checks", 0), ("inaccurate_factor", INF),
            ("native", "yes"), ("cuda_graphs", "on"), ("threads", "many"), ("width", 0), ("width", 2.5),
            ("dtype", "float16"), ("dtype", "int64"), ("device", "meta"), ("device", "nonsense"), ("device", 3.5),
            ("on_result", 5), ("on_finish", "print")]
if not __import__("torch").cuda.is_available():
    PDHG_BAD += [("device", "cuda"), ("device", "cuda:0"), ("cuda_graphs", True)]


@pytest.mark.parametrize("name,value", PDHG_BAD, ids=[f"{n}={v!r}" for n, v in PDHG_BAD])
def test_pdhg_options_refused_before_presolve(no_work, name, value):
    with pytest.raises(SolverInputError) as exc:
        solve_lp(_bounds_only(), solver="pdhg", **{name: value})
    _one_line_error(exc, name if name not in ("device", "dtype") else str(value).split(":")[0])


@pytest.mark.parametrize("solver,name,value", [
    ("highs", "method", "barrier"), ("highs", "highs_presolve", "maybe"), ("highs", "time_limit", "x"),
    ("highs", "simplex_iteration_limit", -3), ("highs", "primal_feasibility_tolerance", -1.0),
    ("highs", "random_seed", "abc"), ("cvxpy", "cvxpy_solver", "NOPE"), ("cvxpy", "cvxpy_solver", 3),
    ("cvxpy", "foo", 1), ("gurobi", "method", "barrier"), ("gurobi", "TimeLimit", -1), ("gurobi", "NoSuchParam", 1)])
def test_backend_options_refused_up_front(no_work, solver, name, value):
    if solver not in BACKENDS:
        pytest.skip(f"{solver} not usable here")
    with pytest.raises(SolverInputError) as exc:
        solve_lp(_bounds_only(), solver=solver, presolve=True, **{name: value})
    _one_line_error(exc, str(value) if name in ("method", "cvxpy_solver") else name)


@pytest.mark.parametrize("solver", BACKENDS)
def test_random_bad_option_values(no_work, solver):
    """Random draws of (name, bad value) pairs, several at once: the first bad one is named."""
    rng = random.Random(BACKENDS.index(solver))
    for _ in range(25):
        picks = rng.sample(COMMON, 2)
        with pytest.raises(SolverInputError) as exc:
            solve_lp(_tiny(), solver=solver, **dict(picks))
        assert any(n in str(exc.value) for n, _ in picks)


@pytest.mark.parametrize("solver", BACKENDS)
def test_good_options_still_solve(solver):
    """The checks refuse nothing valid: each backend solves with its valid common options."""
    opts = {"pdhg": dict(tol=1e-7, max_iter=100_000, time_limit=INF, threads=1, verbose=False),
            "highs": dict(tol=1e-7, time_limit=60, threads=1, verbose=0, method="simplex"),
            "cvxpy": dict(time_limit=60.0),
            "gurobi": dict(tol=1e-7, time_limit=60, threads=1)}[solver]
    for lp in (_tiny(), _bounds_only()):
        res = solve_lp(lp, solver=solver, **opts)
        ref = solve_lp(lp, solver="highs")
        assert res.status == "optimal" and res.objective == pytest.approx(ref.objective, abs=1e-5)
    assert solve_lp(_tiny(), solver=solver, **{k: np.float64(v) if k == "time_limit" else v
                                                 for k, v in opts.items()}).status == "optimal"


def test_problem_and_capacity_expansion_check_options(no_work):
    x = gp.Variable(2, nonneg=True)
    prob = gp.Problem(gp.Minimize(gp.sum(x)), [x <= 3])
    for solver in BACKENDS:
        with pytest.raises(SolverInputError, match="max_iter"):
            prob.solve(solver=solver, max_iter=10.5)
        with pytest.raises(SolverInputError, match="tolerance"):
            prob.solve(solver=solver, tolerance=1e-4)
    model = CapacityExpansion(toy_system(24))
    with pytest.raises(SolverInputError, match="tol=0"):
        model.solve(tol=0)
    with pytest.raises(SolverInputError, match="time_limit"):
        model.solve(time_limit=-1)
    for solver in BACKENDS:
        with pytest.raises(SolverInputError, match="threads"):
            model.solve(solver=solver, threads=0)


def test_highs_session_checks_its_options_when_made():
    from gridprox.solvers.highs import HighsSession

    for bad in ({"time_limit": NAN}, {"threads": 0}, {"no_such_option": 1}, {"tol": INF}):
        with pytest.raises(SolverInputError):
            HighsSession(**bad)
    with pytest.raises(SolverInputError, match="threads"):
        solvers.solve_lp_sequence([_tiny()], solver="highs", threads=2.5)


# ------------------------------------------------------------------ 2. warm starts
def _batch(B: int = 3) -> LinearProgram:
    return LinearProgram.stack([dataclasses.replace(_tiny(), c=np.array([1.0 + k, 2.0])) for k in range(B)])


def _warm_cases():
    n, m, B = 2, 1, 3
    z = np.zeros
    for dn in (-1, 1):
        yield "single", (z(n + dn), z(m)), f"({n + dn},)"
        yield "single", (z(n), z(m + dn)), f"({m + dn},)"
        yield "batch", (z((B, n + dn)), z((B, m))), f"({B}, {n + dn})"
        yield "batch", (z((B, n)), z((B, m + dn))), f"({B}, {m + dn})"
        yield "batch", (z((B + dn, n)), z((B + dn, m))), f"({B + dn}, {n})"
        yield "batch", ("results", B + dn), f"{B + dn} Results"
    yield "single", ("results", 2), "2 Results"
    yield "single", ("results", 1), "pass one Result"
    yield "single", (z((2, n)), z((2, m))), "(2, 2)"
    yield "single", (z((n, 1)), z(m)), f"({n}, 1)"
    for which in ("x", "y"):
        for bad in (np.nan, np.inf, -np.inf):
            for kind in ("single", "batch"):
                x, y = (z(n), z(m)) if kind == "single" else (z((B, n)), z((B, m)))
                (x if which == "x" else y).flat[RNG.randrange((x if which == "x" else y).size)] = bad
                yield kind, (x, y), f"warm_start {which} has a non-finite value"
    yield "single", (z(n), z(m), -1.0), "primal_weight"
    yield "single", (z(n), z(m), np.inf), "primal_weight"
    yield "batch", (z((B, n)), z((B, m)), np.ones(B + 1)), "primal_weight"
    yield "single", (z(n),), "warm_start must be"
    yield "single", (None, z(m)), "no x or y"
    yield "single", (["a", "b"], z(m)), "arrays of numbers"


WARM = list(_warm_cases())


@pytest.mark.parametrize("presolve", [None, False])
@pytest.mark.parametrize("kind,start,expected", WARM, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(WARM)])
def test_bad_warm_start_refused_before_solving(no_work, presolve, kind, start, expected):
    lp = _tiny() if kind == "single" else _batch()
    if isinstance(start[0], str):
        good = st.Result(status="optimal", x=np.zeros(2), y=np.zeros(1), solver="pdhg")
        start = [good] * start[1]
    with pytest.raises(SolverInputError) as exc:
        solve_lp(lp, solver="pdhg", presolve=presolve, warm_start=start)
    _one_line_error(exc, expected)
    if "shape" in str(exc.value):
        assert "expected" in str(exc.value)


def test_bad_warm_start_direct_and_through_problem():
    from gridprox.solvers.pdhg import solve_pdhg

    with pytest.raises(SolverInputError, match=r"x has shape \(3,\), expected \(2,\)"):
        solve_pdhg(_tiny(), warm_start=(np.zeros(3), np.zeros(1)))
    x = gp.Variable(2, nonneg=True)
    prob = gp.Problem(gp.Minimize(gp.sum(x)), [x[0] + x[1] >= 1, x <= 3])
    with pytest.raises(SolverInputError, match="non-finite"):
        prob.solve(solver="pdhg", warm_start=(np.array([np.nan, 0.0]), np.zeros(prob.compile().num_rows)))


def test_good_warm_starts_still_work():
    lp, batch = _tiny(), _batch()
    res = solve_lp(lp, solver="pdhg", tol=1e-7)
    for start in (res, (res.x, res.y), (res.x, res.y, res.primal_weight)):
        assert solve_lp(lp, solver="pdhg", tol=1e-7, warm_start=start).status == "optimal"
    out = solve_lp(batch, solver="pdhg", tol=1e-7)
    for start in (out, (np.stack([r.x for r in out]), np.stack([r.y for r in out])), (res.x, res.y)):
        again = solve_lp(batch, solver="pdhg", tol=1e-7, warm_start=start)
        assert [r.status for r in again] == ["optimal"] * 3


# ------------------------------------------------------------------ 3. magnitudes
HUGE_VALUES = [1e20, -1e20, 3e25, 1e100, -1e300, 1e300]


@pytest.mark.parametrize("solver", BACKENDS)
@pytest.mark.parametrize("where", ["c", "A"])
@pytest.mark.parametrize("value", HUGE_VALUES)
def test_absurd_magnitudes_refused_naming_the_entry(no_work, solver, where, value):
    lp = _tiny(names=True)
    if where == "c":
        lp = dataclasses.replace(lp, c=np.array([1.0, value]))
        fragment = "c at index 1 (build[gas])"
    else:
        lp = dataclasses.replace(lp, A=sp.csr_matrix(np.array([[1.0, value]])))
        fragment = "A at row 0 (balance[z1]), column 1 (build[gas])"
    with pytest.raises(SolverInputError) as exc:
        solve_lp(lp, solver=solver)
    _one_line_error(exc, fragment, "1e+20")


def test_absurd_magnitude_in_one_scenario_of_a_batch_is_named():
    lp = _batch(4)
    c = lp.c.copy()
    c[2, 0] = 1e300
    with pytest.raises(SolverInputError, match="c at scenario 2, index 0 is 1e\\+300"):
        solve_lp(dataclasses.replace(lp, c=c), solver="pdhg")


def test_highs_matrix_limit_named_up_front(no_work):
    lp = dataclasses.replace(_tiny(names=True), A=sp.csr_matrix(np.array([[1.0, 1e16]])))
    with pytest.raises(SolverInputError, match="balance.*HiGHS refuses matrix entries of 1e\\+15"):
        solve_lp(lp, solver="highs")


@pytest.mark.parametrize("kind,value", [("c", 1e10), ("c", 1e18), ("A", 1e10), ("A", 1e14), ("A", 1e17), ("ux", 1e16)])
def test_badly_scaled_warns_once_for_pdhg_only(kind, value):
    lp = _tiny()
    if kind == "c":
        lp = dataclasses.replace(lp, c=np.array([1.0, value]))
    elif kind == "A":
        lp = dataclasses.replace(lp, A=sp.csr_matrix(np.array([[1.0, value]])))
    else:
        lp = dataclasses.replace(lp, ux=np.array([5.0, value]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = solve_lp(lp, solver="pdhg", max_iter=2000)
    scaling = [w for w in caught if issubclass(w.category, BadScalingWarning)]
    assert len(scaling) == 1 and "\n" not in str(scaling[0].message) and "badly scaled" in str(scaling[0].message)
    assert res.status in st.ALL_STATUSES                      # a status, whatever it is
    if kind == "A" and value >= 1e15:                         # beyond HiGHS's matrix limit: refused
        with pytest.raises(SolverInputError, match="HiGHS refuses"):
            solve_lp(lp, solver="highs")
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ref = solve_lp(lp, solver="highs")
    assert not [w for w in caught if issubclass(w.category, BadScalingWarning)]
    assert ref.status == "optimal" and ref.objective == pytest.approx(2 / value if kind == "A" else 1.0)


def test_tiny_entries_and_ordinary_ranges_do_not_warn():
    """Entries HiGHS drops (|a| <= 1e-9, as the synthetic generator's 4e-17) and the spans of
    real models (c over 1e5, A over 1e4) are no reason to warn."""
    lp = LinearProgram(c=np.array([2.0, 1.5e5]), lc=np.array([1.0, 0.0]), uc=np.array([np.inf, 4.0]),
                       A=sp.csr_matrix((np.array([1.0, 1e-17, 1e-4]), np.array([0, 1, 1]), np.array([0, 2, 3])),
                                       shape=(2, 2)), lx=np.zeros(2), ux=np.full(2, 1e4))
    with warnings.catch_warnings():
        warnings.simplefilter("error", BadScalingWarning)
        solvers._check_magnitudes(lp, "pdhg")
        assert solve_lp(_random_lp(0), solver="pdhg").status == "optimal"
    with pytest.warns(BadScalingWarning):
        solvers._check_magnitudes(dataclasses.replace(lp, c=np.array([1e-4, 1.5e5])), "pdhg")


@pytest.mark.parametrize("name", datasets.list_systems())
def test_bundled_systems_neither_refused_nor_warned(name):
    lp = CapacityExpansion(datasets.load_system(name), hours=48).lp()
    with warnings.catch_warnings():
        warnings.simplefilter("error", BadScalingWarning)
        for solver in ("pdhg", "highs"):
            solvers._check_magnitudes(lp, solver)


def test_capital_cost_of_1e300_refused_through_the_model():
    model = CapacityExpansion(toy_system(24))
    carrier = next(n for n in model.sweepable() if n.endswith("_capex"))
    with pytest.raises(SolverInputError, match="1e\\+20"):
        model.solve(inputs={carrier: 1e300})
    x = gp.Variable(2, nonneg=True)
    with pytest.raises(SolverInputError, match="A at row 0"):
        gp.Problem(gp.Minimize(gp.sum(x)), [1e300 * x[0] + x[1] >= 1]).solve(solver="pdhg")


# ------------------------------------------------------------------ 4. statuses
def _crossed(lp: LinearProgram, rng: np.random.Generator) -> LinearProgram:
    """``lp`` with one simple bound (a column's or a row's) pushed past the other."""
    if rng.random() < 0.5:
        j = int(rng.integers(lp.num_vars))
        lx = lp.lx.copy()
        lx[j] = lp.ux[j] + rng.uniform(0.01, 5.0)
        return dataclasses.replace(lp, lx=lx)
    i = int(rng.integers(lp.num_rows))
    uc = lp.uc.copy()
    uc[i] = lp.lc[i] - rng.uniform(0.01, 5.0)
    return dataclasses.replace(lp, uc=uc)


@pytest.mark.parametrize("solver", BACKENDS)
@pytest.mark.parametrize("seed", range(8))
def test_crossed_bounds_single_lp_infeasible(solver, seed):
    lp = _crossed(_random_lp(seed), np.random.default_rng(seed))
    res = solve_lp(lp, solver=solver)
    assert res.status == "infeasible" and "bounds cross" in res.message


@pytest.mark.parametrize("solver", BACKENDS)
@pytest.mark.parametrize("seed", range(4))
def test_crossed_scenario_in_a_batch_others_optimal(solver, seed):
    rng = np.random.default_rng(100 + seed)
    base = _random_lp(seed)
    B = 4
    bad = int(rng.integers(B))
    scenarios = []
    for k in range(B):
        s = dataclasses.replace(base, c=base.c * (1 + 0.1 * k))
        scenarios.append(_crossed(s, rng) if k == bad else s)
    batch = LinearProgram.stack(scenarios)
    out = solve_lp(batch, solver=solver, **({"tol": 1e-7} if solver == "pdhg" else {}))
    for k, (res, lp) in enumerate(zip(out, scenarios)):
        if k == bad:
            assert res.status == "infeasible"
        else:
            ref = solve_lp(lp, solver="highs")
            assert res.status == "optimal" and ref.status == "optimal"
            assert res.objective == pytest.approx(ref.objective, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("solver", BACKENDS)
def test_parameter_bounds_refilled_past_each_other_and_back(solver):
    x = gp.Variable(3, name="x")
    p = gp.Parameter(3, name="p", value=np.zeros(3))
    q = gp.Parameter(3, name="q", value=np.ones(3))
    prob = gp.Problem(gp.Minimize(gp.sum(x)), [x >= p, x <= q])
    for k in range(3):
        p.value = np.where(np.arange(3) == k, 2.0, 0.0)
        prob.solve(solver=solver)
        assert prob.status == "infeasible" and x.value is None
        p.value = np.zeros(3)
        prob.solve(solver=solver)
        assert prob.status == "optimal" and prob.value == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("solver,opts,allowed", [
    ("pdhg", dict(max_iter=1), {"iteration_limit", "optimal_inaccurate"}),
    ("pdhg", dict(time_limit=1e-9), {"time_limit", "optimal_inaccurate"}),
    ("highs", dict(method="simplex", simplex_iteration_limit=0, highs_presolve="off"), {"iteration_limit"}),
    ("highs", dict(time_limit=1e-12), {"time_limit", "optimal"}),
])
def test_limits_are_statuses_never_exceptions(solver, opts, allowed):
    res = solve_lp(_random_lp(3, m=12, n=16), solver=solver, presolve=False, **opts)
    assert res.status in allowed, res.status


@pytest.mark.parametrize("solver", BACKENDS)
def test_infeasible_rows_are_a_status_not_an_exception(solver):
    lp = dataclasses.replace(_tiny(), lc=np.array([20.0]))          # x0 + x1 >= 20 with x <= 5
    assert solve_lp(lp, solver=solver).status == "infeasible"
