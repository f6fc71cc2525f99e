"""Interval bounds of an expression from its leaves' bounds (cvxpy's ``get_bounds``).

Every bound returned holds for every value the expression can take.  A leaf gives its own
interval (a Variable its ``bounds`` and sign, a Parameter likewise, a Constant its value);
a node combines its arguments' intervals by one of four rules, then tightens by its sign:

* affine nodes: the node's own linear map from its arguments (built by its ``_canon`` with
  each argument standing as a placeholder variable), split into positive and negative
  coefficients, so one rule covers every affine atom (at least as tight as cvxpy's per-atom
  rules, which give up on stacking);
* nodes monotone in each argument (maximum, max, pos, sum_largest, cummax, and cumsum, whose
  lowering has an auxiliary variable): the node evaluated at the arguments' ends;
* ``abs``: its own rule; atoms defined through others (norm1, ptp): their definition's bounds;
* anything else, and products of two non-constant factors other than ``multiply``: unbounded.
"""
from __future__ import annotations

import numpy as np

from .affine import Multiply
from .canon import CanonContext
from .expression import (AFFINE, DECREASING, INCREASING, Constant, Expression, Parameter, Variable,
                         dense, fold)
from .form import Form, VariableProductError
from .piecewise import Abs


def get_bounds(expr: Expression):
    """(lower, upper) arrays of ``expr.shape``."""
    return fold(expr, _leaf_bounds, _node_bounds)


def unbounded(shape):
    return np.full(shape, -np.inf), np.full(shape, np.inf)


def _leaf_bounds(leaf):
    if isinstance(leaf, Constant):
        v = dense(leaf.value)
        return v, v
    if not isinstance(leaf, (Variable, Parameter)):      # an atom's auxiliary leaf
        return unbounded(leaf.shape)
    lo, hi = -np.inf, np.inf
    given = leaf.bounds or (None, None)
    # a Parameter bound holds at solve time only: no number to give here (as in cvxpy)
    if given[0] is not None and not isinstance(given[0], Expression):
        lo = dense(given[0])
    if given[1] is not None and not isinstance(given[1], Expression):
        hi = dense(given[1])
    if leaf.attributes["nonneg"]:
        lo = np.maximum(lo, 0.0)
    if leaf.attributes["nonpos"]:
        hi = np.minimum(hi, 0.0)
    if leaf._stored is not None:        # a sparse or diagonal leaf: its other entries are 0
        lo, hi = (leaf._from_entries(leaf._entries(b)) for b in (lo, hi))
    # a uniform bound stays a broadcast view (cvxpy's memory rule for large variables)
    return (np.broadcast_to(np.asarray(lo, dtype=float), leaf.shape),
            np.broadcast_to(np.asarray(hi, dtype=float), leaf.shape))


def _node_bounds(node, arg_bounds):
    if not node._has_vars and not node._has_params:
        v = dense(node.value)
        return v, v
    lo, hi = _rule(node, arg_bounds)
    lo, hi = np.broadcast_to(lo, node.shape), np.broadcast_to(hi, node.shape)
    if node.is_nonneg():
        lo = np.maximum(lo, 0.0)
    if node.is_nonpos():
        hi = np.minimum(hi, 0.0)
    return lo, hi


def _rule(node, arg_bounds):
    if node._atom_curvature == AFFINE:
        out = _affine(node, arg_bounds)
        if out is not None:
            return out
    monos = [node._monotonicity(i) for i in range(len(node.args))]
    if all(m in (INCREASING, DECREASING) for m in monos):
        return _monotone(node, arg_bounds, monos)
    if isinstance(node, Abs):
        return _abs(*arg_bounds[0])
    impl = getattr(node, "_impl", None)
    if impl is not None:
        memo = {a.id: b for a, b in zip(node.args, arg_bounds)}
        return fold(impl, _leaf_bounds, _node_bounds, memo)
    return unbounded(node.shape)


class _Probe(CanonContext):
    """Canonicalises one node over placeholders: argument i (unless a plain number) is the
    variable with id -(i + 1), so the node's form is its linear map from its arguments."""

    def __init__(self, node):
        super().__init__()
        self._slots = {a.id: -(i + 1) for i, a in enumerate(node.args) if a._has_vars or a._has_params}
        for a in node.args:
            if a.id in self._slots:
                self._forms[a.id] = Form.variable(self._slots[a.id], a.shape)


def _affine(node, arg_bounds):
    try:
        form = node._canon(_Probe(node))
    except VariableProductError:        # two non-constant factors
        if isinstance(node, Multiply):
            return _product(node, arg_bounds)
        return unbounded(node.shape)
    if form.pvar or form.pconst or any(key >= 0 for key in form.var):
        return None                     # lowered through an auxiliary variable (cumsum) or a parameter
    lo, hi = form.const.copy(), form.const.copy()
    for key, B in form.var.items():
        a_lo, a_hi = (np.ravel(b) for b in arg_bounds[-key - 1])
        pos, neg = B.maximum(0), B.minimum(0)
        # finite coefficients times ±inf ends: stored entries only, so no 0 * inf
        lo = lo + pos @ a_lo + neg @ a_hi
        hi = hi + pos @ a_hi + neg @ a_lo
    return lo.reshape(node.shape), hi.reshape(node.shape)


def _product(node, arg_bounds):
    """Elementwise product of two intervals: the extremes are among the corner products."""
    (l1, u1), (l2, u2) = arg_bounds
    with np.errstate(invalid="ignore"):
        corners = np.stack(np.broadcast_arrays(l1 * l2, l1 * u2, u1 * l2, u1 * u2))
    corners = np.where(np.isnan(corners), 0.0, corners)      # 0 * inf: the zero factor is exact
    return corners.min(axis=0), corners.max(axis=0)


def _monotone(node, arg_bounds, monos):
    low = [b[0] if m == INCREASING else b[1] for b, m in zip(arg_bounds, monos)]
    high = [b[1] if m == INCREASING else b[0] for b, m in zip(arg_bounds, monos)]
    with np.errstate(invalid="ignore"):
        lo, hi = dense(node._numeric(low)), dense(node._numeric(high))
    # an inf meeting a zero weight inside the atom (dotsort) makes NaN: no bound there
    return np.where(np.isnan(lo), -np.inf, lo), np.where(np.isnan(hi), np.inf, hi)


def _abs(lo, hi):
    spans = (lo < 0) & (hi > 0)
    low = np.where(spans, 0.0, np.minimum(np.abs(lo), np.abs(hi)))
    return low, np.maximum(np.abs(lo), np.abs(hi))

