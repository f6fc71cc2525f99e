"""Malformed calls fail as under cvxpy: the same exception class and cvxpy's words (cvxpy's
own tests match them), and the shapes cvxpy infers where the call is valid."""
import cvxpy
import numpy as np
import scipy.sparse as sp
import pytest

import gridprox

BAD_CALLS = {
    "diag_of_rectangle": lambda cp: cp.diag(cp.Variable((3, 2))),
    "trace_of_rectangle": lambda cp: cp.trace(cp.Variable((3, 2))),
    "upper_tri_of_rectangle": lambda cp: cp.upper_tri(cp.Variable((3, 2))),
    "vec_to_upper_tri_not_triangular": lambda cp: cp.vec_to_upper_tri(cp.Variable(4)),
    "vec_to_upper_tri_matrix": lambda cp: cp.vec_to_upper_tri(cp.Variable((2, 2))),
    "max_axis_out_of_bounds": lambda cp: cp.max(cp.Variable(3), axis=4),
    "max_with_expression_axis": lambda cp: cp.max(cp.Variable(3), cp.Variable(3)),
    "min_with_expression_axis": lambda cp: cp.min(cp.Variable(3), cp.Variable(3)),
    "sum_smallest_negative_k": lambda cp: cp.sum_smallest(cp.Variable(3), -1),
    "sum_largest_zero_k": lambda cp: cp.sum_largest(cp.Variable(3), 0),
    "diff_too_short": lambda cp: cp.diff(np.ones((1, 5)), axis=0),
    "reshape_wrong_size": lambda cp: cp.reshape(cp.Variable((2, 3)), (8, -1), order="F"),
    "reshape_two_unknowns": lambda cp: cp.reshape(cp.Variable((2, 3)), (-1, -1), order="F"),
    "reshape_negative": lambda cp: cp.reshape(cp.Variable((2, 3)), (-1, -2), order="F"),
    "reshape_zero": lambda cp: cp.reshape(cp.Variable((2, 3)), (-1, 0), order="F"),
    "squeeze_non_singleton": lambda cp: cp.squeeze(np.ones((2, 1, 3)), axis=-1),
    "squeeze_out_of_bounds": lambda cp: cp.squeeze(np.ones((2, 1, 3)), axis=5),
    "outer_matrix_x": lambda cp: cp.outer(np.ones((2, 2)), np.ones(3)),
    "outer_matrix_y": lambda cp: cp.outer(np.ones(3), np.ones((2, 2))),
    "maximum_one_argument": lambda cp: cp.maximum(1),
    "minimum_one_argument": lambda cp: cp.minimum(1),
    "max_of_list": lambda cp: cp.max([cp.Variable(), 1]),
    "norm_of_list": lambda cp: cp.norm([cp.Variable(), cp.Variable()]),
    "norm_nuc_of_vector": lambda cp: cp.norm(cp.Variable(2), "nuc"),
    "norm_fro_with_axis": lambda cp: cp.norm(cp.Variable((3, 4)), "fro", axis=0),
    "sum_repeated_axis": lambda cp: cp.sum(cp.Variable((2, 3, 4)), axis=(0, 0)),
    "sum_scalar_axis_1": lambda cp: cp.sum(cp.Parameter(value=2.0), axis=1),
    "sum_float_axis": lambda cp: cp.sum(cp.Parameter(value=2.0), axis=0.0),
    "float_index": lambda cp: cp.Variable(2)[1.0],
    "bounds_one_item": lambda cp: cp.Variable((2, 2), bounds=[0]),
    "bounds_not_a_list": lambda cp: cp.Variable((2, 2), bounds=10),
    "bounds_wrong_shape": lambda cp: cp.Variable((2, 2), bounds=[np.zeros((3, 3)), np.ones((3, 3))]),
    "bounds_crossed": lambda cp: cp.Variable((2, 2), bounds=[5, 0]),
    "bounds_nan": lambda cp: cp.Variable((2, 2), bounds=[np.nan, 10]),
    "upper_bound_minus_inf": lambda cp: cp.Variable((2, 2), bounds=[0, -np.inf]),
    "lower_bound_inf": lambda cp: cp.Variable((2, 2), bounds=[np.inf, 10]),
    "variable_bound_on_a_variable": lambda cp: cp.Variable(bounds=[0, cp.Variable() + 1]),
    "parameter_bound_on_a_parameter": lambda cp: cp.Parameter(bounds=[cp.Parameter(), 10]),
    "too_many_indices": lambda cp: cp.Variable(2)[2, 0],
    "index_out_of_bounds": lambda cp: cp.Variable(2)[100],
    "matmul_scalar": lambda cp: cp.Variable(2) @ cp.Constant(2.0),
    "division_shapes": lambda cp: cp.Variable(2) / np.array([2.0, 2.0, 3.0]),
    "broadcast_to_3d": lambda cp: cp.broadcast_to(cp.Variable(3), shape=(2, 2, 2)),
    "broadcast_to_int_shape": lambda cp: cp.broadcast_to(cp.Variable(3), shape=4),
    "broadcast_to_smaller": lambda cp: cp.broadcast_to(cp.Variable((5, 4)), shape=(4,)),
    "moveaxis_source_bounds": lambda cp: cp.moveaxis(cp.Constant(np.zeros((2, 3, 4))), [3], [0]),
    "moveaxis_repeated": lambda cp: cp.moveaxis(cp.Constant(np.zeros((2, 3, 4))), [0, 0], [1, 2]),
    "moveaxis_counts": lambda cp: cp.moveaxis(cp.Constant(np.zeros((2, 3, 4))), [0], [1, 2]),
    # cvxpy's checks on non-LP atoms' arguments and on bounds, run before gridprox refuses or folds them
    "dotsort_long_w": lambda cp: cp.dotsort(cp.Variable(5), [1, 2, 3, 4, 5, 8]),
    "dotsort_variable_w": lambda cp: cp.dotsort(cp.Variable(5), cp.Variable(2)),
    "conv_variable_first": lambda cp: cp.conv(cp.Variable(2), -1),
    "convolve_two_variables": lambda cp: cp.convolve(cp.Variable(2), cp.Variable(2)),
    "symmetric_rectangle": lambda cp: cp.Variable((4, 3), symmetric=True),
    "hermitian_vector": lambda cp: cp.Variable(3, hermitian=True),
    "psd_parameter_rectangle": lambda cp: cp.Parameter((2, 3), PSD=True),
    "sparsity_index_arrays": lambda cp: cp.Variable((3, 3), sparsity=[(0, 1), (0, 1), (0, 1)]),
    "sparsity_lengths": lambda cp: cp.Variable((3, 3), sparsity=[(0, 1), (0, 1, 2)]),
    "sparsity_out_of_bounds": lambda cp: cp.Variable((3, 3), sparsity=[(0, 1, 2), (3, 4, 5)]),
    "sparsity_of_scalar": lambda cp: cp.Variable(sparsity=[(0, 1)]),
    "symmetric_and_sparse": lambda cp: cp.Variable((2, 2), symmetric=True, sparsity=[(0, 1), (0, 1)]),
    "symmetric_and_diag": lambda cp: cp.Variable((2, 2), symmetric=True, diag=True),
    "lambda_max_unsymmetric": lambda cp: cp.lambda_max(np.array([[1.0, 2.0], [0.0, 1.0]])).value,
    "log_det_unsymmetric": lambda cp: cp.log_det(np.array([[1.0, 2.0], [0.0, 1.0]])).value,
    "lambda_sum_largest_rectangle": lambda cp: cp.lambda_sum_largest(cp.Variable((2, 3)), 1),
    "partial_trace_rectangle": lambda cp: cp.partial_trace(cp.Variable((2, 3)), [1, 2]),
    "partial_trace_dims": lambda cp: cp.partial_trace(cp.Variable((4, 4)), [3, 2]),
    "partial_transpose_dims": lambda cp: cp.partial_transpose(cp.Variable((4, 4)), [3, 2]),
    "std_tuple_axis": lambda cp: cp.std(cp.Variable((2, 3)), axis=(0, 1)),
    "sparse_bounds": lambda cp: cp.Variable((2, 2), bounds=[sp.eye(2), None]),
    "moveaxis_destination_repeated": lambda cp: cp.moveaxis(cp.Constant(np.zeros((2, 3, 4))), [0, 1], [0, 0]),
}


