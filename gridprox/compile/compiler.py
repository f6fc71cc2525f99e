"""Problem -> ParametricProgram (and from it the LinearProgram).

Steps: DCP-check the objective and constraints (naming any culprit), canonicalise every
expression to a Form, lay out the columns (user variables, then auxiliary ones) and θ (the
Parameters), turn single-variable inequalities into variable bounds where that is exact,
stack everything else as rows, and assemble each piece of the LP as ``base + M @ θ``.
All of it is vectorised over the entries of each constraint.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import ModelingError
from ..modeling.canon import CanonContext, check_dcp
from ..modeling.expression import AFFINE, CONCAVE, CONVEX, Expression
from ..modeling.form import Form
from .parametric import BoundDual, ParamAffine, ParametricProgram


class _Triplets:
    """Growing COO lists, concatenated once at the end."""

    def __init__(self, n_fields):
        self.parts = [[] for _ in range(n_fields)]

    def add(self, *arrays):
        for part, arr in zip(self.parts, arrays):
            part.append(np.asarray(arr))

    def arrays(self, dtypes):
        return [np.concatenate(p).astype(d) if p else np.zeros(0, dtype=d) for p, d in zip(self.parts, dtypes)]


def _affine(base, triplets: _Triplets, length, num_params) -> ParamAffine:
    idx, theta, val = triplets.arrays((np.int64, np.int64, float))
    M = sp.csr_matrix((val, (idx, theta)), shape=(length, num_params)) if val.size else None
    return ParamAffine(np.asarray(base, dtype=float), M)


class _Layout:
    """Column offsets of variables and θ offsets of parameters."""

    def __init__(self, variables, parameters):
        self.var_off, self.param_off, n, p = {}, {}, 0, 0
        for v in variables:
            self.var_off[v.id] = n
            n += v._columns
        for q in parameters:
            self.param_off[q.id] = p
            p += q.size
        self.n, self.P = n, p
        self.param_size = {q.id: q.size for q in parameters}

    def param_rows(self, form: Form) -> sp.csr_matrix:
        """The parameter part of a form's offset as one (size × P) matrix in θ's columns."""
        if not form.pconst:
            return sp.csr_matrix((form.size, self.P))
        rows, cols, vals = [], [], []
        for pid, Q in form.pconst.items():
            coo = Q.tocoo()
            rows.append(coo.row)
            cols.append(coo.col + self.param_off[pid])
            vals.append(coo.data)
        return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                             shape=(form.size, self.P))

    def coefficients(self, form: Form):
        """(rows, cols, data) of the constant coefficients and (rows, cols, θ index, data) of
        the parameter-affine ones, in global column / θ numbering."""
        const = _Triplets(3)
        for vid, B in form.var.items():
            coo = B.tocoo()
            const.add(coo.row, coo.col + self.var_off[vid], coo.data)
        par = _Triplets(4)
        for (vid, pid), T in form.pvar.items():
            coo = T.tocoo()
            P = self.param_size[pid]
            j, k = np.divmod(coo.col.astype(np.int64), P)
            par.add(coo.row, j + self.var_off[vid], k + self.param_off[pid], coo.data)
        return const, par


class _Bounds:
    """Variable bounds gathered from attributes and single-variable inequalities.

    Constant bounds on the same column merge (the tightest wins and owns the dual); a bound
    that depends on a Parameter must be the only one on its side of its column, since
    max(p, 0) is not affine in p — such a constraint stays a row instead."""

    def __init__(self, layout: _Layout):
        n = layout.n
        self.layout = layout
        self.value = {"lo": np.full(n, -np.inf), "up": np.full(n, np.inf)}
        self.is_set = {"lo": np.zeros(n, bool), "up": np.zeros(n, bool)}
        self.is_param = {"lo": np.zeros(n, bool), "up": np.zeros(n, bool)}
        self.owner = {"lo": np.full(n, -1, np.int64), "up": np.full(n, -1, np.int64)}
        self.param = {"lo": _Triplets(3), "up": _Triplets(3)}

    def request(self, cols, upper, v0, Pent, owner: int) -> bool:
        """Bound x[cols] <= v0 + Pent θ where ``upper`` else >=; False (nothing changed) if a
        parameter bound would have to merge with another bound."""
        has_p = np.diff(Pent.indptr) > 0 if Pent is not None else np.zeros(cols.size, bool)
        sides = {"up": upper, "lo": ~upper}
        for s, mask in sides.items():
            clash = mask & (self.is_param[s][cols] | (has_p & self.is_set[s][cols]))
            if clash.any():
                return False
        for s, mask in sides.items():
            val = self.value[s]
            const = mask & ~has_p
            c_cols, c_v = cols[const], v0[const]
            # tighter wins; on a tie a constraint takes the dual from a variable attribute (owner -1)
            tie = (c_v == val[c_cols]) & (self.owner[s][c_cols] < 0) & (owner >= 0)
            tighter = ~self.is_set[s][c_cols] | tie | ((c_v < val[c_cols]) if s == "up" else (c_v > val[c_cols]))
            val[c_cols[tighter]] = c_v[tighter]
            self.owner[s][c_cols[tighter]] = owner
            pmask = mask & has_p
            if pmask.any():
                p_cols = cols[pmask]
                val[p_cols] = v0[pmask]
                self.is_param[s][p_cols] = True
                self.owner[s][p_cols] = owner
                sub = Pent[np.flatnonzero(pmask)].tocoo()
                self.param[s].add(p_cols[sub.row], sub.col, sub.data)
            self.is_set[s][cols[mask]] = True
        return True

    def affine(self, side: str) -> ParamAffine:
        return _affine(self.value[side], self.param[side], self.layout.n, self.layout.P)


def _single_variable(form: Form):
    """(vid, cols, coef) when every entry of ``form`` is coef·x[col] + offset for one
    variable with distinct columns and constant nonzero coefficients, else None."""
    if form.pvar or len(form.var) != 1:
        return None
    (vid, B), = form.var.items()
    B = B.tocsr()
    B.sum_duplicates()
    if not np.all(np.diff(B.indptr) == 1) or np.any(B.data == 0):
        return None
    cols = B.indices
    if np.unique(cols).size != cols.size:
        return None
    return vid, cols.astype(np.int64), B.data.astype(float)


def _attribute_requests(var, layout: _Layout, bounds: _Bounds, ctx: CanonContext):
    """nonneg / nonpos / bounds=[lb, ub] of a Variable; a Parameter bound that clashes with
    another bound becomes a hidden row constraint."""
    off = layout.var_off[var.id]
    n = var._columns
    cols = off + np.arange(n, dtype=np.int64)
    reqs = []          # (upper?, constant value, parameter part, entries kept, the Parameter)
    every = np.ones(n, bool)
    if var.attributes["nonneg"]:
        reqs.append((False, np.zeros(n), None, every, None))
    if var.attributes["nonpos"]:
        reqs.append((True, np.zeros(n), None, every, None))
    for upper, b in zip((False, True), var.bounds or ()):
        if isinstance(b, Expression):
            # a Parameter or an affine expression of them: value + Pent θ, refilled at each solve (in a
            # non-DPP problem, compiled with the Parameters' values, Pent is empty and the bound a number)
            idx = np.broadcast_to(np.arange(b.size).reshape(b.shape), var.shape).ravel()
            f = ctx.form(b)
            reqs.append((upper, f.const[idx], layout.param_rows(f)[idx], every, b))
        elif b is not None:
            v = var._entries(b)
            reqs.append((upper, v, None, v != (np.inf if upper else -np.inf), None))
    for upper, v0, Pent, keep, param in reqs:
        sub = np.flatnonzero(keep)
        ok = bounds.request(cols[sub], np.full(sub.size, upper), v0[sub],
                            Pent[sub] if Pent is not None else None, -1)
        if not ok:        # only a Parameter bound can clash: keep it as the row x - p <= 0 / p - x <= 0
            idx = np.broadcast_to(np.arange(param.size).reshape(param.shape), var.shape).ravel()
            diff = Form.variable(var.id, var.shape) - ctx.form(param).gather(idx, var.shape)
            ctx.add_hidden(diff if upper else -diff, "le", var)


def compile_problem(problem, freeze_params: bool = False) -> ParametricProgram:
    """Compile a ``gridprox.Problem`` once; see the module docstring.  ``freeze_params`` reads
    the Parameters as their current values (a non-DPP problem, compiled again per solve)."""
    obj = problem.objective
    minimize = obj.NAME == "minimize"
    check_dcp(obj.expr, CONVEX if minimize else CONCAVE, lambda: f"objective {obj}")
    constraints = problem.constraints
    for con in constraints:
        check_dcp(con.expr, AFFINE if con.kind == "eq" else CONVEX, lambda: f"constraint {con}")

    ctx = CanonContext(freeze_params=freeze_params)
    f_obj = ctx.form(obj.expr)
    f_cons = [ctx.form(con.expr) for con in constraints]
    user_vars = problem.variables()
    parameters = problem.parameters()
    clash = {v.id for v in user_vars} & {v.id for v in ctx.aux}
    if clash:       # a partial_optimize variable used outside it as well
        name = next(v.name() for v in user_vars if v.id in clash)
        raise ModelingError(f"{name} is optimized over inside a partial_optimize and also appears outside it; "
                            "use another Variable outside")
    layout = _Layout(user_vars + ctx.aux, parameters)
    sense = 1 if minimize else -1

    # ---- bounds: attributes first, then single-variable inequalities
    bounds = _Bounds(layout)
    for v in user_vars:
        _attribute_requests(v, layout, bounds, ctx)
    bound_maps, bound_info, row_items = {}, {}, []
    for k, (con, f) in enumerate(zip(constraints, f_cons)):
        single = _single_variable(f) if con.kind == "le" else None
        if single is not None:
            vid, cols, coef = single
            cols = cols + layout.var_off[vid]
            Pent = sp.diags(-1.0 / coef) @ layout.param_rows(f)
            if bounds.request(cols, coef > 0, -f.const / coef, sp.csr_matrix(Pent), k):
                bound_info[con.id] = (k, cols, coef)
                continue
        row_items.append((con, f, con.kind))
    for f, kind, origin in ctx.hidden:
        row_items.append((None, f, kind))
    for con_id, (k, cols, coef) in bound_info.items():
        active = np.where(coef > 0, bounds.owner["up"][cols], bounds.owner["lo"][cols]) == k
        bound_maps[con_id] = BoundDual(cols, coef, active)

    # ---- rows
    A_const, A_par, rhs_par = _Triplets(3), _Triplets(4), _Triplets(3)
    rhs_base, is_eq, row_maps, m = [], [], {}, 0
    for con, f, kind in row_items:
        const, par = layout.coefficients(f)
        r, c, d = const.arrays((np.int64, np.int64, float))
        A_const.add(r + m, c, d)
        r, c, t, d = par.arrays((np.int64, np.int64, np.int64, float))
        A_par.add(r + m, c, t, d)
        Q = layout.param_rows(f).tocoo()
        rhs_par.add(Q.row + m, Q.col, -Q.data)
        rhs_base.append(-f.const)
        is_eq.append(np.full(f.size, kind == "eq"))
        if con is not None:
            row_maps[con.id] = (m, f.size)
        m += f.size
    A, A_data = _assemble(A_const, A_par, m, layout.n, layout.P)

    # ---- objective
    const, par = layout.coefficients(f_obj)
    _, c_cols, c_vals = const.arrays((np.int64, np.int64, float))
    c_base = np.bincount(c_cols, weights=c_vals, minlength=layout.n) * sense
    _, pc_cols, pc_theta, pc_vals = par.arrays((np.int64, np.int64, np.int64, float))
    c_par = _Triplets(3)
    c_par.add(pc_cols, pc_theta, pc_vals * sense)
    Q = layout.param_rows(f_obj).tocoo()
    c0_par = _Triplets(3)
    c0_par.add(Q.row, Q.col, Q.data * sense)

    pp = ParametricProgram(
        A=A, A_data=A_data, c=_affine(c_base, c_par, layout.n, layout.P),
        c0=_affine(f_obj.const * sense, c0_par, 1, layout.P),
        rhs=_affine(np.concatenate(rhs_base) if rhs_base else np.zeros(0), rhs_par, m, layout.P),
        is_eq=np.concatenate(is_eq) if is_eq else np.zeros(0, bool),
        lx=bounds.affine("lo"), ux=bounds.affine("up"),
        parameters=parameters, param_offsets=layout.param_off, variables=user_vars + ctx.aux,
        var_offsets=layout.var_off, row_maps=row_maps, bound_maps=bound_maps, sense=sense)
    pp.frozen = freeze_params
    return pp


def _assemble(const: _Triplets, par: _Triplets, m: int, n: int, P: int):
    """A's CSR pattern (constant entries that cancel to zero are dropped; parameter
    entries always kept) and its values as base + M θ in CSR order.

    Constant values ride in the real part and a parameter marker in the imaginary part of
    one complex COO matrix, so scipy's C conversion sums duplicates and merges both
    patterns in a single pass."""
    r, c, d = const.arrays((np.int64, np.int64, float))
    pr, pc, pt, pd = par.arrays((np.int64, np.int64, np.int64, float))
    vals = np.concatenate([d.astype(complex), np.full(pr.size, 1j)])
    K = sp.coo_matrix((vals, (np.concatenate([r, pr]), np.concatenate([c, pc]))), shape=(m, n)).tocsr()
    K.sum_duplicates()
    keep = K.data != 0
    rows = np.repeat(np.arange(m, dtype=np.int64), np.diff(K.indptr))
    counts = np.bincount(rows[keep], minlength=m)
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    indices = K.indices[keep].astype(np.int64)
    base = K.data.real[keep].copy()
    A = sp.csr_matrix((base.copy(), indices, indptr), shape=(m, n))
    A.has_sorted_indices = True
    M = None
    if pd.size:
        keys = rows[keep] * n + indices
        pos = np.searchsorted(keys, pr * n + pc)
        M = sp.csr_matrix((pd, (pos, pt)), shape=(keys.size, P))
    return A, ParamAffine(base, M)
