"""cvxpy's syntax for linear programs: expressions held as sparse coefficient blocks.

``import gridprox as cp`` runs a cvxpy LP script unchanged: Variable, Parameter, Constant,
the affine atoms (sum, cumsum, diff, hstack, vstack, reshape, multiply, matmul, trace, diag,
upper_tri, convolve, moveaxis, ...), the piecewise-linear ones (abs, pos, neg, maximum, minimum,
max, min, norm1, norm_inf, sum_largest, sum_smallest, cvar, dotsort, ptp, cummax, and the linear
cases of pnorm, mixed_norm, tv, power), the constraints and Minimize/Maximize.  cvxpy's other atoms
and cone constraints are present by name and raise ModelingError (on numbers they are numbers).  ``Problem`` is a layer above (``gridprox.problems``):
it compiles and solves, and this package imports neither the compiler nor the solvers.
"""
from .affine import Sum, Trace  # noqa: F401  (cvxpy's classes, which cvxpy's sum() and trace() return)
from .affine import Add as AddExpression, MatMul as MulExpression  # noqa: F401  (cvxpy's classes of + and @)
from .affine import (bmat, broadcast_to, concatenate, conv, convolve, cumsum, diag, diff, dot,  # noqa: F401
                     hstack, kron, matmul, mean, moveaxis, multiply, outer, permute_dims, promote, reshape,
                     scalar_product, squeeze, stack, sum, swapaxes, trace, transpose, upper_tri, vdot, vec,
                     vec_to_upper_tri, vstack)
from .constraints import NON_LP_CONSTRAINTS, Cone, Constraint, Equality, Inequality, NonNeg, NonPos, Zero  # noqa: F401
from . import constraints  # noqa: F401  (cvxpy's ``cp.constraints`` namespace)
from . import transforms  # noqa: F401  (cvxpy's ``cp.transforms.indicator``)
from . import error  # noqa: F401  (cvxpy's ``cp.error.SolverError``, ...)
from . import constraints as _constraints
from .expression import CallbackParam, Constant, Expression, Parameter, Variable  # noqa: F401
from .error import CvxpyDeprecationWarning, DCPError, DGPError  # noqa: F401  (DCP/DGP errors: ModelingError)
from .canon import DPPError, ParameterError  # noqa: F401  (ModelingErrors: a non-DPP product, a Parameter without value)
from .piecewise import (NON_LP_ATOMS, abs, cummax, cvar, dotsort, max, maximum, min, minimum, neg, norm,  # noqa: F401
                        norm1, norm_inf, pos, ptp, real, conj, imag, scalene, sum_largest,
                        sum_smallest)
from . import piecewise as _piecewise
from .objective import Maximize, Minimize  # noqa: F401

for _name in NON_LP_ATOMS:
    globals()[_name] = getattr(_piecewise, _name)
for _name in NON_LP_CONSTRAINTS:
    globals()[_name] = getattr(_constraints, _name)
for _name, _atom in _piecewise.ATOM_CLASS_NAMES.items():
    globals()[_name] = getattr(_piecewise, _atom)
del _name, _atom

__all__ = [
    "Variable", "Parameter", "CallbackParam", "Constant", "Expression", "DCPError", "DGPError", "DPPError",
    "ParameterError", "Minimize", "Maximize", "Sum", "Trace", "AddExpression", "MulExpression", "Constraint", "Cone",
    "Equality", "Inequality", "NonNeg", "NonPos", "Zero", "constraints", "transforms", "error",
    "CvxpyDeprecationWarning",
    "sum", "cumsum", "diff", "hstack", "vstack", "concatenate", "bmat", "reshape", "vec", "transpose",
    "multiply", "matmul", "trace", "diag", "kron", "dot", "vdot", "scalar_product", "outer", "mean",
    "broadcast_to", "upper_tri", "vec_to_upper_tri", "convolve", "conv", "squeeze", "moveaxis",
    "swapaxes", "permute_dims", "stack", "promote", "real", "imag", "conj",
    "abs", "pos", "neg", "maximum", "minimum", "max", "min", "norm", "norm1", "norm_inf",
    "sum_largest", "sum_smallest", "cvar", "dotsort", "ptp", "cummax", "scalene",
    *NON_LP_ATOMS, *NON_LP_CONSTRAINTS, *_piecewise.ATOM_CLASS_NAMES,
]


def __getattr__(name):
    # energy/model.py still builds ``gridprox.modeling.Problem``: forwarded until it imports
    # gridprox.problems (the one upward import of this layer, listed in tests/test_layers.py)
    if name == "Problem":
        from ..problems import Problem
        return Problem
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