@pytest.mark.parametrize("name", sorted(BAD_CALLS))
def test_same_exception_and_cvxpy_words(name):
    with pytest.raises(Exception) as want:
        BAD_CALLS[name](cvxpy)
    with pytest.raises(Exception) as got:
        BAD_CALLS[name](gridprox)
    assert isinstance(got.value, type(want.value))
    # cvxpy's words lead; gridprox may name the expression after them
    words = str(want.value).split(":")[0] if "Invalid arguments for cp.sum" in str(want.value) else \
        str(want.value).split(" (")[0].split(" with shapes")[0].split(". (")[0]
    assert words in str(got.value)


SHAPES = {
    "reshape_minus_one_column": lambda cp: cp.reshape(cp.Variable((2, 3)), (-1, 1), order="F"),
    "reshape_minus_one_middle": lambda cp: cp.reshape(cp.Variable((2, 3, 4)), (2, -1, 4), order="F"),
    "reshape_minus_one_flat": lambda cp: cp.reshape(cp.Variable((2, 3)), -1, order="F"),
    "squeeze_tuple_axis": lambda cp: cp.squeeze(np.ones((2, 1, 3, 1, 1)), axis=(1, -2)),
    "sum_scalar_axis_0": lambda cp: cp.sum(cp.Parameter(value=2.0), axis=0, keepdims=True),
    "sum_empty_axes": lambda cp: cp.sum(cp.Variable((2, 3)), axis=(), keepdims=True),
    "vec_to_upper_tri_row": lambda cp: cp.vec_to_upper_tri(np.arange(6.0).reshape(1, 6)),
    "outer_scalars": lambda cp: cp.outer(3, np.ones(4)),
}


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_valid_calls_have_cvxpys_shape_and_value(name):
    want, got = SHAPES[name](cvxpy), SHAPES[name](gridprox)
    assert got.shape == want.shape
    if want.value is not None:
        np.testing.assert_allclose(got.value, want.value)


