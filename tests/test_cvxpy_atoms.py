"""cvxpy's LP atoms under ``import gridprox as cp`` (issue 27, missing LP features): each
atom's value on constants is cvxpy's ``.value``, and a problem using it solves (HiGHS) to
real cvxpy's optimum; where cvxpy's DCP rules refuse an atom, gridprox refuses it too."""
import warnings

import cvxpy
import numpy as np
import pytest

import gridprox

pytestmark = pytest.mark.filterwarnings("ignore:The problem includes expressions that don't support CPP",
                                        "ignore:conv is deprecated",
                                        "ignore:The problem has an expression with dimension greater than 2")

V = np.array([[1.0, 3.0, 0.0], [2.0, -1.0, 4.0]])
C4 = np.array([3.0, -1.0, 2.0, 5.0])
T3 = np.arange(1.0, 25.0).reshape(2, 3, 4)


def both(build, ref_solver="HIGHS"):
    """(cvxpy's optimum, gridprox's optimum) of ``build(cp)`` solved with HiGHS (cvxpy: with
    ``ref_solver``, for atoms cvxpy lowers to cones even where they are linear)."""
    ref = build(cvxpy)
    ref.solve(solver=ref_solver)
    got = build(gridprox)
    got.solve(solver="highs")
    assert got.status == ref.status == "optimal"
    return float(ref.value), float(got.value)


