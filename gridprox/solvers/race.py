"""Solvers raced on one LP, each on a thread of its own: the first to settle the LP wins and the
others are stopped.

HiGHS's ``method="concurrent"`` races its IPM and its simplex; the backend ``"concurrent"``
(``solve_concurrent``) races HiGHS's simplex against PDHG followed by HiGHS's crossover (and,
with a third CPU, HiGHS's IPM), as NVIDIA cuOpt's concurrent LP mode races PDLP, dual simplex
and barrier (cuOpt 25.10 release notes).  Every racer's answer is an exact vertex where it settles, so the race changes
the time, not the answer's kind.  Each racer holds one core: HiGHS and the C kernel release the GIL.
"""
from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable

from ..compile.lp import LinearProgram
from . import result as st
from .result import Result

SETTLED = (st.OPTIMAL, st.INFEASIBLE, st.UNBOUNDED, st.INFEASIBLE_OR_UNBOUNDED)
# PDHG's stopping tolerance before the crossover: from 1e-6 the crossover finished on both
# formulations of three-country's full year, from 1e-4 on one (RESULTS, "Three-country's full year")
CROSSOVER_START_TOL = 1e-6
# the backend "concurrent"'s racers, in the order CPUs allow them: on the planning LPs of 250k
# nonzeros and more measured, the faster exact method was PDHG + crossover or HiGHS's simplex,
# never its IPM (RESULTS, "From 250k nonzeros")
RACERS = ("simplex", "pdhg", "ipm")
OPTIONS = ("tol", "time_limit", "threads", "verbose", "device", "start")


@dataclass
class Racer:
    """``run()`` solves and returns a Result; ``stop()``, called from another thread, makes it
    return soon (it may be called before, during or after ``run``)."""
    run: Callable[[], Result]
    stop: Callable[[], None]


def race(racers: dict[str, Racer]) -> Result:
    """Run the racers on a thread each; the first Result with a settled status (SETTLED) wins and
    the others are stopped.  Where none settles (limits), the first to end is reported.  The
    message names the winner; ``stages`` gives each racer's iterations, thread CPU seconds and
    whether it won (on a busy machine wall time says more about the load than the method)."""
    ended: queue.Queue = queue.Queue()
    results: dict[str, Result] = {}
    errors: dict[str, BaseException] = {}
    cpu: dict[str, float] = {}

    def go(name: str) -> None:
        start_cpu = time.thread_time()
        try:
            results[name] = racers[name].run()
        except Exception as exc:         # one racer failing leaves the race to the others
            errors[name] = exc
        finally:
            cpu[name] = time.thread_time() - start_cpu
            ended.put(name)

    start = time.perf_counter()
    workers = [threading.Thread(target=go, args=(name,), name=f"race-{name}", daemon=True) for name in racers]
    for w in workers:
        w.start()
    first = winner = None
    try:
        for _ in workers:
            name = ended.get()
            if name not in results:
                continue
            first = first or name
            if results[name].status in SETTLED:
                winner = name
                break
    finally:    # the winner found, Ctrl-C or an error: no racer is left running
        for racer in racers.values():
            racer.stop()
        for w in workers:
            w.join()
    chosen = winner or first
    if chosen is None:
        raise next(iter(errors.values()))
    out = results[chosen]
    out.seconds = time.perf_counter() - start
    others = ", ".join(name for name in racers if name != chosen)
    note = f"concurrent: {chosen} {'first' if winner else 'ended first'} ({others} stopped)"
    out.message = f"{note}; {out.message}" if out.message else note
    out.stages = {name: {"iterations": results[name].iterations if name in results else -1,
                         "cpu_seconds": cpu[name], "won": name == chosen} for name in racers}
    return out


def race_with_highs(racers: dict[str, Racer]) -> Result:
    """``race`` where HiGHS instances are among the racers: HiGHS's one scheduler per process is
    restarted first, sized by their first run for one thread per instance (``highs._run``)."""
    from .highs import _highspy

    _highspy().Highs.resetGlobalScheduler(True)
    return race(racers)


