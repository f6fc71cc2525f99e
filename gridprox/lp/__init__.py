"""The LP solver: batched, restarted, preconditioned PDHG (torch; a C kernel on CPU, CUDA graphs on GPU)."""
from .solver import PDHGOptions, LPTensors, PDHGSolution, solve  # noqa: F401
