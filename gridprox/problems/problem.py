"""Problem: cvxpy's interface over the modelling layer, the compiler and the backends."""
from __future__ import annotations

import numbers
import time
import warnings
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

# solve_lp and compile_problem are looked up when called, so a test can substitute them
from .. import solvers
from ..compile import compiler
from ..errors import ModelingError, SolverError, naming
from ..interop.cvxpy_export import to_cvxpy
from ..modeling.canon import DPPError
from ..modeling.constraints import Constraint
from ..modeling.expression import Constant, Expression, Parameter, Variable, postorder
from ..modeling.objective import Minimize
from ..solvers.result import (INFEASIBLE, INFEASIBLE_INACCURATE, LIMIT_STATUSES, OPTIMAL, SOLVER_ERROR,
                              UNBOUNDED, UNBOUNDED_INACCURATE, Result)
from . import certificate, citations, problem_data
from .size_metrics import SizeMetrics

# cvxpy's status for a solve stopped by an iteration or time limit (with the best point kept)
USER_LIMIT = "user_limit"

# a problem without variables is judged as cvxpy judges it: each constant constraint must hold
# to cvxpy's constraint tolerance
_CONSTANT_TOL = 1e-8


@dataclass
class Solution:
    """cvxpy's ``problem.solution``: status, optimal value, primal values by variable id and
    dual values by constraint id (a Farkas certificate when infeasible), and solver facts."""

    status: Optional[str] = None
    opt_val: Optional[float] = None
    primal_vars: dict = field(default_factory=dict)
    dual_vars: dict = field(default_factory=dict)
    attr: dict = field(default_factory=dict)


@dataclass
class SolverStats:
    """cvxpy's ``problem.solver_stats``."""

    solver_name: str = ""
    solve_time: float = 0.0
    setup_time: Optional[float] = None
    num_iters: int = 0
    extra_stats: dict = field(default_factory=dict)


# cvxpy's solver-name constants (its settings.SOLVERS, ECOS_BB, DIFFCP), so `prob.solve(solver=cp.HIGHS)` runs under
# `import gridprox as cp`; names other than HIGHS and GUROBI go to that solver through cvxpy
SOLVER_NAMES = ("CLARABEL", "ECOS", "CVXOPT", "GLOP", "GLPK", "GLPK_MI", "SCS", "SDPA", "GUROBI", "OSQP", "CPLEX",
                "MOSEK", "MOREAU", "CBC", "COPT", "XPRESS", "PIQP", "PROXQP", "QOCO", "QPALM", "NAG", "PDLP", "SCIP",
                "SCIPY", "DAQP", "HIGHS", "MPAX", "CUCLARABEL", "CUOPT", "KNITRO", "COSMO", "PDCS", "IPOPT", "UNO",
                "ECOS_BB", "DIFFCP")

# cvxpy's canonicalisation backends: accepted (as ``canon_backend=``) and ignored
CPP_CANON_BACKEND, SCIPY_CANON_BACKEND, RUST_CANON_BACKEND, COO_CANON_BACKEND = "CPP", "SCIPY", "RUST", "COO"


# cvxpy solver names -> gridprox backends; other cvxpy names go through the "cvxpy" backend
_BACKENDS = ("highs", "pdhg", "cvxpy", "gurobi")
_CVXPY_ONLY_OPTIONS = ("ignore_dpp", "enforce_dpp", "canon_backend", "requires_grad", "parallel", "qcp", "gp")


