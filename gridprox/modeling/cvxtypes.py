"""The atom and constraint classes that ``Expression``'s operators build, looked up when
first used (cvxpy's ``expressions/cvxtypes.py``).

``affine``, ``piecewise`` and ``constraints`` subclass or import ``Expression``, so
``expression.py`` cannot import them at module level; it asks here instead.  This module
imports nothing at load time, and it is the only module of ``gridprox.modeling`` that
imports inside functions (``tests/test_layers.py`` checks both).
"""


def add_expr():
    from .affine import Add
    return Add


def neg_expr():
    from .affine import Neg
    return Neg


def star():
    from .affine import star
    return star


def matmul_expr():
    from .affine import MatMul
    return MatMul


def div_expr():
    from .piecewise import divide
    return divide


def index():
    from .affine import Index
    return Index


def transpose():
    from .affine import Transpose
    return Transpose


def reshape():
    from .affine import reshape
    return reshape


def vec():
    from .affine import vec
    return vec


def sum_expr():
    from .affine import sum
    return sum


def equality_constr():
    from .constraints import Equality
    return Equality


def inequality_constr():
    from .constraints import Inequality
    return Inequality


def canon_context():
    from .canon import CanonContext
    return CanonContext


def atom(name):
    """An atom function by its cvxpy name (Expression's methods max, mean, trace, ...)."""
    from . import affine, piecewise
    return getattr(affine, name) if hasattr(affine, name) else getattr(piecewise, name)


def get_bounds():
    from .bounds import get_bounds
    return get_bounds
