"""The index of the planning LP: its snapshots (``Time``) and each component table's
capacities (``Component``), shared by the builders, the input editor and the results."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .. import modeling as gp
from .results import SINGULAR
from .system import CAPACITY, System, SystemDataError


@dataclass
class Time:
    """Snapshots of the LP: ``S`` blocks (scenarios; 1 when deterministic) of the system's
    snapshots.  ``w``: objective weight (probability x weight), ``dur``: duration, ``prev``:
    previous snapshot cyclic within the period, ``first``: first snapshot of its period."""

    index: pd.DatetimeIndex
    blocks: list
    prob: np.ndarray
    w: np.ndarray
    dur: np.ndarray
    prev: np.ndarray
    first: np.ndarray
    block: np.ndarray

    @classmethod
    def build(cls, system: System, blocks: Sequence[str], prob: Sequence[float]) -> "Time":
        snaps = system.snapshots
        T0, S = len(snaps), len(blocks)
        codes = pd.factorize(snaps["period"])[0]
        first0 = np.r_[True, codes[1:] != codes[:-1]]
        if len(np.unique(codes)) != int(first0.sum()):
            raise SystemDataError("each period's snapshots must be consecutive", file="snapshots.csv",
                                  column="period")
        starts = np.flatnonzero(first0)
        ends = np.r_[starts[1:], T0] - 1
        prev0 = np.arange(T0) - 1
        prev0[starts] = ends
        prob = np.asarray(prob, dtype=float)
        offset = np.repeat(np.arange(S) * T0, T0)
        return cls(index=snaps.index, blocks=list(blocks), prob=prob,
                   w=np.concatenate([p * snaps["weight"].to_numpy(float) for p in prob]),
                   dur=np.tile(snaps["duration"].to_numpy(float), S), prev=np.tile(prev0, S) + offset,
                   first=np.tile(first0, S), block=np.repeat(np.arange(S), T0))

    @property
    def T(self) -> int:
        return len(self.w)

    @property
    def S(self) -> int:
        return len(self.blocks)

    def shift(self, keep_first: np.ndarray | bool = True) -> sp.csr_matrix:
        """R with (R @ x)[t] = x[prev[t]]; rows of first snapshots are dropped where not keep_first."""
        rows = np.arange(self.T)
        keep = np.ones(self.T, bool) if keep_first is True else ~self.first
        return sp.csr_matrix((np.ones(int(keep.sum())), (rows[keep], self.prev[keep])), shape=(self.T, self.T))

    @property
    def w0(self) -> np.ndarray:
        """Snapshot weights without the scenario probability."""
        return self.w / self.prob[self.block]

    @property
    def hours(self) -> float:
        """Hours one block represents (sum of its weights)."""
        return float(self.w0.sum() / self.S)

    def weights(self, probability: bool = True) -> sp.csr_matrix:
        """W (S, T): W[s, t] = w[t] on block s's snapshots (weighted sums per scenario), with
        or without the scenario probability."""
        w = self.w if probability else self.w0
        return sp.csr_matrix((w, (self.block, np.arange(self.T))), shape=(self.S, self.T))


@dataclass
class Component:
    """One component table: which rows are extendable, their capacity variable, fixed capacities."""

    table: str
    df: pd.DataFrame
    ext: np.ndarray            # row positions of extendable assets
    pos: np.ndarray            # row -> position in ``cap`` (-1 for fixed assets)
    cap: Optional[object]      # gridprox Variable (len(ext),) or None
    nominal: np.ndarray        # p_nom / e_nom column (capacity of fixed assets)

    @classmethod
    def build(cls, table: str, df: pd.DataFrame) -> "Component":
        col = CAPACITY[table]
        extendable = df[f"{col}_extendable"].to_numpy(bool) if len(df) else np.zeros(0, bool)
        ext = np.flatnonzero(extendable)
        pos = np.full(len(df), -1)
        pos[ext] = np.arange(ext.size)
        cap = None
        if ext.size:
            lo = df[f"{col}_min"].to_numpy(float)[ext]
            hi = df[f"{col}_max"].to_numpy(float)[ext]
            cap = gp.Variable(ext.size, name=f"{SINGULAR[table]}_{col}", bounds=[lo, hi])
        return cls(table, df, ext, pos, cap, df[col].to_numpy(float) if len(df) else np.zeros(0))

    @property
    def names(self) -> pd.Index:
        return self.df.index

    def __len__(self):
        return len(self.df)

    def capacity(self, values: Mapping) -> np.ndarray:
        """Capacities of all rows from solved variable values."""
        out = self.nominal.copy()
        if self.cap is not None:
            out[self.ext] = values[self.cap]
        return out

    def capacity_expr(self, coef: np.ndarray):
        """Σ_rows coef[row] * capacity[row] as an expression (fixed rows give a constant)."""
        const = float(coef[self.pos < 0] @ self.nominal[self.pos < 0]) if len(self) else 0.0
        if self.cap is None or not np.any(coef[self.ext]):
            return gp.Constant(const)
        return coef[self.ext] @ self.cap + const
