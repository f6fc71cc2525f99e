"""cvxpy's ``partial_optimize``: a problem's optimal value over some of its variables, as an
expression of the others.  Minimized (or maximized) again inside a linear program, it stays one:
the inner problem's constraints join the outer LP and the variables optimized over become
auxiliary variables of it."""
from __future__ import annotations

from ..modeling.canon import check_dcp
from ..modeling.expression import AFFINE, CONCAVE, CONVEX, NONMONOTONE, Expression, UNKNOWN_SIGN
from ..errors import naming
from .problem import Problem


def partial_optimize(prob: Problem, opt_vars=None, dont_opt_vars=None, solver=None, **kwargs) -> "PartialProblem":
    """cvxpy's ``cp.transforms.partial_optimize``: ``prob``'s optimal value over ``opt_vars``, a
    function of ``dont_opt_vars`` (convex for a Minimize, concave for a Maximize); give either list
    (the other is the rest of ``prob``'s variables) or both, covering them all."""
    if opt_vars is None and dont_opt_vars is None:
        raise ValueError("partial_optimize called with neither opt_vars nor dont_opt_vars.")     # cvxpy's words
    given = {v.id for v in (opt_vars or []) + (dont_opt_vars or [])}
    if opt_vars is None:
        opt_vars = [v for v in prob.variables() if v.id not in given]
    elif dont_opt_vars is None:
        dont_opt_vars = [v for v in prob.variables() if v.id not in given]
    elif any(v.id not in given for v in prob.variables()):
        missing = ", ".join(v.name() for v in prob.variables() if v.id not in given)
        raise naming(ValueError("If opt_vars and new_opt_vars are both specified, they must contain all variables "
                                "in the problem."), f"{missing} missing")
    return PartialProblem(prob, list(opt_vars), list(dont_opt_vars), solver, **kwargs)


class PartialProblem(Expression):
    """The value of ``prob`` minimized (maximized) over ``opt_vars``; its arguments are the other
    variables.  In an LP, each ``opt_var`` is one auxiliary variable: an opt_var that also appears
    outside it is refused when compiled (cvxpy gives each use a fresh copy)."""

    def __init__(self, prob: Problem, opt_vars, dont_opt_vars, solver=None, **kwargs):
        self._inner, self.opt_vars, self.dont_opt_vars = prob, opt_vars, dont_opt_vars
        self.solver, self._solve_kwargs = solver, kwargs
        self._atom_curvature = CONVEX if prob.objective.NAME == "minimize" else CONCAVE
        super().__init__(dont_opt_vars, ())
        self._has_params = bool(prob.parameters())

    def get_data(self):
        return [self.opt_vars, self.dont_opt_vars, self.solver]

    def _rebuild(self, args):
        return PartialProblem(self._inner, self.opt_vars, list(args), self.solver, **self._solve_kwargs)

    def _monotonicity(self, i):
        return NONMONOTONE

    def _sign_rule(self):
        return self._inner.objective.expr._sign_rule() if self._inner.objective.expr._has_vars else UNKNOWN_SIGN

    def inner_parameters(self):
        """The Parameters of the problem inside (a Problem that holds this node has them too)."""
        return self._inner.parameters()

    def _numeric(self, vals):
        # cvxpy's value: the problem solved with the other variables fixed at theirs; the values of
        # its variables and the duals of its constraints are left as they were
        inner = self._inner
        saved = [(v, v.value) for v in inner.variables()]
        duals = [(c, c.dual_value) for c in inner.constraints]
        fixed = [v == val for v, val in zip(self.dont_opt_vars, vals)]
        prob = Problem(inner.objective, fixed + list(inner.constraints))
        try:
            prob.solve(solver=self.solver, **self._solve_kwargs)
        finally:
            for v, val in saved:
                v.save_value(val)
            for c, val in duals:
                c.save_dual_value(val)
        return prob.value

    def _leaf_value(self):          # every variable optimized over: a number, the problem's optimum
        return self._numeric([])

    def _canon(self, ctx):
        inner = self._inner
        check_dcp(inner.objective.expr, CONVEX if self._atom_curvature == CONVEX else CONCAVE,
                  lambda: f"partial_optimize objective {inner.objective}")
        for con in inner.constraints:
            check_dcp(con.expr, AFFINE if con.kind == "eq" else CONVEX, lambda: f"partial_optimize constraint {con}")
        aux = {a.id for a in ctx.aux}
        for v in self.opt_vars:
            if v.id in aux:                    # a sibling's (the compiler refuses one also used outside)
                continue
            ctx.register(v)
            ctx.aux.append(v)
            for con in v.domain:               # its sign and bounds, as rows (an aux variable has none)
                ctx.add_hidden(ctx.form(con.expr), con.kind, self)
        for con in inner.constraints:
            ctx.add_hidden(ctx.form(con.expr), con.kind, self)
        return ctx.form(inner.objective.expr)

    def _str(self, a):
        return f"partial_optimize({self._inner.objective}, over {', '.join(v.name() for v in self.opt_vars)})"
