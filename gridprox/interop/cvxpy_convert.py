"""cvxpy <-> gridprox: the same LP in either modelling layer, Parameters kept as Parameters.

``from_cvxpy`` walks cvxpy's expression tree (not its canonicalised matrices) atom by
atom, so a cvxpy Parameter becomes a gridprox Parameter and re-solves only refill the LP;
after a gridprox solve the cvxpy variables, constraints and problem carry the answer.
``to_cvxpy`` walks a gridprox tree the other way.  cvxpy is imported only when these run.
"""
from __future__ import annotations

import numpy as np

from ..errors import ModelingError
from ..modeling import affine as A
from ..modeling import constraints as C
from ..modeling import piecewise as PW
from ..modeling.expression import Constant, Parameter, Variable
from ..modeling.problem import Maximize, Minimize, Problem

_LP_ATTRIBUTES = ("nonneg", "nonpos", "bounds")


# ------------------------------------------------------------------ cvxpy -> gridprox
def _index(e, args):
    key = e.get_data()[1] if type(e).__name__ == "index" else e.key
    out = A.Index(args[0], key)
    return out if out.shape == e.shape else A.Reshape(out, e.shape, "C")


def _diag(e, args):
    if e.get_data() and e.get_data()[0] not in (0, None):
        raise ModelingError(f"{e}: off-diagonal diag(k != 0) is not supported by gridprox")
    return A.diag(args[0])


_FROM_CVXPY = {
    "AddExpression": lambda e, a: A.Add(a),
    "NegExpression": lambda e, a: A.Neg(a[0]),
    "MulExpression": lambda e, a: A.MatMul(a[0], a[1]),
    "multiply": lambda e, a: A.Multiply(a[0], a[1]),
    "DivExpression": lambda e, a: A.Div(a[0], a[1]),
    "index": _index,
    "special_index": _index,
    "transpose": lambda e, a: A.transpose(a[0], e.axes),
    "reshape": lambda e, a: A.Reshape(a[0], e.shape, e.order),
    "Sum": lambda e, a: A.Sum(a[0], e.axis, e.keepdims),
    "cumsum": lambda e, a: A.Cumsum(a[0], e.axis),
    "Hstack": lambda e, a: A.hstack(a),
    "Vstack": lambda e, a: A.vstack(a),
    "Concatenate": lambda e, a: A.concatenate(a, e.axis),
    "Promote": lambda e, a: A.broadcast_to(a[0], e.shape),
    "broadcast_to": lambda e, a: A.broadcast_to(a[0], e.shape),
    "Trace": lambda e, a: A.trace(a[0]),
    "diag_vec": _diag,
    "diag_mat": _diag,
    "kron": lambda e, a: A.Kron(a[0], a[1]),
    "abs": lambda e, a: PW.Abs(a[0]),
    "maximum": lambda e, a: PW.Maximum(*a),
    "minimum": lambda e, a: PW.Minimum(*a),
    "max": lambda e, a: PW.Max(a[0], e.axis, e.keepdims),
    "min": lambda e, a: PW.Min(a[0], e.axis, e.keepdims),
    "norm1": lambda e, a: PW.norm1(a[0], e.axis, e.keepdims),
    "norm_inf": lambda e, a: PW.norm_inf(a[0], e.axis, e.keepdims),
}


class _FromCvxpy:
    """Memoised conversion of cvxpy expressions; remembers the leaf correspondences."""

    def __init__(self):
        self.memo = {}
        self.variables = []      # (cvxpy Variable, gridprox Variable)
        self.parameters = []     # (cvxpy Parameter, gridprox Parameter)

    def leaf(self, e):
        import cvxpy as cp
        if isinstance(e, cp.Variable):
            bad = [k for k, v in e.attributes.items() if k not in _LP_ATTRIBUTES and v]
            if bad:
                raise ModelingError(f"cvxpy Variable {e.name()} has attribute {bad[0]}=True, which is not "
                                    "part of a continuous LP")
            bounds = e.attributes.get("bounds")
            if bounds is not None:
                bounds = [self.convert(b) if isinstance(b, cp.Parameter) else
                          (None if b is None else np.asarray(b.value if hasattr(b, "value") else b, dtype=float))
                          for b in bounds]
            v = Variable(e.shape, name=e.name(), nonneg=e.attributes["nonneg"], nonpos=e.attributes["nonpos"],
                         bounds=bounds)
            self.variables.append((e, v))
            return v
        if isinstance(e, cp.Parameter):
            p = Parameter(e.shape, name=e.name(), value=e.value, nonneg=bool(e.attributes.get("nonneg")),
                          nonpos=bool(e.attributes.get("nonpos")))
            self.parameters.append((e, p))
            return p
        if isinstance(e, cp.Constant):
            return Constant(e.value)
        raise ModelingError(f"cvxpy leaf {e} of type {type(e).__name__} is not supported by gridprox")

    def convert(self, root):
        """Iterative post-order walk of the cvxpy tree under ``root`` (keyed by object id:
        cvxpy's constants carry no id of their own)."""
        memo = self.memo
        stack = [(root, False)]
        while stack:
            e, done = stack.pop()
            key = id(e)
            if key in memo:
                continue
            if not e.args:
                memo[key] = (e, self.leaf(e))
            elif done:
                rule = _FROM_CVXPY.get(type(e).__name__)
                if rule is None:
                    raise ModelingError(f"cvxpy atom {type(e).__name__} in {e} has no gridprox counterpart "
                                        "(gridprox models linear programs only)")
                out = rule(e, [memo[id(a)][1] for a in e.args])
                if out.shape != tuple(e.shape):
                    raise ModelingError(f"internal: converting {e} gave shape {out.shape}, cvxpy has {e.shape}")
                memo[key] = (e, out)       # e kept alive so its id cannot be reused
            else:
                stack.append((e, True))
                stack.extend((a, False) for a in e.args if id(a) not in memo)
        return memo[id(root)][1]

    def constraint(self, con):
        name = type(con).__name__
        args = [self.convert(a) for a in con.args]
        if name == "Equality":
            return C.Equality(*args)
        if name == "Inequality":
            return C.Inequality(*args)
        if name in ("Zero", "NonNeg", "NonPos"):
            return getattr(C, name)(args[0])
        raise ModelingError(f"cvxpy constraint {con} of type {name} is not a linear constraint")


