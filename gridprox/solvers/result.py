"""One Result type for every backend, and the status strings (cvxpy's names)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np

# Status strings: cvxpy's where cvxpy has one, plus the two limit statuses of PDLP.
OPTIMAL = "optimal"
OPTIMAL_INACCURATE = "optimal_inaccurate"
INFEASIBLE = "infeasible"
INFEASIBLE_INACCURATE = "infeasible_inaccurate"
UNBOUNDED = "unbounded"
UNBOUNDED_INACCURATE = "unbounded_inaccurate"
INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
ITERATION_LIMIT = "iteration_limit"
TIME_LIMIT = "time_limit"
SOLVER_ERROR = "solver_error"

SOLUTION_STATUSES = (OPTIMAL, OPTIMAL_INACCURATE)
LIMIT_STATUSES = (ITERATION_LIMIT, TIME_LIMIT)
ALL_STATUSES = (OPTIMAL, OPTIMAL_INACCURATE, INFEASIBLE, INFEASIBLE_INACCURATE, UNBOUNDED,
                UNBOUNDED_INACCURATE, INFEASIBLE_OR_UNBOUNDED, ITERATION_LIMIT, TIME_LIMIT,
                SOLVER_ERROR)


@dataclass
class Result:
    """What a backend returns for one LP.

    x: primal solution (n,); y: row duals (m,); z: reduced costs c - Aᵀy (n,),
    signs as documented in ``gridprox.compile.lp``.  ``objective`` is c·x + c0 of the
    returned x (NaN when there is none).  ``residuals`` holds relative KKT measures
    (keys "primal", "dual", "gap", plus solver-specific extras), in original units.
    For a limit status x/y are the best iterate found.  ``primal_weight`` (PDHG only): the
    final primal weight ω, relative to the solver's initial ‖c‖/‖b‖-based one (cuPDLPx's
    bound/objective-rescaled ω), so that a warm start of the same or a neighbouring LP from
    this Result resumes with it (``solve_lp(..., warm_start=result)``).  ``stages``: iterations
    and seconds of each stage where a solve has several ({"pdhg": ..., "crossover": ...}).
    """

    status: str
    x: Optional[np.ndarray] = None
    y: Optional[np.ndarray] = None
    z: Optional[np.ndarray] = None
    objective: float = float("nan")
    iterations: int = 0
    seconds: float = 0.0
    residuals: dict = field(default_factory=dict)
    solver: str = ""
    message: str = ""
    primal_weight: Optional[float] = None
    stages: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when a usable solution is present (optimal or optimal_inaccurate)."""
        return self.status in SOLUTION_STATUSES

    def __repr__(self) -> str:
        res = ", ".join(f"{k}={v:.1e}" for k, v in self.residuals.items()
                        if k in ("primal", "dual", "gap") and v is not None)
        return (f"Result(status={self.status!r}, objective={self.objective:.10g}, solver={self.solver!r}, "
                f"iterations={self.iterations}, seconds={self.seconds:.3f}{', ' + res if res else ''})")
