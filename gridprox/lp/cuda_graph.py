"""Blocks of plain PDHG iterations recorded once as CUDA graphs and replayed.

On a GPU an iteration of a planning LP is launch-bound: ~18 small kernels whose launches
through torch cost more than their work.  A CUDA graph records a block of iterations and
replays it with one launch (one H200, comparisons/RESULTS.md runs 18-20: 1 x 8760-h LP at 1e-4,
0.31 -> 0.11 ms per iteration, 2.83x; 552k variables 1.13x, no longer launch-bound there).  A graph reads and
writes fixed addresses, while restarts and finished scenarios rebind the solver's iterates
to new tensors; so before each block the tensors it touches are brought home: a rebound
attribute is copied into the tensor the graph was recorded on and rebound to it.  Only a
change of shape (a column leaving), of the shared matrix, or an aliasing that a copy would
break records anew.  The first block runs eagerly (it initialises cuSPARSE and the
allocator before anything is recorded); a recording that fails turns the path off for the
rest of the solve, which goes on eagerly from an unchanged state (recording executes nothing).
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch


class GraphedBlocks:
    """``run(count)`` performs ``body(count)`` (count in-place iterations on the attributes
    ``names`` of ``owner`` and on the tensors ``fixed()``, which are never rebound while the
    recording lives) by replaying a graph recorded for that count."""

    def __init__(self, body: Callable[[int], None], owner, names: Sequence[str],
                 fixed: Callable[[], Sequence[torch.Tensor]] = tuple):
        self.body, self.owner, self.names, self.fixed = body, owner, tuple(names), fixed
        self.graphs: dict = {}
        self.homes: list = []
        self.layout = None
        self.warm = False
        self.failed: Optional[str] = None
        self.recordings = self.replays = 0

    def _bring_home(self) -> None:
        """Rebound attributes back into the recorded tensors, or a new layout (and no graphs)."""
        tensors = [getattr(self.owner, n) for n in self.names]
        # a strided view (a broadcast bound, say) cannot be copied into: keyed by its address
        layout = (tuple((tuple(t.shape), t.stride(), t.dtype, t.device,
                         None if t.is_contiguous() else t.data_ptr()) for t in tensors)
                  + tuple(t.data_ptr() for t in self.fixed()))
        moved = [i for i, (t, h) in enumerate(zip(tensors, self.homes)) if t is not h]
        ptrs = [h.data_ptr() for h in self.homes]
        if layout != self.layout or any(ptrs.count(ptrs[i]) > 1 for i in moved):
            self.layout, self.homes, self.graphs = layout, tensors, {}
            return
        for i in moved:
            if tensors[i].data_ptr() != self.homes[i].data_ptr():
                self.homes[i].copy_(tensors[i])
            setattr(self.owner, self.names[i], self.homes[i])

    def run(self, count: int) -> bool:
        """True when the block ran (eagerly the first time, else from a graph); False, with
        nothing done, once recording has failed: the caller then iterates eagerly."""
        if self.failed is not None:
            return False
        if not self.warm:
            self.body(count)
            self.warm = True
            return True
        self._bring_home()
        graph = self.graphs.get(count)
        if graph is None:
            try:
                graph = torch.cuda.CUDAGraph()
                with torch.cuda.graph(graph):
                    self.body(count)
            except Exception as exc:  # noqa: BLE001 - an op that cannot be recorded: stay eager
                self.failed = repr(exc)
                self.graphs = {}
                return False
            self.graphs[count] = graph
            self.recordings += 1
        graph.replay()
        self.replays += 1
        return True