def highs_racer(lp: LinearProgram, method: str, options: dict) -> Racer:
    """HiGHS's ``method`` on one thread (HiGHS's scheduler must be sized for one: ``race_with_highs``)."""
    from .highs import _build, _configure, _read

    h = _build(lp)
    _configure(h, method, **options, threads=1)
    h.HandleUserInterrupt = True

    def run() -> Result:
        h.run()
        return _read(h, lp, h.getRunTime())
    return Racer(run, h.cancelSolve)


def coarse_racer(lp: LinearProgram, start, options: dict) -> Racer:
    """HiGHS's simplex from a coarser LP's optimum (``coarse_start.solve_from_coarse``) on one thread."""
    from .coarse_start import solve_from_coarse

    stopped = threading.Event()

    def run() -> Result:
        return solve_from_coarse(lp, start, {**options, "threads": 1}, interrupt=stopped.is_set)
    return Racer(run, stopped.set)


def pdhg_crossover_racer(lp: LinearProgram, tol: float, time_limit: float | None, verbose: bool,
                         device="auto") -> Racer:
    """PDHG (one CPU thread, or ``device``) to PDLP's ℓ2 measures at ``tol``, then HiGHS's crossover
    from its point."""
    from . import solve_lp
    from .polish import crossover

    stopped = threading.Event()

    def run() -> Result:
        t0 = time.perf_counter()
        res = solve_lp(lp, "pdhg", tol=tol, each_row=False, threads=1, verbose=verbose, time_limit=time_limit,
                       device=device, interrupt=stopped.is_set)
        left = None if time_limit is None else max(time_limit - (time.perf_counter() - t0), 1e-3)
        return crossover(lp, res, left, 1, verbose, tol, interrupt=stopped.is_set)
    return Racer(run, stopped.set)


def check_options(lp=None, **options) -> None:
    """The backend "concurrent" takes gridprox's common options and PDHG's ``device`` only
    (SolverInputError otherwise)."""
    from ..core.device import resolve_device
    from ..errors import SolverError
    from . import SolverInputError, check_common_options
    from .coarse_start import check_start

    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise SolverInputError(f"concurrent: unknown option {unknown[0]!r}; it takes {', '.join(OPTIONS)} "
                               "(name solver='highs' or 'pdhg' for their own options)")
    check_start(options.get("start"), "concurrent")
    check_common_options("concurrent", {k: v for k, v in options.items() if k not in ("device", "start")})
    try:
        resolve_device(options.get("device", "auto"))
    except SolverError as exc:
        raise SolverInputError(f"concurrent: {exc}") from None
    threads = options.get("threads")
    if threads is not None and threads < 2:
        raise SolverInputError(f"concurrent: threads={threads!r}: the race runs two solvers on a thread each "
                               "(choose solver='highs' or 'pdhg' for one thread)")


def solve_concurrent(lp: LinearProgram, tol: float | None = None, time_limit: float | None = None,
                     threads: int | None = None, verbose: bool = False, device="auto", start=None) -> Result:
    """The first ``threads`` of RACERS (default: as many as there are CPUs, at least two), a
    thread each: HiGHS's simplex, PDHG then crossover, HiGHS's IPM with crossover; the first exact
    answer wins.  ``tol``: where PDHG hands over to the crossover (default CROSSOVER_START_TOL);
    HiGHS keeps its own tolerances.  ``device``: PDHG's (a GPU races HiGHS on the CPU).
    ``start`` (a ``coarse_start.CoarseStart``): the simplex runs from its prolonged optimum."""
    from . import available_cpus

    if lp.is_batch:
        from ..errors import SolverError
        raise SolverError("solve_concurrent takes a single LP; solve_lp loops over a batch")
    check_options(tol=tol, time_limit=time_limit, threads=threads, verbose=verbose, device=device, start=start)
    names = RACERS[:max(2, threads or available_cpus())]
    highs = {"time_limit": time_limit, "verbose": verbose}
    racers = {name: pdhg_crossover_racer(lp, tol or CROSSOVER_START_TOL, time_limit, verbose, device) if name == "pdhg"
              else coarse_racer(lp, start, highs) if name == "simplex" and start is not None
              else highs_racer(lp, name, highs) for name in names}
    return race_with_highs(racers)