def test_cumsum_of_a_scalar_warns_as_cvxpy():
    with pytest.warns(FutureWarning, match="0-dimensional"):
        gridprox.cumsum(gridprox.Variable(()))


def test_long_index_lists_print_as_in_cvxpy():
    key = list(range(178))
    assert str(gridprox.Variable((200, 10), name="exp")[key, 6]) == \
        cvxpy.Variable((200, 10), name="exp")[key, 6].name()


def test_value_of_wrong_shape_in_cvxpys_words_and_named():
    for kind in ("Variable", "Parameter"):
        with pytest.raises(ValueError) as want:
            getattr(cvxpy, kind)(3, name="v").value = np.ones(2)
        with pytest.raises(ValueError) as got:
            getattr(gridprox, kind)(3, name="v").value = np.ones(2)
        assert str(got.value) == str(want.value)
        assert got.value.__notes__ == ["'v' has shape (3,)"]


def test_culprit_joins_the_message_where_python_has_no_notes():
    """Python 3.10 has no exception notes: the culprit follows cvxpy's words in the message."""
    from gridprox.errors import naming

    class NoNotes(ValueError):
        def __getattribute__(self, name):
            if name == "add_note":
                raise AttributeError(name)
            return super().__getattribute__(name)

    assert str(naming(NoNotes("Cvxpy's words."), "x[0]")) == "Cvxpy's words. (x[0])"
    exc = naming(ValueError("Cvxpy's words."), "x[0]")
    assert (str(exc), getattr(exc, "__notes__", None)) in ((("Cvxpy's words."), ["x[0]"]), ("Cvxpy's words. (x[0])", None))
    from gridprox.cli import _msg      # the CLI's error line carries the note
    assert _msg(exc) == "Cvxpy's words. x[0]" or _msg(exc) == "Cvxpy's words. (x[0])"


