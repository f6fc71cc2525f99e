"""Where the iterations run.  Each backend gives the loop the same two operations:
``run(s, d, A, count)``, ``count`` plain iterations in place, and ``check(s, d, A)``, one step
to (x̂, ŷ) with A x̂, Aᵀŷ written and its ``CheckSums``.  Chosen once per solve."""
from __future__ import annotations

import torch

from .measures import CheckSums
from .method import advance, step
from .options import PDHGOptions


class Eager:
    """torch operations, on any device."""

    def run(self, s, d, A, count: int) -> None:
        for _ in range(count):
            step(s, d, A)
            advance(s)

    def check(self, s, d, A) -> CheckSums:
        step(s, d, A)
        A.matmat(s.XH, out=s.AXH)
        A.rmatmat(s.YH, out=s.ATYH)
        return CheckSums.of(s, d)


class Native(Eager):
    """The C kernel of native.py on a CPU (columns beyond its width stay eager)."""

    def __init__(self, kernel, max_width: int):
        self.kernel, self.max_width = kernel, max_width

    def run(self, s, d, A, count: int) -> None:
        if s.W > self.max_width:
            return super().run(s, d, A, count)
        self.kernel.run(s, d, count)

    def check(self, s, d, A) -> CheckSums:
        if s.W > self.max_width:
            return super().check(s, d, A)
        return CheckSums(self.kernel.check(s, d))


class Graphed(Eager):
    """On CUDA: the plain iterations between two checks replayed as one CUDA graph."""

    def __init__(self):
        self.blocks = None

    def run(self, s, d, A, count: int) -> None:
        from .cuda_graph import GraphedBlocks, matrix_tensors, slots
        if self.blocks is None:
            self.blocks = GraphedBlocks(lambda n, *args: Eager.run(self, *args, n))
        if not self.blocks.run(count, slots(s, d), matrix_tensors(A), s, d, A):
            super().run(s, d, A, count)


class Tuned:
    """Another backend with the CPU thread count chosen by timing its plain iterations
    (threads="auto", core/threads.py), in blocks short enough for the tuner's windows."""

    BLOCK = 8

    def __init__(self, inner, tuner):
        self.inner, self.tuner = inner, tuner

    def run(self, s, d, A, count: int) -> None:
        while count > 0:
            n = min(count, self.BLOCK)
            self.inner.run(s, d, A, n)
            self.tuner.tick(True, s.W, n)
            count -= n

    def check(self, s, d, A) -> CheckSums:
        sums = self.inner.check(s, d, A)
        self.tuner.tick(False, s.W)
        return sums


def choose(A, options: PDHGOptions, tuner=None):
    """The backend for this matrix and these options (errors name what forbids an asked one)."""
    dev = A.device
    if options.cuda_graphs and dev.type != "cuda":
        raise ValueError("PDHGOptions.cuda_graphs=True needs a CUDA device")
    backend = Eager()
    if dev.type == "cuda" and options.cuda_graphs is not False:
        backend = Graphed()
    elif options.native is not False:
        from .native import MAX_WIDTH, plain_kernel, unavailable
        kernel = plain_kernel(A, A.dtype, dev)
        if kernel is None and options.native:
            raise RuntimeError(f"PDHGOptions.native=True but the C kernel does not apply here "
                               f"({unavailable() or 'not a CPU float32/float64 LP with one shared matrix'})")
        if kernel is not None:
            backend = Native(kernel, MAX_WIDTH)
    return backend if tuner is None else Tuned(backend, tuner)


def threads_for(A, options: PDHGOptions):
    """(thread count to set or None, ThreadTuner or None) for a CPU solve."""
    if A.device.type != "cpu" or options.threads is None:
        return None, None
    if options.threads == "auto":
        from ..core.threads import ThreadTuner, start_threads
        return None, ThreadTuner(torch.get_num_threads(), start=start_threads(1))
    return options.threads, None
