"""Which scenario starts from which: a sweep solves scenarios so that each warm start
comes from a solved scenario near by.

``stream_plan`` cuts the sweep into blocks of neighbouring scenarios, each one streamed
PDHG solve; ``WarmStarts`` keeps solved scenarios and hands the first scenarios of a
block the nearest one solved before.  Distances are over the numeric
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


# scenarios per streamed solve, in units of the batch width: enough that the batch runs
# full for several waves between drains; few enough that results are written as a
# long sweep goes and that the data of the scenarios waiting stay small
STREAM_WAVES = 4


def stream_plan(scenarios: Sequence[Mapping], batch_size: int, waves: int = STREAM_WAVES) -> list[list[int]]:
    """The sweep's solving units: the scenarios sorted by their inputs, cut into contiguous
    blocks of at most ``waves`` x ``batch_size``.  Each block is one streamed PDHG solve
    (``batch_size`` scenarios iterate at once; as one finishes, the waiting one nearest to
    it enters, started from the scenarios solved before it: ``gridprox.lp.admission``).
    Measured (three-country 168 h, 64 CO2 caps, float32, tol 5e-5): 347k scenario-
    iterations streamed at width 16 against 387k in lock-step batches of 16 neighbours,
    whose cost was set by each batch's slowest scenario (``comparisons/planning.py``)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    if not scenarios:
        return []
    X = coordinates(scenarios)
    ranked = np.lexsort(X.T[::-1]) if X.shape[1] else np.arange(len(scenarios))
    size = max(1, waves * batch_size)
    return [[int(i) for i in ranked[k:k + size]] for k in range(0, len(ranked), size)]


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
