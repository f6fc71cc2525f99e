"""The canonical linear program every backend consumes.

    minimise    c·x + c0
    subject to  lc <= A x <= uc      (rows; lc == uc is an equality; ±inf allowed)
                lx <=   x <= ux      (bounds; ±inf allowed)

A is a scipy CSR matrix.  A *batch* of B scenarios shares A's sparsity pattern:
c, lc, uc, lx, ux may then carry a leading batch dimension (B, n) / (B, m), c0 may
be a (B,) vector, and ``A_values`` may hold a (B, nnz) array of A's values in A's
own CSR order (``A.data`` order).

Dual sign convention (HiGHS's, the one used everywhere in gridprox):
row duals ``y`` and reduced costs ``z`` satisfy  c - Aᵀy - z = 0.  For a
minimisation, y_i >= 0 where the lower row bound lc_i is active, y_i <= 0 where
the upper bound uc_i is active (free for equalities); likewise z_j >= 0 at an
active lower variable bound and z_j <= 0 at an active upper one.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Optional, Sequence

import numpy as np
import scipy.sparse as sp

INF = np.inf
INFINITE_BOUND = 1e20      # a bound at or beyond ±this is none: HiGHS's convention, and gridprox.lp's (same value)


def _as_float_array(name: str, value, length: int, batch: Optional[int]) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(length, float(arr))
    if arr.ndim == 1:
        if arr.shape[0] != length:
            raise ValueError(f"LinearProgram.{name} has length {arr.shape[0]}, expected {length}")
    elif arr.ndim == 2:
        if arr.shape[1] != length or (batch is not None and arr.shape[0] != batch):
            want = f"({batch if batch is not None else 'B'}, {length})"
            raise ValueError(f"LinearProgram.{name} has shape {arr.shape}, expected {want}")
    else:
        raise ValueError(f"LinearProgram.{name} must be 1-d or 2-d (batch, size), got shape {arr.shape}")
    return arr


@dataclass
class LinearProgram:
    """A (possibly batched) LP in the canonical form above.

    ``var_names`` / ``row_names`` are optional labels used in error messages.
    """

    c: np.ndarray
    A: sp.csr_matrix
    lc: np.ndarray
    uc: np.ndarray
    lx: np.ndarray
    ux: np.ndarray
    c0: float | np.ndarray = 0.0
    A_values: Optional[np.ndarray] = None
    var_names: Optional[Sequence[str]] = field(default=None, repr=False)
    row_names: Optional[Sequence[str]] = field(default=None, repr=False)

    def __post_init__(self):
        A = self.A
        if not sp.issparse(A):
            A = sp.csr_matrix(np.asarray(A, dtype=float))
        A = sp.csr_matrix(A, dtype=float)
        A.sort_indices()
        self.A = A
        m, n = A.shape
        batch = self._infer_batch()
        self.c = _as_float_array("c", self.c, n, batch)
        self.lc = _as_float_array("lc", self.lc, m, batch)
        self.uc = _as_float_array("uc", self.uc, m, batch)
        self.lx = _as_float_array("lx", self.lx, n, batch)
        self.ux = _as_float_array("ux", self.ux, n, batch)
        c0 = np.asarray(self.c0, dtype=float)
        if c0.ndim > 1 or (c0.ndim == 1 and batch is not None and c0.shape[0] != batch):
            raise ValueError(f"LinearProgram.c0 has shape {c0.shape}, expected a scalar or ({batch},)")
        self.c0 = float(c0) if c0.ndim == 0 else c0
        if self.A_values is not None:
            vals = np.asarray(self.A_values, dtype=float)
            if vals.ndim != 2 or vals.shape[1] != A.nnz or (batch is not None and vals.shape[0] != batch):
                raise ValueError(
                    f"LinearProgram.A_values has shape {vals.shape}, expected (B, nnz={A.nnz})")
            self.A_values = vals

    def _infer_batch(self) -> Optional[int]:
        sizes = set()
        for name in ("c", "lc", "uc", "lx", "ux"):
            arr = np.asarray(getattr(self, name))
            if arr.ndim == 2:
                sizes.add(arr.shape[0])
        c0 = np.asarray(self.c0)
        if c0.ndim == 1:
            sizes.add(c0.shape[0])
        if self.A_values is not None:
            sizes.add(np.asarray(self.A_values).shape[0])
        if len(sizes) > 1:
            raise ValueError(f"LinearProgram batch dimensions disagree: {sorted(sizes)}")
        return sizes.pop() if sizes else None

    # ------------------------------------------------------------------ shape
    @property
    def shape(self) -> tuple[int, int]:
        """(rows m, columns n)."""
        return self.A.shape

    @property
    def num_vars(self) -> int:
        return self.A.shape[1]

    @property
    def num_rows(self) -> int:
        return self.A.shape[0]

    @property
    def batch_size(self) -> Optional[int]:
        """B for a batch, None for a single LP."""
        return self._infer_batch()

    @property
    def is_batch(self) -> bool:
        return self.batch_size is not None

    # ------------------------------------------------------------- batching
    def scenario(self, k: int) -> "LinearProgram":
        """The k-th LP of a batch, as a single (unbatched) LinearProgram."""
        B = self.batch_size
        if B is None:
            if k != 0:
                raise IndexError(f"scenario {k} of an unbatched LinearProgram")
            return self
        if not -B <= k < B:
            raise IndexError(f"scenario {k} out of range for a batch of {B}")

        A = self.A
        if self.A_values is not None:
            A = A.copy()
            A.data = self.A_values[k].copy()
        c0 = self.c0[k] if isinstance(self.c0, np.ndarray) else self.c0
        return LinearProgram(
            c=_row(self.c, k), A=A, lc=_row(self.lc, k), uc=_row(self.uc, k),
            lx=_row(self.lx, k), ux=_row(self.ux, k), c0=float(c0),
            var_names=self.var_names, row_names=self.row_names)

    def scenarios(self) -> list["LinearProgram"]:
        B = self.batch_size
        return [self] if B is None else [self.scenario(k) for k in range(B)]

    @classmethod
    def stack(cls, lps: Sequence["LinearProgram"]) -> "LinearProgram":
        """Stack single LPs that share A's sparsity pattern into one batch."""
        if not lps:
            raise ValueError("LinearProgram.stack needs at least one LP")
        first = lps[0]
        pattern = (first.A.indptr, first.A.indices)
        vary_values = False
        for i, lp in enumerate(lps):
            if lp.is_batch:
                raise ValueError(f"LinearProgram.stack: LP {i} is already a batch")
            if lp.A.shape != first.A.shape or lp.A.nnz != first.A.nnz or not (
                    np.array_equal(lp.A.indptr, pattern[0]) and np.array_equal(lp.A.indices, pattern[1])):
                raise ValueError(
                    f"LinearProgram.stack: LP {i} does not share LP 0's sparsity pattern "
                    f"(shape {lp.A.shape} nnz {lp.A.nnz} vs {first.A.shape} nnz {first.A.nnz})")
            vary_values |= not np.array_equal(lp.A.data, first.A.data)
        return cls(
            c=np.stack([lp.c for lp in lps]), A=first.A,
            lc=np.stack([lp.lc for lp in lps]), uc=np.stack([lp.uc for lp in lps]),
            lx=np.stack([lp.lx for lp in lps]), ux=np.stack([lp.ux for lp in lps]),
            c0=np.array([lp.c0 for lp in lps], dtype=float),
            A_values=np.stack([lp.A.data for lp in lps]) if vary_values else None,
            var_names=first.var_names, row_names=first.row_names)

    def broadcast(self, B: int) -> "LinearProgram":
        """This single LP repeated B times as a batch (A shared)."""
        if self.is_batch:
            raise ValueError("broadcast() of an LP that is already a batch")
        return replace(
            self, c=np.tile(self.c, (B, 1)), lc=np.tile(self.lc, (B, 1)), uc=np.tile(self.uc, (B, 1)),
            lx=np.tile(self.lx, (B, 1)), ux=np.tile(self.ux, (B, 1)), c0=np.full(B, self.c0),
            A_values=None)

    # ------------------------------------------------------------ checking
    def validate(self, crossed_ok: bool = False) -> "LinearProgram":
        """Raise ValueError naming the culprit on NaN, +inf lower / -inf upper bounds,
        inverted bounds (unless ``crossed_ok``: ``crossed`` reports them) or non-finite matrix
        entries.  Returns self."""
        def where(name, mask, labels=None):
            idx = np.argwhere(mask)[0]
            j = idx[-1]
            label = f" ({labels[j]})" if labels is not None and j < len(labels) else ""
            pos = f"scenario {idx[0]}, index {j}" if len(idx) == 2 else f"index {j}"
            return f"{name} at {pos}{label}"

        if not np.all(np.isfinite(self.A.data)):
            bad = np.flatnonzero(~np.isfinite(self.A.data))[0]
            row = np.searchsorted(self.A.indptr, bad, side="right") - 1
            raise ValueError(f"LinearProgram.A has a non-finite entry in row {row}, column {self.A.indices[bad]}")
        if self.A_values is not None and not np.all(np.isfinite(self.A_values)):
            raise ValueError("LinearProgram.A_values has a non-finite entry: "
                             + where("A_values", ~np.isfinite(self.A_values)))
        for name in ("c",):
            arr = getattr(self, name)
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"LinearProgram.{name} has a non-finite value: "
                                 + where(name, ~np.isfinite(arr), self.var_names))
        if not np.all(np.isfinite(self.c0)):
            raise ValueError("LinearProgram.c0 is not finite")
        for lo_name, hi_name, labels in (("lc", "uc", self.row_names), ("lx", "ux", self.var_names)):
            lo, hi = getattr(self, lo_name), getattr(self, hi_name)
            for name, arr in ((lo_name, lo), (hi_name, hi)):
                if np.isnan(arr).any():
                    raise ValueError(f"LinearProgram.{name} has NaN: " + where(name, np.isnan(arr), labels))
            if (lo == INF).any():
                raise ValueError(f"LinearProgram.{lo_name} is +inf: " + where(lo_name, lo == INF, labels))
            if (hi == -INF).any():
                raise ValueError(f"LinearProgram.{hi_name} is -inf: " + where(hi_name, hi == -INF, labels))
            if (lo > hi).any() and not crossed_ok:
                raise ValueError(f"LinearProgram bounds inverted ({lo_name} > {hi_name}): "
                                 + where(lo_name, lo > hi, labels))
        return self

    def crossed(self) -> np.ndarray:
        """(B,) mask (one entry for a single LP) of scenarios with a lower bound above its
        upper bound: infeasible as they stand."""
        B = self.batch_size or 1
        bad = np.zeros(B, dtype=bool)
        for lo, hi in ((self.lc, self.uc), (self.lx, self.ux)):
            over = np.atleast_2d(np.asarray(lo) > np.asarray(hi)).any(axis=1)
            bad |= np.broadcast_to(over, (B,))
        return bad

    # ----------------------------------------------------------- evaluation
    def objective(self, x: np.ndarray) -> np.ndarray | float:
        """c·x + c0 for a single x (n,) or a batch X (B, n)."""
        x = np.asarray(x, dtype=float)
        val = (x * self.c).sum(axis=-1) + self.c0
        return float(val) if np.ndim(val) == 0 else val

    def matvec(self, x: np.ndarray) -> np.ndarray:
        """A x, for x of shape (n,) or (B, n) (using the per-scenario A_values if present)."""
        x = np.asarray(x, dtype=float)
        if self.A_values is None:
            return (self.A @ x.T).T
        out = np.empty((self.A_values.shape[0], self.A.shape[0]))
        A = self.A.copy()
        for k in range(out.shape[0]):
            A.data = self.A_values[k]
            out[k] = A @ x[k]
        return out

    def norms(self, rows=slice(None), cols=slice(None)) -> tuple[float, float]:
        """(‖b‖₂, ‖c‖₂) of a single LP, the denominators of PDLP's relative measures (``residuals``):
        b the finite row bounds, an equality row's counted once; over ``rows`` and ``cols`` only
        where given."""
        if self.is_batch:
            raise ValueError("norms() takes a single LP; use scenario(k)")
        lc, uc = (v[rows] for v in self._bounds()[:2])
        return _bound_norm(lc, uc), _norm(self.c[cols])

    def with_infinite_bounds(self) -> "LinearProgram":
        """This LP with lower bounds <= -1e20 as -inf and upper bounds >= 1e20 as +inf (INFINITE_BOUND,
        HiGHS's and the PDHG's convention), so that every backend, the presolve and the measures
        read one LP; itself when it has no such bound."""
        clean = dict(zip(("lc", "uc", "lx", "ux"), self._bounds()))
        if all(np.array_equal(v, getattr(self, k)) for k, v in clean.items()):
            return self
        return replace(self, **clean)

    def _bounds(self) -> tuple[np.ndarray, ...]:
        """(lc, uc, lx, ux) as ``with_infinite_bounds`` reads them."""
        lower = lambda v: np.where(v <= -INFINITE_BOUND, -np.inf, v)  # noqa: E731
        upper = lambda v: np.where(v >= INFINITE_BOUND, np.inf, v)  # noqa: E731
        return lower(self.lc), upper(self.uc), lower(self.lx), upper(self.ux)

    def residuals(self, x: np.ndarray, y: Optional[np.ndarray] = None) -> dict:
        """Relative KKT measures of a single LP at (x, y), PDLP's definitions (ℓ2):

        primal = ‖Ax − proj[lc,uc](Ax)‖ + ‖x − proj[lx,ux](x)‖  over 1 + ‖finite bounds‖,
        dual   = (‖c − Aᵀy − z‖ + ‖Aᵀy_wrong‖) / (1 + ‖c‖) with z the part of c − Aᵀy the
                 finite bounds absorb and y_wrong the part of y outside its sign domain
                 (y > 0 on a row without a finite lc, y < 0 without a finite uc),
        gap    = |primal obj − dual obj| / (1 + |p| + |d|), the dual objective of y's
                 sign-feasible part.
        PDLP's iterates stay in y's sign domain, where the y_wrong term is zero and these are
        its measures exactly; a y given from elsewhere with a wrong sign is dual infeasible
        and counts in ``dual`` (it is not projected away).  Also the absolute max
        violations, and beside these ℓ2 measures the worst single row and column, each
        relative to its own scale (so one bad row among many loose ones cannot hide):
        row_rel = max_i viol_i / (1 + max(|finite bounds of i|, Σ_j |a_ij x_j|)),
        col_rel = max_j |(c − Aᵀy − z)_j| / (1 + |c_j| + Σ_i |a_ij y_i|); and gap_abs, the
        absolute primal-dual gap, which bounds the objective's error when both are feasible.
        Without y only the primal part is filled in.  Bounds beyond ±1e20 are infinite."""
        if self.is_batch:
            raise ValueError("residuals() takes a single LP; use scenario(k)")
        x = np.asarray(x, dtype=float)
        lc, uc, lx, ux = self._bounds()
        Ax = self.A @ x
        row_viol = np.maximum(lc - Ax, 0) + np.maximum(Ax - uc, 0)
        bound_viol = np.maximum(lx - x, 0) + np.maximum(x - ux, 0)
        bnorm, cnorm = _bound_norm(lc, uc), _norm(self.c)     # as norms(), from the bounds read above
        p_obj = self.objective(x)
        absA = abs(self.A)
        row_scale = np.maximum(np.maximum(np.where(np.isfinite(lc), np.abs(lc), 0),
                                          np.where(np.isfinite(uc), np.abs(uc), 0)), absA @ np.abs(x))
        out = {
            "row_rel": float((row_viol / (1 + row_scale)).max(initial=0.0)),
            "primal_abs": float(np.sqrt(np.sum(row_viol ** 2) + np.sum(bound_viol ** 2))),
            "max_row_violation": float(row_viol.max(initial=0.0)),
            "max_bound_violation": float(bound_viol.max(initial=0.0)),
            "primal_objective": p_obj,
        }
        out["primal"] = out["primal_abs"] / (1 + bnorm)
        if y is None:
            return out
        y = np.asarray(y, dtype=float)
        y_wrong = (np.where(np.isinf(lc) & (y > 0), y, 0.0)
                   + np.where(np.isinf(uc) & (y < 0), y, 0.0))
        y = y - y_wrong                              # the sign-feasible part (dual objective)
        g = self.c - self.A.T @ y
        z = np.where(g > 0, np.where(np.isfinite(lx), g, 0), np.where(np.isfinite(ux), g, 0))
        dual_abs = _norm(g - z) + (_norm(self.A.T @ y_wrong) if y_wrong.any() else 0.0)
        d_obj = (np.sum(np.where(y > 0, y * np.where(np.isfinite(lc), lc, 0), 0))
                 + np.sum(np.where(y < 0, y * np.where(np.isfinite(uc), uc, 0), 0))
                 + np.sum(np.where(z > 0, z * np.where(np.isfinite(lx), lx, 0), 0))
                 + np.sum(np.where(z < 0, z * np.where(np.isfinite(ux), ux, 0), 0))
                 + self.c0)
        col_scale = np.abs(self.c) + absA.T @ np.abs(y)
        out.update(
            col_rel=float((np.abs(g - z) / (1 + col_scale)).max(initial=0.0)),
            gap_abs=float(abs(p_obj - d_obj)),
            dual_abs=dual_abs,
            dual=dual_abs / (1 + cnorm),
            dual_objective=float(d_obj),
            gap=float(abs(p_obj - d_obj) / (1 + abs(p_obj) + abs(d_obj))),
        )
        return out


def _bound_norm(lc: np.ndarray, uc: np.ndarray) -> float:
    """‖b‖₂ of PDLP's relative primal measure: the finite row bounds, an equality row's once."""
    return _norm(np.concatenate([np.where(np.isfinite(lc), lc, 0)[~(lc == uc)], np.where(np.isfinite(uc), uc, 0)]))


def _norm(v: np.ndarray) -> float:
    """‖v‖₂ without BLAS: numpy's norm calls a threaded OpenBLAS dot, which took 12 ms
    (not 12 us) for 11,000 entries on a 2-core machine with busy cores."""
    return float(np.sqrt(np.sum(np.square(v))))


def _row(a: np.ndarray, k: int) -> np.ndarray:
    return a[k] if a.ndim == 2 else a
