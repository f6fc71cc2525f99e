"""Which scenarios are solved when, and where each starts: the one module of neighbours.

Scenarios have coordinates (``coordinates``: each swept input scaled to [0, 1] by its
spread, labels one-hot), and every choice below goes to the nearest in them.
``stream_plan`` cuts a sweep into blocks of neighbouring scenarios, each one solve;
``WarmStarts`` keeps solved scenarios across blocks and hands a block's first scenarios
the nearest one.  Inside a solve the solver asks its schedule which scenarios to load
first, tells it which finished, and asks which enter next and where they start:
``AllAtOnce`` loads the whole batch; ``Stream`` streams it through ``width`` columns.

A streamed solve keeps ``width`` scenarios of a larger batch in the iteration at once and
admits a waiting one whenever one finishes, so the batch stays full instead of draining
to its slowest member (a plain batch costs its slowest scenario's iterations at
a shrinking width).  The first ``width`` are the centres of ``width`` contiguous chains of the
scenarios in coordinate order, so solved regions grow outwards from evenly spread seeds;
each later admission is the waiting scenario closest to a solved one (ties: nearest to
one that just finished), so no start is predicted from far away.

Its start is predicted from the scenarios solved so far: the nearest one, moved along
the secant through the second nearest when that one is also close (x* and y* of an LP are
piecewise affine in a right-hand side or cost parameter, so the secant is exact between
breakpoints), with the nearest's primal weight when it is near (RESULTS, "Stream starts")."""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence

import torch

# scenarios per block of a sweep, in units of the batch width: the batch runs full for
# several waves between drains, and results are written as a long sweep goes
STREAM_WAVES = 4


def _lexorder(keys: list[torch.Tensor]) -> torch.Tensor:
    """Indices sorting by keys[0], ties by keys[1], ... (stable sorts, last key first)."""
    order = torch.arange(keys[0].numel())
    for key in reversed(keys):
        order = order[torch.sort(key[order], stable=True).indices]
    return order


class AllAtOnce:
    """Every scenario of the batch iterates from the start, from its given start."""

    def __init__(self, S: int):
        self.initial, self.width = list(range(S)), S

    def finished(self, ids, usable) -> None:
        pass

    def admit(self, free: int) -> list[int]:
        return []

    def predict(self, j, out_x, out_y, out_weight):
        return None