class CvxpyLinkedProblem(Problem):
    """A gridprox Problem converted from cvxpy: cvxpy Parameter values are read before each
    compile, and every solution is written back into the cvxpy problem."""

    def __init__(self, objective, constraints, source, conv: _FromCvxpy, con_pairs):
        super().__init__(objective, constraints)
        self.cvxpy_problem = source
        self._conv = conv
        self._con_pairs = con_pairs

    def compile(self):
        for cvx_p, p in self._conv.parameters:
            p.value = cvx_p.value
        return super().compile()

    def unpack(self, result, lp=None):
        value = super().unpack(result, lp)
        from cvxpy.problems.problem import SolverStats
        for cvx_v, v in self._conv.variables:
            cvx_v.save_value(None if v.value is None else np.asarray(v.value))
        for cvx_c, c in self._con_pairs:
            cvx_c.save_dual_value(c.dual_value)
        src = self.cvxpy_problem
        src._status = self.status
        src._value = value
        stats = self.solver_stats
        src._solver_stats = SolverStats(solver_name=f"gridprox-{stats.solver_name}", solve_time=stats.solve_time,
                                        num_iters=stats.num_iters, extra_stats=stats.extra_stats)
        return value


def from_cvxpy(problem) -> CvxpyLinkedProblem:
    """A gridprox Problem equal to the cvxpy LP ``problem``; solving it fills the cvxpy
    variables' values, constraints' duals and the problem's status and value."""
    import cvxpy as cp
    if not isinstance(problem, cp.Problem):
        raise TypeError(f"from_cvxpy expects a cvxpy.Problem, got {type(problem).__name__}")
    conv = _FromCvxpy()
    obj = problem.objective
    sense = Maximize if isinstance(obj, cp.Maximize) else Minimize
    objective = sense(conv.convert(obj.args[0]))
    pairs = [(con, conv.constraint(con)) for con in problem.constraints]
    return CvxpyLinkedProblem(objective, [c for _, c in pairs], problem, conv, pairs)


# ------------------------------------------------------------------ gridprox -> cvxpy
def _composite(cp, node, a):
    fn = {"pos": cp.pos, "neg": cp.neg, "norm1": cp.norm1, "norm_inf": cp.norm_inf}[node._label]
    return fn(a[0], **node._kwargs)


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
        A.Sum: lambda n, a: cp.sum(a[0], axis=n.axis, keepdims=n.keepdims),
        A.Diff: lambda n, a: cp.diff(a[0], k=n.k, axis=n.axis),
        A.Cumsum: lambda n, a: cp.cumsum(a[0], axis=n.axis),
        A.Trace: lambda n, a: cp.trace(a[0]),
        A.Diag: lambda n, a: cp.diag(a[0]),
        A.Kron: lambda n, a: cp.kron(a[0], a[1]),
        A.Concatenate: lambda n, a: cp.concatenate(a, axis=n.axis),
        PW.Abs: lambda n, a: cp.abs(a[0]),
        PW.Maximum: lambda n, a: cp.maximum(*a),
        PW.Minimum: lambda n, a: cp.minimum(*a),
        PW.Max: lambda n, a: cp.max(a[0], axis=n.axis, keepdims=n.keepdims),
        PW.Min: lambda n, a: cp.min(a[0], axis=n.axis, keepdims=n.keepdims),
        PW._Composite: lambda n, a: _composite(cp, n, a),
    }


def to_cvxpy(problem: Problem):
    """The same LP as a cvxpy.Problem (gridprox Parameters become cvxpy Parameters with the
    same values; variables keep their names and attributes)."""
    import cvxpy as cp
    from ..modeling.expression import fold
    rules = _to_cvxpy_rules(cp)
    memo = {}

    def leaf(n):
        if isinstance(n, Variable):
            bounds = None
            if n.bounds is not None:
                bounds = [convert(b) if isinstance(b, Parameter) else b for b in n.bounds]
            return cp.Variable(n.shape, name=n.name(), nonneg=n.attributes["nonneg"],
                               nonpos=n.attributes["nonpos"], bounds=bounds)
        if isinstance(n, Parameter):
            return cp.Parameter(n.shape, name=n.name(), value=n.value, nonneg=n.attributes["nonneg"],
                                nonpos=n.attributes["nonpos"])
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
