"""Turning expression trees into Forms, and the DCP check that guards it.

A ``CanonContext`` memoises the form of every node (shared subexpressions are built once),
collects the auxiliary variables and hidden constraints that atoms introduce (epigraphs of
abs/maximum/..., the D·Y = X of cumsum), and registers the leaves it meets.
"""
from __future__ import annotations

from ..errors import ModelingError
from .expression import (AFFINE, CONCAVE, CONVEX, DECREASING, NONMONOTONE, UNKNOWN, Expression,
                         Variable, curvature_satisfies, describe, evaluate, postorder)
from .form import Form, ParameterProductError

_FLIP = {CONVEX: CONCAVE, CONCAVE: CONVEX, AFFINE: AFFINE}


class DPPError(ModelingError):
    """A product of two parameter-dependent factors: the LP's numbers are not affine in the
    Parameters, so it cannot be compiled once and refilled (cvxpy's DPPError)."""


class ParameterError(ModelingError):
    """A Parameter without a value where one is needed (cvxpy's ParameterError)."""


class CanonContext:
    """``freeze_params``: Parameters are read as the constants they hold now (cvxpy's way with
    a non-DPP problem: compiled again at every solve)."""

    def __init__(self, freeze_params: bool = False):
        self.freeze_params = freeze_params
        self._forms = {}
        self._values = {}
        self.hidden = []        # (Form, "eq" | "le", origin node): form == 0 / form <= 0
        self.leaves = {}        # id -> Variable / Parameter met while canonicalising
        self.aux = []           # auxiliary Variables created by atoms, in order

    def register(self, leaf):
        self.leaves[leaf.id] = leaf

    def numeric(self, node: Expression):
        """Value of a variable- and parameter-free node (scipy.sparse kept sparse)."""
        if node.id not in self._values:
            evaluate(node, lambda leaf: leaf._leaf_value(), memo=self._values)
        return self._values[node.id]

    def form(self, node: Expression) -> Form:
        if node.id not in self._forms:
            # numeric constants are leaves of this walk: their subtrees are evaluated, not canonicalised
            live = (lambda m: m._has_vars) if self.freeze_params else (lambda m: m._has_vars or m._has_params)
            for n in postorder(node, descend=live, done=self._forms):
                self._forms[n.id] = self._build(n)
        f = self._forms[node.id]
        if f is None:                       # a numeric constant, built on demand
            f = self._forms[node.id] = Form.constant(self.numeric(node))
        return f

    def _build(self, node):
        if not node._has_vars and (self.freeze_params or not node._has_params):
            return None
        if not node._has_vars and node._atom_curvature != AFFINE:
            # abs(p), maximum(p, 1): an epigraph is exact only where pushed down, and a constant
            # is pushed nowhere; the problem is compiled again with p's value instead (cvxpy: not DPP)
            raise DPPError(f"{node}: a convex or concave function of Parameters is not affine in them (not DPP)")
        try:
            return node._canon(self)
        except ParameterProductError:
            raise DPPError(
                f"{node}: a product of two parameter-dependent factors is not affine in the "
                "Parameters (not DPP); combine them into one Parameter or use a constant") from None

    def aux_variable(self, owner: Expression, shape) -> Variable:
        """The auxiliary variable of ``owner`` (created once per node, kept across compiles)."""
        var = getattr(owner, "_aux_var", None)
        if var is None:
            var = Variable(shape, name=f"{type(owner).__name__.lower()}_aux{owner.id}")
            var._aux = True
            owner._aux_var = var
        if var.id not in self.leaves:
            self.register(var)
            self.aux.append(var)
        return var

    def add_hidden(self, form: Form, kind: str, origin: Expression):
        self.hidden.append((form, kind, origin))


# ------------------------------------------------------------------------ DCP
def find_culprit(node: Expression, want: str):
    """(subexpression, curvature it needed) for the deepest subexpression that stops
    ``node`` from having curvature ``want`` (AFFINE, CONVEX or CONCAVE); None when it has it."""
    if curvature_satisfies(node.curvature, want):
        return None
    own = node._atom_curvature
    if own != AFFINE and own != want:
        return node, want
    need = want if own == AFFINE else own
    for i, arg in enumerate(node.args):
        mono = node._monotonicity(i)
        w = _FLIP[need] if mono == DECREASING else AFFINE if mono == NONMONOTONE else need
        found = find_culprit(arg, w)
        if found is not None:
            return found
    return node, want


def check_dcp(node: Expression, want: str, where):
    """Raise ModelingError naming the offending subexpression unless ``node`` has ``want``
    (``where``: a string or a callable making it, used only for the message)."""
    found = find_culprit(node, want)
    if found is None:
        return
    culprit, need = found
    curv = culprit.curvature
    if curv == UNKNOWN:
        what = f"{culprit} is not DCP (its arguments do not have the curvature its atom needs)"
    else:
        what = f"{culprit} is {curv.lower()}, but a{'n' if need == AFFINE else ''} {need.lower()} expression is needed"
    # cvxpy's first words, then the culprit: code that looks for cvxpy's words finds them
    raise ModelingError(f"Problem does not follow DCP rules. Specifically: {describe(where)}: {what}; this is "
                        "not a linear program gridprox can build")