class Stream:
    """Admission order and warm-start sources for ``S`` scenarios streamed through
    ``width`` columns; ``coordinates`` (S, d) (default: the scenario index)."""

    # the second-nearest solved scenario steers the start only when it is this much
    # farther from the newcomer than the nearest at most (beyond, x* may bend between)
    SECANT_REACH = 3.0
    # coordinate distance within which a solved scenario also lends its primal weight
    # (coordinates scaled to [0, 1] per input, as gridprox.sweep's are)
    NEAR = 0.05

    def __init__(self, S: int, width: int, coordinates=None):
        if width < 1:
            raise ValueError(f"stream width must be >= 1, got {width}")
        self.width = width
        C = (torch.arange(S, dtype=torch.float64) if coordinates is None
             else torch.as_tensor(coordinates, dtype=torch.float64).cpu())
        if C.dim() == 1:
            C = C[:, None]
        if C.dim() != 2 or C.shape[0] != S or not torch.isfinite(C).all():
            raise ValueError(f"coordinates must be a finite ({S}, d) array, got shape {tuple(C.shape)}")
        self.C = C
        ranked = _lexorder(list(C.T)) if C.shape[1] else torch.arange(S)
        self.rank = torch.empty(S, dtype=torch.long)
        self.rank[ranked] = torch.arange(S)
        chains = torch.tensor_split(ranked, min(width, S))
        self.initial = [int(ch[len(ch) // 2]) for ch in chains]
        self.waiting = torch.ones(S, dtype=torch.bool)
        self.waiting[self.initial] = False
        self.solved = torch.zeros(S, dtype=torch.bool)   # finished with a usable (optimal) point
        self.just_finished: list[int] = []

    def finished(self, ids, usable) -> None:
        """Scenarios ``ids`` left the batch; ``usable[i]``: its point may seed others."""
        for i, ok in zip(ids, usable):
            self.just_finished.append(int(i))
            if ok:
                self.solved[int(i)] = True

    def admit(self, free: int) -> list[int]:
        """Up to ``free`` waiting scenarios, each the one closest to a solved scenario (so
        its start is predicted from near by), ties to the one nearest a scenario that just
        finished, then to the first in order; before anything is solved, by order."""
        picks: list[int] = []
        while free > len(picks) and bool(self.waiting.any()):
            wait = torch.nonzero(self.waiting).flatten()
            done = torch.nonzero(self.solved).flatten()
            support = (torch.cdist(self.C[wait], self.C[done]).amin(1) if done.numel()
                       else torch.zeros(wait.numel(), dtype=self.C.dtype))
            recent = (torch.cdist(self.C[wait], self.C[self.just_finished]).amin(1) if self.just_finished
                      else torch.zeros(wait.numel(), dtype=self.C.dtype))
            j = int(wait[_lexorder([support, recent, self.rank[wait]])[0]])
            self.waiting[j] = False
            picks.append(j)
        self.just_finished.clear()
        return picks

    def near(self, j: int, s: int) -> bool:
        """Whether solved scenario ``s`` is near enough to ``j`` to lend it its primal weight
        as well as its point: the weight reflects the local geometry of the LP, so it helps
        from a near neighbour and hurts from a far one (RESULTS, "Stream starts")."""
        return float(((self.C[j] - self.C[s]) ** 2).sum().sqrt()) <= self.NEAR

    def source(self, j: int) -> Optional[tuple[int, Optional[int], float]]:
        """(s1, s2, t): start scenario ``j`` at x[s1] + t (x[s1] - x[s2]) (s2 None: at
        x[s1]); None when nothing is solved yet."""
        done = torch.nonzero(self.solved).flatten()
        if done.numel() == 0:
            return None
        d = ((self.C[done] - self.C[j]) ** 2).sum(1).sqrt()
        order = _lexorder([d, self.rank[done]])
        s1 = int(done[order[0]])
        if done.numel() < 2:
            return s1, None, 0.0
        s2 = int(done[order[1]])
        step = self.C[s1] - self.C[s2]
        span = float(step @ step)
        if span == 0 or float(d[order[1]]) > self.SECANT_REACH * max(float(d[order[0]]), 1e-300):
            return s1, None, 0.0
        t = float((self.C[j] - self.C[s1]) @ step) / span
        return s1, s2, min(max(t, -1.0), 1.0)

    def predict(self, j: int, out_x, out_y, out_weight):
        """(x, y, weight or None) to start scenario ``j`` at, in original units, from the
        solved scenarios' outputs (rows of ``out_*``); None when nothing is solved yet."""
        src = self.source(j)
        if src is None:
            return None
        s1, s2, t = src
        x, y = out_x[s1], out_y[s1]
        if s2 is not None and t != 0.0:
            x = x + t * (x - out_x[s2])
            y = y + t * (y - out_y[s2])
        return x, y, (out_weight[s1] if self.near(j, s1) else None)


def _numeric(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def coordinates(scenarios: Sequence[Mapping]) -> torch.Tensor:
    """(S, d) float64: each numeric input scaled to [0, 1] by its spread over the scenarios
    (a CO2 cap in tonnes and a gas price in EUR/MWh weigh alike); any other input one-hot,
    scaled so that scenarios that differ in it are 1 apart."""
    names = sorted({k for sc in scenarios for k in sc})
    cols = []
    for name in names:
        vals = [sc.get(name) for sc in scenarios]
        if all(_numeric(v) for v in vals):
            v = torch.tensor([float(x) for x in vals], dtype=torch.float64)
            spread = v.max() - v.min()
            cols.append(((v - v.min()) / spread)[:, None] if spread > 0 else torch.zeros(len(v), 1, dtype=v.dtype))
        else:
            labels = sorted({str(v) for v in vals})
            cols.append(torch.tensor([[float(str(v) == lab) for lab in labels] for v in vals],
                                     dtype=torch.float64) / math.sqrt(2))
    return torch.cat(cols, dim=1) if cols else torch.zeros(len(scenarios), 0, dtype=torch.float64)


def stream_plan(scenarios: Sequence[Mapping], batch_size: int, waves: int = STREAM_WAVES) -> list[list[int]]:
    """A sweep's solving units: the scenarios in coordinate order, cut into contiguous blocks
    of at most ``waves`` x ``batch_size``, each one streamed solve (RESULTS, "Stream starts")."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if not scenarios:
        return []
    C = coordinates(scenarios)
    ranked = _lexorder(list(C.T)).tolist() if C.shape[1] else list(range(len(scenarios)))
    size = max(1, waves * batch_size)
    return [ranked[k:k + size] for k in range(0, len(ranked), size)]


class WarmStarts:
    """Solved scenarios (inputs and their Results), for warm-starting their neighbours."""

    def __init__(self, limit: int = 512):
        self.limit = limit
        self.inputs: list[dict] = []
        self.results: list[Any] = []

    def __len__(self) -> int:
        return len(self.results)

    def add(self, scenarios: Sequence[Mapping], results: Sequence) -> None:
        """Keep the scenarios that have a usable solution (the most recent ``limit``)."""
        for sc, r in zip(scenarios, results):
            if getattr(r, "ok", False) and r.x is not None and r.y is not None:
                self.inputs.append(dict(sc))
                self.results.append(r)
        del self.inputs[:-self.limit], self.results[:-self.limit]

    def nearest(self, scenario: Mapping) -> Optional[Any]:
        """The kept Result whose inputs are closest to ``scenario`` (None when none is kept)."""
        if not self.results:
            return None
        C = coordinates(self.inputs + [dict(scenario)])
        return self.results[int(((C[:-1] - C[-1]) ** 2).sum(1).argmin())]
