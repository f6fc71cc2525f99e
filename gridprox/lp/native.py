"""A fused C kernel for PDHG's iterations on CPU, built on first use (kernel_cache.py).

The eager iteration (``method.step`` + ``advance``) is two CSR products and ~11 elementwise
passes, each a separate kernel over the full vectors; on a CPU those passes cost as much as
the products, and torch's CSR product sums each short row as one dependent chain.
``plain_kernel.c`` runs the same iterations with the matrices in SELL-8 form (eight rows summed
side by side) and each block's products followed at once by its rows' updates, so each vector
is read and written once per iteration, and a run of plain iterations up to the next check
stays inside one OpenMP region (RESULTS, "C kernel").  A check's step and its ``CheckSums``
are one more call.  Results equal the eager iteration's to rounding (tests/test_native.py).
It links the OpenMP runtime torch has loaded (same soname), so both share one thread pool.
Where no compiler or OpenMP is found, or ``GRIDPROX_NATIVE=0``, ``plain_kernel()`` returns
None (``unavailable()`` says why) and the solver stays eager.  CUDA tensors never reach it.
"""
from __future__ import annotations

import ctypes
import os
from typing import Optional

import torch

from ..core.native_cache import load_once
from .kernel_cache import build
from .measures import SUMS

MAX_WIDTH = 64                 # the kernel's accumulator size (plain_kernel.c)
_STATE: dict = {}              # "lib" or "error", once per process


class _Sell(ctypes.Structure):
    """plain_kernel.c's sell_t."""
    _fields_ = [("rows", ctypes.c_int64)] + [(name, ctypes.c_void_p) for name in
                                              ("ptr", "width", "col", "is_long", "has_long", "work", "crow", "ccol")]


def _load():
    if os.environ.get("GRIDPROX_NATIVE", "1") == "0":
        raise RuntimeError("disabled by GRIDPROX_NATIVE=0")
    i64, ptr = ctypes.c_int64, ctypes.c_void_p
    sell = ctypes.POINTER(_Sell)
    lib = {}
    for name, path in build(os.environ.get("CC", "cc")).items():
        so = ctypes.CDLL(str(path))
        lib[name] = fn = getattr(so, name)
        fn.restype = ctypes.c_int
        fn.argtypes = [ctypes.c_int, ctypes.c_int, i64, sell, ptr, ptr, sell, ptr, ptr] + [ptr] * 10
        lib[name + "_check"] = check = getattr(so, name + "_check")
        check.restype = ctypes.c_int
        check.argtypes = [ctypes.c_int, i64, sell, ptr, ptr, sell, ptr, ptr] + [ptr] * 16
    return lib


def library():
    """The kernel's functions by name (``plain_f64``, ``plain_f64_check``, ``plain_f32``, ...),
    or None (the reason is in ``unavailable()``)."""
    return load_once(_STATE, _load)


def unavailable() -> Optional[str]:
    """Why the kernel cannot be used in this process (None when it can)."""
    library()
    return _STATE.get("error")


def _ptr(t: torch.Tensor) -> int:
    return t.data_ptr()


def _data_arrays(s, d, names):
    """(pointers, column strides) of data ``names`` of ``d`` as C arrays: each (rows, 1), shared
    by the batch (stride 0), or (rows, W) (stride 1), contiguous, in the iterates' dtype."""
    W, data = s.W, [getattr(d, name) for name in names]
    for name, t in zip(names, data):
        if t.dim() != 2 or t.shape[1] not in (1, W) or not t.is_contiguous() or t.dtype != s.X.dtype:
            raise RuntimeError(f"plain_kernel: {name} of shape {tuple(t.shape)} at width {W}")
    return ((ctypes.c_void_p * len(data))(*(_ptr(t) for t in data)),
            (ctypes.c_int64 * len(data))(*(int(t.shape[1] != 1) for t in data)))


def _state_pointers(W: int, tensors) -> list[int]:
    """Pointers of iterate and step tensors, each contiguous with W columns."""
    if not all(t.is_contiguous() and t.shape[-1] == W for t in tensors):
        raise RuntimeError(f"plain_kernel: iterate or step tensors not contiguous (W, ...) at width {W}")
    return [_ptr(t) for t in tensors]


