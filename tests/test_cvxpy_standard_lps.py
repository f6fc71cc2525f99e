"""cvxpy's 11 standard LP test problems (cvxpy/tests/solver_test_helpers.py of the installed
cvxpy: lp_0 ... lp_7, lp_bound_attr and the two Farkas-certificate cases) with ``import cvxpy
as cp`` swapped for gridprox, on the highs and pdhg paths (issue 27).  The helpers' own
checks judge each (cvxpy's expected objective, primal and dual values, complementarity,
certificates), and the optimum is compared with real cvxpy's."""
import re
from pathlib import Path

import cvxpy
import cvxpy.tests.solver_test_helpers as cvxpy_helpers
import numpy as np
import pytest

pytestmark = pytest.mark.filterwarnings("ignore:Initializing a Constant with a nested list")


def _swapped_helpers():
    source = Path(cvxpy_helpers.__file__).read_text()
    source = re.sub(r"^import cvxpy as cp$", "import gridprox as cp", source, flags=re.M)
    source = source.replace("from cvxpy.expressions.constants import Constant", "from gridprox import Constant")
    module = type(cvxpy_helpers)("gridprox_solver_test_helpers")
    exec(compile(source, cvxpy_helpers.__file__, "exec"), module.__dict__)
    return module


H = _swapped_helpers()


def _lp_7(helpers, solver, **kw):
    # StandardTestLPs.test_lp_7 first asks SDPA's sdpap for GMP; the checks it then runs
    sth = helpers.lp_7()
    sth.solve(solver, **kw)
    sth.verify_objective(4)
    return sth


CASES = {f"lp_{k}": (lambda k: lambda h, s, **kw: getattr(h.StandardTestLPs, f"test_lp_{k}")(s, **kw))(k)
         for k in range(7)}
CASES["lp_7"] = _lp_7
CASES["lp_bound_attr"] = lambda h, s, **kw: h.StandardTestLPs.test_lp_bound_attr(s, **kw)
CASES["infeasible_ineq"] = lambda h, s, **kw: h.StandardTestInfeasibleProblems.test_lp_ineq_constraints(s)
CASES["infeasible_eq"] = lambda h, s, **kw: h.StandardTestInfeasibleProblems.test_lp_eq_constraints(s)


@pytest.mark.parametrize("solver", ["highs", "pdhg"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_standard_lp(name, solver):
    kw = {"tol": 1e-8} if solver == "pdhg" and not name.startswith("infeasible") else {}
    got = CASES[name](H, solver, **kw)
    if got is None:             # the certificate cases check themselves and return nothing
        return
    ref = CASES[name](cvxpy_helpers, cvxpy.HIGHS)
    assert got.prob.status == ref.prob.status
    if np.isfinite(ref.prob.value):
        assert got.prob.value == pytest.approx(ref.prob.value, abs=1e-5)
    else:
        assert got.prob.value == ref.prob.value
