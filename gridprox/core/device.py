"""Device and dtype resolution shared by every torch solver."""
from __future__ import annotations

import torch

from ..errors import SolverError


def resolve_device(device="auto") -> torch.device:
    """"auto" -> cuda when available, else cpu; anything torch accepts otherwise.

    Raises SolverError naming the device when it is not one torch reads, not a device solvers
    run on (cpu, cuda, mps: not "meta"), or not available here (CUDA absent, an index past
    the GPUs there are)."""
    if device is None or (isinstance(device, str) and device == "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if isinstance(device, bool) or not isinstance(device, (str, int, torch.device)):
        raise SolverError(f"device {device!r} is not a device: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise SolverError(f"device {device!r} is not a device: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'") from None
    if dev.type not in ("cpu", "cuda", "mps"):
        raise SolverError(f"device {str(device)!r} cannot run a solver: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SolverError(f"device {str(device)!r} requested but CUDA is not available on this machine")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise SolverError(f"device {str(device)!r} requested but this machine has {torch.cuda.device_count()} "
                          "CUDA device(s)")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise SolverError(f"device {str(device)!r} requested but MPS is not available on this machine")
    return dev


def resolve_dtype(dtype, device: torch.device) -> torch.dtype:
    """None -> float64 (the accurate default on every device); strings accepted."""
    if dtype is None:
        return torch.float64
    if isinstance(dtype, str):
        try:
            dtype = {"float64": torch.float64, "double": torch.float64,
                     "float32": torch.float32, "float": torch.float32}[dtype]
        except KeyError:
            raise ValueError(f"dtype {dtype!r} not supported: use 'float64' or 'float32'") from None
    if dtype not in (torch.float32, torch.float64):
        raise ValueError(f"dtype {dtype} not supported: use torch.float64 or torch.float32")
    return dtype