def test_norm_of_a_scalar_is_its_absolute_value_as_in_cvxpy():
    """cvxpy reads every p-norm of one entry as abs: an LP gridprox must solve, not refuse."""
    opt = []
    for cp, kw in ((cvxpy, {"solver": "HIGHS"}), (gridprox, {})):
        x = cp.Variable()
        prob = cp.Problem(cp.Minimize(cp.norm(x - 3, 2) + 0.5 * x))
        prob.solve(**kw)
        opt.append(prob.value)
    assert opt[1] == pytest.approx(opt[0], abs=1e-7)
    assert opt[0] == pytest.approx(1.5)


# ------------------------------------------------------------------ numpy functions on expressions
BINARY_UFUNCS = [np.add, np.subtract, np.matmul, np.equal, np.less_equal, np.greater_equal]


@pytest.mark.parametrize("ufunc", BINARY_UFUNCS, ids=lambda u: u.__name__)
def test_array_op_expression_is_the_reflected_operator(ufunc):
    a = np.array([[1.0, 3.0], [3.0, 1.0]])
    out = {}
    for cp in (cvxpy, gridprox):
        x = cp.Variable((2, 2))
        x.value = np.array([[10.0, 11.0], [12.0, 13.0]])
        got = ufunc(a, x)
        out[cp] = (type(got).__name__, np.asarray(got.value) if hasattr(got, "value") and got.value is not None
                   else None, isinstance(got, cp.Constraint))
    assert out[gridprox][2] == out[cvxpy][2]
    if out[cvxpy][1] is not None and not out[cvxpy][2]:
        np.testing.assert_allclose(out[gridprox][1], out[cvxpy][1])


@pytest.mark.parametrize("call", [lambda x: np.sqrt(x), lambda x: np.add(x, np.ones((2, 2))),
                                  lambda x: np.exp(x)])
def test_other_numpy_functions_refused_in_cvxpys_words(call):
    from cvxpy.expressions.expression import __NUMPY_UFUNC_ERROR__ as words
    with pytest.raises(RuntimeError) as got:
        call(gridprox.Variable((2, 2)))
    assert str(got.value) == words


def test_inplace_update_of_an_array_refused():
    from cvxpy.expressions.expression import __INPLACE_MUTATION_ERROR__ as words
    a = np.array([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError) as got:
        a += gridprox.Variable(3)
    assert str(got.value) == words
    assert np.array_equal(a, [1.0, 2.0, 3.0])


def test_builtin_abs_refused_as_cvxpy():
    from cvxpy.expressions.expression import __ABS_ERROR__ as words
    for cp in (cvxpy, gridprox):
        with pytest.raises(TypeError) as got:
            abs(cp.Variable(2))
        assert str(got.value) == words


def test_float_in_a_slice_is_an_invalid_index():
    for cp in (cvxpy, gridprox):
        with pytest.raises(IndexError, match="float is an invalid index type"):
            cp.Variable((3, 2))[:2.0:40]


def test_float_array_index_in_numpys_words():
    for cp in (cvxpy, gridprox):
        with pytest.raises(IndexError, match=r"^arrays used as indices must be of integer \(or boolean\) type$"):
            cp.Variable(2)[np.array([1.0, 2.0])]


def test_empty_index_lists_are_no_attribute_as_in_cvxpy():
    for kw in ({"sparsity": []}, {"boolean": []}, {"integer": []}):
        assert cvxpy.Variable((2, 2), **kw).shape == gridprox.Variable((2, 2), **kw).shape == (2, 2)


@pytest.mark.parametrize("build", [lambda cp: cp.Minimize(cp.Variable()) + cp.Maximize(cp.Variable()),
                                   lambda cp: cp.Minimize(cp.Variable()) - cp.Minimize(cp.Variable())])
def test_mixed_objectives_refused_in_cvxpys_words(build):
    with pytest.raises(cvxpy.error.DCPError) as want:
        build(cvxpy)
    with pytest.raises(gridprox.error.DCPError) as got:
        build(gridprox)
    assert str(got.value) == str(want.value)
    assert got.value.__notes__[0].startswith("minimize var")
