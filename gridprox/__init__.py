"""gridprox: capacity-expansion LPs in cvxpy syntax, compiled once and solved — one or
hundreds of scenarios at once — by batched, restarted, preconditioned PDHG in PyTorch."""
import sys as _sys

from .errors import GridproxError, ModelingError, SolverError  # noqa: F401
from .compile.lp import LinearProgram  # noqa: F401
from .solvers.result import Result  # noqa: F401
from .solvers import solve_lp  # noqa: F401
from .solvers.lp_file import read_lp  # noqa: F401
# cvxpy's modelling names (Variable, Parameter, Problem, sum, abs, max, ...), so that a cvxpy LP
# script runs unchanged after `import gridprox as cp`; and cvxpy's status strings
from .modeling import *  # noqa: F401,F403,E402
from .problems import Problem, SolverStats, SOLVER_NAMES  # noqa: F401,E402
globals().update(zip(SOLVER_NAMES, SOLVER_NAMES))      # cvxpy's solver names: cp.HIGHS, cp.GLPK_MI, ...
from .problems import (COO_CANON_BACKEND, CPP_CANON_BACKEND, RUST_CANON_BACKEND,  # noqa: F401,E402
                       SCIPY_CANON_BACKEND, USER_LIMIT)
from .problems.partial import partial_optimize  # noqa: E402
# cvxpy's cp.transforms.partial_optimize: it builds on Problem, a layer above gridprox.modeling.transforms
transforms.partial_optimize = partial_optimize  # noqa: F405
# cvxpy's importable namespaces (import cvxpy.error, from cvxpy.transforms import ...) under gridprox's name
for _name in ("error", "transforms", "constraints"):
    _sys.modules.setdefault(f"{__name__}.{_name}", globals()[_name])
del _name
from .interop.installed import installed_solvers  # noqa: F401,E402  (imports cvxpy only when it runs)
from .interop.cvxpy_convert import from_cvxpy  # noqa: F401,E402  (imports cvxpy only when it runs)
from .solvers.result import (INFEASIBLE, INFEASIBLE_INACCURATE, INFEASIBLE_OR_UNBOUNDED,  # noqa: F401,E402
                             OPTIMAL, OPTIMAL_INACCURATE, SOLVER_ERROR, UNBOUNDED, UNBOUNDED_INACCURATE)

__version__ = "0.1.0"


def __getattr__(name):
    # CVXPY_PDHG subclasses a cvxpy class: import cvxpy only when it is asked for
    if name == "CVXPY_PDHG":
        from .interop.cvxpy_solver import CVXPY_PDHG
        return CVXPY_PDHG
    if name == "lp_objective":  # solve_lp as a torch-differentiable layer (imports torch on first use)
        from .energy.sensitivity import lp_objective
        return lp_objective
    if name == "datasets":  # bundled energy systems (pandas/yaml), imported on first use
        import importlib
        return importlib.import_module(".datasets", __name__)
    raise AttributeError(f"module 'gridprox' has no attribute {name!r}")