def same_value(make):
    """``make(cp, Constant)`` evaluated by both modules: same shape and entries."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = np.asarray(make(cvxpy, cvxpy.Constant).value)
    got = make(gridprox, gridprox.Constant).value
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-12)


# ------------------------------------------------------------------ sorted-sum atoms
CONVEX_ATOMS = {
    "sum_largest": lambda cp, x: cp.sum_largest(x, 2),
    "sum_largest_frac": lambda cp, x: cp.sum_largest(x, 1.5),
    "cvar": lambda cp, x: cp.cvar(x, 0.5),
    "dotsort": lambda cp, x: cp.dotsort(x, [2.0, -1.0]),
    "dotsort_pos": lambda cp, x: cp.dotsort(x, [3.0, 1.0, 1.0]),
    "ptp": lambda cp, x: cp.ptp(x),
    "cummax": lambda cp, x: cp.sum(cp.cummax(x)),
    "neg_sum_smallest": lambda cp, x: -cp.sum_smallest(x, 2),
    "scalene": lambda cp, x: cp.sum(cp.scalene(x - 1, 2, 3)),
}


@pytest.mark.parametrize("name", sorted(CONVEX_ATOMS))
def test_convex_atom_value_and_minimum(name):
    atom = CONVEX_ATOMS[name]
    same_value(lambda cp, C: atom(cp, C(C4)))

    def build(cp):
        x = cp.Variable(4)
        return cp.Problem(cp.Minimize(atom(cp, x) + 0.1 * cp.sum(x)), [x >= C4 - 3, cp.sum(x) == 4, x <= 6])
    ref, got = both(build)
    assert got == pytest.approx(ref, abs=1e-6)


@pytest.mark.parametrize("axis,keepdims", [(None, False), (0, False), (1, True)])
def test_sum_largest_smallest_ptp_with_axis(axis, keepdims):
    for f in ("sum_largest", "sum_smallest"):
        same_value(lambda cp, C: getattr(cp, f)(C(V), 2, axis=axis, keepdims=keepdims))
    same_value(lambda cp, C: cp.ptp(C(V), axis=axis, keepdims=keepdims))

    def build(cp):
        X = cp.Variable((2, 3))
        obj = cp.sum(cp.sum_largest(X, 2, axis=axis, keepdims=keepdims)) + cp.sum(cp.ptp(X, axis=axis))
        return cp.Problem(cp.Minimize(obj), [X >= V, cp.sum(cp.sum_smallest(X, 1, axis=axis)) >= -1])
    ref, got = both(build)
    assert got == pytest.approx(ref, abs=1e-6)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_cummax_along_axis(axis):
    same_value(lambda cp, C: cp.cummax(C(V), axis=axis))

    def build(cp):
        X = cp.Variable((2, 3))
        return cp.Problem(cp.Minimize(cp.sum(cp.cummax(X, axis=axis)) - cp.sum(X)), [X >= V, X <= 5])
    ref, got = both(build)
    assert got == pytest.approx(ref, abs=1e-6)


def test_sorted_sum_atoms_dcp_like_cvxpy():
    for cp in (cvxpy, gridprox):
        x = cp.Variable(3)
        assert cp.sum_largest(x, 2).curvature == "CONVEX"
        assert cp.sum_smallest(x, 2).curvature == "CONCAVE"
        assert cp.sum_largest(cp.Variable(3, nonneg=True), 2).sign == "NONNEGATIVE"
        assert cp.ptp(x).sign == "NONNEGATIVE"
        assert cp.cummax(x).curvature == "CONVEX"
        assert cp.dotsort(cp.abs(x), [1.0, 2.0]).curvature == "CONVEX"    # increasing for W >= 0
        assert cp.dotsort(cp.abs(x), [1.0, -2.0]).curvature == "UNKNOWN"
    x = gridprox.Variable(3)
    for bad in (gridprox.Maximize(gridprox.sum_largest(x, 2)), gridprox.Minimize(gridprox.sum_smallest(x, 2))):
        with pytest.raises(gridprox.ModelingError, match="sum_(largest|smallest)"):
            gridprox.Problem(bad, [x <= 1, x >= -1]).solve(solver="highs")
    with pytest.raises(gridprox.ModelingError, match="cummax"):
        gridprox.Problem(gridprox.Minimize(0), [gridprox.cummax(x) >= 1]).solve(solver="highs")


def test_sorted_sum_atoms_export_to_cvxpy():
    x = gridprox.Variable(4)
    prob = gridprox.Problem(gridprox.Minimize(gridprox.sum_largest(x, 2) + gridprox.cvar(x, 0.5)
                                              + gridprox.dotsort(x, [2.0, -1.0]) + gridprox.ptp(x)
                                              + gridprox.sum(gridprox.cummax(x))),
                            [x >= C4 - 3, gridprox.sum(x) == 4])
    prob.solve(solver="highs")
    ref = prob.to_cvxpy()
    ref.solve(solver="HIGHS")
    assert prob.value == pytest.approx(ref.value, abs=1e-6)


# ------------------------------------------------------------------ affine rearrangements
M3 = np.arange(9.0).reshape(3, 3) - 4
T3 = np.arange(24.0).reshape(2, 3, 4)
AFFINE = {
    "upper_tri": lambda cp, C: cp.upper_tri(C(M3)),
    "vec_to_upper_tri": lambda cp, C: cp.vec_to_upper_tri(C(np.array([1.0, 2.0, 3.0]))),
    "vec_to_upper_tri_strict": lambda cp, C: cp.vec_to_upper_tri(C(np.array([1.0, 2.0, 3.0])), strict=True),
    "convolve": lambda cp, C: cp.convolve(C(np.array([1.0, 2.0])), C(np.array([1.0, -1.0, 3.0]))),
    "conv": lambda cp, C: cp.conv(C(np.array([1.0, 2.0])), C(np.array([1.0, -1.0, 3.0]))),
    "conv_column": lambda cp, C: cp.conv(C(np.array([[1.0], [2.0]])), C(np.array([[1.0], [-1.0], [3.0]]))),
    "squeeze": lambda cp, C: cp.squeeze(C(np.arange(3.0).reshape(1, 3, 1))),
    "squeeze_axis": lambda cp, C: cp.squeeze(C(np.arange(3.0).reshape(1, 3, 1)), axis=0),
    "moveaxis": lambda cp, C: cp.moveaxis(C(T3), 0, -1),
    "swapaxes": lambda cp, C: cp.swapaxes(C(T3), 0, 2),
    "permute_dims": lambda cp, C: cp.permute_dims(C(T3), [1, 2, 0]),
    "diag_vec_k": lambda cp, C: cp.diag(C(np.array([1.0, 2.0])), 1),
    "diag_vec_minus_k": lambda cp, C: cp.diag(C(np.array([1.0, 2.0])), -2),
    "diag_mat_k": lambda cp, C: cp.diag(C(M3), -1),
    "bmat_scalar": lambda cp, C: cp.bmat([[C(np.ones((2, 2))), np.zeros((2, 1))], [np.zeros((1, 2)), 1]]),
}


@pytest.mark.parametrize("name", sorted(AFFINE))
def test_affine_atom_value(name):
    if name == "upper_tri":     # cvxpy's expression is a column; only its .value comes back 1-d
        assert gridprox.upper_tri(gridprox.Constant(M3)).shape == cvxpy.upper_tri(cvxpy.Constant(M3)).shape == (3, 1)
        np.testing.assert_allclose(gridprox.upper_tri(M3).value.ravel(), cvxpy.upper_tri(M3).value)
        return
    same_value(AFFINE[name])


def test_convolve_of_a_column_refused_with_cvxpys_words():
    """convolve takes scalars and 1-d arrays only (conv, deprecated, also columns)."""
    for cp in (cvxpy, gridprox):
        with pytest.raises(ValueError, match="must be scalar or 1D"):
            cp.convolve(np.array([[1.0], [2.0]]), cp.Variable((3, 1)))


def test_affine_atoms_in_a_problem():
    def build(cp):
        X = cp.Variable((3, 3))
        v = cp.Variable(3)
        T = cp.Variable((2, 3, 4))
        cons = [cp.vec_to_upper_tri(v) <= 3,
                cp.convolve(np.array([1.0, 2.0]), v) >= np.array([1.0, -1.0, 3.0, 0.5]),
                cp.diag(X, 1) == np.array([1.0, 2.0]), cp.diag(v, -1)[1:, :2] >= -2,
                cp.moveaxis(T, 0, -1)[:, :, 0] >= M3[:, :1],
                cp.swapaxes(T, 0, 2)[0] <= 4, cp.permute_dims(T, [2, 0, 1])[1] >= 1,
                cp.squeeze(cp.reshape(v, (1, 3), order="C")) >= -4,
                cp.bmat([[X[:2, :2], np.zeros((2, 1))], [np.zeros((1, 2)), 1]]) <= 5,
                X >= -5, T <= 5, T >= -5]
        obj = cp.sum(v) + cp.sum(cp.upper_tri(X)) + cp.sum(cp.diag(X, -1)) + cp.sum(T)
        return cp.Problem(cp.Minimize(obj), cons)
    ref, got = both(build)
    assert got == pytest.approx(ref, abs=1e-6)


# ------------------------------------------------------------------ linear cases of non-LP atoms
LINEAR_CASES = {
    "pnorm_1": lambda cp, x, X: cp.pnorm(x - C4, 1),
    "pnorm_inf": lambda cp, x, X: cp.pnorm(x - C4, "inf"),
    "pnorm_inf_axis": lambda cp, x, X: cp.sum(cp.pnorm(X - V, np.inf, axis=0)),
    "mixed_norm_1_1": lambda cp, x, X: cp.mixed_norm(X - V, 1, 1),
    "mixed_norm_inf_1": lambda cp, x, X: cp.mixed_norm(X - V, "inf", 1),
    "mixed_norm_1_inf": lambda cp, x, X: cp.mixed_norm(X - V, 1, "inf"),
    "tv_1d": lambda cp, x, X: cp.tv(x) + cp.norm1(x - C4),
    "power_1": lambda cp, x, X: cp.sum(cp.power(x, 1)) + cp.norm1(x - C4),
    "abs_of_pos": lambda cp, x, X: cp.sum(cp.abs(cp.pos(x - C4))) + cp.sum(cp.abs(-cp.pos(C4 - x))),
    "norm1_of_pos": lambda cp, x, X: cp.norm1(cp.pos(x - C4)) + cp.norm_inf(cp.neg(x - 2)),
    "constant_of_exp": lambda cp, x, X: cp.exp(1) * cp.sum(x) + cp.sqrt(4) * cp.norm1(x - C4),
}


@pytest.mark.parametrize("name", sorted(LINEAR_CASES))
def test_linear_cases_cvxpy_accepts(name):
    f = LINEAR_CASES[name]
    same_value(lambda cp, C: f(cp, C(C4 + 1), C(V * 2)))

    def build(cp):
        x, X = cp.Variable(4), cp.Variable((2, 3))
        return cp.Problem(cp.Minimize(f(cp, x, X) + 0.01 * cp.sum(X)),
                          [cp.sum(x) == 5, X >= -2, x >= -4, cp.sum(X) >= 12])
    conic = name == "power_1"          # cvxpy's power(x, 1) goes through a power cone
    ref, got = both(build, "CLARABEL" if conic else "HIGHS")
    assert got == pytest.approx(ref, abs=1e-5 if conic else 1e-6)


NUMBERS = {
    "exp": lambda cp, C: cp.exp(C(V)), "square": lambda cp, C: cp.square(C(V)),
    "sum_squares": lambda cp, C: cp.sum_squares(C(V)), "power": lambda cp, C: cp.power(C(C4), 3),
    "huber": lambda cp, C: cp.huber(C(C4), 2), "entr": lambda cp, C: cp.entr(C(np.array([0.0, 0.5]))),
    "log_sum_exp": lambda cp, C: cp.log_sum_exp(C(V), axis=0), "logistic": lambda cp, C: cp.logistic(C(C4)),
    "pnorm_3": lambda cp, C: cp.pnorm(C(V), 3), "norm2_matrix": lambda cp, C: cp.norm2(C(V)),
    "norm_2": lambda cp, C: cp.norm(C(V)), "norm_fro": lambda cp, C: cp.norm(C(V), "fro"),
    "geo_mean": lambda cp, C: cp.geo_mean(C(np.array([1.0, 4.0])), [1, 3]),
    "geo_mean_axis": lambda cp, C: cp.geo_mean(C(T3), axis=(0, 2), keepdims=True),
    "geo_mean_axis_weights": lambda cp, C: cp.geo_mean(C(T3[0]), [3, 1, 2], axis=0),
    "quad_form": lambda cp, C: cp.quad_form(np.array([1.0, 2.0]), np.eye(2)),
    "sigma_max": lambda cp, C: cp.sigma_max(C(V)), "kl_div": lambda cp, C: cp.kl_div(2.0, 1.0),
    "matrix_frac_matrix": lambda cp, C: cp.matrix_frac(C(np.arange(6.0).reshape(3, 2)),
                                                       C(np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.0], [0.0, 0.0, 2.0]]))),
}


@pytest.mark.parametrize("name", sorted(NUMBERS))
def test_non_lp_atoms_of_numbers_are_numbers(name):
    same_value(NUMBERS[name])


def test_non_lp_cases_still_refused():
    x, X = gridprox.Variable(3), gridprox.Variable((2, 2))
    for make, label in [(lambda: gridprox.pnorm(x, 2), "pnorm"), (lambda: gridprox.power(x, 2), "power"),
                        (lambda: gridprox.tv(X), "tv"), (lambda: gridprox.mixed_norm(X, 2, 1), "mixed_norm"),
                        (lambda: gridprox.exp(x), "exp"),
                        (lambda: gridprox.norm(x, 2), "norm")]:
        with pytest.raises(gridprox.ModelingError, match=label):
            make()
    with pytest.raises(gridprox.ModelingError, match="abs"):   # abs of a sign-unknown convex argument
        gridprox.Problem(gridprox.Minimize(gridprox.sum(gridprox.abs(gridprox.maximum(x, -1)))), []).solve()


# ------------------------------------------------------------------ non-LP constructs refused by name
def _non_lp_constructs(cp):
    x, X = cp.Variable(3), cp.Variable((2, 2))
    return {
        "SOC": lambda: cp.SOC(x[0], x[1:]), "ExpCone": lambda: cp.ExpCone(x[0], x[1], x[2]),
        "PSD": lambda: cp.PSD(X), ">>": lambda: X >> 0, "<<": lambda: np.eye(2) << X,
        "PowCone3D": lambda: cp.PowCone3D(x[0], x[1], x[2], 0.5),
        "PowConeND": lambda: cp.PowConeND(x[:2], x[2], np.array([0.5, 0.5])),
        "FiniteSet": lambda: cp.FiniteSet(x, [1.0, 2.0]),
        "**": lambda: 2 ** x, "cumprod": lambda: cp.cumprod(x), "prod": lambda: cp.prod(x),
        "lambda_sum_largest": lambda: cp.lambda_sum_largest(X, 1), "std": lambda: cp.std(x),
        "var": lambda: cp.var(x), "ceil": lambda: cp.ceil(x), "length": lambda: cp.length(x),
        "geo_mean": lambda: cp.geo_mean(x), "log_det": lambda: cp.log_det(X),
    }


@pytest.mark.parametrize("name", sorted(_non_lp_constructs(cvxpy)))
def test_non_lp_constructs_refused_naming_them(name):
    _non_lp_constructs(cvxpy)[name]()         # cvxpy builds it (a conic or non-DCP-for-LP model) ...
    with pytest.raises(gridprox.ModelingError, match=name.replace("*", r"\*")):
        _non_lp_constructs(gridprox)[name]()   # ... gridprox names it instead of an AttributeError


def test_numbers_of_non_lp_operators_and_new_affine_names():
    same_value(lambda cp, C: C(C4) ** 2)
    same_value(lambda cp, C: 2 ** C(C4))
    same_value(lambda cp, C: cp.cumprod(C(V), axis=1))
    same_value(lambda cp, C: cp.std(C(V), axis=0))
    same_value(lambda cp, C: cp.stack([C(C4), C(C4 * 2)], axis=1))
    same_value(lambda cp, C: cp.promote(C(2.0), (3,)))
    for part in ("real", "imag", "conj"):
        same_value(lambda cp, C: getattr(cp, part)(C(C4)))

    def build(cp):
        x = cp.Variable(4)
        S = cp.stack([x, x - 1, 2 * x + 1])
        return cp.Problem(cp.Minimize(cp.sum(S @ np.arange(4.0))), [x >= C4 - 1, x <= 9])
    ref, got = both(build)
    assert got == pytest.approx(ref, abs=1e-6)


def test_cvxpy_public_names_present():
    """Every cvxpy modelling name a script reaches for exists in gridprox (solver names, cvxpy's
    internal classes and settings aside): the LP ones work, the others refuse by name."""
    internal = {"AddExpression", "MulExpression", "Objective", "Sum", "Trace", "Cone", "CallbackParam",
                "GeoMean", "GeoMeanApprox", "MatrixFrac", "Pnorm", "PnormApprox", "Power", "PowerApprox",
                "Prod", "QuadForm", "PowCone3DApprox", "CvxpyDeprecationWarning", "DGPError",
                "deep_flatten", "linearize", "installed_solvers", "disable_warnings", "enable_warnings",
                "warnings_enabled", "get_num_threads", "set_num_threads"}
    missing = [n for n in dir(cvxpy) if not n.startswith("_") and not n.isupper() and n not in internal
               and not isinstance(getattr(cvxpy, n), type(np)) and not hasattr(gridprox, n)]
    assert missing == []


def test_from_cvxpy_reads_the_new_atoms():
    x, X = cvxpy.Variable(4), cvxpy.Variable((3, 3))
    obj = (cvxpy.sum_largest(x, 2) + cvxpy.cvar(x, 0.5) + cvxpy.dotsort(x, [2.0, -1.0]) + cvxpy.ptp(x)
           + cvxpy.sum(cvxpy.cummax(x)) - cvxpy.sum_smallest(x, 2) + cvxpy.sum(cvxpy.upper_tri(X))
           + cvxpy.sum(cvxpy.diag(X, 1)))
    ref = cvxpy.Problem(cvxpy.Minimize(obj), [x >= C4 - 3, cvxpy.sum(x) == 4, X >= -1,
                                              cvxpy.convolve(np.array([1.0, 2.0]), x) >= -3,
                                              cvxpy.vec_to_upper_tri(x[:3]) <= 4])
    ref.solve(solver="HIGHS")
    got = gridprox.from_cvxpy(ref)
    got.solve(solver="highs")
    assert got.value == pytest.approx(ref.value, abs=1e-6)


def test_signs_of_max_min_and_abs_of_signed_curved_arguments():
    for cp in (cvxpy, gridprox):
        x, y = cp.Variable(2), cp.Variable(2, nonneg=True)
        signs = [e.sign for e in (cp.maximum(x, y), cp.minimum(x, y), cp.minimum(-y, x), cp.max(y), cp.min(-y))]
        assert signs == ["NONNEGATIVE", "UNKNOWN", "NONPOSITIVE", "NONNEGATIVE", "NONPOSITIVE"]

    def build(cp):
        x, y = cp.Variable(2), cp.Variable(2, nonneg=True)
        obj = cp.sum(cp.abs(cp.minimum(-y, x))) + cp.sum(cp.abs(cp.maximum(y, x - 3))) + cp.abs(-cp.max(y))
        return cp.Problem(cp.Minimize(obj), [x + y >= np.array([1.0, -2.0]), x <= 5])
    ref, got = both(build)
    assert got == pytest.approx(ref, abs=1e-6)


# ------------------------------------------------------------------ non-LP atoms of Parameters
def _parameter_atom_problem(cp):
    p = cp.Parameter(nonneg=True, value=0.5, name="p")
    q = cp.Parameter(2, value=np.array([3.0, 4.0]), name="q")
    x = cp.Variable(nonneg=True)
    prob = cp.Problem(cp.Minimize(cp.exp(p) * x + p ** 2 * x + cp.sqrt(p) * x),
                      [x >= cp.norm(q), x >= cp.log_sum_exp(q), x <= 10])
    return prob, p, q


def test_non_lp_atoms_of_parameters_are_numbers_at_each_solve():
    """exp(p) * x is an LP once p has a value: not DPP, compiled again per solve, as in cvxpy."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref, rp, rq = _parameter_atom_problem(cvxpy)
        got, gp_, gq = _parameter_atom_problem(gridprox)
        assert got.is_dpp() == ref.is_dpp() is False
        assert got.is_dcp() and ref.is_dcp()
        for p_val, q_val in ((0.5, [3.0, 4.0]), (2.0, [6.0, 8.0])):
            rp.value = gp_.value = p_val
            rq.value = gq.value = np.array(q_val)
            ref.solve(solver="CLARABEL")
            got.solve()
            assert got.status == "optimal"
            assert got.value == pytest.approx(ref.value, rel=1e-7)