class SellMatrix:
    """A CSR matrix in the kernel's SELL-8 form (plain_kernel.c): chunks of CHUNK consecutive
    rows, each chunk's entries column-major and zero-padded to its longest row; rows longer
    than ``LONG_ROW`` entries stay out of the chunks and are summed from the CSR arrays.
    Capacity-expansion rows come in runs of equal length (one constraint over the hours),
    so padding is near zero (1 x 8760-h LP: none in A or Aᵀ)."""

    CHUNK = 8
    LONG_ROW = 64

    def __init__(self, csr: torch.Tensor):
        crow, col, val = csr.crow_indices().long(), csr.col_indices(), csr.values()
        rows, C = csr.shape[0], self.CHUNK
        chunks = (rows + C - 1) // C
        lens = crow[1:] - crow[:-1]
        is_long = lens > self.LONG_ROW
        short = torch.zeros(chunks * C, dtype=torch.long)
        short[:rows] = torch.where(is_long, 0, lens)
        width = short.view(chunks, C).amax(1)
        ptr = torch.zeros(chunks + 1, dtype=torch.long)
        ptr[1:] = torch.cumsum(width * C, 0)
        # entry p of short row i (k-th of its row) goes to ptr[i // C] + C k + i % C
        row = torch.repeat_interleave(torch.arange(rows), lens)
        keep = ~is_long[row]
        r, p = row[keep], torch.arange(col.numel())[keep]
        pos = ptr[r // C] + C * (p - crow[r]) + r % C
        self.col = torch.zeros(int(ptr[-1]), dtype=torch.int32)
        self.val = torch.zeros(int(ptr[-1]), dtype=val.dtype)
        self.col[pos] = col[p].to(torch.int32)
        self.val[pos] = val[p]
        self.cval = val                                   # long rows: the CSR values
        long_nnz = torch.zeros(chunks * C, dtype=torch.long)
        long_nnz[:rows] = torch.where(is_long, lens, 0)
        work = width * C + long_nnz.view(chunks, C).sum(1) + C     # entries + the rows' updates
        self.work = torch.zeros(chunks + 1, dtype=torch.long)
        self.work[1:] = torch.cumsum(work, 0)
        self.width = width.to(torch.int32)
        self.ptr = ptr
        self.is_long = is_long.to(torch.uint8)
        self.has_long = (long_nnz.view(chunks, C) > 0).any(1).to(torch.uint8)
        self.crow, self.ccol = csr.crow_indices(), col           # int32, alive with us
        self.padding = int(ptr[-1]) - int(keep.sum())
        self.struct = _Sell(rows, *(_ptr(t) for t in (self.ptr, self.width, self.col, self.is_long,
                                                      self.has_long, self.work, self.crow, self.ccol)))


class PlainKernel:
    """The C kernel bound to one matrix (made by ``plain_kernel(A, dtype, device)`` where it
    applies: CPU, float32/float64, a shared matrix with int32 indices; at most MAX_WIDTH
    columns).  ``run(s, d, count)`` advances iterates ``s`` (X, Y, k; XB is scratch) with data
    ``d`` by ``count`` plain iterations; ``check(s, d)`` is a check's step and sums.  The matrix
    pointers are taken once, the others at each call (restarts and compaction rebind them)."""

    # the data in plain_kernel.c's D_* order (tests/test_native.py checks it); plain
    # iterations read the first five
    DATA = ("c", "lx", "ux", "lc", "uc", "d_row", "d_col", "lcz", "ucz", "lxz", "uxz", "g_lo", "g_hi")
    PLAIN_DATA = DATA[:5]

    def __init__(self, lib, A):
        name = "plain_f64" if A.dtype == torch.float64 else "plain_f32"
        self.fn, self.check_fn = lib[name], lib[name + "_check"]
        self.A, self.AT = SellMatrix(A.A), SellMatrix(A.AT)
        self.matrix = [ctypes.byref(self.A.struct), _ptr(self.A.val), _ptr(self.A.cval),
                       ctypes.byref(self.AT.struct), _ptr(self.AT.val), _ptr(self.AT.cval)]

    def run(self, s, d, count: int):
        W = s.W
        pointers, strides = _data_arrays(s, d, self.PLAIN_DATA)
        state = [s.tau.contiguous(), s.sigma.contiguous(), s.k, s.X, s.X0, s.XB, s.Y, s.Y0]
        rc = self.fn(count, torch.get_num_threads(), W, *self.matrix, pointers, strides, *_state_pointers(W, state))
        if rc != 0:
            raise RuntimeError(f"plain_kernel returned {rc} at width {W}")

    def check(self, s, d) -> torch.Tensor:
        """The step of a check (x̂ → XH, x̄ → XB, A x̄ → AXB, ŷ → YH, A x̂ → AXH, Aᵀŷ → ATYH; no
        Halpern update) and the (len(SUMS), W) sums of measures.py, in the solve's dtype."""
        W = s.W
        pointers, strides = _data_arrays(s, d, self.DATA)
        state = [s.tau.contiguous(), s.sigma.contiguous(), s.X, s.Y, s.X0, s.Y0, s.XH, s.XB, s.YH, s.AXB, s.AXH,
                 s.ATYH]
        threads = torch.get_num_threads()
        sums = torch.empty(len(SUMS), W, dtype=torch.float64)
        parts = torch.empty(threads * len(SUMS) * W, dtype=torch.float64)
        rc = self.check_fn(threads, W, *self.matrix, pointers, strides, *_state_pointers(W, state), _ptr(sums),
                           _ptr(parts))
        if rc != 0:
            raise RuntimeError(f"plain_kernel check returned {rc} at width {W}")
        return sums.to(s.X.dtype)


def plain_kernel(A, dtype, device) -> Optional[PlainKernel]:
    """A PlainKernel for matrix operator ``A`` where the kernel applies, else None."""
    if device.type != "cpu" or dtype not in (torch.float32, torch.float64) or A.batch_values != 1:
        return None
    if A.A.crow_indices().dtype != torch.int32 or A.AT.crow_indices().dtype != torch.int32:
        return None
    lib = library()
    if lib is None:
        return None
    if getattr(A, "_plain_kernel", None) is None:     # one per matrix: a solve's polishing reuses it
        A._plain_kernel = PlainKernel(lib, A)
    return A._plain_kernel
