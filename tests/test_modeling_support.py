"""Shared helpers for the modelling/compiler tests (no tests here).

``solve_both`` builds one model with cvxpy and with gridprox from a builder written in
cvxpy syntax and solves both with HiGHS; ``assert_same`` checks status, objective,
constraint duals and primal feasibility against cvxpy."""
from __future__ import annotations

import cvxpy
import numpy as np

import gridprox

RTOL = 1e-7


def solve_both(build, **solve_opts):
    """build(cp) -> (problem, constraints to compare).  Returns {"cvxpy": ..., "gridprox": ...}."""
    out = {}
    for cp in (cvxpy, gridprox):
        prob, cons = build(cp)
        prob.solve(solver=cp.HIGHS, **solve_opts)
        out[cp.__name__] = (prob, cons)
    return out


def assert_same(res, duals=True, dual_atol=1e-6):
    (pc, cc), (pg, cg) = res["cvxpy"], res["gridprox"]
    assert pg.status == pc.status, (pg.status, pc.status)
    if pc.status != gridprox.OPTIMAL:
        assert pg.value == pc.value          # ±inf, same sign
        return
    assert abs(pg.value - pc.value) <= RTOL * max(1.0, abs(pc.value)), (pg.value, pc.value)
    for a, b in zip(cc, cg):
        assert np.shape(b.dual_value) == np.shape(a.dual_value), (str(b), np.shape(b.dual_value))
        if duals:
            scale = max(1.0, float(np.max(np.abs(a.dual_value))))
            np.testing.assert_allclose(b.dual_value, a.dual_value, atol=dual_atol * scale, err_msg=str(b))
        assert b.value(1e-6 * max(1.0, abs(pc.value))), f"gridprox solution violates {b}"
    for v in pg.variables():
        assert v.value is not None and v.value.shape == v.shape


def form_value(expr, values: dict):
    """Evaluate a gridprox expression through its sparse Form (the compiler's path, not the
    numeric one) at the given {leaf: value} (Variables and Parameters)."""
    from gridprox.modeling.canon import CanonContext
    ctx = CanonContext()
    f = ctx.form(expr)
    out = f.const.copy()
    by_id = {leaf.id: np.asarray(v, dtype=float).ravel() for leaf, v in values.items()}
    for vid, B in f.var.items():
        out += B @ by_id[vid]
    for (vid, pid), T in f.pvar.items():
        out += T @ np.kron(by_id[vid], by_id[pid])
    for pid, Q in f.pconst.items():
        out += Q @ by_id[pid]
    return out.reshape(expr.shape)