def resolve_solver(solver, opts: dict, previous=None):
    """(backend, options) for ``Problem.solve(solver=...)``: gridprox's names, cvxpy's
    upper-case names ("HIGHS", "GUROBI"), or any other cvxpy solver name via cvxpy.
    cvxpy's ``warm_start=True`` hands PDHG the previous Result; other backends ignore it."""
    opts = {k: v for k, v in opts.items() if k not in _CVXPY_ONLY_OPTIONS}
    warm = opts.pop("warm_start", False)
    name = "highs" if solver is None else str(solver)
    if callable(getattr(solver, "name", None)) and solver.name() == "GRIDPROX_PDHG":
        name = "pdhg"           # cvxpy's solver object for gridprox's PDHG is gridprox's "pdhg"
    if name.lower() in _BACKENDS:
        backend = name.lower()
    else:
        backend = "cvxpy"
        opts.setdefault("cvxpy_solver", name.upper())
    start = previous if warm is True else (warm or None)
    if backend == "pdhg" and start is not None:
        opts["warm_start"] = start
    return backend, opts


def constant_result(lp, solver: str) -> Result:
    """The Result of an LP without variables: optimal at its constant objective when every
    row holds at 0 (to cvxpy's tolerance), else infeasible; no duals, as in cvxpy."""
    holds = bool(np.all(lp.lc <= _CONSTANT_TOL) and np.all(lp.uc >= -_CONSTANT_TOL))
    if holds:
        return Result(status=OPTIMAL, x=np.zeros(0), objective=float(lp.objective(np.zeros(0))), solver=solver,
                      message="no variables: the constant constraints hold")
    return Result(status=INFEASIBLE, solver=solver, message="no variables: a constant constraint is violated")


