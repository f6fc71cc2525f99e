"""Blocks of plain PDHG iterations recorded once as CUDA graphs and replayed.

On a GPU an iteration of a planning LP is launch-bound: ~18 small kernels whose launches
through torch cost more than their work.  A CUDA graph records a block of iterations and
replays it with one launch (RESULTS runs 18-20).  A graph reads and
writes fixed addresses, while restarts and finished scenarios rebind the solver's iterates
to new tensors; so before each block the tensors it touches are brought home: a rebound
attribute is copied into the tensor the graph was recorded on and rebound to it.  Only a
change of shape (a column leaving), of the shared matrix, or an aliasing that a copy would
break records anew.  The first block runs eagerly (it initialises cuSPARSE and the
allocator before anything is recorded); a recording that fails turns the path off for the
rest of the solve, which goes on eagerly from an unchanged state (recording executes nothing).
"""
from __future__ import annotations

from typing import Callable, Optional

import torch


PLAIN_DATA = ("c", "lx", "ux", "lc", "uc")      # the data a plain iteration reads


def slots(s, d):
    """(owner, attribute) of every tensor a plain iteration on iterates ``s``, data ``d`` touches."""
    return [(s, name) for name in s.plain_slots()] + [(d, name) for name in PLAIN_DATA]


def matrix_tensors(A):
    """The matrix tensors of the sparse products (a recorded block reads them in place)."""
    return [t for M in (A.A, A.AT)
            for t in ((M.crow_indices(), M.col_indices(), M.values()) if M.layout == torch.sparse_csr else (M,))]


class GraphedBlocks:
    """``run(count, slots, fixed, *args)`` performs ``body(count, *args)`` (count in-place
    iterations on the tensors at ``slots``, (owner, attribute) pairs, and on the tensors
    ``fixed``, which are never rebound while a recording lives) by replaying a graph
    recorded for that count."""

    def __init__(self, body: Callable):
        self.body = body
        self.graphs: dict = {}
        self.homes: list = []
        self.layout = None
        self.warm = False
        self.failed: Optional[str] = None
        self.recordings = self.replays = 0

    def _bring_home(self, slots, fixed) -> None:
        """Rebound slots back into the recorded tensors, or a new layout (and no graphs)."""
        tensors = [getattr(owner, name) for owner, name in slots]
        # a strided view (a broadcast bound, say) cannot be copied into: keyed by its address
        layout = (tuple((tuple(t.shape), t.stride(), t.dtype, t.device,
                         None if t.is_contiguous() else t.data_ptr()) for t in tensors)
                  + tuple(t.data_ptr() for t in fixed))
        moved = [i for i, (t, h) in enumerate(zip(tensors, self.homes)) if t is not h]
        ptrs = [h.data_ptr() for h in self.homes]
        if layout != self.layout or any(ptrs.count(ptrs[i]) > 1 for i in moved):
            self.layout, self.homes, self.graphs = layout, tensors, {}
            return
        for i in moved:
            if tensors[i].data_ptr() != self.homes[i].data_ptr():
                self.homes[i].copy_(tensors[i])
            owner, name = slots[i]
            setattr(owner, name, self.homes[i])

    def run(self, count: int, slots, fixed, *args) -> bool:
        """True when the block ran (eagerly the first time, else from a graph); False, with
        nothing done, once recording has failed: the caller then iterates eagerly."""
        if self.failed is not None:
            return False
        if not self.warm:
            self.body(count, *args)
            self.warm = True
            return True
        self._bring_home(slots, fixed)
        graph = self.graphs.get(count)
        if graph is None:
            try:
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    self.body(count, *args)
            except Exception as exc:  # noqa: BLE001 - an op that cannot be recorded: stay eager
                self.failed = repr(exc)
                self.graphs = {}
                return False
            self.graphs[count] = graph
            self.recordings += 1
        graph.replay()
        self.replays += 1
        return True
