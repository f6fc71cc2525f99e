"""HiGHS's simplex started from the optimum of a coarser LP.

A planning model on a daily grid has a twenty-fourth of its hourly columns: HiGHS solves it
exactly in a fraction of the fine solve's time, and its optimum, prolonged to the model's own
grid (``energy.multilevel.Prolongation``: capacities copied, dispatch repeated, storage levels
interpolated, prices spread), is a start for HiGHS's crossover, whose basis the simplex then
finishes.  The answer is the fine LP's own optimal vertex; only the path to it changes
(comparisons/RESULTS.md, "The simplex from a daily grid").
"""
from __future__ import annotations

import functools
import time
from typing import Callable

import numpy as np

from ..compile.lp import LinearProgram
from . import result as st
from .result import Result


class CoarseStart:
    """A coarser LP of the same model and ``prolong(x, y) -> (x, y)``, the map from its solution
    to a point of the LP solved, both from ``make()`` when first asked for (on a racer's thread,
    beside the other racers); ``label`` names it in messages ("the 24 h grid")."""

    def __init__(self, make: Callable[[], tuple], label: str = "a coarser LP"):
        self._make, self.label = make, label

    @functools.cached_property
    def _made(self) -> tuple:
        return self._make()

    @property
    def lp(self) -> LinearProgram:
        return self._made[0]

    @property
    def prolong(self) -> Callable[[np.ndarray, np.ndarray], tuple]:
        return self._made[1]


def check_start(start, backend: str) -> None:
    """SolverInputError unless ``start`` is None or a CoarseStart (``backend`` names the refuser)."""
    from . import SolverInputError

    if start is not None and not isinstance(start, CoarseStart):
        raise SolverInputError(f"{backend}: start must be a CoarseStart (a coarser LP and its prolongation), "
                               f"not {type(start).__name__}")


def solve_from_coarse(lp: LinearProgram, start: CoarseStart, options: dict | None = None,
                      interrupt: Callable[[], bool] | None = None) -> Result:
    """``lp`` solved by HiGHS: the simplex on ``start.lp``, its optimum prolonged, HiGHS's crossover
    from that point and the simplex from the crossover's basis.  Where the coarse LP has no
    optimum or HiGHS refuses the point, the simplex from scratch.  ``options``: ``solve_highs``'s
    (``time_limit`` covers all stages).  ``interrupt`` (a racer, ``race.py``): polled throughout,
    True stops it as a limit would, and HiGHS's scheduler, which the race sizes, is not restarted."""
    from .polish import crossover

    options = dict(options or {})
    time_limit = options.pop("time_limit", None)
    t0 = time.perf_counter()
    coarse = _simplex(start.lp, time_limit, options, interrupt)
    seconds = time.perf_counter() - t0
    left = None if time_limit is None else time_limit - seconds
    if (interrupt is not None and interrupt()) or (left is not None and left <= 0):
        return Result(status=st.TIME_LIMIT, seconds=seconds, solver="highs",
                      message=f"stopped while solving {start.label}")
    if coarse.status == st.OPTIMAL:
        x, y = start.prolong(coarse.x, coarse.y)
        stage = {f"coarse ({start.label})": {"iterations": coarse.iterations, "seconds": seconds}}
        # a limit status until the crossover settles the fine LP: a prolonged point is no answer
        point = Result(status=st.ITERATION_LIMIT, x=x, y=y, iterations=coarse.iterations, seconds=seconds,
                       solver="highs", stages=stage,
                       message=f"simplex from {start.label}'s optimum ({coarse.iterations:,} iterations)")
        out = crossover(lp, point, left, options.get("threads"), options.get("verbose", False),
                        interrupt=interrupt, highs_options=options)
        out.seconds = time.perf_counter() - t0
        if out is not point or (interrupt is not None and interrupt()):
            return out
        if time_limit is not None and out.seconds >= time_limit:
            out.status = st.TIME_LIMIT
            return out
        note = "HiGHS's crossover refused the prolonged point"
    else:
        note = f"{start.label} ended {coarse.status}"
    left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 1e-3)
    out = _simplex(lp, left, options, interrupt)
    out.message = f"{note}; the simplex from scratch: {out.message}"
    out.seconds = time.perf_counter() - t0
    return out


def _simplex(lp: LinearProgram, time_limit, options: dict, interrupt) -> Result:
    """HiGHS's simplex on ``lp`` with ``options``, stopped when ``interrupt()``."""
    from .highs import _build, _configure, _run
    from .polish import _interruptible

    h = _build(lp)
    _configure(h, "simplex", time_limit=time_limit, **options)
    with _interruptible(h, interrupt):     # a racer shares the race's scheduler: not restarted
        return _run(h, lp, options.get("threads") if interrupt is None else None)
