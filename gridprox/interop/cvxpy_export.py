"""gridprox -> cvxpy: the same LP as a cvxpy.Problem, Parameters kept as Parameters.

It needs only the modelling layer (a problem is read through ``.objective`` and
``.constraints``), so ``Problem.to_cvxpy`` can import it without a cycle; cvxpy is
imported only when ``to_cvxpy`` runs.
"""
from __future__ import annotations

from ..errors import ModelingError
from ..modeling import affine as A
from ..modeling import constraints as C
from ..modeling import piecewise as PW
from ..modeling.expression import Expression, Parameter, Variable, fold
from ..modeling.objective import Maximize


def _composite(cp, node, a):
    # a composite carries cvxpy's own name and keyword arguments (pos, norm1, sum_largest, ...)
    return getattr(cp, node._label)(*a, **node._kwargs)


def _to_cvxpy_rules(cp):
    def add(a):
        out = a[0]
        for x in a[1:]:
            out = out + x
        return out
    return {
        A.Add: lambda n, a: add(a),
        A.Neg: lambda n, a: -a[0],
        A.Multiply: lambda n, a: cp.multiply(a[0], a[1]),
        A.Div: lambda n, a: a[0] / a[1],
        A.MatMul: lambda n, a: a[0] @ a[1],
        A.Index: lambda n, a: a[0][n.key],
        A.Transpose: lambda n, a: cp.transpose(a[0], n.axes),
        A.Reshape: lambda n, a: cp.reshape(a[0], n.shape, order=n.order),
        A.AsScalar: lambda n, a: cp.reshape(a[0], (), order="F"),
        A.Sum: lambda n, a: cp.sum(a[0], axis=n.axis, keepdims=n.keepdims),
        A.Diff: lambda n, a: cp.diff(a[0], k=n.k, axis=n.axis),
        A.Cumsum: lambda n, a: cp.cumsum(a[0], axis=n.axis),
        A.Trace: lambda n, a: cp.trace(a[0]),
        A.Diag: lambda n, a: cp.diag(a[0], n.k),
        A.LinearMap: lambda n, a: getattr(cp, n._label)(
            *[a[0] if e is n.args[0] else cp.Constant(e.value) for e in n._export_args], **n._kwargs),
        A.ParamConvolution: lambda n, a: getattr(cp, n._label)(a[0], a[1]),
        A.Kron: lambda n, a: cp.kron(a[0], a[1]),
        A.Concatenate: lambda n, a: cp.concatenate(a, axis=n.axis),
        PW.Abs: lambda n, a: cp.abs(a[0]),
        PW.Maximum: lambda n, a: cp.maximum(*a),
        PW.Minimum: lambda n, a: cp.minimum(*a),
        PW.Max: lambda n, a: cp.max(a[0], axis=n.axis, keepdims=n.keepdims),
        PW.Min: lambda n, a: cp.min(a[0], axis=n.axis, keepdims=n.keepdims),
        PW.Cummax: lambda n, a: cp.cummax(a[0], axis=n.axis),
        PW._Composite: lambda n, a: _composite(cp, n, a),
    }


def leaf_structure(leaf) -> dict:
    """A leaf's structural zeros (gridprox's or cvxpy's: both keep ``sparse_idx`` canonical) as the
    keyword arguments that make them in either."""
    if getattr(leaf, "sparse_idx", None) is not None:
        return {"sparsity": leaf.sparse_idx}
    return {"diag": True} if leaf.attributes.get("diag") else {}


def parameter_attributes(leaf) -> dict:
    """A Parameter's sign and the attributes that restrict its value (boolean, integer, symmetric),
    as keyword arguments for either library."""
    keys = ("nonneg", "nonpos", "boolean", "integer", "symmetric")
    return {k: leaf.attributes[k] for k in keys if leaf.attributes.get(k)}


def to_cvxpy(problem):
    """The same LP as a cvxpy.Problem (gridprox Parameters become cvxpy Parameters with the
    same values; variables keep their names and attributes)."""
    import cvxpy as cp
    rules = _to_cvxpy_rules(cp)
    memo = {}

    def leaf(n):
        if isinstance(n, Variable):
            bounds = None
            if n.bounds is not None:
                bounds = [convert(b) if isinstance(b, Expression) else b for b in n.bounds]
            return cp.Variable(n.shape, name=n.name(), nonneg=n.attributes["nonneg"],
                               nonpos=n.attributes["nonpos"], bounds=bounds, **leaf_structure(n))
        if isinstance(n, Parameter):
            p = cp.Parameter(n.shape, name=n.name(), **parameter_attributes(n), **leaf_structure(n))
            if n._value is not None:        # through value_sparse where cvxpy nudges a sparse leaf there
                if n.sparse_idx is None:
                    p.value = n._value
                else:
                    p.value_sparse = n.value_sparse
            return p
        return cp.Constant(n._value)

    def node(n, args):
        rule = rules.get(PW._Composite if isinstance(n, PW._Composite) else type(n))
        if rule is None:
            raise ModelingError(f"{n}: no cvxpy counterpart for {type(n).__name__}")
        return rule(n, args)

    def convert(root):
        return fold(root, leaf, node, memo)

    def constraint(con):
        a = [convert(x) for x in con.args]
        if isinstance(con, C.Equality):
            return a[0] == a[1]
        if isinstance(con, C.Inequality):
            return a[0] <= a[1]
        return getattr(cp, type(con).__name__)(a[0])

    obj = problem.objective
    sense = cp.Maximize if isinstance(obj, Maximize) else cp.Minimize
    return cp.Problem(sense(convert(obj.expr)), [constraint(c) for c in problem.constraints])
