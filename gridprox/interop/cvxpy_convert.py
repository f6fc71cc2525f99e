"""cvxpy -> gridprox: the same LP in gridprox's modelling layer, Parameters kept as Parameters.

``from_cvxpy`` walks cvxpy's expression tree (not its canonicalised matrices) atom by
atom, so a cvxpy Parameter becomes a gridprox Parameter and re-solves only refill the LP;
after a gridprox solve the cvxpy variables, constraints and problem carry the answer.
``to_cvxpy`` (the other way, in ``cvxpy_export``: Problem itself uses it) is re-exported
here.  cvxpy is imported only when these run.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import ModelingError
from ..modeling import affine as A
from ..modeling import constraints as C
from ..modeling import piecewise as PW
from ..modeling.expression import Constant, Parameter, Variable
from ..modeling.objective import Maximize, Minimize
from ..problems.problem import Problem
from .cvxpy_export import leaf_structure, parameter_attributes, to_cvxpy  # noqa: F401

_LP_ATTRIBUTES = ("nonneg", "nonpos", "bounds", "sparsity", "diag")


def _copy_value(cvx_p, p) -> None:
    """A cvxpy Parameter's value into its gridprox twin, checked, without cvxpy's warning on
    reading a sparse leaf's ``value``."""
    val = cvx_p.value_sparse if getattr(cvx_p, "sparse_idx", None) is not None else cvx_p.value
    p._value = None if val is None else p.checked(val)


# ------------------------------------------------------------------ cvxpy -> gridprox
def _index(e, args):
    key = e.get_data()[1] if type(e).__name__ == "index" else e.key
    out = A.Index(args[0], key)
    return out if out.shape == e.shape else A.Reshape(out, e.shape, "C")


def _diag(e, args):
    k = e.get_data()[0] if e.get_data() else 0
    return A.diag(args[0], k or 0)


def _sum_largest(e, args):
    k, axis, keepdims = e.get_data()
    return PW.sum_largest(args[0], k, axis, keepdims)


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
    # cvxpy promotes a one-entry expression of any shape ((1, 1) too) to e.shape
    "Promote": lambda e, a: A.broadcast_to(a[0] if a[0].shape == () else A.AsScalar(a[0]), e.shape),
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
    "sum_largest": _sum_largest,
    "dotsort": lambda e, a: PW.dotsort(a[0], a[1]),
    "cummax": lambda e, a: PW.cummax(a[0], e.get_data()[0]),
    "nonneg_wrap": lambda e, a: a[0],          # cvxpy's sign marker around ptp's max - min
    "upper_tri": lambda e, a: A.upper_tri(a[0]),
    "convolve": lambda e, a: A.convolve(a[0], a[1]),
    "conv": lambda e, a: A.conv(a[0], a[1]),
}


class _FromCvxpy:
    """Memoised conversion of cvxpy expressions; remembers the leaf correspondences."""

    def __init__(self):
        self.memo = {}
        self.variables = []      # (cvxpy Variable, gridprox Variable)
        self.parameters = []     # (cvxpy Parameter, gridprox Parameter)
        self.by_id = {}          # cvxpy leaf id -> gridprox leaf: cvxpy treats one id as one leaf

    def _bounds(self, e, cp):
        """cvxpy bounds as gridprox ones: a Parameter or an expression of them (``-u``) stays one,
        refilled at each solve; a constant expression is evaluated."""
        return [self.convert(b) if isinstance(b, cp.Expression) and b.parameters()
                else None if b is None else b if sp.issparse(b)
                else np.asarray(b.value if hasattr(b, "value") else b, dtype=float)
                for b in e.attributes.get("bounds")]

    def leaf(self, e):
        import cvxpy as cp
        if isinstance(e, (cp.Variable, cp.Parameter)) and e.id in self.by_id:
            same = self.by_id[e.id]
            if same.shape != tuple(e.shape):
                raise ModelingError(f"cvxpy leaves {e.name()} of shapes {same.shape} and {e.shape} share the id {e.id}")
            (self.variables if isinstance(e, cp.Variable) else self.parameters).append((e, same))
            return same
        if isinstance(e, cp.Variable):
            bad = [k for k, v in e.attributes.items() if k not in _LP_ATTRIBUTES and v]
            if bad:
                raise ModelingError(f"cvxpy Variable {e.name()} has attribute {bad[0]}=True, which is not "
                                    "part of a continuous LP")
            bounds = None if e.attributes.get("bounds") is None else self._bounds(e, cp)
            v = Variable(e.shape, name=e.name(), nonneg=e.attributes["nonneg"], nonpos=e.attributes["nonpos"],
                         bounds=bounds, **leaf_structure(e))
            self.variables.append((e, v))
            self.by_id[e.id] = v
            return v
        if isinstance(e, cp.Parameter):
            p = Parameter(e.shape, name=e.name(), **parameter_attributes(e), **leaf_structure(e))
            _copy_value(e, p)
            self.parameters.append((e, p))
            self.by_id[e.id] = p
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
            _copy_value(cvx_p, p)
        return super().compile()

    def unpack(self, result, lp=None):
        value = super().unpack(result, lp)
        from cvxpy.problems.problem import SolverStats
        for cvx_v, v in self._conv.variables:
            # the full array (cvxpy keeps a sparse leaf's entries of it); a diagonal leaf's value is its dia array
            cvx_v.save_value(v.value if v.attributes["diag"] else v._value)
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