class Problem:
    """``Problem(objective, constraints)``, solved by ``solve`` and compiled once.

    The compiled ParametricProgram is cached: changing a Parameter's value and solving
    again only refills the LP's numbers."""

    REGISTERED_SOLVE_METHODS: dict = {}

    def __init__(self, objective, constraints=None):
        if not isinstance(objective, Minimize):
            raise TypeError("Problem objective must be Minimize or Maximize.")     # cvxpy's words
        # cvxpy reads a bool constraint as 0 <= 1 (True: always holds) or 1 <= 0 (False: infeasible)
        constraints = [(Constant(0) <= Constant(1) if con else Constant(1) <= Constant(0))
                       if isinstance(con, bool) else con for con in (constraints or [])]
        for i, con in enumerate(constraints):
            if not isinstance(con, Constraint):
                raise ValueError(f"Problem has an invalid constraint of type {type(con).__name__}: constraint "
                                 f"{i} is {con!r} (a comparison of plain numbers gives a bool)")
        self.objective = objective
        self._constraints = constraints
        self._pp = None
        self._status = None
        self._value = None
        self._solver_stats = None
        self._last_result = None
        self._solution = None
        self._compilation_time = None
        self._frozen = False        # not DPP: compiled with the Parameters' values, again at each solve

    # ------------------------------------------------------------ contents
    @property
    def constraints(self):
        return list(self._constraints)

    def _nodes(self):
        roots = [self.objective.expr] + [c.expr for c in self._constraints]
        seen = set()
        for root in roots:
            for n in postorder(root):
                if n.id not in seen:
                    seen.add(n.id)
                    yield n

    def variables(self):
        return [n for n in self._nodes() if isinstance(n, Variable) and not n._aux]

    def parameters(self):
        out, seen = [], set()
        for n in self._nodes():
            cands = [n] if isinstance(n, Parameter) else (     # and those in a Variable's bound expressions
                [q for b in (n.bounds or ()) if isinstance(b, Expression) for q in b.parameters()]
                if isinstance(n, Variable) else n.inner_parameters() if hasattr(n, "inner_parameters") else [])
            for p in cands:
                if p.id not in seen:
                    seen.add(p.id)
                    out.append(p)
        return out

    def constants(self):
        out, seen = [], set()
        for n in self._nodes():
            if isinstance(n, Constant) and n.id not in seen:
                seen.add(n.id)
                out.append(n)
        return out

    def atoms(self):
        return sorted({type(n).__name__ for n in self._nodes() if n.args})

    @property
    def var_dict(self):
        return {v.name(): v for v in self.variables()}

    @property
    def param_dict(self):
        return {p.name(): p for p in self.parameters()}

    def is_dcp(self, dpp: bool = False) -> bool:
        if dpp:
            return self.is_dpp()
        return self.objective.is_dcp() and all(c.is_dcp() for c in self._constraints)

    def is_lp(self) -> bool:
        """True when the problem is DCP and compiles: every gridprox problem that does is an LP."""
        return self.is_dcp() and self.is_dpp()

    def is_qp(self) -> bool:
        return self.is_lp()           # an LP is a QP, as cvxpy counts

    def is_dqcp(self) -> bool:
        return self.is_dcp()

    def is_dgp(self, dpp: bool = False) -> bool:
        """cvxpy's test (gridprox solves no geometric program: solve(gp=True) is refused)."""
        return self.objective.is_dgp(dpp) and all(c.is_dgp(dpp) for c in self._constraints)

    def is_mixed_integer(self) -> bool:
        return False

    def is_dpp(self, context: str = "dcp") -> bool:
        """True when the problem compiles once for all Parameter values (they enter affinely);
        ``context="dgp"``: cvxpy's log-log DPP test."""
        if context.lower() == "dgp":
            return self.is_dgp(dpp=True)
        try:
            self.parametric
        except Exception:  # noqa: BLE001 - any refusal means "not DPP"
            return False
        return not self._frozen

    # ------------------------------------------------------------ compile
    @property
    def parametric(self):
        """The compiled ParametricProgram (built on first use, then reused)."""
        if self._pp is None:
            t0 = time.perf_counter()
            try:
                self._pp = (compiler.compile_problem(self, freeze_params=True) if self._frozen
                            else compiler.compile_problem(self))
            except DPPError:
                # as cvxpy: a non-DPP problem is solved with its Parameters' current values,
                # compiled again at every solve instead of refilled
                self._frozen = True
                self._pp = compiler.compile_problem(self, freeze_params=True)
            self._compilation_time = time.perf_counter() - t0
        return self._pp

    @property
    def size_metrics(self) -> SizeMetrics:
        return SizeMetrics.of(self)

    @property
    def compilation_time(self):
        """Seconds the last compilation took (None before the first)."""
        return self._compilation_time

    def compile(self):
        """The LinearProgram at the current Parameter values."""
        if self._frozen:
            self._pp = None
        return self.parametric.lp()

    def get_problem_data(self, solver=None, gp=False, enforce_dpp=False, ignore_dpp=False, verbose=False,
                         canon_backend=None, solver_opts=None):
        """cvxpy's 3-tuple (data, chain, inverse_data): ``data`` is the LP in cvxpy's conic
        layout (keys c, offset, A, b, dims, lower_bounds, upper_bounds; see
        ``problem_data``), ``chain`` the ParametricProgram, ``inverse_data`` the LinearProgram
        the layout was read from (``data["lp"]`` too)."""
        if gp:
            raise ModelingError("get_problem_data(gp=True): geometric programs are not LPs")
        lp = self.compile()
        return problem_data.conic_data(lp), self.parametric, lp

    # ------------------------------------------------------------ solve
    @classmethod
    def register_solve(cls, name: str, func) -> None:
        """cvxpy's hook: ``problem.solve(method=name, ...)`` then calls ``func(problem, ...)``."""
        cls.REGISTERED_SOLVE_METHODS[name] = func

    def solve(self, *args, method=None, solver=None, **opts):
        """Solve with ``solver`` in "highs" (default), "pdhg", "cvxpy", "gurobi" (or a cvxpy
        solver name); fills status, value, variable values, constraint duals, solver_stats.
        Without a ``solver`` the LP goes where ``solver="auto"`` sends it on a CPU (``choose_solver``:
        HiGHS; from 50k nonzeros its IPM and simplex raced, from 250k its simplex against PDHG
        then crossover, "concurrent").  ``method`` names a function given to ``register_solve``.
        ``bibtex=True`` with ``verbose=True`` prints the BibTeX of the language and the method, as cvxpy."""
        if method is not None:
            if method not in self.REGISTERED_SOLVE_METHODS:
                raise ModelingError(f"solve(method={method!r}): no such method was registered with "
                                    "Problem.register_solve")
            if solver is not None:
                opts["solver"] = solver
            return self.REGISTERED_SOLVE_METHODS[method](self, *args, **opts)
        cite = opts.pop("bibtex", False) and opts.get("verbose", False)
        if opts.get("gp"):
            raise ModelingError("solve(gp=True): a geometric program is solved in log-log space, not as an LP; "
                                "gridprox models linear programs only")
        if "_cpp_ok" not in self.__dict__:      # walked once per problem: re-solves skip it
            self._cpp_ok = all(n._supports_cpp() for n in self._nodes())
            self._nd = any(n.ndim > 2 for n in self._nodes())
        backend_given = opts.get("canon_backend")
        # cvxpy's choice of canonicalisation backend (gridprox has one), its warnings and refusals in its words
        if not self._cpp_ok:
            if backend_given is None:
                warnings.warn(f"The problem includes expressions that don't support {CPP_CANON_BACKEND} backend. "
                              f"Defaulting to the {SCIPY_CANON_BACKEND} backend for canonicalization.")
            elif backend_given == CPP_CANON_BACKEND:
                raise ValueError(f"The {CPP_CANON_BACKEND} backend cannot be used with problems that have "
                                 "expressions which do not support it.")
        elif self._nd:
            if backend_given is None:
                warnings.warn("The problem has an expression with dimension greater than 2. "
                              f"Defaulting to the {SCIPY_CANON_BACKEND} backend for canonicalization.")
            elif backend_given == CPP_CANON_BACKEND:
                raise ValueError("Only the COO and SCIPY backends are supported for problems with expressions of "
                                 "dimension greater than 2.")
        if opts.get("enforce_dpp") and opts.get("ignore_dpp"):
            raise DPPError("Cannot set enforce_dpp = True and ignore_dpp = True.")      # cvxpy's words
        if opts.get("enforce_dpp") and not self.is_dpp():
            raise naming(DPPError("You are solving a parameterized problem that is not DPP."),    # cvxpy's words
                         f"{self.objective}: a product of Parameters, and enforce_dpp=True")
        if args:                        # cvxpy's positional solver argument
            solver, args = args[0], args[1:]
            if args:
                raise TypeError(f"solve() takes at most one positional argument, got {1 + len(args)}")
        backend, opts = resolve_solver(solver, opts, self._last_result)
        lp = self.compile()
        if self._frozen and self.parameters():
            warnings.warn("You are solving a parameterized problem that is not DPP: it is compiled again at "
                          "every solve, with the Parameters' values (as cvxpy does)", UserWarning, stacklevel=2)
        if solver is None and not lp.is_batch and not {"method", "threads"} & opts.keys():
            chosen, extra, _ = solvers.choose_solver(False, "cpu", nnz=lp.A.nnz)
            if chosen == "highs":
                opts = {**extra, **opts}
            elif set(opts) <= {"tol", "time_limit", "verbose"}:     # the race takes no HiGHS options
                backend, opts = chosen, {**extra, **opts}
        if cite:        # cvxpy's: the papers behind the language and the method
            print(citations.text(backend, opts.get("cvxpy_solver")))
        if lp.num_vars == 0 and not lp.is_batch:
            result = constant_result(lp, backend)   # HiGHS and cvxpy's chain refuse an empty LP
        else:
            result = solvers.solve_lp(lp, solver=backend, **opts)
        if isinstance(result, list):
            raise SolverError("solve_lp returned a batch for a single problem")
        self.unpack(result, lp)
        return self._value

    def unpack(self, result, lp=None):
        """Apply a backend ``Result`` of this problem's LP: status, value, variables, duals."""
        pp = self.parametric
        lp = lp if lp is not None else self.compile()
        self._last_result = result if result.x is not None else None
        self._status = result.status
        self._solver_stats = SolverStats(solver_name=result.solver, solve_time=result.seconds,
                                         num_iters=result.iterations,
                                         extra_stats={"residuals": dict(result.residuals), "message": result.message})
        if result.status == SOLVER_ERROR:
            self._set_solution(None, None)
            raise SolverError(f"solver {result.solver!r} failed: {result.message}")
        if result.status in LIMIT_STATUSES:     # cvxpy's name; the best point found is kept, as cvxpy keeps it
            self._status = USER_LIMIT
        duals = None
        if result.x is not None and result.status not in (INFEASIBLE, INFEASIBLE_INACCURATE,
                                                           UNBOUNDED, UNBOUNDED_INACCURATE):
            values = pp.variable_values(np.asarray(result.x, dtype=float))
            duals = (pp.constraint_duals(self._constraints, np.asarray(result.y, dtype=float),
                                         None if result.z is None else np.asarray(result.z, dtype=float), lp)
                     if result.y is not None else None)
            self._set_solution(values, duals)
            self._value = float(pp.sense * lp.objective(result.x))
        else:
            values = None
            if result.status in (INFEASIBLE, INFEASIBLE_INACCURATE):
                # cvxpy's duals of an infeasible LP: a Farkas certificate (computed here, see certificate.py)
                ray = certificate.farkas(lp)
                if ray is not None and self._constraints:
                    duals = pp.constraint_duals(self._constraints, ray[0], ray[1], lp)
                self._value = pp.sense * np.inf
            elif result.status in (UNBOUNDED, UNBOUNDED_INACCURATE):
                self._value = -pp.sense * np.inf
            else:
                self._value = None
            self._set_solution(None, duals)
        self._solution = Solution(
            status=self._status, opt_val=self._value,
            primal_vars={} if values is None else {v.id: v._value for v in self.variables()},
            dual_vars={} if duals is None else {c.id: c.dual_value for c in self._constraints},
            attr={"solve_time": result.seconds, "num_iters": result.iterations, "solver": result.solver})
        return self._value

    def _set_solution(self, values, duals):
        for v in self.parametric.variables:
            v.save_value(None if values is None else values[v])     # unchecked, as cvxpy writes a solution
        for con in self._constraints:
            con.save_dual_value(None if duals is None else duals[con])

    @property
    def status(self):
        return self._status

    @property
    def value(self):
        return self._value

    @property
    def solver_stats(self):
        return self._solver_stats

    @property
    def solution(self):
        return self._solution

    # ------------------------------------------------------------ arithmetic (cvxpy's)
    def __add__(self, other):
        if isinstance(other, numbers.Number) and other == 0:
            return self                     # sum([problems])
        if not isinstance(other, Problem):
            return NotImplemented
        return Problem(self.objective + other.objective, self._constraints + other._constraints)

    def __radd__(self, other):
        if isinstance(other, numbers.Number) and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other):
        if not isinstance(other, Problem):
            return NotImplemented
        return Problem(self.objective - other.objective, self._constraints + other._constraints)

    def __rsub__(self, other):
        if isinstance(other, numbers.Number) and other == 0:
            return -self
        return NotImplemented

    def __neg__(self):
        return Problem(-self.objective, self._constraints)

    def __mul__(self, other):
        if not isinstance(other, numbers.Real):
            return NotImplemented
        return Problem(self.objective * other, self._constraints)

    __rmul__ = __mul__

    def __truediv__(self, other):
        if not isinstance(other, numbers.Real):
            return NotImplemented
        return Problem(self.objective * (1.0 / other), self._constraints)

    def to_cvxpy(self):
        return to_cvxpy(self)

    def __str__(self):
        lines = [str(self.objective)]
        if self._constraints:
            lines.append("subject to " + "\n           ".join(str(c) for c in self._constraints))
        return "\n".join(lines)

    def __repr__(self):
        return f"Problem({self.objective!r}, {self._constraints!r})"     # cvxpy's repr
