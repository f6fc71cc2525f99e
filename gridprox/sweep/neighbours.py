"""Which scenario starts from which: a sweep solves scenarios so that each warm start
comes from a solved scenario near by.

``chain_plan`` decides the batches and their order; ``WarmStarts`` keeps solved
scenarios and hands each new scenario the nearest one.  Distances are over the numeric
inputs, each scaled by its spread over the sweep, so a CO2 cap in tonnes and a gas price
in EUR/MWh weigh alike."""
from __future__ import annotations

import math
from typing import Any, Mapping, Optional, Sequence

import numpy as np


def _numeric(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v)


def coordinates(scenarios: Sequence[Mapping]) -> np.ndarray:
    """One row per scenario: each numeric input scaled to [0, 1] by its spread over the
    sweep; any other input one-hot (so scenarios that differ in it are 1 apart)."""
    names = sorted({k for sc in scenarios for k in sc})
    cols = []
    for name in names:
        vals = [sc.get(name) for sc in scenarios]
        if all(_numeric(v) for v in vals):
            v = np.asarray(vals, dtype=float)
            spread = v.max() - v.min()
            cols.append(((v - v.min()) / spread)[:, None] if spread > 0 else np.zeros((len(v), 1)))
        else:
            labels = sorted({str(v) for v in vals})
            cols.append(np.asarray([[float(str(v) == lab) for lab in labels] for v in vals]) / math.sqrt(2))
    return np.hstack(cols) if cols else np.zeros((len(scenarios), 0))


def chain_plan(scenarios: Sequence[Mapping], batch_size: int) -> list[list[int]]:
    """Batches of scenario indices in solving order: the scenarios sorted by their inputs,
    cut into ``batch_size`` contiguous chains walked one step per batch, so batch k+1
    holds the next neighbour of each scenario of batch k and every warm start comes from
    one step away.  (PDHG converges linearly, so a warm start saves iterations in
    proportion to log(cold error / warm error): near neighbours matter, and ordering the
    whole sweep coarse to fine, in more and smaller batches, measured slower.)"""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if not scenarios:
        return []
    X = coordinates(scenarios)
    ranked = np.lexsort(X.T[::-1]) if X.shape[1] else np.arange(len(scenarios))
    chains = np.array_split(ranked, min(batch_size, len(ranked)))
    steps = max(len(c) for c in chains)
    return [[int(c[j]) for c in chains if j < len(c)] for j in range(steps)]


class WarmStarts:
    """Solved scenarios (inputs and the Result), for warm-starting their neighbours."""

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
        return self.results[int(np.argmin(self._distances(scenario)))]

    def _distances(self, scenario: Mapping) -> np.ndarray:
        X = coordinates(self.inputs + [dict(scenario)])
        return ((X[:-1] - X[-1]) ** 2).sum(axis=1)
