"""An independent optimality check of an LP solution, written with numpy only.

It shares no code with gridprox (not ``LinearProgram.residuals``, not the solvers): it reads the
LP's arrays and recomputes everything from (x, y, z), so a solver or a ``residuals`` that is
wrong cannot vouch for itself.

The LP:      minimise c·x + c0   s.t.  lc <= A x <= uc,  lx <= x <= ux   (±inf allowed).
Duals (HiGHS's convention, ``gridprox/compile/lp.py``): row duals y and reduced costs
z = c − Aᵀy.  For a minimisation y_i > 0 only where lc_i is finite (and active), y_i < 0 only
where uc_i is finite (and active); the part of z that a finite bound absorbs is z⁺ on a finite lx
and z⁻ on a finite ux, anything else is dual infeasibility.

Relative measures (ℓ2, PDLP's, which are what the PDHG's ``tol`` bounds):
  primal = ‖(row violations, bound violations)‖ / (1 + ‖finite row bounds‖)   [equality rows once]
  dual   = (‖part of c − Aᵀy⁺ no finite bound absorbs‖ + ‖Aᵀ(y − y⁺)‖) / (1 + ‖c‖),
           y⁺ the part of y in its sign domain (so a wrongly signed y is dual infeasible)
  gap    = |primal objective − dual objective| / (1 + |primal| + |dual|)
with dual objective = Σ lc_i y_i⁺ − Σ uc_i y_i⁻ + Σ lx_j z_j⁺ − Σ ux_j z_j⁻ + c0 over finite bounds
(y restricted to its sign domain, z the absorbed part).  Complementarity is reported separately:
Σ y⁺(Ax − lc) + y⁻(uc − Ax) + z⁺(x − lx) + z⁻(ux − x) over (1 + |primal| + |dual|).
"""
from __future__ import annotations

import numpy as np


def _fin(v):
    return np.where(np.isfinite(v), v, 0.0)


def _l2(v):
    return float(np.sqrt(np.sum(np.square(v))))


def kkt_measures(lp, x, y, z=None) -> dict:
    """Every measure above at (x, y, z) of a single (not batched) LP, plus per-row/per-column
    extras: max_row_violation / max_bound_violation (absolute), max_row_rel (violation over
    1 + |its bound|), y_sign_violation / z_sign_violation (ℓ∞ of wrongly signed parts),
    z_mismatch (‖z − (c − Aᵀy)‖ / (1 + ‖c‖), when z is given)."""
    c = np.asarray(lp.c, float)
    A = lp.A
    lc, uc, lx, ux = (np.asarray(v, float) for v in (lp.lc, lp.uc, lp.lx, lp.ux))
    c0 = float(np.asarray(lp.c0, float))
    x = np.asarray(x, float)
    Ax = A @ x
    # primal: per row and per column
    row_v = np.maximum(lc - Ax, 0.0) + np.maximum(Ax - uc, 0.0)
    col_v = np.maximum(lx - x, 0.0) + np.maximum(x - ux, 0.0)
    eq = lc == uc
    b = np.concatenate([_fin(lc)[~eq], _fin(uc)])
    near = np.where(Ax < lc, lc, uc)
    out = {
        "primal": np.sqrt(np.sum(row_v ** 2) + np.sum(col_v ** 2)) / (1 + _l2(b)),
        "max_row_violation": float(row_v.max(initial=0.0)),
        "max_bound_violation": float(col_v.max(initial=0.0)),
        "max_row_rel": float((row_v / (1 + np.abs(_fin(near)))).max(initial=0.0)),
        "primal_objective": float(c @ x + c0),
    }
    if y is None:
        return out
    y = np.asarray(y, float)
    # the sign domain of y: y > 0 needs a finite lc, y < 0 a finite uc
    y_bad = np.where((y > 0) & ~np.isfinite(lc), y, 0.0) + np.where((y < 0) & ~np.isfinite(uc), y, 0.0)
    y_ok = y - y_bad
    g = c - A.T @ y_ok                                # reduced costs of y's sign-feasible part
    z_abs = np.where((g > 0) & np.isfinite(lx), g, 0.0) + np.where((g < 0) & np.isfinite(ux), g, 0.0)
    z_bad = g - z_abs                                 # no finite bound can absorb this part
    c_norm = _l2(c)
    out["dual"] = (_l2(z_bad) + _l2(A.T @ y_bad)) / (1 + c_norm)
    out["y_sign_violation"] = float(np.abs(y_bad).max(initial=0.0))
    out["z_sign_violation"] = float(np.abs(z_bad).max(initial=0.0))
    if z is not None:
        out["z_mismatch"] = _l2(np.asarray(z, float) - (c - A.T @ y)) / (1 + c_norm)
    yp, ym = np.maximum(y_ok, 0.0), np.minimum(y_ok, 0.0)
    zp, zm = np.maximum(z_abs, 0.0), np.minimum(z_abs, 0.0)
    d_obj = float(_fin(lc) @ yp + _fin(uc) @ ym + _fin(lx) @ zp + _fin(ux) @ zm + c0)
    p_obj = out["primal_objective"]
    denom = 1 + abs(p_obj) + abs(d_obj)
    out["dual_objective"] = d_obj
    out["gap"] = abs(p_obj - d_obj) / denom
    comp_rows = yp * (Ax - _fin(lc)) - ym * (_fin(uc) - Ax)
    comp_cols = zp * (x - _fin(lx)) - zm * (_fin(ux) - x)
    out["complementarity"] = float(np.abs(comp_rows).sum() + np.abs(comp_cols).sum()) / denom
    return out