def test_non_lp_atom_of_a_variable_still_refused():
    x, p = gridprox.Variable(), gridprox.Parameter(value=1.0)
    with pytest.raises(gridprox.ModelingError, match="exp"):
        gridprox.exp(x + p)
    assert not (x == gridprox.norm(gridprox.Parameter(2))).is_dcp(dpp=True)


@pytest.mark.parametrize("side", ["left", "right"])
def test_kron_with_a_parameter_refills_like_cvxpy(side):
    def build(cp):
        P = cp.Parameter((2, 3), name="P")
        X = cp.Variable((3, 2))
        K = cp.kron(P, X) if side == "left" else cp.kron(X, P)
        W = np.arange(K.size, dtype=float).reshape(K.shape) % 5 - 2
        return cp.Problem(cp.Minimize(cp.sum(cp.multiply(W, K))), [X >= -1, X <= 2]), P
    (ref, rP), (got, gP) = build(cvxpy), build(gridprox)
    assert got.is_dpp()
    for value in (np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]]), np.array([[-1.0, 4.0, 2.0], [0.0, 1.0, 1.0]])):
        rP.value = gP.value = value
        ref.solve(solver="HIGHS")
        got.solve()
        assert got.value == pytest.approx(ref.value, abs=1e-7)


ATOMS_OF_PARAMETERS = {
    "abs": lambda cp, p: cp.abs(p), "maximum": lambda cp, p: cp.maximum(p, 1),
    "norm1": lambda cp, p: cp.norm1(cp.hstack([p, 2 * p])), "pos_plus_max": lambda cp, p: cp.pos(p) + cp.max(
        cp.hstack([p, 3 * p])),
    "minimum": lambda cp, p: cp.minimum(p, -1), "norm_scalar": lambda cp, p: cp.norm(p, 2),
}


