"""Problem -> LinearProgram, and ParametricProgram (refill from Parameter values)."""
from .lp import LinearProgram  # noqa: F401
from .parametric import ParametricProgram  # noqa: F401