def highs_reference(lp):
    """HiGHS's (simplex) solution of the same LP, through highspy directly."""
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("solver", "simplex")
    A = lp.A.tocsc()
    inf = highspy.kHighsInf
    clip = lambda v: np.clip(np.asarray(v, float), -inf, inf)  # noqa: E731
    model = highspy.HighsLp()
    model.num_col_, model.num_row_ = A.shape[1], A.shape[0]
    model.col_cost_ = np.asarray(lp.c, float)
    model.col_lower_, model.col_upper_ = clip(lp.lx), clip(lp.ux)
    model.row_lower_, model.row_upper_ = clip(lp.lc), clip(lp.uc)
    model.offset_ = float(np.asarray(lp.c0, float))
    model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    model.a_matrix_.start_ = A.indptr
    model.a_matrix_.index_ = A.indices
    model.a_matrix_.value_ = A.data
    h.passModel(model)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal, h.modelStatusToString(h.getModelStatus())
    sol = h.getSolution()
    return {"objective": h.getInfo().objective_function_value, "x": np.array(sol.col_value),
            "y": np.array(sol.row_dual), "z": np.array(sol.col_dual)}


def assert_optimal(lp, result, tol, reference=None, *, factor=1.0, obj_factor=2.0, comp_factor=10.0,
                   duals=False, dual_factor=1e3):
    """Assert that ``result`` (a gridprox Result with status "optimal") solves ``lp`` to ``tol``,
    judged only by this module:

    - primal, dual and gap (the solver's relative definitions, above) <= factor·tol (a solver
      that stops when its own measures are below tol passes at factor 1, up to rounding);
    - complementarity <= comp_factor·tol (the solver's tol does not bound it: each row's
      violation enters again times its dual, and the sum is of absolute values; on the test
      LPs it stays within 4·tol);
    - the reported objective is c·x + c0 of the reported x (to rounding), and z = c − Aᵀy (to
      0.1·tol: a float32 solve forms z in float32);
    - the objective within obj_factor·tol of HiGHS's, relative as the gap is:
      |obj − ref| / (1 + |obj| + |ref|) (``reference``: a dict or an object with
      ``objective``/``x``/``y``/``z``; solved here with highspy when None);
    - ``duals``: y and z within dual_factor·tol of HiGHS's (relative ℓ2), for LPs whose dual
      solution is unique.
    Returns the measures."""
    assert result.status == "optimal", result
    m = kkt_measures(lp, result.x, result.y, result.z)
    slack = 1 + 1e-6
    for key in ("primal", "dual", "gap"):
        assert m[key] <= factor * tol * slack, f"{key} {m[key]:.3g} > {factor}·tol ({tol:g}): {m}"
    assert m["complementarity"] <= comp_factor * tol, m
    assert m["z_mismatch"] <= max(1e-9, 0.1 * tol), f"z is not c − Aᵀy: {m['z_mismatch']:.3g}"
    p = m["primal_objective"]
    assert abs(result.objective - p) <= 1e-12 * (1 + abs(p)), (result.objective, p)
    ref = reference if reference is not None else highs_reference(lp)
    get = (lambda k: ref[k]) if isinstance(ref, dict) else (lambda k: getattr(ref, k))  # noqa: E731
    r_obj = float(get("objective"))
    rel = abs(result.objective - r_obj) / (1 + abs(result.objective) + abs(r_obj))
    assert rel <= obj_factor * tol, f"objective {result.objective!r} vs HiGHS {r_obj!r}: {rel:.3g} relative"
    if duals:
        for k in ("y", "z"):
            mine, theirs = np.asarray(getattr(result, k)), np.asarray(get(k))
            err = _l2(mine - theirs) / (1 + _l2(theirs))
            assert err <= dual_factor * tol, f"{k} differs from HiGHS's by {err:.3g} relative"
    m["objective_error"] = rel
    return m


def assert_exact_vertex(lp, res, ref) -> None:
    """``res`` is an exact optimal vertex of ``lp``: "optimal", rows and bounds met to 1e-7 (rows
    relative to the largest finite upper row bound), the gap closed to 1e-9 and the objective
    within 1e-9 of ``ref`` (``highs_reference``)."""
    assert res.status == "optimal", res
    m = kkt_measures(lp, res.x, res.y, res.z)
    assert m["max_row_violation"] <= 1e-7 * (1 + np.abs(np.where(np.isfinite(lp.uc), lp.uc, 0)).max()), m
    assert m["max_bound_violation"] <= 1e-7 and m["gap"] <= 1e-9, m
    assert abs(res.objective - ref["objective"]) <= 1e-9 * abs(ref["objective"])