@pytest.mark.parametrize("name", sorted(ATOMS_OF_PARAMETERS))
def test_piecewise_atoms_of_parameters_as_upper_limits(name):
    """x <= abs(p) maximised: an epigraph of abs(p) is not pushed down here; gridprox once said
    'unbounded'.  gridprox compiles every such atom of Parameters with p's value at each solve
    (not DPP; cvxpy keeps minimum(p) on the small side DPP, a difference in speed, not answer)."""
    atom = ATOMS_OF_PARAMETERS[name]
    for value in (-2.0, 0.5):
        opt = []
        for cp, kw in ((cvxpy, {"solver": "HIGHS"}), (gridprox, {})):
            p, x = cp.Parameter(value=value), cp.Variable()
            prob = cp.Problem(cp.Maximize(x), [x <= atom(cp, p)])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                prob.solve(**kw)
            assert prob.status == "optimal"
            opt.append(prob.value)
        assert opt[1] == pytest.approx(opt[0], abs=1e-9)


def test_bmat_promotes_scalars_and_vectors_like_numpy_block():
    U = np.array([[10.0], [20.0]])
    for blocks in ([[4.0, U.T], [U, np.identity(2)]], [[1.0, np.array([5.0, 6.0])]]):
        want = cvxpy.bmat(blocks)
        got = gridprox.bmat(blocks)
        assert got.shape == want.shape == np.block(blocks).shape
        np.testing.assert_allclose(got.value, np.block(blocks))
    opt = []
    for cp in (cvxpy, gridprox):
        s, x = cp.Variable(), cp.Variable((2, 1))
        M = cp.bmat([[s, x.T], [x, np.identity(2)]])
        prob = cp.Problem(cp.Minimize(cp.sum(cp.multiply(np.arange(9.0).reshape(3, 3) - 4, M))),
                          [s >= -1, s <= 1, x >= -2, x <= 3])
        prob.solve(**({"solver": "HIGHS"} if cp is cvxpy else {}))
        opt.append(prob.value)
    assert opt[1] == pytest.approx(opt[0], abs=1e-9)


