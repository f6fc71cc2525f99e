"""ParametricProgram: a compiled LP whose data are affine maps of the Parameter values.

Stacking every Parameter's entries into one vector θ, each piece of the LinearProgram is
``base + M @ θ`` with M sparse and built once by the compiler: c, c0, the row right-hand
sides, the variable bounds, and A's values in A's own CSR order.  Changing ``param.value``
and calling ``lp()`` costs a few sparse mat-vecs; ``batch`` evaluates B parameter sets with
one sparse × dense product per piece and shares A's sparsity pattern across the batch.
The maps back (solution vector -> variable values, row duals / reduced costs -> constraint
duals in cvxpy's signs) live here too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Mapping, Optional, Sequence, Union

import numpy as np
import scipy.sparse as sp

from ..errors import ModelingError
from ..modeling.canon import ParameterError
from .lp import LinearProgram


@dataclass
class ParamAffine:
    """``base + M @ θ`` (M may be None when nothing depends on a Parameter)."""

    base: np.ndarray
    M: Optional[sp.csr_matrix] = None

    def __post_init__(self):
        if self.M is not None and self.M.nnz == 0:
            self.M = None

    @property
    def parametric(self) -> bool:
        return self.M is not None

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        return self.base.copy() if self.M is None else self.base + self.M @ theta

    def batch(self, Theta: np.ndarray) -> np.ndarray:
        """(B, len) values for a (B, P) stack of parameter vectors."""
        if self.M is None:
            return np.broadcast_to(self.base, (Theta.shape[0],) + self.base.shape).copy()
        return self.base[None, :] + (self.M @ Theta.T).T


@dataclass
class BoundDual:
    """How a constraint that became variable bounds gets its dual from reduced costs:
    entry e bounds column ``cols[e]`` through ``coef[e] * x + ... <= 0``; only entries whose
    bound is the one in force (``active[e]``) carry a multiplier."""

    cols: np.ndarray
    coef: np.ndarray
    active: np.ndarray

    def dual(self, z: np.ndarray) -> np.ndarray:
        zc = z[self.cols]
        side = np.where(self.coef > 0, np.minimum(zc, 0.0), np.maximum(zc, 0.0))
        return np.where(self.active, -side / self.coef, 0.0)


class ParametricProgram:
    # compiled with its Parameters read as numbers (a non-DPP problem): no other values can be filled in
    frozen = False

    def _check_not_frozen(self, values):
        if self.frozen and values:
            raise ModelingError("the problem is not DPP (a product of Parameters), so it was compiled with the "
                                "Parameters' current values: set their .value and solve, one scenario at a time")
    """See the module docstring.  Built by ``gridprox.compile.compiler.compile_problem``."""

    def __init__(self, *, A: sp.csr_matrix, A_data: ParamAffine, c: ParamAffine, c0: ParamAffine,
                 rhs: ParamAffine, is_eq: np.ndarray, lx: ParamAffine, ux: ParamAffine,
                 parameters: Sequence, param_offsets: Dict[int, int], variables: Sequence,
                 var_offsets: Dict[int, int], row_maps: Dict[int, tuple], bound_maps: Dict[int, BoundDual],
                 sense: int):
        self.A = A
        self.A_data = A_data
        self.c, self.c0, self.rhs, self.is_eq, self.lx, self.ux = c, c0, rhs, is_eq, lx, ux
        self.parameters = list(parameters)
        self.param_offsets = param_offsets
        self.num_params = int(sum(p.size for p in self.parameters))
        self.variables = list(variables)
        self.var_offsets = var_offsets
        self.row_maps = row_maps            # constraint id -> (first row, size)
        self.bound_maps = bound_maps        # constraint id -> BoundDual
        self.sense = sense

    # ------------------------------------------------------------ sizes
    @property
    def shape(self):
        return self.A.shape

    @property
    def depends_on_params(self) -> Dict[str, bool]:
        """Which pieces of the LP change with the Parameters."""
        return {"c": self.c.parametric or self.c0.parametric, "rows": self.rhs.parametric,
                "bounds": self.lx.parametric or self.ux.parametric, "A": self.A_data.parametric}

    def enters(self, param) -> Dict[str, bool]:
        """Where one Parameter enters the LP: objective, row bounds, variable bounds, A."""
        p = self._param(param)
        lo = self.param_offsets[p.id]
        cols = slice(lo, lo + p.size)

        def uses(*maps):
            return any(m.M is not None and m.M[:, cols].nnz > 0 for m in maps)
        return {"c": uses(self.c, self.c0), "rows": uses(self.rhs), "bounds": uses(self.lx, self.ux),
                "A": uses(self.A_data)}

    # ------------------------------------------------------------ θ
    def _param(self, key):
        if isinstance(key, str):
            for p in self.parameters:
                if p.name() == key:
                    return p
            raise KeyError(f"no Parameter named {key!r} in this problem")
        if key.id not in self.param_offsets:
            raise KeyError(f"Parameter {key} does not appear in this problem")
        return key

    def theta(self, values: Optional[Mapping] = None) -> np.ndarray:
        """The stacked parameter vector: current ``param.value``s, overridden by ``values``."""
        theta = np.empty(self.num_params)
        over = {self._param(k).id: v for k, v in (values or {}).items()}
        for p in self.parameters:
            off = self.param_offsets[p.id]
            v = over.get(p.id, p.value)
            if v is None:
                raise ParameterError(f"A Parameter (whose name is {p.name()!r}) does not have a value associated "
                                     f"with it; set {p.name()}.value before solving.")     # cvxpy's words
            theta[off:off + p.size] = p.checked(v).ravel()
        return theta

    # ------------------------------------------------------------ LPs
    def _bounds(self, rhs):
        lc = np.where(self.is_eq, rhs, -np.inf) if rhs.ndim == 1 else np.where(self.is_eq[None], rhs, -np.inf)
        return lc, rhs

    def lp(self, values: Optional[Mapping] = None) -> LinearProgram:
        """The LinearProgram at the current Parameter values (or ``values`` overrides)."""
        self._check_not_frozen(values)
        theta = self.theta(values)
        # a fresh matrix each time: a backend that scales A in place must not touch ours
        A = sp.csr_matrix((self.A_data(theta), self.A.indices.copy(), self.A.indptr.copy()), shape=self.A.shape)
        A.has_sorted_indices = True
        lc, uc = self._bounds(self.rhs(theta))
        return LinearProgram(c=self.c(theta), A=A, lc=lc, uc=uc, lx=self.lx(theta), ux=self.ux(theta),
                             c0=float(self.c0(theta)[0]))

    def thetas(self, values: Union[Sequence[Mapping], Mapping]) -> np.ndarray:
        """(B, P) parameter vectors from a list of {param: value} dicts (missing ones keep their
        current value) or from one {param: array with a leading batch dimension B} dict."""
        if isinstance(values, Mapping):
            items = [(self._param(k), v) for k, v in values.items()]
            batched = {p.id: np.ndim(v) > p.ndim for p, v in items}
            sizes = {np.shape(v)[0] for p, v in items if batched[p.id]}
            if len(sizes) != 1:
                raise ValueError("batch: give every batched value the same leading dimension B in front "
                                 f"of its Parameter's shape (got B in {sorted(sizes)})")
            B = sizes.pop()
            first = {p: (v[0] if batched[p.id] else v) for p, v in items}
            Theta = np.tile(self.theta(first), (B, 1))
            for p, v in items:
                if batched[p.id]:
                    off = self.param_offsets[p.id]
                    Theta[:, off:off + p.size] = p.checked(v, (B,)).reshape(B, -1)
            return Theta
        return np.stack([self.theta(v) for v in values])

    def batch(self, values: Union[Sequence[Mapping], Mapping]) -> LinearProgram:
        """A batch of B LinearPrograms sharing A's pattern (A_values when A varies)."""
        self._check_not_frozen(True)
        Theta = self.thetas(values)
        lc, uc = self._bounds(self.rhs.batch(Theta))
        return LinearProgram(
            c=self.c.batch(Theta), A=self.A.copy(), lc=lc, uc=uc, lx=self.lx.batch(Theta), ux=self.ux.batch(Theta),
            c0=self.c0.batch(Theta)[:, 0],
            A_values=self.A_data.batch(Theta) if self.A_data.parametric else None)

    # ------------------------------------------------------------ maps back
    def variable_values(self, x: np.ndarray) -> Dict:
        """{Variable: value of its shape} for a solution vector x (auxiliary ones included)."""
        out = {}
        for v in self.variables:
            off = self.var_offsets[v.id]
            out[v] = v._from_entries(np.asarray(x[off:off + v._columns]))
        return out

    def constraint_duals(self, constraints, y: np.ndarray, z: Optional[np.ndarray], lp: LinearProgram) -> Dict:
        """{Constraint: dual in cvxpy's convention} from HiGHS-convention row duals y and
        reduced costs z (z = c − Aᵀy is recomputed when a backend gives none)."""
        if z is None and self.bound_maps:
            z = lp.c - lp.A.T @ y
        out = {}
        for con in constraints:
            if con.id in self.row_maps:
                start, size = self.row_maps[con.id]
                val = -np.asarray(y[start:start + size])
            else:
                val = self.bound_maps[con.id].dual(z)
            out[con] = val.reshape(con.shape) + 0.0     # no -0.0
        return out
