"""The shared proximal core (torch only): linear operators, proximal maps,
preconditioners and the algorithms written once over them."""
from .operators import (LinearOperator, AdjointOperator, Composition, SumOperator,  # noqa: F401
                        ScaledOperator, Identity, Diagonal)
from . import prox  # noqa: F401
from .device import resolve_device, resolve_dtype  # noqa: F401
from .convolution import Convolution  # noqa: F401,E402  (imaging operators)
from .finite_diff import Gradient  # noqa: F401,E402
from .fourier import FourierSampling, Mask, Mosaic, bayer_pattern  # noqa: F401,E402
from .quadratic import QuadraticSolver, prox_sum_squares_op  # noqa: F401,E402
from .splitting import ProxTerm, SplitResult, pdhg, admm, ladmm, hqs  # noqa: F401,E402
from .sparse import SparseMatrixOperator  # noqa: F401,E402
