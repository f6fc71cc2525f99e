"""The PDHG solver's settings, statuses and constants (formulas: shared/notes/pdhg-lp.md)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional, Union

INFINITE_BOUND = 1e20          # |bound| >= this is infinite (cuPDLPx's convention)
DEFAULT_MAX_ITER = 1_000_000

OPTIMAL, OPTIMAL_INACCURATE = "optimal", "optimal_inaccurate"
INFEASIBLE, UNBOUNDED, INFEASIBLE_OR_UNBOUNDED = "infeasible", "unbounded", "infeasible_or_unbounded"
ITERATION_LIMIT, TIME_LIMIT = "iteration_limit", "time_limit"

# Halpern restarts (cuPDLPx): when the fixed-point error fell to RESTART_SUFFICIENT of the
# epoch's first; or to RESTART_NECESSARY and rose since the last check; or when the epoch is
# RESTART_ARTIFICIAL of the scenario's iterations.  cuPDLPx has 0.2 / 0.5 / 0.36; 0.3 measured
# better on the capacity-expansion LPs (comparisons/RESULTS.md, "Restart fractions").
RESTART_SUFFICIENT = 0.3
RESTART_NECESSARY = 0.5
RESTART_ARTIFICIAL = 0.36
# PID primal-weight gains K_P, K_I and the integral's smoothing (cuPDLPx's; RESULTS "PID gains")
PID_GAINS = (0.99, 0.01, 0.3)
# a warm start's primal weight is kept for this many restarts unless the PID moves it more
# than WARM_WEIGHT_BAND (log): near a solution, restart displacements are oscillation
WARM_WEIGHT_RESTARTS = 10
WARM_WEIGHT_BAND = math.log(10.0)


def _positive_int(name: str, value, minimum: int = 1):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"PDHGOptions.{name} must be an integer >= {minimum}, got {value!r}")


def _positive_float(name: str, value, allow_inf: bool = False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    if not ok or math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"PDHGOptions.{name} must be a positive number, got {value!r}")


@dataclass
class PDHGOptions:
    """Solver settings: restarted reflected Halpern PDHG (cuPDLPx's r²HPDHG) with a constant
    step 0.998/‖Ã‖₂, PID primal weight, Ruiz + Pock–Chambolle scaling."""

    tol: float = 1e-4                       # relative primal residual, dual residual and gap
    max_iter: Optional[int] = None          # None: DEFAULT_MAX_ITER
    time_limit: Optional[float] = None      # seconds
    check_every: int = 64
    ruiz_iters: int = 10
    pc_alpha: Optional[float] = 1.0         # None disables Pock–Chambolle
    infeasibility_tol: float = 1e-8
    infeasibility_checks: int = 3           # consecutive certifying evaluations
    infeasibility_every: int = 4            # certificates evaluated at every 4th check (one costs ~5 iterations)
    inaccurate_factor: float = 10.0         # limits: "optimal_inaccurate" within this many tol
    each_row: bool = True                   # "optimal" also needs every row and column within tol (ℓ∞);
                                            # off where a crossover makes the point exact anyway
    feasibility_polishing: bool = True      # with each_row: polish.py, once the objective gap is met
    threads: Union[int, str, None] = None   # CPU threads: None torch's count, N, or "auto" (timed, core/threads.py)
    native: Optional[bool] = None           # C kernel on CPU (native.py); None: where it builds
    cuda_graphs: Optional[bool] = None      # CUDA-graph replay (cuda_graph.py); None: on CUDA
    verbose: bool = False
    interrupt: Optional[Callable[[], bool]] = None   # asked at each check: True ends the solve as its
                                                     # time limit would (a race stops its loser)

    def __post_init__(self):
        _positive_float("tol", self.tol)
        if self.max_iter is not None:
            _positive_int("max_iter", self.max_iter)
        if self.time_limit is not None:
            _positive_float("time_limit", self.time_limit, allow_inf=True)
        _positive_int("check_every", self.check_every, 2)
        _positive_int("ruiz_iters", self.ruiz_iters, 0)
        if self.pc_alpha is not None:
            _positive_float("pc_alpha", self.pc_alpha)
        _positive_float("infeasibility_tol", self.infeasibility_tol)
        _positive_int("infeasibility_checks", self.infeasibility_checks)
        _positive_int("infeasibility_every", self.infeasibility_every)
        _positive_float("inaccurate_factor", self.inaccurate_factor)
        if self.threads is not None and self.threads != "auto":
            _positive_int("threads", self.threads)
        if self.interrupt is not None and not callable(self.interrupt):
            raise ValueError(f"PDHGOptions.interrupt must be callable, got {self.interrupt!r}")
        for name in ("native", "cuda_graphs", "verbose", "each_row", "feasibility_polishing"):
            allowed = (None, True, False) if name in ("native", "cuda_graphs") else (True, False)
            if not any(getattr(self, name) is a for a in allowed):     # 1 == True, but 1 is not a choice
                raise ValueError(f"PDHGOptions.{name}={getattr(self, name)!r}: choose {', '.join(map(str, allowed))}")
