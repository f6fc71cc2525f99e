"""The vectorised representation of an affine expression: sparse coefficient blocks.

An expression of shape S (N = prod(S) entries, flattened in C order) is held as

    value = Σ_v  B_v · vec(v)                          (constant coefficients)
          + Σ_(v,p)  T_vp · (vec(v) ⊗ θ_p)             (coefficients affine in a Parameter)
          + const + Σ_p Q_p · θ_p                      (offset, affine in the Parameters)

with ``B_v`` (N × |v|), ``Q_p`` (N × |p|) and ``T_vp`` (N × |v|·|p|, column j·|p| + k for
variable entry j and parameter entry k) scipy CSR matrices keyed by leaf id.  Every linear
operation of the modelling layer (indexing, sums, broadcasting, products with constants,
stacking) is a sparse matrix applied on the left of all blocks at once, so building a
model never loops over its scalar entries.  Products with a Parameter turn ``B_v`` into
``T_vp`` (a row-wise Kronecker product), which keeps every coefficient affine in θ.
"""
from __future__ import annotations

import math
from typing import Dict, Tuple

import numpy as np
import scipy.sparse as sp


class VariableProductError(ValueError):
    """Internal: a product whose factor holds variables (the modelling layer refuses these
    before canonicalising; interval bounds meet them with placeholder arguments)."""


class ParameterProductError(Exception):
    """Internal: a product of two parameter-dependent factors (not affine in θ).
    Re-raised as ModelingError naming the expression by the canonicaliser."""


def _csr(m) -> sp.csr_matrix:
    return m if isinstance(m, sp.csr_matrix) else sp.csr_matrix(m)


def _row_scale(m, d: np.ndarray) -> sp.csr_matrix:
    """diag(d) @ m without building diag(d); entries scaled to zero are dropped."""
    m = _csr(m)
    data = m.data * np.repeat(d, np.diff(m.indptr))
    if np.all(d):
        return sp.csr_matrix((data, m.indices, m.indptr), shape=m.shape)
    out = sp.csr_matrix((data, m.indices.copy(), m.indptr.copy()), shape=m.shape)
    out.eliminate_zeros()           # in place: hence the copies, m shares nothing with out
    return out


def _add_into(dst: dict, key, mat):
    if key in dst:
        dst[key] = dst[key] + mat
    else:
        dst[key] = mat


class Form:
    """Affine expression data; see the module docstring."""

    __slots__ = ("shape", "size", "var", "pvar", "const", "pconst")

    def __init__(self, shape: Tuple[int, ...], var=None, pvar=None, const=None, pconst=None):
        self.shape = tuple(shape)
        self.size = math.prod(self.shape)
        self.var: Dict[int, sp.csr_matrix] = var or {}
        self.pvar: Dict[Tuple[int, int], sp.csr_matrix] = pvar or {}
        self.const: np.ndarray = np.zeros(self.size) if const is None else const
        self.pconst: Dict[int, sp.csr_matrix] = pconst or {}

    # ---------------------------------------------------------------- leaves
    @classmethod
    def variable(cls, vid: int, shape, stored=None) -> "Form":
        """A variable's entries; ``stored``: the flat positions of the only ones it holds (a sparse or
        diagonal Variable, one column each), the others structural zeros."""
        n = math.prod(shape)
        if stored is None:
            return cls(shape, var={vid: sp.identity(n, format="csr")})
        k = len(stored)
        return cls(shape, var={vid: sp.csr_matrix((np.ones(k), (stored, np.arange(k))), shape=(n, k))})

    @classmethod
    def parameter(cls, pid: int, shape) -> "Form":
        n = math.prod(shape)
        return cls(shape, pconst={pid: sp.identity(n, format="csr")})

    @classmethod
    def constant(cls, value) -> "Form":
        arr = value.toarray() if sp.issparse(value) else np.asarray(value, dtype=float)
        return cls(arr.shape, const=arr.ravel().astype(float))

    # ---------------------------------------------------------------- queries
    @property
    def has_vars(self) -> bool:
        return bool(self.var or self.pvar)

    @property
    def has_params(self) -> bool:
        return bool(self.pvar or self.pconst)

    # ---------------------------------------------------------- linear maps
    def _map(self, shape, f_mat, f_vec) -> "Form":
        return Form(shape,
                    var={k: f_mat(m) for k, m in self.var.items()},
                    pvar={k: f_mat(m) for k, m in self.pvar.items()},
                    const=f_vec(self.const),
                    pconst={k: f_mat(m) for k, m in self.pconst.items()})

    def gather(self, idx: np.ndarray, shape) -> "Form":
        """Entry i of the result is entry idx[i] of self (indexing, broadcasting,
        transposes, reshapes)."""
        idx = np.asarray(idx, dtype=np.int64).ravel()
        if idx.size == self.size and np.array_equal(idx, np.arange(self.size)):
            return Form(shape, self.var, self.pvar, self.const, self.pconst)
        return self._map(shape, lambda m: m[idx], lambda v: v[idx])

    def lmul(self, L, shape) -> "Form":
        """The sparse linear map L (size_out × size) applied to every block."""
        L = _csr(L)
        return self._map(shape, lambda m: _csr(L @ m), lambda v: L @ v)

    def scale(self, d) -> "Form":
        """Row-wise scaling by the dense vector d (an elementwise product with a constant)."""
        d = np.broadcast_to(np.asarray(d, dtype=float), (self.size,))
        return self._map(self.shape, lambda m: _row_scale(m, d), lambda v: d * v)

    def reshape(self, shape) -> "Form":
        return Form(shape, self.var, self.pvar, self.const, self.pconst)

    def __neg__(self) -> "Form":
        return self._map(self.shape, lambda m: -m, lambda v: -v)

    def __add__(self, other: "Form") -> "Form":
        if self.size != other.size:
            raise ValueError(f"internal: adding forms of shapes {self.shape} and {other.shape}")
        out = Form(self.shape, dict(self.var), dict(self.pvar), self.const + other.const, dict(self.pconst))
        for src, dst in ((other.var, out.var), (other.pvar, out.pvar), (other.pconst, out.pconst)):
            for k, m in src.items():
                _add_into(dst, k, m)
        return out

    def __sub__(self, other: "Form") -> "Form":
        return self + (-other)

    # ------------------------------------------------------------- products
    def mul_by(self, factor: "Form") -> "Form":
        """Elementwise product with ``factor``, an expression without variables of the
        same size.  A parameter-dependent factor turns variable coefficients into
        parameter-affine ones; two parameter-dependent factors are refused."""
        if factor.has_vars:
            raise VariableProductError("internal: mul_by needs a variable-free factor")
        out = self.scale(factor.const)
        if not factor.pconst:
            return out
        if self.has_params:
            raise ParameterProductError()
        for pid, Q in factor.pconst.items():
            for vid, B in self.var.items():
                _add_into(out.pvar, (vid, pid), row_kron(Q, B))
            if np.any(self.const):
                _add_into(out.pconst, pid, _row_scale(Q, self.const))
        return out


