"""Polish a first-order point into an optimal vertex with duals: HiGHS's crossover.

PDHG stops at a point within a relative tolerance; planners' decisions (which capacities, which
prices) want the exact optimum.  HiGHS's crossover (the one behind its interior-point solver)
starts from any primal-dual point and ends at a basis; HiGHS's simplex then cleans up from that
basis, so the answer is the same vertex-with-duals HiGHS's simplex would give, within HiGHS's own
feasibility tolerances.  From a point near the optimum both take few iterations.
"""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Callable

import numpy as np

from .. import logs
from ..compile.lp import LinearProgram
from . import result as st
from .result import Result

POLISHES = ("crossover",)
VERTEX_TOL = 1e-6   # a polished vertex's worst row / column, relative to its scale (HiGHS's tols are 1e-7)


def check_polish(polish) -> None:
    """Raise SolverInputError unless ``polish`` is None or one of POLISHES."""
    from . import SolverInputError

    if polish is not None and polish not in POLISHES:
        raise SolverInputError(f"polish={polish!r}: choose None or {', '.join(map(repr, POLISHES))}")


def crossover(lp: LinearProgram, res: Result, time_limit: float | None = None,
              threads: int | None = None, verbose: bool = False, tol: float = 1e-4,
              interrupt: Callable[[], bool] | None = None, highs_options: dict | None = None) -> Result:
    """``res`` (a point of the single LP ``lp``) made an optimal vertex by HiGHS's crossover and
    simplex (``highs_options``: more of ``solve_highs``'s, tol and raw HiGHS options).
    Certificates (infeasible, unbounded) and results without a point are returned as
    they are; so is ``res`` when HiGHS does not finish (a limit), with the reason in its message.
    Iterations and seconds add up both stages; ``stages`` keeps each one's.  A point kept stays
    "optimal" only if every row and column is within ``tol`` of its scale (the per-row test a
    PDHG run before a polish skips).  ``interrupt``, for a racer (``race.py``): polled while HiGHS
    runs, True stops it as a limit would; HiGHS's scheduler, shared with the other racers and
    sized by the race, is then not restarted."""
    if res.x is None or res.status in (st.INFEASIBLE, st.UNBOUNDED, st.INFEASIBLE_OR_UNBOUNDED):
        return res
    if interrupt is not None and interrupt():
        return res
    from .highs import _build, _configure, _highspy, _run

    threads = threads if isinstance(threads, (int, np.integer)) and not isinstance(threads, bool) else None

    highspy = _highspy()
    t0 = time.perf_counter()
    h = _build(lp)
    extra = {k: v for k, v in (highs_options or {}).items() if k not in ("time_limit", "threads", "verbose")}
    _configure(h, "simplex", time_limit=time_limit, threads=threads, verbose=bool(verbose), **extra)
    x = np.clip(res.x, lp.lx, lp.ux)
    y = np.zeros(lp.num_rows) if res.y is None else res.y
    sol = highspy.HighsSolution()
    sol.col_value, sol.row_value = x, lp.A @ x
    sol.row_dual = y
    sol.col_dual = lp.c - lp.A.T @ y if res.z is None else res.z
    sol.value_valid = sol.dual_valid = True
    reset = threads if interrupt is None else None      # a racer shares the race's scheduler
    _prepare(h, highspy, reset)
    with _interruptible(h, interrupt), logs.verbose(bool(verbose)):
        crossed_status = h.crossover(sol)
        if crossed_status != highspy.HighsStatus.kError:
            crossed = max(int(h.getInfo().crossover_iteration_count), 0)     # -1: none was needed
            out = _run(h, lp, reset)        # the simplex from crossover's basis
    if crossed_status == highspy.HighsStatus.kError:
        res.message = _joined(res.message, "crossover failed (HiGHS refused the point)")
        return _row_by_row(lp, res, tol, "")
    seconds = time.perf_counter() - t0
    stages = {**(res.stages or {res.solver: {"iterations": res.iterations, "seconds": res.seconds}}),
              "crossover": {"iterations": crossed + out.iterations, "seconds": seconds}}
    note = f"crossover: {crossed} crossover + {out.iterations} simplex iterations, {seconds:.2f} s"
    if out.status not in (st.OPTIMAL, st.INFEASIBLE, st.UNBOUNDED):
        res.message = _joined(res.message, f"{note}, ended {out.status}; the {res.solver} point is kept")
        res.stages = stages
        return _row_by_row(lp, res, tol, "")
    out.solver = f"{res.solver}+crossover"
    out.iterations = res.iterations + crossed + out.iterations
    out.seconds = res.seconds + seconds
    out.message = _joined(res.message, note)
    out.stages = stages
    return _row_by_row(lp, out, VERTEX_TOL, "HiGHS called its vertex optimal, but ")


def _row_by_row(lp: LinearProgram, res: Result, limit: float, prefix: str) -> Result:
    """``res`` made "optimal_inaccurate" when, measured on ``lp`` itself, a row or column misses by
    more than ``limit`` relative to its scale ("optimal" means every row, not PDLP's ℓ2 norms)."""
    if res.status != st.OPTIMAL or res.x is None:
        return res
    r = lp.residuals(res.x, res.y)
    worst = max(r["row_rel"], r.get("col_rel", 0.0))
    if worst > limit:
        res.status = st.OPTIMAL_INACCURATE
        res.message = _joined(res.message, f"{prefix}a row or column misses by {worst:.1e} relative to its scale")
    return res


def _prepare(h, highspy, threads) -> None:
    """A run that stops before its first iteration.  HiGHS 1.16's crossover reads state only
    ``run()`` sets up: in a process where HiGHS has not run yet it segfaults (ipx's interrupt check)."""
    h.setOptionValue("presolve", "off")
    h.setOptionValue("simplex_iteration_limit", 0)
    if threads is not None:
        highspy.Highs.resetGlobalScheduler(True)
    h.run()
    h.setOptionValue("simplex_iteration_limit", 2**31 - 1)
    h.setOptionValue("presolve", "choose")


@contextmanager
def _interruptible(h, interrupt: Callable[[], bool] | None):
    """While inside, a watcher thread stops HiGHS (its interrupt callback) once ``interrupt()``."""
    if interrupt is None:
        yield
        return
    h.HandleUserInterrupt = True
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            if interrupt():
                h.cancelSolve()
    watcher = threading.Thread(target=watch, name="crossover-interrupt", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


def _joined(message: str, note: str) -> str:
    return f"{message}; {note}" if message else note