def test_monotonicity_queries_as_cvxpy():
    for make in (lambda cp: cp.dotsort(cp.Variable(5), np.array([2.0, 1.0])),
                 lambda cp: cp.dotsort(cp.Variable(5), np.array([-2.0, -1.0])),
                 lambda cp: cp.dotsort(np.arange(25.0), np.arange(4.0).reshape(2, 2)),
                 lambda cp: cp.maximum(cp.Variable(2), 1), lambda cp: cp.neg(cp.Variable(2)),
                 lambda cp: cp.abs(cp.Variable(2, nonneg=True)), lambda cp: cp.abs(cp.Variable(2))):
        want, got = make(cvxpy), make(gridprox)
        assert (got.is_incr(0), got.is_decr(0)) == (want.is_incr(0), want.is_decr(0))
    opt = []
    for cp in (cvxpy, gridprox):
        prob = cp.Problem(cp.Minimize(cp.dotsort(np.arange(25.0), np.arange(4.0).reshape(2, 2))), [])
        prob.solve(**({"solver": "HIGHS"} if cp is cvxpy else {}))
        opt.append(prob.value)
    assert opt[1] == pytest.approx(opt[0])


@pytest.mark.parametrize("path", ["highs", "pdhg"])
def test_dotsort_with_parameter_weights_as_cvxpy(path):
    """W a Parameter (its order unknown when compiling): the same optimum as cvxpy for each value,
    a DPP problem compiled once, W's sign giving the monotonicity."""
    def build(cp):
        x, w = cp.Variable((2, 3)), cp.Parameter((2, 2))
        r = np.array([[2.0, 1.0, 0.0], [-1.0, -1.0, 0.5]])
        prob = cp.Problem(cp.Maximize(cp.sum(cp.multiply(r, x))),
                          [x >= -1, x <= 2, cp.sum(x) == 1.5, cp.dotsort(x, w) <= 1])
        return prob, w
    ref, rw = build(cvxpy)
    got, gw = build(gridprox)
    assert got.is_dpp() and gridprox.dotsort(gridprox.Variable(3), gridprox.Parameter(2, nonneg=True)).is_incr(0)
    assert not gridprox.dotsort(gridprox.Variable(3), gridprox.Parameter(2)).is_incr(0)
    opts = {"tol": 1e-9} if path == "pdhg" else {}
    for value in ([[1.2, 1.1], [0.0, 0.3]], [[0.5, -2.0], [1.0, 2.0]], [[-1.0, -1.0], [-0.5, 0.2]]):
        rw.value = gw.value = np.array(value)
        want = ref.solve(solver="HIGHS")
        assert got.solve(solver=path, **opts) == pytest.approx(want, abs=1e-6)
        # the constraint holds at gridprox's point, judged by numpy's sorted product
        x = got.variables()[0].value
        assert np.sort(x.ravel()) @ np.sort(np.r_[np.ravel(value), 0.0, 0.0]) <= 1 + 1e-6
