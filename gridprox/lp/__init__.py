"""The LP solver: batched, restarted, preconditioned PDHG (torch; a C kernel on CPU, CUDA graphs on GPU)."""
from .data import LPTensors  # noqa: F401
from .options import INFINITE_BOUND, PDHGOptions  # noqa: F401
from .solver import PDHGSolution, solve  # noqa: F401