def row_kron(Q: sp.csr_matrix, B: sp.csr_matrix) -> sp.csr_matrix:
    """Row-wise Kronecker product: out[i, j*P + k] = B[i, j] * Q[i, k], P = Q.shape[1]."""
    Q, B = _csr(Q), _csr(B)
    N, P = Q.shape
    nq, nb = np.diff(Q.indptr), np.diff(B.indptr)
    counts = nq * nb
    total = int(counts.sum())
    rows = np.repeat(np.arange(N), counts)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    local = np.arange(total) - np.repeat(start, counts)
    nb_r = np.repeat(nb, counts)
    qi = np.repeat(Q.indptr[:-1], counts) + local // np.maximum(nb_r, 1)
    bi = np.repeat(B.indptr[:-1], counts) + local % np.maximum(nb_r, 1)
    cols = B.indices[bi].astype(np.int64) * P + Q.indices[qi]
    data = B.data[bi] * Q.data[qi]
    return sp.csr_matrix((data, (rows, cols)), shape=(N, B.shape[1] * P))


# ------------------------------------------------------------------ linear maps
def flat_index(shape) -> np.ndarray:
    """C-order positions of an array of ``shape``; indexing it gives gather maps."""
    return np.arange(math.prod(shape), dtype=np.int64).reshape(shape)


def broadcast_index(shape, target) -> np.ndarray:
    return np.broadcast_to(flat_index(shape), target).ravel()


def along_axis(shape, axis: int, T) -> sp.csr_matrix:
    """The 1-d operator T (n_out × shape[axis]) applied along ``axis`` of a C-ordered array."""
    pre = math.prod(shape[:axis])
    post = math.prod(shape[axis + 1:])
    L = sp.kron(sp.identity(pre, format="csr"), _csr(T), format="csr")
    return sp.kron(L, sp.identity(post, format="csr"), format="csr")


def sum_map(shape, axes) -> sp.csr_matrix:
    """Sum over ``axes`` (a tuple of non-negative ints): (size_out × size)."""
    keep = [1 if a in axes else n for a, n in enumerate(shape)]
    out_pos = broadcast_index(tuple(keep), shape)
    n_in = math.prod(shape)
    return sp.csr_matrix((np.ones(n_in), (out_pos, np.arange(n_in))), shape=(math.prod(keep), n_in))


def scatter_map(positions: np.ndarray, n_out: int) -> sp.csr_matrix:
    """Places entry i of an input at output position positions[i] (stacking)."""
    positions = np.asarray(positions, dtype=np.int64).ravel()
    return sp.csr_matrix((np.ones(positions.size), (positions, np.arange(positions.size))),
                         shape=(n_out, positions.size))


def diff_matrix(n: int) -> sp.csr_matrix:
    """(n-1) × n first differences."""
    return sp.diags([-np.ones(n - 1), np.ones(n - 1)], [0, 1], shape=(n - 1, n), format="csr")


def cumsum_inverse(n: int) -> sp.csr_matrix:
    """n × n bidiagonal D with D @ cumsum(x) = x (first row kept, then differences)."""
    return sp.diags([np.ones(n), -np.ones(n - 1)], [0, -1], shape=(n, n), format="csr")
